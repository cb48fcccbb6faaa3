"""hnswlib side of `cargo xtask bench`: same files, same protocol as `peer_bench hnsw`.

Build with --threads threads; then for each ef, answer all queries on ONE thread (one batched
knn_query call with num_threads=1, so no Python per-call overhead is charged to hnswlib) and
measure QPS and recall@10 against the shared ground truth.
"""
import argparse
import json

import hnswlib
import numpy as np

from memory import measured
from texmex import fastest_batch, load, recall_at_10


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--metric", default="l2")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--m", type=int, default=16)
    p.add_argument("--efc", type=int, default=200)
    p.add_argument("--efs", required=True)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    base, queries, gt = load(a.data)
    space = {"l2": "l2", "ip": "ip"}[a.metric]
    index = hnswlib.Index(space=space, dim=base.shape[1])

    def build():
        index.init_index(max_elements=base.shape[0], M=a.m, ef_construction=a.efc, random_seed=100)
        index.add_items(base, np.arange(base.shape[0]), num_threads=a.threads)

    _, build_s, rss_before, build_peak = measured(f"hnswlib build {base.shape}", build)
    sweep = []
    for ef in [int(x) for x in a.efs.split(",")]:
        index.set_ef(max(ef, 10))
        qps, labels = fastest_batch(lambda q: index.knn_query(q, k=10, num_threads=1)[0], queries)
        recall = recall_at_10(labels, gt)
        print(f"  ef {ef:>4}: recall@10 {recall:.4}  {qps:>8.0f} QPS", flush=True)
        sweep.append({"ef": ef, "recall": recall, "qps": qps})
    out = {"system": "hnswlib", "version": hnswlib.__version__ if hasattr(hnswlib, "__version__") else "0.8.0",
           "index": "hnsw", "rows": int(base.shape[0]), "dim": int(base.shape[1]), "m": a.m,
           "ef_construction": a.efc, "build_threads": a.threads, "build_s": build_s,
           "rss_before_mib": rss_before, "build_peak_rss_mib": build_peak, "sweep": sweep}
    with open(a.out, "w") as f:
        json.dump(out, f, indent=2)


if __name__ == "__main__":
    main()
