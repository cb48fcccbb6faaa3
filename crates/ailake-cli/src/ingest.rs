//! `ailake ingest`: append files to a table in batches, each batch one indexed data file,
//! committed once at the end or every N batches; batch ids make a rerun write each batch once.

use std::path::PathBuf;
use std::time::Instant;

use ailake::prelude::*;
use clap::{Args, ValueEnum};

use crate::errors::invalid;
use crate::inputs::{batches, plan};
use crate::lake::{at_least_one, LakeArgs};
use crate::progress::{count, rows_bar, say};

/// The index each batch's file gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum IndexArg {
    /// HNSW graph.
    Hnsw,
    /// IVF-PQ with the table's shared codebook.
    IvfPq,
    /// HNSW or IVF-PQ by size and cores.
    Auto,
    /// HNSW built in the background (same as `--index hnsw --deferred`).
    Deferred,
    /// No index: searched by exact scan.
    None,
}

/// Append Parquet files (the vector column as FixedSizeList or List of floats), or one
/// .npy/.fvecs vector file with its attribute rows, to a table.
///
/// Each batch of --batch-rows rows becomes one data file with its index. With --batch-id, batch
/// N is written as `PREFIX/N` exactly once: rerun the same command after a crash and the
/// batches already committed are skipped.
///
/// Examples:
///   ailake ingest docs.chunks part-0.parquet part-1.parquet --index ivf-pq --batch-id load-7
///   ailake ingest docs.chunks vectors.npy --attributes rows.csv --commit-every 4
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct IngestArgs {
    /// The table, `namespace.name`.
    pub table: String,
    /// Input files: `.parquet`, or one `.npy` / `.fvecs` (with --attributes).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The attribute rows of a .npy/.fvecs file: Parquet, or CSV with a header.
    #[arg(long, value_name = "FILE")]
    pub attributes: Option<PathBuf>,
    /// Index of the written files.
    #[arg(long, value_enum, default_value_t = IndexArg::Hnsw)]
    pub index: IndexArg,
    /// Return once each file is stored and build its index in the background (searched
    /// exactly until then).
    #[arg(long)]
    pub deferred: bool,
    /// Rows per batch (one data file each).
    #[arg(long, default_value_t = 20_000, value_parser = at_least_one)]
    pub batch_rows: u64,
    /// Batch id prefix: batch N is written once as `PREFIX/N`, across reruns.
    #[arg(long, value_name = "PREFIX")]
    pub batch_id: Option<String>,
    /// Commit every N batches (0: one commit at the end).
    #[arg(long, default_value_t = 0)]
    pub commit_every: usize,
    /// With deferred builds, exit after the commit without waiting for them (resume them
    /// later with `ailake resume-indexing`).
    #[arg(long)]
    pub no_wait: bool,
}

impl IngestArgs {
    fn options(&self, batch: usize) -> WriteOptions {
        let mut opts = match self.index {
            IndexArg::Hnsw | IndexArg::Deferred => WriteOptions::default().index(IndexChoice::Hnsw),
            IndexArg::IvfPq => WriteOptions::default().index(IndexChoice::IvfPq(None)),
            IndexArg::Auto => WriteOptions::default().index(IndexChoice::Auto),
            IndexArg::None => WriteOptions::default().index(IndexChoice::Flat),
        };
        if self.deferred || self.index == IndexArg::Deferred {
            opts = opts.deferred();
        }
        if let Some(prefix) = &self.batch_id {
            opts = opts.batch_id(format!("{prefix}/{batch}"));
        }
        opts
    }
}

pub async fn run(lake: &LakeArgs, args: IngestArgs) -> anyhow::Result<()> {
    if args.batch_id.as_deref().is_some_and(|p| p.is_empty() || p.contains(',')) {
        return Err(invalid("--batch-id must be non-empty and contain no comma"));
    }
    let table = lake.table(&args.table).await?;
    // Every input is checked before anything is written.
    let sources = plan(&table, &args.files, args.attributes.as_deref())?;
    let total: usize = sources.iter().map(|s| s.rows()).sum();
    let writer = table.writer(WritePolicy::default())?;
    let bar = rows_bar(total as u64);
    let started = Instant::now();
    let (mut batch, mut staged, mut written_rows, mut skipped, mut commits) =
        (0usize, 0usize, 0usize, 0usize, 0usize);
    let mut last_snapshot = table.snapshot_id();
    for source in &sources {
        tracing::info!(file = %source.path().display(), rows = source.rows(), "ingesting");
        for b in batches(source, &table, args.batch_rows as usize)? {
            let b = b?;
            let rows = b.num_rows();
            match writer.write(&b, &args.options(batch)).await? {
                Some(w) => {
                    staged += 1;
                    written_rows += w.rows;
                    tracing::info!(batch, path = %w.path, rows = w.rows, "batch written");
                }
                None => {
                    skipped += 1;
                    say(
                        &bar,
                        format!(
                            "batch {batch} already written (batch id {}/{batch}): skipped",
                            args.batch_id.as_deref().unwrap_or("")
                        ),
                    );
                }
            }
            bar.inc(rows as u64);
            batch += 1;
            if args.commit_every > 0 && staged >= args.commit_every {
                let id = writer.commit().await?;
                let staged_batches = count(staged as u64, "batch", "batches");
                say(&bar, format!("committed snapshot {id} ({staged_batches}, through batch {})", batch - 1));
                last_snapshot = Some(id);
                (staged, commits) = (0, commits + 1);
            }
        }
    }
    if staged > 0 {
        let id = writer.commit().await?;
        let staged_batches = count(staged as u64, "batch", "batches");
        say(&bar, format!("committed snapshot {id} ({staged_batches}, through batch {})", batch - 1));
        last_snapshot = Some(id);
        commits += 1;
    }
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{}: {} written in {} ({skipped} already written) in {secs:.1} s ({:.0} rows/s), {}, snapshot {}",
        args.table,
        count(written_rows as u64, "row", "rows"),
        count(batch as u64, "batch", "batches"),
        written_rows as f64 / secs.max(1e-9),
        count(commits as u64, "commit", "commits"),
        last_snapshot.map_or("none".into(), |s| s.to_string())
    );
    let deferred = args.deferred || args.index == IndexArg::Deferred;
    if deferred && written_rows > 0 {
        if args.no_wait {
            println!(
                "index builds continue only while this process runs: run `ailake resume-indexing {}`",
                args.table
            );
        } else {
            let waited = Instant::now();
            writer.wait_indexed().await?;
            println!("background index builds done in {:.1} s", waited.elapsed().as_secs_f64());
        }
    }
    Ok(())
}
