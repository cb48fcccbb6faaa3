//! `peer_bench session`: what the search session costs over its index. One table of one data
//! file (the whole base set, HNSW), then per `ef`, interleaved over `--rounds` rounds:
//! - `index`: the shard's own index, loaded from the file's section, searched bare;
//! - `session`: `SearchSession::search` on the same table returning the `id` column;
//! - `batch_1` / `batch_2`: `search_batch` over all queries on a Tokio runtime of 1 and 2
//!   worker threads (QPS at 1 and 2 threads).
//!
//! Reported per mode: p50 / p99 latency (single calls) or QPS (batches), and recall@10.

use std::sync::Arc;
use std::time::Instant;

use ailake::prelude::*;
use ailake::{local_store, ReadOptions, ShardReader};
use ailk_index::{QueryParams, VectorIndex};
use ailk_testkit::recall_at_k;
use anyhow::Context;
use serde_json::json;

use crate::{list, load, metric, percentile, result_ids, Args, Loaded};

/// Times each batch is repeated per measurement (one pass over 1,000 queries is ~20 ms).
const BATCH_REPEATS: usize = 5;

pub(crate) fn session(args: &Args) -> anyhow::Result<()> {
    let dir = std::path::PathBuf::from(args.req("--data")?);
    let Loaded { base, queries, truth } = load(&dir)?;
    let nq = args.num("--queries", 1000usize)?.min(queries.rows());
    let rounds = args.num("--rounds", 3usize)?;
    let efs = list(args, "--efs")?;
    let spec = VectorSpec::new("embedding", base.dim as u32, metric(args)?);
    let tmp = tempfile::tempdir()?;
    let rt = tokio::runtime::Runtime::new()?;
    let schema =
        arrow_schema::Schema::new(vec![arrow_schema::Field::new("id", arrow_schema::DataType::Int64, false)]);
    let (catalog, warehouse, ident) = rt.block_on(async {
        let catalog: Arc<dyn CatalogProvider> =
            Arc::new(SqlCatalog::open(tmp.path().join("catalog.db"), "default").await?);
        let warehouse = Warehouse::local(tmp.path().join("warehouse"))?;
        let ident = TableIdent::new("bench", "session")?;
        let w = TableWriter::create_or_open(
            catalog.clone(),
            warehouse.clone(),
            WritePolicy::default(),
            ident.clone(),
            &schema,
            std::slice::from_ref(&spec),
        )
        .await?;
        let ids: arrow_array::ArrayRef =
            Arc::new(arrow_array::Int64Array::from_iter_values(0..base.rows() as i64));
        let rows = arrow_array::RecordBatch::try_new(Arc::new(schema.clone()), vec![ids])?;
        let vectors: Vec<Vec<f32>> = (0..base.rows()).map(|i| base.row(i).to_vec()).collect();
        w.write_batch(&rows, &vectors).await?;
        w.commit().await?;
        anyhow::Ok((catalog, warehouse, ident))
    })?;
    let file = walk_parquet(&tmp.path().join("warehouse"))?.context("no data file written")?;
    let root = file.parent().context("data file has a parent")?;
    let name = file.file_name().context("file name")?.to_string_lossy().to_string();
    let index = rt.block_on(async {
        let reader =
            ShardReader::open(local_store(root)?, name.as_str().into(), ReadOptions::default()).await?;
        let section = reader.load_section().await?;
        anyhow::Ok(VectorIndex::from_section(&section, 0)?)
    })?;
    let file_bytes = std::fs::metadata(&file)?.len();
    let session = rt.block_on(SearchSession::open(catalog.clone(), warehouse.clone(), ident.clone()))?;
    let qs: Vec<Vec<f32>> = (0..nq).map(|i| queries.row(i).to_vec()).collect();
    let runtimes = [1usize, 2].map(|t| {
        tokio::runtime::Builder::new_multi_thread().worker_threads(t).max_blocking_threads(t).build()
    });
    let mut sweep = Vec::new();
    for ef in efs {
        let params =
            SearchParams { ef: Some(ef), projection: Some(vec!["id".into()]), ..SearchParams::default() };
        let knobs = QueryParams { ef: Some(ef), ..QueryParams::default() };
        rt.block_on(session.search(&qs[0], 10, &params))?; // warm
        let mut lat: [Vec<Vec<f64>>; 2] = [Vec::new(), Vec::new()];
        let mut batch_qps: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
        let mut recall = [0.0; 4];
        for _ in 0..rounds {
            // Bare index.
            let (mut l, mut found) = (Vec::with_capacity(nq), Vec::with_capacity(nq));
            for q in &qs {
                let mut normalized = q.clone();
                let t = Instant::now();
                if spec.metric == Metric::Cosine {
                    ailk_index::kernels::normalize(&mut normalized);
                }
                let hits = index.search(&normalized, 10, &knobs, None)?;
                l.push(t.elapsed().as_secs_f64() * 1e3);
                found.push(hits.iter().map(|n| n.id).collect::<Vec<u32>>());
            }
            recall[0] = recall_at_k(&found, &truth[..nq], 10);
            lat[0].push(l);
            // The session, one call per query.
            let (mut l, mut found) = (Vec::with_capacity(nq), Vec::with_capacity(nq));
            for q in &qs {
                let t = Instant::now();
                let hits = rt.block_on(session.search(q, 10, &params))?;
                l.push(t.elapsed().as_secs_f64() * 1e3);
                found.push(result_ids(&hits)?);
            }
            recall[1] = recall_at_k(&found, &truth[..nq], 10);
            lat[1].push(l);
            // search_batch at 1 and 2 worker threads.
            for (j, runtime) in runtimes.iter().enumerate() {
                let runtime = runtime.as_ref().map_err(|e| anyhow::anyhow!("runtime: {e}"))?;
                let t = Instant::now();
                let mut out = Vec::new();
                for _ in 0..BATCH_REPEATS {
                    out = runtime.block_on(session.search_batch(&qs, 10, &params))?;
                }
                batch_qps[j].push((BATCH_REPEATS * nq) as f64 / t.elapsed().as_secs_f64());
                let found: Vec<Vec<u32>> = out.iter().map(result_ids).collect::<anyhow::Result<_>>()?;
                recall[2 + j] = recall_at_k(&found, &truth[..nq], 10);
            }
        }
        let stats = |runs: &[Vec<f64>]| {
            let mut p50s: Vec<f64> = runs
                .iter()
                .map(|r| {
                    let mut r = r.clone();
                    r.sort_by(f64::total_cmp);
                    percentile(&r, 0.5)
                })
                .collect();
            let mut all: Vec<f64> = runs.concat();
            all.sort_by(f64::total_cmp);
            p50s.sort_by(f64::total_cmp);
            (p50s, percentile(&all, 0.99))
        };
        let (index_p50, index_p99) = stats(&lat[0]);
        let (session_p50, session_p99) = stats(&lat[1]);
        let ratios: Vec<f64> = lat[0]
            .iter()
            .zip(&lat[1])
            .map(|(a, b)| {
                let (mut a, mut b) = (a.clone(), b.clone());
                a.sort_by(f64::total_cmp);
                b.sort_by(f64::total_cmp);
                percentile(&b, 0.5) / percentile(&a, 0.5)
            })
            .collect();
        eprintln!(
            "  ef {ef:>4}: index p50 {:.3} ms, session p50 {:.3} ms (× {:.2}–{:.2}), batch QPS 1 thread {:.0}, 2 threads {:.0}; recall {:.4} / {:.4}",
            index_p50[0],
            session_p50[0],
            ratios.iter().cloned().fold(f64::INFINITY, f64::min),
            ratios.iter().cloned().fold(0.0, f64::max),
            batch_qps[0].iter().cloned().fold(0.0, f64::max),
            batch_qps[1].iter().cloned().fold(0.0, f64::max),
            recall[0],
            recall[1],
        );
        sweep.push(json!({
            "ef": ef, "index_p50_ms": index_p50, "index_p99_ms": index_p99,
            "session_p50_ms": session_p50, "session_p99_ms": session_p99, "session_over_index": ratios,
            "batch_qps_1_thread": batch_qps[0], "batch_qps_2_threads": batch_qps[1],
            "recall_index": recall[0], "recall_session": recall[1],
            "recall_batch_1": recall[2], "recall_batch_2": recall[3],
        }));
    }
    let out = json!({"system": "ailake", "rows": base.rows(), "dim": base.dim, "queries": nq,
        "rounds": rounds, "file_bytes": file_bytes, "sweep": sweep});
    std::fs::write(args.req("--out")?, serde_json::to_string_pretty(&out)?)?;
    Ok(())
}

/// The one `.parquet` file under `dir`.
fn walk_parquet(dir: &std::path::Path) -> anyhow::Result<Option<std::path::PathBuf>> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            if let Some(found) = walk_parquet(&path)? {
                return Ok(Some(found));
            }
        } else if path.extension().is_some_and(|e| e == "parquet") {
            return Ok(Some(path));
        }
    }
    Ok(None)
}
