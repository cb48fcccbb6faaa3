"""On-disk bytes of the same rows in AI-Lake and LanceDB, next to `peer_bench files`.

The rows: `id` (int64) and the base set's vectors, written as each system's users write them.
- AI-Lake (PyPI `ailake`): `write_batch` (HNSW per file), one call per --shard-rows rows plus a
  commit, with vectors stored as f32 (as ailake stores them) and as f16 (AI-Lake's default).
- LanceDB: `create_table` from an Arrow table (no index), then an IVF_PQ index (--nlist, --m)
  added to it.
Bytes are every file under the table's directory (data, index, metadata).
"""
import argparse
import json
import os
import shutil
import tempfile
from importlib.metadata import version

import ailake
import lancedb
from lancedb.index import IvfPq
import numpy as np
import pyarrow as pa

from texmex import load


def tree_bytes(path):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path) for f in files)


def ai_lake(root, base, metric, shard_rows, precision):
    path = f"{root}/ai-lake-{precision}"
    writer = ailake.TableWriter(path, dim=base.shape[1], metric=metric, precision=precision)
    for start in range(0, base.shape[0], shard_rows):
        end = min(base.shape[0], start + shard_rows)
        writer.write_batch([""] * (end - start), base[start:end], extra_columns={"id": list(range(start, end))})
    writer.commit()
    return tree_bytes(path)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--metric", default="l2")
    p.add_argument("--shard-rows", type=int, default=5000)
    p.add_argument("--nlist", type=int, required=True)
    p.add_argument("--m", type=int, required=True)
    a = p.parse_args()
    base, _, _ = load(a.data)
    n, d = base.shape
    root = tempfile.mkdtemp(prefix="disk-bytes-")
    out = {"rows": int(n), "dim": int(d), "systems": []}
    try:
        metric = "euclidean" if a.metric == "l2" else "dot_product"
        for precision in ["f32", "f16"]:
            b = ai_lake(root, base, metric, a.shard_rows, precision)
            print(f"AI-Lake write_batch ({precision}): {b / n:.0f} bytes/row", flush=True)
            out["systems"].append({"system": "ai-lake", "version": version("ailake"),
                                   "what": f"write_batch, HNSW per file, {precision} vectors", "bytes": b})
        db = lancedb.connect(f"{root}/lancedb")
        vectors = pa.FixedSizeListArray.from_arrays(pa.array(base.reshape(-1), type=pa.float32()), d)
        table = db.create_table("t", data=pa.table({"id": pa.array(np.arange(n, dtype=np.int64)), "vector": vectors}))
        b = tree_bytes(f"{root}/lancedb")
        print(f"LanceDB create_table: {b / n:.0f} bytes/row", flush=True)
        out["systems"].append({"system": "lancedb", "version": lancedb.__version__, "what": "create_table, no index",
                               "bytes": b})
        dist = "l2" if a.metric == "l2" else "dot"
        table.create_index("vector", config=IvfPq(distance_type=dist, num_partitions=a.nlist, num_sub_vectors=a.m))
        b = tree_bytes(f"{root}/lancedb")
        print(f"LanceDB + IVF_PQ: {b / n:.0f} bytes/row", flush=True)
        out["systems"].append({"system": "lancedb", "version": lancedb.__version__,
                               "what": f"create_table + IVF_PQ (nlist {a.nlist}, m {a.m})", "bytes": b})
    finally:
        shutil.rmtree(root, ignore_errors=True)
    with open(a.out, "w") as f:
        json.dump(out, f, indent=2)


if __name__ == "__main__":
    main()
