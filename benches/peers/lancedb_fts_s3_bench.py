"""LanceDB side of the text comparison on S3 (`objstore_compare.py --mode text`): the same
texts in a LanceDB table on the moto S3 server with its native FTS index (tokenizer set to
match our `simple` analyzer), then queried through the latency proxy's endpoint: cold (a new
connection and `open_table` per query; only the query is timed, as ailake's planning is not)
and warm (one table handle, after a warm-up pass). Top-10, `query_type="fts"`."""
import argparse
import json
import time

import lancedb
import numpy as np
import pyarrow as pa


def opts(endpoint):
    return {"endpoint": endpoint, "aws_access_key_id": "test", "aws_secret_access_key": "test",
            "region": "us-east-1", "allow_http": "true"}


def tsv(path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n").split("\t", 1)[1] for line in f]


def stats(xs):
    xs = sorted(xs)
    return {"p50_ms": xs[round((len(xs) - 1) * 0.5)], "p99_ms": xs[round((len(xs) - 1) * 0.99)],
            "qps": len(xs) / (sum(xs) / 1e3)}


def main():
    p = argparse.ArgumentParser()
    for name in ["--texts", "--queries", "--out", "--write-endpoint", "--read-endpoint", "--uri"]:
        p.add_argument(name, required=True)
    p.add_argument("--nq", type=int, default=100)
    p.add_argument("--cold-queries", type=int, default=10)
    a = p.parse_args()
    texts, queries = tsv(a.texts), tsv(a.queries)[: a.nq]
    db = lancedb.connect(a.uri, storage_options=opts(a.write_endpoint))
    t = time.perf_counter()
    table = db.create_table("t", pa.table({"id": np.arange(len(texts), dtype=np.int64), "text": texts}),
                            mode="overwrite")
    table.create_fts_index("text", use_tantivy=False, stem=False, remove_stop_words=False, ascii_folding=False,
                           lower_case=True)
    build_s = time.perf_counter() - t
    print(f"lancedb on S3: {len(texts)} documents written and indexed in {build_s:.1f}s", flush=True)

    def query(tbl, q):
        return tbl.search(q, query_type="fts").limit(10).select(["id", "_score"]).to_arrow()

    cold = []
    for q in queries[: a.cold_queries]:
        tbl = lancedb.connect(a.uri, storage_options=opts(a.read_endpoint)).open_table("t")
        t = time.perf_counter()
        query(tbl, q)
        cold.append((time.perf_counter() - t) * 1e3)
    tbl = lancedb.connect(a.uri, storage_options=opts(a.read_endpoint)).open_table("t")
    for q in queries:
        query(tbl, q)
    warm = []
    for q in queries:
        t = time.perf_counter()
        query(tbl, q)
        warm.append((time.perf_counter() - t) * 1e3)
    out = {"system": "lancedb", "version": lancedb.__version__, "docs": len(texts), "build_s": build_s,
           "cold": stats(cold), "warm": stats(warm)}
    print(json.dumps(out), flush=True)
    with open(a.out, "w") as f:
        json.dump(out, f, indent=2)


if __name__ == "__main__":
    main()
