//! pyiceberg opens our SQLite catalog with its own `SqlCatalog`, loads a table written through
//! several appends and a replace (files with and without AILK sections), and reads exactly our
//! rows; its snapshot history shows our snapshots and summaries. DuckDB reads the data files.
//! Python comes from `.venv` (made by `.ci/run`) or `$AILAKE_PYTHON`; without it the test fails.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

use ailk_catalog::iceberg::arrow::arrow_schema_to_schema;
use ailk_catalog::{
    data_file_from_store, CatalogProvider, IndexKind, IndexStatus, ShardSummary, SnapshotUpdate, SqlCatalog,
    Table, TableIdent, Warehouse,
};
use ailk_format::vector_column::{vector_field, vectors_to_array, with_field_id};
use ailk_format::{write_shard_bytes, Metric, RawVectors, SectionBuilder, SubsectionKind, VectorColumn};
use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema as ArrowSchema};
use object_store::{ObjectStoreExt, PutPayload};
use serde_json::Value;

const DIM: u32 = 8;

fn python() -> PathBuf {
    if let Ok(p) = std::env::var("AILAKE_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python");
    assert!(venv.exists(), "no Python with pyiceberg and duckdb: run `bash .ci/run` once (it creates .venv) or set AILAKE_PYTHON");
    venv
}

fn arrow_schema() -> Arc<ArrowSchema> {
    Arc::new(ArrowSchema::new(vec![
        with_field_id(Field::new("id", DataType::Int64, false), 1),
        with_field_id(Field::new("text", DataType::Utf8, true), 2),
        vector_field("embedding", DIM, 3, 4, false),
    ]))
}

fn vectors(ids: &std::ops::Range<i64>) -> Vec<f32> {
    ids.clone().flat_map(|i| (0..DIM).map(move |d| i as f32 + d as f32 / 100.0)).collect()
}

/// Writes rows `ids` (with an AILK raw-vector section when `section`) and returns the entry
/// and, for sectioned files, the shard summary.
async fn write(
    table: &Table,
    ids: std::ops::Range<i64>,
    section: bool,
) -> (ailk_catalog::iceberg::spec::DataFile, Option<ShardSummary>) {
    let schema = arrow_schema();
    let values = vectors(&ids);
    let element = match schema.field(2).data_type() {
        DataType::FixedSizeList(f, _) => f.clone(),
        _ => unreachable!(),
    };
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int64Array::from_iter_values(ids.clone())) as ArrayRef,
            Arc::new(StringArray::from_iter(ids.clone().map(|i| (i % 5 != 0).then(|| format!("doc {i}"))))),
            Arc::new(vectors_to_array(element, DIM, &values).unwrap()),
        ],
    )
    .unwrap();
    let column = VectorColumn::summarize(3, "embedding", Metric::L2, DIM, &values).unwrap();
    let bytes = if section {
        let mut b = SectionBuilder::new(ids.end as u64 - ids.start as u64);
        let col = b.column(column.clone());
        b.add(SubsectionKind::RawVectors, col, RawVectors::encode_f32(DIM, &values).unwrap());
        Some(b.encode().unwrap())
    } else {
        None
    };
    let (file, written) = write_shard_bytes(schema, &[batch], bytes.as_deref(), None).unwrap();
    let uri = format!("{}/data/{}.parquet", table.location(), uuid::Uuid::new_v4());
    let wh = table.warehouse();
    wh.store().put(&wh.path_of(&uri).unwrap(), PutPayload::from(file)).await.unwrap();
    let entry = data_file_from_store(wh, &uri, table.refresh().await.unwrap().schema()).await.unwrap();
    let summary = written.section.map(|s| ShardSummary {
        file_path: uri.clone(),
        rows: entry.record_count(),
        column: "embedding".into(),
        centroid: column.centroid.clone(),
        radius: column.radius,
        index: IndexKind::Flat,
        status: IndexStatus::Ready,
        section: Some((s.offset, s.length)),
        occupancy: None,
        blocks: None,
    });
    (entry, summary)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pyiceberg_and_duckdb_read_our_table() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("catalog.db");
    let catalog: Arc<dyn CatalogProvider> = Arc::new(SqlCatalog::open(&db, "default").await.unwrap());
    let wh = Warehouse::local(dir.path().join("warehouse")).unwrap();
    let schema = arrow_schema_to_schema(&arrow_schema()).unwrap();
    let table = Table::create(
        catalog,
        wh.clone(),
        TableIdent::new("docs", "chunks").unwrap(),
        schema,
        HashMap::new(),
    )
    .await
    .unwrap();

    let mut ours = Vec::new();
    let mut replaced = None;
    for (i, ids) in [0..120, 120..200, 200..333].into_iter().enumerate() {
        let (entry, summary) = write(&table, ids, i != 1).await;
        if i == 1 {
            replaced = Some(entry.file_path().to_string());
        }
        let update = SnapshotUpdate::append(vec![entry])
            .with_batch_ids([format!("batch-{i}")])
            .with_summaries(summary.into_iter().collect());
        ours.push(table.commit(update).await.unwrap().snapshot_id());
    }
    // Index the section-less file: same rows, now with a section.
    let (entry, summary) = write(&table, 120..200, true).await;
    let update =
        SnapshotUpdate::replace(replaced.unwrap(), entry).with_summaries(summary.into_iter().collect());
    ours.push(table.commit(update).await.unwrap().snapshot_id());

    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/py/read_table.py");
    let out = Command::new(python())
        .arg(script)
        .arg(&db)
        .arg(wh.root())
        .arg("docs.chunks")
        .output()
        .expect("python runs");
    assert!(out.status.success(), "pyiceberg failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let json: Value = serde_json::from_slice(&out.stdout).expect("json");

    let ids: Vec<i64> = json["ids"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect();
    assert_eq!(ids, (0..333).collect::<Vec<_>>());
    for (i, t) in json["text"].as_array().unwrap().iter().enumerate() {
        if i % 5 == 0 {
            assert!(t.is_null(), "row {i}");
        } else {
            assert_eq!(t.as_str().unwrap(), format!("doc {i}"));
        }
    }
    let emb: Vec<Vec<f64>> = serde_json::from_value(json["embedding"].clone()).unwrap();
    for (i, row) in emb.iter().enumerate() {
        // Compare as f32: the JSON text of each value parses back to the same f32.
        let got: Vec<f32> = row.iter().map(|&v| v as f32).collect();
        let expect: Vec<f32> = (0..DIM).map(|d| i as f32 + d as f32 / 100.0).collect();
        assert_eq!(got, expect);
    }
    assert_eq!(json["namespaces"], serde_json::json!(["docs"]));
    assert_eq!(json["current"].as_i64(), Some(ours[3]));
    // iceberg-rust writes the snapshot list in hash order; the history log carries the order.
    let mut snaps = json["snapshots"].as_array().unwrap().clone();
    snaps.sort_by_key(|s| ours.iter().position(|&o| Some(o) == s["id"].as_i64()).unwrap_or(usize::MAX));
    let ids: Vec<i64> = snaps.iter().map(|s| s["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, ours);
    let history: Vec<i64> = json["history"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect();
    assert_eq!(history, ours);
    let ops: Vec<&str> = snaps.iter().map(|s| s["operation"].as_str().unwrap()).collect();
    assert_eq!(ops, ["append", "append", "append", "replace"]);
    assert_eq!(snaps[1]["parent"].as_i64(), Some(ours[0]));
    assert_eq!(snaps[2]["summary"]["ailake.batch-ids"], "batch-2");
    assert_eq!(snaps[2]["summary"]["total-records"], "333");
    assert_eq!(snaps[3]["summary"]["total-records"], "333");
    assert_eq!(snaps[3]["summary"]["total-data-files"], "3");
    assert_eq!(json["files"].as_array().unwrap().len(), 3);
    let duck: Vec<i64> = json["duckdb_ids"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect();
    assert_eq!(duck, (0..333).collect::<Vec<_>>());
    assert_eq!(json["first_snapshot_rows"].as_i64(), Some(120));

    // And our own summaries cover every live file.
    let summaries =
        table.refresh().await.unwrap().shard_summaries().await.unwrap().map(|s| s.to_vec()).unwrap();
    assert_eq!(summaries.len(), 3);
    assert!(summaries.iter().all(|s| s.status == IndexStatus::Ready && s.section.is_some()));
}
