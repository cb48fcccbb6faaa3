//! The big table's child processes: `bigtable-compact` (one compaction, reporting each step
//! on stdout and stopping at a chosen point for the parent to kill it) and `bigtable-search` (the
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

use super::load;
use crate::blocks::{cold, pass};
use crate::{Args, Loaded};

/// Where a compaction child stops and waits to be killed (`--hold-at`): at the first `READ`
/// line of reading pass `pass` (0: sample, then assign, then route; the sample pass only
/// while the table has no partitions) with at least `rows` rows read, after `files` output
/// files, or after the last output file (before the commit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Hold {
    Read { pass: usize, rows: u64 },
    Files(usize),
    LastFile,
}

impl Hold {
    fn arg(self) -> String {
        match self {
            Hold::Read { pass, rows } => format!("read:{pass}:{rows}"),
            Hold::Files(n) => format!("file:{n}"),
            Hold::LastFile => "last-file".to_string(),
        }
    }

    fn parse(s: &str) -> Result<Self> {
        let parts: Vec<&str> = s.split(':').collect();
        Ok(match parts.as_slice() {
            ["read", pass, rows] => Hold::Read { pass: pass.parse()?, rows: rows.parse()? },
            ["file", n] => Hold::Files(n.parse()?),
            ["last-file"] => Hold::LastFile,
            _ => bail!("--hold-at {s}: expected read:PASS:ROWS, file:N or last-file"),
        })
    }
}

/// The child: one compaction of the table in `--dir`, reporting on stdout (`READ`, `FILE`,
/// `DONE` lines ending with the process's peak RSS in MiB). With `--hold-at` it stops where
/// it says ([`Hold`]), prints `HOLD` and waits to be killed.
pub(crate) fn compact_child(args: &Args) -> Result<()> {
    let dir = PathBuf::from(args.req("--dir")?);
    let hold = args.get("--hold-at").map(Hold::parse).transpose()?;
    let rt = tokio::runtime::Runtime::new()?;
    let table = load(&rt, &dir)?;
    let spill = dir.join("spill");
    std::fs::create_dir_all(&spill)?;
    let say = |line: String| {
        println!("{line} {:.0}", memory::peak_mib());
        std::io::Write::flush(&mut std::io::stdout()).ok();
    };
    // (reading passes so far, rows the last READ line reported)
    let passes = std::sync::Mutex::new((0usize, 0u64));
    let opts = CompactOptions {
        target_rows: args.num("--target-rows", 100_000usize)?,
        index: IndexChoice::Flat,
        memory_bytes: args.num("--memory", 1usize << 30)?,
        spill_dir: Some(spill),
        progress: Some(Arc::new(move |p: CompactProgress| {
            let stop = if p.files_planned == 0 {
                say(format!("READ {} {}", p.rows_read, p.rows_planned));
                let mut state = passes.lock().unwrap_or_else(|e| e.into_inner());
                if p.rows_read < state.1 {
                    state.0 += 1;
                }
                state.1 = p.rows_read;
                matches!(hold, Some(Hold::Read { pass, rows }) if pass == state.0 && p.rows_read >= rows)
            } else {
                say(format!("FILE {} {}", p.files_written, p.files_planned));
                match hold {
                    Some(Hold::Files(n)) => p.files_written >= n,
                    Some(Hold::LastFile) => p.files_written == p.files_planned,
                    _ => false,
                }
            };
            if stop {
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

/// Runs one compaction child; with `hold`, kills it once it says it holds there.
pub(super) fn run_child(
    dir: &Path,
    target: usize,
    memory_bytes: usize,
    hold: Option<Hold>,
) -> Result<ChildRun> {
    let clock = Instant::now();
    let mut cmd = Command::new(std::env::current_exe()?);
    cmd.args(["bigtable-compact", "--dir", &dir.display().to_string()]).args([
        "--target-rows",
        &target.to_string(),
        "--memory",
        &memory_bytes.to_string(),
    ]);
    if let Some(h) = hold {
        cmd.args(["--hold-at", &h.arg()]);
    }
    let mut child = cmd.stdout(Stdio::piped()).spawn()?;
    let (mut lines, mut peak) = (Vec::new(), 0f64);
    for line in BufReader::new(child.stdout.take().context("child stdout")?).lines() {
        let line = line?;
        let fields: Vec<&str> = line.split_whitespace().collect();
        peak = peak.max(fields.last().and_then(|v| v.parse().ok()).unwrap_or(0.0));
        let kill = line.starts_with("HOLD");
        lines.push(line);
        if kill {
            child.kill()?;
            child.wait()?;
            let seconds = clock.elapsed().as_secs_f64();
            let at = lines.iter().rev().nth(1).map_or("", |s| s.as_str());
            eprintln!("  killed after {seconds:.0} s, held after: {at}");
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
    let table = load(&rt, &dir)?;
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
