//! The table handle reads its metadata once: refreshing costs one metadata read, planning a
//! search reads that snapshot's manifests and summaries once per handle, and a second search
//! session on the same handle reads nothing.

mod support;

use std::sync::Arc;

use ailake::format::CountingStore;
use ailake::prelude::*;
use ailake::search::ShardCache;
use ailake::MemoryCatalog;
use arrow_array::{ArrayRef, Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use support::*;

/// An in-memory catalog over a store that counts its requests (the counters).
fn counting_catalog() -> (Catalog, Arc<ailake::format::IoCounters>) {
    let counting = Arc::new(CountingStore::new(ailake::memory_store()));
    let counters = counting.counters();
    let warehouse = Warehouse::new(counting, "memory:///wh").unwrap();
    (Catalog::new(Arc::new(MemoryCatalog::new()), warehouse), counters)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handle_reads_metadata_once_and_plans_once() {
    let (catalog, counters) = counting_catalog();
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_file_s_id_column_is_decoded_once_then_searches_read_nothing() {
    // 150,000 ids in shuffled order in one file: 1.2 MB decoded (above what is always kept),
    // well under 2 MiB compressed (read whole by a row selection anyway). The first search
    // reads and keeps it decoded; the next ones read and decode nothing (they used to take
    // the chunk's bytes from the cache and decompress it all again for every fetch).
    let (catalog, counters) = counting_catalog();
    let n = 150_000usize;
    let schema = Schema::new(vec![Field::new("id", DataType::Int64, false)]);
    let spec = VectorSpec::new("embedding", 2, Metric::L2);
    let table = catalog.create_table(&ident("wide_ids"), &schema, &[spec]).await.unwrap();
    let shuffled: Vec<i64> = (0..n).map(|i| ((i * 7919) % n) as i64).collect();
    let values: Vec<f32> = shuffled.iter().flat_map(|&id| [(id % 1000) as f32, (id / 1000) as f32]).collect();
    let id: ArrayRef = Arc::new(Int64Array::from(shuffled));
    let batch = RecordBatch::try_new(Arc::new(schema), vec![id]).unwrap();
    let writer = table.writer(WritePolicy::default()).unwrap();
    let opts = WriteOptions::default().index(IndexChoice::Flat);
    writer.write_flat(&batch, &[("embedding", &values)], &opts).await.unwrap();
    writer.commit().await.unwrap();
    let cache = Arc::new(ShardCache::new(1 << 30));
    let session = SearchSession::with_cache(&table.refresh().await.unwrap(), cache.clone()).await.unwrap();
    let requests = || counters.snapshot().0;
    assert_eq!(session.shard_count(), 1, "one file");
    let first = session.search(&[3.0, 7.0], 5, &SearchParams::default()).await.unwrap();
    assert_eq!(ids(&first)[0], 7003, "the nearest row is id 7 * 1000 + 3");
    let (before, misses) = (requests(), cache.stats().range_misses);
    for q in [[3.0f32, 7.0], [500.0, 20.0], [999.0, 149.0]] {
        let hits = session.search(&q, 5, &SearchParams::default()).await.unwrap();
        let want = (q[1] as i64) * 1000 + q[0] as i64;
        assert_eq!(ids(&hits)[0], want);
    }
    assert_eq!(requests() - before, 0, "later searches read nothing");
    // Nor do they decode the column again: it is looked up decoded (not as cached bytes).
    assert_eq!(cache.stats().range_misses, misses, "a later fetch missed the decoded column");
}
