//! Quickstart: writes a shard of real embeddings (Debian package descriptions, MiniLM, from
//! `../shared/data/debian-minilm`) as a Parquet file with an AILK section under
//! `./warehouse`, reads the section back through object_store range reads, and answers a
//! held-out query from the loaded vectors, printing what it found.
//!
//! Run: `cargo run --release --example quickstart` (optionally `-- <data dir> <rows>`).

use std::sync::Arc;
use std::time::Instant;

use ailake::format::object_store::path::Path;
use ailake::format::object_store::{ObjectStoreExt, PutPayload};
use ailake::format::vector_column::{vector_field, vectors_to_array, with_field_id};
use ailake::format::{write_shard_bytes, RawVectors, VectorData};
use ailake::index::texmex::read_fvecs;
use ailake::prelude::*;
use ailake::{local_store, SectionBuilder, SubsectionKind, VectorColumn};
use anyhow::{bail, Context};
use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};

fn read_texts(path: &std::path::Path, rows: usize) -> anyhow::Result<Vec<String>> {
    let raw = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(raw.lines().take(rows).map(|l| l.split_once('\t').map_or(l, |(_, t)| t).to_string()).collect())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let data_dir =
        std::path::PathBuf::from(args.get(1).map_or("../shared/data/debian-minilm", String::as_str));
    let rows: usize = args.get(2).map_or(Ok(5000), |s| s.parse()).context("rows must be a number")?;
    if !data_dir.join("base.fvecs").exists() {
        bail!("dataset not found at {} (pass its directory as the first argument)", data_dir.display());
    }
    let base = read_fvecs(data_dir.join("base.fvecs"), Some(rows))?;
    let queries = read_fvecs(data_dir.join("query.fvecs"), Some(1))?;
    let texts = read_texts(&data_dir.join("texts.tsv"), base.rows())?;
    let query_text = read_texts(&data_dir.join("queries.tsv"), 1)?.remove(0);
    let dim = base.dim as u32;
    println!("loaded {} vectors of dimension {dim} from {}", base.rows(), data_dir.display());

    // 1. One shard: id, text and the embedding column, plus an AILK section.
    let schema = Arc::new(Schema::new(vec![
        with_field_id(Field::new("id", DataType::Int64, false), 1),
        with_field_id(Field::new("text", DataType::Utf8, false), 2),
        vector_field("embedding", dim, 3, 4, false),
    ]));
    let DataType::FixedSizeList(element, _) = schema.field(2).data_type().clone() else { unreachable!() };
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from_iter_values(0..base.rows() as i64)),
        Arc::new(StringArray::from(texts.clone())),
        Arc::new(vectors_to_array(element, dim, &base.data)?),
    ];
    let batch = RecordBatch::try_new(schema.clone(), columns)?;
    let started = Instant::now();
    let mut section = SectionBuilder::new(base.rows() as u64);
    let col = section.column(VectorColumn::summarize(3, "embedding", Metric::Cosine, dim, &base.data)?);
    section.add(SubsectionKind::RawVectors, col, RawVectors::encode_f32(dim, &base.data)?);
    let section = section.encode()?;
    let (file, written) = write_shard_bytes(schema, &[batch], Some(&section), None)?;
    let store = local_store("warehouse")?;
    let path = Path::from("quickstart/data/shard-00000.parquet");
    store.put(&path, PutPayload::from(file)).await?;
    let loc = written.section.context("section location")?;
    println!(
        "wrote warehouse/{path}: {} rows, {} bytes, AILK section at offset {} ({} bytes) in {:.1?}",
        written.num_rows,
        written.file_size,
        loc.offset,
        loc.length,
        started.elapsed()
    );

    // 2. Open it again: footer + directory, then only the raw-vector payload.
    let started = Instant::now();
    let reader = ShardReader::open(store.clone(), path.clone(), ReadOptions::default()).await?;
    let dir = reader.directory().context("the file should carry a section")?;
    let primary = dir.primary().context("primary column")?;
    println!(
        "opened in {:.1?}: AILK v{}.{}, {} rows, column {:?} dim {} metric {:?}, radius {:.3}, {} sub-section(s)",
        started.elapsed(),
        dir.major,
        dir.minor,
        dir.row_count,
        primary.name,
        primary.dim,
        primary.metric,
        primary.radius,
        dir.entries.len()
    );
    let loaded = reader.load(&[(SubsectionKind::RawVectors, col)]).await?;
    let raw = RawVectors::decode(&loaded[0].1)?;
    let VectorData::F32(vectors) = &raw.data else { bail!("expected f32 vectors") };

    // 3. Answer one held-out query by exact inner product over the loaded vectors.
    let q = queries.row(0);
    let mut scored: Vec<(f32, usize)> = vectors
        .chunks_exact(dim as usize)
        .enumerate()
        .map(|(i, v)| (v.iter().zip(q).map(|(a, b)| a * b).sum::<f32>(), i))
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    println!("query: {query_text:?}");
    for (score, i) in scored.iter().take(5) {
        println!("  {score:.3}  #{i:<6} {}", texts[*i]);
    }
    println!(
        "DuckDB reads the same file: .venv/bin/python -c \"import duckdb; print(duckdb.sql(\\\"SELECT id, text FROM 'warehouse/{path}' LIMIT 3\\\"))\""
    );
    Ok(())
}
