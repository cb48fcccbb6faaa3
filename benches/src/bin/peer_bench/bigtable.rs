//! `peer_bench bigtable`: a table larger than memory (issue 31), built and searched on this
//! machine. A streamed Gaussian mixture (`--rows` × `--dim`, L2) is written as `--files`
//! unindexed files with its exact top-10 computed on the way (never all in memory); then
//! compacted by child processes (`bigtable-compact`): the first is killed while it reads the
//! files, the second after `--kill-after` output files, the third resumes and commits. Every
//! kill leaves the table as it was; the end holds every id exactly once. Then searched through
//! the partition blocks in cache, out of cache (a tenth of the index) and cold on the simulated
//! store. Peak RSS of each child and of the search, against the raw vector bytes.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use ailake::prelude::*;
use ailake::search::ShardCache;
use ailake::CompactProgress;
use ailake_benches::memory;
use ailk_testkit::synthetic::StreamedMixture;
use ailk_testkit::texmex::Matrix;
use anyhow::{bail, Context, Result};
use arrow_array::{ArrayRef, Int64Array, RecordBatch};
use serde_json::{json, Value};

use crate::blocks::{best, cold, pass};
use crate::scale::attributes;
use crate::{Args, Loaded};

const CLUSTERS: usize = 1000;
const SPREAD: f32 = 0.5;
const SEED: u64 = 42;

fn table_ident() -> Result<TableIdent> {
    Ok(TableIdent::new("bench", "big")?)
}

async fn catalog(dir: &Path) -> Result<Catalog> {
    Ok(Catalog::local(dir.join("catalog.db"), "default", dir.join("wh")).await?)
}

/// Top-10 (distance, id) of each query, kept sorted.
fn merge_truth(truth: &mut [Vec<(f32, u32)>], queries: &[f32], rows: &[f32], first: usize, dim: usize) {
    use rayon::prelude::*;
    truth.par_iter_mut().enumerate().for_each(|(qi, best)| {
        let q = &queries[qi * dim..(qi + 1) * dim];
        for (r, v) in rows.chunks_exact(dim).enumerate() {
            let d = ailk_index::kernels::l2_sq(q, v);
            if best.len() < 10 || d < best[best.len() - 1].0 {
                let at = best.partition_point(|&(x, _)| x <= d);
                best.insert(at, (d, (first + r) as u32));
                best.truncate(10);
            }
        }
    });
}

/// Writes the table (unindexed files, one commit) and returns the queries, their truth and
/// the seconds it took.
fn build(
    rt: &tokio::runtime::Runtime,
    dir: &Path,
    rows: usize,
    dim: usize,
    files: usize,
    nq: usize,
) -> Result<(Matrix<f32>, Vec<Vec<u32>>, f64)> {
    let mix = StreamedMixture::new(dim, CLUSTERS, SPREAD, SEED);
    let queries = mix.queries(nq, SEED + 1);
    let mut truth = vec![Vec::new(); nq];
    let catalog = rt.block_on(catalog(dir))?;
    let spec = VectorSpec::new("embedding", dim as u32, Metric::L2);
    let table = rt.block_on(catalog.create_table(&table_ident()?, &attributes(), &[spec]))?;
    let writer = table.writer(WritePolicy::default())?;
    let per = rows.div_ceil(files);
    let clock = Instant::now();
    for start in (0..rows).step_by(per) {
        let end = (start + per).min(rows);
        let values = mix.rows(start..end);
        merge_truth(&mut truth, &queries, &values, start, dim);
        let id: ArrayRef = Arc::new(Int64Array::from_iter_values((start..end).map(|i| i as i64)));
        let batch = RecordBatch::try_new(Arc::new(attributes()), vec![id])?;
        let opts = WriteOptions::default().index(IndexChoice::Flat);
        rt.block_on(writer.write_flat(&batch, &[("embedding", &values)], &opts))?;
        eprintln!("  wrote rows {start}..{end} ({:.0} s)", clock.elapsed().as_secs_f64());
    }
    rt.block_on(writer.commit())?;
    let truth = truth.into_iter().map(|t| t.into_iter().map(|(_, id)| id).collect()).collect();
    Ok((Matrix { dim, data: queries }, truth, clock.elapsed().as_secs_f64()))
}

/// The child: one compaction of the table in `--dir`, reporting on stdout (`READ`, `FILE`,
/// `DONE` lines with the process's peak RSS in MiB).
pub(crate) fn compact_child(args: &Args) -> Result<()> {
    let dir = PathBuf::from(args.req("--dir")?);
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
            } else {
                say(format!("FILE {} {}", p.files_written, p.files_planned));
            }
        })),
        ..CompactOptions::default()
    };
    let out = rt.block_on(table.compact(&opts))?;
    println!("DONE {} {} {:.0}", out.files_removed, out.files_added, memory::peak_mib());
    Ok(())
}

/// One compaction child, killed when `kill_when` says so for a line; returns (completed,
/// seconds, peak RSS MiB, lines).
fn run_child(
    dir: &Path,
    target: usize,
    memory_bytes: usize,
    kill_when: impl Fn(&str, usize) -> bool,
) -> Result<(bool, f64, f64, Vec<String>)> {
    let clock = Instant::now();
    let mut child = Command::new(std::env::current_exe()?)
        .args(["bigtable-compact", "--dir", &dir.display().to_string()])
        .args(["--target-rows", &target.to_string(), "--memory", &memory_bytes.to_string()])
        .stdout(Stdio::piped())
        .spawn()?;
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
            eprintln!("  killed after {:.0} s: {}", clock.elapsed().as_secs_f64(), lines.last().unwrap());
            return Ok((false, clock.elapsed().as_secs_f64(), peak, lines));
        }
    }
    let status = child.wait()?;
    if !status.success() {
        bail!("the compaction child failed: {status}");
    }
    eprintln!(
        "  completed in {:.0} s: {}",
        clock.elapsed().as_secs_f64(),
        lines.last().map_or("", |s| s.as_str())
    );
    Ok((true, clock.elapsed().as_secs_f64(), peak, lines))
}

/// Every id of the table's live files, checked to be 0..rows exactly once.
fn check_ids(rt: &tokio::runtime::Runtime, table: &Table, rows: usize) -> Result<()> {
    let table = rt.block_on(table.refresh())?;
    let mut seen = vec![false; rows];
    for f in rt.block_on(table.live_files())?.iter() {
        for b in rt.block_on(ailake::search::read_table_columns(&table, f.path(), &["id"]))? {
            let ids = b.column(0).as_any().downcast_ref::<Int64Array>().context("id column")?;
            for &id in ids.values() {
                let slot = seen.get_mut(id as usize).context("an id out of range")?;
                if std::mem::replace(slot, true) {
                    bail!("id {id} twice");
                }
            }
        }
    }
    if let Some(missing) = seen.iter().position(|s| !s) {
        bail!("id {missing} lost");
    }
    Ok(())
}

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .flatten()
            .map(|e| match e.metadata() {
                Ok(m) if m.is_dir() => dir_bytes(&e.path()),
                Ok(m) => m.len(),
                Err(_) => 0,
            })
            .sum()
    })
}

pub(crate) fn bigtable(args: &Args) -> Result<()> {
    let rows: usize = args.num("--rows", 10_000_000)?;
    let dim: usize = args.num("--dim", 128)?;
    let files: usize = args.num("--files", 100)?;
    let target: usize = args.num("--target-rows", 100_000)?;
    let memory_bytes: usize = args.num("--memory", 1usize << 30)?;
    let kill_after: usize = args.num("--kill-after", 10)?;
    let nq: usize = args.num("--queries", 100)?;
    let tmp = tempfile::tempdir_in(args.get("--work").unwrap_or("target"))?;
    let dir = tmp.path();
    let rt = tokio::runtime::Runtime::new()?;
    eprintln!("bigtable: {rows} × {dim} as {files} files in {}", dir.display());
    let (queries, truth, write_s) = build(&rt, dir, rows, dim, files, nq)?;
    let source_bytes = dir_bytes(&dir.join("wh"));
    let table = rt.block_on(async {
        catalog(dir).await?.load_table(&table_ident()?).await.map_err(anyhow::Error::from)
    })?;
    let snapshot = table.snapshot_id();

    // Kill 1: half-way through the pass that assigns rows to partitions (the second reading
    // pass: the first samples for training).
    let half = (rows / 2).to_string();
    let (_, s1, rss1, _) = run_child(dir, target, memory_bytes, |line, passes| {
        passes == 1
            && line.starts_with("READ ")
            && line.split_whitespace().nth(1).and_then(|r| r.parse::<usize>().ok()) >= half.parse().ok()
    })?;
    anyhow::ensure!(rt.block_on(table.refresh())?.snapshot_id() == snapshot, "a killed compaction committed");
    // Kill 2: after `kill_after` output files.
    let (_, s2, rss2, _) = run_child(dir, target, memory_bytes, |line, _| {
        line.starts_with("FILE ")
            && line.split_whitespace().nth(1).and_then(|f| f.parse::<usize>().ok()) >= Some(kill_after)
    })?;
    anyhow::ensure!(rt.block_on(table.refresh())?.snapshot_id() == snapshot, "a killed compaction committed");
    let peak_disk = dir_bytes(dir);
    // The third run resumes and commits.
    let (done, s3, rss3, lines) = run_child(dir, target, memory_bytes, |_, _| false)?;
    anyhow::ensure!(done, "the last compaction did not finish");
    let resumed_with = lines
        .iter()
        .find(|l| l.starts_with("FILE "))
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<usize>().ok())
        .unwrap_or(0);
    let table = rt.block_on(table.refresh())?;
    check_ids(&rt, &table, rows)?;
    eprintln!("  every id once after kills at the assign pass and at file {kill_after}; resumed with {resumed_with} files");

    // Search.
    let summaries = rt.block_on(table.shard_summaries())?.unwrap_or_default();
    let index_bytes: u64 = summaries.iter().filter_map(|s| s.section.map(|(_, len)| len)).sum();
    let l = Loaded { base: Matrix { dim, data: Vec::new() }, queries, truth };
    let rss_search = memory::reset_peak();
    let mut sweep = Vec::new();
    for probes in [16usize, 32, 64, 128, 256, 512] {
        let params = SearchParams { partition_probes: Some(probes), ..SearchParams::default() };
        sweep.push(pass(&rt, &table, &l, nq, &params, Arc::new(ShardCache::new(64 << 30)), true)?);
    }
    let in_cache = best(&sweep);
    let at = SearchParams {
        partition_probes: in_cache["probes"].as_u64().map(|p| p as usize),
        ..SearchParams::default()
    };
    let budget = index_bytes / 10;
    // No warm-up: the measured queries meet a cache holding only what earlier queries left.
    let out_of_cache = pass(&rt, &table, &l, nq, &at, Arc::new(ShardCache::new(budget)), false)?;
    let search_peak = memory::peak_mib();
    let cold = cold(&rt, dir, &table, &l, nq, &at)?;
    let raw = (rows * dim * 4) as u64;
    let result = json!({
        "rows": rows, "dim": dim, "source_files": files, "target_rows": target, "memory_bytes": memory_bytes,
        "write_s": write_s, "source_bytes": source_bytes, "raw_vector_bytes": raw, "peak_disk_bytes": peak_disk,
        "compaction": {
            "killed_reading": {"seconds": s1, "peak_rss_mib": rss1},
            "killed_writing": {"seconds": s2, "peak_rss_mib": rss2, "after_files": kill_after},
            "resumed": {"seconds": s3, "peak_rss_mib": rss3, "files_already_written": resumed_with},
            "files_added": summaries.len(),
        },
        "index_bytes": index_bytes, "files_with_blocks": summaries.iter().filter(|s| s.blocks.is_some()).count(),
        "in_cache": in_cache, "sweep": sweep, "cache_budget": budget, "out_of_cache": out_of_cache,
        "cold_simulated": cold, "search_rss_before_mib": rss_search, "search_peak_rss_mib": search_peak,
    });
    let out: Value = result;
    std::fs::write(args.req("--out")?, serde_json::to_string_pretty(&out)?)?;
    Ok(())
}
