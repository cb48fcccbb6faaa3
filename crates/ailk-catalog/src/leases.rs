//! Write leases: how an in-flight writer keeps its staged files from vacuum (the protocol is
//! described with vacuum, in `maintenance.rs`). A lease is an object under the table's
//! `metadata/ailake-leases/`, rewritten every [`LEASE_HEARTBEAT`] while its writer holds
//! uncommitted files, deleted when they are committed or dropped, expired after [`LEASE_TTL`].

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use ailk_format::sync::lock;
use object_store::path::Path;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt, PutPayload};

use crate::error::Result;
use crate::storage::Warehouse;

/// The directory under a table's `metadata/` that holds its writers' leases.
pub const LEASES_DIR: &str = "ailake-leases";

/// How long a lease that stopped being rewritten still protects its writer's files.
pub const LEASE_TTL: Duration = Duration::from_secs(10 * 60);

/// How often a live writer rewrites its lease.
pub const LEASE_HEARTBEAT: Duration = Duration::from_secs(60);

/// A writer's lease on a table: while one is held, vacuum keeps every unreferenced file of
/// the table written since it began. Shared by the writes of one table handle (and its
/// refreshed versions); released by [`release_lease`] when the last holder is done, or on drop.
pub struct WriteLease {
    store: Arc<dyn ObjectStore>,
    path: Path,
    heartbeat: tokio::task::JoinHandle<()>,
    released: bool,
}

impl std::fmt::Debug for WriteLease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteLease").field("path", &self.path.as_ref()).finish()
    }
}

impl Drop for WriteLease {
    fn drop(&mut self) {
        self.heartbeat.abort();
        if self.released {
            return;
        }
        // Best effort: an undeleted lease stops beating and expires after its TTL.
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            let (store, path) = (self.store.clone(), self.path.clone());
            handle.spawn(async move { store.delete(&path).await.ok() });
        }
    }
}

/// The lease slot of one table (shared by every version of a handle).
#[derive(Default)]
pub(crate) struct LeaseSlot(Mutex<Weak<WriteLease>>);

/// Ends `lease` when this was its last holder: its object is deleted now (not later from a
/// drop), so a vacuum that follows sees no lease.
pub async fn release_lease(lease: Arc<WriteLease>) {
    if let Some(mut lease) = Arc::into_inner(lease) {
        lease.heartbeat.abort();
        lease.released = true;
        if let Err(e) = lease.store.delete(&lease.path).await {
            tracing::warn!(lease = %lease.path, error = %e, "could not remove a write lease; it expires");
        }
    }
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

fn lease_body(since_ms: i64) -> PutPayload {
    PutPayload::from(format!("{{\"since-ms\":{since_ms},\"pid\":{}}}", std::process::id()).into_bytes())
}

/// The write lease of the table at `location`, taken now unless `slot` holds a live one.
pub(crate) async fn take_lease(slot: &LeaseSlot, wh: &Warehouse, location: &str) -> Result<Arc<WriteLease>> {
    if let Some(lease) = lock(&slot.0).upgrade() {
        return Ok(lease);
    }
    let dir = wh.path_of(&format!("{}/metadata/{LEASES_DIR}", location))?;
    let path = dir.clone().join(format!("{}.json", uuid::Uuid::new_v4()));
    let since = now_ms();
    wh.store().put(&path, lease_body(since)).await?;
    let (store, beat_path) = (wh.store().clone(), path.clone());
    let heartbeat = tokio::spawn(async move {
        let mut tick = tokio::time::interval(LEASE_HEARTBEAT);
        tick.tick().await;
        loop {
            tick.tick().await;
            if let Err(e) = store.put(&beat_path, lease_body(since)).await {
                tracing::warn!(lease = %beat_path, error = %e, "could not renew a write lease");
            }
        }
    });
    let lease = Arc::new(WriteLease { store: wh.store().clone(), path, heartbeat, released: false });
    let mut slot = lock(&slot.0);
    match slot.upgrade() {
        // Another write took one meanwhile: use it, drop ours (its drop deletes it).
        Some(existing) => Ok(existing),
        None => {
            *slot = Arc::downgrade(&lease);
            Ok(lease)
        }
    }
}

/// When a live lease began: its `since-ms`; the oldest time there is when it cannot be read
/// (protect everything); `None` when it is gone (its writer released it after committing,
/// before the metadata is read).
pub(crate) async fn lease_since(store: &Arc<dyn ObjectStore>, lease: &ObjectMeta) -> Option<i64> {
    let body = match store.get(&lease.location).await {
        Ok(got) => got.bytes().await.ok(),
        Err(object_store::Error::NotFound { .. }) => return None,
        Err(_) => None,
    };
    Some(
        body.and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|v| v["since-ms"].as_i64())
            .unwrap_or(i64::MIN),
    )
}
