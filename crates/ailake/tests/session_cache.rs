//! [`SessionCache`]: one open session per snapshot, shared by every handle of it, least
//! recently used dropped first — the cache the Python handle and the SQL layer both use.

mod support;

use std::sync::Arc;

use ailake::prelude::*;
use ailake::{SessionCache, SessionKey};
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_session_per_snapshot_least_recently_used_dropped_first() {
    let dir = tempfile::tempdir().unwrap();
    let table = table(dir.path(), "sessions").await;
    let writer = table.writer(WritePolicy::default()).unwrap();
    let mut versions = Vec::new();
    for i in 0..3 {
        writer.write(&batch(i * 50..(i + 1) * 50), &WriteOptions::default()).await.unwrap();
        writer.commit().await.unwrap();
        versions.push(table.refresh().await.unwrap());
    }
    let cache = SessionCache::new(2);
    assert!(cache.is_empty());

    // Two handles of one snapshot share its session; its rows are that snapshot's.
    let first = cache.session(&versions[0]).await.unwrap();
    let time_travel = versions[2].at_snapshot(versions[0].snapshot_id().unwrap()).unwrap();
    let again = cache.session(&time_travel).await.unwrap();
    assert!(Arc::ptr_eq(&first, &again));
    assert_eq!(first.row_count(), 50);
    let second = cache.session(&versions[1]).await.unwrap();
    assert_eq!((second.row_count(), cache.len()), (100, 2));

    // Use the first again, then open a third: the second (least recently used) is dropped.
    assert!(cache.get(&SessionKey::of(&versions[0])).is_some());
    let third = cache.session(&versions[2]).await.unwrap();
    assert_eq!((third.row_count(), cache.len()), (150, 2));
    assert!(cache.get(&SessionKey::of(&versions[1])).is_none(), "least recently used dropped");
    assert!(Arc::ptr_eq(&cache.get(&SessionKey::of(&versions[0])).unwrap(), &first));

    // A dropped snapshot opens again on demand, answering the same rows.
    let reopened = cache.session(&versions[1]).await.unwrap();
    assert!(!Arc::ptr_eq(&reopened, &second));
    assert_eq!(reopened.row_count(), 100);

    // The key names the warehouse, the table and the snapshot.
    let key = SessionKey::of(&versions[2]);
    assert_eq!(key, SessionKey::new(table.warehouse().root(), "docs.sessions", versions[2].snapshot_id()));
    assert_ne!(key, SessionKey::of(&versions[1]));
}
