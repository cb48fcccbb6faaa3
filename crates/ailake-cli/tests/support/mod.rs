//! Helpers of the CLI tests: run the real `ailake` binary, write input files, read tables back.
#![allow(dead_code)]

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use ailk_testkit::sample::Sample;
use arrow_array::builder::{Float32Builder, ListBuilder};
use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};

/// The `ailake` binary Cargo built for these tests.
pub fn ailake(warehouse: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ailake"));
    c.arg("--warehouse").arg(warehouse).env_remove("AILAKE_CATALOG").env_remove("RUST_LOG");
    c
}

/// Runs `ailake --warehouse W args…`.
pub fn run(warehouse: &Path, args: &[&str]) -> Output {
    ailake(warehouse).args(args).output().expect("the ailake binary runs")
}

/// Runs and asserts success; returns stdout.
pub fn ok(warehouse: &Path, args: &[&str]) -> String {
    let out = run(warehouse, args);
    assert!(
        out.status.success(),
        "ailake {args:?} failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs and asserts failure with `code` and exactly one `error:` line on stderr naming
/// `mentions`; returns that line.
pub fn fails(warehouse: &Path, args: &[&str], code: i32, mentions: &str) -> String {
    let out = run(warehouse, args);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(code), "ailake {args:?}: stderr {stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "ailake {args:?}: one line on stderr, got {stderr:?}");
    assert!(lines[0].starts_with("error: ") && lines[0].contains(mentions), "ailake {args:?}: {stderr}");
    lines[0].to_string()
}

/// The committed real sample.
pub fn sample() -> Sample {
    Sample::load().unwrap()
}

/// Rows `ids` of the sample as `id`, `text` and `embedding` — a `List<Float32>`, as pyarrow
/// and pandas users hold vectors.
pub fn list_batch(s: &Sample, ids: std::ops::Range<usize>) -> RecordBatch {
    let id: ArrayRef = Arc::new(Int64Array::from_iter_values(ids.clone().map(|i| i as i64)));
    let text: ArrayRef = Arc::new(StringArray::from_iter_values(ids.clone().map(|i| s.texts[i].as_str())));
    let mut list = ListBuilder::new(Float32Builder::new());
    for i in ids {
        list.values().append_slice(s.base.row(i));
        list.append(true);
    }
    let embedding: ArrayRef = Arc::new(list.finish());
    let schema = Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("text", DataType::Utf8, true),
        Field::new("embedding", embedding.data_type().clone(), true),
    ]);
    RecordBatch::try_new(Arc::new(schema), vec![id, text, embedding]).unwrap()
}

/// Writes `batch` as a plain Parquet file.
pub fn write_parquet(path: &Path, batch: &RecordBatch) {
    let file = std::fs::File::create(path).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None).unwrap();
    w.write(batch).unwrap();
    w.close().unwrap();
}

/// Creates `docs.t` (id, text, embedding 384 cosine).
pub fn create(warehouse: &Path) {
    ok(
        warehouse,
        &[
            "create",
            "docs.t",
            "--vector",
            "embedding:384:cosine",
            "--column",
            "id:int64!",
            "--column",
            "text:string",
        ],
    );
}

/// `docs.t` created under `dir/wh`, and the sample's 4,000 rows as `dir/all.parquet`
/// (list vectors): the warehouse and the input file.
pub fn table_and_input(dir: &Path) -> (PathBuf, PathBuf) {
    let wh = dir.join("wh");
    create(&wh);
    let input = dir.join("all.parquet");
    write_parquet(&input, &list_batch(&sample(), 0..4000));
    (wh, input)
}

/// The `id`s of every live row of `table` at its current snapshot, read from its data files.
pub async fn live_ids(warehouse: &Path, table: &str) -> Vec<i64> {
    let catalog = ailake::Catalog::local(warehouse.join("catalog.db"), "default", warehouse).await.unwrap();
    let t = catalog.load_table(&ailake::TableIdent::parse(table).unwrap()).await.unwrap();
    let mut ids = Vec::new();
    for f in t.live_files().await.unwrap().iter() {
        let path = PathBuf::from(f.path().strip_prefix("file://").unwrap());
        let file = std::fs::File::open(path).unwrap();
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
        let mask = parquet::arrow::ProjectionMask::columns(reader.parquet_schema(), ["id"]);
        for b in reader.with_projection(mask).build().unwrap() {
            ids.extend(b.unwrap().column(0).as_primitive::<Int64Type>().values().iter().copied());
        }
    }
    ids.sort_unstable();
    ids
}

/// The current snapshot id of `table` (`None` before the first commit).
pub async fn snapshot(warehouse: &Path, table: &str) -> Option<i64> {
    let catalog = ailake::Catalog::local(warehouse.join("catalog.db"), "default", warehouse).await.unwrap();
    catalog.load_table(&ailake::TableIdent::parse(table).unwrap()).await.unwrap().snapshot_id()
}

/// Mean recall of `got` against `truth`.
pub fn recall(got: &[Vec<i64>], truth: &[Vec<u32>]) -> f64 {
    let hits: usize = got
        .iter()
        .zip(truth)
        .map(|(g, t)| {
            let t: HashSet<i64> = t.iter().map(|&x| x as i64).collect();
            g.iter().filter(|x| t.contains(x)).count()
        })
        .sum();
    hits as f64 / truth.iter().map(Vec::len).sum::<usize>() as f64
}

/// The Python with pyarrow, DuckDB and pyiceberg (not every test binary uses it).
#[allow(unused_imports)]
pub use ailk_testkit::python;
