//! `ailake create`: a new table with its vector columns and attribute columns.

use std::sync::Arc;

use ailake::prelude::*;
use arrow_schema::{DataType, Field, Schema};
use clap::Args;

use crate::errors::invalid;
use crate::lake::{parse_ident, LakeArgs};

/// Create a table: one or more vector columns and the attribute columns.
///
/// Example:
///   ailake create docs.chunks --vector embedding:384:cosine --column id:int64! --column text:string
///   ailake create docs.chunks --vector embedding:384:cosine --schema-from rows.parquet
///   ailake create docs.chunks --vector embedding:384:cosine --column text:string --text-index text
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct CreateArgs {
    /// The table, `namespace.name`.
    pub table: String,
    /// A vector column `NAME:DIM:METRIC` (metric: cosine, l2 or ip); the first is the primary.
    #[arg(long = "vector", required = true, value_name = "NAME:DIM:METRIC")]
    pub vectors: Vec<String>,
    /// An attribute column `NAME:TYPE` (int32, int64, float32, float64, string, bool); a
    /// trailing `!` makes it required (not null).
    #[arg(long = "column", value_name = "NAME:TYPE")]
    pub columns: Vec<String>,
    /// Take the attribute columns from this Parquet file's schema (its vector columns skipped).
    #[arg(long, value_name = "FILE")]
    pub schema_from: Option<std::path::PathBuf>,
    /// A full-text (BM25) index on string column `NAME`, built into every data file, with
    /// analyzer `simple` (default: Unicode words, lowercased) or `english` (stop words dropped,
    /// stemmed); `ailake search --text` searches it.
    #[arg(long = "text-index", value_name = "NAME[:ANALYZER]")]
    pub text_indexes: Vec<String>,
    /// Succeed without changes when the table exists.
    #[arg(long)]
    pub if_not_exists: bool,
}

/// `NAME` or `NAME:ANALYZER`.
fn parse_text_index(s: &str) -> TextSpec {
    match s.rsplit_once(':') {
        Some((name, analyzer)) => TextSpec::new(name).with_analyzer(analyzer),
        None => TextSpec::new(s),
    }
}

/// `cosine`, `l2` or `ip`.
pub fn parse_metric(s: &str) -> anyhow::Result<Metric> {
    Ok(match s.to_ascii_lowercase().as_str() {
        "cosine" | "cos" => Metric::Cosine,
        "l2" | "euclidean" => Metric::L2,
        "ip" | "inner_product" | "dot" => Metric::InnerProduct,
        other => return Err(invalid(format!("metric {other:?}: expected cosine, l2 or ip"))),
    })
}

/// `NAME:DIM:METRIC`.
pub fn parse_vector(s: &str) -> anyhow::Result<VectorSpec> {
    let parts: Vec<&str> = s.split(':').collect();
    let [name, dim, metric] = parts[..] else {
        return Err(invalid(format!("--vector {s:?}: expected NAME:DIM:METRIC, e.g. embedding:384:cosine")));
    };
    let dim: u32 = dim
        .parse()
        .ok()
        .filter(|&d| d > 0)
        .ok_or_else(|| invalid(format!("--vector {s:?}: dimension {dim:?} is not a positive integer")))?;
    if name.is_empty() {
        return Err(invalid(format!("--vector {s:?}: empty column name")));
    }
    Ok(VectorSpec::new(name, dim, parse_metric(metric)?))
}

fn parse_column(s: &str) -> anyhow::Result<Field> {
    let (name, ty) = s
        .split_once(':')
        .ok_or_else(|| invalid(format!("--column {s:?}: expected NAME:TYPE, e.g. text:string")))?;
    let (ty, required) = match ty.strip_suffix('!') {
        Some(t) => (t, true),
        None => (ty, false),
    };
    let data_type = match ty.to_ascii_lowercase().as_str() {
        "int32" | "int" => DataType::Int32,
        "int64" | "long" | "bigint" => DataType::Int64,
        "float32" | "float" => DataType::Float32,
        "float64" | "double" => DataType::Float64,
        "string" | "utf8" | "text" => DataType::Utf8,
        "bool" | "boolean" => DataType::Boolean,
        other => {
            return Err(invalid(format!(
                "--column {s:?}: type {other:?} is not one of int32, int64, float32, float64, string, bool"
            )))
        }
    };
    Ok(Field::new(name, data_type, !required))
}

/// The attribute schema from `--column`s and `--schema-from`, without the vector columns.
fn attributes(args: &CreateArgs, specs: &[VectorSpec]) -> anyhow::Result<Schema> {
    let mut fields: Vec<Arc<Field>> = Vec::new();
    if let Some(path) = &args.schema_from {
        let file = std::fs::File::open(path)
            .map_err(|e| invalid(format!("--schema-from {}: {e}", path.display())))?;
        let builder =
            parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| {
                invalid(format!("--schema-from {}: not a readable Parquet file: {e}", path.display()))
            })?;
        for f in builder.schema().fields() {
            if !specs.iter().any(|s| &s.name == f.name()) {
                fields.push(Arc::new(f.as_ref().clone().with_metadata(Default::default())));
            }
        }
    }
    for c in &args.columns {
        let f = parse_column(c)?;
        if fields.iter().any(|g| g.name() == f.name()) || specs.iter().any(|s| &s.name == f.name()) {
            return Err(invalid(format!("column {} is given twice", f.name())));
        }
        fields.push(Arc::new(f));
    }
    Ok(Schema::new(fields))
}

/// A table's columns as `create` prints and compares them: `vector NAME: DIM × float32,
/// METRIC` lines, then `column NAME: TYPE[ not null]` lines.
fn describe(specs: &[VectorSpec], attributes: &Schema, texts: &[TextSpec]) -> Vec<String> {
    let vectors =
        specs.iter().map(|s| format!("vector {}: {} × float32, {}", s.name, s.dim, s.metric.name()));
    let columns = attributes.fields().iter().map(|f| {
        let required = if f.is_nullable() { "" } else { " not null" };
        format!("column {}: {}{required}", f.name(), ailake::column_type_name(f.data_type()))
    });
    let texts = texts.iter().map(|t| format!("text index on {} ({} analyzer)", t.name, t.analyzer));
    vectors.chain(columns).chain(texts).collect()
}

/// Loads `ident`, creating it when missing; whether it existed before.
async fn load_or_create(
    catalog: &Catalog,
    ident: &TableIdent,
    schema: &Schema,
    specs: &[VectorSpec],
    texts: &[TextSpec],
) -> anyhow::Result<(Table, bool)> {
    match catalog.load_table(ident).await {
        Ok(table) => return Ok((table, true)),
        Err(e) if e.kind() != ErrorKind::NotFound => return Err(e.into()),
        Err(_) => {}
    }
    match catalog.create_table_with_text(ident, schema, specs, texts).await {
        Ok(table) => Ok((table, false)),
        // Another process created it meanwhile.
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok((catalog.load_table(ident).await?, true)),
        Err(e) => Err(e.into()),
    }
}

pub async fn run(lake: &LakeArgs, args: CreateArgs) -> anyhow::Result<()> {
    let ident = parse_ident(&args.table)?;
    let specs = args.vectors.iter().map(|v| parse_vector(v)).collect::<anyhow::Result<Vec<_>>>()?;
    let schema = attributes(&args, &specs)?;
    let texts: Vec<TextSpec> = args.text_indexes.iter().map(|t| parse_text_index(t)).collect();
    let catalog = lake.open(true).await?;
    let (table, existed) = if args.if_not_exists {
        load_or_create(&catalog, &ident, &schema, &specs, &texts).await?
    } else {
        (catalog.create_table_with_text(&ident, &schema, &specs, &texts).await?, false)
    };
    let found = describe(&table.vector_columns()?, &table.attribute_schema()?, &table.text_columns()?);
    if existed {
        println!("table {ident} already exists at {}: left unchanged", table.location());
        let asked = describe(&specs, &schema, &texts);
        if asked != found {
            eprintln!(
                "warning: {ident} exists with other columns than asked: asked [{}], found [{}]",
                asked.join("; "),
                found.join("; ")
            );
        }
    } else {
        println!("table {ident} at {}", table.location());
    }
    for line in found {
        println!("  {line}");
    }
    Ok(())
}
