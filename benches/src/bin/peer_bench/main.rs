//! The ailake side of the peer comparison run by `cargo xtask bench`:
//!
//! - `peer_bench data --out DIR --rows N --dim D [--queries Q] [--seed S]` writes a Gaussian
//!   mixture as TEXMEX files (`base.fvecs`, `query.fvecs`) plus exact ground truth
//!   (`gt.ivecs`, top 100), unless DIR already holds them.
//! - `peer_bench hnsw --data DIR --metric l2|ip --threads T --m M --efc E --efs a,b,c [--traversal sq8|exact] --out F`
//!   builds our HNSW with T threads, then sweeps `ef` single-threaded, writing JSON.
//!
//! - `peer_bench ivfpq --data DIR --metric l2|ip --threads T --nprobes a,b --refines 1,4 --out F`
//!   times k-means alone, then IVF-PQ (`IvfPqConfig::for_dataset`) train + add, then sweeps
//!   nprobe × refine single-threaded.
//! - `peer_bench table --data DIR --metric l2|ip --shard-rows R --efs a,b --queries Q --out F`
//!   writes the base set through `TableWriter` (one file per R rows, one commit) once per write
//!   path, then queries the HNSW table through `SearchSession`, one call per query.
//!
//! - `peer_bench filtered --data DIR --metric l2|ip --shard-rows R --efs a,b --queries Q --out F`
//!   filtered search at selectivities 50% … 0.1% and a 10% delete on one table (see
//!   `filtered.rs`).
//!
//! - `peer_bench session --data DIR --metric l2|ip --efs a,b [--queries Q] [--rounds R] --out F`
//!   one-file table: the bare index against `SearchSession::search` and `search_batch` at 1
//!   and 2 threads, interleaved (see `session.rs`).
//!
//! - `peer_bench files --data DIR --metric l2|ip --efs a,b [--shard-rows R] [--queries Q] [--rounds R] --out F`
//!   the base set written with and without the section's f32 copy: bytes per row, cold start,
//!   warm recall and QPS (see `files.rs`).
//!
//! - `peer_bench sql --data DIR --metric l2|ip --efs a,b [--shard-rows R] [--queries Q] [--rounds R] --out F`
//!   SQL `vector_search` on DataFusion (1 and 2 target partitions) and on a 2-executor
//!   Ballista cluster against the direct `SearchSession` (see `sql.rs`).
//!
//! - `peer_bench cuda --data DIR [--nlist N] [--m M] [--queries Q] --out F` (feature `cuda`):
//!   k-means, PQ, batched distances and an IVF-PQ build on the GPU or, without one or with
//!   `AILAKE_DISABLE_CUDA=1`, the CPU (see `benches/gpu/cuda_bench.sh`).
//!
//! - `peer_bench scale --data DIR --metric l2|ip --files N --target-rows R --queries Q --out F`
//!   the table at lake scale: N random-order files, compaction, the one-file floor (see
//!   `scale.rs`).
//!
//! Peers (hnswlib, FAISS, …) run the same protocol from `benches/peers/*.py` on the same files.

use std::path::{Path, PathBuf};
use std::time::Instant;

use ailk_index::{ground_truth, Metric};
use ailk_testkit::synthetic::{gaussian_mixture, mixture_queries};
use ailk_testkit::texmex::{read_fvecs, read_ivecs, write_fvecs, write_ivecs, Matrix};
use anyhow::{bail, Context, Result};

mod bigtable;
mod blocks;
#[cfg(feature = "cuda")]
mod cuda;
mod files;
mod filtered;
mod index;
mod objstore;
mod rest;
mod scale;
mod session;
mod sql;
mod table;
mod text;
#[cfg(feature = "s3")]
mod text_s3;

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
        Some("hnsw") => index::hnsw(&args),
        Some("ivfpq") => index::ivfpq(&args),
        Some("table") => table::table(&args),
        Some("filtered") => filtered::filtered(&args),
        Some("scale") => scale::scale(&args),
        Some("bigtable") => bigtable::bigtable(&args),
        Some("bigtable-compact") => bigtable::compact_child(&args),
        Some("bigtable-search") => bigtable::search_child(&args),
        Some("session") => session::session(&args),
        Some("files") => files::files(&args),
        Some("sql") => sql::sql(&args),
        Some("rest") => rest::rest(&args),
        Some("objstore") => objstore::objstore(&args),
        #[cfg(feature = "s3")]
        Some("objstore-s3") => objstore::objstore_s3(&args),
        #[cfg(feature = "cuda")]
        Some("cuda") => cuda::cuda(&args),
        Some("gt") => gt(&args),
        Some("text-data") => text::text_data(&args),
        Some("text") => text::text(&args),
        #[cfg(feature = "s3")]
        Some("text-s3") => text_s3::text_s3(&args),
        _ => {
            bail!("usage: peer_bench <data|gt|hnsw|ivfpq|table|filtered|scale|bigtable|session|files|sql|rest|objstore|text-data|text|text-s3> …")
        }
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

/// The `id` column of a search result, as row ids.
fn result_ids(hits: &arrow_array::RecordBatch) -> Result<Vec<u32>> {
    let ids = hits
        .column_by_name("id")
        .and_then(|c| c.as_any().downcast_ref::<arrow_array::Int64Array>())
        .context("no id column in the results")?;
    Ok(ids.values().iter().map(|&v| v as u32).collect())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn list(args: &Args, name: &str) -> Result<Vec<usize>> {
    args.req(name)?.split(',').map(|s| s.parse().map_err(|_| anyhow::anyhow!("{name}: bad list"))).collect()
}
