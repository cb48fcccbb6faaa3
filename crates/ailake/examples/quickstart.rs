//! Quickstart: an Iceberg table of real embeddings (Debian package descriptions, MiniLM,
//! from `../shared/data/debian-minilm`) under `./warehouse` — a SQLite catalog that pyiceberg
//! opens and Parquet files that carry their own vector index — written with four kinds of
//! write options (HNSW, IVF-PQ, deferred builds, a batch id), committed, and searched.
//!
//! Run: `cargo run --release --example quickstart` (optionally `-- <data dir> <rows>`).
//! Set `RUST_LOG=info` for the library's logs.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use ailake::prelude::*;
use ailk_testkit::texmex::read_fvecs;
use anyhow::{bail, Context};
use arrow_array::{Array, ArrayRef, FixedSizeListArray, Float32Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};

/// The table the quickstart writes.
pub const TABLE: &str = "docs.debian";

fn read_texts(path: &Path, rows: usize) -> anyhow::Result<Vec<String>> {
    let raw = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(raw.lines().take(rows).map(|l| l.split_once('\t').map_or(l, |(_, t)| t).to_string()).collect())
}

fn attributes() -> Schema {
    Schema::new(vec![Field::new("id", DataType::Int64, false), Field::new("text", DataType::Utf8, false)])
}

/// Rows `ids` with their embeddings as a `FixedSizeList<Float32>` column, as arrow,
/// pyiceberg and Lance users hold them.
fn batch(
    ids: std::ops::Range<usize>,
    texts: &[String],
    vectors: &[f32],
    dim: usize,
) -> anyhow::Result<RecordBatch> {
    let id: ArrayRef = Arc::new(Int64Array::from_iter_values(ids.clone().map(|i| i as i64)));
    let text: ArrayRef = Arc::new(StringArray::from_iter_values(ids.clone().map(|i| texts[i].as_str())));
    let values = Float32Array::from(vectors[ids.start * dim..ids.end * dim].to_vec());
    let item = Arc::new(Field::new("item", DataType::Float32, false));
    let embedding: ArrayRef =
        Arc::new(FixedSizeListArray::try_new(item, dim as i32, Arc::new(values), None)?);
    let mut fields = attributes().fields().to_vec();
    fields.push(Arc::new(Field::new("embedding", embedding.data_type().clone(), false)));
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), vec![id, text, embedding])?)
}

/// Writes (unless the table already has rows) and searches the quickstart table under
/// `warehouse`; returns the rows the table holds.
pub async fn run(warehouse: &Path, data_dir: &Path, rows: usize) -> anyhow::Result<u64> {
    if !data_dir.join("base.fvecs").exists() {
        bail!("dataset not found at {} (pass its directory as the first argument)", data_dir.display());
    }
    let base = read_fvecs(data_dir.join("base.fvecs"), Some(rows))?;
    let texts = read_texts(&data_dir.join("texts.tsv"), base.rows())?;
    let queries = read_fvecs(data_dir.join("query.fvecs"), Some(3))?;
    let query_texts = read_texts(&data_dir.join("queries.tsv"), 3)?;
    println!("loaded {} vectors of dimension {} from {}", base.rows(), base.dim, data_dir.display());

    // 1. The embedded default: a SQLite catalog next to a local warehouse directory. A `Table`
    //    is one version of the table's metadata; writers and searches start from it.
    let catalog = Catalog::local(warehouse.join("catalog.db"), "default", warehouse).await?;
    let ident = TableIdent::parse(TABLE)?;
    let spec = VectorSpec::new("embedding", base.dim as u32, Metric::Cosine);
    let table = catalog.create_or_load_table(&ident, &attributes(), &[spec]).await?;
    let writer = table.writer(WritePolicy::default())?;

    // 2. Write four batches with four kinds of options, then commit one snapshot.
    let existing = table.search().await?.row_count();
    if existing > 0 {
        println!(
            "{TABLE} already holds {existing} rows: skipping the writes (delete {} to start over)",
            warehouse.display()
        );
    } else {
        let n = base.rows();
        let cuts: Vec<usize> = (0..=4).map(|i| i * n / 4).collect();
        let paths = [
            ("HNSW", WriteOptions::default()),
            ("IVF-PQ", WriteOptions::default().index(IndexChoice::IvfPq(None))),
            ("deferred HNSW", WriteOptions::default().deferred()),
            (
                "deferred IVF-PQ, batch id",
                WriteOptions::default().index(IndexChoice::IvfPq(None)).deferred().batch_id("quickstart-4"),
            ),
        ];
        for (i, (name, opts)) in paths.iter().enumerate() {
            let (r, started) = (cuts[i]..cuts[i + 1], Instant::now());
            let b = batch(r, &texts, &base.data, base.dim)?;
            let written = writer.write(&b, opts).await?.context("a new batch id writes")?;
            let secs = started.elapsed().as_secs_f64();
            println!(
                "{name:<26} {:>6} rows in {secs:>6.2} s ({:>7.0} rows/s) -> {}",
                written.rows,
                written.rows as f64 / secs,
                written.path
            );
        }
        let started = Instant::now();
        let snapshot = writer.commit().await?;
        println!("committed snapshot {snapshot} in {:.1?}", started.elapsed());
        let started = Instant::now();
        writer.wait_indexed().await?;
        println!(
            "background index builds done after {:.1?} (one finishing after the commit commits a replace)",
            started.elapsed()
        );
    }

    // 3. Search the current snapshot.
    let session = table.refresh().await?.search().await?;
    println!(
        "searching snapshot {:?}: {} shards, {} rows",
        session.snapshot_id(),
        session.shard_count(),
        session.row_count()
    );
    let params = SearchParams::default();
    for (q, text) in queries.data.chunks_exact(queries.dim).zip(&query_texts) {
        let started = Instant::now();
        let hits = session.search(q, 5, &params).await?;
        println!("query {text:?} ({:.1?}):", started.elapsed());
        let ids =
            hits.column_by_name("id").context("id")?.as_any().downcast_ref::<Int64Array>().context("ids")?;
        let found = hits
            .column_by_name("text")
            .context("text")?
            .as_any()
            .downcast_ref::<StringArray>()
            .context("texts")?;
        let dist = hits.column_by_name(ailake::DISTANCE_COLUMN).context("distance")?;
        let dist = dist.as_any().downcast_ref::<arrow_array::Float32Array>().context("distances")?;
        for i in 0..hits.num_rows() {
            println!("  {:.3}  #{:<6} {}", dist.value(i), ids.value(i), found.value(i));
        }
    }
    println!("counters: {:?}", session.counters());
    println!("Read it with pyiceberg and DuckDB:");
    println!(
        "  .venv/bin/python -c \"from pyiceberg.catalog.sql import SqlCatalog; \
         t = SqlCatalog('default', uri='sqlite:///{db}', warehouse='{root}').load_table('{TABLE}'); \
         print(t.scan(limit=3).to_arrow().select(['id','text']))\"",
        db = warehouse.canonicalize()?.join("catalog.db").display(),
        root = catalog.warehouse().root()
    );
    println!(
        "  .venv/bin/python -c \"import duckdb; print(duckdb.sql(\\\"SELECT count(*) FROM '{}/docs/debian/data/*.parquet'\\\"))\"   (counts every file, replaced ones included)",
        warehouse.canonicalize()?.display()
    );
    Ok(session.row_count())
}

#[allow(dead_code)]
#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();
    let args: Vec<String> = std::env::args().collect();
    let data_dir =
        std::path::PathBuf::from(args.get(1).map_or("../shared/data/debian-minilm", String::as_str));
    let rows: usize = args.get(2).map_or(Ok(12_000), |s| s.parse()).context("rows must be a number")?;
    run(Path::new("warehouse"), &data_dir, rows).await?;
    Ok(())
}
