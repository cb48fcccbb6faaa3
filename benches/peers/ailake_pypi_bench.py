"""AI-Lake (PyPI `ailake`) side of `cargo xtask bench` for whole tables: same files, same shard
size, same HNSW parameters, same recall@10 as `peer_bench table`.

Writes the base vectors into a fresh table per write path (`write_batch` = HNSW per file,
`write_batch_ivf_pq`, `write_batch_auto_deferred` = Parquet now, index in the background), one
`write_*` call per shard of --shard-rows rows plus one `commit()`, and reports rows/s up to the
commit's return and the peak RSS of that write. Then it queries the HNSW table one
`ailake.search(...)` call per query (pointer results: file + row, its cheapest mode) at each
ef_search, and maps each (file, row) to the row's `id` column after the clock stops.
Vectors are stored as f32 (AI-Lake's default is f16), as ailake stores them.
"""
import argparse
import json
import os
import shutil
import tempfile
import time
from importlib.metadata import version

import ailake
import numpy as np
import pyarrow.parquet as pq

from memory import measured
from texmex import load, recall_at_10

PATHS = ["write_batch", "write_batch_ivf_pq", "write_batch_auto_deferred"]


def write_table(path, base, dim, metric, shard_rows, how, m, efc):
    writer = ailake.TableWriter(path, dim=dim, metric=metric, precision="f32", hnsw_m=m,
                                hnsw_ef_construction=efc)
    write = getattr(writer, how)
    n = base.shape[0]

    def all_files():
        for start in range(0, n, shard_rows):
            end = min(n, start + shard_rows)
            write([""] * (end - start), base[start:end], extra_columns={"id": list(range(start, end))})
        writer.commit()

    _, seconds, rss_before, peak = measured(f"AI-Lake {how}: {n} rows", all_files)
    return {"path": how, "rows": int(n), "seconds": seconds, "rows_per_s": n / seconds,
            "rss_before_mib": rss_before, "peak_rss_mib": peak}


def wait_idle(limit_s=300.0):
    """Seconds until this process stops using CPU (AI-Lake's deferred index builds run on its
    own background threads, which would otherwise compete with the next measurement)."""
    t = time.perf_counter()
    while time.perf_counter() - t < limit_s:
        cpu = sum(os.times()[:2])
        time.sleep(0.5)
        if sum(os.times()[:2]) - cpu < 0.05:
            break
    return time.perf_counter() - t


def main():
    p = argparse.ArgumentParser()
    for name in ["--data", "--out", "--efs"]:
        p.add_argument(name, required=True)
    p.add_argument("--metric", default="l2")
    p.add_argument("--shard-rows", type=int, default=5000)
    p.add_argument("--m", type=int, default=16)
    p.add_argument("--efc", type=int, default=200)
    p.add_argument("--queries", type=int, default=200)
    a = p.parse_args()
    base, queries, gt = load(a.data)
    queries, gt = queries[: a.queries], gt[: a.queries]
    n, d = base.shape
    metric = "euclidean" if a.metric == "l2" else "dot_product"

    root = tempfile.mkdtemp(prefix="ai-lake-bench-")
    try:
        writes = []
        for how in PATHS:
            w = write_table(f"{root}/{how}", base, d, metric, a.shard_rows, how, a.m, a.efc)
            print(f"  {w['rows_per_s']:.0f} rows/s", flush=True)
            w["background_s"] = wait_idle()
            if w["background_s"] > 1.0:
                print(f"  its background work went on for {w['background_s']:.1f}s after commit", flush=True)
            writes.append(w)

        table = f"{root}/write_batch"
        ids = {}

        def row_id(hit):
            f = hit["file"]
            if f not in ids:
                ids[f] = pq.read_table(f.removeprefix("file://"), columns=["id"])["id"].to_pylist()
            return ids[f][hit["row_id"]]

        sweep = []
        for ef in [int(x) for x in a.efs.split(",")]:
            ailake.search(table, queries[0], top_k=10, ef_search=ef).to_list()  # warm
            lat, hits = [], []
            for q in queries:
                t = time.perf_counter()
                hits.append(ailake.search(table, q, top_k=10, ef_search=ef).to_list())
                lat.append(time.perf_counter() - t)
            labels = np.array([[row_id(h) for h in r] + [-1] * (10 - len(r)) for r in hits])
            recall = recall_at_10(labels, gt)
            lat.sort()
            qps = len(queries) / sum(lat)
            p50, p99 = lat[len(lat) // 2] * 1e3, lat[len(lat) * 99 // 100] * 1e3
            print(f"  ef {ef:>4}: recall@10 {recall:.4}  {qps:>7.0f} QPS  p50 {p50:.2f} ms p99 {p99:.2f} ms",
                  flush=True)
            sweep.append({"ef": ef, "recall": recall, "qps": qps, "p50_ms": p50, "p99_ms": p99})
    finally:
        shutil.rmtree(root, ignore_errors=True)
    # Bytes per vector of AI-Lake's IVF-PQ codes for one file, from its own storage estimate.
    ivf = [e for e in ailake.estimate(rows=a.shard_rows, dim=d) if "IVF-PQ" in e["mode"]]
    code_bytes = ivf[0]["index_bytes"] / a.shard_rows if ivf else None
    out = {"system": "ai-lake", "version": version("ailake"), "rows": int(n), "dim": int(d),
           "ivf_pq_code_bytes": code_bytes,
           "shard_rows": a.shard_rows, "shards": -(-n // a.shard_rows), "m": a.m, "ef_construction": a.efc,
           "queries": len(queries), "writes": writes, "sweep": sweep}
    with open(a.out, "w") as f:
        json.dump(out, f, indent=2)


if __name__ == "__main__":
    main()
