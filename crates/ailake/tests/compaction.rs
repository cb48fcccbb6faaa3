//! Clustering compaction on the real sample: many small files written in random order become
//! few files holding whole partitions; every live row survives once (ailake and pyiceberg),
//! deleted rows are purged with their delete files, recall stays ≥ 0.95 and a query visits a
//! few shards; a delete landing while a compaction runs makes it re-plan; snapshots expire and
//! `remove_orphans` then deletes the replaced files.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use ailake::prelude::*;
use ailake::{CompactProgress, Op};
use arrow_array::{ArrayRef, Int64Array, RecordBatch};
use common::*;

const ROWS: usize = 4000;
const FILE_ROWS: usize = 100;

/// Row ids in a fixed random order (ingestion is never clustered).
fn shuffled() -> Vec<usize> {
    let mut ids: Vec<usize> = (0..ROWS).collect();
    let mut state = 0x2545F4914F6CDD1Du64;
    for i in (1..ids.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        ids.swap(i, (state % (i as u64 + 1)) as usize);
    }
    ids
}

async fn table_of(dir: &std::path::Path, base: &[Vec<f32>]) -> Table {
    let catalog = Catalog::local(dir.join("catalog.db"), "default", dir.join("warehouse")).await.unwrap();
    let spec = VectorSpec::new("embedding", DIM as u32, Metric::Cosine);
    let table = catalog.create_table(&ident("c"), &attributes(), &[spec]).await.unwrap();
    write_files(&table, base, &shuffled(), FILE_ROWS).await;
    table.refresh().await.unwrap()
}

/// Every live id, read through a search session (an exact filtered search over all rows).
async fn ids_of(table: &Table) -> Vec<i64> {
    let session = table.search().await.unwrap();
    let every = SearchParams {
        filter: Some(Filter::cmp("id", Op::Ge, 0i64)),
        filter_strategy: ailake::FilterStrategy::Exact,
        prune: false,
        ..Default::default()
    };
    let mut got = ids(&session.search(&vec![0.1; DIM], ROWS + 10, &every).await.unwrap());
    got.sort_unstable();
    got
}

/// Recall@10 against exact search over `live`, and the mean shards visited per query.
async fn quality(
    table: &Table,
    base: &[Vec<f32>],
    queries: &[Vec<f32>],
    live: &BTreeSet<usize>,
) -> (f64, f64) {
    let session = table.search().await.unwrap();
    let kept: Vec<usize> = live.iter().copied().collect();
    let rows: Vec<Vec<f32>> = kept.iter().map(|&i| base[i].clone()).collect();
    let (mut got, mut truth) = (Vec::new(), Vec::new());
    for q in queries {
        got.push(ids(&session.search(q, 10, &SearchParams::default()).await.unwrap()));
        truth.push(exact(&rows, q, 10).into_iter().map(|j| kept[j as usize] as i64).collect());
    }
    (recall(&got, &truth), session.counters().shards_visited as f64 / queries.len() as f64)
}

fn pyiceberg_ids(dir: &std::path::Path) -> Vec<i64> {
    let root = format!("file://{}", dir.join("warehouse").canonicalize().unwrap().display());
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/read_table.py");
    let python = std::env::var("AILAKE_PYTHON")
        .unwrap_or_else(|_| format!("{}/../../.venv/bin/python", env!("CARGO_MANIFEST_DIR")));
    let out = std::process::Command::new(python)
        .arg(script)
        .arg(dir.join("catalog.db"))
        .arg(root)
        .arg("docs.c")
        .output()
        .unwrap();
    assert!(out.status.success(), "pyiceberg: {}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    json["ids"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compaction_clusters_small_files_keeps_every_row_and_cuts_the_shards_a_query_visits() {
    let (base, queries) = dataset(ROWS, 40);
    let dir = tempfile::tempdir().unwrap();
    let table = table_of(dir.path(), &base).await;
    assert_eq!(table.live_files().await.unwrap().len(), ROWS / FILE_ROWS);
    table.delete(&Filter::parse("id < 40 OR id = 3999").unwrap()).await.unwrap();
    let live: BTreeSet<usize> = (40..ROWS - 1).collect();
    let table = table.refresh().await.unwrap();
    let before = table.snapshot_id().unwrap();
    let (r_before, visited_before) = quality(&table, &base, &queries, &live).await;
    eprintln!(
        "before: {} files, recall {r_before:.3}, {visited_before:.1} shards per query",
        ROWS / FILE_ROWS
    );

    let progress: Arc<std::sync::Mutex<Vec<CompactProgress>>> = Arc::default();
    let seen = progress.clone();
    let opts = CompactOptions {
        target_rows: 500,
        progress: Some(Arc::new(move |p| seen.lock().unwrap().push(p))),
        ..Default::default()
    };
    let out = table.compact(&opts).await.unwrap();
    eprintln!("{out:?}");
    assert_eq!(out.files_removed, ROWS / FILE_ROWS);
    assert_eq!((out.rows, out.deleted_rows_purged), (live.len() as u64, 41));
    assert!((6..=12).contains(&out.files_added), "{out:?}");
    let steps = progress.lock().unwrap().clone();
    // One report when the plan is known, then one per file written.
    assert_eq!(steps.len(), out.files_added + 1);
    assert_eq!((steps[0].files_written, steps[0].rows_written), (0, 0));
    assert!(steps.iter().all(|p| p.files_planned == out.files_added && p.rows_planned == live.len() as u64));
    assert_eq!(steps.last().unwrap().rows_written, live.len() as u64);

    let table = table.refresh().await.unwrap();
    assert_eq!(table.live_files().await.unwrap().len(), out.files_added);
    assert!(table.live_delete_files().await.unwrap().is_empty(), "purged deletes left with their files");
    let expected: Vec<i64> = live.iter().map(|&i| i as i64).collect();
    assert_eq!(ids_of(&table).await, expected);
    assert_eq!(pyiceberg_ids(dir.path()), expected);
    let (r_after, visited_after) = quality(&table, &base, &queries, &live).await;
    eprintln!("after: {} files, recall {r_after:.3}, {visited_after:.1} shards per query", out.files_added);
    assert!(r_after >= 0.95, "recall after compaction {r_after:.3}");
    assert!(
        visited_after <= visited_before / 5.0,
        "a query visits {visited_after:.1} of {} shards (before: {visited_before:.1} of 40)",
        out.files_added
    );
    // Time travel still reads the old files; a second compaction has nothing to do.
    assert_eq!(ids_of(&table.at_snapshot(before).unwrap()).await, expected);
    assert_eq!(table.compact(&opts).await.unwrap().snapshot_id, None);

    // New writes record their partitions and are planned by them.
    let writer = table.writer(WritePolicy::default()).unwrap();
    let extra: Vec<usize> = (0..40).collect();
    let values: Vec<f32> = extra.iter().flat_map(|&i| base[i].iter().copied()).collect();
    writer.write_flat(&batch_of(&extra), &[("embedding", &values)], &WriteOptions::default()).await.unwrap();
    writer.commit().await.unwrap();
    let table = table.refresh().await.unwrap();
    let summaries = table.shard_summaries().await.unwrap().unwrap();
    assert!(summaries.iter().all(|s| s.occupancy.as_ref().map(|o| o.version) == out.partitions_version));

    // Expire everything but the current snapshot: the replaced files become orphans.
    let expired = table.expire_snapshots(Duration::ZERO, 1).await.unwrap();
    assert!(expired.len() >= 3, "{expired:?}");
    let removed = table.remove_orphans(Duration::ZERO).await.unwrap();
    assert!(removed.iter().filter(|r| r.contains("/data/")).count() >= ROWS / FILE_ROWS, "{}", removed.len());
    let table = table.refresh().await.unwrap();
    assert!(matches!(table.at_snapshot(before), Err(ailake::catalog::CatalogError::SnapshotNotFound(_))));
    let all: Vec<i64> = (0..40).chain(40..ROWS as i64 - 1).collect();
    let mut all = all;
    all.sort_unstable();
    assert_eq!(ids_of(&table).await, all);
    assert_eq!(pyiceberg_ids(dir.path()), all);
}

/// A delete committed while the compaction writes its files: the compaction's commit finds
/// rows of its inputs deleted meanwhile, discards its files and re-plans; an append made
/// meanwhile survives. Nothing deleted comes back, nothing else is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_during_compaction_makes_it_replan_and_appends_survive() {
    let (base, _) = dataset(ROWS, 1);
    let dir = tempfile::tempdir().unwrap();
    let table = table_of(dir.path(), &base).await;
    let started = Arc::new(tokio::sync::Notify::new());
    let go = started.clone();
    let opts = CompactOptions {
        target_rows: 1000,
        progress: Some(Arc::new(move |p: CompactProgress| {
            if p.files_written == 1 {
                go.notify_one();
            }
        })),
        ..Default::default()
    };
    let compaction = {
        let table = table.clone();
        tokio::spawn(async move { table.compact(&opts).await })
    };
    started.notified().await;
    table.delete(&Filter::cmp("id", Op::Lt, 100i64)).await.unwrap();
    let writer = table.refresh().await.unwrap().writer(WritePolicy::default()).unwrap();
    let extra: Vec<usize> = (0..10).collect();
    let values: Vec<f32> = extra.iter().flat_map(|&i| base[i].iter().copied()).collect();
    let appended = batch_of(&extra);
    let appended = RecordBatch::try_new(
        appended.schema(),
        vec![Arc::new(Int64Array::from_iter_values(10_000..10_010)) as ArrayRef, appended.column(1).clone()],
    )
    .unwrap();
    writer.write_flat(&appended, &[("embedding", &values)], &WriteOptions::default()).await.unwrap();
    writer.commit().await.unwrap();
    let out = compaction.await.unwrap().unwrap();
    assert!(out.plans >= 2, "the compaction re-planned after the delete: {out:?}");
    let table = table.refresh().await.unwrap();
    let mut expected: Vec<i64> = (100..ROWS as i64).chain(10_000..10_010).collect();
    expected.sort_unstable();
    assert_eq!(ids_of(&table).await, expected);
    assert_eq!(pyiceberg_ids(dir.path()), expected);
}
