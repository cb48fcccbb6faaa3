//! Optimistic concurrency on one SQLite catalog: 8 writer threads and 4 writer processes,
//! 25 commits each, land every commit exactly once on a linear lineage; a writer killed at
//! the commit point (or anywhere) leaves the table at a consistent committed snapshot.
//!
//! Child processes are this test binary re-run on `child_entry` with `AILK_CHILD_*` set.

mod common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use ailk_catalog::iceberg::io::FileIO;
use ailk_catalog::iceberg::TableCreation;
use ailk_catalog::{
    CatalogProvider, MetadataCommit, SnapshotUpdate, SqlCatalog, Table, TableIdent, Warehouse,
};
use async_trait::async_trait;
use common::*;

const COMMITS: i64 = 25;
const ROWS: i64 = 4;

fn ident() -> TableIdent {
    TableIdent::new("ns", "t").unwrap()
}

async fn open(dir: &Path, catalog: Arc<dyn CatalogProvider>) -> Table {
    let wh = Warehouse::local(dir.join("wh")).unwrap();
    Table::create_or_load(catalog, wh, ident(), schema(), Default::default()).await.unwrap()
}

async fn sql(dir: &Path) -> Arc<dyn CatalogProvider> {
    Arc::new(SqlCatalog::open(dir.join("catalog.db"), "default").await.unwrap())
}

/// Writer `w` commits 25 files of 4 rows: ids `w*1000 + i*4 ..`.
async fn run_writer(table: &Table, w: i64) {
    for i in 0..COMMITS {
        let start = w * 1000 + i * ROWS;
        let f = write_file(table, start..start + ROWS).await;
        table.commit(SnapshotUpdate::append(vec![f]).with_batch_ids([format!("w{w}-{i}")])).await.unwrap();
    }
}

fn child(dir: &Path, role: &str, writer: i64) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["child_entry", "--exact", "--nocapture", "--test-threads", "1"])
        .env("AILK_CHILD_ROLE", role)
        .env("AILK_CHILD_DIR", dir)
        .env("AILK_CHILD_WRITER", writer.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

/// The child side: does nothing in a normal test run.
#[test]
fn child_entry() {
    let Ok(role) = std::env::var("AILK_CHILD_ROLE") else { return };
    let dir = PathBuf::from(std::env::var("AILK_CHILD_DIR").unwrap());
    let writer: i64 = std::env::var("AILK_CHILD_WRITER").unwrap().parse().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        match role.as_str() {
            "writer" => run_writer(&open(&dir, sql(&dir).await).await, writer).await,
            "stall-at-swap" => {
                let catalog: Arc<dyn CatalogProvider> = Arc::new(StallAtSwap(sql(&dir).await));
                let table = open(&dir, catalog).await;
                let f = write_file(&table, writer * 1000..writer * 1000 + ROWS).await;
                println!("DATA {}", f.file_path());
                table.commit(SnapshotUpdate::append(vec![f])).await.unwrap();
                unreachable!("the parent kills this process at the swap");
            }
            "loop" => {
                let table = open(&dir, sql(&dir).await).await;
                for i in 0.. {
                    let start = writer * 1000 + i * ROWS;
                    let f = write_file(&table, start..start + ROWS).await;
                    table.commit(SnapshotUpdate::append(vec![f])).await.unwrap();
                    println!("COMMITTED {i}");
                    assert!(i < 10_000, "the parent kills this loop long before");
                }
            }
            other => panic!("unknown role {other}"),
        }
    });
}

/// A catalog that announces the swap and then hangs: the process is killed exactly between
/// writing every file of the commit and the metadata swap.
#[derive(Debug)]
struct StallAtSwap(Arc<dyn CatalogProvider>);

#[async_trait]
impl CatalogProvider for StallAtSwap {
    fn name(&self) -> &str {
        self.0.name()
    }
    async fn create_namespace(&self, ns: &str) -> ailk_catalog::Result<()> {
        self.0.create_namespace(ns).await
    }
    async fn list_namespaces(&self) -> ailk_catalog::Result<Vec<String>> {
        self.0.list_namespaces().await
    }
    async fn create_table(
        &self,
        t: &TableIdent,
        c: TableCreation,
        io: &FileIO,
    ) -> ailk_catalog::Result<String> {
        self.0.create_table(t, c, io).await
    }
    async fn register_table(&self, t: &TableIdent, loc: &str) -> ailk_catalog::Result<()> {
        self.0.register_table(t, loc).await
    }
    async fn metadata_location(&self, t: &TableIdent) -> ailk_catalog::Result<String> {
        self.0.metadata_location(t).await
    }
    async fn list_tables(&self, ns: &str) -> ailk_catalog::Result<Vec<TableIdent>> {
        self.0.list_tables(ns).await
    }
    async fn drop_table(&self, t: &TableIdent) -> ailk_catalog::Result<()> {
        self.0.drop_table(t).await
    }
    async fn commit_table(
        &self,
        _t: &TableIdent,
        commit: MetadataCommit,
        io: &FileIO,
    ) -> ailk_catalog::Result<Option<String>> {
        let new = ailk_catalog::pointer::write_commit(io, &commit).await?.expect("requirements hold");
        println!("SWAP {new}");
        // Hang until killed; exit on our own if the parent died first.
        tokio::time::sleep(Duration::from_secs(120)).await;
        std::process::exit(3)
    }
}

/// What follows `marker` on the child's next stdout line that has it (the test harness prints
/// its own lines too).
fn next_marked(lines: &mut impl Iterator<Item = std::io::Result<String>>, marker: &str) -> String {
    for line in lines {
        // The harness prints `test child_entry ... ` without a newline before our first line.
        let line = line.unwrap();
        if let Some(at) = line.find(marker) {
            return line[at + marker.len()..].to_string();
        }
    }
    panic!("child exited before printing {marker:?}");
}

/// Asserts the lineage from the current snapshot is one chain of `expected` snapshots.
async fn assert_linear(table: &Table, expected: usize) {
    let state = table.refresh().await.unwrap();
    let mut cursor = state.snapshot_id();
    let mut seen = HashSet::new();
    while let Some(id) = cursor {
        assert!(seen.insert(id), "snapshot {id} twice in the lineage");
        cursor = state.metadata().snapshot_by_id(id).unwrap().parent_snapshot_id();
    }
    assert_eq!(seen.len(), expected);
    assert_eq!(state.metadata().snapshots().len(), expected, "no snapshot outside the lineage");
    assert_eq!(state.metadata().history().len(), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_threads_and_four_processes_commit_every_file_once() {
    let dir = tempfile::tempdir().unwrap();
    let table = open(dir.path(), sql(dir.path()).await).await;
    let mut procs: Vec<Child> = (0..4).map(|p| child(dir.path(), "writer", 100 + p)).collect();
    let mut tasks = Vec::new();
    for w in 0..8 {
        let dir = dir.path().to_path_buf();
        tasks.push(tokio::spawn(async move {
            let table = open(&dir, sql(&dir).await).await;
            run_writer(&table, w).await;
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    for p in &mut procs {
        assert!(p.wait().unwrap().success(), "a writer process failed");
    }

    let files = table.refresh().await.unwrap().live_files().await.unwrap();
    assert_eq!(files.len(), 300);
    let mut expected: Vec<i64> = Vec::new();
    for w in (0..8).chain(100..104) {
        expected.extend(w * 1000..w * 1000 + COMMITS * ROWS);
    }
    expected.sort_unstable();
    assert_eq!(live_ids(&table, None).await, expected, "every row exactly once");
    assert_linear(&table, 300).await;
    let state = table.refresh().await.unwrap();
    let summary = &state.metadata().current_snapshot().unwrap().summary().additional_properties;
    assert_eq!(summary["total-records"], (300 * ROWS).to_string());
    assert_eq!(summary["total-data-files"], "300");
    for w in (0..8).chain(100..104) {
        for i in 0..COMMITS {
            assert!(table.refresh().await.unwrap().contains_batch(&format!("w{w}-{i}")).unwrap());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writer_killed_at_the_swap_leaves_the_previous_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let table = open(dir.path(), sql(dir.path()).await).await;
    let f = write_file(&table, 0..ROWS).await;
    let before = table.commit(SnapshotUpdate::append(vec![f])).await.unwrap().snapshot_id();
    let location_before = table.refresh().await.unwrap().metadata_location().to_string();

    let mut proc = child(dir.path(), "stall-at-swap", 7);
    let mut lines = BufReader::new(proc.stdout.take().unwrap()).lines();
    let data = next_marked(&mut lines, "DATA ");
    let new_metadata = next_marked(&mut lines, "SWAP ");
    proc.kill().unwrap(); // SIGKILL
    proc.wait().unwrap();

    let state = table.refresh().await.unwrap();
    assert_eq!(state.snapshot_id(), Some(before));
    assert_eq!(state.metadata_location(), location_before);
    assert_eq!(live_ids(&table, None).await, (0..ROWS).collect::<Vec<_>>());
    // The child's files are orphans: present, unreferenced, and removable.
    // The killed child is known dead: its lease counts as expired.
    let dead = ailk_catalog::OrphanOptions { min_age: Duration::ZERO, lease_ttl: Duration::ZERO };
    let removed = table.remove_orphans_with(dead).await.unwrap();
    assert!(removed.contains(&data), "{removed:?}");
    assert!(removed.contains(&new_metadata), "{removed:?}");
    assert!(removed.len() >= 4, "data file, manifest, manifest list, metadata: {removed:?}");
    // The table takes commits again.
    let g = write_file(&table, 10..10 + ROWS).await;
    table.commit(SnapshotUpdate::append(vec![g])).await.unwrap();
    assert_eq!(live_ids(&table, None).await.len(), 2 * ROWS as usize);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writer_killed_anywhere_leaves_a_consistent_table() {
    let dir = tempfile::tempdir().unwrap();
    let table = open(dir.path(), sql(dir.path()).await).await;
    for (round, delay_ms) in [3u64, 17, 41, 90].into_iter().enumerate() {
        let mut proc = child(dir.path(), "loop", 10 + round as i64);
        let mut lines = BufReader::new(proc.stdout.take().unwrap()).lines();
        next_marked(&mut lines, "COMMITTED "); // one commit landed; now kill it mid-flight
        std::thread::sleep(Duration::from_millis(delay_ms));
        proc.kill().unwrap();
        proc.wait().unwrap();
        let state = table.refresh().await.unwrap();
        let summary = &state.metadata().current_snapshot().unwrap().summary().additional_properties;
        let total: usize = summary["total-records"].parse().unwrap();
        let ids = live_ids(&table, None).await;
        assert_eq!(ids.len(), total, "round {round}: rows match the committed summary");
        let unique: HashSet<i64> = ids.iter().copied().collect();
        assert_eq!(unique.len(), ids.len(), "round {round}: no row twice");
        assert_linear(&table, state.metadata().snapshots().len()).await;
    }
}
