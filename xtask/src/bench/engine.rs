//! The engine section (`--only engine`): the levers of the search engine, each against its
//! reference, in interleaved rounds so the spread over rounds shows this VM's noise.
//! - HNSW walks: the SQ8 walk (default) and the exact `f32` walk over the same graph, against
//!   hnswlib, one process each per round (build + 1-thread `ef` sweep);
//! - IVF-PQ against FAISS (same nlist / m), both trained afresh each round;
//! - the search session over a one-file table against its bare index, and `search_batch` at
//!   1 and 2 threads (`peer_bench session`);
//! - where a shard's vectors live: the section's `f32` copy or the file's Parquet column
//!   (`peer_bench files`), bytes per row next to AI-Lake's and LanceDB's for the same rows
//!   (`disk_bytes.py`).

use std::path::Path;

use anyhow::Result;
use serde_json::{json, Value};

use super::report::qps_at;
use super::{read_json, Dataset, Run, EFS};

impl Run {
    /// Every engine figure on `ds`.
    pub(super) fn engine(&mut self, ds: &Dataset) -> Result<Value> {
        let data = ds.dir.display().to_string();
        let rounds = if self.quick { 2 } else { 3 };
        let rounds_s = rounds.to_string();
        self.steps.add(5 * rounds as u64 + 3);
        let mut walks = Vec::new();
        for round in 1..=rounds {
            let shared =
                ["--data", &data, "--metric", ds.metric, "--threads", "2", "--efc", "200", "--efs", EFS];
            let mut one = json!({});
            for traversal in ["sq8", "exact"] {
                let out = self.out(ds, &format!("engine-hnsw-{traversal}-{round}"));
                self.ours(
                    &format!("ailake HNSW ({traversal} walk) on {}, round {round}", ds.name),
                    &[&["hnsw"], &shared[..], &["--m", "16", "--traversal", traversal, "--out", &out]]
                        .concat(),
                )?;
                one[traversal] = read_json(Path::new(&out))?;
            }
            let out = self.out(ds, &format!("engine-hnswlib-{round}"));
            self.python(
                &format!("hnswlib on {}, round {round}", ds.name),
                "hnswlib_bench.py",
                &[&shared[..], &["--m", "16", "--out", &out]].concat(),
            )?;
            one["hnswlib"] = read_json(Path::new(&out))?;
            walks.push(one);
        }
        let mut ivf = Vec::new();
        for round in 1..=rounds {
            let sweep = ["--nprobes", super::NPROBES, "--refines", super::REFINES, "--metric", ds.metric];
            let (ours, faiss) = (
                self.out(ds, &format!("engine-ivfpq-{round}")),
                self.out(ds, &format!("engine-faiss-{round}")),
            );
            self.ours(
                &format!("ailake IVF-PQ on {}, round {round}", ds.name),
                &[&["ivfpq", "--data", &data, "--out", &ours, "--threads", "2"], &sweep[..]].concat(),
            )?;
            let ours = read_json(Path::new(&ours))?;
            let (nlist, m) = (ours["nlist"].to_string(), ours["m"].to_string());
            self.python(
                &format!("FAISS IVF-PQ on {}, round {round}", ds.name),
                "faiss_bench.py",
                &[
                    &["--data", &data, "--nlist", &nlist, "--m", &m],
                    &sweep[..],
                    &["--out", &faiss, "--threads", "2"],
                ]
                .concat(),
            )?;
            ivf.push(json!({"ailake": ours, "faiss": read_json(Path::new(&faiss))?}));
        }
        let session = self.out(ds, "engine-session");
        self.ours(
            &format!("ailake session overhead on {}", ds.name),
            &[
                "session",
                "--data",
                &data,
                "--metric",
                ds.metric,
                "--efs",
                "16,24,64,96",
                "--rounds",
                &rounds_s,
                "--out",
                &session,
            ],
        )?;
        let session = read_json(Path::new(&session))?;
        let files = self.out(ds, "engine-files");
        self.ours(
            &format!("ailake vector placement on {}", ds.name),
            &[
                "files",
                "--data",
                &data,
                "--metric",
                ds.metric,
                "--shard-rows",
                super::SHARD_ROWS,
                "--efs",
                "16,24,32,64",
                "--rounds",
                &rounds_s,
                "--out",
                &files,
            ],
        )?;
        let files = read_json(Path::new(&files))?;
        let disk = self.out(ds, "engine-disk-bytes");
        let (nlist, m) = (files["ivf_nlist"].to_string(), files["ivf_m"].to_string());
        self.python(
            &format!("AI-Lake and LanceDB bytes on disk, {}", ds.name),
            "disk_bytes.py",
            &[
                "--data",
                &data,
                "--metric",
                ds.metric,
                "--shard-rows",
                super::SHARD_ROWS,
                "--nlist",
                &nlist,
                "--m",
                &m,
                "--out",
                &disk,
            ],
        )?;
        let disk = read_json(Path::new(&disk))?;
        self.sections.push(walk_table(&ds.name, &walks));
        self.sections.push(ivf_table(&ds.name, &ivf));
        self.sections.push(session_table(&ds.name, &session));
        self.sections.push(files_table(&ds.name, &files, &disk));
        Ok(json!({"walks": walks, "ivfpq": ivf, "session": session, "files": files, "disk": disk}))
    }
}

pub(super) fn f(v: &Value, k: &str) -> f64 {
    v[k].as_f64().unwrap_or(f64::NAN)
}

/// `lo–hi` of `values` with `digits` decimals.
pub(super) fn spread(values: &[f64], digits: usize) -> String {
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if values.is_empty() {
        "—".into()
    } else if (hi - lo).abs() < 10f64.powi(-(digits as i32)) {
        format!("{lo:.digits$}")
    } else {
        format!("{lo:.digits$}–{hi:.digits$}")
    }
}

/// Markdown: per recall target, QPS of each walk and hnswlib per round, and the ratios' spread.
fn walk_table(name: &str, walks: &[Value]) -> String {
    let mut s = format!(
        "### HNSW walks on `{name}` (M=16, ef_construction=200, 2-thread builds, 1-thread queries, {} interleaved rounds)\n\n\
         Each round builds each index afresh in its own process: ailake with the SQ8 walk (the default: \
         one byte per coordinate during the walk, the `ef` candidates re-ranked with the `f32` vectors), \
         ailake with the exact `f32` walk over the same kind of graph, then hnswlib 0.8.0.\n\n\
         | | SQ8 walk | exact walk | hnswlib | SQ8 / hnswlib | exact / hnswlib | SQ8 / exact |\n|---|---|---|---|---|---|---|\n",
        walks.len()
    );
    let build: Vec<[f64; 3]> = walks
        .iter()
        .map(|w| [f(&w["sq8"], "build_s"), f(&w["exact"], "build_s"), f(&w["hnswlib"], "build_s")])
        .collect();
    s += &format!(
        "| build (s) | {} | {} | {} | {}× the time | {}× the time | |\n",
        spread(&build.iter().map(|b| b[0]).collect::<Vec<_>>(), 2),
        spread(&build.iter().map(|b| b[1]).collect::<Vec<_>>(), 2),
        spread(&build.iter().map(|b| b[2]).collect::<Vec<_>>(), 2),
        spread(&build.iter().map(|b| b[0] / b[2]).collect::<Vec<_>>(), 2),
        spread(&build.iter().map(|b| b[1] / b[2]).collect::<Vec<_>>(), 2),
    );
    for target in [0.90, 0.95, 0.99] {
        let at: Vec<[Option<(f64, f64, u64)>; 3]> = walks
            .iter()
            .map(|w| [qps_at(&w["sq8"], target), qps_at(&w["exact"], target), qps_at(&w["hnswlib"], target)])
            .collect();
        let cell = |i: usize| {
            let qps: Vec<f64> = at.iter().filter_map(|a| a[i].map(|p| p.0)).collect();
            let efs: Vec<String> = at.iter().filter_map(|a| a[i].map(|p| p.2.to_string())).collect();
            let mut efs_u = efs.clone();
            efs_u.dedup();
            format!("{} QPS (ef {})", spread(&qps, 0), efs_u.join("/"))
        };
        let ratio = |a: usize, b: usize| {
            let r: Vec<f64> = at.iter().filter_map(|x| Some(x[a]?.0 / x[b]?.0)).collect();
            format!("{}×", spread(&r, 2))
        };
        s += &format!(
            "| 1-thread QPS at recall@10 ≥ {target:.2} | {} | {} | {} | {} | {} | {} |\n",
            cell(0),
            cell(1),
            cell(2),
            ratio(0, 2),
            ratio(1, 2),
            ratio(0, 1)
        );
    }
    if let Some(w) = walks.first() {
        s += "\nFirst round's sweep:\n\n| ef | SQ8 recall | SQ8 QPS | exact recall | exact QPS | hnswlib recall | hnswlib QPS |\n|---|---|---|---|---|---|---|\n";
        let rows = |v: &Value| v["sweep"].as_array().cloned().unwrap_or_default();
        for ((a, b), c) in rows(&w["sq8"]).iter().zip(rows(&w["exact"])).zip(rows(&w["hnswlib"])) {
            s += &format!(
                "| {} | {:.4} | {:.0} | {:.4} | {:.0} | {:.4} | {:.0} |\n",
                a["ef"],
                f(a, "recall"),
                f(a, "qps"),
                f(&b, "recall"),
                f(&b, "qps"),
                f(&c, "recall"),
                f(&c, "qps")
            );
        }
    }
    s
}

/// Markdown: per (nprobe, refine), our QPS over FAISS's in each round (same nlist / m), with
/// both recalls.
fn ivf_table(name: &str, rounds: &[Value]) -> String {
    let Some(first) = rounds.first() else { return String::new() };
    let mut s = format!(
        "### IVF-PQ against FAISS on `{name}` (nlist {}, m {}, 8-bit codes, 1-thread queries, {} interleaved rounds)

         Each round trains and fills both indexes afresh (2 threads), then sweeps nprobe × refine on one          thread (FAISS: one batched call; ailake: one call per query).

         | nprobe | refine | ailake recall | FAISS recall | ailake QPS | FAISS QPS | ailake / FAISS QPS |
|---|---|---|---|---|---|---|
",
        first["ailake"]["nlist"], first["ailake"]["m"], rounds.len()
    );
    let points = |v: &Value| v["sweep"].as_array().cloned().unwrap_or_default();
    for (i, p) in points(&first["ailake"]).iter().enumerate() {
        let pick = |r: &Value, who: &str| points(&r[who]).get(i).cloned().unwrap_or(Value::Null);
        let ours: Vec<f64> = rounds.iter().map(|r| f(&pick(r, "ailake"), "qps")).collect();
        let faiss: Vec<f64> = rounds.iter().map(|r| f(&pick(r, "faiss"), "qps")).collect();
        let ratio: Vec<f64> = ours.iter().zip(&faiss).map(|(a, b)| a / b).collect();
        s += &format!(
            "| {} | {} | {:.4} | {:.4} | {} | {} | {}× |
",
            p["nprobe"],
            p["refine"],
            f(p, "recall"),
            f(&pick(first, "faiss"), "recall"),
            spread(&ours, 0),
            spread(&faiss, 0),
            spread(&ratio, 2)
        );
    }
    s
}

/// Markdown: per `ef`, the bare index against the session, and `search_batch` at 1 / 2 threads.
fn session_table(name: &str, v: &Value) -> String {
    let mut s = format!(
        "### The search session on `{name}` (one data file of {} rows, k=10, {} queries, {} interleaved rounds)\n\n\
         `index`: the file's own index loaded from its section and searched bare. `session`: \
         `SearchSession::search` on the table, returning the `id` column (row fetch included). \
         `search_batch`: all queries in one call on a Tokio runtime of 1 and of 2 worker threads (QPS).\n\n\
         | ef | recall@10 | index p50 (ms) | session p50 (ms) | session / index p50 | session p99 (ms) | `search_batch` QPS, 1 thread | 2 threads |\n|---|---|---|---|---|---|---|---|\n",
        v["rows"], v["queries"], v["rounds"]
    );
    let nums = |p: &Value, k: &str| -> Vec<f64> {
        p[k].as_array().map(|a| a.iter().filter_map(Value::as_f64).collect()).unwrap_or_default()
    };
    for p in v["sweep"].as_array().cloned().unwrap_or_default() {
        s += &format!(
            "| {} | {:.4} | {} | {} | {}× | {:.3} | {} | {} |\n",
            p["ef"],
            f(&p, "recall_session"),
            spread(&nums(&p, "index_p50_ms"), 3),
            spread(&nums(&p, "session_p50_ms"), 3),
            spread(&nums(&p, "session_over_index"), 2),
            f(&p, "session_p99_ms"),
            spread(&nums(&p, "batch_qps_1_thread"), 0),
            spread(&nums(&p, "batch_qps_2_threads"), 0),
        );
    }
    s
}

/// Markdown: bytes per row of each placement and of the peers, cold start and warm search.
fn files_table(name: &str, files: &Value, disk: &Value) -> String {
    let rows = f(files, "rows");
    let places = files["places"].as_array().cloned().unwrap_or_default();
    let parquet_part = places.first().map_or(f64::NAN, |p| f(p, "parquet_bytes_per_row"));
    let mut s = format!(
        "### Where a shard's vectors live, on `{name}` ({} rows of `id` + vector, files of {} rows, HNSW)\n\n\
         `f32 copy`: the section keeps the vectors (`SectionVectors::F32`, searched in place). `Parquet`: the \
         section keeps the graph only and the index reads the file's own vector column when the shard opens \
         (`SectionVectors::Parquet`). Cold start: a fresh cache, the session's planning plus one query that \
         opens every shard, local disk. Warm: one query per call, id column returned.\n\n\
         | files | bytes / row | × the Parquet part | cold start p50 (ms) | warm recall@10 / QPS at ef 16 | at ef 32 |\n|---|---|---|---|---|---|\n",
        files["rows"], files["shard_rows"]
    );
    s += &format!("| Parquet part alone (file less its section) | {parquet_part:.0} | 1.00× | | | |\n");
    for p in &places {
        let mut cold: Vec<f64> = p["cold_start_ms"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_f64).collect())
            .unwrap_or_default();
        cold.sort_by(f64::total_cmp);
        let warm = |ef: u64| {
            let pts: Vec<&Value> = p["warm"]
                .as_array()
                .map(|a| a.iter().filter(|w| w["ef"].as_u64() == Some(ef)).collect())
                .unwrap_or_default();
            let qps: Vec<f64> = pts.iter().map(|w| f(w, "qps")).collect();
            pts.first().map_or("—".into(), |w| format!("{:.3} / {} QPS", f(w, "recall"), spread(&qps, 0)))
        };
        let label = match p["place"].as_str() {
            Some("f32_copy") => "ailake, section with the f32 copy",
            _ => "ailake, section without vectors (Parquet column)",
        };
        s += &format!(
            "| {label} | {:.0} | {:.2}× | {} | {} | {} |\n",
            f(p, "bytes_per_row"),
            f(p, "bytes_per_row") / parquet_part,
            cold.get(cold.len() / 2).map_or("—".into(), |c| format!("{c:.1}")),
            warm(16),
            warm(32)
        );
    }
    for sys in disk["systems"].as_array().cloned().unwrap_or_default() {
        let per_row = f(&sys, "bytes") / rows;
        s += &format!(
            "| {} {}: {} | {per_row:.0} | {:.2}× | | | |\n",
            sys["system"].as_str().unwrap_or("?"),
            sys["version"].as_str().unwrap_or(""),
            sys["what"].as_str().unwrap_or(""),
            per_row / parquet_part
        );
    }
    s
}
