//! The read path against a remote-like store ([`SimulatedStore`] over the local warehouse):
//! how many requests and sequential round trips a cold and a warm query cost, and what
//! injected faults (server errors, timeouts, cut uploads) do to searches and to commits —
//! a search answers correctly or fails with a retryable error; a commit never references a
//! file that was not fully written.

mod support;

use std::sync::Arc;

use ailake::prelude::*;
use ailake::search::ShardCache;
use ailake::testing::{Fault, FaultTarget, LatencyProfile, SimulatedStore};
use ailake::ShardReader;
use support::*;

/// The table `docs.t` of `dir` seen through a simulated store over its warehouse.
async fn remote(dir: &std::path::Path, profile: LatencyProfile) -> (Catalog, Arc<SimulatedStore>) {
    let local = Warehouse::local(dir.join("warehouse")).unwrap();
    let sim = Arc::new(SimulatedStore::new(local.store().clone(), profile));
    let warehouse = Warehouse::new(sim.clone(), local.root()).unwrap();
    let sql = SqlCatalog::open(dir.join("catalog.db"), "default").await.unwrap();
    (Catalog::new(Arc::new(sql), warehouse), sim)
}

async fn six_files(dir: &std::path::Path) -> Table {
    let table = table(dir, "t").await;
    let writer = table.writer(WritePolicy::default()).unwrap();
    for f in 0..6 {
        writer.write(&batch(f * 500..(f + 1) * 500), &WriteOptions::default()).await.unwrap();
    }
    writer.commit().await.unwrap();
    table.refresh().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cold_query_costs_two_round_trips_and_a_warm_one_none() {
    let dir = tempfile::tempdir().unwrap();
    let local = six_files(dir.path()).await;
    // Round trips show only when requests take time: 20 ms each, so requests issued together
    // overlap.
    let profile = LatencyProfile { first_byte: std::time::Duration::from_millis(20), bytes_per_second: 1e9 };
    let (catalog, sim) = remote(dir.path(), profile).await;
    let stats = sim.stats();
    let table = catalog.load_table(&ident("t")).await.unwrap();
    let session = SearchSession::with_cache(&table, Arc::new(ShardCache::new(1 << 30))).await.unwrap();
    // Planning: the metadata file, then manifests, delete files and Puffin summaries together.
    let planning = stats.snapshot();
    eprintln!("planning: {planning:?}");
    assert!(planning.round_trips <= 4, "{planning:?}");
    // No pruning: the worst case for requests. The simulated store is over a file:// root,
    // so the object-store default of wide cold waves is asked for explicitly.
    let params = SearchParams { prune: false, io_concurrency: Some(32), ..Default::default() };
    let queries = vectors(0..5, DIM);
    let before = stats.snapshot();
    let hits = session.search(&queries[..DIM as usize], 10, &params).await.unwrap();
    let cold = stats.snapshot() - before;
    let expected = local.search().await.unwrap().search(&queries[..DIM as usize], 10, &params).await.unwrap();
    assert_eq!(ids(&hits), ids(&expected));
    eprintln!("cold: {cold:?}");
    // No HEAD (sizes come from the manifest); one read per shard (section + footer), then
    // the winners' rows from every file at once.
    assert_eq!(cold.heads, 0, "{cold:?}");
    let fetched_files = 6;
    assert!(cold.reads <= 6 + fetched_files, "{cold:?}");
    assert!(cold.round_trips <= 2, "{cold:?}");

    // Warm: indexes and footers are cached; a row fetch reads a file's column chunks once,
    // then they come from the cache too.
    let q = &queries[DIM as usize..2 * DIM as usize];
    let before = stats.snapshot();
    session.search(q, 10, &params).await.unwrap();
    let warm = stats.snapshot() - before;
    assert!(warm.heads == 0 && warm.round_trips <= 1 && warm.reads <= fetched_files, "{warm:?}");
    session.search(q, 3000, &params).await.unwrap(); // every file's rows fetched once
    for q in queries.chunks_exact(DIM as usize).skip(2) {
        let before = stats.snapshot();
        let hits = session.search(q, 10, &params).await.unwrap();
        let warm = stats.snapshot() - before;
        assert_eq!(warm, Default::default(), "a warm query makes no request");
        let expected = local.search().await.unwrap().search(q, 10, &params).await.unwrap();
        assert_eq!(ids(&hits), ids(&expected));
    }
    // Cold waves as narrow as the search's: a round trip per shard.
    let narrow = SearchParams { concurrency: 1, io_concurrency: Some(1), ..params.clone() };
    let cold_session = SearchSession::with_cache(&table, Arc::new(ShardCache::new(1 << 30))).await.unwrap();
    let before = stats.snapshot();
    cold_session.search(&queries[..DIM as usize], 10, &narrow).await.unwrap();
    let one_by_one = stats.snapshot() - before;
    assert!(one_by_one.round_trips >= 6, "{one_by_one:?}");

    // A new session over the same cache (a refresh) starts warm: no request either.
    let again = SearchSession::with_cache(&table, session.cache().clone()).await.unwrap();
    let before = stats.snapshot();
    again.search(&queries[..DIM as usize], 10, &params).await.unwrap();
    let fresh = stats.snapshot() - before;
    assert!(fresh.reads <= 6 && fresh.round_trips <= 1, "footers at most, in one wave: {fresh:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_read_fails_the_search_retryably_and_poisons_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let local = six_files(dir.path()).await;
    let (catalog, sim) = remote(dir.path(), LatencyProfile::none()).await;
    let table = catalog.load_table(&ident("t")).await.unwrap();
    let params = SearchParams { prune: false, ..Default::default() };
    let q = vectors(7..8, DIM);
    let expected = ids(&local.search().await.unwrap().search(&q, 10, &params).await.unwrap());
    // Each fault in turn hits the Nth read of a cold query: shard opens, then row fetch.
    for (nth, fault) in
        (0..8).zip([Fault::ServerError, Fault::Timeout, Fault::ConnectionCut].into_iter().cycle())
    {
        let session = SearchSession::with_cache(&table, Arc::new(ShardCache::new(1 << 30))).await.unwrap();
        sim.fail_after(FaultTarget::Reads, fault, nth);
        let mut answered = None;
        let mut failures = 0;
        for _ in 0..3 {
            match session.search(&q, 10, &params).await {
                Ok(hits) => {
                    answered = Some(ids(&hits));
                    break;
                }
                Err(e) => {
                    assert_eq!(e.kind(), ErrorKind::Io, "{e}");
                    assert!(e.is_retryable(), "{e}");
                    failures += 1;
                }
            }
        }
        assert_eq!(sim.faults_pending(), 0);
        assert_eq!(failures, 1, "the fault fails exactly one call");
        assert_eq!(answered.as_ref(), Some(&expected), "the retry answers in full (fault {nth}: {fault:?})");
    }
}

/// A fault at each write request of a write + commit in turn: the call fails with a
/// retryable error or succeeds, the table only ever references whole files, and a retry
/// (same batch id) lands the rows exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_writes_never_commit_a_partial_file() {
    let dir = tempfile::tempdir().unwrap();
    let base = six_files(dir.path()).await;
    let base_ids = live_ids(&base).await;
    let (catalog, sim) = remote(dir.path(), LatencyProfile::none()).await;
    let mut expected = base_ids.clone();
    let mut nth = 0u64;
    loop {
        let table = catalog.load_table(&ident("t")).await.unwrap();
        let start = 10_000 + nth as usize * 100;
        let rows = start..start + 100;
        let id = format!("b{nth}");
        let writer = table.writer(WritePolicy::default()).unwrap();
        sim.fail_after(FaultTarget::Writes, Fault::ConnectionCut, nth);
        let attempt = async {
            let opts = WriteOptions::default().batch_id(id.clone());
            writer.write(&batch(rows.clone()), &opts).await?;
            writer.commit().await
        };
        let outcome: Result<i64, ailake::writer::WriterError> = attempt.await;
        eprintln!("fault after {nth} writes: {:?}", outcome.as_ref().map_err(ToString::to_string));
        // A write + commit of fewer than `nth + 1` requests never met the fault: the sweep
        // has hit every request.
        let swept = sim.faults_pending() > 0;
        sim.clear_faults();
        // Whatever happened, every live file reads whole.
        let now = catalog.load_table(&ident("t")).await.unwrap();
        let live = live_ids(&now).await;
        match outcome {
            Ok(_) => {
                expected.extend(rows.clone().map(|i| i as i64));
                expected.sort_unstable();
                assert_eq!(live, expected);
                if swept {
                    break;
                }
            }
            Err(e) => {
                assert!(e.is_retryable(), "fault at write {nth}: {e}");
                // Either the commit landed before the failure was seen, or nothing did.
                let landed = live.len() > expected.len();
                if landed {
                    expected.extend(rows.clone().map(|i| i as i64));
                    expected.sort_unstable();
                }
                assert_eq!(live, expected, "fault at write {nth}");
                // The retry with the same batch id lands it exactly once.
                let writer = now.writer(WritePolicy::default()).unwrap();
                let opts = WriteOptions::default().batch_id(id.clone());
                writer.write(&batch(rows.clone()), &opts).await.unwrap();
                writer.commit().await.unwrap();
                if !landed {
                    expected.extend(rows.clone().map(|i| i as i64));
                    expected.sort_unstable();
                }
                assert_eq!(live_ids(&now).await, expected, "after the retry of fault {nth}");
            }
        }
        nth += 1;
        assert!(nth < 40, "a write + commit takes fewer than 40 requests");
    }
    assert!(nth >= 3, "the sweep hit the data file, the manifests and the metadata ({nth} positions)");
}

/// The disk cache: a restarted process (a new in-memory cache over the same directory) opens
/// cold shards from local disk — only the row fetch goes to the store — and a damaged local
/// file is dropped and read again, never trusted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_process_opens_shards_from_the_disk_cache() {
    use ailake::search::DiskCache;
    let dir = tempfile::tempdir().unwrap();
    let local = six_files(dir.path()).await;
    let (catalog, sim) = remote(dir.path(), LatencyProfile::none()).await;
    let table = catalog.load_table(&ident("t")).await.unwrap();
    let disk_dir = dir.path().join("disk-cache");
    let params = SearchParams { prune: false, ..Default::default() };
    let q = vectors(3..4, DIM);
    let expected = ids(&local.search().await.unwrap().search(&q, 10, &params).await.unwrap());

    let first = Arc::new(ShardCache::new(1 << 30).with_disk(DiskCache::new(&disk_dir, 1 << 30).unwrap()));
    let session = SearchSession::with_cache(&table, first).await.unwrap();
    assert_eq!(ids(&session.search(&q, 10, &params).await.unwrap()), expected);
    let tails = || {
        std::fs::read_dir(&disk_dir)
            .unwrap()
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "tail"))
            .count()
    };
    for _ in 0..200 {
        if tails() == 6 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(tails(), 6, "every cold shard's tail is kept on disk");

    // "Restart": a new memory cache over the same directory.
    let restarted = Arc::new(ShardCache::new(1 << 30).with_disk(DiskCache::new(&disk_dir, 1 << 30).unwrap()));
    let session = SearchSession::with_cache(&table, restarted.clone()).await.unwrap();
    let before = sim.stats().snapshot();
    assert_eq!(ids(&session.search(&q, 10, &params).await.unwrap()), expected);
    let d = sim.stats().snapshot() - before;
    assert!(d.reads <= 6 && d.bytes_read < 200_000, "only the winners' rows were read: {d:?}");

    // A damaged tail on disk: dropped, the shard read from the store, the answer unchanged.
    for e in std::fs::read_dir(&disk_dir).unwrap().flatten() {
        std::fs::write(e.path(), b"garbage").unwrap();
    }
    let again = Arc::new(ShardCache::new(1 << 30).with_disk(DiskCache::new(&disk_dir, 1 << 30).unwrap()));
    let session = SearchSession::with_cache(&table, again).await.unwrap();
    assert_eq!(ids(&session.search(&q, 10, &params).await.unwrap()), expected);
    assert_eq!(session.counters().corrupt_sections, 0);

    // A budget smaller than one tail keeps nothing.
    let tiny_dir = dir.path().join("tiny");
    let tiny = Arc::new(ShardCache::new(1 << 30).with_disk(DiskCache::new(&tiny_dir, 100).unwrap()));
    SearchSession::with_cache(&table, tiny).await.unwrap().search(&q, 10, &params).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(std::fs::read_dir(&tiny_dir).unwrap().count(), 0);
}

/// Row fetch reads only the pages holding the winners (the offset index), not whole column
/// chunks: fetching one row's `text` from a file whose `text` chunk spans several pages
/// reads a fraction of the chunk.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row_fetch_reads_pages_not_chunks() {
    use arrow_array::{ArrayRef, Int64Array, StringArray};
    let dir = tempfile::tempdir().unwrap();
    let t = table(dir.path(), "t").await;
    let n = 20_000usize;
    // Incompressible 200-byte texts: a ~4 MB chunk, several 1 MB pages.
    let mut state = 0x9E3779B97F4A7C15u64;
    let texts: Vec<String> = (0..n)
        .map(|_| {
            (0..200)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    char::from(b'!' + (state % 90) as u8)
                })
                .collect()
        })
        .collect();
    let id: ArrayRef = Arc::new(Int64Array::from_iter_values(0..n as i64));
    let text: ArrayRef = Arc::new(StringArray::from_iter_values(texts.iter()));
    let attrs = arrow_array::RecordBatch::try_new(Arc::new(attributes()), vec![id, text]).unwrap();
    let values = vectors(0..n, DIM);
    let writer = t.writer(WritePolicy::default()).unwrap();
    writer.write_flat(&attrs, &[("embedding", &values)], &WriteOptions::default()).await.unwrap();
    writer.commit().await.unwrap();

    let (catalog, sim) = remote(dir.path(), LatencyProfile::none()).await;
    let table = catalog.load_table(&ident("t")).await.unwrap();
    let file = table.live_files().await.unwrap()[0].clone();
    let reader = ShardReader::open(
        table.warehouse().store().clone(),
        table.warehouse().path_of(file.path()).unwrap(),
        ReadOptions::default(),
    )
    .await
    .unwrap();
    let rg = &reader.metadata().row_groups()[0];
    let text_chunk =
        rg.columns().iter().find(|c| c.column_path().string() == "text").unwrap().compressed_size() as u64;
    assert!(text_chunk > 2_000_000, "the text chunk is {text_chunk} bytes");

    let q = vectors(1234..1235, DIM);
    let bytes = |columns: &[&str]| {
        let columns: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
        let (table, sim) = (table.clone(), sim.clone());
        let q = q.clone();
        async move {
            let session =
                SearchSession::with_cache(&table, Arc::new(ShardCache::new(1 << 30))).await.unwrap();
            let before = sim.stats().snapshot();
            let params = SearchParams { projection: Some(columns), ..Default::default() };
            let hits = session.search(&q, 1, &params).await.unwrap();
            assert_eq!(ids(&hits), vec![1234]);
            (sim.stats().snapshot() - before).bytes_read
        }
    };
    let id_only = bytes(&["id"]).await;
    let with_text = bytes(&["id", "text"]).await;
    let text_read = with_text - id_only;
    eprintln!("text chunk {text_chunk} bytes; one row's text cost {text_read} bytes");
    assert!(text_read > 0 && text_read * 2 < text_chunk, "{text_read} of a {text_chunk}-byte chunk");
}

/// A fault at each write request of a first, clustering compaction in turn: a compaction that
/// fails leaves the table as it was — the same snapshot, the same rows and no partitions
/// named (training names them before the files are written; a failure takes that back).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_compaction_names_no_partitions() {
    let dir = tempfile::tempdir().unwrap();
    let base = six_files(dir.path()).await;
    let base_ids = live_ids(&base).await;
    let (catalog, sim) = remote(dir.path(), LatencyProfile::none()).await;
    let named = |t: &Table| t.metadata().properties().keys().any(|k| k.starts_with("ailake.partitions."));
    let mut failed = 0;
    for nth in 0..40u64 {
        let table = catalog.load_table(&ident("t")).await.unwrap();
        let before = table.snapshot_id();
        sim.fail_after(FaultTarget::Writes, Fault::ConnectionCut, nth);
        let outcome = table.compact(&CompactOptions { target_rows: 1_000, ..Default::default() }).await;
        let swept = sim.faults_pending() > 0;
        sim.clear_faults();
        let now = table.refresh().await.unwrap();
        assert_eq!(live_ids(&now).await, base_ids, "fault at write {nth}");
        match outcome {
            Err(e) => {
                failed += 1;
                if now.snapshot_id() == before {
                    assert!(
                        !named(&now),
                        "fault at write {nth} ({e}): the failed compaction named partitions"
                    );
                }
            }
            Ok(out) => assert!(out.snapshot_id.is_some(), "fault at write {nth}"),
        }
        if swept {
            break;
        }
        // A compaction that landed leaves nothing to compact: the sweep ends there.
        if now.snapshot_id() != before {
            break;
        }
    }
    assert!(failed >= 3, "the sweep failed the partitions file, their naming and a data file ({failed})");
}
