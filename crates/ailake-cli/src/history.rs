//! `ailake history`: a table's snapshots, oldest first, with the rows each added and removed
//! (whole files and position deletes alike) and the live rows after it.

use clap::Args;
use serde_json::json;

use crate::lake::LakeArgs;

/// List a table's snapshots, oldest first: id, parent, time, operation, rows added and
/// removed (deleted files and position deletes), live rows after it, batch ids.
///
/// Example: ailake history docs.chunks --json
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The table, `namespace.name`.
    pub table: String,
    /// Print a JSON array of snapshot objects (for scripts) instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// One snapshot as `history` shows it.
struct Entry {
    snapshot: i64,
    parent: Option<i64>,
    timestamp_ms: i64,
    time: String,
    operation: String,
    added_rows: u64,
    removed_rows: u64,
    live_rows: u64,
    batch_ids: Vec<String>,
    current: bool,
}

/// The entries of `table`'s snapshots, oldest first. Rows a snapshot removed are the rows of
/// the data files it deleted plus the positions its delete files added (Iceberg summary
/// `deleted-records` + `added-position-deletes`); live rows are `total-records` less
/// `total-position-deletes`.
fn entries(table: &ailake::Table) -> Vec<Entry> {
    let mut snapshots: Vec<_> = table.metadata().snapshots().collect();
    snapshots.sort_by_key(|s| (s.timestamp_ms(), s.sequence_number()));
    snapshots
        .into_iter()
        .map(|s| {
            let props = &s.summary().additional_properties;
            let number = |k: &str| props.get(k).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
            let batch_ids = props
                .get(ailake::BATCH_IDS_PROPERTY)
                .map(|b| b.split(',').filter(|id| !id.is_empty()).map(str::to_string).collect())
                .unwrap_or_default();
            Entry {
                snapshot: s.snapshot_id(),
                parent: s.parent_snapshot_id(),
                timestamp_ms: s.timestamp_ms(),
                time: s
                    .timestamp()
                    .map(|t| t.format("%Y-%m-%d %H:%M:%S%.3f").to_string())
                    .unwrap_or_default(),
                operation: s.summary().operation.as_str().to_string(),
                added_rows: number("added-records"),
                removed_rows: number("deleted-records") + number("added-position-deletes"),
                live_rows: number("total-records").saturating_sub(number("total-position-deletes")),
                batch_ids,
                current: table.snapshot_id() == Some(s.snapshot_id()),
            }
        })
        .collect()
}

pub async fn history(lake: &LakeArgs, args: HistoryArgs) -> anyhow::Result<()> {
    let table = lake.table(&args.table).await?;
    let entries = entries(&table);
    if args.json {
        let rows: Vec<_> = entries
            .iter()
            .map(|e| {
                json!({
                    "snapshot_id": e.snapshot,
                    "parent_id": e.parent,
                    "timestamp_ms": e.timestamp_ms,
                    "time_utc": e.time,
                    "operation": e.operation,
                    "added_rows": e.added_rows,
                    "removed_rows": e.removed_rows,
                    "live_rows": e.live_rows,
                    "batch_ids": e.batch_ids,
                    "current": e.current,
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    println!(
        "{:<20} {:<20} {:<24} {:<10} {:>10} {:>10} {:>10}  batch ids",
        "snapshot", "parent", "time (UTC)", "operation", "+rows", "-rows", "live rows"
    );
    for e in entries {
        println!(
            "{:<20} {:<20} {:<24} {:<10} {:>10} {:>10} {:>10}  {}{}",
            e.snapshot,
            e.parent.map_or("-".into(), |p| p.to_string()),
            e.time,
            e.operation,
            e.added_rows,
            e.removed_rows,
            e.live_rows,
            e.batch_ids.len(),
            if e.current { " (current)" } else { "" }
        );
    }
    Ok(())
}
