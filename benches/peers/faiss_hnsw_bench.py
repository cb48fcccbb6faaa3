"""FAISS HNSW side of `cargo xtask bench`: `IndexHNSWFlat` with M=32 ("HNSW32", FAISS's usual
choice) and the same ef_construction as ours, same files, same protocol as `peer_bench hnsw`:
build with --threads OpenMP threads, then for each efSearch answer all queries on ONE thread in
one batched call (no Python per-call cost charged to FAISS), fastest of PASSES passes.
"""
import argparse
import json

import faiss

from memory import measured
from texmex import fastest_batch, load, recall_at_10


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--metric", default="l2")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--m", type=int, default=32)
    p.add_argument("--efc", type=int, default=200)
    p.add_argument("--efs", required=True)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    base, queries, gt = load(a.data)
    d = base.shape[1]
    metric = faiss.METRIC_L2 if a.metric == "l2" else faiss.METRIC_INNER_PRODUCT
    faiss.omp_set_num_threads(a.threads)
    index = faiss.IndexHNSWFlat(d, a.m, metric)
    index.hnsw.efConstruction = a.efc
    _, build_s, rss_before, build_peak = measured(f"faiss HNSW{a.m} build {base.shape}", lambda: index.add(base))
    faiss.omp_set_num_threads(1)
    sweep = []
    for ef in [int(x) for x in a.efs.split(",")]:
        index.hnsw.efSearch = max(ef, 10)
        qps, labels = fastest_batch(lambda q: index.search(q, 10)[1], queries)
        recall = recall_at_10(labels, gt)
        print(f"  ef {ef:>4}: recall@10 {recall:.4}  {qps:>8.0f} QPS", flush=True)
        sweep.append({"ef": ef, "recall": recall, "qps": qps})
    out = {"system": "faiss", "version": faiss.__version__, "index": "hnsw", "rows": int(base.shape[0]),
           "dim": d, "m": a.m, "ef_construction": a.efc, "build_threads": a.threads, "build_s": build_s,
           "rss_before_mib": rss_before, "build_peak_rss_mib": build_peak, "sweep": sweep}
    with open(a.out, "w") as f:
        json.dump(out, f, indent=2)


if __name__ == "__main__":
    main()
