//! `ailake info`, `inspect` and `tables`: what a catalog, a table and its files hold.

use std::collections::HashMap;
use std::path::PathBuf;

use ailake::prelude::*;
use ailake::{local_store, IndexStatus, Section, ShardReader, ShardSummary};
use clap::Args;

use crate::errors::invalid;
use crate::lake::LakeArgs;
use crate::progress::count;
use crate::readers::reader_lines;

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
    /// Print one JSON object (for scripts) instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Show the AILK section of one Parquet data file: vector columns, index kinds, sizes,
/// checksums verified, and the shard summary (centroid norm, radius).
///
/// Example: ailake inspect warehouse/docs/chunks/data/00000-….parquet
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// A Parquet file: a path or a `file://` URI (as `info` and `ingest` print them).
    pub file: String,
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

/// What `info` reports of one snapshot of a table.
struct Facts {
    snapshots: usize,
    data_rows: u64,
    deleted_rows: u64,
    files: usize,
    bytes: u64,
    delete_files: usize,
    indexed: usize,
    pending: usize,
    without_summary: usize,
    kinds: Vec<(String, usize)>,
    /// (count, column, version, files recording theirs)
    partitions: Option<(usize, String, u32, usize)>,
    /// (name, type, required) of the attribute columns
    columns: Vec<(String, String, bool)>,
}

async fn facts(table: &Table) -> anyhow::Result<Facts> {
    let files = table.live_files().await?;
    let summaries = table.shard_summaries().await?;
    let by_path: HashMap<&str, &ShardSummary> =
        summaries.iter().flat_map(|s| s.iter()).map(|s| (s.file_path.as_str(), s)).collect();
    let (mut indexed, mut pending, mut without_summary) = (0, 0, 0);
    let mut kinds: HashMap<String, usize> = HashMap::new();
    for f in files.iter() {
        match by_path.get(f.path()) {
            Some(s) if s.status == IndexStatus::Pending => pending += 1,
            Some(s) => {
                indexed += 1;
                *kinds.entry(s.index.name().to_string()).or_default() += 1;
            }
            None => without_summary += 1,
        }
    }
    let mut kinds: Vec<_> = kinds.into_iter().collect();
    kinds.sort();
    let specs = table.vector_columns()?;
    let mut partitions = None;
    if let Some(primary) = specs.first() {
        if let Some(p) = ailake::load_partitions(table, &primary.name).await? {
            let recording = files
                .iter()
                .filter(|f| {
                    by_path
                        .get(f.path())
                        .and_then(|s| s.occupancy.as_ref())
                        .is_some_and(|o| o.version == p.version)
                })
                .count();
            partitions = Some((p.len(), primary.name.clone(), p.version, recording));
        }
    }
    let columns = table
        .attribute_schema()?
        .fields()
        .iter()
        .map(|f| (f.name().clone(), ailake::column_type_name(f.data_type()), !f.is_nullable()))
        .collect();
    Ok(Facts {
        snapshots: table.metadata().snapshots().len(),
        data_rows: files.iter().map(|f| f.data_file.record_count()).sum(),
        deleted_rows: table.deleted_rows().await?.total(),
        files: files.len(),
        bytes: files.iter().map(|f| f.data_file.file_size_in_bytes()).sum(),
        delete_files: table.live_delete_files().await?.len(),
        indexed,
        pending,
        without_summary,
        kinds,
        partitions,
        columns,
    })
}

fn facts_json(table: &Table, f: &Facts) -> anyhow::Result<serde_json::Value> {
    let vectors: Vec<_> = table
        .vector_columns()?
        .iter()
        .map(|s| serde_json::json!({"name": s.name, "dim": s.dim, "metric": s.metric.name()}))
        .collect();
    let columns: Vec<_> = f
        .columns
        .iter()
        .map(|(name, ty, required)| serde_json::json!({"name": name, "type": ty, "required": required}))
        .collect();
    Ok(serde_json::json!({
        "table": table.ident().to_string(),
        "location": table.location(),
        "metadata": table.metadata_location(),
        "snapshot_id": table.snapshot_id(),
        "snapshots": f.snapshots,
        "live_rows": f.data_rows - f.deleted_rows,
        "data_file_rows": f.data_rows,
        "deleted_rows": f.deleted_rows,
        "files": f.files,
        "bytes": f.bytes,
        "position_delete_files": f.delete_files,
        "indexed_files": f.indexed,
        "pending_files": f.pending,
        "files_without_summary": f.without_summary,
        "index_kinds": f.kinds.iter().map(|(k, n)| (k.clone(), *n)).collect::<HashMap<_, _>>(),
        "partitions": f.partitions.as_ref().map(|(n, column, version, recording)| serde_json::json!({
            "count": n, "column": column, "version": version, "files_recording": recording
        })),
        "vector_columns": vectors,
        "columns": columns,
    }))
}

pub async fn info(lake: &LakeArgs, args: InfoArgs) -> anyhow::Result<()> {
    let mut table = lake.table(&args.table).await?;
    if let Some(id) = args.snapshot {
        table = table.at_snapshot(id)?;
    }
    let f = facts(&table).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&facts_json(&table, &f)?)?);
        return Ok(());
    }
    println!("table      {}", table.ident());
    println!("location   {}", table.location());
    println!("metadata   {}", table.metadata_location());
    println!(
        "snapshot   {} ({} in the metadata)",
        table.snapshot_id().map_or("none (no commits yet)".into(), |s| s.to_string()),
        count(f.snapshots as u64, "snapshot", "snapshots")
    );
    if f.deleted_rows == 0 {
        println!("rows       {}", f.data_rows);
    } else {
        println!(
            "rows       {} ({} in data files, {} deleted)",
            f.data_rows - f.deleted_rows,
            f.data_rows,
            f.deleted_rows
        );
    }
    println!("files      {} ({})", f.files, mb(f.bytes));
    if f.delete_files > 0 {
        println!(
            "deletes    {} (merge-on-read)",
            count(f.delete_files as u64, "position delete file", "position delete files")
        );
    }
    let kinds: Vec<String> = f.kinds.iter().map(|(k, n)| format!("{n} {k}")).collect();
    println!(
        "shards     {} indexed ({}), {} pending (searched exactly){}",
        f.indexed,
        if kinds.is_empty() { "-".into() } else { kinds.join(", ") },
        f.pending,
        if f.without_summary > 0 {
            format!(", {} without a summary", f.without_summary)
        } else {
            String::new()
        }
    );
    for s in table.vector_columns()? {
        println!("vector     {}: {} × float32, {}", s.name, s.dim, s.metric.name());
    }
    if let Some((n, column, version, recording)) = &f.partitions {
        println!(
            "partitions {n} on {column} (version {version}); {recording} of {} record theirs",
            count(f.files as u64, "file", "files")
        );
    }
    for (name, ty, required) in &f.columns {
        println!("column     {name}: {ty}{}", if *required { " not null" } else { "" });
    }
    for line in reader_lines(lake, &table).await? {
        println!("{line}");
    }
    Ok(())
}

pub async fn inspect(args: InspectArgs) -> anyhow::Result<()> {
    let path = match args.file.strip_prefix("file://") {
        Some(local) => PathBuf::from(local),
        None if args.file.contains("://") => {
            return Err(invalid(format!(
                "{}: inspect reads local files (a path or a file:// URI)",
                args.file
            )))
        }
        None => PathBuf::from(&args.file),
    };
    let name = path.display();
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    let file = path
        .file_name()
        .and_then(|f| f.to_str())
        .ok_or_else(|| invalid(format!("{name}: not a file name")))?;
    crate::inputs::must_exist(&path)?;
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

pub async fn tables(lake: &LakeArgs, args: TablesArgs) -> anyhow::Result<()> {
    let catalog = lake.open(false).await?;
    for t in catalog.list_tables(&args.namespace).await? {
        println!("{t}");
    }
    Ok(())
}
