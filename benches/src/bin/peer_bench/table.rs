//! `peer_bench table`: the whole-table protocol `benches/peers/ailake_pypi_bench.py` runs on
//! AI-Lake. For each write path, a fresh table (SQLite catalog, local warehouse) receives the
//! base set as one write call per `--shard-rows` rows plus one commit; rows/s runs to the
//! commit's return, and the peak RSS of that write is recorded. The deferred path also reports
//! how long its background builds ran after the commit (`wait_indexed`). Then the HNSW table is
//! queried through `SearchSession`, one `search` call per query returning the `id` column, at
//! each `ef`.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use ailake::prelude::*;
use ailake_benches::memory;
use ailk_testkit::recall_at_k;
use arrow_array::{ArrayRef, Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use serde_json::{json, Value};

use crate::{list, load, metric, percentile, Args, Loaded};

/// Write paths measured, named as the AI-Lake script names its counterparts.
const PATHS: [&str; 3] = ["write_batch", "write_batch_ivf_pq", "write_batch_deferred"];

fn attributes() -> Schema {
    Schema::new(vec![Field::new("id", DataType::Int64, false)])
}

/// One shard's rows and embeddings, prepared before any clock starts.
struct Shard {
    rows: RecordBatch,
    embeddings: Vec<Vec<f32>>,
}

fn shards(base: &ailk_testkit::texmex::Matrix<f32>, shard_rows: usize) -> anyhow::Result<Vec<Shard>> {
    let mut out = Vec::new();
    for start in (0..base.rows()).step_by(shard_rows) {
        let end = (start + shard_rows).min(base.rows());
        let id: ArrayRef = Arc::new(Int64Array::from_iter_values(start as i64..end as i64));
        let rows = RecordBatch::try_new(Arc::new(attributes()), vec![id])?;
        let embeddings = (start..end).map(|i| base.row(i).to_vec()).collect();
        out.push(Shard { rows, embeddings });
    }
    Ok(out)
}

struct Opened {
    catalog: Arc<dyn CatalogProvider>,
    warehouse: Warehouse,
    ident: TableIdent,
}

async fn open(dir: &Path, name: &str) -> anyhow::Result<Opened> {
    let catalog: Arc<dyn CatalogProvider> =
        Arc::new(SqlCatalog::open(dir.join("catalog.db"), "default").await?);
    let warehouse = Warehouse::local(dir.join("warehouse"))?;
    Ok(Opened { catalog, warehouse, ident: TableIdent::new("bench", name)? })
}

async fn write(
    t: &Opened,
    spec: &VectorSpec,
    policy: WritePolicy,
    data: &[Shard],
    path: &str,
) -> anyhow::Result<Value> {
    let w = TableWriter::create_or_open(
        t.catalog.clone(),
        t.warehouse.clone(),
        policy,
        t.ident.clone(),
        &attributes(),
        std::slice::from_ref(spec),
    )
    .await?;
    let rows: usize = data.iter().map(|s| s.rows.num_rows()).sum();
    let rss_before = memory::reset_peak();
    let clock = Instant::now();
    for s in data {
        match path {
            "write_batch" => w.write_batch(&s.rows, &s.embeddings).await?,
            "write_batch_ivf_pq" => w.write_batch_ivf_pq(&s.rows, &s.embeddings, None).await?,
            _ => w.write_batch_deferred(&s.rows, &s.embeddings).await?,
        };
    }
    w.commit().await?;
    let seconds = clock.elapsed().as_secs_f64();
    w.wait_indexed().await?;
    let background_s = clock.elapsed().as_secs_f64() - seconds;
    let peak = memory::peak_mib();
    eprintln!(
        "ailake {path}: {rows} rows in {seconds:.2}s ({:.0} rows/s), peak RSS {peak:.0} MiB{}",
        rows as f64 / seconds,
        if background_s > 0.5 { format!(", indexed {background_s:.1}s after commit") } else { String::new() }
    );
    Ok(json!({"path": path, "rows": rows, "seconds": seconds, "rows_per_s": rows as f64 / seconds,
        "background_s": background_s, "rss_before_mib": rss_before, "peak_rss_mib": peak}))
}

pub(crate) fn table(args: &Args) -> anyhow::Result<()> {
    let dir = std::path::PathBuf::from(args.req("--data")?);
    let Loaded { base, queries, truth } = load(&dir)?;
    let shard_rows: usize = args.num("--shard-rows", 5_000)?;
    let nq = args.num("--queries", 200usize)?.min(queries.rows());
    let efs = list(args, "--efs")?;
    let policy = WritePolicy {
        hnsw: ailk_index::HnswParams {
            m: args.num("--m", 16)?,
            ef_construction: args.num("--efc", 200)?,
            ..WritePolicy::default().hnsw
        },
        ..WritePolicy::default()
    };
    let spec = VectorSpec::new("embedding", base.dim as u32, metric(args)?);
    let data = shards(&base, shard_rows)?;
    let rt = tokio::runtime::Runtime::new()?;
    let tmp = tempfile::tempdir()?;
    let mut writes = Vec::new();
    let mut hnsw_table = None;
    for path in PATHS {
        let t = rt.block_on(open(&tmp.path().join(path), path))?;
        writes.push(rt.block_on(write(&t, &spec, policy, &data, path))?);
        if path == "write_batch" {
            hnsw_table = Some(t);
        }
    }
    let t = hnsw_table.expect("write_batch is measured");
    let session =
        rt.block_on(SearchSession::open(t.catalog.clone(), t.warehouse.clone(), t.ident.clone()))?;
    let mut sweep = Vec::new();
    for ef in efs {
        let params =
            SearchParams { ef: Some(ef), projection: Some(vec!["id".into()]), ..SearchParams::default() };
        let one = |q: &[f32]| -> anyhow::Result<Vec<u32>> {
            let hits = rt.block_on(session.search(q, 10, &params))?;
            crate::result_ids(&hits)
        };
        one(queries.row(0))?; // warm the footer and shard caches, as the AI-Lake script does
        let (mut lat, mut results) = (Vec::with_capacity(nq), Vec::with_capacity(nq));
        for i in 0..nq {
            let clock = Instant::now();
            results.push(one(queries.row(i))?);
            lat.push(clock.elapsed().as_secs_f64());
        }
        let recall = recall_at_k(&results, &truth[..nq], 10);
        let qps = nq as f64 / lat.iter().sum::<f64>();
        lat.sort_by(f64::total_cmp);
        let (p50, p99) = (percentile(&lat, 0.5) * 1e3, percentile(&lat, 0.99) * 1e3);
        eprintln!("  ef {ef:>4}: recall@10 {recall:.4}  {qps:>7.0} QPS  p50 {p50:.2} ms p99 {p99:.2} ms");
        sweep.push(json!({"ef": ef, "recall": recall, "qps": qps, "p50_ms": p50, "p99_ms": p99}));
    }
    // `write_batch_ivf_pq` with no config trains `for_dataset(file rows, dim)` per file.
    let code_bytes = ailk_index::IvfPqConfig::for_dataset(shard_rows.min(base.rows()), base.dim).m;
    let out = json!({
        "system": "ailake", "rows": base.rows(), "dim": base.dim, "shard_rows": shard_rows,
        "shards": data.len(), "m": policy.hnsw.m, "ef_construction": policy.hnsw.ef_construction,
        "ivf_pq_code_bytes": code_bytes, "queries": nq, "writes": writes, "sweep": sweep,
    });
    std::fs::write(args.req("--out")?, serde_json::to_string_pretty(&out)?)?;
    Ok(())
}
