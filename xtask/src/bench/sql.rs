//! The SQL section (`--only sql`): `vector_search` through DataFusion (1 and 2 target
//! partitions) and through a Ballista cluster of 2 executors on loopback, against the direct
//! `SearchSession` on the same table, the same queries, interleaved rounds
//! (`peer_bench sql`), plus the on-paper scaling table for a real cluster.

use std::path::Path;

use anyhow::Result;
use serde_json::{json, Value};

use super::engine::{f, spread};
use super::{read_json, Dataset, Run, SHARD_ROWS};

const MODES: [(&str, &str); 5] = [
    ("session", "`SearchSession::search`"),
    ("sql_prepared", "SQL, DataFusion, prepared (`$1`), 1 target partition"),
    ("sql_tp1", "SQL, DataFusion, 1 target partition"),
    ("sql_tp2", "SQL, DataFusion, 2 target partitions"),
    ("ballista", "SQL, Ballista, 2 executors (loopback)"),
];

impl Run {
    /// The SQL layer's figures on `ds`.
    pub(super) fn sql(&mut self, ds: &Dataset) -> Result<Value> {
        let data = ds.dir.display().to_string();
        let rounds = if self.quick { "2" } else { "3" };
        let queries = if self.quick { "200" } else { "500" };
        self.steps.add(1);
        let out = self.out(ds, "sql");
        self.ours(
            &format!("ailake SQL vector_search on {}", ds.name),
            &[
                "sql",
                "--data",
                &data,
                "--metric",
                ds.metric,
                "--shard-rows",
                SHARD_ROWS,
                "--efs",
                "16,64",
                "--queries",
                queries,
                "--ballista-queries",
                "60",
                "--rounds",
                rounds,
                "--out",
                &out,
            ],
        )?;
        let v = read_json(Path::new(&out))?;
        self.sections.push(sql_table(&ds.name, &v));
        Ok(json!({"sql": v}))
    }
}

/// Per mode and `ef`: the values of `key` over rounds, and each round's ratio to the session.
fn by_round(points: &[Value], mode: &str, ef: u64, key: &str) -> (Vec<f64>, Vec<f64>) {
    let mut values = Vec::new();
    let mut ratios = Vec::new();
    for p in points.iter().filter(|p| p["mode"] == mode && p["ef"].as_u64() == Some(ef)) {
        let base = points
            .iter()
            .find(|b| b["mode"] == "session" && b["ef"] == p["ef"] && b["round"] == p["round"])
            .map_or(f64::NAN, |b| f(b, key));
        values.push(f(p, key));
        ratios.push(f(p, key) / base);
    }
    (values, ratios)
}

fn sql_table(name: &str, v: &Value) -> String {
    let points = v["points"].as_array().cloned().unwrap_or_default();
    let mut efs: Vec<u64> = points.iter().filter_map(|p| p["ef"].as_u64()).collect();
    efs.sort_unstable();
    efs.dedup();
    let mut s = format!(
        "### SQL `vector_search` on `{name}` ({} rows in {} files of {} rows, HNSW, k=10, {} queries ({} on Ballista), {} interleaved rounds)\n\n\
         One query at a time, the SQL text parsed and planned per query: \
         `SELECT id, _distance FROM vector_search('t', 'embedding', [...], 10, 'ef=E') ORDER BY _distance`. \
         Every SQL answer is checked against the session's (same distances): mismatches are counted. \
         Ratios are per round against the session of the same round. `parse + plan`: the p50 of \
         `ctx.sql(..)` alone (SQL parsing, logical planning and optimization); the rest of a query is \
         physical planning and execution. The prepared path runs \
         `vector_search('t', 'embedding', $1, 10, 'ef=E')` prepared once (`PreparedSearch`): per query only \
         the vector is bound, then physical planning and execution; `p50 − session` is per round (goal: \
         ≤ 0.3 ms). Ballista's recall is over its own (fewer) queries.\n\n\
         | ef | path | recall@10 | p50 (ms) | p50 − session (ms) | of which parse + plan (ms) | p99 (ms) | QPS | p50 / session | QPS / session | mismatches |\n|---|---|---|---|---|---|---|---|---|---|---|\n",
        v["rows"], v["shards"], v["shard_rows"], v["queries"], v["ballista_queries"], v["rounds"]
    );
    for ef in &efs {
        for (mode, label) in MODES {
            let (p50, p50_ratio) = by_round(&points, mode, *ef, "p50_ms");
            let (p99, _) = by_round(&points, mode, *ef, "p99_ms");
            let (qps, qps_ratio) = by_round(&points, mode, *ef, "qps");
            let (recall, _) = by_round(&points, mode, *ef, "recall");
            let (mism, _) = by_round(&points, mode, *ef, "mismatches");
            let (planning, _) = by_round(&points, mode, *ef, "sql_planning_p50_ms");
            let (session_p50, _) = by_round(&points, "session", *ef, "p50_ms");
            let above: Vec<f64> = p50.iter().zip(&session_p50).map(|(a, b)| a - b).collect();
            let above = if mode == "session" { "—".to_string() } else { spread(&above, 3) };
            let planning = if matches!(mode, "session" | "sql_prepared") {
                "—".to_string()
            } else {
                spread(&planning, 3)
            };
            if p50.is_empty() {
                continue;
            }
            let ratio =
                |r: &[f64]| if mode == "session" { "1".to_string() } else { format!("{}×", spread(r, 2)) };
            s += &format!(
                "| {ef} | {label} | {} | {} | {above} | {planning} | {} | {} | {} | {} | {} |\n",
                spread(&recall, 4),
                spread(&p50, 3),
                spread(&p99, 3),
                spread(&qps, 0),
                ratio(&p50_ratio),
                ratio(&qps_ratio),
                mism.iter().sum::<f64>()
            );
        }
    }
    let node = v["search_node_bytes"].as_u64().unwrap_or(0);
    s += &format!(
        "\n#### On paper: the same search on a real cluster (not measured)\n\n\
         What a query ships, from the figures above: the search node as the codec encodes it is {node} bytes \
         (the query vector as JSON text dominates it), sent once per task (one task per group of shards); each \
         task returns at most k rows of `id` + `_distance` (10 × 12 bytes plus Arrow IPC framing, ≈ 1 KB). \
         Each executor keeps the indexes of the shards it searched in its shard cache, so a warm query reads \
         nothing from storage. With S shards of R rows, E executors and a query probing P of the table's \
         partitions:\n\n\
         | | per query |\n|---|---|\n\
         | shards searched | those holding the P probed partitions, ≈ S × P / partitions (all S without partitions) |\n\
         | shards per executor | ≈ that / E (groups are dealt round-robin in visit order) |\n\
         | bytes shipped | ≈ tasks × ({node} B plan + ≈ 1 KB of results), independent of R |\n\
         | bytes read from storage (warm) | 0; cold: each shard's section once per executor |\n\
         | latency floor | the scheduler's job round trip (the Ballista rows above, on loopback) + the slowest task |\n\n\
         So the cluster pays off once a query's shards take longer to search than a job costs to schedule: \
         many shards per query (unpartitioned tables, high `probes`, filters), or throughput across many \
         concurrent queries that one machine's cores cannot serve. For one small table on one machine the \
         in-process session is the faster path, as the rows above show.\n"
    );
    s
}
