//! The compacted table of `peer_bench scale` searched through its partition blocks (issue 31):
//! a probe sweep with the whole index in cache; the same queries with a cache of a tenth of
//! the table's index bytes (blocks vs the whole-file path); and cold queries through a
//! simulated object store (30 ms to first byte, 100 MB/s), counting bytes and round trips.

use std::sync::Arc;
use std::time::Instant;

use ailake::prelude::*;
use ailake::search::ShardCache;
use ailake::testing::{LatencyProfile, SimulatedStore};
use ailk_testkit::recall_at_k;
use serde_json::{json, Value};

use crate::{percentile, Loaded};

/// Measures `nq` queries of a fresh session over `cache`, after a warm-up pass of the same
/// queries when `warm` (else each query meets the cache as the ones before it left it).
pub(crate) fn pass(
    rt: &tokio::runtime::Runtime,
    table: &Table,
    l: &Loaded,
    nq: usize,
    params: &SearchParams,
    cache: Arc<ShardCache>,
    warm: bool,
) -> anyhow::Result<Value> {
    let session = rt.block_on(SearchSession::with_cache(table, cache))?;
    let one = |i: usize| -> anyhow::Result<Vec<u32>> {
        crate::result_ids(&rt.block_on(session.search(l.queries.row(i), 10, params))?)
    };
    if warm {
        for i in 0..nq {
            one(i)?;
        }
    } else {
        one(0)?; // footers and planning (query 0 then meets its own blocks in the cache)
    }
    let before = session.counters();
    let (mut lat, mut results) = (Vec::with_capacity(nq), Vec::with_capacity(nq));
    for i in 0..nq {
        let clock = Instant::now();
        results.push(one(i)?);
        lat.push(clock.elapsed().as_secs_f64() * 1e3);
    }
    let c = session.counters();
    let n = nq as f64;
    lat.sort_by(f64::total_cmp);
    let out = json!({
        "probes": params.partition_probes, "blocks": params.partition_blocks,
        "recall": recall_at_k(&results, &l.truth[..nq], 10),
        "p50_ms": percentile(&lat, 0.5), "p99_ms": percentile(&lat, 0.99),
        "qps": n / (lat.iter().sum::<f64>() / 1e3),
        "bytes_per_query": (c.bytes_read - before.bytes_read) as f64 / n,
        "requests_per_query": (c.read_requests - before.read_requests) as f64 / n,
        "blocks_per_query": (c.blocks_scanned - before.blocks_scanned) as f64 / n,
        "reranked_per_query": (c.rows_reranked - before.rows_reranked) as f64 / n,
        "refined_per_query": (c.rows_refined - before.rows_refined) as f64 / n,
        "shards_per_query": (c.shards_visited - before.shards_visited) as f64 / n,
    });
    eprintln!("  {out}");
    Ok(out)
}

/// The fastest point with recall@10 ≥ 0.95, else the most accurate.
pub(crate) fn best(points: &[Value]) -> Value {
    let f = |p: &Value, k: &str| p[k].as_f64().unwrap_or(0.0);
    points
        .iter()
        .filter(|p| f(p, "recall") >= 0.95)
        .max_by(|a, b| f(a, "qps").total_cmp(&f(b, "qps")))
        .or_else(|| points.iter().max_by(|a, b| f(a, "recall").total_cmp(&f(b, "recall"))))
        .cloned()
        .unwrap_or(Value::Null)
}

/// Every measurement of the blocks phase (see the module docs). `dir` holds the catalog
/// (`catalog.db`) and warehouse (`wh`) of `table`, the compacted `bench.many`.
pub(crate) fn blocks(
    rt: &tokio::runtime::Runtime,
    dir: &std::path::Path,
    table: &Table,
    l: &Loaded,
    nq: usize,
) -> anyhow::Result<Value> {
    let table = rt.block_on(table.refresh())?;
    let summaries = rt.block_on(table.shard_summaries())?.unwrap_or_default();
    let index_bytes: u64 = summaries.iter().filter_map(|s| s.section.map(|(_, len)| len)).sum();
    let with_blocks = summaries.iter().filter(|s| s.blocks.is_some()).count();
    let raw_bytes = (l.base.rows() * l.base.dim * 4) as u64;
    let partitions = rt.block_on(ailake::load_partitions(&table, "embedding"))?.map_or(0, |p| p.len());
    eprintln!("blocks: {with_blocks} of {} files have blocks; index {index_bytes} B", summaries.len());
    let big = || Arc::new(ShardCache::new(64 << 30));
    let mut sweep = Vec::new();
    for probes in [12usize, 24, 48, 96, 192, 384] {
        let params = SearchParams { partition_probes: Some(probes), ..SearchParams::default() };
        sweep.push(pass(rt, &table, l, nq, &params, big(), true)?);
    }
    let in_cache = best(&sweep);
    let probes = in_cache["probes"].as_u64().map(|p| p as usize);
    let at = SearchParams { partition_probes: probes, ..SearchParams::default() };
    let whole = SearchParams { partition_blocks: false, ..SearchParams::default() };
    let budget = index_bytes / 10;
    let small_blocks = pass(rt, &table, l, nq, &at, Arc::new(ShardCache::new(budget)), true)?;
    let small_whole = pass(rt, &table, l, nq, &whole, Arc::new(ShardCache::new(budget)), true)?;
    // The same blocks ranked by their 1-bit codes alone (the 4-bit codes read but unused).
    let one_bit = SearchParams { refine_block_codes: false, ..at.clone() };
    let in_cache_1bit = pass(rt, &table, l, nq, &one_bit, big(), true)?;
    let small_1bit = pass(rt, &table, l, nq, &one_bit, Arc::new(ShardCache::new(budget)), true)?;

    let cold = cold(rt, dir, &table, l, nq, &at)?;
    Ok(json!({
        "files_with_blocks": with_blocks, "index_bytes": index_bytes, "raw_vector_bytes": raw_bytes,
        "partitions": partitions,
        "in_cache": in_cache, "sweep": sweep, "cache_budget": budget,
        "out_of_cache": {"blocks": small_blocks, "whole_file": small_whole, "one_bit": small_1bit},
        "in_cache_one_bit": in_cache_1bit, "cold_simulated": cold,
    }))
}

/// Cold queries of `table` (its catalog `catalog.db` and warehouse `wh` in `dir`) through a
/// simulated object store (30 ms to first byte, 100 MB/s): a fresh session and cache per
/// query, planning excluded; medians of latency, bytes and round trips over up to 10 queries.
pub(crate) fn cold(
    rt: &tokio::runtime::Runtime,
    dir: &std::path::Path,
    table: &Table,
    l: &Loaded,
    nq: usize,
    at: &SearchParams,
) -> anyhow::Result<Value> {
    let wh = Warehouse::local(dir.join("wh"))?;
    let profile =
        LatencyProfile { first_byte: std::time::Duration::from_millis(30), bytes_per_second: 100e6 };
    let sim = Arc::new(SimulatedStore::new(wh.store().clone(), profile));
    let remote = Warehouse::new(sim.clone(), wh.root())?;
    let provider = rt.block_on(SqlCatalog::open(dir.join("catalog.db"), "default"))?;
    let remote_table = rt.block_on(Catalog::new(Arc::new(provider), remote).load_table(table.ident()))?;
    // The simulated store sits on a local directory: behave as on object storage.
    let remote_params = SearchParams { rerank_in_one_wave: Some(true), ..at.clone() };
    let (mut cold_ms, mut cold_bytes, mut cold_trips) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..nq.min(10) {
        let session =
            rt.block_on(SearchSession::with_cache(&remote_table, Arc::new(ShardCache::new(64 << 30))))?;
        let before = sim.stats().snapshot();
        let clock = Instant::now();
        rt.block_on(session.search(l.queries.row(i), 10, &remote_params))?;
        cold_ms.push(clock.elapsed().as_secs_f64() * 1e3);
        let d = sim.stats().snapshot() - before;
        cold_bytes.push(d.bytes_read as f64);
        cold_trips.push(d.round_trips as f64);
    }
    for v in [&mut cold_ms, &mut cold_bytes, &mut cold_trips] {
        v.sort_by(f64::total_cmp);
    }
    let cold = json!({"p50_ms": percentile(&cold_ms, 0.5), "bytes": percentile(&cold_bytes, 0.5),
        "round_trips": percentile(&cold_trips, 0.5), "queries": cold_ms.len()});
    eprintln!("  cold on the simulated store: {cold}");
    Ok(cold)
}
