//! `peer_bench hnsw` and `peer_bench ivfpq`: one index over the whole base set, built with T
//! threads, then swept single-threaded (the peers' scripts follow the same protocol).

use std::path::PathBuf;
use std::time::Instant;

use ailake_benches::memory;
use ailk_index::kmeans::{train as kmeans_train, KMeansParams};
use ailk_index::{HnswIndex, HnswParams, IvfPqConfig, IvfPqIndex, IvfPqSearch, Traversal};
use ailk_testkit::recall_at_k;
use ailk_testkit::texmex::Matrix;
use anyhow::{Context, Result};
use serde_json::json;

use crate::{list, load, metric, percentile, Args, Loaded, PASSES};

pub(crate) fn hnsw(args: &Args) -> Result<()> {
    let dir = PathBuf::from(args.req("--data")?);
    let Loaded { base, queries, truth } = load(&dir)?;
    let params = HnswParams {
        m: args.num("--m", 16)?,
        ef_construction: args.num("--efc", 200)?,
        threads: args.num("--threads", 2)?,
        ..HnswParams::default()
    };
    let efs: Vec<usize> =
        args.req("--efs")?.split(',').map(|s| s.parse()).collect::<Result<_, _>>().context("--efs")?;
    let rss_before = memory::reset_peak();
    let t = Instant::now();
    let mut index = HnswIndex::build(&base.data, base.dim, metric(args)?, params)?;
    let build_s = t.elapsed().as_secs_f64();
    let traversal = match args.get("--traversal").unwrap_or("sq8") {
        "sq8" => Traversal::Sq8,
        "exact" => Traversal::Exact,
        other => anyhow::bail!("--traversal: sq8 or exact, not {other}"),
    };
    index.set_traversal(traversal);
    let build_peak = memory::peak_mib();
    eprintln!(
        "ailake HNSW build {}×{}: {build_s:.2}s, peak RSS {build_peak:.0} MiB ({rss_before:.0} before)",
        base.rows(),
        base.dim
    );
    let mut sweep = Vec::new();
    for &ef in &efs {
        let (total, lat, results) = fastest_pass(&queries, |q| {
            Ok(index.search(q, 10, Some(ef))?.into_iter().map(|n| n.id).collect())
        })?;
        let recall = recall_at_k(&results, &truth, 10);
        let qps = queries.rows() as f64 / total;
        eprintln!("  ef {ef:>4}: recall@10 {recall:.4}  {qps:>8.0} QPS");
        sweep.push(json!({"ef": ef, "recall": recall, "qps": qps,
            "p50_us": percentile(&lat, 0.5), "p99_us": percentile(&lat, 0.99)}));
    }
    let out = json!({
        "system": "ailake", "index": "hnsw", "rows": base.rows(), "dim": base.dim,
        "m": params.m, "ef_construction": params.ef_construction, "build_threads": params.threads,
        "build_s": build_s, "rss_before_mib": rss_before, "build_peak_rss_mib": build_peak,
        "kernel": format!("{:?}", ailk_index::kernels::active_backend()),
        "traversal": format!("{traversal:?}"),
        "sweep": sweep,
    });
    std::fs::write(args.req("--out")?, serde_json::to_string_pretty(&out)?)?;
    Ok(())
}

pub(crate) fn ivfpq(args: &Args) -> Result<()> {
    let dir = PathBuf::from(args.req("--data")?);
    let Loaded { base, queries, truth } = load(&dir)?;
    let threads: usize = args.num("--threads", 2)?;
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build()?;
    let metric = metric(args)?;
    let cfg = IvfPqConfig::for_dataset(base.rows(), base.dim);
    let t = Instant::now();
    let km = pool.install(|| {
        kmeans_train(
            &base.data,
            base.dim,
            &KMeansParams { max_iters: cfg.kmeans_iters, tolerance: 0.0, ..KMeansParams::new(cfg.nlist) },
        )
    })?;
    let kmeans_s = t.elapsed().as_secs_f64();
    eprintln!(
        "ailake k-means k={} on {}×{}: {kmeans_s:.2}s ({} iterations)",
        cfg.nlist,
        base.rows(),
        base.dim,
        km.objective.len()
    );
    let rss_before = memory::reset_peak();
    let t = Instant::now();
    let index = pool.install(|| IvfPqIndex::build(&base.data, base.dim, metric, &cfg, true))?;
    let build_s = t.elapsed().as_secs_f64();
    let build_peak = memory::peak_mib();
    eprintln!(
        "ailake IVF-PQ nlist {} m {} train+add: {build_s:.2}s, peak RSS {build_peak:.0} MiB ({rss_before:.0} before)",
        cfg.nlist, cfg.m
    );
    let mut sweep = Vec::new();
    for refine in list(args, "--refines")? {
        for nprobe in list(args, "--nprobes")? {
            let s = IvfPqSearch { nprobe, refine_factor: refine };
            let (best, lat, results) =
                fastest_pass(&queries, |q| Ok(index.search(q, 10, &s)?.into_iter().map(|n| n.id).collect()))?;
            let qps = queries.rows() as f64 / best;
            let recall = recall_at_k(&results, &truth, 10);
            eprintln!("  nprobe {nprobe:>3} refine {refine}: recall@10 {recall:.4}  {qps:>8.0} QPS");
            sweep.push(json!({"nprobe": nprobe, "refine": refine, "recall": recall, "qps": qps,
                "p50_us": percentile(&lat, 0.5), "p99_us": percentile(&lat, 0.99)}));
        }
    }
    let out = json!({
        "system": "ailake", "index": "ivfpq", "rows": base.rows(), "dim": base.dim, "nlist": cfg.nlist,
        "m": cfg.m, "nbits": 8, "threads": threads, "kmeans_s": kmeans_s, "kmeans_iters": cfg.kmeans_iters,
        "build_s": build_s, "rss_before_mib": rss_before, "build_peak_rss_mib": build_peak, "sweep": sweep,
    });
    std::fs::write(args.req("--out")?, serde_json::to_string_pretty(&out)?)?;
    Ok(())
}

/// Answers every query `PASSES` times, one call each; returns the fastest pass's seconds, its
/// per-query latencies in µs (sorted) and its results.
fn fastest_pass(
    queries: &Matrix<f32>,
    mut one: impl FnMut(&[f32]) -> Result<Vec<u32>>,
) -> Result<(f64, Vec<f64>, Vec<Vec<u32>>)> {
    let mut best = (f64::INFINITY, Vec::new(), Vec::new());
    for _ in 0..PASSES {
        let (mut lat, mut results) = (Vec::with_capacity(queries.rows()), Vec::with_capacity(queries.rows()));
        let all = Instant::now();
        for q in queries.data.chunks_exact(queries.dim) {
            let t = Instant::now();
            results.push(one(q)?);
            lat.push(t.elapsed().as_secs_f64() * 1e6);
        }
        let total = all.elapsed().as_secs_f64();
        if total < best.0 {
            best = (total, lat, results);
        }
    }
    best.1.sort_by(f64::total_cmp);
    Ok(best)
}
