"""Our Python package's side of `cargo xtask bench --only python`: what a Python user of
ailake gets, measured the way `ailake_pypi_bench.py` measures AI-Lake and `lancedb_bench.py`
measures LanceDB.

Writes the base vectors into a fresh table per write path (`hnsw`, `ivf_pq`, `deferred` =
HNSW built in the background), one `table.write(pyarrow_table_slice)` per shard of
--shard-rows rows plus one `table.commit()`, and reports rows/s up to the commit's return
(for `deferred`, also the seconds until `wait_indexed()` returns). Then it queries the HNSW
table one `table.search(q, k=10, ef=ef, columns=["id"])` call per query at each ef, reading
the ids out of the returned pyarrow table inside the clock, and once per ef with
`search_batch` (every core). Runs in a venv holding the release build of `python/`.
"""
import argparse
import json
import shutil
import tempfile
import time

import numpy as np
import pyarrow as pa

import ailake
from memory import measured
from texmex import load, recall_at_10


def rows_table(base):
    n, d = base.shape
    vectors = pa.FixedSizeListArray.from_arrays(pa.array(base.reshape(-1), type=pa.float32()), d)
    return pa.table({"id": pa.array(np.arange(n, dtype=np.int64)), "embedding": vectors})


def write_table(lake, name, data, dim, metric, shard_rows, how):
    table = lake.create_table(name, pa.schema([("id", pa.int64())]), vector_columns={"embedding": (dim, metric)})
    index = "ivf_pq" if how == "ivf_pq" else "hnsw"

    def all_files():
        for start in range(0, data.num_rows, shard_rows):
            table.write(data.slice(start, shard_rows), index=index, deferred=how == "deferred")
        table.commit()

    n = data.num_rows
    _, seconds, rss_before, peak = measured(f"ailake (Python) {how}: {n} rows", all_files)
    out = {"path": how, "rows": n, "seconds": seconds, "rows_per_s": n / seconds,
           "rss_before_mib": rss_before, "peak_rss_mib": peak}
    if how == "deferred":
        t = time.perf_counter()
        table.wait_indexed()
        out["background_s"] = time.perf_counter() - t
        print(f"  its index builds landed {out['background_s']:.1f}s after commit", flush=True)
    return table, out


def main():
    p = argparse.ArgumentParser()
    for name in ["--data", "--out", "--efs"]:
        p.add_argument(name, required=True)
    p.add_argument("--metric", default="l2")
    p.add_argument("--shard-rows", type=int, default=5000)
    p.add_argument("--queries", type=int, default=200)
    a = p.parse_args()
    base, queries, gt = load(a.data)
    queries, gt = queries[: a.queries], gt[: a.queries]
    n, d = base.shape
    metric = "l2" if a.metric == "l2" else "ip"
    data = rows_table(base)

    root = tempfile.mkdtemp(prefix="ailake-python-bench-")
    try:
        lake = ailake.connect(f"{root}/warehouse")
        writes, tables = [], {}
        for how in ["hnsw", "ivf_pq", "deferred"]:
            tables[how], w = write_table(lake, f"bench.{how}", data, d, metric, a.shard_rows, how)
            print(f"  {w['rows_per_s']:.0f} rows/s", flush=True)
            writes.append(w)

        table = tables["hnsw"]
        sweep = []
        for ef in [int(x) for x in a.efs.split(",")]:
            table.search(queries[0], k=10, ef=ef, columns=["id"])  # warm
            lat, labels = [], []
            for q in queries:
                t = time.perf_counter()
                labels.append(table.search(q, k=10, ef=ef, columns=["id"]).column("id").to_pylist())
                lat.append(time.perf_counter() - t)
            labels = np.array([row + [-1] * (10 - len(row)) for row in labels])
            recall = recall_at_10(labels, gt)
            lat.sort()
            qps = len(queries) / sum(lat)
            p50, p99 = lat[len(lat) // 2] * 1e3, lat[len(lat) * 99 // 100] * 1e3
            t = time.perf_counter()
            batch = table.search_batch(queries, k=10, ef=ef, columns=["id"])
            batch_qps = len(queries) / (time.perf_counter() - t)
            batch_labels = batch.column("id").to_numpy().reshape(len(queries), 10)
            batch_recall = recall_at_10(batch_labels, gt)
            print(f"  ef {ef:>4}: recall@10 {recall:.4}  {qps:>7.0f} QPS  p50 {p50:.2f} ms p99 {p99:.2f} ms;"
                  f" search_batch {batch_qps:.0f} QPS (recall {batch_recall:.4})", flush=True)
            sweep.append({"ef": ef, "recall": recall, "qps": qps, "p50_ms": p50, "p99_ms": p99,
                          "batch_qps": batch_qps, "batch_recall": batch_recall})
    finally:
        shutil.rmtree(root, ignore_errors=True)
    out = {"system": "ailake-python", "version": ailake.__version__, "rows": int(n), "dim": int(d),
           "shard_rows": a.shard_rows, "shards": -(-n // a.shard_rows), "queries": len(queries),
           "writes": writes, "sweep": sweep}
    with open(a.out, "w") as f:
        json.dump(out, f, indent=2)


if __name__ == "__main__":
    main()
