//! `peer_bench objstore`: the read path on object storage. The base set is written in random
//! order as each of `--files` (e.g. `10,100,1000`) small HNSW files, and the 1,000-file table
//! is also compacted; each table is then searched through a [`SimulatedStore`] that gives every
//! request S3-like costs (`--latency-ms` to the first byte, `--mbps` per request). Per table:
//! planning (session open), cold queries (an empty shard cache and a new session each, planning
//! not timed) and warm queries (one session, after a warm-up pass) — p50 / p99, requests,
//! bytes and sequential round trips per query — and the same warm queries on local disk.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ailake::prelude::*;
use ailake::search::ShardCache;
use ailake::testing::{LatencyProfile, SimulatedStore};
use ailk_testkit::recall_at_k;
use serde_json::{json, Value};

use crate::scale::{attributes, shuffled, write};
use crate::{load, metric, percentile, Args, Loaded};

struct Point {
    ms: f64,
    reads: u64,
    bytes: u64,
    round_trips: u64,
}

fn summary(points: &[Point]) -> Value {
    let mut ms: Vec<f64> = points.iter().map(|p| p.ms).collect();
    ms.sort_by(f64::total_cmp);
    let n = points.len().max(1) as f64;
    let mean = |f: fn(&Point) -> u64| points.iter().map(f).sum::<u64>() as f64 / n;
    json!({"p50_ms": percentile(&ms, 0.5), "p99_ms": percentile(&ms, 0.99),
        "requests": mean(|p| p.reads), "bytes": mean(|p| p.bytes), "round_trips": mean(|p| p.round_trips)})
}

/// One query through `session`, measured on `sim`'s counters.
fn timed(
    rt: &tokio::runtime::Runtime,
    session: &SearchSession,
    sim: &SimulatedStore,
    q: &[f32],
    params: &SearchParams,
) -> anyhow::Result<(Point, Vec<u32>)> {
    let stats = sim.stats();
    let before = stats.snapshot();
    let clock = Instant::now();
    let hits = rt.block_on(session.search(q, 10, params))?;
    let ms = clock.elapsed().as_secs_f64() * 1e3;
    let d = stats.snapshot() - before;
    Ok((
        Point { ms, reads: d.reads + d.heads, bytes: d.bytes_read, round_trips: d.round_trips },
        crate::result_ids(&hits)?,
    ))
}

#[allow(clippy::too_many_arguments)]
fn measure(
    rt: &tokio::runtime::Runtime,
    dir: &std::path::Path,
    name: &str,
    local: &Table,
    l: &Loaded,
    profile: LatencyProfile,
    params: &SearchParams,
    cold_queries: usize,
    nq: usize,
) -> anyhow::Result<Value> {
    let wh = Warehouse::local(dir.join("wh"))?;
    let sim = Arc::new(SimulatedStore::new(wh.store().clone(), profile));
    let remote = Warehouse::new(sim.clone(), wh.root())?;
    let provider = rt.block_on(SqlCatalog::open(dir.join("catalog.db"), "default"))?;
    let catalog = Catalog::new(Arc::new(provider), remote);
    let ident = TableIdent::new("bench", name)?;
    let stats = sim.stats();

    // Planning: load the table and open a session (metadata, manifests, Puffin summaries).
    let before = stats.snapshot();
    let clock = Instant::now();
    let table = rt.block_on(catalog.load_table(&ident))?;
    let session = rt.block_on(SearchSession::with_cache(&table, Arc::new(ShardCache::new(4 << 30))))?;
    let plan_ms = clock.elapsed().as_secs_f64() * 1e3;
    let plan = stats.snapshot() - before;
    drop(session);

    let mut cold = Vec::new();
    for i in 0..cold_queries {
        let session = rt.block_on(SearchSession::with_cache(&table, Arc::new(ShardCache::new(4 << 30))))?;
        cold.push(timed(rt, &session, &sim, l.queries.row(i), params)?.0);
    }
    let session = rt.block_on(SearchSession::with_cache(&table, Arc::new(ShardCache::new(4 << 30))))?;
    for i in 0..nq {
        timed(rt, &session, &sim, l.queries.row(i), params)?; // warm-up pass
    }
    let (mut warm, mut results) = (Vec::new(), Vec::new());
    for i in 0..nq {
        let (p, ids) = timed(rt, &session, &sim, l.queries.row(i), params)?;
        warm.push(p);
        results.push(ids);
    }
    let recall = recall_at_k(&results, &l.truth[..nq], 10);

    // The same warm queries on local disk.
    let local_session = rt.block_on(local.refresh())?;
    let local_session = rt.block_on(local_session.search())?;
    let mut local_ms = Vec::new();
    for pass in 0..2 {
        for i in 0..nq {
            let clock = Instant::now();
            rt.block_on(local_session.search(l.queries.row(i), 10, params))?;
            if pass == 1 {
                local_ms.push(clock.elapsed().as_secs_f64() * 1e3);
            }
        }
    }
    local_ms.sort_by(f64::total_cmp);
    let out = json!({"table": name, "files": session.shard_count(), "recall": recall,
        "planning": {"ms": plan_ms, "requests": plan.reads + plan.heads, "round_trips": plan.round_trips},
        "cold": summary(&cold), "warm": summary(&warm),
        "local_warm": {"p50_ms": percentile(&local_ms, 0.5), "p99_ms": percentile(&local_ms, 0.99)}});
    eprintln!("  {out}");
    Ok(out)
}

pub(crate) fn objstore(args: &Args) -> anyhow::Result<()> {
    let dir = std::path::PathBuf::from(args.req("--data")?);
    let l = load(&dir)?;
    let counts = crate::list(args, "--files")?;
    let nq = args.num("--queries", 50usize)?.min(l.queries.rows());
    let cold_queries = args.num("--cold-queries", 10usize)?.min(nq);
    let ef = args.num("--ef", 64usize)?;
    let profile = LatencyProfile {
        first_byte: Duration::from_secs_f64(args.num("--latency-ms", 30.0f64)? / 1e3),
        bytes_per_second: args.num("--mbps", 100.0f64)? * 1e6,
    };
    let spec = VectorSpec::new("embedding", l.base.dim as u32, metric(args)?);
    // The simulated store sits over a file:// root: ask for the object-store default of
    // cold waves explicitly.
    let io: usize = args.num("--io-concurrency", 32)?;
    let params = SearchParams {
        ef: Some(ef),
        projection: Some(vec!["id".into()]),
        io_concurrency: Some(io),
        ..SearchParams::default()
    };
    let rt = tokio::runtime::Runtime::new()?;
    let tmp = tempfile::tempdir()?;
    let catalog =
        rt.block_on(Catalog::local(tmp.path().join("catalog.db"), "default", tmp.path().join("wh")))?;
    let order = shuffled(l.base.rows());
    let mut tables = Vec::new();
    for &files in &counts {
        let name = format!("f{files}");
        let ident = TableIdent::new("bench", &name)?;
        let table = rt.block_on(catalog.create_table(&ident, &attributes(), std::slice::from_ref(&spec)))?;
        let s = rt.block_on(write(&table, &l, &order, files))?;
        eprintln!("{files} files written in {s:.1}s");
        tables.push((name, rt.block_on(table.refresh())?));
    }
    let mut results = Vec::new();
    for (name, table) in &tables {
        eprintln!("{name}:");
        results.push(measure(&rt, tmp.path(), name, table, &l, profile, &params, cold_queries, nq)?);
    }
    // The largest table again after compaction (clustered files, partition-aware planning).
    if let Some((name, largest)) = tables.last().filter(|_| counts.iter().any(|&c| c >= 100)) {
        let rows = l.base.rows();
        let opts =
            CompactOptions { target_rows: (rows / 20).max(5000), max_rows: rows, ..Default::default() };
        let out = rt.block_on(largest.compact(&opts))?;
        eprintln!("{name} compacted: {} files into {}", out.files_removed, out.files_added);
        let mut r = measure(&rt, tmp.path(), name, largest, &l, profile, &params, cold_queries, nq)?;
        r["table"] = json!(format!("{name} compacted"));
        results.push(r);
    }
    let out = json!({"system": "ailake", "rows": l.base.rows(), "dim": l.base.dim, "ef": ef, "io_concurrency": io,
        "latency_ms": profile.first_byte.as_secs_f64() * 1e3, "mbps": profile.bytes_per_second / 1e6,
        "queries": nq, "cold_queries": cold_queries, "tables": results});
    std::fs::write(args.req("--out")?, serde_json::to_string_pretty(&out)?)?;
    Ok(())
}

/// `peer_bench objstore-s3`: the same measurement over a real S3 protocol — the table written
/// to `--uri` through `--write-endpoint` (the moto server), then read through
/// `--read-endpoint` (a latency proxy in front of it); `--files` files, one table. Needs the
/// `s3` feature.
/// A catalog in the SQLite file `db` whose warehouse is `uri` on the S3 server at `endpoint`
/// (moto's test credentials).
#[cfg(feature = "s3")]
pub(crate) async fn moto_catalog(db: &std::path::Path, uri: &str, endpoint: &str) -> anyhow::Result<Catalog> {
    let options = [
        ("aws_endpoint", endpoint),
        ("aws_allow_http", "true"),
        ("aws_region", "us-east-1"),
        ("aws_access_key_id", "test"),
        ("aws_secret_access_key", "test"),
    ];
    let warehouse = Warehouse::s3(uri, &options)?;
    let provider = SqlCatalog::open(db, "default").await?;
    Ok(Catalog::new(Arc::new(provider), warehouse))
}

#[cfg(feature = "s3")]
pub(crate) fn objstore_s3(args: &Args) -> anyhow::Result<()> {
    let dir = std::path::PathBuf::from(args.req("--data")?);
    let l = load(&dir)?;
    let files: usize = args.num("--files", 10)?;
    let nq = args.num("--queries", 50usize)?.min(l.queries.rows());
    let cold_queries = args.num("--cold-queries", 10usize)?.min(nq);
    let ef = args.num("--ef", 64usize)?;
    let uri = args.req("--uri")?;
    let spec = VectorSpec::new("embedding", l.base.dim as u32, metric(args)?);
    let params = SearchParams {
        ef: Some(ef),
        projection: Some(vec!["id".into()]),
        io_concurrency: args.get("--io-concurrency").map(str::parse).transpose()?,
        ..SearchParams::default()
    };
    let rt = tokio::runtime::Runtime::new()?;
    let tmp = tempfile::tempdir()?;
    let db = tmp.path().join("catalog.db");
    let catalog = |endpoint: &str| rt.block_on(moto_catalog(&db, uri, endpoint));
    let ident = TableIdent::new("bench", "s3")?;
    let writing = catalog(args.req("--write-endpoint")?)?;
    let table = rt.block_on(writing.create_table(&ident, &attributes(), std::slice::from_ref(&spec)))?;
    let s = rt.block_on(write(&table, &l, &shuffled(l.base.rows()), files))?;
    eprintln!("{files} files written to {uri} in {s:.1}s");

    let reading = catalog(args.req("--read-endpoint")?)?;
    let clock = Instant::now();
    let table = rt.block_on(reading.load_table(&ident))?;
    drop(rt.block_on(SearchSession::with_cache(&table, Arc::new(ShardCache::new(4 << 30))))?);
    let plan_ms = clock.elapsed().as_secs_f64() * 1e3;
    let mut cold = Vec::new();
    for i in 0..cold_queries {
        let session = rt.block_on(SearchSession::with_cache(&table, Arc::new(ShardCache::new(4 << 30))))?;
        let clock = Instant::now();
        rt.block_on(session.search(l.queries.row(i), 10, &params))?;
        cold.push(clock.elapsed().as_secs_f64() * 1e3);
    }
    let session = rt.block_on(SearchSession::with_cache(&table, Arc::new(ShardCache::new(4 << 30))))?;
    for i in 0..nq {
        rt.block_on(session.search(l.queries.row(i), 10, &params))?;
    }
    let (mut warm, mut results) = (Vec::new(), Vec::new());
    for i in 0..nq {
        let clock = Instant::now();
        let hits = rt.block_on(session.search(l.queries.row(i), 10, &params))?;
        warm.push(clock.elapsed().as_secs_f64() * 1e3);
        results.push(crate::result_ids(&hits)?);
    }
    let recall = recall_at_k(&results, &l.truth[..nq], 10);
    cold.sort_by(f64::total_cmp);
    warm.sort_by(f64::total_cmp);
    let out = json!({"system": "ailake", "files": files, "ef": ef, "recall": recall, "planning_ms": plan_ms,
        "cold": {"p50_ms": percentile(&cold, 0.5), "p99_ms": percentile(&cold, 0.99)},
        "warm": {"p50_ms": percentile(&warm, 0.5), "p99_ms": percentile(&warm, 0.99)}});
    eprintln!("{out}");
    std::fs::write(args.req("--out")?, serde_json::to_string_pretty(&out)?)?;
    Ok(())
}
