//! `vector_search` in SQL answers exactly as the in-process `SearchSession` (same rows, same
//! distances) at 1, 2 and 4 target partitions, with and without filters, on a table of many
//! files with deletes and on a compacted (partitioned) table; the plan is one search node
//! per group of the shards the query visits and a global merge of their top-k. Bad input is
//! a plan error naming the problem.

mod support;

use std::sync::Arc;

use ailake::prelude::*;
use ailake_datafusion::VectorSearchExec;
use datafusion::error::DataFusionError;
use datafusion::physical_plan::{collect, ExecutionPlan};
use datafusion::prelude::SessionContext;
use support::*;

const ROWS: usize = 4000;

/// Every `VectorSearchExec` of `plan`.
fn search_nodes(plan: &Arc<dyn ExecutionPlan>, out: &mut Vec<Vec<Vec<String>>>) {
    if let Some(s) = plan.as_any().downcast_ref::<VectorSearchExec>() {
        out.push(s.shard_groups().to_vec());
    }
    for c in plan.children() {
        search_nodes(c, out);
    }
}

/// The SQL answer and the session's for each of `queries` under `where_sql` / `filter`, with
/// clustered files searched through their partition blocks or whole. The
/// block path picks candidates across the files one search is given, so a plan that splits
/// the files over partitions answers a little differently (each part re-ranks its own
/// candidates); the whole-file path answers identically however the files are split.
async fn compare(
    ctx: &SessionContext,
    session: &SearchSession,
    queries: &[Vec<f32>],
    k: usize,
    where_sql: &str,
    filter: Option<Filter>,
    blocks: bool,
) {
    for (i, q) in queries.iter().enumerate() {
        let (literal, parsed) = sql_vector(q);
        // Half the queries also sort by distance: the merge's order stands for it.
        let order = if i % 2 == 0 { "ORDER BY _distance" } else { "" };
        let sql =
            format!("SELECT id, lang, _distance FROM vector_search('t', 'embedding', {literal}, {k}, 'blocks={}') {where_sql} {order}", if blocks { "on" } else { "off" });
        let got = run(ctx, &sql).await;
        let params = SearchParams {
            column: Some("embedding".into()),
            projection: Some(vec!["id".into(), "lang".into()]),
            filter: filter.clone(),
            partition_blocks: blocks,
            ..Default::default()
        };
        let want = session.search(&parsed, k, &params).await.unwrap();
        assert_eq!(distances(&got), distances(&want), "{where_sql}");
        let (mut a, mut b) = (i64s(&got, "id"), i64s(&want, "id"));
        a.sort_unstable();
        b.sort_unstable();
        assert_eq!(a, b, "{where_sql}");
        assert_eq!(strings(&got, "lang"), strings(&want, "lang"));
    }
}

fn queries(all: &[f32], n: usize) -> Vec<Vec<f32>> {
    let d = DIM as usize;
    (0..n).map(|i| all[(i * 97 % ROWS) * d..][..d].iter().map(|v| v + 0.01).collect()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_search_equals_the_session_at_every_partition_count() {
    let dir = tempfile::tempdir().unwrap();
    let table = table(dir.path(), "t", ROWS, Metric::L2).await;
    // Deleted rows never come back, through either path.
    let out = table.delete(&Filter::parse("n = 7 OR id < 30").unwrap()).await.unwrap();
    assert!(out.rows_deleted > 0);
    let table = table.refresh().await.unwrap();
    let session = SearchSession::new(&table).await.unwrap();
    let all = vectors(ROWS);
    let qs = queries(&all, 12);
    let cases: [(&str, Option<Filter>); 4] = [
        ("", None),
        ("WHERE lang = 'en'", Some(Filter::eq("lang", "en"))),
        (
            "WHERE n BETWEEN 10 AND 39 AND lang <> 'fr'",
            Some(Filter::parse("n >= 10 AND n <= 39 AND lang != 'fr'").unwrap()),
        ),
        (
            "WHERE n IN (1, 2, 3) OR NOT (lang = 'de' OR lang = 'fr')",
            Some(Filter::parse("n = 1 OR n = 2 OR n = 3 OR (lang != 'de' AND lang != 'fr')").unwrap()),
        ),
    ];
    for partitions in [1, 2, 4] {
        let ctx = context(&table, partitions).await;
        for (where_sql, filter) in &cases {
            compare(&ctx, &session, &qs, 10, where_sql, filter.clone(), true).await;
        }
        // The plan: one search node whose groups split every shard (no partitions: all are
        // visited before pruning), as many groups as target partitions.
        let (literal, _) = sql_vector(&qs[0]);
        let df =
            ctx.sql(&format!("SELECT id FROM vector_search('t', 'embedding', {literal}, 5)")).await.unwrap();
        let plan = df.create_physical_plan().await.unwrap();
        let mut nodes = Vec::new();
        search_nodes(&plan, &mut nodes);
        assert_eq!(nodes.len(), 1);
        assert_eq!(nodes[0].len(), partitions);
        assert_eq!(nodes[0].iter().map(Vec::len).sum::<usize>(), ROWS / FILE_ROWS);
        let rows = collect(plan, ctx.task_ctx()).await.unwrap();
        assert_eq!(rows.iter().map(|b| b.num_rows()).sum::<usize>(), 5);
        for b in &rows {
            assert!(i64s(b, "id").iter().all(|&id| id >= 30 && id % 100 != 7), "a deleted row came back");
        }
    }
    // Filters on `_distance` apply to the k rows found; the SQL layer's own ORDER BY / LIMIT
    // work on the result.
    let ctx = context(&table, 2).await;
    let (literal, parsed) = sql_vector(&qs[1]);
    let want = session
        .search(&parsed, 10, &SearchParams { projection: Some(vec!["id".into()]), ..Default::default() })
        .await
        .unwrap();
    let d = distances(&want);
    assert!(d[4] < d[5]);
    // Between the 5th and 6th distances (a literal is read as f64, the column widened to it).
    let cut = (f64::from(d[4]) + f64::from(d[5])) / 2.0;
    let q = format!("SELECT id, _distance FROM vector_search('t', 'embedding', {literal}, 10) WHERE _distance <= {cut:?} ORDER BY _distance DESC");
    let got = run(&ctx, &q).await;
    let mut expected = d[..5].to_vec();
    expected.reverse();
    assert_eq!(distances(&got), expected);
    let got = run(
        &ctx,
        &format!(
            "SELECT count(*) AS c FROM vector_search('t', 'embedding', {literal}, 10) WHERE lang = 'de'"
        ),
    )
    .await;
    assert_eq!(i64s(&got, "c"), vec![10]);
}

/// After compaction the table has partitions: a query's plan holds only the shards of the
/// partitions it probes, and the answer is still the session's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partitioned_tables_plan_only_the_probed_shards() {
    let dir = tempfile::tempdir().unwrap();
    let table = table(dir.path(), "t", ROWS, Metric::Cosine).await;
    let out = table.compact(&CompactOptions { target_rows: 400, ..Default::default() }).await.unwrap();
    assert!(out.files_added >= 6, "{out:?}");
    let table = table.refresh().await.unwrap();
    let files = table.live_files().await.unwrap().len();
    let session = SearchSession::new(&table).await.unwrap();
    let all = vectors(ROWS);
    let qs = queries(&all, 10);
    let ctx = context(&table, 2).await;
    compare(&ctx, &session, &qs, 10, "", None, false).await;
    compare(
        &ctx,
        &session,
        &qs,
        10,
        "WHERE lang IN ('en', 'de')",
        Some(Filter::parse("lang = 'en' OR lang = 'de'").unwrap()),
        false,
    )
    .await;
    // Through the blocks: nearly the same answers (see `compare`).
    let mut shared = 0;
    for q in &qs {
        let (literal, parsed) = sql_vector(q);
        let got = run(&ctx, &format!("SELECT id FROM vector_search('t', 'embedding', {literal}, 10)")).await;
        let want = session.search(&parsed, 10, &SearchParams::default()).await.unwrap();
        let want = i64s(&want, "id");
        shared += i64s(&got, "id").iter().filter(|i| want.contains(i)).count();
    }
    assert!(shared * 10 >= 9 * 10 * qs.len(), "{shared} of {} shared", 10 * qs.len());
    let mut planned = 0;
    for q in &qs {
        let (literal, _) = sql_vector(q);
        let df = ctx
            .sql(&format!("SELECT id FROM vector_search('t', 'embedding', {literal}, 10, 'probes=4')"))
            .await
            .unwrap();
        let mut nodes = Vec::new();
        search_nodes(&df.create_physical_plan().await.unwrap(), &mut nodes);
        planned += nodes[0].iter().map(Vec::len).sum::<usize>();
    }
    let mean = planned as f64 / qs.len() as f64;
    eprintln!("{files} files, {mean:.1} planned per query with 4 probes");
    assert!(mean < files as f64 * 0.75, "{mean:.1} of {files} shards planned");
}

/// Options reach the search, and time travel searches an older snapshot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn options_and_time_travel() {
    let dir = tempfile::tempdir().unwrap();
    let table = table(dir.path(), "t", 1000, Metric::L2).await;
    let first = table.snapshot_id().unwrap();
    let writer = table.writer(WritePolicy::default()).unwrap();
    let all = vectors(2000);
    writer.write(&batch(1000..2000, &all), &WriteOptions::default()).await.unwrap();
    writer.commit().await.unwrap();
    let table = table.refresh().await.unwrap();
    let ctx = context(&table, 2).await;
    let (literal, parsed) = sql_vector(&all[1500 * DIM as usize..][..DIM as usize]);
    // The newest snapshot finds row 1500 itself; the first one cannot hold it.
    let now =
        run(&ctx, &format!("SELECT id FROM vector_search('t', 'embedding', {literal}, 3, 'ef=64')")).await;
    assert_eq!(i64s(&now, "id")[0], 1500);
    let then = run(&ctx, &format!("SELECT id, _distance FROM vector_search('t', 'embedding', {literal}, 3, 'snapshot={first} ef=64')")).await;
    assert!(i64s(&then, "id").iter().all(|&id| id < 1000));
    let old = SearchSession::new(&table.at_snapshot(first).unwrap()).await.unwrap();
    let want = old.search(&parsed, 3, &SearchParams { ef: Some(64), ..Default::default() }).await.unwrap();
    assert_eq!(distances(&then), distances(&want));
}

/// Each bad input is a plan error that names the problem; nothing panics.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_a_plan_error() {
    let dir = tempfile::tempdir().unwrap();
    let table = table(dir.path(), "t", 600, Metric::L2).await;
    let ctx = context(&table, 2).await;
    let (v, _) = sql_vector(&vectors(1)[..DIM as usize]);
    let cases = [
        (format!("SELECT * FROM vector_search('nope', 'embedding', {v}, 5)"), "unknown table \"nope\""),
        (format!("SELECT * FROM vector_search('t', 'emb', {v}, 5)"), "\"emb\" is not a vector column"),
        (format!("SELECT * FROM vector_search('t', 'lang', {v}, 5)"), "\"lang\" is not a vector column"),
        (
            "SELECT * FROM vector_search('t', 'embedding', [1.0, 2.0], 5)".to_string(),
            "the query has 2 values, column embedding has dimension 32",
        ),
        (
            "SELECT * FROM vector_search('t', 'embedding', ['a', 'b'], 5)".to_string(),
            "array literal of numbers",
        ),
        ("SELECT * FROM vector_search('t', 'embedding', 'x', 5)".to_string(), "array literal of numbers"),
        (format!("SELECT * FROM vector_search('t', 'embedding', {v}, 0)"), "k must be at least 1, got 0"),
        (format!("SELECT * FROM vector_search('t', 'embedding', {v}, -3)"), "k must be at least 1, got -3"),
        (format!("SELECT * FROM vector_search('t', 'embedding', {v}, 2.5)"), "k must be an integer"),
        (format!("SELECT * FROM vector_search('t', 'embedding', {v})"), "takes 4 or 5 arguments"),
        (
            format!("SELECT * FROM vector_search('t', 'embedding', {v}, 5, 'ef=0')"),
            "ef must be a positive integer",
        ),
        (
            format!("SELECT * FROM vector_search('t', 'embedding', {v}, 5, 'speed=11')"),
            "unknown option \"speed\"",
        ),
        (
            format!("SELECT * FROM vector_search('t', 'embedding', {v}, 5, 'blocks=maybe')"),
            "blocks must be on or off",
        ),
        (format!("SELECT * FROM vector_search('t', 'embedding', {v}, 5, 'snapshot=42')"), "42"),
        (format!("SELECT id FROM vector_search('t', 'embedding', {v}, 5) WHERE nope = 1"), "nope"),
        (
            format!("SELECT id FROM vector_search('t', 'embedding', {v}, 5) WHERE lang LIKE 'e%'"),
            "cannot be applied before ranking",
        ),
        (format!("SELECT id FROM vector_search('t', 'embedding', {v}, 5) WHERE n = 'abc'"), "abc"),
        (
            format!("SELECT id FROM vector_search('t', 'embedding', {v}, 5) WHERE embedding IS NULL"),
            "reads vector column embedding",
        ),
        (
            format!("SELECT id FROM vector_search('t', 'embedding', {v}, 5) WHERE _distance < 1 OR n = 2"),
            "mixes _distance",
        ),
        ("SELECT * FROM ailake_scan('t', 1)".to_string(), "has no snapshot 1"),
        ("SELECT * FROM ailake_scan('nope', 1)".to_string(), "unknown table \"nope\""),
    ];
    for (sql, needle) in cases {
        let err = match ctx.sql(&sql).await {
            Ok(df) => df.collect().await.expect_err(&sql),
            Err(e) => e,
        };
        let text = err.to_string();
        assert!(text.contains(needle), "{sql}\n  error: {text}\n  expected to mention: {needle}");
        let root = err.find_root();
        assert!(
            matches!(root, DataFusionError::Plan(_) | DataFusionError::SchemaError(..)),
            "{sql}: {root:?}"
        );
    }
}

/// Eight callers at once on one context (searches with and without filters, and scans) each
/// get exactly a lone caller's answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_callers_get_a_lone_callers_answers() {
    let dir = tempfile::tempdir().unwrap();
    let table = table(dir.path(), "t", 2000, Metric::L2).await;
    let ctx = Arc::new(context(&table, 2).await);
    let all = vectors(2000);
    let d = DIM as usize;
    let sqls: Vec<String> = (0..8)
        .map(|i| {
            let (literal, _) = sql_vector(&all[(i * 211) * d..][..d]);
            match i % 3 {
                0 => format!("SELECT id, _distance FROM vector_search('t', 'embedding', {literal}, 10)"),
                1 => format!("SELECT id, _distance FROM vector_search('t', 'embedding', {literal}, 10) WHERE lang = 'fr'"),
                _ => format!("SELECT count(*) AS c FROM t WHERE n < {}", i * 10),
            }
        })
        .collect();
    let mut alone = Vec::new();
    for sql in &sqls {
        alone.push(run(&ctx, sql).await);
    }
    for _ in 0..3 {
        let tasks: Vec<_> = sqls
            .iter()
            .map(|sql| {
                let (ctx, sql) = (ctx.clone(), sql.clone());
                tokio::spawn(async move { run(&ctx, &sql).await })
            })
            .collect();
        for (task, want) in tasks.into_iter().zip(&alone) {
            let got = task.await.unwrap();
            if want.column_by_name("_distance").is_some() {
                assert_eq!(distances(&got), distances(want));
            } else {
                assert_eq!(i64s(&got, "c"), i64s(want, "c"));
            }
        }
    }
}

/// Hostile SQL: a `k` far beyond the table returns every live row once, nearest first (a
/// `BinaryHeap` sized by `k` once aborted the process); a zero query under cosine is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_k_returns_every_row_and_a_zero_query_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let table = table(dir.path(), "t", 2_000, Metric::Cosine).await;
    let ctx = context(&table, 2).await;
    let (v, _) = sql_vector(&vectors(1)[..DIM as usize]);
    for k in ["1000000000000", "9223372036854775807"] {
        let sql =
            format!("SELECT id, _distance FROM vector_search('t', 'embedding', {v}, {k}) ORDER BY _distance");
        let got = run(&ctx, &sql).await;
        let mut ids = i64s(&got, "id");
        assert!(distances(&got).windows(2).all(|w| w[0] <= w[1]), "k = {k}");
        ids.sort_unstable();
        assert_eq!(ids, (0..2_000).collect::<Vec<i64>>(), "k = {k}: every row once");
    }
    let zero = format!("[{}]", vec!["0.0"; DIM as usize].join(", "));
    let sql = format!("SELECT * FROM vector_search('t', 'embedding', {zero}, 5)");
    let err = match ctx.sql(&sql).await {
        Ok(df) => df.collect().await.expect_err("a zero query under cosine"),
        Err(e) => e,
    };
    assert!(err.to_string().contains("zero"), "{err}");
}
