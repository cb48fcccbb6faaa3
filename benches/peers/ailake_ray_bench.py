"""`cargo xtask bench --only ray`: ailake's Ray Data paths against one process, on one local
Ray cluster (`ray.init(num_cpus=2)`, loopback).

Ingest: the base vectors as blocks of --shard-rows rows, written (1) by one process,
`table.write(block)` per block and one `commit()`, (2) through `ailake.ray.Sink` with 1 write
task at a time, (3) with 2 at a time — each into a fresh table, HNSW files, rows/s up to the
commit, and the per-task seconds Ray's write tasks report (the per-worker cost: what more cores
would divide). Batch search: the queries (tiled to --search-queries) through
`table.search_batch` in one process, and through `ailake.ray.search` on 1 and 2 actors (one
CPU each), QPS up to the last result and recall@10 against the exact truth. Every mode runs
--rounds times, interleaved. Runs in the venv holding the release build of `python/` and Ray.
"""
import argparse
import json
import os
import tempfile
import time

import numpy as np
import pyarrow as pa

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # a loopback-only node
import ray  # noqa: E402

import ailake
import ailake.ray
from texmex import load, recall_at_10


def blocks(base, shard_rows):
    out = []
    for start in range(0, len(base), shard_rows):
        part = base[start:start + shard_rows]
        out.append(pa.table({
            "id": pa.array(np.arange(start, start + len(part), dtype=np.int64)),
            "embedding": pa.FixedSizeListArray.from_arrays(pa.array(part.reshape(-1), type=pa.float32()), part.shape[1]),
        }))
    return out


def fresh_table(root, name, dim, metric):
    lake = ailake.connect(f"{root}/{name}")
    return lake.create_table("bench.t", pa.schema([("id", pa.int64())]), vector_columns={"embedding": (dim, metric)})


def ingest(mode, parts, root, dim, metric, round_):
    table = fresh_table(root, f"{mode}-{round_}", dim, metric)
    rows = sum(p.num_rows for p in parts)
    t = time.perf_counter()
    task_seconds = []
    if mode == "process":
        for p in parts:
            start = time.perf_counter()
            table.write(p)
            task_seconds.append(time.perf_counter() - start)
        table.commit()
    else:
        workers = 1 if mode == "ray_1" else 2
        sink = ailake.ray.Sink(table, job_id=f"bench-{mode}-{round_}")
        ray.data.from_arrow(parts).write_datasink(sink, concurrency=workers)
        task_seconds = sink.task_seconds
        assert sink.result["rows"] == rows, sink.result
    seconds = time.perf_counter() - t
    assert table.refresh().count_rows() == rows
    return table, {"mode": mode, "round": round_, "rows": rows, "seconds": seconds, "rows_per_s": rows / seconds,
                   "task_p50_s": float(np.median(task_seconds)), "tasks": len(task_seconds)}


def search(mode, table, queries, truth, ef, round_):
    t = time.perf_counter()
    if mode == "search_batch":
        hits = table.search_batch(queries, k=10, ef=ef, columns=["id"])
        qi = hits.column("query_index").to_numpy()
    else:
        actors = 1 if mode == "ray_1" else 2
        qds = ray.data.from_arrow([
            pa.table({"qid": np.arange(lo, min(lo + 256, len(queries)), dtype=np.int64),
                      "vector": pa.FixedSizeListArray.from_arrays(pa.array(queries[lo:lo + 256].reshape(-1)), queries.shape[1])})
            for lo in range(0, len(queries), 256)
        ])
        ds = ailake.ray.search(qds, table, k=10, column="vector", concurrency=actors, num_cpus=1, ef=ef, columns=["id"])
        hits = pa.concat_tables(ray.get(ds.to_arrow_refs()))
        qi = hits.column("query_qid").to_numpy()
    seconds = time.perf_counter() - t
    ids = hits.column("id").to_numpy()
    found = [[] for _ in range(len(queries))]
    for q, i in zip(qi, ids):
        found[q].append(int(i))
    return {"mode": mode, "round": round_, "queries": len(queries), "seconds": seconds, "qps": len(queries) / seconds,
            "recall": recall_at_10(found, truth)}


def main():
    p = argparse.ArgumentParser()
    for name in ["--data", "--out"]:
        p.add_argument(name, required=True)
    p.add_argument("--metric", default="l2")
    p.add_argument("--shard-rows", type=int, default=5000)
    p.add_argument("--search-queries", type=int, default=2000)
    p.add_argument("--ef", type=int, default=64)
    p.add_argument("--rounds", type=int, default=2)
    a = p.parse_args()
    base, queries, truth = load(a.data)
    reps = -(-a.search_queries // len(queries))
    queries = np.tile(queries, (reps, 1))[:a.search_queries]
    truth = [truth[i % len(truth)] for i in range(len(queries))]
    metric = {"l2": "l2", "ip": "ip", "cosine": "cosine"}[a.metric]
    parts = blocks(base, a.shard_rows)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    points = []
    with tempfile.TemporaryDirectory() as root:
        table = None
        for r in range(a.rounds):
            for mode in ["process", "ray_1", "ray_2"]:
                t, point = ingest(mode, parts, root, base.shape[1], metric, r)
                table = table or t
                print(f"  ingest {mode:>8} round {r}: {point['rows_per_s']:.0f} rows/s, task p50 {point['task_p50_s']:.2f} s", flush=True)
                points.append(point)
        for r in range(a.rounds):
            for mode in ["search_batch", "ray_1", "ray_2"]:
                point = search(mode, table, queries, truth, a.ef, r)
                print(f"  search {mode:>12} round {r}: {point['qps']:.0f} QPS, recall {point['recall']:.4f}", flush=True)
                points.append(point)
    ray.shutdown()
    out = {"rows": len(base), "dim": int(base.shape[1]), "shard_rows": a.shard_rows, "ef": a.ef,
           "search_queries": len(queries), "rounds": a.rounds, "ray": ray.__version__, "points": points}
    with open(a.out, "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
