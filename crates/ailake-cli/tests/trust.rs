//! What a new user meets on the command line, item by item: counts that are right (history
//! after position deletes, the printed pyiceberg / DuckDB lines after deletes and compaction),
//! mistakes refused in words (a number against a string column, counts of 0 or -1, a
//! duplicated `--like` id), the existing table shown by `create --if-not-exists`, the URIs the
//! tool prints accepted back, one exit code for a missing file, and clean text in pipes.

mod support;

use std::path::Path;

use serde_json::Value;
use support::*;

/// The table `docs.t` with the sample's 4,000 rows ingested in batches of `batch_rows`.
fn ingested(dir: &Path, batch_rows: &str) -> std::path::PathBuf {
    let (wh, input) = table_and_input(dir);
    ok(&wh, &["ingest", "docs.t", input.to_str().unwrap(), "--batch-rows", batch_rows]);
    wh
}

/// Stdout and stderr of a successful run.
fn ok_both(wh: &Path, args: &[&str]) -> (String, String) {
    let out = run(wh, args);
    let (stdout, stderr) =
        (String::from_utf8_lossy(&out.stdout).to_string(), String::from_utf8_lossy(&out.stderr).to_string());
    assert!(out.status.success(), "ailake {args:?}: {stderr}");
    (stdout, stderr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_counts_rows_removed_by_position_deletes() {
    let dir = tempfile::tempdir().unwrap();
    let wh = ingested(dir.path(), "2000");
    ok(&wh, &["delete", "docs.t", "--filter", "id < 10"]);
    let text = ok(&wh, &["history", "docs.t"]);
    let last = text.lines().last().unwrap();
    let cells: Vec<&str> = last.split_whitespace().collect();
    // snapshot, parent, date, time, operation, +rows, -rows, live rows, batch ids, (current)
    assert_eq!(&cells[4..8], ["delete", "0", "10", "3990"], "{text}");
    let json: Value = serde_json::from_str(&ok(&wh, &["history", "docs.t", "--json"])).unwrap();
    let snapshots = json.as_array().unwrap();
    assert_eq!(snapshots.len(), 2);
    let (append, delete) = (&snapshots[0], &snapshots[1]);
    assert_eq!((append["operation"].as_str(), append["added_rows"].as_u64()), (Some("append"), Some(4000)));
    assert_eq!(delete["removed_rows"].as_u64(), Some(10));
    assert_eq!(delete["live_rows"].as_u64(), Some(3990));
    assert_eq!((append["current"].as_bool(), delete["current"].as_bool()), (Some(false), Some(true)));
    assert_eq!(delete["parent_id"], append["snapshot_id"]);
}

/// Runs one `python -c "…"` line as printed, by the shell, with the test Python as `python`.
fn run_printed(line: &str) -> String {
    let line = line.trim();
    let command = line.strip_prefix("python ").unwrap_or_else(|| panic!("not a python line: {line}"));
    let python = ailk_testkit::python();
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!("'{}' {command}", python.display()))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{line}\nfailed: {stderr}");
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// The last whole number in `text` (the count both readers print last).
fn last_number(text: &str) -> u64 {
    let numbers: Vec<u64> =
        text.split(|c: char| !c.is_ascii_digit()).filter_map(|w| w.parse().ok()).collect();
    *numbers.last().unwrap_or_else(|| panic!("no number in {text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn printed_reader_commands_count_the_live_rows_after_deletes_and_compaction() {
    let dir = tempfile::tempdir().unwrap();
    let wh = ingested(dir.path(), "500");
    ok(&wh, &["delete", "docs.t", "--filter", "id < 40"]);
    ok(&wh, &["compact", "docs.t", "--target-rows", "2000"]);
    // Position deletes on the compacted files; the replaced files stay in data/ too.
    ok(&wh, &["delete", "docs.t", "--filter", "id >= 3900 OR id = 1234"]);
    let files_in_data = std::fs::read_dir(wh.join("docs/t/data")).unwrap().count();
    let info = ok(&wh, &["info", "docs.t"]);
    assert!(info.contains("rows       3859 "), "{info}");
    let pyiceberg = info.lines().find(|l| l.contains("pyiceberg.catalog.sql")).unwrap();
    let duckdb = info.lines().find(|l| l.contains("import duckdb")).unwrap();
    assert!(!duckdb.contains("*.parquet"), "no glob of the data directory: {duckdb}");
    assert_eq!(last_number(&run_printed(pyiceberg)), 3859, "{pyiceberg}");
    assert_eq!(last_number(&run_printed(duckdb)), 3859, "{duckdb}");
    assert!(files_in_data > 10, "the glob the demo used to print would count {files_in_data} files");
    // Scripts get the same facts as JSON.
    let json: Value = serde_json::from_str(&ok(&wh, &["info", "docs.t", "--json"])).unwrap();
    assert_eq!(json["live_rows"].as_u64(), Some(3859));
    assert_eq!(json["deleted_rows"].as_u64(), Some(101), "the first 40 were purged by the compaction");
    assert_eq!(json["vector_columns"][0]["metric"].as_str(), Some("cosine"));
    assert_eq!(json["columns"][0], serde_json::json!({"name": "id", "type": "int64", "required": true}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_number_compared_with_a_string_column_is_an_error_not_an_empty_answer() {
    let dir = tempfile::tempdir().unwrap();
    let wh = ingested(dir.path(), "4000");
    let before = snapshot(&wh, "docs.t").await;
    let line = fails(&wh, &["search", "docs.t", "--like", "3", "--filter", "text = 5"], 2, "quote it ('5')");
    assert!(line.contains("text (string)"), "{line}");
    fails(&wh, &["delete", "docs.t", "--filter", "text = 5 OR id = 1"], 2, "quote it");
    // A string against a number column names both in the words of `create`, no Arrow debug text.
    let line = fails(&wh, &["search", "docs.t", "--like", "3", "--filter", "id = 'abc'"], 2, "id (int64)");
    assert!(line.contains("'abc'") && !line.contains("Str(") && !line.contains("Int64"), "{line}");
    assert_eq!(snapshot(&wh, "docs.t").await, before, "nothing committed");
    // The quoted form is a valid filter that matches nothing.
    let out = ok(&wh, &["search", "docs.t", "--like", "3", "--filter", "text = '5'", "--format", "json"]);
    assert_eq!(out.trim(), "[]");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_if_not_exists_shows_the_existing_table_and_says_when_it_differs() {
    let dir = tempfile::tempdir().unwrap();
    let wh = dir.path().join("wh");
    let first = ok(&wh, &["create", "docs.t", "--vector", "embedding:384:cosine", "--column", "id:int64!"]);
    assert!(
        first.contains("vector embedding: 384 × float32, cosine")
            && first.contains("column id: int64 not null")
    );
    let same =
        ["create", "docs.t", "--vector", "embedding:384:cosine", "--column", "id:int64!", "--if-not-exists"];
    let (stdout, stderr) = ok_both(&wh, &same);
    assert!(stdout.contains("already exists") && stdout.contains("column id: int64 not null"), "{stdout}");
    assert!(stderr.is_empty(), "no warning when the schemas agree: {stderr}");
    let other = ["create", "docs.t", "--vector", "v:8:l2", "--column", "name:string", "--if-not-exists"];
    let (stdout, stderr) = ok_both(&wh, &other);
    assert!(stdout.contains("vector embedding: 384 × float32, cosine"), "the existing table: {stdout}");
    assert!(!stdout.contains("name"), "not the schema asked for: {stdout}");
    assert!(stderr.starts_with("warning: docs.t exists with other columns than asked"), "{stderr}");
    assert!(stderr.contains("vector v: 8 × float32, l2"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inspect_takes_the_uris_the_tool_prints_and_a_missing_file_is_not_found_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let wh = ingested(dir.path(), "4000");
    let json: Value = serde_json::from_str(&ok(&wh, &["history", "docs.t", "--json"])).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 1);
    let data = std::fs::read_dir(wh.join("docs/t/data")).unwrap().next().unwrap().unwrap().path();
    let uri = format!("file://{}", data.canonicalize().unwrap().display());
    let out = ok(&wh, &["inspect", &uri]);
    assert!(out.contains("AILK") && out.contains("checksums   ok"), "{out}");
    let missing = dir.path().join("nope.parquet");
    let missing = missing.to_str().unwrap();
    for args in [vec!["inspect", missing], vec!["ingest", "docs.t", missing]] {
        let line = fails(&wh, &args, 3, "no such file");
        assert_eq!(line.matches(missing).count(), 1, "the path once: {line}");
    }
    fails(&wh, &["inspect", "s3://bucket/x.parquet"], 2, "local files");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_and_ids_are_refused_in_words() {
    let dir = tempfile::tempdir().unwrap();
    let (wh, input) = table_and_input(dir.path());
    let input = input.to_str().unwrap();
    let line = fails(&wh, &["ingest", "docs.t", input, "--batch-rows", "0"], 2, "at least 1");
    assert!(!line.contains("18446744073709551615"), "{line}");
    for k in ["-1", "0"] {
        let line = fails(&wh, &["search", "docs.t", "--like", "1", "-k", k], 2, "at least 1");
        assert!(!line.contains("-- -1"), "{line}");
    }
    fails(&wh, &["search", "docs.t", "--like", "1", "-k", "100001"], 2, "at most 100000");
    // Two rows with id 7: --like cannot pick one.
    let s = sample();
    let twice = dir.path().join("twice.parquet");
    write_parquet(&twice, &list_batch(&s, 7..8));
    ok(&wh, &["ingest", "docs.t", input, twice.to_str().unwrap()]);
    fails(&wh, &["search", "docs.t", "--like", "7"], 2, "more than one row has id = 7");
    fails(&wh, &["search", "docs.t", "--like", "x7"], 2, "id holds integers");
    // --columns with spaces after the commas.
    let out =
        ok(&wh, &["search", "docs.t", "--like", "8", "-k", "1", "--columns", "id, text", "--format", "csv"]);
    assert!(out.starts_with("id,text,_distance\n8,"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipes_get_plain_words_without_bars_colours_or_debug_text() {
    let dir = tempfile::tempdir().unwrap();
    let wh = dir.path().join("wh");
    let (demo, demo_err) = ok_both(&wh, &["-v", "demo", "--rows", "1000", "--queries", "1"]);
    for debug in ["Some(", "CounterSnapshot", "{ ", "1 queries"] {
        assert!(!demo.contains(debug), "debug text {debug:?} in the demo: {demo}");
    }
    assert!(demo.contains("over 1 query:"), "{demo}");
    assert!(!demo_err.contains('\u{1b}'), "colour escapes in a pipe: {demo_err:?}");
    assert!(demo_err.contains("INFO"), "-v logs: {demo_err}");
    let (_, search_err) = ok_both(&wh, &["search", "docs.debian", "--like", "3", "-k", "2"]);
    assert!(search_err.starts_with("1 query on snapshot"), "{search_err}");
    // Every long command, piped: results on stdout, no progress bar or carriage return.
    let table = ["docs.debian"];
    for args in [
        vec!["compact", table[0], "--target-rows", "500"],
        vec!["expire", table[0], "--older-than", "0s", "--retain-last", "1"],
        vec!["vacuum", table[0], "--older-than", "0s"],
        vec!["resume-indexing", table[0]],
    ] {
        let (stdout, stderr) = ok_both(&wh, &args);
        assert!(!stdout.is_empty(), "{args:?} said nothing");
        for noise in ['\r', '\u{1b}'] {
            assert!(!stdout.contains(noise) && !stderr.contains(noise), "{args:?}: {stdout:?} {stderr:?}");
        }
        assert!(!stderr.contains("eta"), "{args:?} drew a bar into a pipe: {stderr}");
    }
    let help = ok(&wh, &["search", "--help"]);
    assert!(help.contains("squared Euclidean"), "{help}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_pipe_ends_the_output_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let wh = dir.path().join("wh");
    ok(&wh, &["demo", "--rows", "400", "--queries", "1"]);
    // `ailake history … | head -1` with a reader that stops at once, many times over.
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "for i in $(seq 20); do '{}' --warehouse '{}' info docs.debian | head -c 1 > /dev/null; done",
            env!("CARGO_BIN_EXE_ailake"),
            wh.display()
        ))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked") && !stderr.contains("Broken pipe"), "{stderr}");
}

#[cfg(feature = "sql")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_aggregates_joins_and_searches_from_the_shell() {
    let dir = tempfile::tempdir().unwrap();
    let wh = ingested(dir.path(), "1000");
    ok(&wh, &["delete", "docs.t", "--filter", "id < 10"]);
    let count = ok(&wh, &["sql", "SELECT count(*) AS n FROM t", "--table", "docs.t", "--format", "json"]);
    let rows: Value = serde_json::from_str(&count).unwrap();
    assert_eq!(rows[0]["n"].as_i64(), Some(3990), "deleted rows are not counted: {count}");
    // vector_search with the stored vector of row 42: the row itself comes first.
    let s = sample();
    let query: Vec<String> = s.base.row(42).iter().map(|v| v.to_string()).collect();
    let search = format!(
        "SELECT v.id, v._distance FROM vector_search('t', 'embedding', [{}], 3) v JOIN t ON t.id = v.id ORDER BY v._distance",
        query.join(", ")
    );
    let out = ok(&wh, &["sql", &search, "--table", "docs.t", "--format", "csv"]);
    assert!(out.starts_with("id,_distance\n42,"), "{out}");
    assert_eq!(out.lines().count(), 4, "{out}");
    // An alias; bad SQL and an unknown table are one line each.
    let aliased =
        ok(&wh, &["sql", "SELECT max(id) AS m FROM chunks", "--table", "docs.t=chunks", "--format", "csv"]);
    assert_eq!(aliased, "m\n3999\n");
    fails(&wh, &["sql", "SELEKT 1", "--table", "docs.t"], 2, "SELEKT");
    fails(&wh, &["sql", "SELECT * FROM nope", "--table", "docs.t"], 2, "nope");
    fails(&wh, &["sql", "SELECT 1", "--table", "docs.nope"], 3, "docs.nope");
}
