//! Commands that read the same table with other engines, printed by `demo` and `info`: the
//! snapshot the handle reads, never a glob of the data directory (which also holds replaced
//! files and position-delete files).

use ailake::Table;

use crate::lake::{absolute, LakeArgs};

/// A Parquet path as DuckDB reads it: a local path for `file://` URIs, the URI otherwise.
fn duckdb_path(uri: &str) -> String {
    uri.strip_prefix("file://").unwrap_or(uri).to_string()
}

/// `'text'` as a SQL string literal.
fn sql_string(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// DuckDB SQL counting the live rows of `table`'s snapshot: its data files, less the rows its
/// position-delete files name (Iceberg merge-on-read, spelled in plain `read_parquet`).
pub async fn duckdb_count_sql(table: &Table) -> anyhow::Result<String> {
    let files = table.live_files().await?;
    if files.is_empty() {
        return Ok("SELECT 0 AS live_rows".into());
    }
    let list = |paths: Vec<String>| format!("[{}]", paths.join(", "));
    let data = list(files.iter().map(|f| sql_string(&duckdb_path(f.path()))).collect());
    let deletes = table.live_delete_files().await?;
    if deletes.is_empty() {
        return Ok(format!("SELECT count(*) AS live_rows FROM read_parquet({data})"));
    }
    let deletes = list(deletes.iter().map(|f| sql_string(&duckdb_path(f.path()))).collect());
    Ok(format!(
        "SELECT count(*) AS live_rows FROM read_parquet({data}, filename = true, file_row_number = true) d \
         WHERE NOT EXISTS (SELECT 1 FROM read_parquet({deletes}) p \
         WHERE replace(p.file_path, 'file://', '') = d.filename AND p.pos = d.file_row_number)"
    ))
}

/// A shell line running `code` with Python (double quotes inside escaped for the shell).
fn python_line(code: &str) -> String {
    let escaped = code.replace('\\', "\\\\").replace('"', "\\\"").replace('$', "\\$").replace('`', "\\`");
    format!("python -c \"{escaped}\"")
}

/// The pyiceberg and DuckDB lines that read `table` (its current snapshot), with what to
/// install first.
pub async fn reader_lines(lake: &LakeArgs, table: &Table) -> anyhow::Result<Vec<String>> {
    let root = table.warehouse().root();
    let pyiceberg = if let Some(uri) = lake.rest_uri() {
        format!(
            "import os; from pyiceberg.catalog.rest import RestCatalog; \
             t = RestCatalog('rest', uri={uri}, token=os.environ.get('AILAKE_CATALOG_TOKEN')).load_table({ident}); \
             print(t.scan().to_arrow().num_rows, 'live rows')",
            uri = py_string(uri),
            ident = py_string(&table.ident().to_string()),
        )
    } else {
        let db = absolute(&lake.catalog_path()?);
        format!(
            "from pyiceberg.catalog.sql import SqlCatalog; \
         t = SqlCatalog({name}, uri={uri}, warehouse={root}).load_table({ident}); \
         print(t.scan().to_arrow().num_rows, 'live rows')",
            name = py_string(&lake.catalog_name),
            uri = py_string(&format!("sqlite:///{}", db.display())),
            root = py_string(root),
            ident = py_string(&table.ident().to_string()),
        )
    };
    let duckdb = format!("import duckdb; print(duckdb.sql({}))", py_string(&duckdb_count_sql(table).await?));
    Ok(vec![
        "Read the same table with pyiceberg and DuckDB (pip install 'pyiceberg[sql-sqlite]' duckdb):".into(),
        format!("  {}", python_line(&pyiceberg)),
        format!("  {}", python_line(&duckdb)),
    ])
}

/// `text` as a Python string literal: in double quotes when it holds single quotes (SQL
/// text) and no double quotes, else in single quotes.
fn py_string(text: &str) -> String {
    let text = text.replace('\\', "\\\\");
    if text.contains('\'') && !text.contains('"') {
        format!("\"{text}\"")
    } else {
        format!("'{}'", text.replace('\'', "\\'"))
    }
}
