//! SQL scans of an ailake table: every live row once (position deletes honoured), projection,
//! filters pruning data files by their Iceberg bounds and row groups by their Parquet
//! statistics (with the same rows as no pruning), vector columns as lists, time travel with
//! `ailake_scan`, and files another engine (pyiceberg) appended.

mod support;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use ailake::prelude::*;
use ailake_datafusion::AilakeScanExec;
use arrow_array::{Array, FixedSizeListArray, Float32Array};
use datafusion::physical_plan::{collect, ExecutionPlan};
use support::*;

const ROWS: usize = 4000;

/// The scan node of `plan`.
fn scan_node(plan: &Arc<dyn ExecutionPlan>) -> Option<Arc<dyn ExecutionPlan>> {
    if plan.as_any().downcast_ref::<AilakeScanExec>().is_some() {
        return Some(plan.clone());
    }
    plan.children().into_iter().find_map(scan_node)
}

fn metric(plan: &Arc<dyn ExecutionPlan>, name: &str) -> usize {
    plan.metrics().and_then(|m| m.sum_by_name(name)).map_or(0, |v| v.as_usize())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scans_read_every_live_row_once_and_prune_files() {
    let dir = tempfile::tempdir().unwrap();
    let table = table(dir.path(), "t", ROWS, Metric::L2).await;
    let first = table.snapshot_id().unwrap();
    table.delete(&Filter::parse("n = 7 OR id < 30").unwrap()).await.unwrap();
    let table = table.refresh().await.unwrap();
    let live: Vec<i64> = (0..ROWS as i64).filter(|i| i % 100 != 7 && *i >= 30).collect();
    for partitions in [1, 3] {
        let ctx = context(&table, partitions).await;
        let got = run(&ctx, "SELECT id FROM t ORDER BY id").await;
        assert_eq!(i64s(&got, "id"), live);
        let got = run(&ctx, "SELECT count(*) AS c, sum(n) AS s FROM t WHERE lang = 'de'").await;
        let de: Vec<&i64> = live.iter().filter(|&&i| lang(i as usize) == "de").collect();
        assert_eq!(i64s(&got, "c"), vec![de.len() as i64]);
        assert_eq!(i64s(&got, "s"), vec![de.iter().map(|&&i| i % 100).sum::<i64>()]);
    }
    let ctx = context(&table, 2).await;
    // A range of ids: the files whose bounds exclude it are never opened.
    let df = ctx.sql("SELECT id, lang FROM t WHERE id >= 1210 AND id < 1290 ORDER BY id").await.unwrap();
    let plan = df.create_physical_plan().await.unwrap();
    let scan = scan_node(&plan).unwrap();
    let groups = scan.as_any().downcast_ref::<AilakeScanExec>().unwrap().file_groups().to_vec();
    assert_eq!(groups.iter().map(Vec::len).sum::<usize>(), 1, "{groups:?}");
    let rows = collect(plan.clone(), ctx.task_ctx()).await.unwrap();
    let got: Vec<i64> = rows.iter().flat_map(|b| i64s(b, "id")).collect();
    assert_eq!(got, live.iter().copied().filter(|i| (1210..1290).contains(i)).collect::<Vec<_>>());
    assert_eq!(metric(&scan, "files_read"), 1);
    assert_eq!(metric(&scan, "rows_deleted"), 5, "rows 1207, 1307, 1407.. of the file: n = 7");
    // The projection reads only what is asked; a vector column comes back as its list.
    let got = run(&ctx, "SELECT embedding FROM t WHERE id = 2345").await;
    assert_eq!(got.num_columns(), 1);
    let list = got.column(0).as_any().downcast_ref::<FixedSizeListArray>().unwrap();
    let values = list.value(0);
    let values = values.as_any().downcast_ref::<Float32Array>().unwrap();
    assert_eq!(values.values().to_vec(), vectors(ROWS)[2345 * DIM as usize..][..DIM as usize].to_vec());
    // Time travel: the first snapshot has every row, the delete's snapshot not.
    let got = run(&ctx, &format!("SELECT count(*) AS c FROM ailake_scan('t', {first})")).await;
    assert_eq!(i64s(&got, "c"), vec![ROWS as i64]);
    let got = run(&ctx, "SELECT count(*) AS c FROM t WHERE id < 30").await;
    assert_eq!(i64s(&got, "c"), vec![0]);
}

fn pyiceberg_append(dir: &Path, ids: std::ops::Range<usize>, row_group: usize) -> i64 {
    let all = vectors(ids.end);
    let d = DIM as usize;
    let rows: Vec<serde_json::Value> = ids
        .map(|i| {
            let v = &all[i * d..][..d];
            serde_json::json!({"id": i, "lang": lang(i), "n": i % 100, "embedding": v})
        })
        .collect();
    let file = dir.join("rows.json");
    std::fs::write(&file, serde_json::to_vec(&rows).unwrap()).unwrap();
    let root = format!("file://{}", dir.join("warehouse").canonicalize().unwrap().display());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/append_rows.py");
    let out = Command::new(python())
        .arg(script)
        .arg(dir.join("catalog.db"))
        .arg(&root)
        .arg("docs.t")
        .arg(&file)
        .arg(row_group.to_string())
        .output()
        .unwrap();
    assert!(out.status.success(), "pyiceberg: {}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    json["count"].as_i64().unwrap()
}

/// pyiceberg appends a file of small row groups: SQL reads it with ailake's own files, the
/// counts agree with pyiceberg's, and a range filter skips the row groups outside it while
/// returning exactly the rows of an unpruned read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row_groups_of_another_engines_files_are_pruned_by_their_statistics() {
    let dir = tempfile::tempdir().unwrap();
    table(dir.path(), "t", 1000, Metric::L2).await;
    let count = pyiceberg_append(dir.path(), 1000..2000, 100);
    assert_eq!(count, 2000);
    let table = catalog(dir.path()).await.load_table(&TableIdent::new("docs", "t").unwrap()).await.unwrap();
    let ctx = context(&table, 2).await;
    let got = run(&ctx, "SELECT count(*) AS c FROM t").await;
    assert_eq!(i64s(&got, "c"), vec![count]);
    let df =
        ctx.sql("SELECT id FROM t WHERE id >= 1250 AND id < 1420 AND lang = 'en' ORDER BY id").await.unwrap();
    let plan = df.create_physical_plan().await.unwrap();
    let rows = collect(plan.clone(), ctx.task_ctx()).await.unwrap();
    let got: Vec<i64> = rows.iter().flat_map(|b| i64s(b, "id")).collect();
    let want: Vec<i64> = (1250..1420).filter(|&i| lang(i as usize) == "en").collect();
    assert_eq!(got, want);
    let scan = scan_node(&plan).unwrap();
    // The foreign file has 10 row groups of 100 ids; 1250..1420 touches 3 of them.
    assert_eq!(metric(&scan, "files_read"), 1, "ailake's file (ids < 1000) is pruned by its bounds");
    assert_eq!(metric(&scan, "row_groups_pruned"), 7);
    // The vector search reads the foreign file too (by exact scan: it has no index yet).
    let (literal, _) = sql_vector(&vectors(1500)[1499 * DIM as usize..][..DIM as usize]);
    let got = run(&ctx, &format!("SELECT id FROM vector_search('t', 'embedding', {literal}, 1)")).await;
    assert_eq!(i64s(&got, "id"), vec![1499]);
}
