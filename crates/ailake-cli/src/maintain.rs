//! `ailake compact` and `ailake expire`: keep a table fast and its metadata small.

use std::sync::Arc;

use ailake::prelude::*;
use ailake::CompactProgress;
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use crate::info::parse_age;
use crate::lake::LakeArgs;

/// The index compacted files get.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompactIndex {
    /// HNSW graph.
    Hnsw,
    /// IVF-PQ trained per file.
    IvfPq,
    /// HNSW or IVF-PQ by size and cores.
    Auto,
}

/// Rewrite small, unclustered or delete-carrying files into target-size files that each hold
/// whole coarse partitions of the table, so a search visits few files.
///
/// The partitions are trained on the first compaction (a table file named in the table
/// properties); files written later record which partitions they hold. One Iceberg `replace`
/// commit; the replaced files stay for time travel until `ailake expire` and `ailake vacuum`.
///
/// Examples:
///   ailake compact docs.chunks
///   ailake compact docs.chunks --target-rows 200000 --index ivf-pq
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct CompactArgs {
    /// The table, `namespace.name`.
    pub table: String,
    /// Rows per new file.
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub target_rows: u64,
    /// Only merge small files and purge deleted rows (no clustering by partitions).
    #[arg(long)]
    pub no_cluster: bool,
    /// The index of the new files.
    #[arg(long, value_enum, default_value = "hnsw")]
    pub index: CompactIndex,
    /// Rows rewritten at most by this call (bounds memory; run again for the rest).
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_rows: u64,
}

pub async fn compact(lake: &LakeArgs, args: CompactArgs) -> anyhow::Result<()> {
    let table = lake.table(&args.table).await?;
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} files ({msg} rows)",
        )
        .expect("a valid template"),
    );
    let progress_bar = bar.clone();
    let opts = CompactOptions {
        target_rows: args.target_rows as usize,
        cluster: !args.no_cluster,
        index: match args.index {
            CompactIndex::Hnsw => IndexChoice::Hnsw,
            CompactIndex::IvfPq => IndexChoice::IvfPq(None),
            CompactIndex::Auto => IndexChoice::Auto,
        },
        max_rows: args.max_rows as usize,
        progress: Some(Arc::new(move |p: CompactProgress| {
            progress_bar.set_length(p.files_planned as u64);
            progress_bar.set_position(p.files_written as u64);
            progress_bar.set_message(p.rows_written.to_string());
        })),
        ..Default::default()
    };
    let out = table.compact(&opts).await;
    bar.finish_and_clear();
    let out = out?;
    match out.snapshot_id {
        None => println!("{}: nothing to compact", args.table),
        Some(snapshot) => println!(
            "{}: {} files -> {} files, {} rows rewritten, {} deleted rows purged, snapshot {snapshot}",
            args.table, out.files_removed, out.files_added, out.rows, out.deleted_rows_purged
        ),
    }
    Ok(())
}

/// Expire old snapshots so the table's metadata stays small; `ailake vacuum` then deletes the
/// files only they referenced. Time travel to an expired snapshot ends, and so does batch-id
/// idempotency through it.
///
/// Example: ailake expire docs.chunks --older-than 7d --retain-last 10
#[derive(Debug, Args)]
pub struct ExpireArgs {
    /// The table, `namespace.name`.
    pub table: String,
    /// Expire snapshots at least this old: `30s`, `15m`, `1h`, `2d`.
    #[arg(long, default_value = "7d", value_parser = parse_age)]
    pub older_than: std::time::Duration,
    /// Keep at least this many of the newest snapshots.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub retain_last: u64,
}

pub async fn expire(lake: &LakeArgs, args: ExpireArgs) -> anyhow::Result<()> {
    let table = lake.table(&args.table).await?;
    let expired = table.expire_snapshots(args.older_than, args.retain_last as usize).await?;
    println!(
        "{}: {} snapshots expired (run `ailake vacuum` to delete their files)",
        args.table,
        expired.len()
    );
    Ok(())
}
