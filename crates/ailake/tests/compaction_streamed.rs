//! Compaction beyond its memory budget (issue 31): the streamed path (sample, assign, route
//! with spill, write) gives the same files as the in-memory path; a streamed compaction cut
//! off mid-way leaves a checkpoint whose files vacuum keeps and the next call commits instead
//! of writing them again; a checkpoint the table no longer fits is abandoned, its files
//! removed, and the compaction planned afresh.

mod common;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ailake::catalog::checkpoints::{checkpoint_files, list_checkpoints};
use ailake::format::object_store::ObjectStoreExt;
use ailake::prelude::*;
use ailake::CompactProgress;
use ailake::Op;
use common::*;

const ROWS: usize = 3000;

/// `docs.<name>` with the sample's first `ROWS` rows in shuffled files of 150 rows, and rows
/// with id % 37 == 0 deleted.
async fn table(dir: &std::path::Path, name: &str, base: &[Vec<f32>]) -> Table {
    let catalog = Catalog::local(dir.join("catalog.db"), "default", dir.join("warehouse")).await.unwrap();
    let spec = VectorSpec::new("embedding", DIM as u32, Metric::Cosine);
    let table = catalog.create_table(&ident(name), &attributes(), &[spec]).await.unwrap();
    let mut order: Vec<usize> = (0..ROWS).collect();
    order.sort_by_key(|&i| (i * 7919) % ROWS);
    write_files(&table, base, &order, 150).await;
    for lo in (0..ROWS as i64).step_by(37) {
        table.delete(&Filter::cmp("id", Op::Eq, lo)).await.unwrap();
    }
    table.refresh().await.unwrap()
}

/// Each live file's ids in file order, the files sorted.
async fn files_rows(table: &Table) -> Vec<Vec<i64>> {
    let table = table.refresh().await.unwrap();
    let mut out = Vec::new();
    for f in table.live_files().await.unwrap().iter() {
        let batches = ailake::search::read_table_rows(&table, f.path()).await.unwrap();
        out.push(batches.iter().flat_map(ids).collect::<Vec<_>>());
    }
    out.sort();
    out
}

fn expected_ids() -> Vec<i64> {
    (0..ROWS as i64).filter(|i| i % 37 != 0).collect()
}

/// Every live id of the table, sorted, through a filtered exact search (duplicates would
/// show).
async fn all_ids(table: &Table) -> Vec<i64> {
    let session = table.refresh().await.unwrap().search().await.unwrap();
    let rows = session.row_count() as usize;
    let params = SearchParams { filter: Some(Filter::cmp("id", Op::Ge, 0i64)), ..Default::default() };
    let mut got = ids(&session.search(&vec![1.0; DIM], rows + 10, &params).await.unwrap());
    got.sort_unstable();
    got
}

/// `got` holds exactly `want` (compared quietly: the lists are long).
fn assert_same(got: &[i64], want: &[i64], what: &str) {
    let first = got.iter().zip(want).position(|(a, b)| a != b);
    assert!(got == want, "{what}: {} ids, {} expected, first difference at {first:?}", got.len(), want.len());
}

/// A compaction's progress callback.
type Progress = Arc<dyn Fn(CompactProgress) + Send + Sync>;

/// Reports of a compaction, recorded.
fn recorder() -> (Arc<Mutex<Vec<CompactProgress>>>, Progress) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    (seen, Arc::new(move |p| s.lock().unwrap().push(p)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_streamed_path_writes_the_files_the_in_memory_path_writes() {
    let (base, queries) = dataset(ROWS, 20);
    let dir = tempfile::tempdir().unwrap();
    let held = table(dir.path(), "held", &base).await;
    let streamed = table(dir.path(), "streamed", &base).await;
    let (held_reports, progress) = recorder();
    let opts = CompactOptions { target_rows: 500, progress: Some(progress), ..Default::default() };
    let a = held.compact(&opts).await.unwrap();
    let (streamed_reports, progress) = recorder();
    // 256 KiB against ~5 MB of rows: the streamed path, its buffers spilled many times.
    let opts = CompactOptions { memory_bytes: 256 << 10, progress: Some(progress), ..opts };
    let b = streamed.compact(&opts).await.unwrap();
    assert!(held_reports.lock().unwrap().iter().all(|p| p.files_planned > 0), "the in-memory path");
    assert!(
        streamed_reports.lock().unwrap().iter().any(|p| p.files_planned == 0 && p.rows_read > 0),
        "the streamed path reports its reading passes"
    );
    assert_eq!(
        (a.files_added, a.rows, a.deleted_rows_purged),
        (b.files_added, b.rows, b.deleted_rows_purged)
    );
    assert_eq!(b.rows, expected_ids().len() as u64);
    let (held_files, streamed_files) = (files_rows(&held).await, files_rows(&streamed).await);
    assert!(held_files.len() >= 5, "{} files", held_files.len());
    assert!(held_files == streamed_files, "the same rows in the same files, in the same order");
    let (sa, sb) = (
        held.refresh().await.unwrap().search().await.unwrap(),
        streamed.refresh().await.unwrap().search().await.unwrap(),
    );
    // Each table's partitions have their own version, so their blocks their own rotation:
    // the answers are compared with the exact ones, not with each other.
    let live: Vec<Vec<f32>> =
        (0..ROWS).map(|i| if i % 37 == 0 { vec![0.0; DIM] } else { base[i].clone() }).collect();
    for session in [&sa, &sb] {
        let mut hits = 0;
        for q in &queries {
            let got = ids(&session.search(q, 10, &SearchParams::default()).await.unwrap());
            let truth: Vec<i64> = exact(&live, q, 20).into_iter().filter(|i| i % 37 != 0).take(10).collect();
            hits += got.iter().filter(|i| truth.contains(i)).count();
        }
        assert!(hits as f64 >= 0.95 * 10.0 * queries.len() as f64, "recall {hits} of {}", 10 * queries.len());
    }
    let summaries = streamed.refresh().await.unwrap().shard_summaries().await.unwrap().unwrap();
    assert!(summaries.iter().all(|s| s.blocks.is_some()), "streamed files are clustered, with blocks");
    let wh = streamed.warehouse();
    assert!(
        list_checkpoints(wh, streamed.location()).await.unwrap().is_empty(),
        "the checkpoint goes with the commit"
    );
}

/// Starts a streamed compaction and cuts it off (drops it, as a kill would: nothing of it runs
/// after) once it has written `files` files; returns the files its checkpoint names.
async fn cut_off_after(table: &Table, files: usize, opts: &CompactOptions) -> Vec<String> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let opts = CompactOptions {
        progress: Some(Arc::new(move |p: CompactProgress| {
            tx.send(p.files_written).ok();
        })),
        ..opts.clone()
    };
    let t = table.clone();
    let task = tokio::spawn(async move { t.compact(&opts).await });
    while let Some(written) = rx.recv().await {
        if written >= files {
            break;
        }
    }
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled(), "cut off before its commit");
    let wh = table.warehouse();
    let checkpoints = list_checkpoints(wh, table.location()).await.unwrap();
    assert_eq!(checkpoints.len(), 1, "one checkpoint left behind");
    let objects = checkpoints.into_values().next().unwrap();
    checkpoint_files(wh, &objects).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_off_streamed_compaction_is_resumed_and_vacuum_keeps_its_files() {
    let (base, _) = dataset(ROWS, 1);
    let dir = tempfile::tempdir().unwrap();
    let t = table(dir.path(), "t", &base).await;
    let opts = CompactOptions { target_rows: 400, memory_bytes: 64 << 10, ..Default::default() };
    let left = cut_off_after(&t, 2, &opts).await;
    assert!(left.len() >= 2, "{} files in the checkpoint", left.len());
    assert_same(&all_ids(&t).await, &expected_ids(), "nothing committed");

    // Vacuum with every age and lease rule off: the checkpoint still keeps its files.
    let removed = t
        .remove_orphans_with(ailake::OrphanOptions { min_age: Duration::ZERO, lease_ttl: Duration::ZERO })
        .await
        .unwrap();
    assert!(left.iter().all(|f| !removed.contains(f)), "vacuum removed a checkpointed file");

    let (reports, progress) = recorder();
    let out = t.compact(&CompactOptions { progress: Some(progress), ..opts.clone() }).await.unwrap();
    let first_writing = reports.lock().unwrap().iter().find(|p| p.files_planned > 0).copied().unwrap();
    assert!(first_writing.files_written >= 2, "resumed with the files already written: {first_writing:?}");
    assert_eq!(out.rows, expected_ids().len() as u64);
    let t = t.refresh().await.unwrap();
    let live: BTreeSet<String> = t.live_files().await.unwrap().iter().map(|f| f.path().to_string()).collect();
    assert!(left.iter().all(|f| live.contains(f)), "the files written before the cut-off are committed");
    assert_same(&all_ids(&t).await, &expected_ids(), "every row once");
    assert!(list_checkpoints(t.warehouse(), t.location()).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkpoint_the_table_no_longer_fits_is_abandoned_and_its_files_removed() {
    let (base, _) = dataset(ROWS, 1);
    let dir = tempfile::tempdir().unwrap();
    let t = table(dir.path(), "t", &base).await;
    let opts = CompactOptions { target_rows: 400, memory_bytes: 64 << 10, ..Default::default() };
    let left = cut_off_after(&t, 1, &opts).await;
    // A delete in one of the planned files: the plan no longer holds.
    t.delete(&Filter::cmp("id", Op::Eq, 1i64)).await.unwrap();
    let out = t.compact(&opts).await.unwrap();
    let expected: Vec<i64> = expected_ids().into_iter().filter(|&i| i != 1).collect();
    assert_eq!(out.rows, expected.len() as u64);
    let wh = t.warehouse();
    for f in &left {
        assert!(wh.store().head(&wh.path_of(f).unwrap()).await.is_err(), "{f} of the abandoned plan is gone");
    }
    assert_same(&all_ids(&t).await, &expected, "after the fresh plan");
    assert!(list_checkpoints(wh, t.location()).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_memory_budget_of_zero_is_refused_with_nothing_written() {
    let (base, _) = dataset(300, 1);
    let dir = tempfile::tempdir().unwrap();
    let catalog =
        Catalog::local(dir.path().join("catalog.db"), "default", dir.path().join("warehouse")).await.unwrap();
    let spec = VectorSpec::new("embedding", DIM as u32, Metric::Cosine);
    let t = catalog.create_table(&ident("z"), &attributes(), &[spec]).await.unwrap();
    write_files(&t, &base, &(0..300).collect::<Vec<_>>(), 100).await;
    let before = t.refresh().await.unwrap().snapshot_id();
    let err = t.compact(&CompactOptions { memory_bytes: 0, ..Default::default() }).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert_eq!(t.refresh().await.unwrap().snapshot_id(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_spill_directory_is_a_typed_error_and_the_next_call_compacts() {
    let (base, _) = dataset(ROWS, 1);
    let dir = tempfile::tempdir().unwrap();
    let t = table(dir.path(), "s", &base).await;
    let before = t.snapshot_id();
    let opts = CompactOptions {
        target_rows: 500,
        memory_bytes: 64 << 10,
        spill_dir: Some(dir.path().join("no-such-dir")),
        ..Default::default()
    };
    let err = t.compact(&opts).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    assert_eq!(t.refresh().await.unwrap().snapshot_id(), before, "nothing committed");
    let out = t.compact(&CompactOptions { spill_dir: None, ..opts }).await.unwrap();
    assert_eq!(out.rows, expected_ids().len() as u64);
    assert_same(&all_ids(&t).await, &expected_ids(), "after the second call");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_streamed_training_sample_covers_rows_written_in_a_cycle() {
    // Rows written cycling through 8 clusters (row i in cluster i % 8), 16 partitions trained
    // on a sample of 1,024 of the 8,192 rows: every 8th row (a stride) would be cluster 0's
    // alone; the partitions must cover every cluster.
    let (dim, clusters, rows) = (16usize, 8usize, 8192usize);
    let centre = |c: usize| -> Vec<f32> { (0..dim).map(|d| if d == c { 10.0 } else { 0.0 }).collect() };
    let base: Vec<Vec<f32>> = (0..rows)
        .map(|i| {
            let noise = |d: usize| ((i * 31 + d * 17) % 97) as f32 / 97.0 * 0.2 - 0.1;
            centre(i % clusters).iter().enumerate().map(|(d, x)| x + noise(d)).collect()
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let catalog =
        Catalog::local(dir.path().join("catalog.db"), "default", dir.path().join("wh")).await.unwrap();
    let spec = VectorSpec::new("embedding", dim as u32, Metric::L2);
    let table = catalog.create_table(&ident("cycle"), &attributes(), &[spec]).await.unwrap();
    write_files(&table, &base, &(0..rows).collect::<Vec<_>>(), 1024).await;
    let opts = CompactOptions {
        target_rows: 2048,
        partitions: Some(16),
        memory_bytes: 64 << 10, // the streamed path
        ..Default::default()
    };
    let (reports, progress) = recorder();
    table.compact(&CompactOptions { progress: Some(progress), ..opts }).await.unwrap();
    assert!(reports.lock().unwrap().iter().any(|p| p.files_planned == 0), "the streamed path");
    let table = table.refresh().await.unwrap();
    let parts = ailake::load_partitions(&table, "embedding").await.unwrap().expect("trained");
    assert_eq!(parts.len(), 16);
    for c in 0..clusters {
        let want = centre(c);
        let nearest = parts
            .centroids
            .chunks_exact(dim)
            .map(|p| p.iter().zip(&want).map(|(a, b)| (a - b) * (a - b)).sum::<f32>().sqrt())
            .fold(f32::INFINITY, f32::min);
        assert!(nearest < 1.0, "cluster {c}: the nearest partition centre is {nearest} away");
    }
}
