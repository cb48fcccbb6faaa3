//! `ailake info`, `history`, `inspect`, `resume-indexing`, `vacuum` and `tables`: what a table
//! and its files hold, and its maintenance (interrupted index builds, files never committed).

use std::collections::HashMap;
use std::path::PathBuf;

use ailake::prelude::*;
use ailake::{local_store, IndexStatus, Section, ShardReader, ShardSummary};
use clap::Args;

use crate::errors::invalid;
use crate::lake::LakeArgs;

/// Show a table: snapshot, files, rows, indexed and pending shards, bytes, vector columns.
///
/// Example: ailake info docs.chunks
#[derive(Debug, Args)]
pub struct InfoArgs {
    /// The table, `namespace.name`.
    pub table: String,
    /// Describe this snapshot instead of the current one.
    #[arg(long, value_name = "ID")]
    pub snapshot: Option<i64>,
}

/// List a table's snapshots, oldest first: id, parent, time, operation, rows added/removed.
///
/// Example: ailake history docs.chunks
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The table, `namespace.name`.
    pub table: String,
}

/// Show the AILK section of one Parquet data file: vector columns, index kinds, sizes,
/// checksums verified, and the shard summary (centroid norm, radius).
///
/// Example: ailake inspect warehouse/docs/chunks/data/00000-….parquet
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// A Parquet file.
    pub file: PathBuf,
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

/// `30s`, `15m`, `1h`, `2d` (or plain seconds).
pub fn parse_age(s: &str) -> Result<std::time::Duration, String> {
    let (digits, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = digits.parse().map_err(|_| format!("{s:?}: expected a number and s, m, h or d"))?;
    let secs = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("{s:?}: unit must be s, m, h or d")),
    };
    Ok(std::time::Duration::from_secs(n.saturating_mul(secs)))
}

/// List the tables of a namespace.
///
/// Example: ailake tables docs
#[derive(Debug, Args)]
pub struct TablesArgs {
    /// The namespace.
    pub namespace: String,
}

fn mb(bytes: u64) -> String {
    format!("{:.2} MB", bytes as f64 / 1e6)
}

pub async fn info(lake: &LakeArgs, args: InfoArgs) -> anyhow::Result<()> {
    let mut table = lake.table(&args.table).await?;
    if let Some(id) = args.snapshot {
        table = table.at_snapshot(id)?;
    }
    let files = table.live_files().await?;
    let summaries = table.shard_summaries().await?;
    let by_path: HashMap<&str, &ShardSummary> =
        summaries.iter().flat_map(|s| s.iter()).map(|s| (s.file_path.as_str(), s)).collect();
    let (mut indexed, mut pending, mut unknown) = (0, 0, 0);
    let mut kinds: HashMap<String, usize> = HashMap::new();
    for f in files.iter() {
        match by_path.get(f.path()) {
            Some(s) if s.status == IndexStatus::Pending => pending += 1,
            Some(s) => {
                indexed += 1;
                *kinds.entry(format!("{:?}", s.index)).or_default() += 1;
            }
            None => unknown += 1,
        }
    }
    let rows: u64 = files.iter().map(|f| f.data_file.record_count()).sum();
    let bytes: u64 = files.iter().map(|f| f.data_file.file_size_in_bytes()).sum();
    println!("table      {}", table.ident());
    println!("location   {}", table.location());
    println!("metadata   {}", table.metadata_location());
    println!(
        "snapshot   {} ({} snapshots in the metadata)",
        table.snapshot_id().map_or("none (no commits yet)".into(), |s| s.to_string()),
        table.metadata().snapshots().len()
    );
    let deleted = table.deleted_rows().await?;
    if deleted.is_empty() {
        println!("rows       {rows}");
    } else {
        println!("rows       {} ({rows} in data files, {} deleted)", rows - deleted.total(), deleted.total());
    }
    println!("files      {} ({})", files.len(), mb(bytes));
    let delete_files = table.live_delete_files().await?;
    if !delete_files.is_empty() {
        println!("deletes    {} position delete files (merge-on-read)", delete_files.len());
    }
    let mut kinds: Vec<_> = kinds.into_iter().collect();
    kinds.sort();
    let kinds: Vec<String> = kinds.iter().map(|(k, n)| format!("{n} {k}")).collect();
    println!(
        "shards     {indexed} indexed ({}), {pending} pending (searched exactly){}",
        if kinds.is_empty() { "-".into() } else { kinds.join(", ") },
        if unknown > 0 { format!(", {unknown} without a summary") } else { String::new() }
    );
    for s in table.vector_columns()? {
        println!("vector     {}: {} × f32, {:?}", s.name, s.dim, s.metric);
    }
    if let Some(primary) = table.vector_columns()?.first() {
        if let Some(p) = ailake::load_partitions(&table, &primary.name).await? {
            let clustered = files
                .iter()
                .filter(|f| {
                    by_path
                        .get(f.path())
                        .and_then(|s| s.occupancy.as_ref())
                        .is_some_and(|o| o.version == p.version)
                })
                .count();
            println!(
                "partitions {} on {} (version {}); {clustered} of {} files record theirs",
                p.len(),
                primary.name,
                p.version,
                files.len()
            );
        }
    }
    let schema = table.schema();
    for f in schema.as_struct().fields() {
        if !table.vector_columns()?.iter().any(|s| s.name == f.name) {
            println!("column     {}: {}{}", f.name, f.field_type, if f.required { " not null" } else { "" });
        }
    }
    Ok(())
}

pub async fn history(lake: &LakeArgs, args: HistoryArgs) -> anyhow::Result<()> {
    let table = lake.table(&args.table).await?;
    let mut snapshots: Vec<_> = table.metadata().snapshots().collect();
    snapshots.sort_by_key(|s| (s.timestamp_ms(), s.sequence_number()));
    println!(
        "{:<20} {:<20} {:<24} {:<10} {:>10} {:>10}  batch ids",
        "snapshot", "parent", "time (UTC)", "operation", "+rows", "-rows"
    );
    for s in snapshots {
        let summary = s.summary();
        let prop = |k: &str| summary.additional_properties.get(k).cloned().unwrap_or_else(|| "0".into());
        let time = s.timestamp().map(|t| t.format("%Y-%m-%d %H:%M:%S%.3f").to_string()).unwrap_or_default();
        let batches =
            summary.additional_properties.get(ailake::BATCH_IDS_PROPERTY).map_or(0, |b| b.split(',').count());
        let current = if table.snapshot_id() == Some(s.snapshot_id()) { " (current)" } else { "" };
        println!(
            "{:<20} {:<20} {:<24} {:<10} {:>10} {:>10}  {batches}{current}",
            s.snapshot_id(),
            s.parent_snapshot_id().map_or("-".into(), |p| p.to_string()),
            time,
            summary.operation.as_str(),
            prop("added-records"),
            prop("deleted-records"),
        );
    }
    Ok(())
}

pub async fn inspect(args: InspectArgs) -> anyhow::Result<()> {
    let path = &args.file;
    let name = path.display();
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    let file = path
        .file_name()
        .and_then(|f| f.to_str())
        .ok_or_else(|| invalid(format!("{name}: not a file name")))?;
    if !path.is_file() {
        return Err(crate::errors::not_found(format!("{name}: no such file")));
    }
    let store = local_store(dir)?;
    let reader = ShardReader::open(store, file.into(), ReadOptions::default()).await?;
    let meta = reader.metadata().file_metadata();
    println!("file        {name}");
    println!("size        {} ({} bytes)", mb(reader.file_size()), reader.file_size());
    println!("rows        {} in {} row groups", meta.num_rows(), reader.metadata().num_row_groups());
    let Some(dir) = reader.directory() else {
        println!("AILK        none: a Parquet-only file (searched by exact scan until indexed)");
        return Ok(());
    };
    let loc =
        reader.location().ok_or_else(|| invalid(format!("{name}: AILK directory without a location")))?;
    let share = 100.0 * loc.length as f64 / reader.file_size().max(1) as f64;
    println!(
        "AILK        v{}.{} at byte {}, {} ({share:.1}% of the file)",
        dir.major,
        dir.minor,
        loc.offset,
        mb(loc.length)
    );
    println!("section     {} rows, directory {} bytes", dir.row_count, dir.directory_length);
    for (i, c) in dir.columns.iter().enumerate() {
        let norm = c.centroid.iter().map(|x| x * x).sum::<f32>().sqrt();
        println!(
            "column {i}    {} (field {}): {} × {:?}, {:?}{}, centroid |c| {norm:.4}, radius {:.4}",
            c.name,
            c.field_id,
            c.dim,
            c.element,
            c.metric,
            if c.normalized { ", normalized" } else { "" },
            c.radius
        );
    }
    for e in &dir.entries {
        println!(
            "  {:<14} column {}  {:>12}  crc32c {:08x}",
            format!("{:?}", e.kind),
            e.column,
            mb(e.length),
            e.crc32c
        );
    }
    match reader.load_section().await {
        Ok(section) => {
            let _: Section = section;
            println!("checksums   ok ({} sub-sections verified)", dir.entries.len());
        }
        Err(e) => {
            println!("checksums   FAILED: {e}");
            return Err(e.into());
        }
    }
    Ok(())
}

pub async fn resume(lake: &LakeArgs, args: ResumeArgs) -> anyhow::Result<()> {
    let table = lake.table(&args.table).await?;
    let writer = table.writer(WritePolicy::default())?;
    let started = std::time::Instant::now();
    let done = writer.resume_indexing().await?;
    println!("{}: indexed {done} pending files in {:.1} s", args.table, started.elapsed().as_secs_f64());
    Ok(())
}

pub async fn vacuum(lake: &LakeArgs, args: VacuumArgs) -> anyhow::Result<()> {
    let table = lake.table(&args.table).await?;
    let options = ailake::OrphanOptions { min_age: args.older_than, lease_ttl: args.lease_ttl };
    let removed = table.remove_orphans_with(options).await?;
    for uri in &removed {
        println!("removed {uri}");
    }
    println!("{}: {} unreferenced files removed", args.table, removed.len());
    Ok(())
}

pub async fn tables(lake: &LakeArgs, args: TablesArgs) -> anyhow::Result<()> {
    let catalog = lake.open(false).await?;
    for t in catalog.list_tables(&args.namespace).await? {
        println!("{t}");
    }
    Ok(())
}
