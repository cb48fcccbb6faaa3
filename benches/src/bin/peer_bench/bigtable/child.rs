//! The big table's child processes: `bigtable-compact` (one compaction, reporting each step
//! on stdout so the parent can kill it at a chosen phase) and `bigtable-search` (the
//! out-of-cache and cold passes in a fresh process, so its peak RSS is the search's alone).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ailake::prelude::*;
use ailake::search::ShardCache;
use ailake::CompactProgress;
use ailake_benches::memory;
use ailk_testkit::texmex::{read_fvecs, read_ivecs, Matrix};
use anyhow::{bail, Context, Result};
use serde_json::json;

use super::{catalog, table_ident};
use crate::blocks::{cold, pass};
use crate::{Args, Loaded};

/// The child: one compaction of the table in `--dir`, reporting on stdout (`READ`, `FILE`,
/// `DONE` lines ending with the process's peak RSS in MiB). With `--hold-at-last-file` it
/// stops after reporting its last output file, before the commit, and waits to be killed.
pub(crate) fn compact_child(args: &Args) -> Result<()> {
    let dir = PathBuf::from(args.req("--dir")?);
    let hold = args.0.iter().any(|a| a == "--hold-at-last-file");
    let rt = tokio::runtime::Runtime::new()?;
    let table = rt.block_on(async {
        catalog(&dir).await?.load_table(&table_ident()?).await.map_err(anyhow::Error::from)
    })?;
    let spill = dir.join("spill");
    std::fs::create_dir_all(&spill)?;
    let say = |line: String| {
        println!("{line} {:.0}", memory::peak_mib());
        std::io::Write::flush(&mut std::io::stdout()).ok();
    };
    let opts = CompactOptions {
        target_rows: args.num("--target-rows", 100_000usize)?,
        index: IndexChoice::Flat,
        memory_bytes: args.num("--memory", 1usize << 30)?,
        spill_dir: Some(spill),
        progress: Some(Arc::new(move |p: CompactProgress| {
            if p.files_planned == 0 {
                say(format!("READ {} {}", p.rows_read, p.rows_planned));
                return;
            }
            say(format!("FILE {} {}", p.files_written, p.files_planned));
            if hold && p.files_written == p.files_planned {
                say("HOLD".to_string());
                loop {
                    std::thread::sleep(Duration::from_secs(3600));
                }
            }
        })),
        ..CompactOptions::default()
    };
    let out = rt.block_on(table.compact(&opts))?;
    println!("DONE {} {} {:.0}", out.files_removed, out.files_added, memory::peak_mib());
    Ok(())
}

/// One compaction child's run.
pub(super) struct ChildRun {
    pub completed: bool,
    pub seconds: f64,
    pub peak_rss_mib: f64,
    pub lines: Vec<String>,
}

/// Runs one compaction child, killed at the first line for which `kill_when(line, pass)`
/// holds (`pass` counts the reading passes so far from 0: sample, assign, route — the sample
/// pass only while the table has no partitions).
pub(super) fn run_child(
    dir: &Path,
    target: usize,
    memory_bytes: usize,
    hold_at_last_file: bool,
    kill_when: impl Fn(&str, usize) -> bool,
) -> Result<ChildRun> {
    let clock = Instant::now();
    let mut cmd = Command::new(std::env::current_exe()?);
    cmd.args(["bigtable-compact", "--dir", &dir.display().to_string()]).args([
        "--target-rows",
        &target.to_string(),
        "--memory",
        &memory_bytes.to_string(),
    ]);
    if hold_at_last_file {
        cmd.arg("--hold-at-last-file");
    }
    let mut child = cmd.stdout(Stdio::piped()).spawn()?;
    let (mut lines, mut peak, mut passes, mut last_read) = (Vec::new(), 0f64, 0usize, 0u64);
    for line in BufReader::new(child.stdout.take().context("child stdout")?).lines() {
        let line = line?;
        let fields: Vec<&str> = line.split_whitespace().collect();
        peak = peak.max(fields.last().and_then(|v| v.parse().ok()).unwrap_or(0.0));
        if fields.first() == Some(&"READ") {
            let read: u64 = fields[1].parse().unwrap_or(0);
            if read < last_read {
                passes += 1;
            }
            last_read = read;
        }
        let kill = kill_when(&line, passes);
        lines.push(line);
        if kill {
            child.kill()?;
            child.wait()?;
            let seconds = clock.elapsed().as_secs_f64();
            eprintln!("  killed after {seconds:.0} s: {}", lines.last().map_or("", |s| s.as_str()));
            return Ok(ChildRun { completed: false, seconds, peak_rss_mib: peak, lines });
        }
    }
    let status = child.wait()?;
    if !status.success() {
        bail!("the compaction child failed: {status}");
    }
    let seconds = clock.elapsed().as_secs_f64();
    eprintln!("  completed in {seconds:.0} s: {}", lines.last().map_or("", |s| s.as_str()));
    Ok(ChildRun { completed: true, seconds, peak_rss_mib: peak, lines })
}

/// The child: the out-of-cache pass (`--budget` bytes of cache, not warmed) and the cold
/// passes at `--probes`, over `query.fvecs`/`gt.ivecs` in `--dir`; writes them and the
/// process's peak RSS to `--out`.
pub(crate) fn search_child(args: &Args) -> Result<()> {
    let dir = PathBuf::from(args.req("--dir")?);
    let rss_before = memory::reset_peak();
    let rt = tokio::runtime::Runtime::new()?;
    let table = rt.block_on(async {
        catalog(&dir).await?.load_table(&table_ident()?).await.map_err(anyhow::Error::from)
    })?;
    let queries = read_fvecs(dir.join("query.fvecs"), None)?;
    let gt = read_ivecs(dir.join("gt.ivecs"), None)?;
    let truth = (0..gt.rows()).map(|i| gt.row(i).iter().map(|&x| x as u32).collect()).collect();
    let nq = queries.rows();
    let l = Loaded { base: Matrix { dim: queries.dim, data: Vec::new() }, queries, truth };
    let at =
        SearchParams { partition_probes: Some(args.num("--probes", 16usize)?), ..SearchParams::default() };
    let budget: u64 = args.num("--budget", 0u64)?;
    let out_of_cache = pass(&rt, &table, &l, nq, &at, Arc::new(ShardCache::new(budget)), false)?;
    let peak = memory::peak_mib();
    let cold = cold(&rt, &dir, &table, &l, nq, &at)?;
    let v = json!({"out_of_cache": out_of_cache, "cold_simulated": cold,
        "rss_before_mib": rss_before, "peak_rss_mib": peak});
    std::fs::write(args.req("--out")?, serde_json::to_string_pretty(&v)?)?;
    Ok(())
}

/// Runs [`search_child`] and returns what it wrote.
pub(super) fn run_search_child(dir: &Path, probes: u64, budget: u64) -> Result<serde_json::Value> {
    let out = dir.join("search-child.json");
    let status = Command::new(std::env::current_exe()?)
        .args(["bigtable-search", "--dir", &dir.display().to_string()])
        .args(["--probes", &probes.to_string(), "--budget", &budget.to_string()])
        .args(["--out", &out.display().to_string()])
        .status()?;
    if !status.success() {
        bail!("the search child failed: {status}");
    }
    Ok(serde_json::from_slice(&std::fs::read(&out)?)?)
}
