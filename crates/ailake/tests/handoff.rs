//! Files written in one place, committed in another (`TableWriter::take_staged`,
//! `StagedFile` JSON, `Table::commit_files`): exactly once under a batch id, retried tasks,
//! concurrent jobs with one id, vacuum while the files wait (and a killed worker's file after the
//! job), and every refusal leaving the
//! table unchanged.

mod support;

use std::time::Duration;

use ailake::prelude::*;
use ailake::{ErrorKind, OrphanOptions};
use support::*;

/// A "worker": its own catalog connection and writer; writes `ids` as one file with
/// `batch_id` and hands the file over as JSON.
async fn worker_write(
    dir: &std::path::Path,
    name: &str,
    ids: std::ops::Range<usize>,
    batch_id: &str,
) -> String {
    let table = catalog(dir).await.load_table(&ident(name)).await.unwrap();
    let writer = table.writer(WritePolicy::default()).unwrap();
    writer.write(&batch(ids), &WriteOptions::default().batch_id(batch_id)).await.unwrap().unwrap();
    let mut files = writer.take_staged().await.unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(writer.commit().await.unwrap(), table.snapshot_id().unwrap_or(0), "nothing left staged");
    files.remove(0).to_json()
}

fn parse(texts: &[String]) -> Vec<StagedFile> {
    texts.iter().map(|t| StagedFile::from_json(t).unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_write_and_the_driver_commits_once() {
    let dir = tempfile::tempdir().unwrap();
    let table = table(dir.path(), "t").await;
    let mut texts = Vec::new();
    for b in 0..4 {
        texts.push(worker_write(dir.path(), "t", b * 250..(b + 1) * 250, &format!("job1-{b}")).await);
    }
    let files = parse(&texts);
    assert!(files.iter().all(|f| f.indexed() && f.rows() == 250 && f.batch_id.is_some()));
    assert_eq!(files[0], StagedFile::from_bytes(&files[0].to_bytes()).unwrap(), "bytes round trip");

    let out = table.commit_files(&files, Some("job1")).await.unwrap();
    assert!(out.committed);
    assert_eq!((out.files, out.rows), (4, 1000));
    let table = table.refresh().await.unwrap();
    assert_eq!(table.snapshot_id(), Some(out.snapshot_id));
    assert_eq!(live_ids(&table).await, (0..1000).collect::<Vec<_>>());
    assert!(recall(&table, 0..1000, 0..20, 10).await >= 0.95);

    // The driver restarts and commits again: a no-op.
    let again = table.commit_files(&files, Some("job1")).await.unwrap();
    assert!(!again.committed);
    assert_eq!(again.snapshot_id, out.snapshot_id);
    // Without the id, the files are refused: they are live already.
    let err = table.commit_files(&files, None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert!(err.to_string().contains("already live"), "{err}");
    assert_eq!(live_ids(&table).await.len(), 1000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_task_and_a_rerun_job_commit_each_block_once() {
    let dir = tempfile::tempdir().unwrap();
    let table = table(dir.path(), "t").await;
    // Block 0's task ran twice (its first attempt's file was written, then the task failed):
    // the driver got the second attempt's file only.
    let _first_attempt = worker_write(dir.path(), "t", 0..300, "job-0").await;
    let second = worker_write(dir.path(), "t", 0..300, "job-0").await;
    let block1 = worker_write(dir.path(), "t", 300..600, "job-1").await;
    let out = table.commit_files(&parse(&[second, block1]), Some("job")).await.unwrap();
    assert_eq!((out.files, out.rows), (2, 600));
    // A rerun of the job under another id: its workers find their blocks committed and write
    // nothing; a file of block 1 written by a worker that checked before the first commit
    // landed, handed to the driver anyway, is left out.
    let writer = table.refresh().await.unwrap().writer(WritePolicy::default()).unwrap();
    let none = writer.write(&batch(300..600), &WriteOptions::default().batch_id("job-1")).await.unwrap();
    assert!(none.is_none(), "a committed block is not written again");
    let mut files = parse(&[worker_write(dir.path(), "t", 600..700, "rerun-2").await]);
    let late_copy_of_block1 = worker_write_unchecked(dir.path(), "t", 300..600, "job-1").await;
    files.push(late_copy_of_block1.clone());
    let out = table.commit_files(&files, Some("rerun")).await.unwrap();
    assert!(out.committed);
    assert_eq!((out.files, out.rows), (1, 100));
    assert_eq!(out.skipped, vec![late_copy_of_block1.path().to_string()]);
    assert_eq!(live_ids(&table).await, (0..700).collect::<Vec<_>>());
}

/// A worker that writes `ids` as a file tagged `batch_id` even when the id is committed (a
/// writer that checked before the commit landed).
async fn worker_write_unchecked(
    dir: &std::path::Path,
    name: &str,
    ids: std::ops::Range<usize>,
    batch_id: &str,
) -> StagedFile {
    let table = catalog(dir).await.load_table(&ident(name)).await.unwrap();
    let writer = table.writer(WritePolicy::default()).unwrap();
    writer.write(&batch(ids), &WriteOptions::default()).await.unwrap().unwrap();
    let mut file = writer.take_staged().await.unwrap().remove(0);
    file.batch_id = Some(batch_id.to_string());
    file
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_jobs_with_one_id_commit_once() {
    let dir = tempfile::tempdir().unwrap();
    let table = table(dir.path(), "t").await;
    let a = parse(&[worker_write(dir.path(), "t", 0..200, "a-0").await]);
    let b = parse(&[worker_write(dir.path(), "t", 200..500, "b-0").await]);
    let (ta, tb) = (table.clone(), table.clone());
    let (ra, rb) = tokio::join!(
        tokio::spawn(async move { ta.commit_files(&a, Some("shared-job")).await.unwrap() }),
        tokio::spawn(async move { tb.commit_files(&b, Some("shared-job")).await.unwrap() }),
    );
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_eq!(u8::from(ra.committed) + u8::from(rb.committed), 1, "{ra:?} {rb:?}");
    let want: Vec<i64> = if ra.committed { (0..200).collect() } else { (200..500).collect() };
    assert_eq!(live_ids(&table).await, want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_hand_overs_are_refused_and_commit_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let table = table(dir.path(), "t").await;
    let other = support::table(dir.path(), "other").await;
    let good = parse(&[worker_write(dir.path(), "t", 0..100, "g").await]).remove(0);
    let foreign = parse(&[worker_write(dir.path(), "other", 0..100, "f").await]).remove(0);
    let before = table.refresh().await.unwrap().snapshot_id();

    let mut lying = good.clone();
    lying.summary.rows = 99;
    let mut outside = good.clone();
    outside.summary.file_path = format!("{}/metadata/x.parquet", table.location());
    let missing = parse(&[worker_write(dir.path(), "t", 100..200, "m").await]).remove(0);
    std::fs::remove_file(missing.path().strip_prefix("file://").unwrap()).unwrap();
    let cases: Vec<(&str, Vec<StagedFile>, Option<&str>)> = vec![
        ("another table's file", vec![foreign.clone()], None),
        ("a file whose row count is wrong", vec![lying], None),
        ("a path outside data/", vec![outside], None),
        ("the same file twice", vec![good.clone(), good.clone()], None),
        ("a missing file", vec![good.clone(), missing], None),
        ("a batch id with a comma", vec![good.clone()], Some("a,b")),
    ];
    for (what, files, id) in cases {
        let err = table.commit_files(&files, id).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{what}: {err}");
        assert_eq!(table.refresh().await.unwrap().snapshot_id(), before, "{what} committed something");
    }
    for text in ["", "{}", "[1,2]", r#"{"version":1,"table_location":"x","batch_id":null,"summary":"zz"}"#] {
        let err = StagedFile::from_json(text).unwrap_err();
        assert!(err.to_string().contains("not a serialized staged file"), "{err}");
    }
    let mut truncated = good.to_json();
    truncated.truncate(truncated.len() - 20);
    assert!(StagedFile::from_json(&truncated).is_err());
    // The good file still commits afterwards; the other table is untouched.
    assert!(table.commit_files(&[good], None).await.unwrap().committed);
    assert_eq!(live_ids(&table).await, (0..100).collect::<Vec<_>>());
    assert!(live_ids(&other).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vacuum_keeps_handed_over_files_while_the_driver_holds_the_lease() {
    let dir = tempfile::tempdir().unwrap();
    let table = table(dir.path(), "t").await;
    let lease = table.lease().await.unwrap();
    let files = parse(&[
        worker_write(dir.path(), "t", 0..100, "v-0").await,
        worker_write(dir.path(), "t", 100..200, "v-1").await,
    ]);
    // A worker killed after writing its file, before handing it over: its writer (and lease)
    // gone, the file never committed.
    let killed = {
        let t = catalog(dir.path()).await.load_table(&ident("t")).await.unwrap();
        let w = t.writer(WritePolicy::default()).unwrap();
        w.write(&batch(200..300), &WriteOptions::default()).await.unwrap().unwrap().path
    };
    tokio::time::sleep(Duration::from_millis(50)).await; // the dropped lease's delete lands
    let zero_age = OrphanOptions { min_age: Duration::ZERO, ..OrphanOptions::default() };
    let removed = table.remove_orphans_with(zero_age).await.unwrap();
    assert!(removed.is_empty(), "the driver's lease keeps its workers' files: {removed:?}");
    assert!(table.commit_files(&files, Some("v")).await.unwrap().committed);
    ailake::release_lease(lease).await;
    // The job is over: the killed worker's file is an orphan now, and only it goes.
    assert_eq!(table.remove_orphans_with(zero_age).await.unwrap(), vec![killed]);
    assert_eq!(live_ids(&table).await, (0..200).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deferred_write_is_handed_over_indexed() {
    let dir = tempfile::tempdir().unwrap();
    let table = table(dir.path(), "t").await;
    let writer = table.writer(WritePolicy::default()).unwrap();
    writer.write(&batch(0..400), &WriteOptions::default().deferred()).await.unwrap();
    let files = writer.take_staged().await.unwrap();
    assert_eq!(files.len(), 1);
    assert!(files[0].indexed(), "the background build finished before the hand-over");
    assert!(table.commit_files(&files, None).await.unwrap().committed);
    let session = table.refresh().await.unwrap().search().await.unwrap();
    assert_eq!(session.row_count(), 400);
    assert!(recall(&table, 0..400, 0..20, 10).await >= 0.95);
}
