//! The Python section (`--only python`): what a Python user gets from ailake's package, from
//! LanceDB and from AI-Lake's SDK on the same rows — one call per query, as users make it, and
//! table writes from a pyarrow table. The three run in turns (ours, LanceDB, AI-Lake), twice
//! unless `--quick`, so the report gives each ratio's spread over the rounds.

use std::path::Path;
use std::process::Command;

use anyhow::Result;
use serde_json::{json, Value};

use super::{read_json, root, Dataset, Run, NPROBES, REFINES, SHARD_ROWS, TABLE_EFS, TABLE_EFS_QUICK};

/// Whether `python` imports `modules` (a comma-separated list, as Python's `import` takes it).
pub(super) fn imports(python: impl AsRef<std::ffi::OsStr>, modules: &str) -> bool {
    Command::new(python)
        .args(["-c", &format!("import {modules}")])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The venv holding the release build of `python/` (apart from `.venv-bench`, whose AI-Lake
/// package is also named `ailake`).
const VENV: &str = ".venv-py-bench";

impl Run {
    /// Creates the venv when needed and installs a fresh release build of the package.
    pub(super) fn our_python(&mut self) -> Result<String> {
        let root = root();
        let python = root.join(VENV).join("bin/python");
        let ready = python.exists() && imports(&python, "numpy, pyarrow, maturin");
        let py = python.display().to_string();
        self.steps.add(2);
        if !ready {
            self.steps.add(2);
            self.steps.run(&format!("create {VENV}"), "python3", &["-m", "venv", VENV])?;
            self.steps.run(
                &format!("pip install into {VENV}"),
                &py,
                &["-m", "pip", "install", "numpy==2.4.6", "pyarrow==26.0.1", "maturin==1.16.0"],
            )?;
        }
        let wheels = super::target_dir(&root).join("wheels").display().to_string();
        let maturin = root.join(VENV).join("bin/maturin").display().to_string();
        // maturin reads `python/pyproject.toml` from the directory it runs in.
        let build = format!("cd python && '{maturin}' build --release -i '{py}' --out '{wheels}'");
        self.steps.run("build the Python package (release)", "sh", &["-c", &build])?;
        self.steps.run(
            &format!("install it into {VENV}"),
            &py,
            &[
                "-m",
                "pip",
                "install",
                "--force-reinstall",
                "--no-deps",
                "--no-index",
                "--find-links",
                &wheels,
                "ailake",
            ],
        )?;
        Ok(py)
    }

    /// ailake's Python package vs LanceDB vs AI-Lake on `ds`.
    pub(super) fn python_api(&mut self, ds: &Dataset) -> Result<Value> {
        let ours_python = self.our_python()?;
        let data = ds.dir.display().to_string();
        let queries = if self.quick { "100" } else { "200" };
        let rounds = if self.quick { 1 } else { 2 };
        self.steps.add(3 * rounds as u64);
        let rows = read_json(&ds.dir.join("shape.json")).ok();
        let (n, dim) = match rows {
            Some(v) => (v["rows"].as_u64().unwrap_or(30_000), v["dim"].as_u64().unwrap_or(384)),
            None => fvecs_shape(&ds.dir.join("base.fvecs"))?,
        };
        let nlist = ((n as f64).sqrt().round() as u64).max(1).to_string();
        let m = (dim / 4).max(1).to_string();
        let mut results = Vec::new();
        for round in 1..=rounds {
            let (ours, lance, peer) = (
                self.out(ds, &format!("python-ailake-{round}")),
                self.out(ds, &format!("python-lancedb-{round}")),
                self.out(ds, &format!("python-ai-lake-{round}")),
            );
            let script = root().join("benches/peers/ailake_python_bench.py").display().to_string();
            self.steps.run(
                &format!("ailake (Python) on {}, round {round}", ds.name),
                &ours_python,
                &[
                    &script,
                    "--data",
                    &data,
                    "--metric",
                    ds.metric,
                    "--shard-rows",
                    SHARD_ROWS,
                    "--efs",
                    TABLE_EFS,
                    "--queries",
                    queries,
                    "--out",
                    &ours,
                ],
            )?;
            self.python(
                &format!("LanceDB on {}, round {round}", ds.name),
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
                    NPROBES,
                    "--refines",
                    REFINES,
                    "--queries",
                    queries,
                    "--out",
                    &lance,
                ],
            )?;
            self.python(
                &format!("AI-Lake on {}, round {round}", ds.name),
                "ailake_pypi_bench.py",
                &[
                    "--data",
                    &data,
                    "--metric",
                    ds.metric,
                    "--shard-rows",
                    SHARD_ROWS,
                    "--efs",
                    TABLE_EFS_QUICK,
                    "--queries",
                    queries,
                    "--out",
                    &peer,
                ],
            )?;
            results.push(json!({
                "ailake": read_json(Path::new(&ours))?,
                "lancedb": read_json(Path::new(&lance))?,
                "ai-lake": read_json(Path::new(&peer))?,
            }));
        }
        self.sections.push(report(&ds.name, &results));
        Ok(json!({"rounds": results, "lancedb_nlist": nlist, "lancedb_m": m}))
    }
}

/// Rows and dimension of an `.fvecs` file.
fn fvecs_shape(path: &Path) -> Result<(u64, u64)> {
    let bytes = std::fs::metadata(path)?.len();
    let mut head = [0u8; 4];
    use std::io::Read;
    std::fs::File::open(path)?.read_exact(&mut head)?;
    let dim = u64::from(u32::from_le_bytes(head)).max(1);
    Ok((bytes / (4 * (dim + 1)), dim))
}

const TARGET: f64 = 0.95;

/// The fastest point of `sweep` at recall ≥ `TARGET` (else the most accurate, marked).
fn best(sweep: &Value) -> Option<(&Value, bool)> {
    let points = sweep.as_array()?;
    let f = |p: &Value, k: &str| p[k].as_f64().unwrap_or(0.0);
    points
        .iter()
        .filter(|p| f(p, "recall") >= TARGET)
        .max_by(|a, b| f(a, "qps").total_cmp(&f(b, "qps")))
        .map(|p| (p, true))
        .or_else(|| {
            points.iter().max_by(|a, b| f(a, "recall").total_cmp(&f(b, "recall"))).map(|p| (p, false))
        })
}

fn num(v: &Value, k: &str) -> f64 {
    v[k].as_f64().unwrap_or(f64::NAN)
}

/// The section: per round, each system's best search point and write rates; the ratios'
/// spread over rounds.
fn report(dataset: &str, rounds: &[Value]) -> String {
    let mut s = format!(
        "## From Python on {dataset}\n\nOne call per query as users make it (`table.search(q, k=10)` → pyarrow; LanceDB \
         `search(...).to_arrow()`; AI-Lake `ailake.search(...).to_list()`), 1 query at a time; each system's fastest point \
         at recall@10 ≥ {TARGET}. ailake and AI-Lake: HNSW (M 16), {SHARD_ROWS}-row files; LanceDB: IVF_PQ (nlist √n, \
         m = dim/4) over nprobes × refine 1/4.\n\n\
         | round | system | point | recall@10 | QPS | p50 ms | p99 ms |\n|---|---|---|---|---|---|---|\n"
    );
    let mut ratios: Vec<(f64, f64)> = Vec::new();
    for (i, r) in rounds.iter().enumerate() {
        let mut qps = [f64::NAN; 3];
        for (j, (system, label)) in
            [("ailake", "ailake (Python)"), ("lancedb", "LanceDB"), ("ai-lake", "AI-Lake")].iter().enumerate()
        {
            let Some((p, reached)) = best(&r[*system]["sweep"]) else { continue };
            let point = match p.get("ef") {
                Some(ef) => format!("ef {ef}"),
                None => format!("nprobe {} refine {}", p["nprobe"], p["refine"]),
            };
            let mark = if reached { "" } else { " (below target)" };
            let label = format!("{label} {}", r[*system]["version"].as_str().unwrap_or(""));
            qps[j] = num(p, "qps");
            s += &format!(
                "| {} | {label} | {point}{mark} | {:.3} | {:.0} | {:.2} | {:.2} |\n",
                i + 1,
                num(p, "recall"),
                num(p, "qps"),
                num(p, "p50_ms"),
                num(p, "p99_ms")
            );
        }
        ratios.push((qps[0] / qps[1], qps[0] / qps[2]));
    }
    let spread = |f: fn(&(f64, f64)) -> f64| {
        let v: Vec<f64> = ratios.iter().map(f).collect();
        let (lo, hi) = v.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &x| (l.min(x), h.max(x)));
        format!("{lo:.2}–{hi:.2}×")
    };
    s += &format!(
        "\nailake / LanceDB QPS: {}; ailake / AI-Lake QPS: {} (over {} round(s)).\n\n",
        spread(|r| r.0),
        spread(|r| r.1),
        rounds.len()
    );
    s += "`search_batch` (ours, one call for all queries, every core):\n\n| round | ef | recall@10 | QPS |\n|---|---|---|---|\n";
    for (i, r) in rounds.iter().enumerate() {
        for p in r["ailake"]["sweep"].as_array().into_iter().flatten() {
            s += &format!(
                "| {} | {} | {:.3} | {:.0} |\n",
                i + 1,
                p["ef"],
                num(p, "batch_recall"),
                num(p, "batch_qps")
            );
        }
    }
    s += "\nWrites from a pyarrow table, rows/s to the commit's return:\n\n| round | system | path | rows/s | peak RSS MiB |\n|---|---|---|---|---|\n";
    for (i, r) in rounds.iter().enumerate() {
        for (system, label) in [("ailake", "ailake (Python)"), ("ai-lake", "AI-Lake")] {
            for w in r[system]["writes"].as_array().into_iter().flatten() {
                let path = w["path"].as_str().unwrap_or("?");
                s += &format!(
                    "| {} | {label} | {path} | {:.0} | {:.0} |\n",
                    i + 1,
                    num(w, "rows_per_s"),
                    num(w, "peak_rss_mib")
                );
            }
        }
        let l = &r["lancedb"];
        s += &format!(
            "| {} | LanceDB | create_table, then IVF_PQ build {:.1} s | {:.0} (with the build: {:.0}) | {:.0} |\n",
            i + 1,
            num(l, "build_s"),
            num(l, "write_rows_per_s"),
            num(l, "rows") / (num(l, "write_s") + num(l, "build_s")),
            num(l, "build_peak_rss_mib")
        );
    }
    s
}
