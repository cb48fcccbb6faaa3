//! `peer_bench bigtable`: a table larger than memory (issue 31), built and searched on this
//! machine. A streamed Gaussian mixture (`--rows` × `--dim`, L2) is written as `--files`
//! unindexed files with its exact top-10 computed on the way (never all in memory; with
//! `--peer-data DIR` also as a TEXMEX directory for the peers). Then compacted by child
//! processes (`bigtable-compact`), each stopped at a phase and killed there — half-way through
//! the sample pass, after it (before training), half-way through the assign pass and the
//! route pass, after `--kill-after` output files, after the last output file before the
//! commit — and the last run resumes and commits. Every kill leaves the table at its
//! snapshot; the end holds every id exactly once. Then searched through the partition blocks:
//! in cache (a probe sweep, in this process), and out of cache (a tenth of the index) and cold
//! on the simulated store in a fresh child process (`bigtable-search`), so each peak RSS
//! belongs to its own pass. Peak RSS of each child and of the search, against the raw vector
//! bytes.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ailake::prelude::*;
use ailake::search::ShardCache;
use ailake_benches::memory;
use anyhow::{bail, Context, Result};
use arrow_array::Int64Array;
use serde_json::json;

use crate::blocks::{best, pass};
use crate::{Args, Loaded};

mod build;
mod child;

use child::Hold;
pub(crate) use child::{compact_child, search_child};

const CLUSTERS: usize = 1000;
const SPREAD: f32 = 0.5;
const SEED: u64 = 42;

fn table_ident() -> Result<TableIdent> {
    Ok(TableIdent::new("bench", "big")?)
}

async fn catalog(dir: &Path) -> Result<Catalog> {
    Ok(Catalog::local(dir.join("catalog.db"), "default", dir.join("wh")).await?)
}

/// The big table of the catalog in `dir`.
fn load(rt: &tokio::runtime::Runtime, dir: &Path) -> Result<Table> {
    rt.block_on(async { Ok(catalog(dir).await?.load_table(&table_ident()?).await?) })
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
    let peer_data = args.get("--peer-data").map(PathBuf::from);
    let tmp = tempfile::tempdir_in(args.get("--work").unwrap_or("target"))?;
    let dir = tmp.path();
    let rt = tokio::runtime::Runtime::new()?;
    eprintln!("bigtable: {rows} × {dim} as {files} files in {}", dir.display());
    let built = build::build(&rt, dir, (rows, dim, files), nq, peer_data.as_deref())?;
    let source_bytes = dir_bytes(&dir.join("wh"));
    let table = load(&rt, dir)?;
    let snapshot = table.snapshot_id();

    // The kills, in order (the sample pass exists until a run has trained the partitions).
    // Each child stops where it is told and is killed there: the same points on every run.
    let half = (rows / 2) as u64;
    let phases = [
        ("killed half-way through the sample pass", Hold::Read { pass: 0, rows: half }),
        (
            "killed after the sample pass, before training the partitions",
            Hold::Read { pass: 0, rows: rows as u64 },
        ),
        ("killed half-way through the assign pass", Hold::Read { pass: 1, rows: half }),
        ("killed half-way through the route pass (rows spilled)", Hold::Read { pass: 1, rows: half }),
        ("killed after some output files", Hold::Files(kill_after)),
        ("killed after its last output file, before the commit", Hold::LastFile),
    ];
    let (mut runs, mut peak_disk) = (Vec::new(), 0u64);
    for (label, hold) in phases {
        let r = child::run_child(dir, target, memory_bytes, Some(hold))?;
        if r.completed {
            bail!("the compaction child finished where it should have been killed ({label})");
        }
        anyhow::ensure!(
            rt.block_on(table.refresh())?.snapshot_id() == snapshot,
            "a killed compaction committed ({label})"
        );
        peak_disk = peak_disk.max(dir_bytes(dir));
        let trained =
            rt.block_on(ailake::load_partitions(&rt.block_on(table.refresh())?, "embedding"))?.is_some();
        let ends = match hold {
            Hold::Files(n) => format!("killed after {n} output files"),
            _ => label.to_string(),
        };
        runs.push(json!({"ends": ends, "seconds": r.seconds, "peak_rss_mib": r.peak_rss_mib, "partitions_trained": trained}));
    }
    // The last run resumes and commits.
    let last = child::run_child(dir, target, memory_bytes, None)?;
    anyhow::ensure!(last.completed, "the last compaction did not finish");
    let resumed_with = last
        .lines
        .iter()
        .find(|l| l.starts_with("FILE "))
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<usize>().ok())
        .unwrap_or(0);
    runs.push(json!({"ends": format!("resumed with {resumed_with} output files already written; committed"),
        "seconds": last.seconds, "peak_rss_mib": last.peak_rss_mib}));
    let table = rt.block_on(table.refresh())?;
    anyhow::ensure!(table.snapshot_id() != snapshot, "the last compaction committed nothing");
    check_ids(&rt, &table, rows)?;
    eprintln!("  every id once after {} kills; resumed with {resumed_with} files", phases.len());

    // Search: in cache here, out of cache and cold in a fresh process.
    let summaries = rt.block_on(table.shard_summaries())?.unwrap_or_default();
    let index_bytes: u64 = summaries.iter().filter_map(|s| s.section.map(|(_, len)| len)).sum();
    let partitions = rt.block_on(ailake::load_partitions(&table, "embedding"))?.map_or(0, |p| p.len());
    let l = Loaded {
        base: ailk_testkit::texmex::Matrix { dim, data: Vec::new() },
        queries: built.queries,
        truth: built.truth,
    };
    let rss_search = memory::reset_peak();
    let mut sweep = Vec::new();
    for probes in [8usize, 16, 32, 64, 128, 256, 512] {
        let params = SearchParams { partition_probes: Some(probes), ..SearchParams::default() };
        sweep.push(pass(&rt, &table, &l, nq, &params, Arc::new(ShardCache::new(64 << 30)), true)?);
    }
    let in_cache = best(&sweep);
    let in_cache_peak = memory::peak_mib();
    let probes = in_cache["probes"].as_u64().context("no probe count in the sweep")?;
    let budget = index_bytes / 10;
    // No warm-up there: the measured queries meet a cache holding only what earlier ones left.
    let out = child::run_search_child(dir, probes, budget)?;
    let raw = (rows * dim * 4) as u64;
    let result = json!({
        "rows": rows, "dim": dim, "source_files": files, "target_rows": target, "memory_bytes": memory_bytes,
        "write_s": built.seconds, "source_bytes": source_bytes, "raw_vector_bytes": raw, "peak_disk_bytes": peak_disk,
        "compaction": {"runs": runs, "files_added": summaries.len(), "files_already_written": resumed_with},
        "partitions": partitions, "index_bytes": index_bytes,
        "files_with_blocks": summaries.iter().filter(|s| s.blocks.is_some()).count(),
        "in_cache": in_cache, "sweep": sweep, "cache_budget": budget, "out_of_cache": out["out_of_cache"],
        "cold_simulated": out["cold_simulated"],
        "in_cache_rss_before_mib": rss_search, "in_cache_peak_rss_mib": in_cache_peak,
        "out_of_cache_rss_before_mib": out["rss_before_mib"], "out_of_cache_peak_rss_mib": out["peak_rss_mib"],
        "peer_data": peer_data.map(|p| p.display().to_string()),
    });
    std::fs::write(args.req("--out")?, serde_json::to_string_pretty(&result)?)?;
    Ok(())
}
