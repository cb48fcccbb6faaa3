//! `peer_bench cuda` (feature `cuda`): the steps the `cuda` feature moves to the GPU, timed on
//! whichever path this process uses — the GPU when a device is usable, the CPU when none is
//! or `AILAKE_DISABLE_CUDA=1`. `benches/gpu/cuda_bench.sh` runs it both ways on the same data
//! and compares; each run also writes digests of its results, so the two can be checked to
//! agree (assignments and codes as fractions of equal entries, distances by their largest
//! difference).
//!
//! Steps: k-means (`--nlist` centroids, 10 Lloyd iterations), PQ training and encoding of
//! every row (`--m` sub-quantizers), batched flat distances of `--queries` queries to every
//! row, and a whole IVF-PQ build.

use std::path::PathBuf;
use std::time::Instant;

use ailk_index::kmeans::{train as kmeans_train, KMeansParams};
use ailk_index::{flat::distances_batch, IvfPqConfig, IvfPqIndex, Metric, ProductQuantizer};
use serde_json::json;

use crate::{load, Args, Loaded};

pub(crate) fn cuda(args: &Args) -> anyhow::Result<()> {
    let dir = PathBuf::from(args.req("--data")?);
    let Loaded { base, queries, .. } = load(&dir)?;
    let (rows, dim) = (base.rows(), base.dim);
    let cfg = IvfPqConfig::for_dataset(rows, dim);
    let nlist: usize = args.num("--nlist", cfg.nlist)?;
    let m: usize = args.num("--m", cfg.m)?;
    let nq = args.num("--queries", 1000usize)?.min(queries.rows());
    let gpu = ailk_index::cuda_available();
    eprintln!("peer_bench cuda: {rows}×{dim}, nlist {nlist}, m {m}, {nq} queries; GPU in use: {gpu}");
    let time = |label: &str, f: &mut dyn FnMut()| {
        let clock = Instant::now();
        f();
        let s = clock.elapsed().as_secs_f64();
        eprintln!("  {label}: {s:.3} s");
        s
    };
    let params = KMeansParams { max_iters: 10, ..KMeansParams::new(nlist) };
    let mut km = None;
    let kmeans_s = time("k-means", &mut || km = Some(kmeans_train(&base.data, dim, &params)));
    let km = km.expect("ran")?;
    let assign = km.assign(&base.data);
    let pq_params = KMeansParams { max_iters: 10, ..KMeansParams::new(256) };
    let mut pq = None;
    let pq_train_s =
        time("PQ train", &mut || pq = Some(ProductQuantizer::train(&base.data, dim, m, &pq_params)));
    let pq = pq.expect("ran")?;
    let mut codes = Vec::new();
    let pq_encode_s = time("PQ encode", &mut || codes = pq.encode(&base.data));
    let q = &queries.data[..nq * dim];
    let mut dist = Ok(Vec::new());
    let distances_s =
        time("batched distances", &mut || dist = distances_batch(q, &base.data, dim, Metric::L2));
    let dist = dist?;
    let mut built = None;
    let ivf_s = time("IVF-PQ build", &mut || {
        built = Some(IvfPqIndex::build(&base.data, dim, Metric::L2, &IvfPqConfig { nlist, m, ..cfg }, true))
    });
    built.expect("ran")?;
    let out = json!({
        "gpu": gpu, "rows": rows, "dim": dim, "nlist": nlist, "m": m, "queries": nq,
        "kmeans_s": kmeans_s, "pq_train_s": pq_train_s, "pq_encode_s": pq_encode_s,
        "distances_s": distances_s, "ivf_pq_build_s": ivf_s,
        // Digests for the CPU/GPU agreement check (sampled: every 7th row / value).
        "assign_sample": assign.iter().step_by(7).map(|a| a.0).collect::<Vec<u32>>(),
        "codes_sample": codes.iter().step_by(7).copied().collect::<Vec<u8>>(),
        "distances_sample": dist.iter().step_by(997).copied().collect::<Vec<f32>>(),
    });
    std::fs::write(args.req("--out")?, serde_json::to_string(&out)?)?;
    Ok(())
}
