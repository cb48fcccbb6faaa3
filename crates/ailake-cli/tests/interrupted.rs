//! An ingest killed mid-way (SIGKILL after its second commit): the table stays at its last
//! commit, and rerunning the same command with the same `--batch-id` writes every batch
//! exactly once.

mod support;

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_ingest_resumes_with_each_batch_written_once() {
    let dir = tempfile::tempdir().unwrap();
    let (wh, input) = table_and_input(dir.path());
    // 40 batches of 100 rows, one commit each.
    let args = [
        "ingest",
        "docs.t",
        input.to_str().unwrap(),
        "--batch-rows",
        "100",
        "--commit-every",
        "1",
        "--batch-id",
        "load-1",
    ];
    let mut child = ailake(&wh).args(args).stderr(Stdio::piped()).stdout(Stdio::null()).spawn().unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut commits = 0;
    let mut line = String::new();
    while commits < 2 {
        line.clear();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "ingest ended before its second commit");
        commits += usize::from(line.starts_with("committed snapshot"));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    let after_kill = live_ids(&wh, "docs.t").await;
    assert!(after_kill.len() >= 200, "two commits landed: {}", after_kill.len());
    assert!(after_kill.len() < 4000, "killed before the end: {}", after_kill.len());
    assert_eq!(after_kill.len() % 100, 0, "whole batches only");
    assert_eq!(after_kill, (0..after_kill.len() as i64).collect::<Vec<_>>(), "the first batches, each once");

    // The rerun skips what was committed and writes the rest.
    let out = run(&wh, &args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let skipped = stderr.lines().filter(|l| l.contains("already written")).count();
    assert_eq!(skipped, after_kill.len() / 100, "{stderr}");
    assert_eq!(live_ids(&wh, "docs.t").await, (0..4000).collect::<Vec<_>>(), "every row exactly once");
    // The killed run's staged-but-uncommitted files (if it got that far) are unreferenced:
    // vacuum removes exactly the data files no snapshot names.
    let data_dir = wh.join("docs/t/data");
    let on_disk = || {
        std::fs::read_dir(&data_dir)
            .unwrap()
            .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "parquet"))
            .count()
    };
    let stray = dir.path().join("stray.parquet");
    std::fs::copy(&input, &stray).unwrap();
    std::fs::copy(&stray, data_dir.join("never-committed.parquet")).unwrap();
    let before_vacuum = on_disk();
    let out = ok(&wh, &["vacuum", "docs.t", "--older-than", "0s", "--lease-ttl", "0s"]);
    assert!(out.contains("never-committed.parquet"), "{out}");
    assert_eq!(on_disk(), 40, "one live file per batch remains (had {before_vacuum})");
    assert_eq!(live_ids(&wh, "docs.t").await, (0..4000).collect::<Vec<_>>());
    fails(&wh, &["vacuum", "docs.t", "--older-than", "soon"], 2, "expected a number");
    // A third run writes nothing and commits nothing.
    let before = snapshot(&wh, "docs.t").await;
    let out = ok(&wh, &args);
    assert!(out.contains("0 rows written in 40 batches (40 already written)"), "{out}");
    assert_eq!(snapshot(&wh, "docs.t").await, before);
}
