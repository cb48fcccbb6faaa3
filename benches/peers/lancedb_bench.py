"""LanceDB side of `cargo xtask bench` for IVF-PQ (and, with `--index rq`, IVF_RQ: RaBitQ codes
of `--bits` bits per dimension, the peer of our partition blocks): same files, same nlist / m,
same recall@10.

Measures the table write (rows/s, `create_table` from an Arrow table with a fixed-size-list
vector column), the IVF_PQ index build, and single-query latency/QPS over the query set at each
(nprobes, refine_factor): one `search(...).to_arrow()` call per query, as LanceDB users query.
LanceDB runs its own thread pool inside a search; the per-call Python overhead is charged to it
(it is part of every LanceDB query), so read its QPS as "what a LanceDB user gets".
"""
import argparse
import json
import shutil
import tempfile
import time

import lancedb
from lancedb.index import IvfPq, IvfRq
import numpy as np
import pyarrow as pa

from memory import measured
from texmex import load, recall_at_10


def main():
    p = argparse.ArgumentParser()
    for name in ["--data", "--out", "--nprobes", "--refines"]:
        p.add_argument(name, required=True)
    p.add_argument("--metric", default="l2")
    p.add_argument("--nlist", type=int, required=True)
    p.add_argument("--m", type=int, default=0)
    p.add_argument("--index", choices=["pq", "rq"], default="pq")
    p.add_argument("--bits", type=int, default=1)
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--iters", type=int, default=25)  # k-means iterations, as ours and FAISS
    a = p.parse_args()
    base, queries, gt = load(a.data)
    queries, gt = queries[: a.queries], gt[: a.queries]
    n, d = base.shape
    metric = "l2" if a.metric == "l2" else "dot"
    vectors = pa.FixedSizeListArray.from_arrays(pa.array(base.reshape(-1), type=pa.float32()), d)
    data = pa.table({"id": pa.array(np.arange(n, dtype=np.int64)), "vector": vectors})

    root = tempfile.mkdtemp(prefix="lancedb-bench-")
    try:
        db = lancedb.connect(root)
        t = time.perf_counter()
        table = db.create_table("t", data=data)
        write_s = time.perf_counter() - t
        print(f"lancedb create_table {n} rows: {write_s:.2f}s ({n / write_s:.0f} rows/s)", flush=True)
        if a.index == "pq":
            config = IvfPq(distance_type=metric, num_partitions=a.nlist, num_sub_vectors=a.m, max_iterations=a.iters)
            label = f"lancedb IVF_PQ nlist {a.nlist} m {a.m}"
        else:
            config = IvfRq(distance_type=metric, num_partitions=a.nlist, num_bits=a.bits, max_iterations=a.iters)
            label = f"lancedb IVF_RQ nlist {a.nlist} bits {a.bits}"
        _, build_s, rss_before, build_peak = measured(label, lambda: table.create_index("vector", config=config))

        sweep = []
        for refine in [int(x) for x in a.refines.split(",")]:
            for nprobe in [int(x) for x in a.nprobes.split(",")]:
                def one(q):
                    s = table.search(q, vector_column_name="vector").metric(metric).limit(10).nprobes(nprobe)
                    if refine > 1:
                        s = s.refine_factor(refine)
                    return s.select(["id", "_distance"]).to_arrow()["id"].to_pylist()
                one(queries[0])  # warm
                lat, labels = [], []
                for q in queries:
                    t = time.perf_counter()
                    labels.append(one(q))
                    lat.append(time.perf_counter() - t)
                labels = [row + [-1] * (10 - len(row)) for row in labels]
                recall = recall_at_10(np.array(labels), gt)
                lat.sort()
                qps = len(queries) / sum(lat)
                p50, p99 = lat[len(lat) // 2] * 1e3, lat[len(lat) * 99 // 100] * 1e3
                print(f"  nprobe {nprobe:>3} refine {refine}: recall@10 {recall:.4}  {qps:>7.0f} QPS  "
                      f"p50 {p50:.2f} ms p99 {p99:.2f} ms", flush=True)
                sweep.append({"nprobe": nprobe, "refine": refine, "recall": recall, "qps": qps,
                              "p50_ms": p50, "p99_ms": p99})
    finally:
        shutil.rmtree(root, ignore_errors=True)
    out = {"system": "lancedb", "version": lancedb.__version__, "index": f"ivf{a.index}", "rows": int(n), "dim": int(d),
           "nlist": a.nlist, "m": a.m, "bits": a.bits, "write_s": write_s, "write_rows_per_s": n / write_s, "build_s": build_s,
           "rss_before_mib": rss_before, "build_peak_rss_mib": build_peak, "queries": len(queries), "sweep": sweep}
    with open(a.out, "w") as f:
        json.dump(out, f, indent=2)


if __name__ == "__main__":
    main()
