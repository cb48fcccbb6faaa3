//! `ailake sql`: SQL over the catalog's tables through DataFusion — scans, joins and
//! aggregates of their rows, and `vector_search(…)` / `ailake_scan(…)` as table functions.

use clap::Args;
use datafusion::error::DataFusionError;
use datafusion::prelude::SessionContext;

use crate::errors::{invalid, CliError};
use crate::lake::LakeArgs;
use crate::output::{render, Format};

/// Run SQL over tables: plain scans, joins and aggregates, and the table functions
/// `vector_search(table, column, [query…], k [, 'ef=… nprobe=…'])` and
/// `ailake_scan(table, snapshot_id)`.
///
/// Each --table `namespace.name` is registered under its last part (or `=ALIAS`), at its
/// current snapshot. `_distance` is as in `ailake search`.
///
/// Examples:
///   ailake sql "SELECT count(*) FROM chunks" --table docs.chunks
///   ailake sql "SELECT id, _distance FROM vector_search('chunks', 'embedding', [0.1, …], 5)" --table docs.chunks
///   ailake sql "SELECT a.id FROM a JOIN b ON a.id = b.id" --table docs.t=a --table docs.u=b --format csv
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct SqlArgs {
    /// The query.
    pub query: String,
    /// A table to query, `namespace.name` or `namespace.name=ALIAS` (repeatable).
    #[arg(long = "table", value_name = "NS.NAME[=ALIAS]", required = true)]
    pub tables: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// `namespace.name[=alias]` as (identifier, alias).
fn table_and_alias(spec: &str) -> anyhow::Result<(String, String)> {
    let (ident, alias) = match spec.split_once('=') {
        Some((ident, alias)) => (ident.trim(), alias.trim().to_string()),
        None => (spec.trim(), spec.trim().rsplit('.').next().unwrap_or_default().to_string()),
    };
    let plain = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !plain(&alias) {
        return Err(invalid(format!(
            "--table {spec}: the alias {alias:?} must be letters, digits and underscores (give one with =ALIAS)"
        )));
    }
    Ok((ident.to_string(), alias))
}

/// A DataFusion error with the kind of the ailake error under it (a corrupt file stays
/// corrupt, a store failure I/O); a query DataFusion refuses is invalid input.
fn sql_error(e: DataFusionError) -> anyhow::Error {
    let kind = match e.find_root() {
        DataFusionError::External(inner) => ailake::error_kind(inner.as_ref()),
        _ => None,
    };
    let message = e.to_string().replace('\n', " ");
    match kind {
        Some(kind) => CliError { kind, message }.into(),
        None => invalid(message),
    }
}

pub async fn run(lake: &LakeArgs, args: SqlArgs) -> anyhow::Result<()> {
    let ctx = SessionContext::new();
    let sql = ailake_datafusion::AilakeSql::new();
    sql.register_functions(&ctx);
    for spec in &args.tables {
        let (ident, alias) = table_and_alias(spec)?;
        let table = lake.table(&ident).await?;
        sql.register_table(&ctx, &alias, &table).await.map_err(sql_error)?;
    }
    let frame = ctx.sql(&args.query).await.map_err(sql_error)?;
    let batches = frame.collect().await.map_err(sql_error)?;
    let batches: Vec<_> = batches.into_iter().filter(|b| b.num_rows() > 0).collect();
    print!("{}", render(&batches, args.format)?);
    Ok(())
}
