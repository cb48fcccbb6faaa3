//! Exactly-once for a batch id under every interleaving: clones of one writer, separate
//! writers in one process, separate processes, and retries after a SIGKILL before or after
//! the commit. Every case asserts the rows read back through the public API (and through
//! pyiceberg for the processes). N = 8 everywhere.
//!
//! Child processes are this test binary re-run on `child_entry` with `AILK_EO_*` set.

mod support;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use ailake::prelude::*;
use support::*;

const N: usize = 8;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clones_of_one_writer_write_a_batch_id_once() {
    let dir = tempfile::tempdir().unwrap();
    let table = table(dir.path(), "clones").await;
    let writer = table.writer(WritePolicy::default()).unwrap();
    let data = batch(0..1000);
    let tasks: Vec<_> = (0..N)
        .map(|_| {
            let (w, b) = (writer.clone(), data.clone());
            tokio::spawn(async move { w.write(&b, &WriteOptions::default().batch_id("same-id")).await })
        })
        .collect();
    let mut written = 0;
    for t in tasks {
        written += usize::from(t.await.unwrap().unwrap().is_some());
    }
    assert_eq!(written, 1, "exactly one clone writes the batch");
    writer.commit().await.unwrap();
    assert_eq!(live_ids(&table).await, (0..1000).collect::<Vec<_>>());
    // A later retry through any clone is a no-op.
    assert!(writer
        .clone()
        .write(&data, &WriteOptions::default().batch_id("same-id"))
        .await
        .unwrap()
        .is_none());
    assert_eq!(live_ids(&table).await.len(), 1000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn separate_writers_commit_a_batch_id_once_whatever_their_options() {
    let dir = tempfile::tempdir().unwrap();
    let table = table(dir.path(), "writers").await;
    let data = batch(0..1000);
    let catalog = catalog(dir.path()).await;
    // Each writer loads its own handle and writes with other options: sync HNSW, deferred
    // HNSW, IVF-PQ, deferred IVF-PQ (shared codebook), no index.
    let choices = [
        (IndexChoice::Hnsw, false),
        (IndexChoice::Hnsw, true),
        (IndexChoice::IvfPq(None), false),
        (IndexChoice::IvfPq(None), true),
        (IndexChoice::Flat, false),
        (IndexChoice::Auto, true),
        (IndexChoice::Hnsw, false),
        (IndexChoice::IvfPq(None), true),
    ];
    let tasks: Vec<_> = choices
        .into_iter()
        .map(|(index, deferred)| {
            let (catalog, b) = (catalog.clone(), data.clone());
            tokio::spawn(async move {
                let t = catalog.load_table(&ident("writers")).await.unwrap();
                let w = t.writer(WritePolicy::default()).unwrap();
                let opts = WriteOptions { index, deferred, batch_id: Some("shared-batch".into()) };
                let wrote = w.write(&b, &opts).await.unwrap().is_some();
                let snapshot = w.commit().await.unwrap();
                w.wait_indexed().await.unwrap();
                (wrote, snapshot)
            })
        })
        .collect();
    for t in tasks {
        let (_, snapshot) = t.await.unwrap();
        assert!(snapshot > 0);
    }
    assert_eq!(live_ids(&table).await, (0..1000).collect::<Vec<_>>());
    let current = table.refresh().await.unwrap();
    assert_eq!(current.live_files().await.unwrap().len(), 1, "one data file holds the batch");
    assert!(current.contains_batch("shared-batch").unwrap());
    // Only the winner's file is in the table; the losers' files were deleted, not orphaned
    // (the winner's Parquet-only file may await a concurrent replace commit no longer).
    let removed = current.remove_orphans(Duration::ZERO).await.unwrap();
    assert!(removed.iter().all(|r| !r.ends_with(".parquet")), "{removed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_waits_for_the_holder_and_takes_over_when_it_is_cancelled() {
    let dir = tempfile::tempdir().unwrap();
    let table = table(dir.path(), "cancelled").await;
    let writer = table.writer(WritePolicy::default()).unwrap();
    let data = batch(0..20_000); // a build long enough to be cut short
    let opts = WriteOptions::default().batch_id("held");
    let holder = {
        let (w, b, o) = (writer.clone(), data.clone(), opts.clone());
        tokio::spawn(async move { w.write(&b, &o).await })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    let duplicate = {
        let (w, b, o) = (writer.clone(), data.clone(), opts.clone());
        tokio::spawn(async move { w.write(&b, &o).await })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    holder.abort(); // the holder's write is dropped mid-build: its id must not count as written
    let holder_wrote = matches!(holder.await, Ok(Ok(Some(_))));
    let duplicate_wrote = duplicate.await.unwrap().unwrap().is_some();
    assert!(holder_wrote ^ duplicate_wrote, "exactly one of the two writes the batch");
    writer.commit().await.unwrap();
    assert_eq!(live_ids(&table).await, (0..20_000).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commits_cut_short_by_a_timeout_lose_and_duplicate_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let sql = catalog(dir.path()).await;
    let slow = Catalog::new(
        Arc::new(HookedCatalog(sql.provider().clone(), SwapHook::AnswerLate(Duration::from_millis(200)))),
        sql.warehouse().clone(),
    );
    let spec = VectorSpec::new("embedding", DIM, Metric::L2);
    let table = slow.create_table(&ident("timeouts"), &attributes(), &[spec]).await.unwrap();
    let writer = table.writer(WritePolicy::default()).unwrap();
    for i in 0..4 {
        let id = (i % 2 == 0).then(|| format!("t{i}"));
        let opts = WriteOptions { deferred: i % 2 == 1, batch_id: id, ..Default::default() };
        writer.write(&batch(i * 100..(i + 1) * 100), &opts).await.unwrap();
        // The caller gives up while the swap has landed but not answered yet.
        let cut = tokio::time::timeout(Duration::from_millis(50), writer.commit()).await;
        assert!(cut.is_err(), "the timeout fires before the slow answer");
    }
    writer.commit().await.unwrap();
    writer.wait_indexed().await.unwrap();
    assert_eq!(live_ids(&table).await, (0..400).collect::<Vec<_>>(), "no row lost or doubled");
    // Every live file exists (none was deleted as a duplicate of itself).
    let session = table.refresh().await.unwrap().search().await.unwrap();
    assert_eq!(session.row_count(), 400);
    session.search(&vectors(0..1, DIM), 10, &SearchParams::default()).await.unwrap();
}

/// The child side, run only by the parent test (`--ignored`): ignored in a normal run, so it
/// never counts as a passing test.
#[test]
#[ignore = "child process entry point, run by the crash test"]
fn child_entry() {
    let Ok(dir) = std::env::var("AILK_EO_DIR") else { return };
    let dir = PathBuf::from(dir);
    let mode = std::env::var("AILK_EO_MODE").unwrap();
    let first: usize = std::env::var("AILK_EO_FIRST").unwrap().parse().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let table = table(&dir, "procs").await;
        let writer = table.writer(WritePolicy::default()).unwrap();
        let opts = WriteOptions::default().batch_id(format!("proc-batch-{first}"));
        let wrote = writer.write(&batch(first..first + 1000), &opts).await.unwrap().is_some();
        println!("WRITTEN {wrote}");
        if mode == "crash-before-commit" {
            tokio::time::sleep(Duration::from_secs(120)).await; // killed here
        }
        writer.commit().await.unwrap();
        println!("COMMITTED");
        if mode == "crash-after-commit" {
            tokio::time::sleep(Duration::from_secs(120)).await; // killed here
        }
    });
}

/// A child writing rows `first..first + 1000` as batch `proc-batch-<first>`.
fn child(dir: &std::path::Path, mode: &str, first: usize) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["child_entry", "--exact", "--ignored", "--nocapture", "--test-threads", "1"])
        .env("AILK_EO_DIR", dir)
        .env("AILK_EO_MODE", mode)
        .env("AILK_EO_FIRST", first.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

/// Waits for the child to print `marker`; returns the line from the marker on.
fn wait_for(child: &mut Child, marker: &str) -> String {
    let lines = BufReader::new(child.stdout.as_mut().unwrap()).lines();
    for line in lines {
        let line = line.unwrap();
        // libtest may print its own `test child_entry ... ` before the child's line.
        if let Some(at) = line.find(marker) {
            return line[at..].to_string();
        }
    }
    panic!("the child ended before printing {marker}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn separate_processes_commit_a_batch_id_once() {
    let dir = tempfile::tempdir().unwrap();
    table(dir.path(), "procs").await; // created once, so the children race on the commit only
    let mut children: Vec<Child> = (0..N).map(|_| child(dir.path(), "race", 0)).collect();
    for c in &mut children {
        let status = c.wait().unwrap();
        assert!(status.success(), "child failed: {status}");
    }
    let t = table(dir.path(), "procs").await;
    assert_eq!(live_ids(&t).await, (0..1000).collect::<Vec<_>>());
    assert_eq!(pyiceberg_ids(dir.path(), "procs"), (0..1000).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_sigkill_writes_the_batch_once() {
    let dir = tempfile::tempdir().unwrap();
    let t = table(dir.path(), "procs").await;

    // Killed between the data file's put and the commit: nothing is visible, the retry writes.
    let mut c = child(dir.path(), "crash-before-commit", 0);
    assert_eq!(wait_for(&mut c, "WRITTEN"), "WRITTEN true");
    c.kill().unwrap();
    c.wait().unwrap();
    assert!(live_ids(&t).await.is_empty());
    let writer = t.writer(WritePolicy::default()).unwrap();
    let first = WriteOptions::default().batch_id("proc-batch-0");
    assert!(writer.write(&batch(0..1000), &first).await.unwrap().is_some());
    writer.commit().await.unwrap();
    assert_eq!(live_ids(&t).await, (0..1000).collect::<Vec<_>>());

    // Killed after its commit, before its caller heard of it: the retry is a no-op.
    let mut c = child(dir.path(), "crash-after-commit", 1000);
    assert_eq!(wait_for(&mut c, "WRITTEN"), "WRITTEN true");
    wait_for(&mut c, "COMMITTED");
    c.kill().unwrap();
    c.wait().unwrap();
    let fresh = t.writer(WritePolicy::default()).unwrap();
    let second = WriteOptions::default().batch_id("proc-batch-1000");
    assert!(fresh.write(&batch(1000..2000), &second).await.unwrap().is_none());
    assert!(fresh.write(&batch(0..1000), &first).await.unwrap().is_none());
    assert_eq!(fresh.commit().await.unwrap(), t.refresh().await.unwrap().snapshot_id().unwrap());
    assert_eq!(live_ids(&t).await, (0..2000).collect::<Vec<_>>());

    // The first killed writer's data file is an orphan: removed, rows unchanged.
    // The killed writer's lease expires at once: it is known dead.
    let removed = t
        .remove_orphans_with(ailake::OrphanOptions { min_age: Duration::ZERO, lease_ttl: Duration::ZERO })
        .await
        .unwrap();
    assert_eq!(removed.iter().filter(|r| r.ends_with(".parquet")).count(), 1, "{removed:?}");
    assert_eq!(live_ids(&t).await, (0..2000).collect::<Vec<_>>());
    assert_eq!(pyiceberg_ids(dir.path(), "procs"), (0..2000).collect::<Vec<_>>());
}
