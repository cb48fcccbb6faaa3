//! `peer_bench text-data --out DIR --docs N [--vocab V] [--queries Q] [--seed S]`: a synthetic
//! corpus of `N` documents over a Zipfian vocabulary (`texts.tsv`, `queries.tsv` of 2–3 word
//! queries), shared with the LanceDB peer.
//!
//! `peer_bench text --texts F --queries F [--vectors DIR] --shard-rows R --nq Q [--cold C]
//! [--depth D] --out F`: full-text search on a table of those texts (an English-free `simple`
//! analyzer index per file; files of `--shard-rows`): warm p50 / p99 / QPS of `text_search`
//! top-10, cold queries on a simulated object store (30 ms first byte, 100 MB/s, an empty
//! cache per query; bytes and requests), the text index's bytes per row against the text
//! column's Parquet bytes, and with `--vectors` (the texts' embeddings, `base.fvecs` +
//! `query.fvecs`) hybrid search against its two lists at depth `--depth`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ailake::prelude::*;
use ailake::search::ShardCache;
use ailake::testing::{LatencyProfile, SimulatedStore};
use ailake::{HybridParams, ShardReader, SubsectionKind, TextSpec};
use ailk_testkit::texmex::read_fvecs;
use rand::{Rng, SeedableRng};
use serde_json::json;

use crate::{percentile, Args};

/// A word for vocabulary rank `r`: letters only, so the analyzer keeps it whole.
fn word(mut r: usize) -> String {
    let mut w = String::from("w");
    loop {
        w.push((b'a' + (r % 26) as u8) as char);
        r /= 26;
        if r == 0 {
            return w;
        }
    }
}

pub(crate) fn text_data(args: &Args) -> anyhow::Result<()> {
    let out = PathBuf::from(args.req("--out")?);
    if out.join("queries.tsv").exists() {
        eprintln!("corpus already at {}", out.display());
        return Ok(());
    }
    let (docs, vocab) = (args.num("--docs", 1_000_000usize)?, args.num("--vocab", 100_000usize)?);
    let (nq, seed) = (args.num("--queries", 1_000usize)?, args.num("--seed", 7u64)?);
    std::fs::create_dir_all(&out)?;
    // Zipf with exponent 1.0: the CDF over ranks, sampled by binary search.
    let mut cdf = Vec::with_capacity(vocab);
    let mut acc = 0f64;
    for r in 1..=vocab {
        acc += 1.0 / r as f64;
        cdf.push(acc);
    }
    let words: Vec<String> = (0..vocab).map(word).collect();
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let draw = |rng: &mut rand::rngs::StdRng| {
        let x = rng.random::<f64>() * acc;
        cdf.partition_point(|&c| c < x).min(vocab - 1)
    };
    let mut f = std::io::BufWriter::new(std::fs::File::create(out.join("texts.tsv"))?);
    for d in 0..docs {
        let len = rng.random_range(8..40);
        let text: Vec<&str> = (0..len).map(|_| words[draw(&mut rng)].as_str()).collect();
        writeln!(f, "{d}\t{}", text.join(" "))?;
    }
    f.flush()?;
    // Queries: 2–3 words of ranks 10..10,000 (neither stop-word-like nor unseen).
    let mut q = std::io::BufWriter::new(std::fs::File::create(out.join("queries.tsv"))?);
    for i in 0..nq {
        let n = rng.random_range(2..=3);
        let text: Vec<&str> = (0..n).map(|_| words[rng.random_range(10..10_000)].as_str()).collect();
        writeln!(q, "{i}\t{}", text.join(" "))?;
    }
    q.flush()?;
    eprintln!("wrote {docs} documents and {nq} queries to {}", out.display());
    Ok(())
}

/// `id`, `text`: the rows of a text table (plus its `embedding`).
pub(crate) fn text_schema() -> arrow_schema::Schema {
    arrow_schema::Schema::new(vec![
        arrow_schema::Field::new("id", arrow_schema::DataType::Int64, false),
        arrow_schema::Field::new("text", arrow_schema::DataType::Utf8, true),
    ])
}

/// Writes `texts` into `table` in files of `shard_rows`, one commit; `base`: their embeddings
/// (else 4-d placeholders in flat sections, never searched).
pub(crate) async fn write_texts(
    table: &Table,
    texts: &[String],
    shard_rows: usize,
    base: Option<&ailk_testkit::texmex::Matrix<f32>>,
) -> anyhow::Result<()> {
    let attrs = text_schema();
    let dim = base.map_or(4, |b| b.dim);
    let writer = table.writer(WritePolicy::default())?;
    let opts = if base.is_some() {
        WriteOptions::default()
    } else {
        WriteOptions::default().index(IndexChoice::Flat)
    };
    for start in (0..texts.len()).step_by(shard_rows) {
        let end = (start + shard_rows).min(texts.len());
        let id: arrow_array::ArrayRef =
            Arc::new(arrow_array::Int64Array::from_iter_values(start as i64..end as i64));
        let t: arrow_array::ArrayRef = Arc::new(arrow_array::StringArray::from_iter_values(
            texts[start..end].iter().map(String::as_str),
        ));
        let rows = arrow_array::RecordBatch::try_new(Arc::new(attrs.clone()), vec![id, t])?;
        let values: Vec<f32> = match base {
            Some(b) => b.data[start * dim..end * dim].to_vec(),
            None => (start..end).flat_map(|i| [1.0, (i % 7) as f32, 0.5, 2.0]).collect(),
        };
        writer.write_flat(&rows, &[("embedding", &values)], &opts).await?;
    }
    writer.commit().await?;
    Ok(())
}

pub(crate) fn tsv(path: &Path) -> anyhow::Result<Vec<String>> {
    Ok(std::fs::read_to_string(path)?
        .lines()
        .map(|l| l.split_once('\t').map_or("", |x| x.1).to_string())
        .collect())
}

pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

pub(crate) fn stats(mut v: Vec<f64>) -> serde_json::Value {
    v.sort_by(f64::total_cmp);
    let total: f64 = v.iter().sum();
    json!({"p50_ms": percentile(&v, 0.5), "p99_ms": percentile(&v, 0.99), "qps": v.len() as f64 / (total / 1e3)})
}

pub(crate) fn text(args: &Args) -> anyhow::Result<()> {
    let texts = tsv(Path::new(args.req("--texts")?))?;
    let queries = tsv(Path::new(args.req("--queries")?))?;
    let vectors = args.get("--vectors").map(PathBuf::from);
    let shard_rows: usize = args.num("--shard-rows", 100_000)?;
    let nq = args.num("--nq", 300usize)?.min(queries.len());
    let cold_n = args.num("--cold", 10usize)?.min(nq);
    let depth = args.num("--depth", 40usize)?;
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let tmp = tempfile::tempdir_in(args.get("--tmp").unwrap_or("/tmp"))?;
    let (base, qvecs) = match &vectors {
        Some(dir) => (
            Some(read_fvecs(dir.join("base.fvecs"), None)?),
            Some(read_fvecs(dir.join("query.fvecs"), None)?),
        ),
        None => (None, None),
    };
    let dim = base.as_ref().map_or(4, |b| b.dim);
    let spec = VectorSpec::new("embedding", dim as u32, Metric::Cosine);
    let build = Instant::now();
    let table = rt.block_on(async {
        let catalog = Catalog::local(tmp.path().join("catalog.db"), "default", tmp.path().join("wh")).await?;
        let table = catalog
            .create_table_with_text(
                &TableIdent::new("bench", "text")?,
                &text_schema(),
                &[spec],
                &[TextSpec::new("text")],
            )
            .await?;
        write_texts(&table, &texts, shard_rows, base.as_ref()).await?;
        anyhow::Ok(table.refresh().await?)
    })?;
    let build_s = build.elapsed().as_secs_f64();

    // Bytes: every file's text index against its text column's Parquet column chunks.
    let (mut index_bytes, mut column_bytes) = (0u64, 0u64);
    for f in rt.block_on(table.live_files())?.iter() {
        let wh = table.warehouse();
        let r = rt.block_on(ShardReader::open(
            wh.store().clone(),
            wh.path_of(f.path())?,
            ReadOptions::default(),
        ))?;
        index_bytes +=
            r.directory().and_then(|d| d.find(SubsectionKind::TextIndexes, 0)).map_or(0, |e| e.length);
        for rg in r.metadata().row_groups() {
            column_bytes += rg
                .columns()
                .iter()
                .filter(|c| c.column_path().string() == "text")
                .map(|c| c.compressed_size() as u64)
                .sum::<u64>();
        }
    }

    let params = SearchParams { projection: Some(vec!["id".into()]), ..Default::default() };
    let session = rt.block_on(SearchSession::with_cache(&table, Arc::new(ShardCache::new(8 << 30))))?;
    let run = |q: &str| -> anyhow::Result<f64> {
        let t = Instant::now();
        rt.block_on(session.text_search(q, 10, &params))?;
        Ok(ms(t.elapsed()))
    };
    let first = run(&queries[0])?; // loads every file's index
    for q in &queries[..nq] {
        run(q)?;
    }
    let warm: Vec<f64> = queries[..nq].iter().map(|q| run(q)).collect::<anyhow::Result<_>>()?;

    // Cold: the same table behind a simulated object store, an empty cache per query.
    let profile = LatencyProfile { first_byte: Duration::from_millis(30), bytes_per_second: 100e6 };
    let wh = table.warehouse();
    let sim = Arc::new(SimulatedStore::new(wh.store().clone(), profile));
    let remote = Warehouse::new(sim.clone(), wh.root())?;
    let provider = rt.block_on(SqlCatalog::open(tmp.path().join("catalog.db"), "default"))?;
    let catalog = Catalog::new(Arc::new(provider), remote);
    let remote_table = rt.block_on(catalog.load_table(table.ident()))?;
    let (mut cold, mut cold_bytes, mut cold_requests) = (Vec::new(), Vec::new(), Vec::new());
    for q in &queries[..cold_n] {
        let s = rt.block_on(SearchSession::with_cache(&remote_table, Arc::new(ShardCache::new(8 << 30))))?;
        let before = s.counters();
        let t = Instant::now();
        rt.block_on(s.text_search(q, 10, &params))?;
        cold.push(ms(t.elapsed()));
        let after = s.counters();
        cold_bytes.push((after.bytes_read - before.bytes_read) as f64);
        cold_requests.push((after.read_requests - before.read_requests) as f64);
    }

    // Hybrid against its two lists, each `depth` deep, on the same warm session.
    let hybrid = match &qvecs {
        Some(qv) => {
            let h = HybridParams { depth: Some(depth), ..Default::default() };
            let (mut v, mut t, mut b) = (Vec::new(), Vec::new(), Vec::new());
            for round in 0..2 {
                for (i, q) in queries[..nq].iter().enumerate() {
                    let vec = qv.row(i % qv.rows());
                    let c = Instant::now();
                    rt.block_on(session.search(vec, depth, &params))?;
                    let dv = ms(c.elapsed());
                    let c = Instant::now();
                    rt.block_on(session.text_search(q, depth, &params))?;
                    let dt = ms(c.elapsed());
                    let c = Instant::now();
                    rt.block_on(session.hybrid_search(vec, q, 10, &params, &h))?;
                    let dh = ms(c.elapsed());
                    if round == 1 {
                        v.push(dv);
                        t.push(dt);
                        b.push(dh);
                    }
                }
            }
            json!({"depth": depth, "vector": stats(v), "text": stats(t), "hybrid": stats(b)})
        }
        None => serde_json::Value::Null,
    };
    let files = rt.block_on(table.live_files())?.len();
    cold_bytes.sort_by(f64::total_cmp);
    cold_requests.sort_by(f64::total_cmp);
    let (cold_bytes_p50, cold_requests_p50) = (percentile(&cold_bytes, 0.5), percentile(&cold_requests, 0.5));
    let out = json!({
        "docs": texts.len(), "files": files, "shard_rows": shard_rows,
        "build_s": build_s, "first_query_ms": first,
        "index_bytes": index_bytes, "text_column_bytes": column_bytes,
        "index_bytes_per_row": index_bytes as f64 / texts.len() as f64,
        "warm": stats(warm), "nq": nq,
        "cold": stats(cold), "cold_queries": cold_n,
        "cold_bytes_p50": cold_bytes_p50,
        "cold_requests_p50": cold_requests_p50,
        "hybrid": hybrid,
    });
    std::fs::write(args.req("--out")?, serde_json::to_string_pretty(&out)?)?;
    eprintln!("{out}");
    Ok(())
}
