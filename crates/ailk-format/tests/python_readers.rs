//! Files we write are read row for row by pyarrow and DuckDB. The Python readers come from
//! the project's venv (`.venv`, made by `.ci/run`) or `$AILAKE_PYTHON`; their absence fails
//! the test with instructions rather than skipping it.

mod common;

use std::path::PathBuf;
use std::process::Command;

use ailk_format::write_shard_bytes;
use common::{full_section, random_vectors, shard_batch, shard_schema, OwnedGraph, OwnedIvfPq};
use serde_json::Value;

fn python() -> PathBuf {
    if let Ok(p) = std::env::var("AILAKE_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python");
    assert!(
        venv.exists(),
        "no Python with pyarrow and duckdb: run `bash .ci/run` once (it creates .venv) or set AILAKE_PYTHON"
    );
    venv
}

#[test]
fn pyarrow_and_duckdb_read_every_row() {
    let dim = 12u32;
    let rows = 777u32;
    let schema = shard_schema(dim);
    let vectors = random_vectors(rows as usize, dim as usize, 11);
    let cut = (400 * dim) as usize;
    let batches =
        vec![shard_batch(&schema, dim, 0, &vectors[..cut]), shard_batch(&schema, dim, 400, &vectors[cut..])];
    let section =
        full_section(dim, &vectors, &OwnedGraph::ring(rows, 6, 2), &OwnedIvfPq::random(rows, dim, 8, 6, 3));
    let (file, written) = write_shard_bytes(schema, &batches, Some(&section), None).unwrap();
    assert!(written.section.is_some());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shard.parquet");
    std::fs::write(&path, &file).unwrap();

    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/py/read_shard.py");
    let out = Command::new(python()).arg(script).arg(&path).output().expect("python runs");
    assert!(out.status.success(), "python readers failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let json: Value = serde_json::from_slice(&out.stdout).expect("json");

    for reader in ["pyarrow", "duckdb"] {
        let r = &json[reader];
        let ids: Vec<i64> = r["id"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect();
        assert_eq!(ids, (0..i64::from(rows)).collect::<Vec<_>>(), "{reader} ids");
        for (i, text) in r["text"].as_array().unwrap().iter().enumerate() {
            let local = i % 400;
            let expect_null = if i < 400 { local % 7 == 3 } else { (i - 400) % 7 == 3 };
            if expect_null {
                assert!(text.is_null(), "{reader} row {i} text should be null");
            } else {
                assert_eq!(text.as_str().unwrap(), format!("row {i}"), "{reader} row {i}");
            }
        }
        let emb = r["embedding"].as_array().unwrap();
        assert_eq!(emb.len(), rows as usize);
        for (i, row) in emb.iter().enumerate() {
            let got: Vec<f64> = row.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
            let want: Vec<f64> =
                vectors[i * dim as usize..(i + 1) * dim as usize].iter().map(|&x| f64::from(x)).collect();
            assert_eq!(got, want, "{reader} row {i} embedding");
        }
    }
    let duck_type = json["duckdb"]["embedding_type"].as_str().unwrap();
    assert!(duck_type.starts_with("FLOAT["), "DuckDB sees the vector column as {duck_type}");
}

#[tokio::test]
async fn footers_of_other_writers_pass_the_guard() {
    use ailk_format::object_store::path::Path as StorePath;
    use ailk_format::{local_store, ReadOptions, ShardReader};
    let dir = tempfile::tempdir().unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/py/write_foreign.py");
    let out = Command::new(python()).arg(script).arg(dir.path()).output().expect("python runs");
    assert!(out.status.success(), "python writers failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let store = local_store(dir.path()).unwrap();
    for (file, rows) in [("pyarrow.parquet", 1000), ("duckdb.parquet", 5000)] {
        let reader = ShardReader::open(store.clone(), StorePath::from(file), ReadOptions::default())
            .await
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(reader.metadata().file_metadata().num_rows(), rows, "{file}");
        assert!(reader.directory().is_none(), "{file} carries no section");
    }
}
