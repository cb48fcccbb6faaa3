//! The real `ailake` binary, every subcommand: the demo read back by pyiceberg, create →
//! ingest (Parquet with list vectors, .npy + CSV) → search with recall against exact truth,
//! filters, time travel and every output format; info, history, inspect; bad input that
//! exits non-zero with one line and commits nothing.

mod support;

use std::path::{Path, PathBuf};

use ailk_testkit::texmex::Matrix;
use serde_json::Value;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_writes_a_table_pyiceberg_reads() {
    let dir = tempfile::tempdir().unwrap();
    let wh = dir.path().join("warehouse");
    let out = ok(&wh, &["demo", "--rows", "2000"]);
    assert!(out.contains("committed snapshot") && out.contains("searching snapshot"), "{out}");
    assert!(
        out.contains("SqlCatalog('default'") && out.contains("duckdb"),
        "prints the readers' one-liners: {out}"
    );
    // A second run finds the rows and writes nothing.
    let again = ok(&wh, &["demo", "--rows", "2000"]);
    assert!(again.contains("already holds 2000 rows"), "{again}");

    let root = format!("file://{}", wh.canonicalize().unwrap().display());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ailake/tests/py/read_table.py");
    let out = std::process::Command::new(python())
        .arg(script)
        .arg(wh.join("catalog.db"))
        .arg(&root)
        .arg("docs.debian")
        .output()
        .unwrap();
    assert!(out.status.success(), "pyiceberg failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<i64> = json["ids"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect();
    assert_eq!(ids, (0..2000).collect::<Vec<_>>());
    let s = sample();
    let texts: Vec<&str> = json["text"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(texts, s.texts[..2000].iter().map(String::as_str).collect::<Vec<_>>());
    // One append, plus a replace per deferred build that finished after the commit.
    assert!((1..=3).contains(&json["snapshots"].as_u64().unwrap()), "{}", json["snapshots"]);
}

fn write_npy(path: &Path, m: &Matrix<f32>) {
    std::fs::write(path, ailk_testkit::npy::encode_f32(m)).unwrap();
}

/// The result ids per query of a `--format json` search.
fn result_ids(json: &str, queries: usize) -> Vec<Vec<i64>> {
    let rows: Value = serde_json::from_str(json).unwrap();
    let mut out = vec![Vec::new(); queries];
    for r in rows.as_array().unwrap() {
        let q = r.get("query").map_or(0, |q| q.as_i64().unwrap() as usize);
        out[q].push(r["id"].as_i64().unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_ingest_search_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let wh = dir.path().join("wh");
    let s = sample();
    create(&wh);
    // Rows 0..3000 as two Parquet files with List<Float32> vectors, IVF-PQ and HNSW.
    let (p0, p1) = (dir.path().join("part-0.parquet"), dir.path().join("part-1.parquet"));
    write_parquet(&p0, &list_batch(&s, 0..1500));
    write_parquet(&p1, &list_batch(&s, 1500..3000));
    let out =
        ok(&wh, &["ingest", "docs.t", p0.to_str().unwrap(), "--index", "ivf-pq", "--batch-rows", "800"]);
    assert!(out.contains("1500 rows written in 2 batches"), "{out}");
    let first = snapshot(&wh, "docs.t").await.unwrap();
    ok(&wh, &["ingest", "docs.t", p1.to_str().unwrap(), "--index", "deferred"]);
    // Rows 3000..4000 as a .npy matrix with a CSV of attributes.
    let npy = dir.path().join("v.npy");
    write_npy(&npy, &Matrix { dim: 384, data: s.base.data[3000 * 384..].to_vec() });
    let csv = dir.path().join("rows.csv");
    let mut text = String::from("id,text\n");
    for i in 3000..4000 {
        text.push_str(&format!("{i},\"{}\"\n", s.texts[i].replace('"', "\"\"")));
    }
    std::fs::write(&csv, text).unwrap();
    ok(
        &wh,
        &[
            "ingest",
            "docs.t",
            npy.to_str().unwrap(),
            "--attributes",
            csv.to_str().unwrap(),
            "--index",
            "auto",
        ],
    );
    assert_eq!(live_ids(&wh, "docs.t").await, (0..4000).collect::<Vec<_>>());

    // Recall@10 of the CLI against the exact truth over all 4,000 rows.
    let queries = dir.path().join("q.npy");
    write_npy(&queries, &Matrix { dim: 384, data: s.queries.data[..50 * 384].to_vec() });
    let json = ok(
        &wh,
        &[
            "search",
            "docs.t",
            "--vector-file",
            queries.to_str().unwrap(),
            "--format",
            "json",
            "--columns",
            "id",
        ],
    );
    let got = result_ids(&json, 50);
    assert!(got.iter().all(|g| g.len() == 10));
    let r = recall(&got, &s.truth_top(50, 10));
    assert!(r >= 0.95, "recall@10 through the CLI {r:.3}");

    // --vector JSON equals the same query from the file; --like finds the row itself first.
    let q0: Vec<String> = s.queries.row(0).iter().map(|v| v.to_string()).collect();
    let one = ok(&wh, &["search", "docs.t", "--vector", &format!("[{}]", q0.join(",")), "--format", "json"]);
    assert_eq!(result_ids(&one, 1)[0], got[0]);
    let like =
        result_ids(&ok(&wh, &["search", "docs.t", "--like", "1234", "-k", "3", "--format", "json"]), 1);
    assert_eq!(like[0][0], 1234);
    // Filters hold; time travel sees only the first ingest.
    let f = ok(
        &wh,
        &[
            "search",
            "docs.t",
            "--like",
            "1234",
            "-k",
            "20",
            "--filter",
            "id >= 2000 AND id < 2100",
            "--format",
            "json",
        ],
    );
    let ids = &result_ids(&f, 1)[0];
    assert_eq!(ids.len(), 20);
    assert!(ids.iter().all(|i| (2000..2100).contains(i)), "{ids:?}");
    let old = ok(
        &wh,
        &["search", "docs.t", "--like", "7", "-k", "5", "--snapshot", &first.to_string(), "--format", "csv"],
    );
    let old_ids: Vec<i64> =
        old.lines().skip(1).map(|l| l.split(',').next().unwrap().parse().unwrap()).collect();
    assert!(old_ids.iter().all(|&i| i < 1500) && old_ids.len() == 5, "{old}");
    let table = ok(&wh, &["search", "docs.t", "--like", "7", "-k", "2"]);
    assert!(table.lines().next().unwrap().starts_with("id") && table.contains("_distance"), "{table}");

    // info, history, inspect.
    let info = ok(&wh, &["info", "docs.t"]);
    assert!(info.contains("rows       4000"), "{info}");
    assert_eq!(shards(&info, "pending"), 0, "the deferred build finished before ingest exited: {info}");
    let history = ok(&wh, &["history", "docs.t"]);
    assert!(history.lines().filter(|l| l.contains("append")).count() == 3, "{history}");
    let file = live_file(&wh).await;
    let inspect = ok(&wh, &["inspect", file.to_str().unwrap()]);
    assert!(inspect.contains("checksums   ok") && inspect.contains("embedding"), "{inspect}");
    assert_eq!(ok(&wh, &["tables", "docs"]).trim(), "docs.t");
}

async fn live_file(wh: &Path) -> PathBuf {
    let catalog = ailake::Catalog::local(wh.join("catalog.db"), "default", wh).await.unwrap();
    let t = catalog.load_table(&ailake::TableIdent::parse("docs.t").unwrap()).await.unwrap();
    let files = t.live_files().await.unwrap();
    PathBuf::from(files[0].path().strip_prefix("file://").unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_one_line_a_nonzero_exit_and_nothing_committed() {
    let dir = tempfile::tempdir().unwrap();
    let wh = dir.path().join("wh");
    let s = sample();
    fails(&wh, &["info", "docs.t"], 3, "no catalog at");
    create(&wh);
    fails(&wh, &["create", "docs.t", "--vector", "embedding:384:cosine"], 4, "exists");
    ok(&wh, &["create", "docs.t", "--vector", "embedding:384:cosine", "--if-not-exists"]);
    fails(&wh, &["create", "docs.u", "--vector", "embedding:zero:cosine"], 2, "dimension");
    fails(&wh, &["create", "docs.u", "--vector", "e:8:manhattan"], 2, "metric");
    let good = dir.path().join("good.parquet");
    write_parquet(&good, &list_batch(&s, 0..200));
    ok(&wh, &["ingest", "docs.t", good.to_str().unwrap()]);
    let before = snapshot(&wh, "docs.t").await;

    fails(&wh, &["search", "docs.nope", "--like", "1"], 3, "docs.nope");
    fails(&wh, &["ingest", "docs.nope", good.to_str().unwrap()], 3, "docs.nope");
    // Wrong dimension: vectors of 100 values for a 384-d column.
    let npy = dir.path().join("short.npy");
    write_npy(&npy, &Matrix { dim: 100, data: vec![0.5; 100 * 10] });
    fails(&wh, &["ingest", "docs.t", npy.to_str().unwrap()], 2, "dimension 100");
    // A file without the vector column, with a ragged row, unreadable bytes, a missing file.
    let novec = dir.path().join("novec.parquet");
    write_parquet(&novec, &list_batch(&s, 0..10).project(&[0, 1]).unwrap());
    fails(
        &wh,
        &["ingest", "docs.t", good.to_str().unwrap(), novec.to_str().unwrap()],
        2,
        "embedding is missing",
    );
    let garbage = dir.path().join("garbage.parquet");
    std::fs::write(&garbage, b"this is not parquet at all").unwrap();
    fails(&wh, &["ingest", "docs.t", garbage.to_str().unwrap()], 2, "not a readable Parquet file");
    fails(&wh, &["ingest", "docs.t", "/no/such/file.parquet"], 3, "/no/such/file.parquet");
    fails(&wh, &["inspect", garbage.to_str().unwrap()], 5, "not a Parquet file");
    // Malformed or unknown filters, bad query vectors.
    fails(&wh, &["search", "docs.t", "--like", "1", "--filter", "id = = 3"], 2, "character");
    fails(&wh, &["search", "docs.t", "--like", "1", "--filter", "lang = 'en'"], 2, "lang");
    fails(&wh, &["search", "docs.t", "--vector", "[1, 2, 3]"], 2, "dimension 384");
    fails(&wh, &["search", "docs.t", "--vector", "not json"], 2, "not JSON");
    fails(&wh, &["search", "docs.t", "--like", "99999"], 3, "id = 99999");
    fails(&wh, &["search", "docs.t", "--like", "1", "--snapshot", "42"], 3, "42");
    assert_eq!(snapshot(&wh, "docs.t").await, before, "nothing was committed");
    assert_eq!(live_ids(&wh, "docs.t").await, (0..200).collect::<Vec<_>>());
}

/// Hostile names and queries through the command line: each a typed error on one line, no
/// directory made outside the warehouse's tables, the table's snapshot and rows unchanged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_names_and_queries_fail_cleanly_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let wh = dir.path().join("wh");
    let s = sample();
    create(&wh);
    let good = dir.path().join("good.parquet");
    write_parquet(&good, &list_batch(&s, 0..100));
    ok(&wh, &["ingest", "docs.t", good.to_str().unwrap()]);
    let before = snapshot(&wh, "docs.t").await;
    let listing = |root: &Path| {
        let mut all: Vec<PathBuf> = walk(root);
        all.sort();
        all
    };
    let tree = listing(dir.path());
    for name in [
        "..",
        "docs/../x",
        "../escape.t",
        "a/b",
        "",
        ".",
        "docs..t",
        "docs.",
        ".t",
        " docs.t",
        "docs.t ",
        "docs.a\\b",
        "docs.a\tb",
    ] {
        for cmd in
            [&["create", name, "--vector", "e:8:l2"][..], &["search", name, "--like", "1"], &["info", name]]
        {
            let line = fails(&wh, cmd, 2, "");
            assert!(line.contains("table name") || line.contains("namespace.table"), "{cmd:?}: {line}");
        }
        fails(&wh, &["ingest", name, good.to_str().unwrap()], 2, "");
        fails(&wh, &["vacuum", name, "--older-than", "0s"], 2, "");
    }
    assert_eq!(listing(dir.path()), tree, "a refused name made or removed nothing");
    // Unicode names are names.
    ok(&wh, &["create", "dokumente.straße", "--vector", "e:8:l2"]);
    ok(&wh, &["info", "dokumente.straße"]);

    // Queries: k out of range, filters deep, wide, on the vector column or of the wrong type.
    fails(&wh, &["search", "docs.t", "--like", "1", "-k", "0"], 2, "-k");
    fails(&wh, &["search", "docs.t", "--like", "1", "-k", "99999999999999999999999"], 2, "-k");
    fails(&wh, &["search", "docs.t", "--like", "1", "-k", "1.5"], 2, "-k");
    let all = ok(&wh, &["search", "docs.t", "--like", "1", "-k", "100000", "--format", "json"]);
    let rows: Value = serde_json::from_str(&all).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 100, "k above the rows returns every row");
    let deep = format!("{}id = 1{}", "(".repeat(20_000), ")".repeat(20_000));
    fails(&wh, &["search", "docs.t", "--like", "1", "--filter", &deep], 2, "nest");
    let wide = format!("id IN ({})", (0..10_000).map(|i| i.to_string()).collect::<Vec<_>>().join(","));
    let hits =
        ok(&wh, &["search", "docs.t", "--like", "1", "-k", "5", "--filter", &wide, "--format", "json"]);
    assert_eq!(serde_json::from_str::<Value>(&hits).unwrap().as_array().unwrap().len(), 5);
    fails(&wh, &["search", "docs.t", "--like", "1", "--filter", "embedding = 1"], 2, "embedding");
    fails(&wh, &["search", "docs.t", "--like", "1", "--filter", ""], 2, "");
    let zero = format!("[{}]", vec!["0"; 384].join(","));
    fails(&wh, &["search", "docs.t", "--vector", &zero], 2, "zero");
    fails(&wh, &["delete", "docs.t", "--filter", &deep], 2, "nest");
    assert_eq!(snapshot(&wh, "docs.t").await, before, "nothing was committed");
    assert_eq!(live_ids(&wh, "docs.t").await, (0..100).collect::<Vec<_>>());
}

/// Every path under `root`, directories included.
fn walk(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(root).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        }
        out.push(path);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_removes_rows_from_search_and_info() {
    let dir = tempfile::tempdir().unwrap();
    let (wh, input) = table_and_input(dir.path());
    ok(&wh, &["ingest", "docs.t", input.to_str().unwrap(), "--batch-rows", "2000"]);
    let out = ok(&wh, &["delete", "docs.t", "--filter", "id < 100 OR id = 2500"]);
    assert!(out.contains("deleted 101 rows (2 position delete files, 0 files removed whole)"), "{out}");
    let info = ok(&wh, &["info", "docs.t"]);
    assert!(info.contains("rows       3899 (4000 in data files, 101 deleted)"), "{info}");
    assert!(info.contains("deletes    2 position delete files"), "{info}");
    let json = ok(&wh, &["search", "docs.t", "--like", "150", "-k", "200", "--format", "json"]);
    let got = &result_ids(&json, 1)[0];
    assert_eq!(got.len(), 200);
    assert!(got.iter().all(|&i| i >= 100 && i != 2500), "a deleted row came back");
    // --like a deleted row finds nothing to search with.
    fails(&wh, &["search", "docs.t", "--like", "5"], 3, "5");
    let again = ok(&wh, &["delete", "docs.t", "--filter", "id < 100"]);
    assert!(again.contains("no live row matches; nothing committed"), "{again}");
    fails(&wh, &["delete", "docs.t", "--filter", "nope = 1"], 2, "nope");
    fails(&wh, &["delete", "docs.t", "--filter", "id = 'x'"], 2, "id");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compact_expire_and_vacuum_keep_the_rows_and_drop_old_files() {
    let dir = tempfile::tempdir().unwrap();
    let (wh, input) = table_and_input(dir.path());
    ok(&wh, &["ingest", "docs.t", input.to_str().unwrap(), "--batch-rows", "250"]);
    ok(&wh, &["delete", "docs.t", "--filter", "id < 10"]);
    let out = ok(&wh, &["compact", "docs.t", "--target-rows", "1000"]);
    assert!(
        out.contains("16 files ->") && out.contains("3990 rows rewritten, 10 deleted rows purged"),
        "{out}"
    );
    let info = ok(&wh, &["info", "docs.t"]);
    assert!(info.contains("rows       3990\n") && info.contains("partitions "), "{info}");
    let json = ok(&wh, &["search", "docs.t", "--like", "150", "-k", "5", "--format", "json"]);
    assert_eq!(result_ids(&json, 1)[0][0], 150);
    assert!(ok(&wh, &["compact", "docs.t", "--target-rows", "1000"]).contains("nothing to compact"));
    let expired = ok(&wh, &["expire", "docs.t", "--older-than", "0s", "--retain-last", "1"]);
    assert!(expired.contains("snapshots expired"), "{expired}");
    let vacuum = ok(&wh, &["vacuum", "docs.t", "--older-than", "0s"]);
    assert!(vacuum.lines().filter(|l| l.contains("/data/")).count() >= 16, "{vacuum}");
    let json = ok(&wh, &["search", "docs.t", "--like", "150", "-k", "5", "--format", "json"]);
    assert_eq!(result_ids(&json, 1)[0][0], 150);
    fails(&wh, &["compact", "docs.t", "--target-rows", "0"], 2, "target-rows");
    fails(&wh, &["compact", "docs.t", "--memory", "0"], 2, "memory");
    fails(&wh, &["compact", "docs.t", "--memory", "lots"], 2, "not a size");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compact_with_little_memory_spills_and_keeps_every_row() {
    let dir = tempfile::tempdir().unwrap();
    let (wh, input) = table_and_input(dir.path());
    ok(&wh, &["ingest", "docs.t", input.to_str().unwrap(), "--batch-rows", "250"]);
    ok(&wh, &["delete", "docs.t", "--filter", "id < 10"]);
    let spill = dir.path().join("spill");
    std::fs::create_dir(&spill).unwrap();
    let args = ["compact", "docs.t", "--target-rows", "1000", "--memory", "64K", "--spill-dir"];
    let out = ok(&wh, &[&args[..], &[spill.to_str().unwrap()]].concat());
    assert!(
        out.contains("16 files ->") && out.contains("3990 rows rewritten, 10 deleted rows purged"),
        "{out}"
    );
    assert_eq!(std::fs::read_dir(&spill).unwrap().count(), 0, "the spill directory is cleaned up");
    let info = ok(&wh, &["info", "docs.t"]);
    assert!(info.contains("rows       3990\n") && info.contains("partitions "), "{info}");
    let json = ok(&wh, &["search", "docs.t", "--like", "150", "-k", "5", "--format", "json"]);
    assert_eq!(result_ids(&json, 1)[0][0], 150);
}

#[test]
fn every_subcommand_has_help_with_an_example() {
    let dir = tempfile::tempdir().unwrap();
    for sub in [
        "demo",
        "create",
        "ingest",
        "search",
        "sql",
        "delete",
        "compact",
        "expire",
        "info",
        "history",
        "inspect",
        "resume-indexing",
        "vacuum",
        "tables",
    ] {
        let help = ok(dir.path(), &[sub, "--help"]);
        assert!(help.contains("Example"), "{sub} --help has no example:\n{help}");
        assert!(help.contains("--warehouse"), "{sub} --help names the lake flags");
    }
    // Usage errors are one line too.
    fails(dir.path(), &["search"], 2, "<TABLE>");
    fails(dir.path(), &["frobnicate"], 2, "frobnicate");
    let top = ok(dir.path(), &["--help"]);
    assert!(top.contains("demo") && top.contains("ingest") && top.contains("search"));
}

/// The number before `label` in `ailake info`'s shards line.
fn shards(info: &str, label: &str) -> usize {
    let line = info.lines().find(|l| l.starts_with("shards")).unwrap();
    let before = &line[..line.find(label).unwrap()];
    before.split_whitespace().last().unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_indexing_builds_what_a_no_wait_ingest_left_pending() {
    let dir = tempfile::tempdir().unwrap();
    let (wh, input) = table_and_input(dir.path());
    // The process exits right after its commit; the 4,000-row HNSW build it started dies with it.
    let out = ok(&wh, &["ingest", "docs.t", input.to_str().unwrap(), "--index", "deferred", "--no-wait"]);
    assert!(out.contains("ailake resume-indexing docs.t"), "{out}");
    let info = ok(&wh, &["info", "docs.t"]);
    assert_eq!(shards(&info, "pending"), 1, "{info}");
    // Searching a pending shard is exact.
    let like = ok(&wh, &["search", "docs.t", "--like", "5", "-k", "1", "--format", "csv", "--columns", "id"]);
    assert!(like.starts_with("id,_distance\n5,"), "{like}");
    let out = ok(&wh, &["resume-indexing", "docs.t"]);
    assert!(out.contains("indexed 1 pending file in"), "{out}");
    let info = ok(&wh, &["info", "docs.t"]);
    assert_eq!((shards(&info, "indexed"), shards(&info, "pending")), (1, 0), "{info}");
    assert_eq!(live_ids(&wh, "docs.t").await, (0..4000).collect::<Vec<_>>());
}

/// CSV attributes are matched to the table's columns by header name, not by position; a
/// header naming an unknown column, or missing one, is refused with nothing written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_attributes_are_matched_by_header_name() {
    let dir = tempfile::tempdir().unwrap();
    let wh = dir.path().join("wh");
    create(&wh);
    let s = sample();
    let npy = dir.path().join("v.npy");
    write_npy(&npy, &Matrix { dim: 384, data: s.base.data[..20 * 384].to_vec() });
    let csv = dir.path().join("rows.csv");
    let mut text = String::from("text,id\n");
    for i in 0..20 {
        text.push_str(&format!("\"row {i}\",{i}\n"));
    }
    std::fs::write(&csv, text).unwrap();
    let (v, c) = (npy.to_str().unwrap(), csv.to_str().unwrap());
    for header in ["ID,foo", "id", "id,text,id"] {
        let bad = dir.path().join("bad.csv");
        std::fs::write(&bad, format!("{header}\n1,x\n")).unwrap();
        fails(&wh, &["ingest", "docs.t", v, "--attributes", bad.to_str().unwrap()], 2, "header");
    }
    assert!(snapshot(&wh, "docs.t").await.is_none(), "nothing committed");
    ok(&wh, &["ingest", "docs.t", v, "--attributes", c]);
    let out =
        ok(&wh, &["search", "docs.t", "--like", "7", "-k", "1", "--format", "csv", "--columns", "id,text"]);
    assert!(out.lines().nth(1).unwrap().starts_with("7,row 7"), "{out}");
}
