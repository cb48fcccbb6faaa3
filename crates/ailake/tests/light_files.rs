//! Lighter files (`WritePolicy::section_vectors = SectionVectors::Parquet`): the section keeps
//! no copy of the vectors, the index reads the file's own Parquet column when a shard opens.
//! The same graph answers exactly as with the copy (same rows, same distances), for every
//! metric and for HNSW, IVF-PQ and deferred builds; the file is smaller by about the copy; and
//! the section alone is an incomplete one (`Corrupt`), which only the session completes.

mod support;

use std::sync::Arc;

use ailake::index::{HnswParams, SectionVectors};
use ailake::prelude::*;
use ailake::search::ShardCache;
use ailake::ShardReader;
use support::*;

/// One table per (metric, vector placement), same rows, single-threaded (deterministic) builds.
async fn write(
    dir: &std::path::Path,
    name: &str,
    metric: Metric,
    vectors: SectionVectors,
    opts: WriteOptions,
) -> Table {
    let spec = VectorSpec::new("embedding", DIM, metric);
    let table = catalog(dir).await.create_or_load_table(&ident(name), &attributes(), &[spec]).await.unwrap();
    let policy = WritePolicy {
        hnsw: HnswParams { threads: 1, ..HnswParams::default() },
        section_vectors: vectors,
        ..WritePolicy::default()
    };
    let writer = table.writer(policy).unwrap();
    for f in 0..2 {
        writer.write(&batch(f * 1500..(f + 1) * 1500), &opts).await.unwrap();
    }
    writer.commit().await.unwrap();
    writer.wait_indexed().await.unwrap();
    table.refresh().await.unwrap()
}

async fn answers(table: &Table, params: &SearchParams) -> Vec<(Vec<i64>, Vec<f32>)> {
    let session = SearchSession::with_cache(table, Arc::new(ShardCache::new(1 << 30))).await.unwrap();
    let mut out = Vec::new();
    for q in vectors(100..120, DIM).chunks_exact(DIM as usize) {
        let hits = session.search(q, 10, params).await.unwrap();
        let d = hits.column_by_name("_distance").unwrap();
        let d = d.as_any().downcast_ref::<arrow_array::Float32Array>().unwrap().values().to_vec();
        out.push((ids(&hits), d));
    }
    let c = session.counters();
    assert_eq!(c.corrupt_sections, 0, "every section loaded: {c:?}");
    out
}

async fn bytes(table: &Table) -> u64 {
    table.live_files().await.unwrap().iter().map(|f| f.data_file.file_size_in_bytes()).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parquet_vectors_answer_as_the_section_copy_does() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("hnsw", WriteOptions::default()),
        ("ivfpq", WriteOptions::default().index(IndexChoice::IvfPq(None))),
        ("deferred", WriteOptions::default().deferred()),
    ];
    for metric in [Metric::L2, Metric::Cosine, Metric::InnerProduct] {
        for (kind, opts) in &cases {
            let name = format!("{kind}_{metric:?}").to_lowercase();
            let copy =
                write(dir.path(), &format!("{name}_f32"), metric, SectionVectors::F32, opts.clone()).await;
            let light =
                write(dir.path(), &format!("{name}_pq"), metric, SectionVectors::Parquet, opts.clone()).await;
            for params in [
                SearchParams::default(),
                SearchParams { filter: Some(Filter::parse("id >= 1400").unwrap()), ..Default::default() },
            ] {
                assert_eq!(
                    answers(&copy, &params).await,
                    answers(&light, &params).await,
                    "{name} {params:?}"
                );
            }
            let (heavy, lean) = (bytes(&copy).await, bytes(&light).await);
            let copy_bytes = 3000 * u64::from(DIM) * 4;
            eprintln!("{name}: {heavy} bytes with the copy, {lean} without");
            assert!(heavy >= lean + copy_bytes * 9 / 10, "{name}: {heavy} vs {lean}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_light_section_alone_is_incomplete_and_the_session_completes_it() {
    let dir = tempfile::tempdir().unwrap();
    let light =
        write(dir.path(), "light", Metric::L2, SectionVectors::Parquet, WriteOptions::default()).await;
    let files = light.live_files().await.unwrap();
    assert_eq!(files.len(), 2);
    for f in files.iter() {
        let reader = ShardReader::open(
            light.warehouse().store().clone(),
            light.warehouse().path_of(f.path()).unwrap(),
            ReadOptions::default(),
        )
        .await
        .unwrap();
        let section = reader.load_section().await.unwrap();
        assert!(ailake::index::VectorIndex::needs_vectors(&section, 0));
        // Without the Parquet values, the graph alone is an incomplete section: Corrupt.
        let err = ailake::index::VectorIndex::from_section(&section, 0).unwrap_err();
        assert!(err.to_string().contains("incomplete"), "{err}");
    }
    // The session reads the values from each file's column and searches by the graph.
    let session = light.search().await.unwrap();
    let q = vectors(42..43, DIM);
    let hits = session.search(&q, 5, &SearchParams { ef: Some(200), ..Default::default() }).await.unwrap();
    assert_eq!(ids(&hits), exact(0..3000, &q, 5));
    let c = session.counters();
    assert_eq!((c.shards_index_searched, c.corrupt_sections, c.shards_flat_scanned), (2, 0, 0), "{c:?}");
}

/// Light files on a remote-like store (20 ms per request): a cold query opens each shard with
/// its tail read, then its Parquet vector column — a request more in each shard's chain than a
/// file with the copy, at most 3 round trips (shards' chains overlap), no `HEAD` — answers as the local table does, fails retryably when a read
/// of the column fails (and the retry answers in full), and a warm query makes no request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn light_files_on_a_remote_store() {
    use ailake::testing::{Fault, FaultTarget, LatencyProfile, SimulatedStore};
    let dir = tempfile::tempdir().unwrap();
    let local = write(dir.path(), "t", Metric::L2, SectionVectors::Parquet, WriteOptions::default()).await;
    let profile = LatencyProfile { first_byte: std::time::Duration::from_millis(20), bytes_per_second: 1e9 };
    let store = Warehouse::local(dir.path().join("warehouse")).unwrap();
    let sim = Arc::new(SimulatedStore::new(store.store().clone(), profile));
    let sql = SqlCatalog::open(dir.path().join("catalog.db"), "default").await.unwrap();
    let catalog = Catalog::new(Arc::new(sql), Warehouse::new(sim.clone(), store.root()).unwrap());
    let table = catalog.load_table(&ident("t")).await.unwrap();
    let params = SearchParams { prune: false, io_concurrency: Some(32), ..Default::default() };
    let q = vectors(7..8, DIM);
    let expected = ids(&local.search().await.unwrap().search(&q, 10, &params).await.unwrap());

    // The first read after the two shards' tails (a Parquet column read) fails: retryably.
    let session = SearchSession::with_cache(&table, Arc::new(ShardCache::new(1 << 30))).await.unwrap();
    sim.fail_after(FaultTarget::Reads, Fault::ServerError, 2);
    let err = session.search(&q, 10, &params).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    sim.clear_faults();

    let session = SearchSession::with_cache(&table, Arc::new(ShardCache::new(1 << 30))).await.unwrap();
    let before = sim.stats().snapshot();
    assert_eq!(ids(&session.search(&q, 10, &params).await.unwrap()), expected);
    let cold = sim.stats().snapshot() - before;
    eprintln!("cold: {cold:?}");
    assert_eq!(cold.heads, 0, "{cold:?}");
    assert!(cold.round_trips <= 3, "{cold:?}");
    let before = sim.stats().snapshot();
    assert_eq!(ids(&session.search(&q, 10, &params).await.unwrap()), expected);
    let warm = sim.stats().snapshot() - before;
    assert_eq!(warm.reads, 0, "{warm:?}");
}
