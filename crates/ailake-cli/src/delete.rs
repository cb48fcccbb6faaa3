//! `ailake delete`: remove the rows matching a filter, as one Iceberg commit of position
//! delete files (merge-on-read); other engines see the same rows gone.

use ailake::prelude::*;
use clap::Args;

use crate::lake::LakeArgs;
use crate::progress::count;

/// Delete the rows matching a filter, in one commit.
///
/// Files are read only where their column bounds admit a match, and only the filter's
/// columns. Each touched file gets a position delete file (Iceberg v2); a file whose every
/// row matches is removed whole. Older snapshots still hold the rows (`--snapshot` in
/// search); `ailake vacuum` never removes files a snapshot references.
///
/// Examples:
///   ailake delete docs.chunks --filter "id = 42"
///   ailake delete docs.chunks --filter "lang = 'xx' OR year < 2001"
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct DeleteArgs {
    /// The table, `namespace.name`.
    pub table: String,
    /// Rows matching this expression are deleted, e.g. `id = 42` or `lang = 'xx' AND year < 2001`.
    #[arg(long, value_name = "EXPR")]
    pub filter: String,
}

pub async fn run(lake: &LakeArgs, args: DeleteArgs) -> anyhow::Result<()> {
    let filter = Filter::parse(&args.filter)?;
    let table = lake.table(&args.table).await?;
    let out = table.delete(&filter).await?;
    match out.snapshot_id {
        None => println!("{}: no live row matches; nothing committed", args.table),
        Some(snapshot) => println!(
            "{}: deleted {} ({}, {} removed whole) in snapshot {snapshot}",
            args.table,
            count(out.rows_deleted, "row", "rows"),
            count(out.delete_files as u64, "position delete file", "position delete files"),
            count(out.files_removed as u64, "file", "files"),
        ),
    }
    Ok(())
}
