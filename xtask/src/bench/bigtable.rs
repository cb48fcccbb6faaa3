//! The "table larger than memory" section (`--only bigtable`): `peer_bench bigtable` builds a
//! 10M × 128 table here (1M with `--quick`), compacts it in 1 GiB of row memory through a kill
//! at every phase and a resume, and searches it through its partition blocks; FAISS
//! `IndexIVFRaBitQ` with as many lists runs on the same rows (written out as TEXMEX files for
//! it, removed afterwards).

use std::path::Path;

use anyhow::Result;
use serde_json::Value;

use super::{read_json, Run};

impl Run {
    /// The big table: build, kill, resume, search; then FAISS on the same rows.
    pub(super) fn bigtable(&mut self) -> Result<Value> {
        let out = self.results.join("ailake-bigtable.json").display().to_string();
        let data = self.results.join("bigtable-data");
        let rows = if self.quick { "1000000" } else { "10000000" };
        let files = if self.quick { "20" } else { "100" };
        // The writing kill comes after this many of the ~8 (1M) or ~80 (10M) output files.
        let kill_after = if self.quick { "3" } else { "10" };
        let data_arg = data.display().to_string();
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
                kill_after,
                "--queries",
                "100",
                "--peer-data",
                &data_arg,
                "--out",
                &out,
            ],
        )?;
        let mut v = read_json(Path::new(&out))?;
        let nlist = v["partitions"].as_u64().unwrap_or(0).max(1).to_string();
        let faiss = self.results.join("faiss-ivfrabitq-bigtable.json").display().to_string();
        let peer = self.python(
            "FAISS IVFRaBitQ on the big table's rows",
            "faiss_rabitq_bench.py",
            &[
                "--data",
                &data_arg,
                "--nlist",
                &nlist,
                "--nprobes",
                "8,16,32,64,128,256",
                "--refines",
                "16,64",
                "--queries",
                "100",
                "--out",
                &faiss,
            ],
        );
        std::fs::remove_dir_all(&data).ok();
        peer?;
        v["faiss"] = read_json(Path::new(&faiss))?;
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
        "Written in {:.0} s ({:.0} MiB of files; raw vectors {raw:.0} MiB). Compaction into files of {} rows, index `flat` + partition blocks ({} partitions), one child process per run, each killed at a phase until the last:\n\n",
        f(v, "write_s"), mib(&v["source_bytes"]), v["target_rows"], v["partitions"]
    );
    s += "| run | ends | partitions trained after it | seconds | peak RSS MiB | peak RSS / raw vectors |\n|---|---|---|---|---|---|\n";
    for (i, r) in c["runs"].as_array().into_iter().flatten().enumerate() {
        let trained = match r["partitions_trained"].as_bool() {
            Some(true) => "yes",
            Some(false) => "no",
            None => "yes (committed)",
        };
        s += &format!(
            "| {} | {} | {trained} | {:.0} | {:.0} | {:.2} |\n",
            i + 1,
            r["ends"].as_str().unwrap_or("?"),
            f(r, "seconds"),
            f(r, "peak_rss_mib"),
            f(r, "peak_rss_mib") / raw
        );
    }
    s += &format!(
        "\nAfter each kill the table was at its previous snapshot; after the last run every id was read back exactly once. {} files, {} with blocks; index {:.0} MiB; disk at most {:.0} MiB after a kill (source files, a killed run's spill directory, the output files so far).\n\n",
        c["files_added"], v["files_with_blocks"], index / (1u64 << 20) as f64, mib(&v["peak_disk_bytes"])
    );
    s += "| search | probes | recall@10 | p50 ms | p99 ms | bytes read / query | of the index | rows re-ranked / query | peak RSS MiB (process) |\n|---|---|---|---|---|---|---|---|---|\n";
    for (label, p, rss) in [
        ("in cache (best of the sweep)", inc, f(v, "in_cache_peak_rss_mib")),
        ("cache = 1/10 of the index, not warmed (fresh process)", out, f(v, "out_of_cache_peak_rss_mib")),
    ] {
        s += &format!(
            "| {label} | {} | {:.3} | {:.2} | {:.2} | {:.0} | {:.3}% | {:.1} | {rss:.0} |\n",
            p["probes"],
            f(p, "recall"),
            f(p, "p50_ms"),
            f(p, "p99_ms"),
            f(p, "bytes_per_query"),
            100.0 * f(p, "bytes_per_query") / index,
            f(p, "reranked_per_query"),
        );
    }
    let fb = &v["faiss"]["best"];
    if !fb.is_null() {
        s += &format!(
            "| FAISS {} `IndexIVFRaBitQ` ({} lists, 4-bit queries, refine {}; in memory, ids only) | {} | {:.3} | {:.2} | {:.2} | — | — | {} | — |\n",
            v["faiss"]["version"].as_str().unwrap_or("?"),
            v["faiss"]["nlist"],
            fb["refine"],
            fb["nprobe"],
            f(fb, "recall"),
            f(fb, "p50_ms"),
            f(fb, "p99_ms"),
            fb["refine"].as_u64().map_or(0, |r| r * 10),
        );
    }
    s += &format!(
        "\nCold (simulated store, 30 ms first byte, 100 MB/s, fresh session per query, planning excluded): p50 {:.0} ms, {:.2} MB read, {} round trips. Search peak RSS in cache {:.0} MiB (from {:.0}; the cache then holds what the sweep read), out of cache {:.0} MiB (a fresh process, from {:.0}), against {raw:.0} MiB of raw vectors.\n\n",
        f(cold, "p50_ms"), f(cold, "bytes") / 1e6, cold["round_trips"],
        f(v, "in_cache_peak_rss_mib"), f(v, "in_cache_rss_before_mib"),
        f(v, "out_of_cache_peak_rss_mib"), f(v, "out_of_cache_rss_before_mib"),
    );
    if !fb.is_null() {
        s += &format!(
            "Against FAISS `IndexIVFRaBitQ` with as many lists as the table has partitions (built in {:.0} s; one thread; ids only — our p50 includes planning and the Parquet row fetch): at the fastest point of each with recall@10 ≥ 0.95 (else the most accurate), ours {:.2} ms at {} probes (recall {:.3}) vs FAISS {:.2} ms at nprobe {} (recall {:.3}): {:.2}×.\n\n",
            f(&v["faiss"], "build_s"), f(inc, "p50_ms"), inc["probes"], f(inc, "recall"), f(fb, "p50_ms"), fb["nprobe"], f(fb, "recall"),
            f(inc, "p50_ms") / f(fb, "p50_ms"),
        );
        let same: Vec<String> = v["faiss"]["sweep"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["nprobe"] == inc["probes"])
            .map(|p| {
                format!("refine {} → recall {:.3}, p50 {:.2} ms", p["refine"], f(p, "recall"), f(p, "p50_ms"))
            })
            .collect();
        if !same.is_empty() {
            s += &format!("FAISS at our probe count ({}): {}.\n\n", inc["probes"], same.join("; "));
        }
    }
    s += &format!(
        "Probe sweep (in cache): {}\n",
        v["sweep"]
            .as_array()
            .map(|a| a
                .iter()
                .map(|p| format!(
                    "{} probes → recall {:.3}, p50 {:.2} ms",
                    p["probes"],
                    f(p, "recall"),
                    f(p, "p50_ms")
                ))
                .collect::<Vec<_>>()
                .join("; "))
            .unwrap_or_default()
    );
    s
}
