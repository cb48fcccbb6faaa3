"""LanceDB side of `cargo xtask bench --only objstore`: the same rows in a LanceDB table on
the moto S3 server (IVF_PQ, nlist √n, m = dim/4, built on S3), then queried through the
latency proxy's endpoint: cold (a new connection and `open_table` per query; only the query
is timed, as ailake's planning is not) and warm (one table handle after a warm-up pass)."""
import argparse
import json
import time

import lancedb
import numpy as np
import pyarrow as pa
from lancedb.index import IvfPq

from texmex import load, recall_at_10


def opts(endpoint):
    return {"endpoint": endpoint, "aws_access_key_id": "test", "aws_secret_access_key": "test",
            "region": "us-east-1", "allow_http": "true"}


def main():
    p = argparse.ArgumentParser()
    for name in ["--data", "--out", "--write-endpoint", "--read-endpoint", "--uri"]:
        p.add_argument(name, required=True)
    p.add_argument("--metric", default="l2")
    p.add_argument("--nprobe", type=int, default=64)
    p.add_argument("--refine", type=int, default=4)
    p.add_argument("--queries", type=int, default=50)
    p.add_argument("--cold-queries", type=int, default=10)
    a = p.parse_args()
    base, queries, gt = load(a.data)
    queries, gt = queries[: a.queries], gt[: a.queries]
    n, d = base.shape
    metric = "l2" if a.metric == "l2" else "dot"
    vectors = pa.FixedSizeListArray.from_arrays(pa.array(base.reshape(-1), type=pa.float32()), d)
    data = pa.table({"id": pa.array(np.arange(n, dtype=np.int64)), "vector": vectors})
    db = lancedb.connect(a.uri, storage_options=opts(a.write_endpoint))
    t = time.perf_counter()
    table = db.create_table("t", data=data, mode="overwrite")
    table.create_index("vector", config=IvfPq(distance_type=metric, num_partitions=max(1, round(n ** 0.5)),
                                              num_sub_vectors=max(1, d // 4)))
    print(f"lancedb on S3: {n} rows written and indexed in {time.perf_counter() - t:.1f}s", flush=True)

    def query(tbl, q):
        s = tbl.search(q, vector_column_name="vector").metric(metric).limit(10).nprobes(a.nprobe)
        if a.refine > 1:
            s = s.refine_factor(a.refine)
        return s.select(["id", "_distance"]).to_arrow()["id"].to_pylist()

    cold = []
    for i in range(a.cold_queries):
        tbl = lancedb.connect(a.uri, storage_options=opts(a.read_endpoint)).open_table("t")
        t = time.perf_counter()
        query(tbl, queries[i])
        cold.append((time.perf_counter() - t) * 1e3)
    tbl = lancedb.connect(a.uri, storage_options=opts(a.read_endpoint)).open_table("t")
    for q in queries:
        query(tbl, q)
    warm, labels = [], []
    for q in queries:
        t = time.perf_counter()
        labels.append(query(tbl, q))
        warm.append((time.perf_counter() - t) * 1e3)
    labels = np.array([row + [-1] * (10 - len(row)) for row in labels])
    recall = recall_at_10(labels, gt)
    cold.sort()
    warm.sort()
    pct = lambda xs, f: xs[round((len(xs) - 1) * f)]
    out = {"system": "lancedb", "version": lancedb.__version__, "nprobe": a.nprobe, "refine": a.refine,
           "recall": recall, "cold": {"p50_ms": pct(cold, 0.5), "p99_ms": pct(cold, 0.99)},
           "warm": {"p50_ms": pct(warm, 0.5), "p99_ms": pct(warm, 0.99)}}
    print(json.dumps(out), flush=True)
    with open(a.out, "w") as f:
        json.dump(out, f, indent=2)


if __name__ == "__main__":
    main()
