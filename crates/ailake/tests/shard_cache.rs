//! The shard cache: a refreshed session starts warm (indexes, footers and fetched ranges come
//! from the cache), the cache stays within its byte budget by evicting the least
//! recently used shards, and cached, evicting and uncached sessions answer identically.

mod support;

use std::sync::Arc;

use ailake::prelude::*;
use ailake::search::ShardCache;
use support::*;

async fn answers(session: &SearchSession, queries: std::ops::Range<usize>) -> Vec<Vec<i64>> {
    let params = SearchParams { prune: false, ..Default::default() };
    let mut out = Vec::new();
    for q in vectors(queries, DIM).chunks_exact(DIM as usize) {
        out.push(ids(&session.search(q, 10, &params).await.unwrap()));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refreshed_sessions_start_warm_and_the_budget_holds() {
    let dir = tempfile::tempdir().unwrap();
    let table = table(dir.path(), "t").await;
    let writer = table.writer(WritePolicy::default()).unwrap();
    // Files large enough that a section is more than the speculative footer read.
    for f in 0..6 {
        writer.write(&batch(f * 2500..(f + 1) * 2500), &WriteOptions::default()).await.unwrap();
    }
    writer.commit().await.unwrap();
    let table = table.refresh().await.unwrap();

    // A roomy cache: the second session loads no index.
    let roomy = Arc::new(ShardCache::new(1 << 30));
    let cold = SearchSession::with_cache(&table, roomy.clone()).await.unwrap();
    let expected = answers(&cold, 0..20).await;
    let after_cold = roomy.stats();
    // Six shards loaded once; the cache also holds their footers and the row fetches' ranges.
    assert_eq!((after_cold.misses, after_cold.evictions), (6, 0), "{after_cold:?}");
    assert!(after_cold.entries > 6 && after_cold.range_hits > 0, "{after_cold:?}");
    let warm = cold.refresh().await.unwrap();
    assert_eq!(answers(&warm, 0..20).await, expected);
    assert_eq!(roomy.stats().misses, 6, "the refreshed session loaded no index again");
    let (cold_io, warm_io) = (cold.counters(), warm.counters());
    eprintln!("cold: {cold_io:?}\nwarm: {warm_io:?}");
    assert!(
        warm_io.bytes_read * 2 < cold_io.bytes_read,
        "warm {} bytes vs cold {} bytes",
        warm_io.bytes_read,
        cold_io.bytes_read
    );

    // A budget of about two shards (with their footers and ranges): it stays within it,
    // evicts, and answers the same.
    let one_shard = after_cold.bytes / 6;
    let tight = Arc::new(ShardCache::new(one_shard * 2 + one_shard / 2));
    let evicting = SearchSession::with_cache(&table, tight.clone()).await.unwrap();
    assert_eq!(answers(&evicting, 0..20).await, expected);
    let s = tight.stats();
    assert!(s.bytes <= tight.budget() && s.evictions > 0 && s.misses > 6, "{s:?}");

    // No budget: nothing is kept, same answers.
    let none = Arc::new(ShardCache::new(0));
    let uncached = SearchSession::with_cache(&table, none.clone()).await.unwrap();
    assert_eq!(answers(&uncached, 0..20).await, expected);
    assert_eq!(none.stats().entries, 0);
}

/// `search_batch` answers each query exactly as `search` does, in the queries' order, split
/// over threads on a multi-threaded runtime and concurrent on a current-thread one; one bad
/// query fails the batch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_batch_equals_one_search_per_query() {
    search_batch_matches_search().await;
}

#[tokio::test(flavor = "current_thread")]
async fn search_batch_on_a_current_thread_runtime_equals_one_search_per_query() {
    search_batch_matches_search().await;
}

/// Row fetch decodes a file's small columns once, keeps them in the shard cache and takes
/// later winners' rows from them: a warm query reads no byte, and every fetched row is the
/// row its id names, cold or warm, in distance order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row_fetch_takes_rows_from_decoded_columns() {
    let dir = tempfile::tempdir().unwrap();
    let table = three_files(dir.path()).await;
    let cache = Arc::new(ShardCache::new(1 << 30));
    let session = SearchSession::with_cache(&table, cache.clone()).await.unwrap();
    let params = SearchParams {
        prune: false,
        projection: Some(vec!["text".into(), "id".into()]),
        ..Default::default()
    };
    let check = |hits: &arrow_array::RecordBatch| {
        let text = hits.column(0).as_any().downcast_ref::<arrow_array::StringArray>().unwrap();
        let id = hits.column(1).as_any().downcast_ref::<arrow_array::Int64Array>().unwrap();
        let dist = hits.column(2).as_any().downcast_ref::<arrow_array::Float32Array>().unwrap();
        assert_eq!(hits.num_rows(), 10);
        for r in 0..hits.num_rows() {
            assert_eq!(text.value(r), format!("doc {}", id.value(r)), "row {r}");
        }
        assert!(dist.values().windows(2).all(|w| w[0] <= w[1]), "distance order");
    };
    let qs = vectors(0..30, DIM);
    let mut queries = qs.chunks_exact(DIM as usize);
    check(&session.search(queries.next().unwrap(), 10, &params).await.unwrap());
    let cold = session.counters().bytes_read;
    assert!(cold > 0);
    let mut found_own = 0;
    for q in queries {
        let hits = session.search(q, 10, &params).await.unwrap();
        check(&hits);
        // The query is row `own`'s vector: the (approximate) search nearly always returns it.
        let own = ((q.as_ptr() as usize - qs.as_ptr() as usize) / (4 * DIM as usize)) as i64;
        let ids = hits.column(1).as_any().downcast_ref::<arrow_array::Int64Array>().unwrap();
        found_own += usize::from(ids.values().contains(&own));
    }
    assert!(found_own >= 26, "{found_own} of 29 queries found their own row");
    assert_eq!(session.counters().bytes_read, cold, "warm fetches read nothing");
}

/// A table of 3 files of 1,000 rows each (ids 0..3000), committed.
async fn three_files(dir: &std::path::Path) -> Table {
    let table = table(dir, "t").await;
    let writer = table.writer(WritePolicy::default()).unwrap();
    for f in 0..3 {
        writer.write(&batch(f * 1000..(f + 1) * 1000), &WriteOptions::default()).await.unwrap();
    }
    writer.commit().await.unwrap();
    table.refresh().await.unwrap()
}

async fn search_batch_matches_search() {
    let dir = tempfile::tempdir().unwrap();
    let session = three_files(dir.path()).await.search().await.unwrap();
    let queries: Vec<Vec<f32>> =
        vectors(0..40, DIM).chunks_exact(DIM as usize).map(<[f32]>::to_vec).collect();
    for params in [
        SearchParams::default(),
        SearchParams { filter: Some(Filter::parse("id >= 1500").unwrap()), ..Default::default() },
    ] {
        let batch = session.search_batch(&queries, 10, &params).await.unwrap();
        assert_eq!(batch.len(), queries.len());
        for (q, got) in queries.iter().zip(&batch) {
            let one = session.search(q, 10, &params).await.unwrap();
            assert_eq!(ids(got), ids(&one));
            assert_eq!(got.num_rows(), 10);
        }
    }
    let mut bad = queries.clone();
    bad[17].pop();
    let err = session.search_batch(&bad, 10, &SearchParams::default()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
}

/// Eight callers at once on one session — single searches and batches, over the decoded-column
/// cache being filled — each get exactly the answer a lone caller gets.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_concurrent_callers_answer_as_one() {
    let dir = tempfile::tempdir().unwrap();
    let table = three_files(dir.path()).await;
    let session =
        Arc::new(SearchSession::with_cache(&table, Arc::new(ShardCache::new(1 << 30))).await.unwrap());
    let queries: Vec<Vec<f32>> =
        vectors(0..24, DIM).chunks_exact(DIM as usize).map(<[f32]>::to_vec).collect();
    let params = SearchParams { projection: Some(vec!["text".into(), "id".into()]), ..Default::default() };
    let lone = SearchSession::with_cache(&table, Arc::new(ShardCache::new(1 << 30))).await.unwrap();
    let mut expected = Vec::new();
    for q in &queries {
        expected.push(ids(&lone.search(q, 10, &params).await.unwrap()));
    }
    let callers: Vec<_> = (0..8)
        .map(|c| {
            let (session, queries, params) = (session.clone(), queries.clone(), params.clone());
            tokio::spawn(async move {
                if c % 2 == 0 {
                    session
                        .search_batch(&queries, 10, &params)
                        .await
                        .unwrap()
                        .iter()
                        .map(ids)
                        .collect::<Vec<_>>()
                } else {
                    let mut out = Vec::new();
                    for q in &queries {
                        out.push(ids(&session.search(q, 10, &params).await.unwrap()));
                    }
                    out
                }
            })
        })
        .collect();
    for caller in callers {
        assert_eq!(caller.await.unwrap(), expected);
    }
}
