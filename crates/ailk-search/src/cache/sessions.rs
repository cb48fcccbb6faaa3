//! [`SessionCache`]: open [`SearchSession`]s kept by the snapshot they read, so that callers
//! that come back to the same table version (a Python handle, every scan and search of a SQL
//! plan, an executor decoding plans) plan it once. The least recently used session is dropped
//! when the cache is full. Loaded shard indexes live in the [`crate::ShardCache`], shared by
//! every session, so a dropped session costs only its plan.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use ailk_catalog::Table;
use ailk_format::sync::lock;

use crate::error::Result;
use crate::session::SearchSession;

/// Sessions the process-wide cache ([`SessionCache::global`]) keeps.
pub const GLOBAL_SESSIONS: usize = 64;

/// What a session is kept by: the warehouse root, the table's name and the snapshot id
/// (`None` for a table without a snapshot). A snapshot's files never change, so every
/// handle of the same snapshot can share one session.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SessionKey {
    root: String,
    table: String,
    snapshot: Option<i64>,
}

impl SessionKey {
    /// The key of snapshot `snapshot` of table `table` in the warehouse at `root`.
    pub fn new(root: impl Into<String>, table: impl Into<String>, snapshot: Option<i64>) -> Self {
        Self { root: root.into(), table: table.into(), snapshot }
    }

    /// The key of the snapshot `table` reads.
    pub fn of(table: &Table) -> Self {
        Self::new(table.warehouse().root().to_string(), table.ident().to_string(), table.snapshot_id())
    }
}

/// Open sessions by [`SessionKey`], at most `capacity` of them, least recently used dropped
/// first. Safe to share between threads; opening a session happens outside the lock.
#[derive(Debug)]
pub struct SessionCache {
    capacity: usize,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Each session with the tick of its last use.
    open: HashMap<SessionKey, (Arc<SearchSession>, u64)>,
    clock: u64,
}

impl SessionCache {
    /// A cache keeping at most `capacity` sessions (at least one).
    pub fn new(capacity: usize) -> Self {
        Self { capacity: capacity.max(1), state: Mutex::default() }
    }

    /// The process-wide cache ([`GLOBAL_SESSIONS`] sessions), shared by the SQL layer's plans.
    pub fn global() -> &'static SessionCache {
        static GLOBAL: OnceLock<SessionCache> = OnceLock::new();
        GLOBAL.get_or_init(|| SessionCache::new(GLOBAL_SESSIONS))
    }

    /// The session of `table`'s snapshot: the kept one, else opened and kept.
    pub async fn session(&self, table: &Table) -> Result<Arc<SearchSession>> {
        let key = SessionKey::of(table);
        if let Some(session) = self.get(&key) {
            return Ok(session);
        }
        let session = Arc::new(SearchSession::new(table).await?);
        self.insert(key, session.clone());
        Ok(session)
    }

    /// The kept session of `key`, marked as just used.
    pub fn get(&self, key: &SessionKey) -> Option<Arc<SearchSession>> {
        let mut state = lock(&self.state);
        state.clock += 1;
        let now = state.clock;
        state.open.get_mut(key).map(|(session, used)| {
            *used = now;
            session.clone()
        })
    }

    /// Keeps `session` under `key`, dropping the least recently used session when full.
    pub fn insert(&self, key: SessionKey, session: Arc<SearchSession>) {
        let mut state = lock(&self.state);
        state.clock += 1;
        let now = state.clock;
        if state.open.len() >= self.capacity && !state.open.contains_key(&key) {
            let oldest = state.open.iter().min_by_key(|(_, (_, used))| *used).map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                state.open.remove(&oldest);
            }
        }
        state.open.insert(key, (session, now));
    }

    /// How many sessions are kept.
    pub fn len(&self) -> usize {
        lock(&self.state).open.len()
    }

    /// Whether no session is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
