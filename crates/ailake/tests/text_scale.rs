//! Full-text search at scale and under load (issue 33): a table of 1,000 files answers as the
//! same rows in 4 files do (statistics summed over every file, each file opened by its text
//! index's head and read only for the query's terms); 8 concurrent callers on one cold session
//! each get the answer they get alone, cold and warm. Both read text indexes in pieces.

mod common;

use std::sync::Arc;

use ailake::prelude::*;
use ailake::search::ShardCache;
use ailake::SCORE_COLUMN;
use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Int64Type};
use arrow_array::RecordBatch;
use common::text::sample_table;

const QUERIES: [&str; 8] = [
    "disk usage",
    "network daemon",
    "python library",
    "\"command line\" tool",
    "library AND python",
    "kernel module",
    "web server OR proxy",
    "game",
];

fn ids_scores(batch: &RecordBatch) -> Vec<(i64, f32)> {
    let ids = batch.column_by_name("id").unwrap().as_primitive::<Int64Type>();
    let s = batch.column_by_name(SCORE_COLUMN).unwrap().as_primitive::<Float32Type>();
    ids.values().iter().copied().zip(s.values().iter().copied()).collect()
}

/// The same scores in order (to float error), and the same rows above the last score (rows
/// tied with it follow row order in files, which the split changes).
fn assert_same_top(q: &str, got: &[(i64, f32)], want: &[(i64, f32)]) {
    assert_eq!(got.len(), want.len(), "{q}");
    for (g, w) in got.iter().zip(want) {
        assert!((g.1 - w.1).abs() <= 1e-5 * w.1.abs().max(1.0), "{q}: {got:?} vs {want:?}");
    }
    let last = want.last().map_or(0.0, |w| w.1) + 1e-4;
    let above = |l: &[(i64, f32)]| l.iter().filter(|r| r.1 > last).map(|r| r.0).collect::<Vec<_>>();
    assert_eq!(above(got), above(want), "{q}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_files_answer_as_four_do() {
    let dir = tempfile::tempdir().unwrap();
    let few = sample_table(dir.path(), "few", 1000).await;
    let many = sample_table(dir.path(), "many", 4).await;
    let files = many.live_files().await.unwrap().len();
    assert_eq!(files, 1000);
    let params = SearchParams { projection: Some(vec!["id".into()]), ..Default::default() };
    let pieces = SearchParams { text_pieces: Some(true), ..params.clone() };
    let few_session = few.search().await.unwrap();
    let session = SearchSession::with_cache(&many, Arc::new(ShardCache::new(1 << 30))).await.unwrap();
    for q in QUERIES {
        let want = ids_scores(&few_session.text_search(q, 10, &params).await.unwrap());
        assert!(!want.is_empty(), "{q}");
        let got = ids_scores(&session.text_search(q, 10, &pieces).await.unwrap());
        assert_same_top(q, &got, &want);
    }
    let c = session.counters();
    assert_eq!(c.text_shards_scanned, 0, "{c:?}");
    assert_eq!(c.text_shards_searched, (files * QUERIES.len()) as u64, "{c:?}");
    // Opening a file reads its footer tail, directory and text payload's ends; a query then
    // reads at most a dictionary block and the postings per file (fewer: files without the
    // query's terms read nothing more).
    assert!(c.read_requests <= (files * (3 + 2 * QUERIES.len())) as u64, "{c:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_concurrent_callers_get_the_answers_they_get_alone() {
    let dir = tempfile::tempdir().unwrap();
    let table = sample_table(dir.path(), "t", 500).await;
    // Text indexes read in pieces: the callers share the cache's heads, blocks and postings.
    let params =
        SearchParams { projection: Some(vec!["id".into()]), text_pieces: Some(true), ..Default::default() };
    let mut alone = Vec::new();
    for q in QUERIES {
        let session = SearchSession::with_cache(&table, Arc::new(ShardCache::new(1 << 30))).await.unwrap();
        alone.push(ids_scores(&session.text_search(q, 10, &params).await.unwrap()));
    }
    let shared =
        Arc::new(SearchSession::with_cache(&table, Arc::new(ShardCache::new(1 << 30))).await.unwrap());
    for round in ["cold", "warm"] {
        let calls: Vec<_> = QUERIES
            .iter()
            .map(|q| {
                let (session, params) = (shared.clone(), params.clone());
                tokio::spawn(async move { ids_scores(&session.text_search(q, 10, &params).await.unwrap()) })
            })
            .collect();
        for ((q, call), want) in QUERIES.iter().zip(calls).zip(&alone) {
            assert_eq!(&call.await.unwrap(), want, "{round}: {q}");
        }
    }
    let c = shared.counters();
    assert_eq!(c.text_shards_searched, 8 * 2 * 8, "{c:?}");
}
