//! `ailake search`: the k nearest rows of one or more query vectors, the best BM25 matches of a
//! text (`--text`), or both fused (hybrid), filtered, at any snapshot.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use ailake::prelude::*;
use ailake::{Fusion, HybridParams, Literal, Op};
use arrow_array::cast::AsArray;
use arrow_array::{ArrayRef, Int64Array, RecordBatch};
use arrow_schema::{Field, Schema};
use clap::Args;

use crate::errors::{invalid, not_found};
use crate::lake::{result_count, LakeArgs};
use crate::output::{render, Format};
use crate::progress::count;

/// Search a table: the k nearest rows to a query vector, with their columns and `_distance`;
/// with `--text`, the best full-text (BM25) matches with `_score`; with both, a hybrid search
/// (the two lists fused by reciprocal rank, or weighted with `--fusion weighted`).
///
/// `_distance` is smaller for nearer rows: the squared Euclidean distance for `l2` columns,
/// 1 − cosine similarity for `cosine`, and the negated inner product for `ip` (the same in
/// Python and SQL). `_score` is larger for better rows.
///
/// Examples:
///   ailake search docs.chunks --vector '[0.1, 0.2, ...]' -k 5
///   ailake search docs.chunks --like 42 --filter "lang = 'en' AND year >= 2020" --format json
///   ailake search docs.chunks --vector-file queries.npy --columns id,text --snapshot 1234
///   ailake search docs.chunks --text '"disk usage" OR du' --columns id,text
///   ailake search docs.chunks --like 42 --text 'terminal emulator' -k 5
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct SearchArgs {
    /// The table, `namespace.name`.
    pub table: String,
    /// The query vector as a JSON array.
    #[arg(long, value_name = "JSON", group = "query")]
    pub vector: Option<String>,
    /// Query vectors from a file: .npy, .fvecs or JSON (one array, or an array of arrays).
    #[arg(long, value_name = "FILE", group = "query")]
    pub vector_file: Option<PathBuf>,
    /// Use the stored vector of the row whose --id-column equals this value.
    #[arg(long, value_name = "ROW_ID", group = "query")]
    pub like: Option<String>,
    /// The column --like looks the row up by.
    #[arg(long, default_value = "id")]
    pub id_column: String,
    /// Number of results per query.
    #[arg(short, default_value_t = 10, allow_negative_numbers = true, value_parser = result_count)]
    pub k: u64,
    /// Only rows matching this expression, e.g. `lang = 'en' AND year >= 2020`.
    #[arg(long, value_name = "EXPR")]
    pub filter: Option<String>,
    /// HNSW candidate list size (recall vs. speed).
    #[arg(long)]
    pub ef: Option<usize>,
    /// IVF-PQ lists probed.
    #[arg(long)]
    pub nprobe: Option<usize>,
    /// Search this snapshot instead of the current one (time travel).
    #[arg(long, value_name = "ID")]
    pub snapshot: Option<i64>,
    /// Columns to return, comma-separated (default: every attribute column).
    #[arg(long, value_delimiter = ',', value_name = "A,B")]
    pub columns: Option<Vec<String>>,
    /// The vector column to search (default: the table's primary).
    #[arg(long = "vector-column", value_name = "NAME")]
    pub vector_column: Option<String>,
    /// A full-text query (terms, "phrases", AND / OR): alone, a BM25 search; with a vector
    /// query, a hybrid search.
    #[arg(long, value_name = "WORDS")]
    pub text: Option<String>,
    /// The text column to search (default: the table's first text-indexed column; a string
    /// column without a text index is scanned).
    #[arg(long = "text-column", value_name = "NAME")]
    pub text_column: Option<String>,
    /// How a hybrid search fuses its lists: rrf (reciprocal rank, k0 = 60) or weighted
    /// (min-max normalized scores, --weights).
    #[arg(long, value_enum, default_value_t = FusionArg::Rrf)]
    pub fusion: FusionArg,
    /// Weights of the vector and the text list for `--fusion weighted`.
    #[arg(long, value_delimiter = ',', value_name = "VECTOR,TEXT", default_values_t = [0.5, 0.5])]
    pub weights: Vec<f32>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// `--fusion`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FusionArg {
    /// Reciprocal-rank fusion.
    Rrf,
    /// Weighted min-max normalized scores.
    Weighted,
}

fn parse_json_vectors(text: &str, what: &str) -> anyhow::Result<Vec<Vec<f32>>> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| invalid(format!("{what}: not JSON: {e}")))?;
    let as_vector = |v: &serde_json::Value| -> anyhow::Result<Vec<f32>> {
        v.as_array()
            .filter(|a| !a.is_empty())
            .ok_or_else(|| invalid(format!("{what}: expected an array of numbers")))?
            .iter()
            .map(|x| {
                x.as_f64().map(|f| f as f32).ok_or_else(|| invalid(format!("{what}: {x} is not a number")))
            })
            .collect()
    };
    match value.as_array() {
        Some(rows) if rows.first().is_some_and(|r| r.is_array()) => rows.iter().map(as_vector).collect(),
        _ => Ok(vec![as_vector(&value)?]),
    }
}

fn read_vector_file(path: &PathBuf) -> anyhow::Result<Vec<Vec<f32>>> {
    let name = path.display().to_string();
    let matrix = match path.extension().and_then(|e| e.to_str()) {
        Some("npy") => ailk_testkit::npy::read_f32(path),
        Some("fvecs") => ailk_testkit::texmex::read_fvecs(path, None),
        _ => {
            let text = std::fs::read_to_string(path).map_err(|e| invalid(format!("{name}: {e}")))?;
            return parse_json_vectors(&text, &name);
        }
    }
    .map_err(|e| invalid(format!("{name}: {e}")))?;
    Ok(matrix.data.chunks_exact(matrix.dim.max(1)).map(<[f32]>::to_vec).collect())
}

/// The stored vector of the row `id_column = value`.
async fn stored_vector(session: &SearchSession, args: &SearchArgs, value: &str) -> anyhow::Result<Vec<f32>> {
    let spec = match &args.vector_column {
        Some(c) => session
            .vector_columns()
            .iter()
            .find(|s| &s.name == c)
            .ok_or_else(|| invalid(format!("{c} is not a vector column of the table")))?,
        None => &session.vector_columns()[0],
    };
    let schema = session.table().file_schema()?;
    let id_type = schema.field_with_name(&args.id_column).map(|f| f.data_type().clone());
    let literal = match id_type {
        Ok(t) if t.is_integer() => Literal::Int(
            value
                .parse()
                .map_err(|_| invalid(format!("--like {value}: {} holds integers", args.id_column)))?,
        ),
        _ => Literal::Str(value.to_string()),
    };
    let mut probe = vec![0.0; spec.dim as usize];
    probe[0] = 1.0;
    let params = SearchParams {
        column: Some(spec.name.clone()),
        projection: Some(vec![spec.name.clone()]),
        filter: Some(Filter::Cmp(args.id_column.clone(), Op::Eq, literal)),
        ..SearchParams::default()
    };
    // Two hits mean the id is not unique: which row's vector to use would be a guess.
    let hit = session.search(&probe, 2, &params).await?;
    match hit.num_rows() {
        0 => return Err(not_found(format!("no row with {} = {value}", args.id_column))),
        1 => {}
        _ => {
            return Err(invalid(format!(
                "--like {value}: more than one row has {} = {value}; pass its vector with --vector instead",
                args.id_column
            )))
        }
    }
    let list = hit.column_by_name(&spec.name).ok_or_else(|| invalid("the row has no vector"))?;
    let values = list.as_fixed_size_list().value(0);
    Ok(values.as_primitive::<arrow_array::types::Float32Type>().values().to_vec())
}

/// `batch` with a leading `query` column (the query's position) when there are several.
fn with_query_column(batch: RecordBatch, query: usize) -> anyhow::Result<RecordBatch> {
    let mut fields = vec![Arc::new(Field::new("query", arrow_schema::DataType::Int64, false))];
    fields.extend(batch.schema().fields().iter().cloned());
    let mut columns: Vec<ArrayRef> = vec![Arc::new(Int64Array::from(vec![query as i64; batch.num_rows()]))];
    columns.extend(batch.columns().iter().cloned());
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)?)
}

pub async fn run(lake: &LakeArgs, args: SearchArgs) -> anyhow::Result<()> {
    let filter = args.filter.as_deref().map(Filter::parse).transpose()?;
    let mut table = lake.table(&args.table).await?;
    if let Some(id) = args.snapshot {
        table = table.at_snapshot(id)?;
    }
    let opened = Instant::now();
    let session = table.search().await?;
    let queries = match (&args.vector, &args.vector_file, &args.like) {
        (Some(json), _, _) => parse_json_vectors(json, "--vector")?,
        (_, Some(path), _) => read_vector_file(path)?,
        (_, _, Some(id)) => vec![stored_vector(&session, &args, id).await?],
        _ if args.text.is_some() => Vec::new(),
        _ => {
            return Err(invalid(
                "give a query: --vector JSON, --vector-file FILE, --like ROW_ID or --text WORDS",
            ))
        }
    };
    let params = SearchParams {
        column: args.vector_column.clone(),
        text_column: args.text_column.clone(),
        ef: args.ef,
        nprobe: args.nprobe.unwrap_or(SearchParams::default().nprobe),
        projection: args
            .columns
            .as_ref()
            .map(|c| c.iter().map(|name| name.trim().to_string()).filter(|name| !name.is_empty()).collect()),
        filter,
        ..SearchParams::default()
    };
    let before = session.counters();
    let mut results = Vec::with_capacity(queries.len());
    let mut latencies = Vec::with_capacity(queries.len());
    if args.weights.len() != 2 || args.weights.iter().any(|w| !w.is_finite()) {
        return Err(invalid("--weights takes two finite numbers, VECTOR,TEXT"));
    }
    let fusion = match args.fusion {
        FusionArg::Rrf => Fusion::default(),
        FusionArg::Weighted => Fusion::Weighted { vector: args.weights[0], text: args.weights[1] },
    };
    let hybrid = HybridParams { fusion, ..HybridParams::default() };
    if let (Some(text), true) = (&args.text, queries.is_empty()) {
        let started = Instant::now();
        results.push(session.text_search(text, args.k as usize, &params).await?);
        latencies.push(started.elapsed());
    }
    for (i, q) in queries.iter().enumerate() {
        let started = Instant::now();
        let hits = match &args.text {
            Some(text) => session.hybrid_search(q, text, args.k as usize, &params, &hybrid).await?,
            None => session.search(q, args.k as usize, &params).await?,
        };
        latencies.push(started.elapsed());
        results.push(if queries.len() > 1 { with_query_column(hits, i)? } else { hits });
    }
    print!("{}", render(&results, args.format)?);
    if args.format == Format::Table {
        let total: std::time::Duration = latencies.iter().sum();
        let c = session.counters();
        eprintln!(
            "{} on snapshot {} ({}, {}) in {:.1?} (+{:.1?} to open): {} searched by index, {} scanned exactly, {} pruned{}",
            count(latencies.len() as u64, "query", "queries"),
            session.snapshot_id().map_or("none".into(), |s| s.to_string()),
            count(session.shard_count() as u64, "shard", "shards"),
            count(session.row_count(), "row", "rows"),
            total,
            opened.elapsed().saturating_sub(total),
            count(c.shards_index_searched - before.shards_index_searched, "shard", "shards"),
            c.shards_flat_scanned - before.shards_flat_scanned,
            c.shards_pruned - before.shards_pruned,
            match c.blocks_scanned - before.blocks_scanned {
                0 => String::new(),
                n => format!(", {} of compacted files", count(n, "partition block", "partition blocks")),
            } + &match (c.text_shards_searched - before.text_shards_searched, c.text_shards_scanned - before.text_shards_scanned) {
                (0, _) => String::new(),
                (n, 0) => format!("; text: {} by their text index", count(n, "shard", "shards")),
                (n, s) => format!("; text: {}, {s} without a text index (column scanned)", count(n, "shard", "shards")),
            }
        );
    }
    Ok(())
}
