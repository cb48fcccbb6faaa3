//! The quickstart's table, read back by pyiceberg: every row, equal to what was written.

#[allow(dead_code)]
#[path = "../examples/quickstart.rs"]
mod quickstart;
mod support;

use std::path::PathBuf;
use std::process::Command;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pyiceberg_reads_the_quickstart_table() {
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/debian-minilm");
    let dir = tempfile::tempdir().unwrap();
    let wh = dir.path().join("warehouse");
    let rows = quickstart::run(&wh, &data, 2000).await.unwrap();
    assert_eq!(rows, 2000);
    // A second run finds the rows and writes nothing.
    assert_eq!(quickstart::run(&wh, &data, 2000).await.unwrap(), 2000);

    let root = format!("file://{}", wh.canonicalize().unwrap().display());
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/py/read_quickstart.py");
    let out = Command::new(support::python())
        .arg(script)
        .arg(wh.join("catalog.db"))
        .arg(&root)
        .arg(quickstart::TABLE)
        .output()
        .unwrap();
    assert!(out.status.success(), "pyiceberg failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<i64> = json["ids"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect();
    assert_eq!(ids, (0..2000).collect::<Vec<_>>());
    let raw = std::fs::read_to_string(data.join("texts.tsv")).unwrap();
    let texts: Vec<&str> = raw.lines().take(2000).map(|l| l.split_once('\t').map_or(l, |(_, t)| t)).collect();
    let got: Vec<&str> = json["text"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(got, texts);
    // One append, plus a replace per deferred build that finished after the commit.
    assert!((1..=3).contains(&json["snapshots"].as_u64().unwrap()), "{}", json["snapshots"]);
}
