//! Compaction checkpoints: where a long compaction records its progress so that a later call
//! resumes it instead of starting over, and why vacuum keeps the files a checkpoint names.
//!
//! A checkpoint is a directory `metadata/ailake-compactions/<id>/` holding the compaction's
//! plan, a heartbeat, and one `done-<group>` marker per output file written (the file's shard
//! summary, [`crate::encode_summaries`] of one). Its writer owns the layout of the plan and
//! heartbeat; vacuum only reads the markers: every file a marker names is kept while the
//! checkpoint was written within [`CHECKPOINT_TTL`] (its files are not orphans but work a
//! resumed compaction commits), and an older checkpoint is deleted, after which its files are
//! ordinary orphans. A marker is written after its file is put, while its writer's lease
//! still protects the file, so no vacuum sees the file unprotected.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectMeta, ObjectStoreExt};

use crate::error::Result;
use crate::storage::Warehouse;
use crate::summaries::decode_summaries;

/// The directory under a table's `metadata/` holding its compaction checkpoints.
pub const COMPACTIONS_DIR: &str = "ailake-compactions";

/// The name prefix of a checkpoint's done markers.
pub const DONE_PREFIX: &str = "done-";

/// How long after its last write a checkpoint keeps its files from vacuum; a compaction never
/// resumes a checkpoint older than half of this.
pub const CHECKPOINT_TTL: Duration = Duration::from_secs(2 * 24 * 3600);

/// Now, in ms since the epoch (the clock checkpoint ages are measured against).
pub fn now_ms() -> i64 {
    crate::leases::now_ms()
}

/// The objects of each checkpoint of the table at `location`, by checkpoint id.
pub async fn list_checkpoints(wh: &Warehouse, location: &str) -> Result<HashMap<String, Vec<ObjectMeta>>> {
    let dir = wh.path_of(&format!("{location}/metadata/{COMPACTIONS_DIR}"))?;
    let objects: Vec<ObjectMeta> = wh.store().list(Some(&dir)).try_collect().await?;
    let mut by_id: HashMap<String, Vec<ObjectMeta>> = HashMap::new();
    for obj in objects {
        let Some(rest) = obj.location.prefix_match(&dir) else { continue };
        let parts: Vec<_> = rest.collect();
        if parts.len() == 2 {
            by_id.entry(parts[0].as_ref().to_string()).or_default().push(obj);
        }
    }
    Ok(by_id)
}

/// When a checkpoint was last written (its newest object), in ms since the epoch.
pub fn checkpoint_age_ms(objects: &[ObjectMeta], now_ms: i64) -> i64 {
    objects.iter().map(|o| now_ms - o.last_modified.timestamp_millis()).min().unwrap_or(i64::MAX)
}

/// The files a checkpoint's done markers name (a marker that cannot be read names none).
pub async fn checkpoint_files(wh: &Warehouse, objects: &[ObjectMeta]) -> Result<Vec<String>> {
    let mut files = Vec::new();
    for obj in objects.iter().filter(|o| o.location.filename().is_some_and(|n| n.starts_with(DONE_PREFIX))) {
        let bytes = match wh.store().get(&obj.location).await {
            Ok(got) => got.bytes().await?,
            Err(object_store::Error::NotFound { .. }) => continue,
            Err(e) => return Err(e.into()),
        };
        match decode_summaries(&bytes) {
            Ok(summaries) => files.extend(summaries.into_iter().map(|s| s.file_path)),
            Err(e) => tracing::warn!(marker = %obj.location, error = %e, "unreadable compaction marker"),
        }
    }
    Ok(files)
}

/// For vacuum: the files live checkpoints name, and the objects of expired checkpoints.
pub(crate) async fn checkpoint_protection(
    wh: &Warehouse,
    location: &str,
    now_ms: i64,
) -> Result<(HashSet<String>, Vec<Path>)> {
    let (mut keep, mut expired) = (HashSet::new(), Vec::new());
    for (_, objects) in list_checkpoints(wh, location).await? {
        if checkpoint_age_ms(&objects, now_ms) <= CHECKPOINT_TTL.as_millis() as i64 {
            keep.extend(checkpoint_files(wh, &objects).await?);
        } else {
            expired.extend(objects.into_iter().map(|o| o.location));
        }
    }
    Ok((keep, expired))
}
