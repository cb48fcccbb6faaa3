//! A delete killed (SIGKILL) after writing its position delete files and its metadata, at
//! the catalog swap: the table stays at its previous snapshot for ailake and pyiceberg,
//! `remove_orphans` removes what the killed process wrote, and the retried delete lands.

mod support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use ailake::prelude::*;
use ailake::Op;
use support::*;

fn doomed() -> Filter {
    Filter::cmp("id", Op::Lt, 30i64).or(Filter::cmp("id", Op::Ge, 570i64))
}

/// The child side, run only by the parent test (`--ignored`): ignored in a normal run, so it
/// never counts as a passing test.
#[test]
#[ignore = "child process entry point, run by the crash test"]
fn child_entry() {
    let Ok(dir) = std::env::var("AILK_DELETE_CRASH_DIR") else { return };
    let dir = PathBuf::from(dir);
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let sql = SqlCatalog::open(dir.join("catalog.db"), "default").await.unwrap();
        let catalog = Catalog::new(
            Arc::new(HookedCatalog(Arc::new(sql), SwapHook::AnnounceAndHang)),
            Warehouse::local(dir.join("warehouse")).unwrap(),
        );
        let table = catalog.load_table(&ident("t")).await.unwrap();
        table.delete(&doomed()).await.unwrap();
    });
}

fn delete_files(dir: &Path) -> usize {
    std::fs::read_dir(dir.join("warehouse/docs/t/data"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().ends_with("-deletes.parquet"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_killed_before_its_commit_changes_nothing_and_leaves_only_orphans() {
    let dir = tempfile::tempdir().unwrap();
    let t = table(dir.path(), "t").await;
    let writer = t.writer(WritePolicy::default()).unwrap();
    writer.write(&batch(0..300), &WriteOptions::default()).await.unwrap();
    writer.write(&batch(300..600), &WriteOptions::default()).await.unwrap();
    writer.commit().await.unwrap();
    let snapshot = t.refresh().await.unwrap().snapshot_id();

    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["child_entry", "--exact", "--ignored", "--nocapture", "--test-threads", "1"])
        .env("AILK_DELETE_CRASH_DIR", dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let announced =
        BufReader::new(child.stdout.as_mut().unwrap()).lines().any(|l| l.unwrap().contains("SWAPPING"));
    assert!(announced, "the child ended before reaching the swap");
    child.kill().unwrap();
    child.wait().unwrap();

    // Both delete files were written, yet nothing changed.
    assert_eq!(delete_files(dir.path()), 2);
    let all: Vec<i64> = (0..600).collect();
    assert_eq!(t.refresh().await.unwrap().snapshot_id(), snapshot);
    assert_eq!(live_ids(&t).await, all);
    assert_eq!(pyiceberg_ids(dir.path(), "t"), all);

    // The killed writer's lease expires at once: it is known dead.
    let removed = t
        .remove_orphans_with(ailake::OrphanOptions { min_age: Duration::ZERO, lease_ttl: Duration::ZERO })
        .await
        .unwrap();
    assert_eq!(removed.iter().filter(|r| r.ends_with("-deletes.parquet")).count(), 2, "{removed:?}");
    assert_eq!(delete_files(dir.path()), 0);
    assert_eq!(live_ids(&t).await, all);

    // The retry lands.
    let out = t.delete(&doomed()).await.unwrap();
    assert_eq!(out.rows_deleted, 60);
    let live: Vec<i64> = (30..570).collect();
    assert_eq!(live_ids(&t).await, live);
    assert_eq!(pyiceberg_ids(dir.path(), "t"), live);
    assert!(
        t.remove_orphans(Duration::ZERO).await.unwrap().is_empty(),
        "the committed delete files are referenced"
    );
}
