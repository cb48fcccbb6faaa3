//! Whole-table comparisons: ailake's `TableWriter` / `SearchSession` against AI-Lake (PyPI
//! `ailake`) on the same shards, with LanceDB's table write for scale.

use serde_json::Value;

use super::report::qps_at;
use crate::plot::Bar;

/// AI-Lake's name for our write path of the same kind.
fn peer_path(ours: &str) -> &str {
    match ours {
        "write_batch_deferred" => "write_batch_auto_deferred",
        other => other,
    }
}

fn what(path: &str) -> &'static str {
    match path {
        "write_batch" => "HNSW per file",
        "write_batch_ivf_pq" => "IVF-PQ per file",
        "write_batch_deferred" | "write_batch_auto_deferred" => "Parquet now, index in the background",
        _ => "",
    }
}

fn write_of<'a>(result: &'a Value, path: &str) -> Option<&'a Value> {
    result["writes"].as_array()?.iter().find(|w| w["path"].as_str() == Some(path))
}

fn f(v: &Value, k: &str) -> f64 {
    v[k].as_f64().unwrap_or(f64::NAN)
}

/// The write table: every path of both systems, ratios on our rows, LanceDB below.
pub(super) fn writes_table(name: &str, ours: &Value, peer: &Value, lance: Option<&Value>) -> String {
    let mut s = format!(
        "### Whole-table writes on `{name}` ({} × {}, {} files of {} rows, one commit)\n\n\
         Rows/s run from the first write call to the commit's return (vectors already in memory, \
         f32 on both sides); peak RSS is the writing process's during the write. AI-Lake {} is \
         driven from Python with numpy arrays; ailake from Rust. IVF-PQ codes are {} bytes per \
         vector here and {} in AI-Lake (its `estimate()`): finer codes cost more training per file.\n\n\
         | system | write path | index | rows/s | ailake / AI-Lake | index ready after commit | peak RSS, MiB |\n\
         |---|---|---|---|---|---|---|\n",
        ours["rows"],
        ours["dim"],
        ours["shards"],
        ours["shard_rows"],
        peer["version"].as_str().unwrap_or("?"),
        ours["ivf_pq_code_bytes"],
        peer["ivf_pq_code_bytes"],
    );
    let row = |system: &str, w: &Value, ratio: String| {
        let path = w["path"].as_str().unwrap_or("?");
        let bg = f(w, "background_s");
        let ready = if bg.is_nan() || bg < 0.5 { "at commit".to_string() } else { format!("+{bg:.1} s") };
        format!(
            "| {system} | `{path}` | {} | {:.0} | {ratio} | {ready} | {:.0} |\n",
            what(path),
            f(w, "rows_per_s"),
            f(w, "peak_rss_mib")
        )
    };
    for w in ours["writes"].as_array().into_iter().flatten() {
        let path = w["path"].as_str().unwrap_or("");
        let theirs = write_of(peer, peer_path(path));
        let ratio =
            theirs.map_or("—".into(), |p| format!("{:.2}×", f(w, "rows_per_s") / f(p, "rows_per_s")));
        s += &row("ailake", w, ratio);
        if let Some(p) = theirs {
            s += &row("AI-Lake", p, String::new());
        }
    }
    if let Some(l) = lance {
        let (rows, write_s, build_s) = (f(l, "rows"), f(l, "write_s"), f(l, "build_s"));
        s += &format!(
            "| LanceDB {} | `create_table` | none | {:.0} | | | |\n\
             | LanceDB | `create_table` + `create_index` | IVF_PQ over the table | {:.0} | | | {:.0} |\n",
            l["version"].as_str().unwrap_or("?"),
            rows / write_s,
            rows / (write_s + build_s),
            f(l, "build_peak_rss_mib")
        );
    }
    s
}

/// Bars for the write plot, in table order.
pub(super) fn write_bars(ours: &Value, peer: &Value, lance: Option<&Value>) -> Vec<Bar> {
    let mut bars = Vec::new();
    for (system, result) in [("ailake", ours), ("AI-Lake", peer)] {
        for w in result["writes"].as_array().into_iter().flatten() {
            let path = w["path"].as_str().unwrap_or("?");
            bars.push(Bar { label: format!("{system} {path}"), value: f(w, "rows_per_s") });
        }
    }
    if let Some(l) = lance {
        let (rows, write_s, build_s) = (f(l, "rows"), f(l, "write_s"), f(l, "build_s"));
        bars.push(Bar { label: "LanceDB create_table".into(), value: rows / write_s });
        bars.push(Bar { label: "LanceDB create_table + IVF_PQ".into(), value: rows / (write_s + build_s) });
    }
    bars
}

/// The search table: one call per query over the HNSW table, both systems, same ef sweep.
pub(super) fn search_table(name: &str, ours: &Value, peer: &Value) -> String {
    let mut s = format!(
        "### Whole-table search on `{name}` ({} files, HNSW per file, k=10, {} queries, one call per query)\n\n\
         ailake: `SearchSession::search` returning the `id` column; AI-Lake: `ailake.search(...).to_list()` \
         (file + row pointers, its cheapest mode; ids looked up after the clock stops). Latency \
         is per call; both use the machine's cores as they choose within a call.\n\n\
         | | ailake | AI-Lake | ailake / AI-Lake |\n|---|---|---|---|\n",
        ours["shards"], ours["queries"]
    );
    let cell = |v: &Value, r: Option<(f64, f64, u64)>| match r {
        Some((qps, rec, ef)) => {
            let p = v["sweep"].as_array().and_then(|a| a.iter().find(|p| p["ef"].as_u64() == Some(ef)));
            let (p50, p99) = p.map_or((f64::NAN, f64::NAN), |p| (f(p, "p50_ms"), f(p, "p99_ms")));
            format!("{qps:.0} QPS, p50 {p50:.2} / p99 {p99:.2} ms (recall {rec:.3}, ef {ef})")
        }
        None => "not reached".into(),
    };
    for target in [0.90, 0.95, 0.99] {
        let (o, p) = (qps_at(ours, target), qps_at(peer, target));
        let ratio = match (o, p) {
            (Some(o), Some(p)) => format!("{:.1}× the QPS", o.0 / p.0),
            _ => "—".into(),
        };
        s += &format!("| recall@10 ≥ {target:.2} | {} | {} | {ratio} |\n", cell(ours, o), cell(peer, p));
    }
    s += "\n| ef | ailake recall | ailake QPS | ailake p50 / p99 ms | AI-Lake recall | AI-Lake QPS | AI-Lake p50 / p99 ms |\n\
          |---|---|---|---|---|---|---|\n";
    let empty = Vec::new();
    let (so, sp) = (ours["sweep"].as_array().unwrap_or(&empty), peer["sweep"].as_array().unwrap_or(&empty));
    for (o, p) in so.iter().zip(sp) {
        s += &format!(
            "| {} | {:.4} | {:.0} | {:.2} / {:.2} | {:.4} | {:.0} | {:.2} / {:.2} |\n",
            o["ef"],
            f(o, "recall"),
            f(o, "qps"),
            f(o, "p50_ms"),
            f(o, "p99_ms"),
            f(p, "recall"),
            f(p, "qps"),
            f(p, "p50_ms"),
            f(p, "p99_ms")
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(system: &str, rows_per_s: [f64; 3], paths: [&str; 3], qps: f64) -> Value {
        let writes: Vec<Value> = paths
            .iter()
            .zip(rows_per_s)
            .map(|(p, r)| serde_json::json!({"path": p, "rows_per_s": r, "peak_rss_mib": 100.0, "background_s": 2.0}))
            .collect();
        serde_json::json!({"system": system, "version": "0.1.18", "rows": 10000, "dim": 8, "shards": 2,
            "shard_rows": 5000, "queries": 10, "writes": writes,
            "sweep": [{"ef": 16, "recall": 0.93, "qps": qps, "p50_ms": 1.0, "p99_ms": 2.0},
                      {"ef": 32, "recall": 0.97, "qps": qps / 2.0, "p50_ms": 2.0, "p99_ms": 3.0}]})
    }

    #[test]
    fn pairs_each_of_our_paths_with_the_peers_and_states_the_ratio() {
        let ours = result(
            "ailake",
            [10_000.0, 4_000.0, 50_000.0],
            ["write_batch", "write_batch_ivf_pq", "write_batch_deferred"],
            1000.0,
        );
        let peer = result(
            "ai-lake",
            [5_000.0, 4_000.0, 25_000.0],
            ["write_batch", "write_batch_ivf_pq", "write_batch_auto_deferred"],
            50.0,
        );
        let t = writes_table("d", &ours, &peer, None);
        assert!(t.contains("| ailake | `write_batch` | HNSW per file | 10000 | 2.00× |"), "{t}");
        assert!(t.contains("| ailake | `write_batch_deferred` | Parquet now, index in the background | 50000 | 2.00× | +2.0 s |"), "{t}");
        assert!(t.contains("| AI-Lake | `write_batch_auto_deferred` |"), "{t}");
        let s = search_table("d", &ours, &peer);
        assert!(s.contains("| recall@10 ≥ 0.90 | 1000 QPS"), "{s}");
        assert!(s.contains("20.0× the QPS"), "{s}");
        assert!(s.contains("| recall@10 ≥ 0.99 | not reached | not reached | — |"), "{s}");
        assert_eq!(write_bars(&ours, &peer, None).len(), 6);
    }
}
