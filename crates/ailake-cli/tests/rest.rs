//! The `ailake` binary on an Iceberg REST catalog (rustberg, started by the test): `--catalog
//! http://…` with the token from `AILAKE_CATALOG_TOKEN`; create → ingest → search → info,
//! and refused credentials as exit 7 with one line that never shows the token.

mod support;

use std::process::{Command, Output};

use ailk_testkit::rustberg::Rustberg;
use support::*;

fn rest(server: &Rustberg, token: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ailake"))
        .args(["--catalog", &server.url])
        .args(args)
        .env("AILAKE_CATALOG_TOKEN", token)
        .env_remove("AILAKE_WAREHOUSE")
        .env_remove("RUST_LOG")
        .output()
        .expect("the ailake binary runs")
}

fn rest_ok(server: &Rustberg, args: &[&str]) -> String {
    let out = rest(server, &server.key, args);
    assert!(
        out.status.success(),
        "ailake {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_works_a_table_through_a_rest_catalog() {
    let dir = tempfile::tempdir().unwrap();
    let server = Rustberg::start(dir.path());
    let s = sample();
    let columns = ["--column", "id:int64!", "--column", "text:string"];
    rest_ok(&server, &[&["create", "docs.t", "--vector", "embedding:384:cosine"][..], &columns].concat());
    let parquet = dir.path().join("rows.parquet");
    write_parquet(&parquet, &list_batch(&s, 0..500));
    let out = rest_ok(&server, &["ingest", "docs.t", parquet.to_str().unwrap()]);
    assert!(out.contains("500 rows written"), "{out}");
    let found = rest_ok(&server, &["search", "docs.t", "--like", "7", "-k", "3", "--format", "json"]);
    let rows: serde_json::Value = serde_json::from_str(&found).unwrap();
    assert_eq!(rows[0]["id"], 7, "{found}");
    let info = rest_ok(&server, &["info", "docs.t"]);
    assert!(info.contains("500"), "{info}");
    // The files are in the server's warehouse.
    let files = std::fs::read_dir(server.warehouse.join("docs/t/data")).unwrap().count();
    assert!(files >= 1);

    let refused = rest(&server, "rb_wrong-token-0000", &["info", "docs.t"]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(7), "{stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].starts_with("error: ") && lines[0].contains("401"), "{stderr}");
    assert!(!stderr.contains("rb_wrong"), "{stderr}");
}
