"""FAISS side of `cargo xtask bench` for IVF-PQ: same files, same parameters, same protocol as
`peer_bench ivfpq`. Training uses --threads OpenMP threads; searches run on one thread, one
batched call per setting (no Python per-query cost charged to FAISS). Refine = IndexRefineFlat
with k_factor = refine.
"""
import argparse
import json
import time

import faiss

from memory import measured
from texmex import fastest_batch, load, recall_at_10


def main():
    p = argparse.ArgumentParser()
    for name in ["--data", "--out", "--nprobes", "--refines"]:
        p.add_argument(name, required=True)
    p.add_argument("--metric", default="l2")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--nlist", type=int, required=True)
    p.add_argument("--m", type=int, required=True)
    p.add_argument("--iters", type=int, default=25)
    a = p.parse_args()
    base, queries, gt = load(a.data)
    d = base.shape[1]
    metric = faiss.METRIC_L2 if a.metric == "l2" else faiss.METRIC_INNER_PRODUCT
    faiss.omp_set_num_threads(a.threads)

    km = faiss.Kmeans(d, a.nlist, niter=a.iters, max_points_per_centroid=256, seed=1234)
    t = time.perf_counter()
    km.train(base)
    kmeans_s = time.perf_counter() - t
    print(f"faiss k-means k={a.nlist}: {kmeans_s:.2f}s", flush=True)

    quantizer = faiss.IndexFlat(d, metric)
    ivfpq = faiss.IndexIVFPQ(quantizer, d, a.nlist, a.m, 8, metric)
    ivfpq.cp.niter = a.iters
    # Raw vectors are kept beside the codes (as ailake keeps them for refine): the refine
    # wrapper adds every row to both.
    refined = faiss.IndexRefineFlat(ivfpq)

    def build():
        refined.train(base)
        refined.add(base)

    _, build_s, rss_before, build_peak = measured(f"faiss IVF-PQ nlist {a.nlist} m {a.m} train+add", build)

    faiss.omp_set_num_threads(1)
    sweep = []
    for refine in [int(x) for x in a.refines.split(",")]:
        for nprobe in [int(x) for x in a.nprobes.split(",")]:
            ivfpq.nprobe = nprobe
            index = ivfpq
            if refine > 1:
                refined.k_factor = refine
                index = refined
            qps, labels = fastest_batch(lambda q: index.search(q, 10)[1], queries)
            recall = recall_at_10(labels, gt)
            print(f"  nprobe {nprobe:>3} refine {refine}: recall@10 {recall:.4}  {qps:>8.0f} QPS", flush=True)
            sweep.append({"nprobe": nprobe, "refine": refine, "recall": recall, "qps": qps})
    out = {"system": "faiss", "version": faiss.__version__, "index": "ivfpq", "rows": int(base.shape[0]),
           "dim": d, "nlist": a.nlist, "m": a.m, "nbits": 8, "threads": a.threads, "kmeans_s": kmeans_s,
           "kmeans_iters": a.iters, "build_s": build_s,
           "rss_before_mib": rss_before, "build_peak_rss_mib": build_peak, "sweep": sweep}
    with open(a.out, "w") as f:
        json.dump(out, f, indent=2)


if __name__ == "__main__":
    main()
