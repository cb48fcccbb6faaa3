//! Snapshot producer and catalog behaviour through the public API: append / replace / delete,
//! summaries and totals, time travel, idempotency, typed errors with nothing committed.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use ailk_catalog::iceberg::spec::Operation;
use ailk_catalog::{
    CatalogError, CatalogProvider, CommitOutcome, IndexKind, IndexStatus, ShardSummary, SnapshotUpdate,
    SqlCatalog, Table, TableIdent, Warehouse,
};
use common::*;

fn summary(table: &Table, key: &str) -> String {
    let snap = table.metadata().current_snapshot().unwrap();
    snap.summary().additional_properties.get(key).cloned().unwrap_or_default()
}

#[tokio::test]
async fn append_replace_delete_keep_rows_and_totals() {
    let table = memory_table().await;
    let a = write_file(&table, 0..100).await;
    let b = write_file(&table, 100..250).await;
    let s1 = table.commit(SnapshotUpdate::append(vec![a.clone()])).await.unwrap().snapshot_id();
    let s2 = table.commit(SnapshotUpdate::append(vec![b.clone()])).await.unwrap().snapshot_id();
    assert_eq!(live_ids(&table, None).await, (0..250).collect::<Vec<_>>());

    let state = table.refresh().await.unwrap();
    assert_eq!(state.snapshot_id(), Some(s2));
    assert_eq!(state.metadata().current_snapshot().unwrap().parent_snapshot_id(), Some(s1));
    assert_eq!(summary(&state, "total-records"), "250");
    assert_eq!(summary(&state, "total-data-files"), "2");
    assert_eq!(summary(&state, "added-records"), "150");
    let size = a.file_size_in_bytes() + b.file_size_in_bytes();
    assert_eq!(summary(&state, "total-files-size"), size.to_string());

    // Replace b by a copy with the same rows: operation `replace`, rows unchanged.
    let b2 = write_file(&table, 100..250).await;
    let s3 = table.commit(SnapshotUpdate::replace(b.file_path(), b2.clone())).await.unwrap().snapshot_id();
    let state = table.refresh().await.unwrap();
    assert_eq!(state.metadata().current_snapshot().unwrap().summary().operation, Operation::Replace);
    assert_eq!(summary(&state, "total-records"), "250");
    assert_eq!(summary(&state, "deleted-data-files"), "1");
    let live = live_paths(&table, None).await;
    assert!(live.contains(&b2.file_path().to_string()) && !live.contains(&b.file_path().to_string()));
    assert_eq!(live_ids(&table, None).await, (0..250).collect::<Vec<_>>());

    // Delete a: 150 rows left.
    table.commit(SnapshotUpdate::delete(vec![a.file_path().to_string()])).await.unwrap();
    let state = table.refresh().await.unwrap();
    assert_eq!(state.metadata().current_snapshot().unwrap().summary().operation, Operation::Delete);
    assert_eq!(summary(&state, "total-records"), "150");
    assert_eq!(live_ids(&table, None).await, (100..250).collect::<Vec<_>>());

    // Time travel: every older snapshot still lists its own files.
    assert_eq!(live_ids(&table, Some(s1)).await, (0..100).collect::<Vec<_>>());
    assert_eq!(live_ids(&table, Some(s2)).await, (0..250).collect::<Vec<_>>());
    let s3_files = live_paths(&table, Some(s3)).await;
    assert_eq!(s3_files.len(), 2);
    assert!(s3_files.contains(&a.file_path().to_string()));
}

#[tokio::test]
async fn data_file_stats_come_from_the_footer() {
    let table = memory_table().await;
    let f = write_file(&table, 10..60).await;
    assert_eq!(f.record_count(), 50);
    assert!(f.file_size_in_bytes() > 0);
    use ailk_catalog::iceberg::spec::Datum;
    assert_eq!(f.lower_bounds().get(&1), Some(&Datum::long(10)));
    assert_eq!(f.upper_bounds().get(&1), Some(&Datum::long(59)));
    assert_eq!(f.lower_bounds().get(&2), Some(&Datum::string("row 10")));
    assert_eq!(f.upper_bounds().get(&2), Some(&Datum::string("row 59")));
    assert!(!f.lower_bounds().contains_key(&4), "no bounds inside lists");
    assert_eq!(f.value_counts().get(&1), Some(&50));
    assert_eq!(f.value_counts().get(&4), Some(&(50 * DIM as u64)));
    assert_eq!(f.null_value_counts().get(&2), Some(&0));
    assert!(f.column_sizes().get(&4).copied().unwrap_or(0) > 0);
}

#[tokio::test]
async fn replace_of_a_file_that_is_not_live_is_a_conflict_and_commits_nothing() {
    let table = memory_table().await;
    let a = write_file(&table, 0..10).await;
    table.commit(SnapshotUpdate::append(vec![a.clone()])).await.unwrap();
    let a2 = write_file(&table, 0..10).await;
    table.commit(SnapshotUpdate::replace(a.file_path(), a2.clone())).await.unwrap();
    let before = table.refresh().await.unwrap();

    // A second replace of the same old file (e.g. a stale background build) must fail.
    let a3 = write_file(&table, 0..10).await;
    let err = table.commit(SnapshotUpdate::replace(a.file_path(), a3)).await.unwrap_err();
    assert!(matches!(err, CatalogError::FileNotLive { ref path, .. } if path == a.file_path()), "{err}");
    assert_eq!(err.kind(), ailk_catalog::ErrorKind::Conflict);
    assert!(!err.is_retryable(), "the same replace can never succeed");
    let err = table.commit(SnapshotUpdate::delete(vec!["memory:///warehouse/nope.parquet".into()])).await;
    assert!(matches!(err, Err(CatalogError::FileNotLive { .. })));
    let after = table.refresh().await.unwrap();
    assert_eq!(before.metadata_location(), after.metadata_location());
    assert_eq!(live_ids(&table, None).await, (0..10).collect::<Vec<_>>());
}

#[tokio::test]
async fn bad_input_is_typed_and_commits_nothing() {
    let catalog: Arc<dyn CatalogProvider> = Arc::new(ailk_catalog::MemoryCatalog::new());
    let wh = Warehouse::memory();
    let missing = Table::load(catalog.clone(), wh.clone(), TableIdent::new("ns", "missing").unwrap()).await;
    assert!(matches!(missing, Err(CatalogError::TableNotFound(_))));
    assert!(TableIdent::parse("no_namespace").is_err());
    assert!(TableIdent::new("ns", "a.b").is_err());
    for bad in ["..", "a..b", "a/b.c", "a.b\\c", " a.b", "a.b ", "a.b\n", ".b", "a."] {
        assert!(matches!(TableIdent::parse(bad), Err(CatalogError::InvalidInput(_))), "{bad:?}");
    }
    assert_eq!(TableIdent::parse("prod.emb.straße").unwrap().relative_location(), "prod/emb/straße");

    let table = Table::create(
        catalog.clone(),
        wh.clone(),
        TableIdent::new("ns", "t").unwrap(),
        schema(),
        HashMap::new(),
    )
    .await
    .unwrap();
    let again = Table::create(
        catalog.clone(),
        wh.clone(),
        TableIdent::new("ns", "t").unwrap(),
        schema(),
        HashMap::new(),
    )
    .await;
    assert!(matches!(again, Err(CatalogError::TableExists(_))));

    // A file whose columns do not carry the table's field ids.
    use arrow_array::{ArrayRef, Int64Array, RecordBatch};
    let foreign =
        RecordBatch::try_from_iter([("id", Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef)]).unwrap();
    let uri = format!("{}/data/foreign.parquet", table.location());
    put_batch(&wh, &uri, &foreign).await;
    let err = ailk_catalog::data_file_from_store(&wh, &uri, &schema()).await.unwrap_err();
    assert!(matches!(err, CatalogError::SchemaMismatch(_)), "{err}");

    // A file that lacks a required column.
    let other = ailk_catalog::iceberg::spec::Schema::builder()
        .with_fields(vec![schema().as_struct().fields()[1].clone()])
        .build()
        .unwrap();
    let uri = format!("{}/data/partial.parquet", table.location());
    put_batch(&wh, &uri, &batch_of(&other)).await;
    let err = ailk_catalog::data_file_from_store(&wh, &uri, &schema()).await.unwrap_err();
    assert!(matches!(err, CatalogError::SchemaMismatch(ref m) if m.contains("required")), "{err}");

    let err = table.commit(SnapshotUpdate::default()).await.unwrap_err();
    assert!(matches!(err, CatalogError::InvalidInput(_)));
    let f = write_file(&table, 0..3).await;
    let err =
        table.commit(SnapshotUpdate::append(vec![f.clone()]).with_batch_ids(["a,b"])).await.unwrap_err();
    assert!(matches!(err, CatalogError::InvalidInput(_)));
    let err = table.commit(SnapshotUpdate::append(vec![f.clone(), f])).await.unwrap_err();
    assert!(matches!(err, CatalogError::InvalidInput(_)));
    assert_eq!(table.refresh().await.unwrap().snapshot_id(), None);
}

fn batch_of(schema: &ailk_catalog::iceberg::spec::Schema) -> arrow_array::RecordBatch {
    use arrow_array::{ArrayRef, StringArray};
    let arrow = Arc::new(ailk_catalog::iceberg::arrow::schema_to_arrow_schema(schema).unwrap());
    arrow_array::RecordBatch::try_new(arrow, vec![Arc::new(StringArray::from(vec!["x"])) as ArrayRef])
        .unwrap()
}

#[tokio::test]
async fn stale_parent_is_rejected() {
    let table = memory_table().await;
    let f = write_file(&table, 0..5).await;
    let err = table.commit(SnapshotUpdate::append(vec![f.clone()]).with_expected_parent(Some(42))).await;
    assert!(matches!(err, Err(CatalogError::StaleParent { expected: Some(42), actual: None })));
    assert_eq!(err.unwrap_err().kind(), ailk_catalog::ErrorKind::Conflict);
    let s1 =
        table.commit(SnapshotUpdate::append(vec![f]).with_expected_parent(None)).await.unwrap().snapshot_id();
    let g = write_file(&table, 5..9).await;
    let err = table.commit(SnapshotUpdate::append(vec![g.clone()]).with_expected_parent(None)).await;
    assert!(matches!(err, Err(CatalogError::StaleParent { expected: None, actual: Some(s) }) if s == s1));
    table.commit(SnapshotUpdate::append(vec![g]).with_expected_parent(Some(s1))).await.unwrap();
}

#[tokio::test]
async fn batch_ids_make_commits_idempotent_and_follow_lineage() {
    let table = memory_table().await;
    let mut snaps = Vec::new();
    for i in 0..5i64 {
        let f = write_file(&table, i * 10..i * 10 + 10).await;
        let out = table
            .commit(SnapshotUpdate::append(vec![f]).with_batch_ids([format!("batch-{i}")]))
            .await
            .unwrap();
        assert!(matches!(out, CommitOutcome::Committed { .. }));
        snaps.push(out.snapshot_id());
    }
    // Re-sending batch-2 is a no-op that names the current snapshot.
    let dup = write_file(&table, 20..30).await;
    let out = table.commit(SnapshotUpdate::append(vec![dup]).with_batch_ids(["batch-2"])).await.unwrap();
    assert_eq!(out, CommitOutcome::AlreadyCommitted { batch_id: "batch-2".into(), snapshot_id: snaps[4] });
    assert_eq!(live_ids(&table, None).await, (0..50).collect::<Vec<_>>());

    for (i, &s) in snaps.iter().enumerate() {
        for j in 0..5 {
            let id = format!("batch-{j}");
            assert_eq!(
                table.refresh().await.unwrap().at_snapshot(s).unwrap().contains_batch(&id).unwrap(),
                j <= i,
                "batch {j} at snapshot {i}"
            );
        }
    }
    assert!(table.refresh().await.unwrap().contains_batch("batch-4").unwrap());
    assert!(!table.refresh().await.unwrap().contains_batch("batch-9").unwrap());
    // A fresh handle (cold cache) agrees.
    let fresh =
        Table::load(table.catalog().clone(), table.warehouse().clone(), table.ident().clone()).await.unwrap();
    assert!(fresh.refresh().await.unwrap().contains_batch("batch-0").unwrap());
    assert!(!fresh
        .refresh()
        .await
        .unwrap()
        .at_snapshot(snaps[1])
        .unwrap()
        .contains_batch("batch-3")
        .unwrap());
}

fn shard(path: &str, rows: u64, x: f32) -> ShardSummary {
    ShardSummary {
        file_path: path.to_string(),
        rows,
        column: "embedding".into(),
        centroid: vec![x; DIM],
        radius: 1.5,
        index: IndexKind::Hnsw,
        status: IndexStatus::Ready,
        section: Some((1000, 64)),
        occupancy: None,
        blocks: None,
    }
}

#[tokio::test]
async fn shard_summaries_follow_the_snapshot() {
    let table = memory_table().await;
    assert_eq!(
        table.refresh().await.unwrap().shard_summaries().await.unwrap().map(|s| s.to_vec()),
        Some(vec![])
    );
    let a = write_file(&table, 0..10).await;
    let b = write_file(&table, 10..20).await;
    let sa = shard(a.file_path(), 10, 1.0);
    let sb = shard(b.file_path(), 10, 2.0);
    let s1 =
        table.commit(SnapshotUpdate::append(vec![a.clone()]).with_summaries(vec![sa.clone()])).await.unwrap();
    table.commit(SnapshotUpdate::append(vec![b.clone()]).with_summaries(vec![sb.clone()])).await.unwrap();
    assert_eq!(
        table.refresh().await.unwrap().shard_summaries().await.unwrap().map(|s| s.to_vec()),
        Some(vec![sa.clone(), sb.clone()])
    );
    assert_eq!(
        table
            .refresh()
            .await
            .unwrap()
            .at_snapshot(s1.snapshot_id())
            .unwrap()
            .shard_summaries()
            .await
            .unwrap()
            .map(|s| s.to_vec()),
        Some(vec![sa.clone()])
    );

    // A replace swaps the summary of the replaced file.
    let a2 = write_file(&table, 0..10).await;
    let mut sa2 = shard(a2.file_path(), 10, 3.0);
    sa2.index = IndexKind::IvfPq;
    table.commit(SnapshotUpdate::replace(a.file_path(), a2).with_summaries(vec![sa2.clone()])).await.unwrap();
    assert_eq!(
        table.refresh().await.unwrap().shard_summaries().await.unwrap().map(|s| s.to_vec()),
        Some(vec![sb.clone(), sa2])
    );

    // The statistics file is registered in the metadata with its real sizes.
    let state = table.refresh().await.unwrap();
    let stats = state.metadata().statistics_for_snapshot(state.snapshot_id().unwrap()).unwrap();
    assert!(stats.blob_metadata.is_empty(), "pyiceberg rejects unknown blob types in table metadata");
    let path = table.warehouse().path_of(&stats.statistics_path).unwrap();
    use object_store::ObjectStoreExt;
    let head = table.warehouse().store().head(&path).await.unwrap();
    assert_eq!(head.size as i64, stats.file_size_in_bytes);
}

#[tokio::test]
async fn sql_catalog_lists_swaps_and_drops() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = SqlCatalog::open(dir.path().join("catalog.db"), "default").await.unwrap();
    let t = TableIdent::new("ns", "t").unwrap();
    assert!(matches!(catalog.register_table(&t, "file:///x").await, Err(CatalogError::NamespaceNotFound(_))));
    catalog.create_namespace("ns").await.unwrap();
    catalog.create_namespace("ns").await.unwrap();
    catalog.register_table(&t, "file:///m0").await.unwrap();
    assert!(matches!(catalog.register_table(&t, "file:///m1").await, Err(CatalogError::TableExists(_))));
    assert_eq!(catalog.list_namespaces().await.unwrap(), vec!["ns".to_string()]);
    assert_eq!(catalog.list_tables("ns").await.unwrap(), vec![t.clone()]);
    assert!(catalog.swap_metadata_location(&t, "file:///m0", "file:///m1").await.unwrap());
    assert!(!catalog.swap_metadata_location(&t, "file:///m0", "file:///m2").await.unwrap());
    assert_eq!(catalog.metadata_location(&t).await.unwrap(), "file:///m1");
    catalog.drop_table(&t).await.unwrap();
    assert!(matches!(catalog.metadata_location(&t).await, Err(CatalogError::TableNotFound(_))));
    assert!(matches!(
        catalog.swap_metadata_location(&t, "a", "b").await,
        Err(CatalogError::TableNotFound(_))
    ));
}

#[tokio::test]
async fn orphans_of_lost_work_are_removed_and_referenced_files_kept() {
    let dir = tempfile::tempdir().unwrap();
    let catalog: Arc<dyn CatalogProvider> =
        Arc::new(SqlCatalog::open(dir.path().join("c.db"), "default").await.unwrap());
    let wh = Warehouse::local(dir.path().join("wh")).unwrap();
    let table = Table::create(catalog, wh, TableIdent::new("ns", "t").unwrap(), schema(), HashMap::new())
        .await
        .unwrap();
    let a = write_file(&table, 0..10).await;
    table.commit(SnapshotUpdate::append(vec![a]).with_summaries(vec![])).await.unwrap();
    let orphan = write_file(&table, 10..20).await; // written, never committed
    let removed = table.remove_orphans(Duration::ZERO).await.unwrap();
    assert_eq!(removed, vec![orphan.file_path().to_string()]);
    assert_eq!(live_ids(&table, None).await, (0..10).collect::<Vec<_>>());
    assert!(table.remove_orphans(Duration::ZERO).await.unwrap().is_empty());
}

#[tokio::test]
async fn small_manifests_are_merged_so_planning_reads_a_bounded_number() {
    use ailk_catalog::iceberg::spec::ManifestList;
    let table = memory_table().await;
    let mut snaps = Vec::new();
    for i in 0..130i64 {
        let f = write_file(&table, i * 2..i * 2 + 2).await;
        snaps.push(table.commit(SnapshotUpdate::append(vec![f])).await.unwrap().snapshot_id());
    }
    let state = table.refresh().await.unwrap();
    let list_uri = state.metadata().current_snapshot().unwrap().manifest_list().to_string();
    let bytes = table.file_io().new_input(&list_uri).unwrap().read().await.unwrap();
    let list = ManifestList::parse_with_version(&bytes, state.metadata().format_version()).unwrap();
    assert!(list.entries().len() < 100, "{} manifests", list.entries().len());
    assert_eq!(live_ids(&table, None).await, (0..260).collect::<Vec<_>>());
    assert_eq!(live_ids(&table, Some(snaps[109])).await, (0..220).collect::<Vec<_>>());
    // Files merged into one manifest keep the snapshot that added them.
    let files = table.refresh().await.unwrap().live_files().await.unwrap();
    let adders: std::collections::HashSet<i64> = files.iter().map(|f| f.snapshot_id).collect();
    assert_eq!(adders.len(), 130);
}

#[tokio::test]
async fn connect_parses_every_catalog_address() {
    use ailk_catalog::{Catalog, ConnectOptions, VectorSpec};
    let attrs =
        arrow_schema::Schema::new(vec![arrow_schema::Field::new("id", arrow_schema::DataType::Int64, false)]);
    let spec = [VectorSpec::new("v", 4, ailk_format::Metric::L2)];
    let ident = TableIdent::new("ns", "t").unwrap();

    // memory://: a throwaway catalog and warehouse.
    let memory = Catalog::connect("memory://", ConnectOptions::default()).await.unwrap();
    memory.create_table(&ident, &attrs, &spec).await.unwrap();
    assert_eq!(memory.list_tables("ns").await.unwrap(), vec![ident.clone()]);

    // A path and sqlite:/// name the same SQLite file; the warehouse defaults to its directory.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("lake/catalog.db");
    let by_path = Catalog::connect(db.to_str().unwrap(), ConnectOptions::default()).await.unwrap();
    let table = by_path.create_table(&ident, &attrs, &spec).await.unwrap();
    let lake = dir.path().join("lake").canonicalize().unwrap();
    assert!(table.location().starts_with(&format!("file://{}/ns/t", lake.display())), "{}", table.location());
    let by_uri =
        Catalog::connect(&format!("sqlite://{}", db.display()), ConnectOptions::default()).await.unwrap();
    assert_eq!(by_uri.load_table(&ident).await.unwrap().metadata_location(), table.metadata_location());

    // Anything else is refused with what is accepted.
    let err = Catalog::connect("thrift://metastore:9083", ConnectOptions::default()).await.unwrap_err();
    assert!(
        matches!(&err, CatalogError::InvalidInput(m) if m.contains("sqlite:///") && m.contains("http")),
        "{err}"
    );
    let err = Catalog::connect("http://[::1", ConnectOptions::default()).await.unwrap_err();
    assert!(matches!(err, CatalogError::InvalidInput(_)), "{err}");
}
