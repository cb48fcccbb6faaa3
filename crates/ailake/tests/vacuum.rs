//! What vacuum (`Table::remove_orphans`) keeps: another table's files (nested under this one's
//! directory, or sharing its location), files a live writer has staged but not committed
//! (its write lease), and a commit never references a file that is gone.

mod support;

use std::time::Duration;

use ailake::prelude::*;
use ailake::OrphanOptions;
use support::*;

fn zero_age() -> OrphanOptions {
    OrphanOptions { min_age: Duration::ZERO, ..OrphanOptions::default() }
}

async fn write_and_commit(t: &Table, ids: std::ops::Range<usize>) {
    let w = t.writer(WritePolicy::default()).unwrap();
    w.write(&batch(ids), &WriteOptions::default()).await.unwrap();
    w.commit().await.unwrap();
}

fn files_under(dir: &std::path::Path) -> usize {
    walk(dir).len()
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vacuum_of_a_table_never_touches_a_table_nested_in_its_directory() {
    let dir = tempfile::tempdir().unwrap();
    let cat = catalog(dir.path()).await;
    let specs = [VectorSpec::new("embedding", DIM, Metric::L2)];
    let outer =
        cat.create_table(&TableIdent::new("docs", "t").unwrap(), &attributes(), &specs).await.unwrap();
    // `docs.t.x` lives in docs/t/x/, `docs.t.data` in docs/t/data/ (inside docs.t's data dir).
    let nested =
        cat.create_table(&TableIdent::new("docs.t", "x").unwrap(), &attributes(), &specs).await.unwrap();
    let inside_data =
        cat.create_table(&TableIdent::new("docs.t", "data").unwrap(), &attributes(), &specs).await.unwrap();
    write_and_commit(&outer, 0..50).await;
    write_and_commit(&nested, 0..40).await;
    write_and_commit(&inside_data, 0..30).await;
    let nested_dir = dir.path().join("warehouse/docs/t/x");
    let data_dir = dir.path().join("warehouse/docs/t/data/data");
    let before = (files_under(&nested_dir), files_under(&data_dir));

    let removed = outer.remove_orphans_with(zero_age()).await.unwrap();
    assert!(removed.is_empty(), "nothing of docs.t is unreferenced: {removed:?}");
    assert_eq!((files_under(&nested_dir), files_under(&data_dir)), before);
    assert_eq!(live_ids(&nested.refresh().await.unwrap()).await, (0..40).collect::<Vec<_>>());
    assert_eq!(live_ids(&inside_data.refresh().await.unwrap()).await, (0..30).collect::<Vec<_>>());
    // The outer table's own orphan is still found.
    let orphan = dir.path().join("warehouse/docs/t/data/orphan.parquet");
    std::fs::write(&orphan, b"junk").unwrap();
    let removed = outer.remove_orphans_with(zero_age()).await.unwrap();
    assert_eq!(removed.len(), 1, "{removed:?}");
    assert!(!orphan.exists());
    assert_eq!(live_ids(&nested.refresh().await.unwrap()).await, (0..40).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vacuum_refuses_when_another_table_shares_the_location() {
    let dir = tempfile::tempdir().unwrap();
    let t = table(dir.path(), "t").await;
    write_and_commit(&t, 0..20).await;
    let cat = catalog(dir.path()).await;
    let alias = TableIdent::new("other", "alias").unwrap();
    cat.provider().create_namespace("other").await.unwrap();
    cat.provider().register_table(&alias, t.metadata_location()).await.unwrap();
    let err = t.remove_orphans_with(zero_age()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert!(err.to_string().contains("other.alias"), "{err}");
    assert_eq!(live_ids(&t).await, (0..20).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_staged_file_survives_vacuum_until_its_writer_commits() {
    let dir = tempfile::tempdir().unwrap();
    let t = table(dir.path(), "t").await;
    write_and_commit(&t, 0..10).await;
    let w = t.writer(WritePolicy::default()).unwrap();
    let staged = w.write(&batch(10..60), &WriteOptions::default()).await.unwrap().unwrap();
    // A deferred write too: its Parquet-only file, then its indexed copy.
    let deferred = w.write(&batch(60..90), &WriteOptions::default().deferred()).await.unwrap().unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    // Older than min_age (zero), unreferenced: only the lease keeps them.
    let removed = t.remove_orphans_with(zero_age()).await.unwrap();
    assert!(removed.iter().all(|r| r != &staged.path && r != &deferred.path), "{removed:?}");
    w.wait_indexed().await.unwrap();
    assert!(t.remove_orphans_with(zero_age()).await.unwrap().iter().all(|r| !r.ends_with(".parquet")));
    w.commit().await.unwrap();
    assert_eq!(live_ids(&t.refresh().await.unwrap()).await, (0..90).collect::<Vec<_>>());
    assert_eq!(pyiceberg_ids(dir.path(), "t"), (0..90).collect::<Vec<_>>());
    // Committed: the lease is gone, and vacuum has nothing to remove.
    let leases = dir.path().join("warehouse/docs/t/metadata/ailake-leases");
    assert_eq!(files_under(&leases), 0, "the writer released its lease");
    assert!(t.remove_orphans_with(zero_age()).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_writers_files_become_orphans_and_an_expired_lease_protects_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let t = table(dir.path(), "t").await;
    write_and_commit(&t, 0..10).await;
    let w = t.writer(WritePolicy::default()).unwrap();
    let staged = w.write(&batch(10..20), &WriteOptions::default()).await.unwrap().unwrap();
    // A live lease, but treated as expired (the operator knows no writer runs).
    let expired = OrphanOptions { min_age: Duration::ZERO, lease_ttl: Duration::ZERO };
    let removed = t.remove_orphans_with(expired).await.unwrap();
    assert_eq!(removed, vec![staged.path.clone()]);
    // Its commit now fails typed, and commits nothing.
    let before = t.refresh().await.unwrap().snapshot_id();
    let err = w.commit().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    assert!(err.to_string().contains(&staged.path), "{err}");
    assert_eq!(t.refresh().await.unwrap().snapshot_id(), before);
    assert_eq!(live_ids(&t).await, (0..10).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_never_references_a_file_that_is_gone() {
    let dir = tempfile::tempdir().unwrap();
    let t = table(dir.path(), "t").await;
    write_and_commit(&t, 0..10).await;
    let w = t.writer(WritePolicy::default()).unwrap();
    let a = w.write(&batch(10..20), &WriteOptions::default()).await.unwrap().unwrap();
    w.write(&batch(20..30), &WriteOptions::default()).await.unwrap().unwrap();
    std::fs::remove_file(a.path.strip_prefix("file://").unwrap()).unwrap();
    let before = t.refresh().await.unwrap().snapshot_id();
    let err = w.commit().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    assert!(!err.is_retryable());
    assert_eq!(t.refresh().await.unwrap().snapshot_id(), before, "nothing committed");
    assert_eq!(live_ids(&t).await, (0..10).collect::<Vec<_>>());
}
