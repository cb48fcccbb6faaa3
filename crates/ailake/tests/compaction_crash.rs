//! Compactions SIGKILLed at random points, 20 rounds on one table that keeps receiving small
//! files and deletes: after every kill the table is at a committed snapshot whose rows are
//! exactly the rows written minus the rows deleted (none lost, none twice), `remove_orphans`
//! removes what the killed run left without touching live files, and pyiceberg agrees.
//! Run twice: with the default memory budget (the in-memory path) and with a budget of a few
//! KiB (the streamed path, which spills and checkpoints: a later run resumes what a killed
//! one wrote when the table still fits its plan; vacuum keeps a checkpoint's files).

mod support;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use ailake::prelude::*;
use ailake::Op;
use support::*;

const ROUNDS: usize = 20;

/// The child side, run only by the parent test (`--ignored`): ignored in a normal run, so it
/// never counts as a passing test.
#[test]
#[ignore = "child process entry point, run by the crash test"]
fn child_entry() {
    let Ok(dir) = std::env::var("AILK_COMPACT_CRASH_DIR") else { return };
    let dir = PathBuf::from(dir);
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let t = table(&dir, "t").await;
        let memory_bytes = std::env::var("AILK_COMPACT_MEMORY").map_or(1 << 30, |m| m.parse().unwrap());
        let planned = std::sync::atomic::AtomicBool::new(false);
        let progress = move |p: ailake::CompactProgress| {
            if p.files_planned > 0 && !planned.swap(true, std::sync::atomic::Ordering::Relaxed) {
                println!("PLANNED {}/{}", p.files_written, p.files_planned);
            }
            if p.files_written > 0 {
                println!("FILE {}/{}", p.files_written, p.files_planned);
                std::io::Write::flush(&mut std::io::stdout()).unwrap();
            }
        };
        let opts = CompactOptions {
            target_rows: 300,
            memory_bytes,
            spill_dir: Some(dir.join("spill")),
            progress: Some(std::sync::Arc::new(progress)),
            ..Default::default()
        };
        println!("START");
        std::io::Write::flush(&mut std::io::stdout()).unwrap();
        t.compact(&opts).await.unwrap();
        println!("COMPACTED");
    });
}

/// A small xorshift, so the kill points are random but the test is reproducible.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compactions_killed_at_random_points_never_lose_or_double_a_row() {
    let resumed = crash_rounds(None).await;
    assert_eq!(resumed, 0, "the in-memory path keeps no checkpoint");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamed_compactions_killed_at_random_points_resume_and_never_lose_or_double_a_row() {
    let resumed = crash_rounds(Some(4096)).await;
    assert!(resumed >= 1, "some run should resume the files a killed run wrote");
}

/// The rounds; `memory` is the compaction's memory budget. Returns how many runs resumed a
/// killed run's files.
async fn crash_rounds(memory: Option<usize>) -> usize {
    let dir = tempfile::tempdir().unwrap();
    let spill = dir.path().join("spill");
    std::fs::create_dir(&spill).unwrap();
    let t = table(dir.path(), "t").await;
    let writer = t.writer(WritePolicy::default()).unwrap();
    let mut next = 0usize;
    for _ in 0..20 {
        writer.write(&batch(next..next + 50), &WriteOptions::default()).await.unwrap();
        next += 50;
    }
    writer.commit().await.unwrap();
    let mut gone: BTreeSet<i64> = BTreeSet::new();
    let mut rng = Rng(0x9E3779B97F4A7C15);
    let (mut completed, mut killed, mut resumed) = (0, 0, 0);
    for round in 0..ROUNDS {
        // More small files, and now and then a delete, so every round has work to do.
        let writer = t.refresh().await.unwrap().writer(WritePolicy::default()).unwrap();
        for _ in 0..3 {
            writer.write(&batch(next..next + 40), &WriteOptions::default()).await.unwrap();
            next += 40;
        }
        writer.commit().await.unwrap();
        if round % 3 == 0 {
            let lo = rng.below(next as u64) as i64;
            let out = t
                .delete(&Filter::cmp("id", Op::Ge, lo).and(Filter::cmp("id", Op::Lt, lo + 7)))
                .await
                .unwrap();
            let newly: BTreeSet<i64> =
                (lo..(lo + 7).min(next as i64)).filter(|i| !gone.contains(i)).collect();
            assert_eq!(out.rows_deleted, newly.len() as u64);
            gone.extend(newly);
        }

        let mut command = Command::new(std::env::current_exe().unwrap());
        command
            .args(["child_entry", "--exact", "--ignored", "--nocapture", "--test-threads", "1"])
            .env("AILK_COMPACT_CRASH_DIR", dir.path());
        if let Some(m) = memory {
            command.env("AILK_COMPACT_MEMORY", m.to_string());
        }
        let mut child = command.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
        // Kill at a random point: before the first file, after some files, or at the commit.
        // Every fourth round runs to the end (the killed ones' leftovers get compacted).
        let files_before_kill = if round % 4 == 3 { u64::MAX } else { rng.below(4) };
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut seen = 0;
        while let Some(Ok(line)) = lines.next() {
            if line.contains("START") && files_before_kill == 0 {
                break;
            }
            if line.starts_with("PLANNED ") && !line.starts_with("PLANNED 0/") {
                resumed += 1;
            }
            if line.contains("FILE ") {
                seen += 1;
                if seen >= files_before_kill {
                    break;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(rng.below(15))).await;
        match child.try_wait().unwrap() {
            Some(status) => {
                assert!(status.success(), "round {round}: the compaction failed");
                completed += 1;
            }
            None => {
                child.kill().unwrap();
                child.wait().unwrap();
                killed += 1;
            }
        }

        let expected: Vec<i64> = (0..next as i64).filter(|i| !gone.contains(i)).collect();
        assert_eq!(live_ids(&t).await, expected, "round {round}: rows after the kill");
        // The killed writer is known dead: its lease counts as expired.
        t.remove_orphans_with(ailake::OrphanOptions { min_age: Duration::ZERO, lease_ttl: Duration::ZERO })
            .await
            .unwrap();
        assert_eq!(live_ids(&t).await, expected, "round {round}: rows after remove_orphans");
    }
    eprintln!("{killed} compactions killed, {completed} completed, {resumed} resumed");
    assert!(
        killed >= 6 && completed >= 5,
        "kills should land mid-way and some runs finish ({killed} killed)"
    );
    let expected: Vec<i64> = (0..next as i64).filter(|i| !gone.contains(i)).collect();
    assert_eq!(pyiceberg_ids(dir.path(), "t"), expected);
    // A last compaction, not killed, lands on whatever the killed ones left.
    let memory_bytes = memory.unwrap_or(1 << 30);
    let opts = CompactOptions {
        target_rows: 300,
        memory_bytes,
        spill_dir: Some(spill.clone()),
        ..Default::default()
    };
    t.compact(&opts).await.unwrap();
    assert_eq!(live_ids(&t).await, expected);
    assert_eq!(pyiceberg_ids(dir.path(), "t"), expected);
    // A second call finds every killed run's checkpoint gone or abandoned, and their spills.
    t.compact(&opts).await.unwrap();
    let checkpoints =
        ailake::catalog::checkpoints::list_checkpoints(t.warehouse(), t.location()).await.unwrap();
    assert!(checkpoints.is_empty(), "{} checkpoints left", checkpoints.len());
    assert_eq!(std::fs::read_dir(&spill).unwrap().count(), 0, "killed runs' spill directories are removed");
    resumed
}
