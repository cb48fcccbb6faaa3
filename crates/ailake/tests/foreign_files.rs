//! One table, many writers: pyiceberg (the other engine) appends files without AILK sections
//! and with the vector column as a Parquet list (one row of the wrong length among them),
//! evolves the schema and deletes rows copy-on-write, interleaved with ailake's own writes.
//! After every step our search equals exact search over the rows pyiceberg reads, and counts
//! agree; `resume_indexing` then indexes the foreign files.

mod support;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use ailake::prelude::*;
use support::*;

/// Runs `foreign_writes.py COMMAND ARG` on `docs.t` under `dir`; returns stdout.
fn pyiceberg(dir: &Path, command: &str, arg: Option<&str>) -> String {
    let root = format!("file://{}", dir.join("warehouse").canonicalize().unwrap().display());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/foreign_writes.py");
    let mut c = Command::new(python());
    c.arg(script).arg(dir.join("catalog.db")).arg(&root).arg("docs.t").arg(command);
    if let Some(a) = arg {
        c.arg(a);
    }
    let out = c.output().unwrap();
    assert!(out.status.success(), "pyiceberg {command} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// pyiceberg appends rows `ids` (vectors as JSON lists); `short` rows get one value too few.
fn foreign_append(dir: &Path, ids: std::ops::Range<usize>, short: &[usize]) {
    let values = vectors(ids.clone(), DIM);
    let rows: Vec<serde_json::Value> = ids
        .clone()
        .zip(values.chunks_exact(DIM as usize))
        .map(|(i, v)| {
            let v = if short.contains(&i) { &v[1..] } else { v };
            serde_json::json!({"id": i, "text": format!("doc {i}"), "embedding": v})
        })
        .collect();
    let file = dir.join(format!("rows-{}.json", ids.start));
    std::fs::write(&file, serde_json::to_vec(&rows).unwrap()).unwrap();
    pyiceberg(dir, "append", Some(file.to_str().unwrap()));
}

fn pyiceberg_read(dir: &Path) -> Vec<i64> {
    let json: serde_json::Value = serde_json::from_str(&pyiceberg(dir, "read", None)).unwrap();
    json["ids"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect()
}

/// Our search against exact search over `valid` rows, for queries taken from `queries`:
/// identical ids when every shard is scanned exactly (a filter matching every row), recall ≥
/// 0.9 through the indexes, and never a row without a usable vector.
async fn check(table: &Table, valid: &[usize], queries: &[usize], never: &[i64]) {
    let session = table.refresh().await.unwrap().search().await.unwrap();
    let indexed = SearchParams { ef: Some(400), prune: false, ..Default::default() };
    let exact_scan = SearchParams {
        filter: Some(Filter::cmp("id", ailake::Op::Ge, 0i64)),
        filter_strategy: ailake::FilterStrategy::Exact,
        ..indexed.clone()
    };
    let all = vectors(0..valid.iter().max().unwrap() + 1, DIM);
    let row = |i: usize| &all[i * DIM as usize..(i + 1) * DIM as usize];
    let (mut hits, mut total) = (0, 0);
    for &q in queries {
        let mut scored: Vec<(f32, i64)> = valid
            .iter()
            .map(|&i| (row(i).iter().zip(row(q)).map(|(a, b)| (a - b) * (a - b)).sum::<f32>(), i as i64))
            .collect();
        scored.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let truth: Vec<i64> = scored.into_iter().take(10).map(|(_, i)| i).collect();
        let exact = ids(&session.search(row(q), 10, &exact_scan).await.unwrap());
        let (mut e, mut t) = (exact.clone(), truth.clone());
        e.sort_unstable();
        t.sort_unstable();
        assert_eq!(e, t, "query {q}: exact scan {exact:?}, brute force {truth:?}");
        let got = ids(&session.search(row(q), 10, &indexed).await.unwrap());
        hits += got.iter().filter(|g| truth.contains(g)).count();
        total += truth.len();
        assert!(got.iter().chain(&exact).all(|i| !never.contains(i)), "an invalid row was returned: {got:?}");
    }
    assert!(hits as f64 >= 0.9 * total as f64, "recall through the indexes {hits}/{total}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_and_index_what_other_engines_write() {
    let dir = tempfile::tempdir().unwrap();
    let t = table(dir.path(), "t").await;
    // 1. ailake writes rows 0..300 (HNSW) and commits.
    let w = t.writer(WritePolicy::default()).unwrap();
    w.write(&batch(0..300), &WriteOptions::default().batch_id("first")).await.unwrap();
    w.commit().await.unwrap();
    // 2. pyiceberg appends rows 300..350 as a list column, row 310 one value short.
    foreign_append(dir.path(), 300..350, &[310]);
    let t = t.refresh().await.unwrap();
    let mut valid: Vec<usize> = (0..350).filter(|&i| i != 310).collect();
    check(&t, &valid, &[0, 305, 320, 349], &[310]).await;
    let s = t.search().await.unwrap();
    s.search(&vectors(0..1, DIM), 10, &SearchParams { prune: false, ..Default::default() }).await.unwrap();
    assert_eq!(s.counters().rows_without_vector, 1, "{:?}", s.counters());
    // Its own vector finds the foreign row first; the short row is never returned even then.
    let v320 = vectors(320..321, DIM);
    let hit = s.search(&v320, 1, &SearchParams::default()).await.unwrap();
    assert_eq!(ids(&hit), [320]);
    // 3. ailake appends again (deferred) on top of the foreign snapshot; a retry of the first
    //    batch id is recognised through it (the lineage walk crosses foreign snapshots).
    let w = t.writer(WritePolicy::default()).unwrap();
    let retry = w.write(&batch(0..300), &WriteOptions::default().batch_id("first")).await.unwrap();
    assert!(retry.is_none(), "batch id `first` was committed before the foreign snapshot");
    w.write(&batch(350..450), &WriteOptions::default().deferred()).await.unwrap();
    w.commit().await.unwrap();
    w.wait_indexed().await.unwrap();
    valid.extend(350..450);
    let t = t.refresh().await.unwrap();
    check(&t, &valid, &[1, 330, 400], &[310]).await;
    let mut read = pyiceberg_read(dir.path());
    read.retain(|&i| i != 310);
    assert_eq!(read, valid.iter().map(|&i| i as i64).collect::<Vec<_>>(), "pyiceberg and we agree");

    // 4. pyiceberg evolves the schema (a new column, a rename) and appends again.
    pyiceberg(dir.path(), "add-column", Some("lang"));
    pyiceberg(dir.path(), "rename", Some("text:body"));
    foreign_append_renamed(dir.path(), 450..480);
    valid.extend(450..480);
    let t = t.refresh().await.unwrap();
    check(&t, &valid, &[2, 460], &[310]).await;
    // Our writer follows the evolved schema: the old column name is refused by name.
    let err = t
        .writer(WritePolicy::default())
        .unwrap()
        .write(&batch(480..490), &WriteOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert!(err.to_string().contains("text"), "{err}");
    let s = t.search().await.unwrap();
    let got = s.search(&vectors(5..6, DIM), 3, &SearchParams::default()).await.unwrap();
    let body = got.column_by_name("body").expect("the renamed column, read by field id from old files");
    assert_eq!(body.as_any().downcast_ref::<arrow_array::StringArray>().unwrap().value(0), "doc 5");
    assert_eq!(got.column_by_name("lang").unwrap().null_count(), 3, "files predating the column read null");

    // 5. pyiceberg deletes rows 0..20 (copy-on-write: our first file is rewritten by it).
    pyiceberg(dir.path(), "delete", Some("id < 20"));
    valid.retain(|&i| i >= 20);
    let t = t.refresh().await.unwrap();
    check(&t, &valid, &[25, 310 + 1, 470], &[310]).await;
    let mut read = pyiceberg_read(dir.path());
    read.retain(|&i| i != 310);
    assert_eq!(read, valid.iter().map(|&i| i as i64).collect::<Vec<_>>());

    // 6. resume_indexing indexes the foreign files it can (not the one with the short row),
    //    and a commit after foreign ones carries summaries for every live file.
    let w = t.writer(WritePolicy::default()).unwrap();
    let indexed = w.resume_indexing().await.unwrap();
    assert!(indexed >= 2, "the foreign files without bad rows are indexed: {indexed}");
    let t = t.refresh().await.unwrap();
    let files = t.live_files().await.unwrap();
    let summaries = t.shard_summaries().await.unwrap().expect("summaries after our commits");
    assert_eq!(summaries.len(), files.len(), "a summary for every live file");
    check(&t, &valid, &[30, 320, 455], &[310]).await;
    let mut read = pyiceberg_read(dir.path());
    read.retain(|&i| i != 310);
    assert_eq!(read, valid.iter().map(|&i| i as i64).collect::<Vec<_>>(), "indexing changed no row");

    // 6b. ailake deletes rows (position deletes over our and foreign files) and compacts:
    //     foreign files are rewritten as the current schema sees them (renamed and added
    //     columns by field id), except the one with the short row, which stays as it is.
    t.delete(&Filter::cmp("id", ailake::Op::Ge, 100i64).and(Filter::cmp("id", ailake::Op::Lt, 110i64)))
        .await
        .unwrap();
    t.delete(&Filter::eq("id", 455i64)).await.unwrap();
    valid.retain(|&i| !(100..110).contains(&i) && i != 455);
    let out = t.compact(&CompactOptions { target_rows: 200, ..Default::default() }).await.unwrap();
    assert!(out.files_removed >= 3 && out.deleted_rows_purged == 11, "{out:?}");
    let t = t.refresh().await.unwrap();
    assert!(
        t.live_files()
            .await
            .unwrap()
            .iter()
            .any(|f| f.path() == files.iter().find(|f| f.data_file.record_count() == 50).unwrap().path()),
        "the file with the short row is left as it is"
    );
    check(&t, &valid, &[30, 320, 460], &[310]).await;
    let mut read = pyiceberg_read(dir.path());
    read.retain(|&i| i != 310);
    assert_eq!(read, valid.iter().map(|&i| i as i64).collect::<Vec<_>>(), "compaction changed no live row");
    let files = t.live_files().await.unwrap();

    // 7. A foreign file that cannot be read at all is left out (counted), unless strict.
    let foreign =
        files.iter().find(|f| f.data_file.record_count() == 50).expect("the file with the short row");
    let path = foreign.path().strip_prefix("file://").unwrap().to_string();
    std::fs::write(&path, b"not parquet any more").unwrap();
    // Overwriting a data file in place breaks Iceberg's contract (files are immutable), and
    // the process's shard cache still holds what the file was: a fresh cache stands for the
    // process that meets the malformed file for the first time.
    for t in [t.clone(), t.refresh().await.unwrap()] {
        let s =
            SearchSession::with_cache(&t, Arc::new(ailake::search::ShardCache::new(1 << 30))).await.unwrap();
        // A beam wider than any file: this step is about the unreadable file, not about the
        // recall of a graph the compaction just built (row 40 is found whatever that graph).
        let wide = SearchParams { prune: false, ef: Some(1000), ..Default::default() };
        let got = s.search(&vectors(40..41, DIM), 5, &wide).await.unwrap();
        assert_eq!(ids(&got)[0], 40);
        assert_eq!(s.counters().shards_skipped, 1, "{:?}", s.counters());
        let strict = SearchParams { strict: true, prune: false, ..Default::default() };
        let err = s.search(&vectors(40..41, DIM), 5, &strict).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    }

    // 8. A writer opened before another engine drops a column its files hold: the commit is
    //    refused (Conflict, naming the column) and nothing lands.
    let t = t.refresh().await.unwrap();
    let stale = t.writer(WritePolicy::default()).unwrap();
    stale.write(&evolved_batch(500..510), &WriteOptions::default()).await.unwrap();
    pyiceberg(dir.path(), "drop", Some("lang"));
    let before = t.refresh().await.unwrap().snapshot_id();
    let err = stale.commit().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    assert!(err.to_string().contains("lang") && !err.is_retryable(), "{err}");
    assert_eq!(t.refresh().await.unwrap().snapshot_id(), before);
    // Re-opened on the new schema, the same rows commit.
    let fresh = t.refresh().await.unwrap().writer(WritePolicy::default()).unwrap();
    let mut b = evolved_batch(500..510);
    b.remove_column(2);
    fresh.write(&b, &WriteOptions::default()).await.unwrap();
    fresh.commit().await.unwrap();
}

/// Rows `ids` in the evolved schema: `id`, `body`, `lang`, `embedding`.
fn evolved_batch(ids: std::ops::Range<usize>) -> arrow_array::RecordBatch {
    use std::sync::Arc;
    let base = batch(ids.clone());
    let lang: arrow_array::ArrayRef = Arc::new(arrow_array::StringArray::from_iter_values(ids.map(|_| "en")));
    let schema = arrow_schema::Schema::new(vec![
        arrow_schema::Field::new("id", arrow_schema::DataType::Int64, false),
        arrow_schema::Field::new("body", arrow_schema::DataType::Utf8, true),
        arrow_schema::Field::new("lang", arrow_schema::DataType::Utf8, true),
        base.schema().field(2).clone(),
    ]);
    let columns = vec![base.column(0).clone(), base.column(1).clone(), lang, base.column(2).clone()];
    arrow_array::RecordBatch::try_new(Arc::new(schema), columns).unwrap()
}

/// pyiceberg appends after the rename: the text column is now `body`, plus `lang`.
fn foreign_append_renamed(dir: &Path, ids: std::ops::Range<usize>) {
    let values = vectors(ids.clone(), DIM);
    let rows: Vec<serde_json::Value> = ids
        .clone()
        .zip(values.chunks_exact(DIM as usize))
        .map(|(i, v)| serde_json::json!({"id": i, "body": format!("doc {i}"), "lang": "en", "embedding": v}))
        .collect();
    let file = dir.join(format!("rows-{}.json", ids.start));
    std::fs::write(&file, serde_json::to_vec(&rows).unwrap()).unwrap();
    pyiceberg(dir, "append", Some(file.to_str().unwrap()));
}
