//! The object-storage section (`--only objstore`): `peer_bench objstore` — the read path of
//! 10 / 100 / 1,000-file tables (and the 1,000-file one compacted) through a simulated
//! S3-like store: planning, cold and warm queries, requests, bytes and sequential round trips
//! per query, and the same warm queries on local disk.

use std::path::Path;

use anyhow::Result;
use serde_json::Value;

use super::{read_json, Dataset, Run};

impl Run {
    /// Object storage on `ds`.
    pub(super) fn objstore(&mut self, ds: &Dataset) -> Result<Value> {
        let data = ds.dir.display().to_string();
        let out = self.out(ds, "ailake-objstore");
        let (queries, cold) = if self.quick { ("20", "5") } else { ("50", "10") };
        self.ours(
            &format!("ailake on a simulated object store, {}", ds.name),
            &[
                "objstore",
                "--data",
                &data,
                "--metric",
                ds.metric,
                "--files",
                "10,100,1000",
                "--queries",
                queries,
                "--cold-queries",
                cold,
                "--ef",
                "64",
                "--latency-ms",
                "30",
                "--mbps",
                "100",
                "--out",
                &out,
            ],
        )?;
        let result = read_json(Path::new(&out))?;
        self.sections.push(report(&ds.name, &result));

        // The same question over a real S3 protocol, against LanceDB on the same store.
        let project_python = super::root().join(".venv/bin/python");
        if !project_python.exists() {
            anyhow::bail!(
                "{} is missing: run `bash .ci/run` once to create the project venv (moto)",
                project_python.display()
            );
        }
        let compare = self.out(ds, "objstore-compare");
        let script = super::root().join("benches/peers/objstore_compare.py").display().to_string();
        let peer_bench = self.peer_bench.clone();
        let bench_python = self.python.clone();
        self.steps.add(1);
        self.steps.run(
            &format!("ailake vs LanceDB on moto S3 + latency proxy, {}", ds.name),
            &project_python.display().to_string(),
            &[
                &script,
                "--peer-bench",
                &peer_bench,
                "--bench-python",
                &bench_python,
                "--data",
                &data,
                "--metric",
                ds.metric,
                "--files",
                "10",
                "--latency-ms",
                "30",
                "--queries",
                queries,
                "--cold-queries",
                cold,
                "--out",
                &compare,
            ],
        )?;
        let compare = read_json(Path::new(&compare))?;
        self.sections.push(compare_report(&compare));
        Ok(serde_json::json!({"simulated": result, "s3": compare}))
    }
}

fn num(v: &Value, path: &[&str]) -> f64 {
    path.iter().fold(v, |v, k| &v[*k]).as_f64().unwrap_or(f64::NAN)
}

fn report(dataset: &str, r: &Value) -> String {
    let mut s = format!(
        "## Object storage on {dataset}\n\nEvery request to the store waits {:.0} ms to the first byte and transfers at {:.0} MB/s \
         (a `SimulatedStore` over the local files: S3 in-region, roughly). Tables of the same {} rows written in random order as \
         10, 100 and 1,000 HNSW files, and the 1,000-file table compacted. k = 10, ef {}, cold shards loaded {} at a time. \
         *Planning*: loading the table and opening a session (metadata, manifests, Puffin summaries). *Cold*: an empty cache \
         and a new session per query (planning not timed). *Warm*: one session after a warm-up pass. Requests, bytes and \
         sequential round trips (times the store went from idle to busy) are per query; *local* is the same warm query \
         on local disk.\n\n\
         | table | files | planning ms (requests) | cold p50 / p99 ms | cold requests | cold MB | cold round trips | warm p50 / p99 ms | warm requests | local warm p50 ms | warm / local | recall@10 |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|\n",
        num(r, &["latency_ms"]),
        num(r, &["mbps"]),
        r["rows"],
        r["ef"],
        r["io_concurrency"]
    );
    for t in r["tables"].as_array().into_iter().flatten() {
        s += &format!(
            "| {} | {} | {:.0} ({}) | {:.0} / {:.0} | {:.1} | {:.1} | {:.1} | {:.2} / {:.2} | {:.1} | {:.2} | {:.2}× | {:.3} |\n",
            t["table"].as_str().unwrap_or("?"),
            t["files"],
            num(t, &["planning", "ms"]),
            t["planning"]["requests"],
            num(t, &["cold", "p50_ms"]),
            num(t, &["cold", "p99_ms"]),
            num(t, &["cold", "requests"]),
            num(t, &["cold", "bytes"]) / 1e6,
            num(t, &["cold", "round_trips"]),
            num(t, &["warm", "p50_ms"]),
            num(t, &["warm", "p99_ms"]),
            num(t, &["warm", "requests"]),
            num(t, &["local_warm", "p50_ms"]),
            num(t, &["warm", "p50_ms"]) / num(t, &["local_warm", "p50_ms"]),
            num(t, &["recall"]),
        );
    }
    s
}

fn compare_report(r: &Value) -> String {
    let row = |label: &str, v: &Value, point: String| {
        format!(
            "| {label} | {point} | {:.3} | {:.0} / {:.0} | {:.2} / {:.2} | {} |\n",
            num(v, &["recall"]),
            num(v, &["cold", "p50_ms"]),
            num(v, &["cold", "p99_ms"]),
            num(v, &["warm", "p50_ms"]),
            num(v, &["warm", "p99_ms"]),
            v["proxy_requests"]
        )
    };
    let (ours, lance) = (&r["ailake"], &r["lancedb"]);
    let mut s = format!(
        "### The same rows on a real S3 protocol: ailake vs LanceDB {}\n\nA moto S3 server on loopback behind a proxy that delays every \
         request {:.0} ms (both systems read through it; each wrote its table straight to moto). ailake: {} HNSW files, ef {}; LanceDB: \
         one table with IVF_PQ (nlist √n, m = dim/4, built on S3), nprobe {} refine {}. Cold: empty caches and a new session / \
         connection per query, the query alone timed (ailake's planning: {:.0} ms). Requests: all reads through the proxy \
         over the run (cold + warm-up + warm).\n\n\
         | system | point | recall@10 | cold p50 / p99 ms | warm p50 / p99 ms | requests in the run |\n|---|---|---|---|---|---|\n",
        lance["version"].as_str().unwrap_or(""),
        num(r, &["latency_ms"]),
        ours["files"],
        ours["ef"],
        lance["nprobe"],
        lance["refine"],
        num(ours, &["planning_ms"])
    );
    s += &row("ailake", ours, format!("ef {}", ours["ef"]));
    s += &row("LanceDB", lance, format!("nprobe {} refine {}", lance["nprobe"], lance["refine"]));
    s += &format!(
        "\nailake / LanceDB cold latency: {:.2}×; warm: {:.3}×.\n",
        num(ours, &["cold", "p50_ms"]) / num(lance, &["cold", "p50_ms"]),
        num(ours, &["warm", "p50_ms"]) / num(lance, &["warm", "p50_ms"])
    );
    s
}
