"""The real-protocol half of `cargo xtask bench --only objstore` (and, `--mode text`, of
`--only text`): ailake and LanceDB on the same S3 store — a moto server on loopback, read
through a proxy that adds the same first-byte latency to every request for both. Each writes
the same rows straight to moto, then is measured through the proxy: cold queries (empty
caches, planning not timed) and warm ones — vector search (`--data`), or full-text search
(`--texts`, `--query-texts`, `--shard-rows`: ailake's `text_search` against LanceDB's native
FTS). Runs in the project venv (moto); LanceDB runs in .venv-bench."""
import argparse
import json
import logging
import subprocess
import sys

import boto3
from moto.server import ThreadedMotoServer

from latency_proxy import LatencyProxy


def main():
    p = argparse.ArgumentParser()
    for name in ["--peer-bench", "--bench-python", "--out"]:
        p.add_argument(name, required=True)
    p.add_argument("--mode", choices=["vectors", "text"], default="vectors")
    for name in ["--data", "--texts", "--query-texts"]:
        p.add_argument(name)
    p.add_argument("--shard-rows", default="100000")
    p.add_argument("--metric", default="l2")
    p.add_argument("--files", default="10")
    p.add_argument("--latency-ms", type=float, default=30.0)
    p.add_argument("--queries", default="50")
    p.add_argument("--cold-queries", default="10")
    a = p.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request log lines
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        moto = f"http://{host}:{port}"
        boto3.client("s3", endpoint_url=moto, region_name="us-east-1", aws_access_key_id="test",
                     aws_secret_access_key="test").create_bucket(Bucket="bench")
        proxy = LatencyProxy(host, port, a.latency_ms / 1e3).start()
        through = f"http://127.0.0.1:{proxy.port}"
        endpoints = ["--cold-queries", a.cold_queries, "--write-endpoint", moto, "--read-endpoint", through]
        if a.mode == "vectors":
            common = ["--data", a.data, "--metric", a.metric, "--queries", a.queries, *endpoints]
            ours = ["objstore-s3", "--files", a.files, "--ef", "64", *common]
            lance = ["lancedb_s3_bench.py", *common]
        else:
            common = ["--texts", a.texts, "--queries", a.query_texts, "--nq", a.queries, *endpoints]
            ours = ["text-s3", "--shard-rows", a.shard_rows, *common]
            lance = ["lancedb_fts_s3_bench.py", *common]
        ours_out, lance_out = a.out + ".ailake", a.out + ".lancedb"
        before = proxy.requests
        subprocess.run([a.peer_bench, *ours, "--uri", "s3://bench/ailake", "--out", ours_out], check=True)
        ours_requests = proxy.requests - before
        before = proxy.requests
        subprocess.run([a.bench_python, *lance, "--uri", "s3://bench/lance", "--out", lance_out],
                       check=True, cwd=sys.path[0])
        lance_requests = proxy.requests - before
        proxy.stop()
    finally:
        server.stop()
    ours, lance = json.load(open(ours_out)), json.load(open(lance_out))
    ours["proxy_requests"], lance["proxy_requests"] = ours_requests, lance_requests
    out = {"latency_ms": a.latency_ms, "ailake": ours, "lancedb": lance}
    print(json.dumps(out), flush=True)
    with open(a.out, "w") as f:
        json.dump(out, f, indent=2)


if __name__ == "__main__":
    main()
