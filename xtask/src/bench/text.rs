//! The full-text section (`--only text`): BM25 top-10 through `SearchSession::text_search`
//! against LanceDB's native FTS on the same texts and queries (`peer_bench text`,
//! `benches/peers/lancedb_fts_bench.py`), on the real dataset's 30k Debian descriptions and a
//! synthetic 1M-document Zipfian corpus (`peer_bench text-data`); warm on a local disk, cold on
//! the simulated store (ours), hybrid against its two lists, index bytes per row. Rounds
//! interleave ours and LanceDB's. Then both on a real S3 protocol (moto behind a latency
//! proxy, `benches/peers/objstore_compare.py --mode text`), cold and warm.

use std::path::Path;

use anyhow::{Context, Result};
use serde_json::{json, Value};

use super::engine::{f, spread};
use super::{read_json, Dataset, Run};

impl Run {
    /// The text section over the dataset that has texts and a synthetic corpus.
    pub(super) fn text(&mut self, datasets: &[Dataset]) -> Result<Value> {
        let real = datasets
            .iter()
            .find(|d| d.dir.join("texts.tsv").exists())
            .context("no dataset with texts.tsv")?;
        let docs = if self.quick { "100000" } else { "1000000" };
        let zipf = self.results.join(format!("zipf-{docs}"));
        let zipf_s = zipf.display().to_string();
        self.steps.add(1);
        self.ours(
            &format!("synthetic corpus of {docs} documents"),
            &["text-data", "--out", &zipf_s, "--docs", docs],
        )?;
        let rounds = if self.quick { 1 } else { 2 };
        let real_dir = real.dir.display().to_string();
        let corpora: [(String, String, Option<String>, &str); 2] = [
            (real.name.clone(), real_dir.clone(), Some(real_dir.clone()), "5000"),
            (format!("zipf-{docs}"), zipf_s.clone(), None, "100000"),
        ];
        let mut points = Vec::new();
        for round in 0..rounds {
            for (name, dir, vectors, shard_rows) in &corpora {
                let texts = format!("{dir}/texts.tsv");
                let queries = format!("{dir}/queries.tsv");
                let ours = self.results.join(format!("text-{name}-ours-{round}.json")).display().to_string();
                let peer =
                    self.results.join(format!("text-{name}-lancedb-{round}.json")).display().to_string();
                let mut args = vec![
                    "text",
                    "--texts",
                    &texts,
                    "--queries",
                    &queries,
                    "--shard-rows",
                    shard_rows,
                    "--nq",
                    "300",
                    "--out",
                    &ours,
                ];
                if let Some(v) = vectors {
                    args.extend(["--vectors", v.as_str()]);
                }
                self.steps.add(2);
                self.ours(&format!("ailake text search on {name}, round {}", round + 1), &args)?;
                self.python(
                    &format!("LanceDB FTS on {name}, round {}", round + 1),
                    "lancedb_fts_bench.py",
                    &["--texts", &texts, "--queries", &queries, "--nq", "300", "--out", &peer],
                )?;
                points.push(json!({"corpus": name, "round": round, "ours": read_json(Path::new(&ours))?, "lancedb": read_json(Path::new(&peer))?}));
            }
        }
        self.sections.push(text_table(&points, &corpora.iter().map(|c| c.0.clone()).collect::<Vec<_>>()));

        // Both on a real S3 protocol: moto behind the latency proxy, cold and warm.
        let project_python = super::root().join(".venv/bin/python");
        let script = super::root().join("benches/peers/objstore_compare.py").display().to_string();
        let mut on_s3 = Vec::new();
        for (name, dir, _, shard_rows) in &corpora {
            let out = self.results.join(format!("text-{name}-s3.json")).display().to_string();
            let (texts, queries) = (format!("{dir}/texts.tsv"), format!("{dir}/queries.tsv"));
            let (peer_bench, python) = (self.peer_bench.clone(), self.python.clone());
            self.steps.add(1);
            self.steps.run(
                &format!("ailake vs LanceDB full-text on moto S3 + latency proxy, {name}"),
                &project_python.display().to_string(),
                &[
                    &script,
                    "--mode",
                    "text",
                    "--peer-bench",
                    &peer_bench,
                    "--bench-python",
                    &python,
                    "--texts",
                    &texts,
                    "--query-texts",
                    &queries,
                    "--shard-rows",
                    shard_rows,
                    "--latency-ms",
                    "30",
                    "--queries",
                    "100",
                    "--cold-queries",
                    "10",
                    "--out",
                    &out,
                ],
            )?;
            on_s3.push(json!({"corpus": name, "result": read_json(Path::new(&out))?}));
        }
        self.sections.push(s3_table(&on_s3));
        Ok(json!({"text": points, "s3": on_s3}))
    }
}

fn text_table(points: &[Value], corpora: &[String]) -> String {
    let mut s = String::from(
        "### BM25 top-10: ailake `text_search` vs LanceDB native FTS\n\n\
         Same texts and queries (300, top-10, one call at a time, after a warm-up pass), our `simple` \
         analyzer and LanceDB's tokenizer set to match (lowercase; no stemming, stop words or folding). \
         Ours: one table, a text index in each file (files of 5,000 rows for the real set, 100,000 for \
         the synthetic one), statistics summed over files. Cold: ours on the simulated store (30 ms \
         first byte, 100 MB/s), an empty cache per query, after planning. Ranges: the spread over \
         interleaved rounds.\n\n\
         | corpus | docs | ours warm p50 (ms) | LanceDB warm p50 (ms) | ours / LanceDB p50 | ours QPS | LanceDB QPS | ours cold p50 (ms) | cold bytes p50 | cold requests | index bytes / row (ours) | text column bytes / row | LanceDB index bytes / row |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for name in corpora {
        let ps: Vec<&Value> =
            points.iter().filter(|p| &p["corpus"].as_str().unwrap_or("").to_string() == name).collect();
        let o = |k: &str, sub: &str| ps.iter().map(|p| f(&p["ours"][k], sub)).collect::<Vec<_>>();
        let l = |k: &str, sub: &str| ps.iter().map(|p| f(&p["lancedb"][k], sub)).collect::<Vec<_>>();
        let ratio: Vec<f64> =
            o("warm", "p50_ms").iter().zip(l("warm", "p50_ms")).map(|(a, b)| a / b).collect();
        let first = ps.first().map(|p| p["ours"].clone()).unwrap_or(Value::Null);
        let docs = f(&first, "docs");
        let lance_bytes: Vec<f64> = ps.iter().map(|p| f(&p["lancedb"], "index_bytes") / docs).collect();
        s += &format!(
            "| {name} | {docs} | {} | {} | {} | {} | {} | {} | {} | {} | {:.1} | {:.1} | {} |\n",
            spread(&o("warm", "p50_ms"), 3),
            spread(&l("warm", "p50_ms"), 3),
            spread(&ratio, 2),
            spread(&o("warm", "qps"), 0),
            spread(&l("warm", "qps"), 0),
            spread(&o("cold", "p50_ms"), 1),
            spread(&ps.iter().map(|p| f(&p["ours"], "cold_bytes_p50")).collect::<Vec<_>>(), 0),
            spread(&ps.iter().map(|p| f(&p["ours"], "cold_requests_p50")).collect::<Vec<_>>(), 0),
            f(&first, "index_bytes_per_row"),
            f(&first, "text_column_bytes") / docs,
            spread(&lance_bytes, 1),
        );
    }
    s += "\n### Hybrid against its two lists (real set, warm, each list 40 deep)\n\n\
          | round | vector list p50 (ms) | text list p50 (ms) | hybrid p50 (ms) | hybrid / slower list |\n|---|---|---|---|---|\n";
    for p in points.iter().filter(|p| !p["ours"]["hybrid"].is_null()) {
        let h = &p["ours"]["hybrid"];
        let (v, t, b) = (f(&h["vector"], "p50_ms"), f(&h["text"], "p50_ms"), f(&h["hybrid"], "p50_ms"));
        s += &format!("| {} | {v:.3} | {t:.3} | {b:.3} | {:.2} |\n", f(p, "round") + 1.0, b / v.max(t));
    }
    s
}

fn s3_table(runs: &[Value]) -> String {
    let mut s = String::from(
        "### On S3: ailake `text_search` vs LanceDB FTS, cold and warm\n\n\
         Both tables on one moto S3 server, written straight to it, read through a proxy that adds \
         30 ms before every request (bandwidth not limited): the same texts and queries, top-10. Cold: \
         a new session (ours; planning not timed) or a new connection and `open_table` (LanceDB) per \
         query, 10 queries; warm: 100 queries after a warm-up pass.\n\n\
         | corpus | ours cold p50 (ms) | LanceDB cold p50 (ms) | ours warm p50 (ms) | LanceDB warm p50 (ms) | ours requests | LanceDB requests |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for r in runs {
        let (o, l) = (&r["result"]["ailake"], &r["result"]["lancedb"]);
        s += &format!(
            "| {} | {:.1} | {:.1} | {:.2} | {:.2} | {} | {} |\n",
            r["corpus"].as_str().unwrap_or(""),
            f(&o["cold"], "p50_ms"),
            f(&l["cold"], "p50_ms"),
            f(&o["warm"], "p50_ms"),
            f(&l["warm"], "p50_ms"),
            f(o, "proxy_requests"),
            f(l, "proxy_requests"),
        );
    }
    s
}
