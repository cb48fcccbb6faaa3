//! The checkpoint of a streamed compaction (layout and vacuum rules:
//! `ailk_catalog::checkpoints`): `plan.json` (what is rewritten, on which partitions, into how
//! many files), `beat.json` (who runs it, rewritten every [`BEAT`]) and one `done-<group>`
//! marker per output file written. A call finds a checkpoint whose owner is gone and that
//! still fits the table, and resumes it: the files its markers name are committed, not
//! written again.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use ailk_catalog::checkpoints::{
    checkpoint_age_ms, checkpoint_files, list_checkpoints, now_ms, COMPACTIONS_DIR, DONE_PREFIX,
};
use ailk_catalog::{decode_summaries, encode_summaries, ShardSummary, Table, CHECKPOINT_TTL};
use ailk_format::object_store::{ObjectMeta, ObjectStoreExt, PutPayload};
use ailk_format::sync::lock;
use serde_json::{json, Value};

use crate::error::{Result, WriterError};

/// How often a running compaction rewrites its heartbeat.
pub(super) const BEAT: Duration = Duration::from_secs(10);

/// A heartbeat older than this (on another host) means its owner is gone.
const OWNER_GONE_AFTER: Duration = Duration::from_secs(60);

/// Tokens of the compactions running in this process.
fn running() -> &'static Mutex<HashSet<String>> {
    static RUNNING: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    RUNNING.get_or_init(Default::default)
}

fn host() -> String {
    sysinfo::System::host_name().unwrap_or_default()
}

/// One candidate file as the plan saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PlannedFile {
    pub path: String,
    pub rows: u64,
    pub deleted: u64,
}

/// What a streamed compaction rewrites, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Plan {
    /// `CompactOptions` that shape the output (`target_rows`, clustering, index).
    pub options: String,
    pub partitions_version: Option<u32>,
    pub files: Vec<PlannedFile>,
    pub group_rows: Vec<u64>,
}

impl Plan {
    fn to_json(&self) -> Value {
        json!({
            "format": 1,
            "options": self.options,
            "partitions-version": self.partitions_version,
            "files": self.files.iter().map(|f| json!({"path": f.path, "rows": f.rows, "deleted": f.deleted})).collect::<Vec<_>>(),
            "group-rows": self.group_rows,
        })
    }

    fn from_json(v: &Value) -> Option<Self> {
        if v["format"].as_u64()? != 1 {
            return None;
        }
        let files = v["files"]
            .as_array()?
            .iter()
            .map(|f| {
                Some(PlannedFile {
                    path: f["path"].as_str()?.to_string(),
                    rows: f["rows"].as_u64()?,
                    deleted: f["deleted"].as_u64()?,
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Self {
            options: v["options"].as_str()?.to_string(),
            partitions_version: v["partitions-version"].as_u64().map(|x| x as u32),
            files,
            group_rows: v["group-rows"].as_array()?.iter().map(Value::as_u64).collect::<Option<Vec<_>>>()?,
        })
    }
}

/// A checkpoint this call owns: its directory, and the heartbeat task (stopped on drop).
pub(super) struct Checkpoint {
    table: Table,
    pub id: String,
    token: String,
    beat: tokio::task::JoinHandle<()>,
    /// Output files already written, by group.
    pub done: HashMap<u32, ShardSummary>,
    /// The recorded plan, when there is one (a resumed checkpoint, or after `save_plan`).
    pub plan: Option<Plan>,
}

impl Drop for Checkpoint {
    fn drop(&mut self) {
        self.beat.abort();
        lock(running()).remove(&self.token);
    }
}

fn uri(table: &Table, id: &str, name: &str) -> String {
    format!("{}/metadata/{COMPACTIONS_DIR}/{id}/{name}", table.location())
}

async fn put_json(table: &Table, uri: &str, v: &Value) -> Result<()> {
    let wh = table.warehouse();
    wh.store().put(&wh.path_of(uri)?, PutPayload::from(v.to_string().into_bytes())).await?;
    Ok(())
}

async fn get_json(table: &Table, obj: &ObjectMeta) -> Option<Value> {
    let bytes = table.warehouse().store().get(&obj.location).await.ok()?.bytes().await.ok()?;
    serde_json::from_slice(&bytes).ok()
}

impl Checkpoint {
    /// Takes checkpoint `id` (new, or resumed with `plan` and `done`): registers this call as
    /// its owner and starts its heartbeat.
    async fn own(
        table: &Table,
        id: String,
        plan: Option<Plan>,
        done: HashMap<u32, ShardSummary>,
    ) -> Result<Self> {
        let token = uuid::Uuid::new_v4().to_string();
        lock(running()).insert(token.clone());
        let body = json!({"host": host(), "pid": std::process::id(), "token": token});
        let beat_uri = uri(table, &id, "beat.json");
        put_json(table, &beat_uri, &body).await?;
        let beat_table = table.clone();
        let beat = tokio::spawn(async move {
            let mut tick = tokio::time::interval(BEAT);
            tick.tick().await;
            loop {
                tick.tick().await;
                if let Err(e) = put_json(&beat_table, &beat_uri, &body).await {
                    tracing::warn!(error = %e, "could not renew a compaction heartbeat");
                }
            }
        });
        Ok(Self { table: table.clone(), id, token, beat, done, plan })
    }

    /// A new checkpoint owned by this call.
    pub async fn start(table: &Table) -> Result<Self> {
        Self::own(table, uuid::Uuid::new_v4().to_string(), None, HashMap::new()).await
    }

    /// Records the plan (once, before the first output file).
    pub async fn save_plan(&mut self, plan: Plan) -> Result<()> {
        put_json(&self.table, &uri(&self.table, &self.id, "plan.json"), &plan.to_json()).await?;
        self.plan = Some(plan);
        Ok(())
    }

    /// Records output file `summary` of `group` as written.
    pub async fn mark_done(&mut self, group: u32, summary: ShardSummary) -> Result<()> {
        let wh = self.table.warehouse();
        let path = wh.path_of(&uri(&self.table, &self.id, &format!("{DONE_PREFIX}{group:06}")))?;
        wh.store().put(&path, PutPayload::from(encode_summaries(std::slice::from_ref(&summary)))).await?;
        self.done.insert(group, summary);
        Ok(())
    }

    /// Deletes the checkpoint (after its commit, or when it is abandoned).
    pub async fn remove(self) {
        remove_dir(&self.table, &self.id).await;
    }
}

async fn remove_dir(table: &Table, id: &str) {
    let wh = table.warehouse();
    let Ok(all) = list_checkpoints(wh, table.location()).await else { return };
    for obj in all.get(id).into_iter().flatten() {
        wh.store().delete(&obj.location).await.ok();
    }
}

/// Whether the owner named by a checkpoint's `beat.json` (written `age_ms` ago) is running.
fn owner_running(beat: &Value, age_ms: i64) -> bool {
    let same_host = beat["host"].as_str() == Some(host().as_str());
    let pid = beat["pid"].as_u64().unwrap_or(0) as u32;
    if same_host && pid == std::process::id() {
        return beat["token"].as_str().is_some_and(|t| lock(running()).contains(t));
    }
    if same_host {
        let mut sys = sysinfo::System::new();
        let pid = sysinfo::Pid::from_u32(pid);
        sys.refresh_processes(sysinfo::ProcessesToUpdate::Some(&[pid]), true);
        return sys.process(pid).is_some();
    }
    age_ms < OWNER_GONE_AFTER.as_millis() as i64
}

/// The checkpoint to resume: one whose owner is gone, younger than half the checkpoint TTL,
/// whose plan `fits` the table as it is now (options, partitions, files still live with the
/// same deletes) and whose written files all still exist (a missing one is written again).
/// Checkpoints that are abandoned (owner gone, plan no longer fitting or unreadable) are
/// deleted, with their files that are not live in the table.
/// A checkpoint whose owner is gone also has its spill directories under `spill_dir` removed.
pub(super) async fn resume(
    table: &Table,
    spill_dir: Option<&std::path::Path>,
    fits: impl Fn(&Plan) -> bool,
) -> Result<Option<Checkpoint>> {
    let wh = table.warehouse();
    let now = now_ms();
    let live: HashSet<String> = table.live_files().await?.iter().map(|f| f.path().to_string()).collect();
    for (id, objects) in list_checkpoints(wh, table.location()).await? {
        let age = checkpoint_age_ms(&objects, now);
        let named = |n: &str| objects.iter().find(|o| o.location.filename() == Some(n));
        let beat = match named("beat.json") {
            Some(o) => get_json(table, o).await.unwrap_or(Value::Null),
            None => Value::Null,
        };
        if owner_running(&beat, age) {
            continue;
        }
        super::spill::remove_leftovers(spill_dir, &id);
        let plan = match named("plan.json") {
            Some(o) => get_json(table, o).await.as_ref().and_then(Plan::from_json),
            None => None,
        };
        let young = age < (CHECKPOINT_TTL / 2).as_millis() as i64;
        if let Some(plan) = plan.filter(|p| young && fits(p)) {
            let mut done = HashMap::new();
            for obj in
                objects.iter().filter(|o| o.location.filename().is_some_and(|n| n.starts_with(DONE_PREFIX)))
            {
                let group = obj.location.filename().and_then(|n| n[DONE_PREFIX.len()..].parse::<u32>().ok());
                let summary = match wh.store().get(&obj.location).await {
                    Ok(got) => decode_summaries(&got.bytes().await?).ok().and_then(|mut s| s.pop()),
                    Err(_) => None,
                };
                let (Some(group), Some(summary)) = (group, summary) else { continue };
                if wh.store().head(&wh.path_of(&summary.file_path)?).await.is_ok() {
                    done.insert(group, summary);
                }
            }
            tracing::info!(table = %table.ident(), checkpoint = %id, files_done = done.len(), files = plan.group_rows.len(), "resuming a compaction");
            return Ok(Some(Checkpoint::own(table, id, Some(plan), done).await?));
        }
        // Abandoned: its files are nobody's work any more.
        for file in checkpoint_files(wh, &objects).await? {
            if !live.contains(&file) {
                wh.store().delete(&wh.path_of(&file)?).await.ok();
            }
        }
        remove_dir(table, &id).await;
        tracing::info!(table = %table.ident(), checkpoint = %id, "abandoned a compaction checkpoint that no longer fits the table");
    }
    Ok(None)
}

/// `Internal` for a plan that came out different from the one recorded.
pub(super) fn plan_changed(id: &str) -> WriterError {
    WriterError::Internal(format!(
        "compaction checkpoint {id}: the files' rows no longer give the recorded plan"
    ))
}
