//! `ailake compact`, `expire`, `resume-indexing` and `vacuum`: keep a table fast, its index
//! complete and its storage small. Each shows its progress on a terminal.

use std::sync::Arc;

use ailake::prelude::*;
use ailake::{CompactProgress, IndexProgress};
use clap::{Args, ValueEnum};

use crate::info::parse_age;
use crate::lake::{at_least_one, byte_size, LakeArgs};
use crate::progress::{count, rows_bar, spinner};

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
///   ailake compact docs.chunks --memory 4G --spill-dir /mnt/scratch
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct CompactArgs {
    /// The table, `namespace.name`.
    pub table: String,
    /// Rows per new file.
    #[arg(long, default_value_t = 100_000, value_parser = at_least_one)]
    pub target_rows: u64,
    /// Only merge small files and purge deleted rows (no clustering by partitions).
    #[arg(long)]
    pub no_cluster: bool,
    /// The index of the new files.
    #[arg(long, value_enum, default_value = "hnsw")]
    pub index: CompactIndex,
    /// Rows rewritten at most by this call (run again for the rest); all by default.
    #[arg(long, value_parser = at_least_one)]
    pub max_rows: Option<u64>,
    /// Memory for the rows being rewritten: more than this is compacted in passes, spilling
    /// to local disk and resumable if the run is cut off (`512M`, `4G`).
    #[arg(long, default_value = "1G", value_parser = byte_size)]
    pub memory: u64,
    /// Where rows spill (default: the system's temporary directory).
    #[arg(long)]
    pub spill_dir: Option<std::path::PathBuf>,
}

pub async fn compact(lake: &LakeArgs, args: CompactArgs) -> anyhow::Result<()> {
    let table = lake.table(&args.table).await?;
    let bar = rows_bar(0);
    bar.set_message("reading the files to rewrite");
    let progress_bar = bar.clone();
    let opts = CompactOptions {
        target_rows: args.target_rows as usize,
        cluster: !args.no_cluster,
        index: match args.index {
            CompactIndex::Hnsw => IndexChoice::Hnsw,
            CompactIndex::IvfPq => IndexChoice::IvfPq(None),
            CompactIndex::Auto => IndexChoice::Auto,
        },
        max_rows: args.max_rows.map_or(usize::MAX, |m| m as usize),
        memory_bytes: usize::try_from(args.memory).unwrap_or(usize::MAX),
        spill_dir: args.spill_dir,
        progress: Some(Arc::new(move |p: CompactProgress| {
            progress_bar.set_length(p.rows_planned);
            if p.files_planned == 0 {
                // A streamed compaction's reading passes, before its files are planned.
                progress_bar.set_position(p.rows_read);
                progress_bar.set_message("reading the files to rewrite");
            } else {
                progress_bar.set_position(p.rows_written);
                progress_bar.set_message(format!("{}/{} files", p.files_written, p.files_planned));
            }
        })),
        ..Default::default()
    };
    let out = table.compact(&opts).await;
    bar.finish_and_clear();
    let out = out?;
    match out.snapshot_id {
        None => println!("{}: nothing to compact", args.table),
        Some(snapshot) => println!(
            "{}: {} -> {}, {} rewritten, {} purged, snapshot {snapshot}",
            args.table,
            count(out.files_removed as u64, "file", "files"),
            count(out.files_added as u64, "file", "files"),
            count(out.rows, "row", "rows"),
            count(out.deleted_rows_purged, "deleted row", "deleted rows"),
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
    #[arg(long, default_value_t = 10, value_parser = at_least_one)]
    pub retain_last: u64,
}

pub async fn expire(lake: &LakeArgs, args: ExpireArgs) -> anyhow::Result<()> {
    let table = lake.table(&args.table).await?;
    let bar = spinner("expiring snapshots");
    let expired = table.expire_snapshots(args.older_than, args.retain_last as usize).await;
    bar.finish_and_clear();
    println!(
        "{}: {} expired (run `ailake vacuum` to delete their files)",
        args.table,
        count(expired?.len() as u64, "snapshot", "snapshots")
    );
    Ok(())
}

/// Build the index of every live file whose background build was cut short (a crash, or
/// `ingest --deferred --no-wait`), committing a replace for each.
///
/// Example: ailake resume-indexing docs.chunks
#[derive(Debug, Args)]
pub struct ResumeArgs {
    /// The table, `namespace.name`.
    pub table: String,
}

pub async fn resume(lake: &LakeArgs, args: ResumeArgs) -> anyhow::Result<()> {
    let table = lake.table(&args.table).await?;
    let writer = table.writer(WritePolicy::default())?;
    let started = std::time::Instant::now();
    let bar = rows_bar(0);
    bar.set_message("finding files without their index");
    let progress_bar = bar.clone();
    let progress = move |p: IndexProgress| {
        progress_bar.set_length(p.rows_pending);
        progress_bar.set_position(p.rows_done);
        progress_bar.set_message(format!("{}/{} files", p.files_done, p.files_pending));
    };
    let done = writer.resume_indexing_with(&progress).await;
    bar.finish_and_clear();
    println!(
        "{}: indexed {} in {:.1} s",
        args.table,
        count(done? as u64, "pending file", "pending files"),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Remove files of the table's data/ and metadata/ directories that no snapshot references
/// (data files of writes that never committed: a killed ingest, a lost commit race). Never
/// another table's files; never a file a running ailake writer still owns (its lease);
/// files of other engines' writers in flight are kept by --older-than (Iceberg's default, 3d).
///
/// Example: ailake vacuum docs.chunks --older-than 1d
#[derive(Debug, Args)]
pub struct VacuumArgs {
    /// The table, `namespace.name`.
    pub table: String,
    /// Only files at least this old: `30s`, `15m`, `1h`, `2d`.
    #[arg(long, default_value = "3d", value_parser = parse_age)]
    pub older_than: std::time::Duration,
    /// A writer's lease not renewed for this long means the writer is dead and its files
    /// are orphans; `0s` when no ailake writer can be running (after a crash).
    #[arg(long, default_value = "10m", value_parser = parse_age)]
    pub lease_ttl: std::time::Duration,
}

pub async fn vacuum(lake: &LakeArgs, args: VacuumArgs) -> anyhow::Result<()> {
    let table = lake.table(&args.table).await?;
    let options = ailake::OrphanOptions { min_age: args.older_than, lease_ttl: args.lease_ttl };
    let bar = spinner("listing the table's files and every snapshot's references");
    let removed = table.remove_orphans_with(options).await;
    bar.finish_and_clear();
    let removed = removed?;
    for uri in &removed {
        println!("removed {uri}");
    }
    println!(
        "{}: {} removed",
        args.table,
        count(removed.len() as u64, "unreferenced file", "unreferenced files")
    );
    Ok(())
}
