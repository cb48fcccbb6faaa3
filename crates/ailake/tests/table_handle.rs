//! The table handle reads its metadata once: refreshing costs one metadata read, planning a
//! search reads that snapshot's manifests and summaries once per handle, and a second search
//! session on the same handle reads nothing.

mod support;

use std::sync::Arc;

use ailake::format::CountingStore;
use ailake::prelude::*;
use ailake::MemoryCatalog;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handle_reads_metadata_once_and_plans_once() {
    let counting = Arc::new(CountingStore::new(ailake::memory_store()));
    let counters = counting.counters();
    let catalog =
        Catalog::new(Arc::new(MemoryCatalog::new()), Warehouse::new(counting, "memory:///wh").unwrap());
    let spec = VectorSpec::new("embedding", DIM, Metric::L2);
    let table = catalog.create_table(&ident("reads"), &attributes(), &[spec]).await.unwrap();
    let writer = table.writer(WritePolicy::default()).unwrap();
    let mut snapshots = Vec::new();
    for i in 0..3 {
        writer.write(&batch(i * 100..(i + 1) * 100), &WriteOptions::default()).await.unwrap();
        snapshots.push(writer.commit().await.unwrap());
    }
    let requests = || counters.snapshot().0;

    let before = requests();
    let current = table.refresh().await.unwrap();
    assert_eq!(requests() - before, 1, "a refresh reads one metadata file");
    assert_eq!(current.snapshot_id(), Some(snapshots[2]));

    let before = requests();
    let first = current.search().await.unwrap();
    let planning = requests() - before;
    assert!(planning >= 2, "planning reads the manifest list, manifests and summaries: {planning}");
    assert_eq!(first.shard_count(), 3);

    let before = requests();
    let second = current.search().await.unwrap();
    assert_eq!(requests() - before, 0, "a second session on the handle reads nothing");
    assert_eq!(second.row_count(), 300);

    // Time travel reads the older snapshot's own files, never the metadata again.
    let before = requests();
    let old = current.at_snapshot(snapshots[0]).unwrap();
    assert_eq!(requests() - before, 0);
    let session = old.search().await.unwrap();
    assert_eq!((session.shard_count(), session.row_count()), (1, 100));
    let hits = session.search(&vectors(150..151, DIM), 5, &SearchParams::default()).await.unwrap();
    assert!(ids(&hits).iter().all(|id| *id < 100), "only the first snapshot's rows");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_data_file_is_a_not_found_error_with_its_source_not_a_silent_scan() {
    use ailake::format::object_store::ObjectStoreExt;
    let catalog = Catalog::memory();
    let spec = VectorSpec::new("embedding", DIM, Metric::L2);
    let table = catalog.create_table(&ident("gone"), &attributes(), &[spec]).await.unwrap();
    let writer = table.writer(WritePolicy::default()).unwrap();
    let file = writer.write(&batch(0..50), &WriteOptions::default()).await.unwrap().unwrap();
    writer.commit().await.unwrap();
    let wh = catalog.warehouse();
    wh.store().delete(&wh.path_of(&file.path).unwrap()).await.unwrap();

    let session = table.refresh().await.unwrap().search().await.unwrap();
    let err: AilakeError =
        session.search(&vectors(0..1, DIM), 5, &SearchParams::default()).await.unwrap_err().into();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err:?}");
    assert!(!err.is_retryable());
    assert!(matches!(err, AilakeError::Format(_)), "flattened to the layer that failed: {err:?}");
    let mut source: Option<&dyn std::error::Error> = Some(&err);
    let mut found = false;
    while let Some(e) = source {
        found |= e.downcast_ref::<ailake::format::object_store::Error>().is_some();
        source = e.source();
    }
    assert!(found, "the object store error stays attached: {err:?}");
}
