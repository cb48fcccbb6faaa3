//! `cargo xtask bench`: the side-by-side peer comparison (ailake against hnswlib, FAISS,
//! LanceDB and AI-Lake on the same files, same threads, same recall computation) and the
//! criterion micro-benchmarks, rendered into `docs/benchmarks.md` (+ `.csv`, `.json`, SVG
//! plots under `docs/img/`) with the machine named.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

use crate::root;

mod bigtable;
mod doc;
mod engine;
mod filtered;
mod objstore;
mod python;
mod ray;
mod report;
mod rest;
mod scale;
mod sql;
mod steps;
mod tables;
mod text;

use steps::Steps;

/// A dataset every system reads: TEXMEX files with exact ground truth.
struct Dataset {
    name: String,
    dir: PathBuf,
    metric: &'static str,
}

/// HNSW `ef` sweep of the index comparison.
const EFS: &str = "10,16,24,32,48,64,96,128,192,256,384,512";
/// `ef` sweep of the whole-table search (each AI-Lake query costs tens of milliseconds, so
/// `--quick` keeps three points).
const TABLE_EFS: &str = "16,32,64,128,256";
const TABLE_EFS_QUICK: &str = "16,64,256";
/// IVF-PQ sweep shared by ours, FAISS and LanceDB.
const NPROBES: &str = "1,2,4,8,16,32,64,128";
const REFINES: &str = "1,4";
/// Rows per data file in the whole-table comparison.
const SHARD_ROWS: &str = "5000";
/// Steps run per dataset (ours + peers, index and table).
const STEPS_PER_DATASET: u64 = 12;

/// What `cargo xtask bench` runs.
pub struct BenchOptions {
    /// Smaller data, fewer queries for the slow peers, shorter criterion runs.
    pub quick: bool,
    /// One dataset instead of the default pair: `debian-minilm`, `gmm-<rows>k-<dim>`, or a
    /// directory of TEXMEX files (`base.fvecs`, `query.fvecs`, `gt.ivecs`; L2 unless `:ip`).
    pub dataset: Option<String>,
    /// Run one section only (`filtered`, `scale`, `python`, `objstore`, `engine`, `sql`, `rest` or `ray`), written to
    /// `docs/benchmarks-<section>.md`.
    pub only: Option<String>,
}

/// One run's state: where results go and what they add up to.
struct Run {
    steps: Steps,
    quick: bool,
    python: String,
    peer_bench: String,
    results: PathBuf,
    img: PathBuf,
    stamp: String,
    sections: Vec<String>,
    csv: String,
    json: Vec<Value>,
}

pub fn bench(opts: BenchOptions) -> Result<()> {
    let root = root();
    let target = target_dir(&root);
    let results = target.join("bench-results");
    let mut steps = Steps::new(1, results.join("logs"))?;
    let python = peer_venv(&root, &mut steps)?;
    // `--features s3`: `peer_bench objstore-s3` (the object-storage section's real-protocol run).
    // `--benches` too: the criterion targets' dev-dependencies change the features of shared
    // dependencies, so building both here leaves `cargo bench` below nothing to rebuild (a
    // `--bin`-only build and `cargo bench` would rebuild parquet, iceberg, … for each other).
    steps.run(
        "build peer_bench + benches (release)",
        "cargo",
        &["build", "--release", "-p", "ailake-benches", "--features", "s3", "--bins", "--benches"],
    )?;
    let peer_bench = target.join("release/peer_bench").display().to_string();
    let datasets = datasets(&opts, &root, &target, &peer_bench, &mut steps)?;
    steps.add(datasets.len() as u64 * STEPS_PER_DATASET + 1);
    let img = root.join("docs/img");
    std::fs::create_dir_all(&img)?;
    let mut run = Run {
        steps,
        quick: opts.quick,
        python: python.display().to_string(),
        peer_bench,
        results,
        stamp: format!("{} — {}", doc::machine(), doc::utc_now()?),
        img,
        sections: Vec::new(),
        csv: String::from("dataset,system,index,build_s,param,refine,recall_at_10,qps\n"),
        json: Vec::new(),
    };
    if let Some(section) = opts.only.as_deref() {
        let datasets = if section == "bigtable" {
            let v = run.bigtable()?;
            run.json.push(serde_json::json!({"bigtable": v}));
            Vec::new()
        } else if section == "text" {
            let v = run.text(&datasets)?;
            run.json.push(serde_json::json!({"text": v}));
            Vec::new()
        } else {
            datasets
        };
        for ds in &datasets {
            let result = match section {
                "filtered" => run.filtered(ds)?,
                "scale" => run.scale(ds)?,
                "python" => run.python_api(ds)?,
                "objstore" => run.objstore(ds)?,
                "engine" => run.engine(ds)?,
                "sql" => run.sql(ds)?,
                "rest" => run.rest(ds)?,
                "ray" => run.ray(ds)?,
                other => {
                    bail!(
                        "--only knows the sections filtered, scale, bigtable, python, objstore, engine, sql, rest, ray and text, not {other}"
                    )
                }
            };
            run.json.push(json!({"dataset": ds.name, "metric": ds.metric, section: result}));
        }
        let total_s = run.steps.finish();
        let title = match section {
            "scale" => "The table at scale",
            "bigtable" => "A table larger than memory",
            "python" => "ailake from Python",
            "objstore" => "The read path on object storage",
            "engine" => "The search engine's levers",
            "sql" => "SQL: DataFusion and Ballista",
            "rest" => "Catalogs: Iceberg REST vs SQLite",
            "ray" => "Ray Data: distributed ingest and batch search",
            "text" => "Full-text and hybrid search",
            _ => "Filtered search and deletes",
        };
        let path = root.join(format!("docs/benchmarks-{section}.md"));
        let page = format!(
            "# {title}\n\n{}\n\n{}\n{}{}",
            run.stamp,
            run.sections.join("\n"),
            doc::timings(&run.steps.timings, total_s),
            kept_notes(&path)
        );
        std::fs::write(&path, page)?;
        std::fs::write(
            root.join(format!("docs/benchmarks-{section}.json")),
            serde_json::to_string_pretty(&run.json)?,
        )?;
        eprintln!("wrote docs/benchmarks-{section}.{{md,json}} in {:.1} min", total_s / 60.0);
        return Ok(());
    }
    for ds in &datasets {
        let hnsw = run.hnsw(ds)?;
        let ivfpq = run.ivfpq(ds)?;
        let table = run.table(ds, &ivfpq["lancedb"])?;
        let filtered = run.filtered(ds)?;
        let scale = run.scale(ds)?;
        let python = run.python_api(ds)?;
        let objstore = run.objstore(ds)?;
        let engine = run.engine(ds)?;
        let sql = run.sql(ds)?;
        run.json.push(json!({"dataset": ds.name, "metric": ds.metric, "hnsw": hnsw, "ivfpq": ivfpq,
            "table": table, "filtered": filtered, "scale": scale, "python": python, "objstore": objstore,
            "engine": engine, "sql": sql}));
    }

    let mut crit = vec!["bench", "-p", "ailake-benches", "--features", "s3"];
    for b in ["format", "index", "catalog", "table"] {
        crit.extend(["--bench", b]);
    }
    if run.quick {
        crit.extend(["--", "--warm-up-time", "0.3", "--measurement-time", "1"]);
    }
    run.steps.run("criterion benches", "cargo", &crit)?;
    run.sections.push(doc::criterion_table(&target.join("criterion"))?);

    let total_s = run.steps.finish();
    run.sections.push(doc::timings(&run.steps.timings, total_s));
    std::fs::write(root.join("docs/benchmarks.csv"), &run.csv)?;
    let all = json!({"machine": doc::machine(), "date": doc::utc_now()?, "quick": run.quick,
        "total_s": total_s, "steps": run.steps.timings, "datasets": run.json});
    std::fs::write(root.join("docs/benchmarks.json"), serde_json::to_string_pretty(&all)?)?;
    std::fs::write(root.join("docs/benchmarks.md"), doc::render(&run.sections, run.quick)?)?;
    eprintln!(
        "wrote docs/benchmarks.{{md,csv,json}} and docs/img/ in {:.1} min (step logs under {})",
        total_s / 60.0,
        run.results.join("logs").display()
    );
    Ok(())
}

impl Run {
    fn out(&self, ds: &Dataset, what: &str) -> String {
        self.results.join(format!("{}-{what}.json", ds.name)).display().to_string()
    }

    fn python(&mut self, label: &str, script: &str, args: &[&str]) -> Result<()> {
        let script = root().join("benches/peers").join(script).display().to_string();
        let mut a = vec![script.as_str()];
        a.extend(args);
        let python = self.python.clone();
        self.steps.run(label, &python, &a)
    }

    fn ours(&mut self, label: &str, args: &[&str]) -> Result<()> {
        let program = self.peer_bench.clone();
        self.steps.run(label, &program, args)
    }

    /// HNSW: ours vs hnswlib and FAISS HNSW32, 2-thread builds, 1-thread ef sweeps.
    fn hnsw(&mut self, ds: &Dataset) -> Result<Value> {
        let data = ds.dir.display().to_string();
        let (ours, peer, faiss) =
            (self.out(ds, "ailake-hnsw"), self.out(ds, "hnswlib"), self.out(ds, "faiss-hnsw"));
        let shared = ["--data", &data, "--metric", ds.metric, "--threads", "2", "--efc", "200", "--efs", EFS];
        let m16 = [&shared[..], &["--m", "16"]].concat();
        self.ours(
            &format!("ailake HNSW on {}", ds.name),
            &[&["hnsw"], &m16[..], &["--out", &ours]].concat(),
        )?;
        self.python(
            &format!("hnswlib on {}", ds.name),
            "hnswlib_bench.py",
            &[&m16[..], &["--out", &peer]].concat(),
        )?;
        self.python(
            &format!("FAISS HNSW32 on {}", ds.name),
            "faiss_hnsw_bench.py",
            &[&shared[..], &["--m", "32", "--out", &faiss]].concat(),
        )?;
        let (ours, peer, faiss) =
            (read_json(Path::new(&ours))?, read_json(Path::new(&peer))?, read_json(Path::new(&faiss))?);
        self.sections.push(report::hnsw_table(&ds.name, &ours, &peer, &faiss));
        report::csv_rows(&mut self.csv, &ds.name, "ailake", "hnsw", &ours, "ef");
        report::csv_rows(&mut self.csv, &ds.name, "hnswlib", "hnsw", &peer, "ef");
        report::csv_rows(&mut self.csv, &ds.name, "faiss-hnsw32", "hnsw", &faiss, "ef");
        let svg = format!("recall-qps-hnsw-{}.svg", ds.name);
        crate::plot::recall_qps(
            &self.img.join(&svg),
            &format!("HNSW on {} (k=10, 1 thread)", ds.name),
            &self.stamp,
            &[
                crate::plot::Curve { label: "ailake (M=16)", result: &ours, refine: None },
                crate::plot::Curve { label: "hnswlib (M=16)", result: &peer, refine: None },
                crate::plot::Curve { label: "FAISS HNSW32", result: &faiss, refine: None },
            ],
        )?;
        self.sections.push(format!("![HNSW recall vs QPS on {0}](img/{svg})\n", ds.name));
        Ok(json!({"ailake": ours, "hnswlib": peer, "faiss": faiss}))
    }

    /// IVF-PQ: ours vs FAISS (same nlist/m) and LanceDB's IVF_PQ table.
    fn ivfpq(&mut self, ds: &Dataset) -> Result<Value> {
        let data = ds.dir.display().to_string();
        let (ours, faiss, lance) =
            (self.out(ds, "ailake-ivfpq"), self.out(ds, "faiss-ivfpq"), self.out(ds, "lancedb-ivfpq"));
        let sweep = ["--nprobes", NPROBES, "--refines", REFINES, "--metric", ds.metric];
        self.ours(
            &format!("ailake IVF-PQ on {}", ds.name),
            &[&["ivfpq", "--data", &data, "--out", &ours, "--threads", "2"], &sweep[..]].concat(),
        )?;
        let ours = read_json(Path::new(&ours))?;
        let (nlist, m) = (ours["nlist"].to_string(), ours["m"].to_string());
        let shape = ["--data", &data, "--nlist", &nlist, "--m", &m];
        self.python(
            &format!("FAISS IVF-PQ on {}", ds.name),
            "faiss_bench.py",
            &[&shape[..], &sweep[..], &["--out", &faiss, "--threads", "2"]].concat(),
        )?;
        let queries = if self.quick { "100" } else { "200" };
        self.python(
            &format!("LanceDB on {}", ds.name),
            "lancedb_bench.py",
            &[&shape[..], &sweep[..], &["--out", &lance, "--queries", queries]].concat(),
        )?;
        let (faiss, lance) = (read_json(Path::new(&faiss))?, read_json(Path::new(&lance))?);
        self.sections.push(report::ivfpq_table(&ds.name, &ours, &faiss));
        self.sections.push(report::lancedb_table(&ds.name, &ours, &lance));
        for (system, v) in [("ailake", &ours), ("faiss", &faiss), ("lancedb", &lance)] {
            report::csv_rows(&mut self.csv, &ds.name, system, "ivfpq", v, "nprobe");
        }
        let svg = format!("recall-qps-ivfpq-{}.svg", ds.name);
        let curve = |label, result, refine| crate::plot::Curve { label, result, refine: Some(refine) };
        crate::plot::recall_qps(
            &self.img.join(&svg),
            &format!("IVF-PQ on {} (k=10)", ds.name),
            &self.stamp,
            &[
                curve("ailake (refine 4)", &ours, 4),
                curve("ailake (no refine)", &ours, 1),
                curve("FAISS (refine 4)", &faiss, 4),
                curve("FAISS (no refine)", &faiss, 1),
                curve("LanceDB (refine 4)", &lance, 4),
                curve("LanceDB (no refine)", &lance, 1),
            ],
        )?;
        self.sections.push(format!("![IVF-PQ recall vs QPS on {0}](img/{svg})\n", ds.name));
        Ok(json!({"ailake": ours, "faiss": faiss, "lancedb": lance}))
    }

    /// Whole tables: our TableWriter + SearchSession vs AI-Lake on the same shards.
    fn table(&mut self, ds: &Dataset, lance: &Value) -> Result<Value> {
        let data = ds.dir.display().to_string();
        let (ours, peer) = (self.out(ds, "ailake-table"), self.out(ds, "ai-lake-table"));
        let queries = if self.quick { "100" } else { "200" };
        let common = [
            "--data",
            &data,
            "--metric",
            ds.metric,
            "--shard-rows",
            SHARD_ROWS,
            "--m",
            "16",
            "--efc",
            "200",
            "--efs",
            if self.quick { TABLE_EFS_QUICK } else { TABLE_EFS },
            "--queries",
            queries,
        ];
        self.ours(
            &format!("ailake tables on {}", ds.name),
            &[&["table"], &common[..], &["--out", &ours]].concat(),
        )?;
        self.python(
            &format!("AI-Lake tables on {}", ds.name),
            "ailake_pypi_bench.py",
            &[&common[..], &["--out", &peer]].concat(),
        )?;
        let (ours, peer) = (read_json(Path::new(&ours))?, read_json(Path::new(&peer))?);
        self.sections.push(tables::writes_table(&ds.name, &ours, &peer, Some(lance)));
        let svg = format!("writes-{}.svg", ds.name);
        crate::plot::write_bars(
            &self.img.join(&svg),
            &format!("Table writes on {}, rows/s to commit ({} rows per file)", ds.name, SHARD_ROWS),
            &self.stamp,
            &tables::write_bars(&ours, &peer, Some(lance)),
        )?;
        self.sections.push(format!("![Table write throughput on {0}](img/{svg})\n", ds.name));
        self.sections.push(tables::search_table(&ds.name, &ours, &peer));
        report::csv_rows(&mut self.csv, &ds.name, "ailake", "table-hnsw", &ours, "ef");
        report::csv_rows(&mut self.csv, &ds.name, "ai-lake", "table-hnsw", &peer, "ef");
        Ok(json!({"ailake": ours, "ai-lake": peer}))
    }
}

/// The datasets of this run, generated (synthetic) or given ground truth when missing.
fn datasets(
    opts: &BenchOptions,
    root: &Path,
    target: &Path,
    peer_bench: &str,
    steps: &mut Steps,
) -> Result<Vec<Dataset>> {
    let generate = |rows: usize, dim: usize, steps: &mut Steps| -> Result<Dataset> {
        let name = format!("gmm-{}k-{dim}", rows / 1000);
        let dir = target.join(format!("bench-data/{name}"));
        let (rows_s, dim_s, dir_s) = (rows.to_string(), dim.to_string(), dir.display().to_string());
        steps.add(1);
        steps.run(
            &format!("data {name}"),
            peer_bench,
            &["data", "--out", &dir_s, "--rows", &rows_s, "--dim", &dim_s],
        )?;
        Ok(Dataset { name, dir, metric: "l2" })
    };
    let real = root.join("../shared/data/debian-minilm");
    let minilm = |dir: PathBuf| Dataset { name: "debian-minilm-30k-384".into(), dir, metric: "ip" };
    let Some(names) = opts.dataset.as_deref() else {
        let mut d = vec![generate(if opts.quick { 20_000 } else { 100_000 }, 128, steps)?];
        if real.join("gt.ivecs").exists() {
            d.push(minilm(real));
        } else {
            steps.say(&format!("warning: {} is missing; the real-data rows are skipped", real.display()));
        }
        return Ok(d);
    };
    let mut out = Vec::new();
    // Several datasets: comma-separated.
    for name in names.split(',') {
        out.extend(match Some(name) {
            Some("debian-minilm") => vec![minilm(real.clone())],
            Some(name) if name.starts_with("gmm-") => {
                let spec = name.trim_start_matches("gmm-");
                let (rows, dim) =
                    spec.split_once("k-").context("gmm datasets are named gmm-<rows>k-<dim>")?;
                vec![generate(rows.parse::<usize>()? * 1000, dim.parse()?, steps)?]
            }
            Some(path) => {
                let (path, metric) = match path.strip_suffix(":ip") {
                    Some(p) => (p, "ip"),
                    None => (path, "l2"),
                };
                let dir = PathBuf::from(path);
                if !dir.join("base.fvecs").exists() || !dir.join("query.fvecs").exists() {
                    bail!("{} holds no base.fvecs / query.fvecs", dir.display());
                }
                if !dir.join("gt.ivecs").exists() {
                    let d = dir.display().to_string();
                    steps.add(1);
                    steps.run("exact ground truth", peer_bench, &["gt", "--data", &d, "--metric", metric])?;
                }
                let name = dir.file_name().map_or("dataset".into(), |n| n.to_string_lossy().into_owned());
                vec![Dataset { name, dir, metric }]
            }
            None => unreachable!("a name was split out"),
        });
    }
    Ok(out)
}

fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"))
}

/// Creates `.venv-bench` with the pinned peers if it is missing or incomplete.
fn peer_venv(root: &Path, steps: &mut Steps) -> Result<PathBuf> {
    let python = root.join(".venv-bench/bin/python");
    let ok = python.exists()
        && Command::new(&python)
            .args(["-c", "import hnswlib, numpy, faiss, lancedb, ailake"])
            .current_dir(root.join("benches/peers"))
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
    if !ok {
        steps.add(3);
        steps.run("create .venv-bench", "python3", &["-m", "venv", ".venv-bench"])?;
        let pip = root.join(".venv-bench/bin/pip").display().to_string();
        steps.run("pip install build tools", &pip, &["install", "pybind11", "numpy"])?;
        steps.run("pip install peers", &pip, &["install", "-r", "benches/peers/requirements.txt"])?;
    }
    Ok(python)
}

fn read_json(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(serde_json::from_str(&text)?)
}

/// The hand-written `### Notes…` sections at the end of the page at `path` (figures that
/// no run regenerates), carried over to the regenerated page; empty when there are none.
fn kept_notes(path: &Path) -> String {
    let old = std::fs::read_to_string(path).unwrap_or_default();
    match old.find("\n### Notes") {
        Some(at) => format!("\n{}\n", old[at..].trim()),
        None => String::new(),
    }
}

#[cfg(test)]
mod notes_tests {
    use super::kept_notes;

    #[test]
    fn hand_written_notes_survive_a_regenerated_page() {
        let dir = std::env::temp_dir().join(format!("ailake-xtask-notes-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let page = dir.join("page.md");
        assert_eq!(kept_notes(&page), "", "no page yet");
        std::fs::write(&page, "# T\n\n| a |\n\n### This run\n\nx\n").unwrap();
        assert_eq!(kept_notes(&page), "", "no notes");
        std::fs::write(&page, "# T\n\n### This run\n\nx\n\n### Notes moved from there\n\nWhy 16.\n").unwrap();
        assert_eq!(kept_notes(&page), "\n### Notes moved from there\n\nWhy 16.\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
