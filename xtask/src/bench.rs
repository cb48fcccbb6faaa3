//! `cargo xtask bench`: criterion micro-benchmarks plus the side-by-side peer comparison
//! (ailake vs hnswlib on the same files, same threads, same recall computation), rendered
//! into `docs/benchmarks.md` with the machine named.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use serde_json::Value;

use crate::{root, run};

/// A dataset both sides read: TEXMEX files with exact ground truth.
struct Dataset {
    name: String,
    dir: PathBuf,
    metric: &'static str,
}

const EFS: &str = "10,16,24,32,48,64,96,128,192,256,384,512";

/// What `cargo xtask bench` runs.
pub struct BenchOptions {
    /// Smaller data, shorter criterion runs.
    pub quick: bool,
    /// One dataset instead of the default pair: `debian-minilm`, `gmm-<rows>k-<dim>`, or a
    /// directory of TEXMEX files (`base.fvecs`, `query.fvecs`, `gt.ivecs`; L2 unless `:ip`).
    pub dataset: Option<String>,
}

pub fn bench(opts: BenchOptions) -> Result<()> {
    let quick = opts.quick;
    let root = root();
    let python = peer_venv(&root)?;
    run("cargo", &["build", "--release", "-p", "ailake-benches", "--bin", "peer_bench"])?;
    let peer_bench = target_dir(&root).join("release/peer_bench");
    let results = target_dir(&root).join("bench-results");
    std::fs::create_dir_all(&results)?;

    let generate = |rows: usize, dim: usize| -> Result<Dataset> {
        let name = format!("gmm-{}k-{dim}", rows / 1000);
        let dir = target_dir(&root).join(format!("bench-data/{name}"));
        let (rows_s, dim_s, dir_s) = (rows.to_string(), dim.to_string(), dir.display().to_string());
        run(
            peer_bench.to_str().context("path")?,
            &["data", "--out", &dir_s, "--rows", &rows_s, "--dim", &dim_s],
        )?;
        Ok(Dataset { name, dir, metric: "l2" })
    };
    let real = root.join("../shared/data/debian-minilm");
    let datasets = match opts.dataset.as_deref() {
        None => {
            let mut d = vec![generate(if quick { 20_000 } else { 100_000 }, 128)?];
            if real.join("gt.ivecs").exists() {
                d.push(Dataset { name: "debian-minilm-30k-384".into(), dir: real, metric: "ip" });
            } else {
                eprintln!("warning: {} is missing; the real-data rows are skipped", real.display());
            }
            d
        }
        Some("debian-minilm") => {
            vec![Dataset { name: "debian-minilm-30k-384".into(), dir: real, metric: "ip" }]
        }
        Some(name) if name.starts_with("gmm-") => {
            let spec = name.trim_start_matches("gmm-");
            let (rows, dim) = spec.split_once("k-").context("gmm datasets are named gmm-<rows>k-<dim>")?;
            vec![generate(rows.parse::<usize>()? * 1000, dim.parse()?)?]
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
                run(peer_bench.to_str().context("path")?, &["gt", "--data", &d, "--metric", metric])?;
            }
            let name = dir.file_name().map_or("dataset".into(), |n| n.to_string_lossy().into_owned());
            vec![Dataset { name, dir, metric }]
        }
    };
    let mut csv = String::from("dataset,system,index,build_s,param,refine,recall_at_10,qps\n");

    let mut sections = Vec::new();
    for ds in &datasets {
        let data = ds.dir.display().to_string();
        let ours = results.join(format!("{}-ailake-hnsw.json", ds.name));
        let peer = results.join(format!("{}-hnswlib.json", ds.name));
        let common = [
            "--data",
            &data,
            "--metric",
            ds.metric,
            "--threads",
            "2",
            "--m",
            "16",
            "--efc",
            "200",
            "--efs",
            EFS,
        ];
        let mut a: Vec<&str> = vec!["hnsw"];
        a.extend(common);
        let ours_s = ours.display().to_string();
        a.extend(["--out", &ours_s]);
        run(peer_bench.to_str().context("path")?, &a)?;
        let script = root.join("benches/peers/hnswlib_bench.py").display().to_string();
        let peer_s = peer.display().to_string();
        let mut p: Vec<&str> = vec![&script];
        p.extend(common);
        p.extend(["--out", &peer_s]);
        run(python.to_str().context("path")?, &p)?;
        sections.push(hnsw_table(&ds.name, &read_json(&ours)?, &read_json(&peer)?));

        let ours = results.join(format!("{}-ailake-ivfpq.json", ds.name));
        let faiss = results.join(format!("{}-faiss-ivfpq.json", ds.name));
        let (ours_s, faiss_s) = (ours.display().to_string(), faiss.display().to_string());
        let sweep = [
            "--nprobes",
            "1,2,4,8,16,32,64,128",
            "--refines",
            "1,4",
            "--threads",
            "2",
            "--metric",
            ds.metric,
        ];
        let mut a: Vec<&str> = vec!["ivfpq", "--data", &data, "--out", &ours_s];
        a.extend(sweep);
        run(peer_bench.to_str().context("path")?, &a)?;
        let ours_json = read_json(&ours)?;
        let (nlist, m) = (ours_json["nlist"].to_string(), ours_json["m"].to_string());
        let script = root.join("benches/peers/faiss_bench.py").display().to_string();
        let mut p: Vec<&str> =
            vec![&script, "--data", &data, "--out", &faiss_s, "--nlist", &nlist, "--m", &m];
        p.extend(sweep);
        run(python.to_str().context("path")?, &p)?;
        let faiss_json = read_json(&faiss)?;
        sections.push(ivfpq_table(&ds.name, &ours_json, &faiss_json));

        let lance = results.join(format!("{}-lancedb-ivfpq.json", ds.name));
        let lance_s = lance.display().to_string();
        let script = root.join("benches/peers/lancedb_bench.py").display().to_string();
        let queries = if quick { "100" } else { "200" };
        let p: Vec<&str> = vec![
            &script,
            "--data",
            &data,
            "--out",
            &lance_s,
            "--nlist",
            &nlist,
            "--m",
            &m,
            "--metric",
            ds.metric,
            "--nprobes",
            "1,2,4,8,16,32,64,128",
            "--refines",
            "1,4",
            "--queries",
            queries,
        ];
        run(python.to_str().context("path")?, &p)?;
        let lance_json = read_json(&lance)?;
        sections.push(lancedb_table(&ds.name, &ours_json, &lance_json));
        let img = root.join("docs/img");
        std::fs::create_dir_all(&img)?;
        let stamp = format!("{} — {}", machine(), utc_now()?);
        let ivf_svg = format!("recall-qps-ivfpq-{}.svg", ds.name);
        crate::plot::recall_qps(
            &img.join(&ivf_svg),
            &format!("IVF-PQ on {} (k=10)", ds.name),
            &stamp,
            &[
                crate::plot::Curve { label: "ailake (refine 4)", result: &ours_json, refine: Some(4) },
                crate::plot::Curve { label: "ailake (no refine)", result: &ours_json, refine: Some(1) },
                crate::plot::Curve { label: "FAISS (refine 4)", result: &faiss_json, refine: Some(4) },
                crate::plot::Curve { label: "FAISS (no refine)", result: &faiss_json, refine: Some(1) },
                crate::plot::Curve { label: "LanceDB (refine 4)", result: &lance_json, refine: Some(4) },
                crate::plot::Curve { label: "LanceDB (no refine)", result: &lance_json, refine: Some(1) },
            ],
        )?;
        sections.push(format!("![IVF-PQ recall vs QPS on {0}](img/{ivf_svg})\n", ds.name));
        for (system, json) in [("ailake", &ours_json), ("faiss", &faiss_json), ("lancedb", &lance_json)] {
            csv_rows(&mut csv, &ds.name, system, "ivfpq", json, "nprobe");
        }
        let (hnsw_ours, hnsw_peer) = (
            read_json(&results.join(format!("{}-ailake-hnsw.json", ds.name)))?,
            read_json(&results.join(format!("{}-hnswlib.json", ds.name)))?,
        );
        csv_rows(&mut csv, &ds.name, "ailake", "hnsw", &hnsw_ours, "ef");
        csv_rows(&mut csv, &ds.name, "hnswlib", "hnsw", &hnsw_peer, "ef");
        let hnsw_svg = format!("recall-qps-hnsw-{}.svg", ds.name);
        crate::plot::recall_qps(
            &img.join(&hnsw_svg),
            &format!("HNSW on {} (k=10, 1 thread)", ds.name),
            &stamp,
            &[
                crate::plot::Curve { label: "ailake", result: &hnsw_ours, refine: None },
                crate::plot::Curve { label: "hnswlib", result: &hnsw_peer, refine: None },
            ],
        )?;
        sections.push(format!("![HNSW recall vs QPS on {0}](img/{hnsw_svg})\n", ds.name));
    }
    std::fs::write(root.join("docs/benchmarks.csv"), &csv)?;

    let mut crit = vec![
        "bench",
        "-p",
        "ailake-benches",
        "--bench",
        "format",
        "--bench",
        "index",
        "--bench",
        "catalog",
        "--bench",
        "table",
    ];
    if quick {
        crit.extend(["--", "--warm-up-time", "1", "--measurement-time", "3"]);
    }
    run("cargo", &crit)?;
    sections.push(criterion_table(&target_dir(&root).join("criterion"))?);

    let doc = render(&sections, quick)?;
    std::fs::write(root.join("docs/benchmarks.md"), doc)?;
    eprintln!("wrote docs/benchmarks.md (raw results under {})", results.display());
    Ok(())
}

fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"))
}

/// Creates `.venv-bench` with the pinned peers if it is missing or incomplete.
fn peer_venv(root: &Path) -> Result<PathBuf> {
    let python = root.join(".venv-bench/bin/python");
    let ok = python.exists()
        && Command::new(&python)
            .args(["-c", "import hnswlib, numpy, faiss, lancedb"])
            .status()
            .is_ok_and(|s| s.success());
    if !ok {
        run("python3", &["-m", "venv", ".venv-bench"])?;
        let pip = root.join(".venv-bench/bin/pip").display().to_string();
        run(&pip, &["install", "--quiet", "pybind11", "numpy"])?;
        run(&pip, &["install", "--quiet", "-r", "benches/peers/requirements.txt"])?;
    }
    Ok(python)
}

fn read_json(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(serde_json::from_str(&text)?)
}

/// QPS of the cheapest sweep point reaching `target` recall, with that recall.
fn qps_at(result: &Value, target: f64) -> Option<(f64, f64, u64)> {
    result["sweep"].as_array()?.iter().find_map(|p| {
        let recall = p["recall"].as_f64()?;
        (recall >= target).then(|| (p["qps"].as_f64().unwrap_or(0.0), recall, p["ef"].as_u64().unwrap_or(0)))
    })
}

fn hnsw_table(name: &str, ours: &Value, peer: &Value) -> String {
    let mut s =
        format!("### HNSW on `{name}` ({} × {}, M=16, ef_construction=200)\n\n", ours["rows"], ours["dim"]);
    let (b_ours, b_peer) =
        (ours["build_s"].as_f64().unwrap_or(f64::NAN), peer["build_s"].as_f64().unwrap_or(f64::NAN));
    s += "| | ailake | hnswlib | ailake / hnswlib |\n|---|---|---|---|\n";
    s +=
        &format!("| build, 2 threads (s) | {b_ours:.2} | {b_peer:.2} | {:.2}× the time |\n", b_ours / b_peer);
    for target in [0.90, 0.95, 0.99] {
        let cell = |r: Option<(f64, f64, u64)>| match r {
            Some((qps, rec, ef)) => format!("{qps:.0} (recall {rec:.3}, ef {ef})"),
            None => "not reached".into(),
        };
        let (o, p) = (qps_at(ours, target), qps_at(peer, target));
        let ratio = match (o, p) {
            (Some(o), Some(p)) => format!("{:.2}× the QPS", o.0 / p.0),
            _ => "—".into(),
        };
        s += &format!("| 1-thread QPS at recall@10 ≥ {target:.2} | {} | {} | {ratio} |\n", cell(o), cell(p));
    }
    s += "\nFull sweep (ef: recall / QPS):\n\n| ef | ailake recall | ailake QPS | hnswlib recall | hnswlib QPS |\n|---|---|---|---|---|\n";
    let empty = Vec::new();
    let (so, sp) = (ours["sweep"].as_array().unwrap_or(&empty), peer["sweep"].as_array().unwrap_or(&empty));
    for (o, p) in so.iter().zip(sp) {
        s += &format!(
            "| {} | {:.4} | {:.0} | {:.4} | {:.0} |\n",
            o["ef"],
            o["recall"].as_f64().unwrap_or(0.0),
            o["qps"].as_f64().unwrap_or(0.0),
            p["recall"].as_f64().unwrap_or(0.0),
            p["qps"].as_f64().unwrap_or(0.0)
        );
    }
    s
}

/// Best QPS among sweep points reaching `target` recall (optionally only without refine).
fn best_qps(result: &Value, target: f64, refine_only_one: bool) -> Option<(f64, f64, u64, u64)> {
    result["sweep"]
        .as_array()?
        .iter()
        .filter(|p| !refine_only_one || p["refine"].as_u64() == Some(1))
        .filter(|p| p["recall"].as_f64().is_some_and(|r| r >= target))
        .map(|p| {
            let g = |k: &str| p[k].as_f64().unwrap_or(0.0);
            (g("qps"), g("recall"), p["nprobe"].as_u64().unwrap_or(0), p["refine"].as_u64().unwrap_or(1))
        })
        .max_by(|a, b| a.0.total_cmp(&b.0))
}

fn ivfpq_table(name: &str, ours: &Value, peer: &Value) -> String {
    let f = |v: &Value, k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    let mut s = format!(
        "### IVF-PQ on `{name}` ({} × {}, nlist={}, m={}, 8-bit codes, residual, `IvfPqConfig::for_dataset`)\n\n",
        ours["rows"], ours["dim"], ours["nlist"], ours["m"]
    );
    s += "| | ailake | FAISS | ailake / FAISS |\n|---|---|---|---|\n";
    s += &format!(
        "| k-means, k=nlist, ≤25 iterations, 2 threads (s) | {:.2} | {:.2} | {:.2}× the time |\n",
        f(ours, "kmeans_s"),
        f(peer, "kmeans_s"),
        f(ours, "kmeans_s") / f(peer, "kmeans_s")
    );
    s += &format!(
        "| train + add, raw vectors kept, 2 threads (s) | {:.2} | {:.2} | {:.2}× the time |\n",
        f(ours, "build_s"),
        f(peer, "build_s"),
        f(ours, "build_s") / f(peer, "build_s")
    );
    let cell = |r: Option<(f64, f64, u64, u64)>| match r {
        Some((qps, rec, np, rf)) => format!("{qps:.0} (recall {rec:.3}, nprobe {np}, refine {rf})"),
        None => "not reached".into(),
    };
    for (label, target, plain) in [
        ("≥ 0.90, refine allowed", 0.90, false),
        ("≥ 0.95, refine allowed", 0.95, false),
        ("≥ 0.80, no refine", 0.80, true),
    ] {
        let (o, p) = (best_qps(ours, target, plain), best_qps(peer, target, plain));
        let ratio = match (o, p) {
            (Some(o), Some(p)) => format!("{:.2}× the QPS", o.0 / p.0),
            _ => "—".into(),
        };
        s += &format!("| 1-thread QPS at recall@10 {label} | {} | {} | {ratio} |\n", cell(o), cell(p));
    }
    s += "\nFull sweep:\n\n| nprobe | refine | ailake recall | ailake QPS | FAISS recall | FAISS QPS |\n|---|---|---|---|---|---|\n";
    let empty = Vec::new();
    let (so, sp) = (ours["sweep"].as_array().unwrap_or(&empty), peer["sweep"].as_array().unwrap_or(&empty));
    for (o, p) in so.iter().zip(sp) {
        s += &format!(
            "| {} | {} | {:.4} | {:.0} | {:.4} | {:.0} |\n",
            o["nprobe"],
            o["refine"],
            f(o, "recall"),
            f(o, "qps"),
            f(p, "recall"),
            f(p, "qps")
        );
    }
    s
}

/// Appends one CSV row per sweep point of a result file.
fn csv_rows(csv: &mut String, dataset: &str, system: &str, index: &str, json: &Value, param: &str) {
    let build = json["build_s"].as_f64().unwrap_or(f64::NAN);
    for p in json["sweep"].as_array().into_iter().flatten() {
        csv.push_str(&format!(
            "{dataset},{system},{index},{build:.3},{},{},{:.4},{:.1}\n",
            p[param].as_u64().unwrap_or(0),
            p["refine"].as_u64().unwrap_or(1),
            p["recall"].as_f64().unwrap_or(f64::NAN),
            p["qps"].as_f64().unwrap_or(f64::NAN)
        ));
    }
}

/// ailake IVF-PQ (per-file index, queried in-process) against LanceDB's IVF_PQ table on the
/// same data and parameters.
fn lancedb_table(name: &str, ours: &Value, lance: &Value) -> String {
    let f = |v: &Value, k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    let mut s = format!(
        "### IVF-PQ vs LanceDB {} on `{name}` ({} × {}, nlist={}, m={})\n\n\
         LanceDB is queried as its users query it: one `search().to_arrow()` call per query, its own \
         thread pool inside each call, Python overhead included; ailake's QPS is one thread, in-process.\n\n",
        lance["version"].as_str().unwrap_or("?"),
        ours["rows"],
        ours["dim"],
        ours["nlist"],
        ours["m"]
    );
    s += "| | ailake | LanceDB | ailake / LanceDB |\n|---|---|---|---|\n";
    s += &format!(
        "| index build, raw vectors kept (s) | {:.2} | {:.2} | {:.2}× the time |\n",
        f(ours, "build_s"),
        f(lance, "build_s"),
        f(ours, "build_s") / f(lance, "build_s")
    );
    s += &format!("| LanceDB table write (rows/s) | — | {:.0} | — |\n", f(lance, "write_rows_per_s"));
    for (label, target, plain) in [("≥ 0.90, refine allowed", 0.90, false), ("≥ 0.80, no refine", 0.80, true)]
    {
        let (o, p) = (best_qps(ours, target, plain), best_qps(lance, target, plain));
        let cell = |r: Option<(f64, f64, u64, u64)>| match r {
            Some((qps, rec, np, rf)) => format!("{qps:.0} (recall {rec:.3}, nprobe {np}, refine {rf})"),
            None => "not reached".into(),
        };
        let ratio = match (o, p) {
            (Some(o), Some(p)) => format!("{:.1}× the QPS", o.0 / p.0),
            _ => "—".into(),
        };
        s += &format!("| QPS at recall@10 {label} | {} | {} | {ratio} |\n", cell(o), cell(p));
    }
    s += "\nLanceDB sweep (latency per query):\n\n| nprobe | refine | recall | QPS | p50 ms | p99 ms |\n|---|---|---|---|---|---|\n";
    for p in lance["sweep"].as_array().into_iter().flatten() {
        s += &format!(
            "| {} | {} | {:.4} | {:.0} | {:.2} | {:.2} |\n",
            p["nprobe"],
            p["refine"],
            f(p, "recall"),
            f(p, "qps"),
            f(p, "p50_ms"),
            f(p, "p99_ms")
        );
    }
    s
}

/// Mean time and throughput of every criterion benchmark found under `dir` (benchmarks with
/// a parameter are nested one level deeper: `group/function/parameter/new`).
fn criterion_table(dir: &Path) -> Result<String> {
    let mut found = Vec::new();
    collect_estimates(dir, &mut found)?;
    let mut rows = Vec::new();
    for bench in found {
        let rel = bench.strip_prefix(dir).unwrap_or(&bench);
        let parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
        let (group, name) = match parts.split_first() {
            Some((g, rest)) if !rest.is_empty() => (g.clone(), rest.join("/")),
            _ => continue,
        };
        let mean_ns = read_json(&bench.join("new/estimates.json"))?["mean"]["point_estimate"]
            .as_f64()
            .unwrap_or(f64::NAN);
        let info = read_json(&bench.join("new/benchmark.json")).ok();
        let thr = info.as_ref().map(|b| &b["throughput"]);
        let thr = match (thr.and_then(|t| t["Bytes"].as_f64()), thr.and_then(|t| t["Elements"].as_f64())) {
            (Some(b), _) => format!("{:.2} GB/s", b / mean_ns),
            (_, Some(e)) => format!("{:.0} elements/s", e / mean_ns * 1e9),
            _ => "—".to_string(),
        };
        rows.push(format!("| {group} | {name} | {} | {thr} |\n", human_time(mean_ns)));
    }
    rows.sort();
    Ok(format!(
        "### Criterion micro-benchmarks\n\n| group | benchmark | mean time | throughput |\n|---|---|---|---|\n{}\n\
         Throughput is bytes of input per second: `memcpy_reference` reads each byte once and writes it \
         once (so the memory system moves twice its figure); the kernels and the flat scan only read. \
         The 64 MiB streams fit this machine's L3; the 1 GiB streams and the 1M×128 flat scan (512 MB) \
         come from DRAM.\n",
        rows.concat()
    ))
}

/// Every directory under `dir` holding `new/estimates.json`.
fn collect_estimates(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in
        std::fs::read_dir(dir).with_context(|| format!("no criterion output in {}", dir.display()))?
    {
        let path = entry?.path();
        if !path.is_dir() || path.file_name().is_some_and(|n| n == "report" || n == "new" || n == "base") {
            continue;
        }
        if path.join("new/estimates.json").exists() {
            out.push(path);
        } else {
            collect_estimates(&path, out)?;
        }
    }
    Ok(())
}

fn human_time(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.3} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.3} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map_or("unknown CPU", |m| m.trim_start_matches([' ', '\t', ':']));
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines().next().map(|l| l.split_whitespace().nth(1).unwrap_or("0").parse::<u64>().unwrap_or(0))
        })
        .map_or(String::new(), |kb| format!(", {:.0} GiB RAM", kb as f64 / 1048576.0));
    let rustc = Command::new("rustc")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    format!("{model}, {cores} cores{mem}; {rustc}")
}

fn utc_now() -> Result<String> {
    let date = Command::new("date").arg("-u").arg("+%Y-%m-%d %H:%M UTC").output()?;
    Ok(String::from_utf8_lossy(&date.stdout).trim().to_string())
}

fn render(sections: &[String], quick: bool) -> Result<String> {
    let date = Command::new("date").arg("-u").arg("+%Y-%m-%d %H:%M UTC").output()?;
    if !date.status.success() {
        bail!("date failed");
    }
    Ok(format!(
        "# Benchmarks\n\nGenerated by `cargo xtask bench{}` — do not edit by hand; rerun the command.\n\n\
         - Machine: {}\n- Date: {}\n- Peers: hnswlib 0.8.0 (PyPI, built from source with the machine's compiler), \
         faiss-cpu 1.15.1 and lancedb 0.40.0 (PyPI wheels), in `.venv-bench` made by the command. \
         Every sweep point is in `docs/benchmarks.csv`.\n- Protocol: same TEXMEX files and ground truth for every system; recall@10 \
         computed identically; builds use 2 threads; queries run on one thread, fastest of 3 passes over the query set (peers: one batched call on one thread, \
         hnswlib `knn_query(num_threads=1)`, FAISS `search` under `omp_set_num_threads(1)`, so no Python per-call \
         cost is charged to them; ailake: a loop of single-query `search` calls; LanceDB: one `search` call per query, \
         see its tables).\n\n{}\n",
        if quick { " --quick" } else { "" },
        machine(),
        String::from_utf8_lossy(&date.stdout).trim(),
        sections.join("\n")
    ))
}
