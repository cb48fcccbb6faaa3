//! The "table larger than memory" section (`--only bigtable`): `peer_bench bigtable` builds a
//! 10M × 128 table here (1M with `--quick`), compacts it in 1 GiB of row memory through two
//! kills and a resume, and searches it through its partition blocks.

use std::path::Path;

use anyhow::Result;
use serde_json::Value;

use super::{read_json, Run};

impl Run {
    /// The big table: build, kill, resume, search.
    pub(super) fn bigtable(&mut self) -> Result<Value> {
        let out = self.results.join("ailake-bigtable.json").display().to_string();
        let rows = if self.quick { "1000000" } else { "10000000" };
        let files = if self.quick { "20" } else { "100" };
        self.ours(
            "ailake: a table larger than memory",
            &[
                "bigtable",
                "--rows",
                rows,
                "--dim",
                "128",
                "--files",
                files,
                "--target-rows",
                "100000",
                "--kill-after",
                "10",
                "--queries",
                "100",
                "--out",
                &out,
            ],
        )?;
        let v = read_json(Path::new(&out))?;
        self.sections.push(section(&v));
        Ok(v)
    }
}

fn mib(bytes: &Value) -> f64 {
    bytes.as_f64().unwrap_or(f64::NAN) / (1u64 << 20) as f64
}

fn section(v: &Value) -> String {
    let f = |p: &Value, k: &str| p[k].as_f64().unwrap_or(f64::NAN);
    let c = &v["compaction"];
    let raw = mib(&v["raw_vector_bytes"]);
    let index = f(v, "index_bytes");
    let (inc, out, cold) = (&v["in_cache"], &v["out_of_cache"], &v["cold_simulated"]);
    let mut s = format!(
        "### {} × {} (streamed Gaussian mixture, L2), {} source files without index, compacted with `memory_bytes` {:.0} MiB\n\n",
        v["rows"], v["dim"], v["source_files"], mib(&v["memory_bytes"])
    );
    s += &format!(
        "Written in {:.0} s ({:.0} MiB of files; raw vectors {raw:.0} MiB). Compaction into files of {} rows, index `flat` + partition blocks:\n\n",
        f(v, "write_s"), mib(&v["source_bytes"]), v["target_rows"]
    );
    s += "| run | ends | seconds | peak RSS MiB | peak RSS / raw vectors |\n|---|---|---|---|---|\n";
    for (label, key, ends) in [
        ("1", "killed_reading", "killed half-way through the assign pass".to_string()),
        ("2", "killed_writing", format!("killed after {} output files", c["killed_writing"]["after_files"])),
        (
            "3",
            "resumed",
            format!(
                "resumed with {} files already written; committed",
                c["resumed"]["files_already_written"]
            ),
        ),
    ] {
        let r = &c[key];
        s += &format!(
            "| {label} | {ends} | {:.0} | {:.0} | {:.2} |\n",
            f(r, "seconds"),
            f(r, "peak_rss_mib"),
            f(r, "peak_rss_mib") / raw
        );
    }
    s += &format!(
        "\nAfter each kill the table was at its previous snapshot; after run 3 every id was read back exactly once. {} files, {} with blocks; index {:.0} MiB; disk after the second kill {:.0} MiB (source files, the killed run's spill directory, the output files so far).\n\n",
        c["files_added"], v["files_with_blocks"], index / (1u64 << 20) as f64, mib(&v["peak_disk_bytes"])
    );
    s += "| search | probes | recall@10 | p50 ms | p99 ms | bytes read / query | of the index |\n|---|---|---|---|---|---|---|\n";
    for (label, p) in [("in cache (best of the sweep)", inc), ("cache = 1/10 of the index, not warmed", out)]
    {
        s += &format!(
            "| {label} | {} | {:.3} | {:.2} | {:.2} | {:.0} | {:.3}% |\n",
            p["probes"],
            f(p, "recall"),
            f(p, "p50_ms"),
            f(p, "p99_ms"),
            f(p, "bytes_per_query"),
            100.0 * f(p, "bytes_per_query") / index
        );
    }
    s += &format!(
        "\nCold (simulated store, 30 ms first byte, 100 MB/s, fresh session per query, planning excluded): p50 {:.0} ms, {:.2} MB read, {} round trips. Search peak RSS {:.0} MiB (from {:.0}) against {raw:.0} MiB of raw vectors.\n\nProbe sweep (in cache): {}\n",
        f(cold, "p50_ms"), f(cold, "bytes") / 1e6, cold["round_trips"], f(v, "search_peak_rss_mib"), f(v, "search_rss_before_mib"),
        v["sweep"].as_array().map(|a| a.iter().map(|p| format!("{} probes → recall {:.3}, p50 {:.2} ms", p["probes"], f(p, "recall"), f(p, "p50_ms"))).collect::<Vec<_>>().join("; ")).unwrap_or_default()
    );
    s
}
