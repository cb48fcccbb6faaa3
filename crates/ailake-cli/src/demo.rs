//! `ailake demo`: the quickstart on the real sample built into the binary (4,000 Debian
//! package descriptions with MiniLM embeddings): create a table, write it through four kinds
//! of write options, commit, search held-out queries (by vector, and hybrid: vector and words
//! fused), and print how pyiceberg and DuckDB read the same table.

use std::sync::Arc;
use std::time::Instant;

use ailake::prelude::*;
use ailake::HybridParams;
use ailk_testkit::sample::Sample;
use anyhow::Context;
use arrow_array::cast::AsArray;
use arrow_array::{ArrayRef, FixedSizeListArray, Float32Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use clap::Args;

use crate::errors::invalid;
use crate::lake::LakeArgs;
use crate::progress::count;
use crate::readers::reader_lines;

/// The table the demo writes.
pub const TABLE: &str = "docs.debian";

/// Create and search a demo table of real embeddings (built into the binary) in the warehouse.
///
/// Writes 4,000 Debian package descriptions with their all-MiniLM-L6-v2 embeddings to
/// `docs.debian` with four kinds of write options (HNSW, IVF-PQ, deferred HNSW, deferred
/// IVF-PQ with a batch id) with a full-text index on the descriptions, commits, searches
/// held-out queries by vector and then hybrid (vector + words, reciprocal-rank fused), and
/// prints the pyiceberg and DuckDB commands that read the same table. A second run finds the
/// rows and only searches.
///
/// Example: ailake demo --warehouse /tmp/lake
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Rows to write (at most 4,000).
    #[arg(long, default_value_t = 4_000)]
    pub rows: usize,
    /// Held-out queries to search.
    #[arg(long, default_value_t = 3)]
    pub queries: usize,
}

/// The sample compiled into the binary, so the demo runs anywhere.
fn sample() -> anyhow::Result<Sample> {
    macro_rules! file {
        ($name:literal) => {
            include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/sample/", $name))
        };
    }
    Ok(Sample::parse(
        file!("base.npy"),
        file!("query.npy"),
        file!("gt.npy"),
        std::str::from_utf8(file!("texts.tsv"))?,
        std::str::from_utf8(file!("queries.tsv"))?,
    )?)
}

fn attributes() -> Schema {
    Schema::new(vec![Field::new("id", DataType::Int64, false), Field::new("text", DataType::Utf8, false)])
}

/// Rows `ids` with their embeddings as a `FixedSizeList<Float32>` column.
fn batch(ids: std::ops::Range<usize>, s: &Sample) -> anyhow::Result<RecordBatch> {
    let dim = s.base.dim;
    let id: ArrayRef = Arc::new(Int64Array::from_iter_values(ids.clone().map(|i| i as i64)));
    let text: ArrayRef = Arc::new(StringArray::from_iter_values(ids.clone().map(|i| s.texts[i].as_str())));
    let values = Float32Array::from(s.base.data[ids.start * dim..ids.end * dim].to_vec());
    let item = Arc::new(Field::new("item", DataType::Float32, false));
    let embedding: ArrayRef =
        Arc::new(FixedSizeListArray::try_new(item, dim as i32, Arc::new(values), None)?);
    let mut fields = attributes().fields().to_vec();
    fields.push(Arc::new(Field::new("embedding", embedding.data_type().clone(), false)));
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), vec![id, text, embedding])?)
}

async fn write(table: &Table, s: &Sample, n: usize) -> anyhow::Result<()> {
    let writer = table.writer(WritePolicy::default())?;
    let cuts: Vec<usize> = (0..=4).map(|i| i * n / 4).collect();
    let paths = [
        ("HNSW", WriteOptions::default()),
        ("IVF-PQ", WriteOptions::default().index(IndexChoice::IvfPq(None))),
        ("deferred HNSW", WriteOptions::default().deferred()),
        (
            "deferred IVF-PQ, batch id",
            WriteOptions::default().index(IndexChoice::IvfPq(None)).deferred().batch_id("demo-4"),
        ),
    ];
    for (i, (name, opts)) in paths.iter().enumerate() {
        let started = Instant::now();
        let b = batch(cuts[i]..cuts[i + 1], s)?;
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
    Ok(())
}

/// One line per hit: its `score` column, id and text.
fn print_hits(hits: &RecordBatch, score: &str) -> anyhow::Result<()> {
    let ids = hits.column_by_name("id").context("id")?.as_primitive::<arrow_array::types::Int64Type>();
    let found = hits.column_by_name("text").context("text")?.as_string::<i32>();
    let scores =
        hits.column_by_name(score).context("score")?.as_primitive::<arrow_array::types::Float32Type>();
    for i in 0..hits.num_rows() {
        println!("  {:.3}  #{:<6} {}", scores.value(i), ids.value(i), found.value(i));
    }
    Ok(())
}

pub async fn run(lake: &LakeArgs, args: DemoArgs) -> anyhow::Result<()> {
    let s = sample()?;
    if args.rows == 0 || args.rows > s.base.rows() {
        return Err(invalid(format!("--rows {}: the sample has 1..={} rows", args.rows, s.base.rows())));
    }
    if args.queries > s.queries.rows() {
        return Err(invalid(format!(
            "--queries {}: the sample has {} queries",
            args.queries,
            s.queries.rows()
        )));
    }
    println!(
        "sample: {} real vectors of dimension {} (Debian descriptions, all-MiniLM-L6-v2)",
        args.rows, s.base.dim
    );
    let catalog = lake.open(true).await?;
    let ident = TableIdent::parse(TABLE)?;
    let spec = VectorSpec::new("embedding", s.base.dim as u32, Metric::Cosine);
    let text = TextSpec::new("text").with_analyzer("english");
    let table = match catalog.load_table(&ident).await {
        Ok(t) => t,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            match catalog.create_table_with_text(&ident, &attributes(), &[spec], &[text]).await {
                Err(e) if e.kind() == ErrorKind::AlreadyExists => catalog.load_table(&ident).await?,
                other => other?,
            }
        }
        Err(e) => return Err(e.into()),
    };
    let existing = table.search().await?.row_count();
    if existing > 0 {
        println!(
            "{TABLE} already holds {existing} rows: searching only (delete {} to start over)",
            lake.warehouse()
        );
    } else {
        write(&table, &s, args.rows).await?;
    }

    let table = table.refresh().await?;
    let session = table.search().await?;
    println!(
        "searching snapshot {}: {}, {}",
        session.snapshot_id().map_or("none".into(), |s| s.to_string()),
        count(session.shard_count() as u64, "shard", "shards"),
        count(session.row_count(), "row", "rows")
    );
    for (q, text) in s.query_rows(args.queries).iter().zip(&s.query_texts) {
        let started = Instant::now();
        let hits = session.search(q, 5, &SearchParams::default()).await?;
        println!("query {text:?} ({:.1?}):", started.elapsed());
        print_hits(&hits, ailake::DISTANCE_COLUMN)?;
    }
    // The first query by its words alone (BM25), then hybrid: its vector and its words, each
    // list 40 deep, fused by reciprocal rank.
    if let (Some(q), Some(text)) = (s.query_rows(1).first(), s.query_texts.first()) {
        let started = Instant::now();
        let hits = session.text_search(text, 5, &SearchParams::default()).await?;
        println!("words {text:?}, BM25 ({:.1?}):", started.elapsed());
        print_hits(&hits, ailake::SCORE_COLUMN)?;
        let started = Instant::now();
        let hits =
            session.hybrid_search(q, text, 5, &SearchParams::default(), &HybridParams::default()).await?;
        println!("hybrid: vector and words of {text:?}, fused ({:.1?}):", started.elapsed());
        print_hits(&hits, ailake::SCORE_COLUMN)?;
    }
    let c = session.counters();
    println!(
        "over {}: {} searched by index, {} exactly, {} pruned{}; {} read",
        count(args.queries as u64, "query", "queries"),
        count(c.shards_index_searched, "shard", "shards"),
        c.shards_flat_scanned,
        c.shards_pruned,
        match c.blocks_scanned {
            0 => String::new(),
            n => format!(", {}", count(n, "partition block", "partition blocks")),
        },
        count(c.bytes_read, "byte", "bytes")
    );
    for line in reader_lines(lake, &table).await? {
        println!("{line}");
    }
    println!(
        "Search it from the command line: ailake --warehouse {} search {TABLE} --like 7 -k 5 [--text 'terminal editor']",
        lake.warehouse()
    );
    Ok(())
}
