//! The ailake side of the peer comparison run by `cargo xtask bench`:
//!
//! - `peer_bench data --out DIR --rows N --dim D [--queries Q] [--seed S]` writes a Gaussian
//!   mixture as TEXMEX files (`base.fvecs`, `query.fvecs`) plus exact ground truth
//!   (`gt.ivecs`, top 100), unless DIR already holds them.
//! - `peer_bench hnsw --data DIR --metric l2|ip --threads T --m M --efc E --efs a,b,c --out F`
//!   builds our HNSW with T threads, then sweeps `ef` single-threaded, writing JSON.
//!
//! - `peer_bench ivfpq --data DIR --metric l2|ip --threads T --nprobes a,b --refines 1,4 --out F`
//!   times k-means alone, then IVF-PQ (`IvfPqConfig::for_dataset`) train + add, then sweeps
//!   nprobe × refine single-threaded.
//!
//! Peers (hnswlib, FAISS, …) run the same protocol from `benches/peers/*.py` on the same files.

use std::path::{Path, PathBuf};
use std::time::Instant;

use ailk_index::kmeans::{train as kmeans_train, KMeansParams};
use ailk_index::synthetic::{gaussian_mixture, mixture_queries};
use ailk_index::texmex::{read_fvecs, read_ivecs, write_fvecs, write_ivecs, Matrix};
use ailk_index::{
    ground_truth, recall_at_k, HnswIndex, HnswParams, IvfPqConfig, IvfPqIndex, IvfPqSearch, Metric,
};
use anyhow::{bail, Context, Result};
use serde_json::json;

/// Each query sweep point runs the whole query set this many times; the fastest pass counts
/// (the peers' scripts do the same), which keeps one-off machine noise out of the ratios.
const PASSES: usize = 3;

struct Args(Vec<String>);

impl Args {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().position(|a| a == name).and_then(|i| self.0.get(i + 1)).map(String::as_str)
    }
    fn req(&self, name: &str) -> Result<&str> {
        self.get(name).with_context(|| format!("missing {name}"))
    }
    fn num<T: std::str::FromStr>(&self, name: &str, default: T) -> Result<T> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| anyhow::anyhow!("{name}: bad number {v}")),
        }
    }
}

fn main() -> Result<()> {
    let args = Args(std::env::args().skip(1).collect());
    match args.0.first().map(String::as_str) {
        Some("data") => data(&args),
        Some("hnsw") => hnsw(&args),
        Some("ivfpq") => ivfpq(&args),
        Some("gt") => gt(&args),
        _ => bail!("usage: peer_bench <data|gt|hnsw|ivfpq> …"),
    }
}

fn metric(args: &Args) -> Result<Metric> {
    Ok(match args.get("--metric").unwrap_or("l2") {
        "l2" => Metric::L2,
        "ip" => Metric::InnerProduct,
        other => bail!("unknown metric {other}"),
    })
}

fn data(args: &Args) -> Result<()> {
    let out = PathBuf::from(args.req("--out")?);
    if out.join("gt.ivecs").exists() {
        eprintln!("dataset already at {}", out.display());
        return Ok(());
    }
    let (rows, dim) = (args.num("--rows", 100_000usize)?, args.num("--dim", 128usize)?);
    let (queries, seed) = (args.num("--queries", 1_000usize)?, args.num("--seed", 42u64)?);
    let (clusters, spread) = (args.num("--clusters", 100usize)?, args.num("--spread", 0.5f32)?);
    std::fs::create_dir_all(&out)?;
    let t = Instant::now();
    let base = gaussian_mixture(rows, dim, clusters, spread, seed);
    let q = mixture_queries(queries, dim, clusters, spread, seed, seed + 1);
    let gt = ground_truth(&base, &q, dim, metric(args)?, 100)?;
    write_fvecs(out.join("base.fvecs"), &Matrix { dim, data: base })?;
    write_fvecs(out.join("query.fvecs"), &Matrix { dim, data: q })?;
    let gt: Vec<i32> = gt.into_iter().flatten().map(|x| x as i32).collect();
    write_ivecs(out.join("gt.ivecs"), &Matrix { dim: 100, data: gt })?;
    eprintln!(
        "wrote {rows}×{dim} + {queries} queries + ground truth to {} in {:.1?}",
        out.display(),
        t.elapsed()
    );
    Ok(())
}

/// Exact top-100 ground truth (`gt.ivecs`) for a TEXMEX directory that lacks it.
fn gt(args: &Args) -> Result<()> {
    let dir = PathBuf::from(args.req("--data")?);
    let base = read_fvecs(dir.join("base.fvecs"), None)?;
    let queries = read_fvecs(dir.join("query.fvecs"), None)?;
    if base.dim != queries.dim {
        bail!("base is {}-d, queries {}-d", base.dim, queries.dim);
    }
    let t = Instant::now();
    let k = 100.min(base.rows());
    let gt = ground_truth(&base.data, &queries.data, base.dim, metric(args)?, k)?;
    let gt: Vec<i32> = gt.into_iter().flatten().map(|x| x as i32).collect();
    write_ivecs(dir.join("gt.ivecs"), &Matrix { dim: k, data: gt })?;
    eprintln!(
        "wrote exact top-{k} of {} queries to {} in {:.1?}",
        queries.rows(),
        dir.display(),
        t.elapsed()
    );
    Ok(())
}

/// Base vectors, queries and the true top-10 ids of each query.
struct Loaded {
    base: Matrix<f32>,
    queries: Matrix<f32>,
    truth: Vec<Vec<u32>>,
}

fn load(dir: &Path) -> Result<Loaded> {
    let base = read_fvecs(dir.join("base.fvecs"), None)?;
    let queries = read_fvecs(dir.join("query.fvecs"), None)?;
    let gt = read_ivecs(dir.join("gt.ivecs"), None)?;
    let truth = (0..gt.rows()).map(|i| gt.row(i)[..10].iter().map(|&x| x as u32).collect()).collect();
    Ok(Loaded { base, queries, truth })
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn hnsw(args: &Args) -> Result<()> {
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
    let t = Instant::now();
    let index = HnswIndex::build(&base.data, base.dim, metric(args)?, params)?;
    let build_s = t.elapsed().as_secs_f64();
    eprintln!("ailake HNSW build {}×{}: {build_s:.2}s", base.rows(), base.dim);
    let mut sweep = Vec::new();
    for &ef in &efs {
        let mut lat = Vec::with_capacity(queries.rows());
        let mut results = Vec::with_capacity(queries.rows());
        let mut total = f64::INFINITY;
        for _ in 0..PASSES {
            lat.clear();
            results.clear();
            let all = Instant::now();
            for q in queries.data.chunks_exact(queries.dim) {
                let t = Instant::now();
                let r = index.search(q, 10, Some(ef))?;
                lat.push(t.elapsed().as_secs_f64() * 1e6);
                results.push(r.into_iter().map(|n| n.id).collect::<Vec<_>>());
            }
            total = total.min(all.elapsed().as_secs_f64());
        }
        lat.sort_by(f64::total_cmp);
        let recall = recall_at_k(&results, &truth, 10);
        let qps = queries.rows() as f64 / total;
        eprintln!("  ef {ef:>4}: recall@10 {recall:.4}  {qps:>8.0} QPS");
        sweep.push(json!({"ef": ef, "recall": recall, "qps": qps,
            "p50_us": percentile(&lat, 0.5), "p99_us": percentile(&lat, 0.99)}));
    }
    let out = json!({
        "system": "ailake", "index": "hnsw", "rows": base.rows(), "dim": base.dim,
        "m": params.m, "ef_construction": params.ef_construction, "build_threads": params.threads,
        "build_s": build_s, "kernel": format!("{:?}", ailk_index::kernels::active_backend()),
        "sweep": sweep,
    });
    std::fs::write(args.req("--out")?, serde_json::to_string_pretty(&out)?)?;
    Ok(())
}

fn list(args: &Args, name: &str) -> Result<Vec<usize>> {
    args.req(name)?.split(',').map(|s| s.parse().map_err(|_| anyhow::anyhow!("{name}: bad list"))).collect()
}

fn ivfpq(args: &Args) -> Result<()> {
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
    let t = Instant::now();
    let index = pool.install(|| IvfPqIndex::build(&base.data, base.dim, metric, &cfg, true))?;
    let build_s = t.elapsed().as_secs_f64();
    eprintln!("ailake IVF-PQ nlist {} m {} train+add: {build_s:.2}s", cfg.nlist, cfg.m);
    let mut sweep = Vec::new();
    for refine in list(args, "--refines")? {
        for nprobe in list(args, "--nprobes")? {
            let s = IvfPqSearch { nprobe, refine_factor: refine };
            let mut best = f64::INFINITY;
            let mut results: Vec<Vec<u32>> = Vec::new();
            for _ in 0..PASSES {
                let all = Instant::now();
                results = queries
                    .data
                    .chunks_exact(queries.dim)
                    .map(|q| index.search(q, 10, &s).map(|r| r.into_iter().map(|n| n.id).collect()))
                    .collect::<Result<_, _>>()?;
                best = best.min(all.elapsed().as_secs_f64());
            }
            let qps = queries.rows() as f64 / best;
            let recall = recall_at_k(&results, &truth, 10);
            eprintln!("  nprobe {nprobe:>3} refine {refine}: recall@10 {recall:.4}  {qps:>8.0} QPS");
            sweep.push(json!({"nprobe": nprobe, "refine": refine, "recall": recall, "qps": qps}));
        }
    }
    let out = json!({
        "system": "ailake", "index": "ivfpq", "rows": base.rows(), "dim": base.dim, "nlist": cfg.nlist,
        "m": cfg.m, "nbits": 8, "threads": threads, "kmeans_s": kmeans_s, "kmeans_iters": cfg.kmeans_iters,
        "build_s": build_s, "sweep": sweep,
    });
    std::fs::write(args.req("--out")?, serde_json::to_string_pretty(&out)?)?;
    Ok(())
}
