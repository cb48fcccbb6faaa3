//! The "table at scale" section: a table written in random order as 1,000 files, queried
//! before and after `compact`, against the one-file floor and LanceDB's IVF_PQ table on the
//! same rows; its partition blocks against FAISS `IndexIVFRaBitQ` and LanceDB IVF_RQ with as
//! many lists.

use std::path::Path;

use anyhow::Result;
use serde_json::{json, Value};

use super::{read_json, Dataset, Run};

impl Run {
    /// The table at scale on `ds`: ours (1,000 files → compacted → one-file floor) and LanceDB.
    pub(super) fn scale(&mut self, ds: &Dataset) -> Result<Value> {
        let data = ds.dir.display().to_string();
        let (ours, lance) = (self.out(ds, "ailake-scale"), self.out(ds, "lancedb-scale"));
        let queries = if self.quick { "100" } else { "200" };
        self.ours(
            &format!("ailake table at scale on {}", ds.name),
            &[
                "scale",
                "--data",
                &data,
                "--metric",
                ds.metric,
                "--files",
                "1000",
                "--efs",
                "64,128,256",
                "--queries",
                queries,
                "--out",
                &ours,
            ],
        )?;
        let ours = read_json(Path::new(&ours))?;
        let (nlist, m) = (ours["ivf_nlist"].to_string(), ours["ivf_m"].to_string());
        self.python(
            &format!("LanceDB IVF_PQ (scale) on {}", ds.name),
            "lancedb_bench.py",
            &[
                "--data",
                &data,
                "--metric",
                ds.metric,
                "--nlist",
                &nlist,
                "--m",
                &m,
                "--nprobes",
                "8,16,32,64",
                "--refines",
                "4",
                "--queries",
                queries,
                "--out",
                &lance,
            ],
        )?;
        let lance = read_json(Path::new(&lance))?;
        // FAISS IVFRaBitQ with the table's partition count as its list count.
        let nlist = ours["blocks"]["partitions"].as_u64().unwrap_or(0).max(1).to_string();
        let faiss = self.out(ds, "faiss-ivfrabitq-scale");
        self.python(
            &format!("FAISS IVFRaBitQ (scale) on {}", ds.name),
            "faiss_rabitq_bench.py",
            &[
                "--data",
                &data,
                "--metric",
                ds.metric,
                "--nlist",
                &nlist,
                "--nprobes",
                "12,24,48,96,192,384",
                "--refines",
                "4,16,64",
                "--queries",
                queries,
                "--out",
                &faiss,
            ],
        )?;
        let faiss = read_json(Path::new(&faiss))?;
        // LanceDB IVF_RQ (1-bit RaBitQ codes, refined with exact vectors) with as many lists.
        let lance_rq = self.out(ds, "lancedb-ivfrq-scale");
        self.python(
            &format!("LanceDB IVF_RQ (scale) on {}", ds.name),
            "lancedb_bench.py",
            &[
                "--data",
                &data,
                "--metric",
                ds.metric,
                "--index",
                "rq",
                "--bits",
                "1",
                "--nlist",
                &nlist,
                "--nprobes",
                "12,24,48,96,192",
                "--refines",
                "4,16",
                "--queries",
                queries,
                "--out",
                &lance_rq,
            ],
        )?;
        let lance_rq = read_json(Path::new(&lance_rq))?;
        self.sections.push(scale_table(&ds.name, &ours, &lance));
        self.sections.push(blocks_table(&ds.name, &ours, &faiss, &lance_rq));
        Ok(json!({"ailake": ours, "lancedb": lance, "faiss_ivfrabitq": faiss, "lancedb_ivfrq": lance_rq}))
    }
}

fn row(label: &str, phase: &Value) -> String {
    let v = &phase["best"];
    let f = |k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    format!(
        "| {label} | {} | {} | {:.1} | {:.3} | {:.2} | {:.2} | {:.0} |\n",
        v["files"],
        v["ef"],
        f("shards_per_query"),
        f("recall"),
        f("p50_ms"),
        f("p99_ms"),
        f("qps")
    )
}

/// Markdown: the phases side by side, then compaction's cost.
pub(super) fn scale_table(name: &str, ours: &Value, lance: &Value) -> String {
    let f = |v: &Value, k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    let mut s = format!(
        "### The table at scale on `{name}` ({} rows written in random order as {} files; k=10, 1 query \
         per call; each row is the fastest of ef 64/128/256 with recall@10 ≥ 0.95, else the most accurate)\n\n\
         | table | files | ef | shards visited / query | recall@10 | p50 ms | p99 ms | QPS |\n\
         |---|---|---|---|---|---|---|---|\n",
        ours["rows"], ours["files"]
    );
    s += &row("ailake, as written", &ours["before"]);
    s += &row(&format!("ailake, after `compact` (target {} rows)", ours["target_rows"]), &ours["after"]);
    s += &row("ailake, one file (floor)", &ours["floor"]);
    // LanceDB: its fastest point with recall ≥ 0.95 (else its most accurate one).
    if let Some(p) = &fastest_at_recall(lance) {
        s += &format!(
            "| LanceDB {} IVF_PQ (nprobe {}, refine {}) | 1 table | — | — | {:.3} | {:.2} | {:.2} | {:.0} |\n",
            lance["version"].as_str().unwrap_or("?"),
            p["nprobe"],
            p["refine"],
            f(p, "recall"),
            f(p, "p50_ms"),
            f(p, "p99_ms"),
            f(p, "qps")
        );
    }
    let c = &ours["compaction"];
    let (after, floor) = (&ours["after"]["best"], &ours["floor"]["best"]);
    s += &format!(
        "\nCompaction: {} → {} files in {:.1} s ({:.0} rows/s, partitions trained and every new file's HNSW \
         built), peak RSS {:.0} MiB (from {:.0}). After it a query visits {:.1}% of the files the table \
         was written as, and its p50 is {:.2}× the one-file floor's.\n\n",
        ours["files"],
        c["files_added"],
        f(c, "seconds"),
        f(c, "rows_per_s"),
        f(c, "peak_rss_mib"),
        f(c, "rss_before_mib"),
        100.0 * f(after, "shards_per_query") / ours["files"].as_f64().unwrap_or(1.0),
        f(after, "p50_ms") / f(floor, "p50_ms"),
    );
    s
}

/// Markdown: the compacted table through its partition blocks against the whole-file path,
/// in cache, out of cache and cold on a simulated object store, with the goals.
pub(super) fn blocks_table(name: &str, ours: &Value, faiss: &Value, lance_rq: &Value) -> String {
    let b = &ours["blocks"];
    if b.is_null() {
        return String::new();
    }
    let f = |v: &Value, k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    let index = f(b, "index_bytes");
    let line = |label: &str, cache: &str, v: &Value| {
        format!(
            "| {label} | {cache} | {} | {:.3} | {:.3} | {:.3} | {:.0} | {:.3}% | {:.1} | {:.0} | {:.1} |\n",
            v["probes"].as_u64().map_or("—".to_string(), |p| p.to_string()),
            f(v, "recall"),
            f(v, "p50_ms"),
            f(v, "p99_ms"),
            f(v, "bytes_per_query"),
            100.0 * f(v, "bytes_per_query") / index,
            f(v, "blocks_per_query"),
            f(v, "refined_per_query"),
            f(v, "reranked_per_query"),
        )
    };
    let budget = format!("{:.1} MB (1/10 of the index)", f(b, "cache_budget") / 1e6);
    let mut s = format!(
        "#### `{name}`, compacted: partition blocks vs the whole-file path ({} of the files have blocks; \
         index {:.1} MB, raw vectors {:.1} MB)\n\n\
         | path | cache | probes | recall@10 | p50 ms | p99 ms | bytes read / query | of the index | blocks / query | rows refined (4-bit) / query | rows re-ranked / query |\n\
         |---|---|---|---|---|---|---|---|---|---|---|\n",
        b["files_with_blocks"],
        index / 1e6,
        f(b, "raw_vector_bytes") / 1e6
    );
    s += &line("blocks", "whole index", &b["in_cache"]);
    s += &line("blocks, 1-bit estimates only", "whole index", &b["in_cache_one_bit"]);
    s += &line("blocks", &budget, &b["out_of_cache"]["blocks"]);
    s += &line("blocks, 1-bit estimates only", &budget, &b["out_of_cache"]["one_bit"]);
    s += &line("whole file (HNSW)", &budget, &b["out_of_cache"]["whole_file"]);
    let fb = &faiss["best"];
    if !fb.is_null() {
        s += &format!(
            "| FAISS {} `IndexIVFRaBitQ` ({} lists, 4-bit queries, refine {}) | in memory (ids only) | {} | {:.3} | {:.3} | {:.3} | — | — | — | — | {} |\n",
            faiss["version"].as_str().unwrap_or("?"),
            faiss["nlist"],
            fb["refine"],
            fb["nprobe"],
            f(fb, "recall"),
            f(fb, "p50_ms"),
            f(fb, "p99_ms"),
            fb["refine"].as_u64().map_or("—".into(), |r| (r * 10).to_string()),
        );
    }
    let rq = fastest_at_recall(lance_rq);
    if let Some(p) = &rq {
        s += &format!(
            "| LanceDB {} IVF_RQ ({} lists, 1-bit codes, refine {}) | its own cache (local table) | {} | {:.3} | {:.3} | {:.3} | — | — | — | — | {} |\n",
            lance_rq["version"].as_str().unwrap_or("?"),
            lance_rq["nlist"],
            p["refine"],
            p["nprobe"],
            f(p, "recall"),
            f(p, "p50_ms"),
            f(p, "p99_ms"),
            p["refine"].as_u64().map_or("—".into(), |r| (r * 10).to_string()),
        );
    }
    let cold = &b["cold_simulated"];
    let (inc, out) = (f(&b["in_cache"], "p50_ms"), f(&b["out_of_cache"]["blocks"], "p50_ms"));
    let floor = f(&ours["floor"]["best"], "p50_ms");
    s += &format!(
        "\nCold, one query on a fresh session through a simulated store (30 ms to first byte, 100 MB/s), \
         planning excluded: p50 {:.1} ms, {:.2} MB read, {:.0} round trips (median of {}).\n\n\
         Goals: out of cache, bytes per query {:.3}% of the index (goal ≤ 1%) and p50 {:.2}× the in-cache \
         p50 (goal ≤ 3×); in cache, p50 {:.2}× the one-file floor (goal ≤ 2×) at recall {:.3} (goal ≥ 0.95). \
         Search peak RSS {:.0} MiB (from {:.0}) against {:.0} MiB of raw vectors.\n\n",
        f(cold, "p50_ms"),
        f(cold, "bytes") / 1e6,
        f(cold, "round_trips"),
        cold["queries"],
        100.0 * f(&b["out_of_cache"]["blocks"], "bytes_per_query") / index,
        out / inc,
        inc / floor,
        f(&b["in_cache"], "recall"),
        f(ours, "search_peak_rss_mib"),
        f(ours, "search_rss_before_mib"),
        f(b, "raw_vector_bytes") / 1048576.0,
    );
    if !fb.is_null() {
        s += &format!(
            "Against FAISS `IndexIVFRaBitQ` with as many lists as the table has partitions ({}; in memory, \
             one thread, ids only — our p50 includes planning and the Parquet row fetch): at the fastest \
             point of each with recall@10 ≥ 0.95, ours {:.3} ms at {} probes vs FAISS {:.3} ms at nprobe {} \
             ({:.2}×).\n\n",
            faiss["nlist"],
            inc,
            b["in_cache"]["probes"],
            f(fb, "p50_ms"),
            fb["nprobe"],
            inc / f(fb, "p50_ms"),
        );
    }
    if let Some(p) = &rq {
        s += &format!(
            "Against LanceDB IVF_RQ with as many lists (its own local table, one search call per query from \
             Python, ids only): at the fastest point of each with recall@10 ≥ 0.95 (else its most accurate), \
             ours {:.3} ms vs LanceDB {:.3} ms at nprobe {}, refine {} ({:.2}×, recall {:.3}).\n\n",
            inc,
            f(p, "p50_ms"),
            p["nprobe"],
            p["refine"],
            inc / f(p, "p50_ms"),
            f(p, "recall"),
        );
    }
    s
}

/// A peer's sweep point: the fastest with recall@10 ≥ 0.95, else the most accurate.
fn fastest_at_recall(peer: &Value) -> Option<Value> {
    let f = |v: &Value, k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    let sweep = peer["sweep"].as_array().cloned().unwrap_or_default();
    sweep
        .iter()
        .filter(|p| f(p, "recall") >= 0.95)
        .max_by(|a, b| f(a, "qps").total_cmp(&f(b, "qps")))
        .or_else(|| sweep.iter().max_by(|a, b| f(a, "recall").total_cmp(&f(b, "recall"))))
        .cloned()
}
