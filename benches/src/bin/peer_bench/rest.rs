//! `peer_bench rest --data DIR --metric l2|ip [--rows N] [--files F] [--commits C] [--queries Q] [--rounds R] --out F`:
//! what a REST catalog costs against the SQLite one. A rustberg server (0.3, on loopback,
//! `ailk_testkit::rustberg`) and a SQLite catalog each get the same table (the first `--rows`
//! base rows in `--files` HNSW files); then, interleaved over `--rounds` rounds, per catalog:
//! - `commit`: `--commits` appends of 100 rows, each file written first, the commit timed;
//! - `refresh`: `Table::refresh` (one catalog load + one metadata read), 20 times;
//! - `search`: the queries one at a time through a session opened on the refreshed table
//!   (the catalog is not on the query path), with recall@10 (first round) against the exact
//!   truth over the rows the table holds then.

use std::sync::Arc;
use std::time::Instant;

use ailake::prelude::*;
use ailk_testkit::recall_at_k;
use ailk_testkit::rustberg::Rustberg;
use arrow_array::{ArrayRef, Int64Array, RecordBatch};
use serde_json::{json, Value};

use crate::scale::attributes;
use crate::{load, metric, percentile, result_ids, Args, Loaded};

fn batch(l: &Loaded, ids: std::ops::Range<usize>) -> anyhow::Result<(RecordBatch, Vec<f32>)> {
    let id: ArrayRef = Arc::new(Int64Array::from_iter_values(ids.clone().map(|i| i as i64)));
    let rows = RecordBatch::try_new(Arc::new(attributes()), vec![id])?;
    let values = ids.flat_map(|i| l.base.row(i % l.base.rows()).to_vec()).collect();
    Ok((rows, values))
}

fn p50_p90(mut ms: Vec<f64>) -> (f64, f64) {
    ms.sort_by(f64::total_cmp);
    (percentile(&ms, 0.5), percentile(&ms, 0.9))
}

/// One round of one catalog: commit, refresh and search figures.
async fn round(
    table: &Table,
    l: &Loaded,
    commits: usize,
    next_id: &mut usize,
    nq: usize,
) -> anyhow::Result<Value> {
    let writer = table.writer(WritePolicy::default())?;
    let mut commit_ms = Vec::new();
    for _ in 0..commits {
        let (rows, values) = batch(l, *next_id..*next_id + 100)?;
        *next_id += 100;
        writer.write_flat(&rows, &[("embedding", &values)], &WriteOptions::default()).await?;
        let clock = Instant::now();
        writer.commit().await?;
        commit_ms.push(clock.elapsed().as_secs_f64() * 1e3);
    }
    let mut refresh_ms = Vec::new();
    for _ in 0..20 {
        let clock = Instant::now();
        table.refresh().await?;
        refresh_ms.push(clock.elapsed().as_secs_f64() * 1e3);
    }
    let session = table.refresh().await?.search().await?;
    let params = SearchParams { ef: Some(64), ..Default::default() };
    let mut search_ms = Vec::new();
    let mut found = Vec::new();
    let clock = Instant::now();
    for q in 0..nq {
        let one = Instant::now();
        found.push(result_ids(&session.search(l.queries.row(q), 10, &params).await?)?);
        search_ms.push(one.elapsed().as_secs_f64() * 1e3);
    }
    let qps = nq as f64 / clock.elapsed().as_secs_f64();
    let ((c50, c90), (r50, r90), (s50, _)) = (p50_p90(commit_ms), p50_p90(refresh_ms), p50_p90(search_ms));
    Ok(json!({
        "commit_p50_ms": c50, "commit_p90_ms": c90, "refresh_p50_ms": r50, "refresh_p90_ms": r90,
        "search_p50_ms": s50, "qps": qps, "found": found,
    }))
}

pub(crate) fn rest(args: &Args) -> anyhow::Result<()> {
    let dir = std::path::PathBuf::from(args.req("--data")?);
    let l = load(&dir)?;
    let rows = args.num("--rows", 10_000usize)?.min(l.base.rows());
    let files = args.num("--files", 4usize)?.max(1);
    let commits = args.num("--commits", 20usize)?;
    let nq = args.num("--queries", 200usize)?.min(l.queries.rows());
    let rounds = args.num("--rounds", 3usize)?;
    let spec = VectorSpec::new("embedding", l.base.dim as u32, metric(args)?);
    let tmp = tempfile::tempdir()?;
    let server = Rustberg::start(tmp.path());
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let ident = TableIdent::new("bench", "rest")?;
    let tables: Vec<(&str, Table)> = rt.block_on(async {
        let sqlite =
            Catalog::local(tmp.path().join("catalog.db"), "default", tmp.path().join("warehouse")).await?;
        let options = ConnectOptions { token: Some(Secret::new(&server.key)), ..Default::default() };
        let rest = Catalog::connect(&server.url, options).await?;
        let mut out = Vec::new();
        for (name, catalog) in [("sqlite", sqlite), ("rest", rest)] {
            let table = catalog.create_table(&ident, &attributes(), std::slice::from_ref(&spec)).await?;
            let writer = table.writer(WritePolicy::default())?;
            for start in (0..rows).step_by(rows.div_ceil(files)) {
                let (batch_rows, values) = batch(&l, start..(start + rows.div_ceil(files)).min(rows))?;
                writer.write_flat(&batch_rows, &[("embedding", &values)], &WriteOptions::default()).await?;
            }
            writer.commit().await?;
            out.push((name, table));
        }
        anyhow::Ok(out)
    })?;
    // Round 1 searches rows 0..rows + 100 × commits on both (its commits appended the next
    // base rows): exact truth over those.
    let held = (rows + commits * 100).min(l.base.rows());
    let queries: Vec<f32> = (0..nq).flat_map(|q| l.queries.row(q).to_vec()).collect();
    let truth =
        ailk_index::ground_truth(&l.base.data[..held * l.base.dim], &queries, l.base.dim, metric(args)?, 10)?;
    let mut points = Vec::new();
    let mut next_id = vec![rows; tables.len()];
    for r in 0..rounds {
        for (i, (name, table)) in tables.iter().enumerate() {
            let mut v = rt.block_on(round(table, &l, commits, &mut next_id[i], nq))?;
            let found: Vec<Vec<u32>> = serde_json::from_value(v["found"].take())?;
            v["recall"] = json!(if r == 0 { recall_at_k(&found, &truth, 10) } else { f64::NAN });
            v["catalog"] = json!(name);
            v["round"] = json!(r);
            eprintln!(
                "round {r} {name}: commit p50 {:.2} ms, refresh p50 {:.2} ms, {:.0} QPS",
                v["commit_p50_ms"].as_f64().unwrap_or(f64::NAN),
                v["refresh_p50_ms"].as_f64().unwrap_or(f64::NAN),
                v["qps"].as_f64().unwrap_or(f64::NAN)
            );
            points.push(v);
        }
    }
    for p in &mut points {
        p["found"] = Value::Null;
    }
    let out = json!({
        "rows": rows, "files": files, "commits": commits, "queries": nq, "rounds": rounds, "points": points,
    });
    std::fs::write(args.req("--out")?, serde_json::to_string_pretty(&out)?)?;
    drop(server);
    Ok(())
}
