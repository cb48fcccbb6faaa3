//! `vector_search` with the query vector as a parameter (`$1`) of a statement prepared once
//! (`PreparedSearch`): the same answers as the literal SQL and the session, with filters,
//! other parameters, ORDER BY and concurrent executions; unbound or bad parameters are plan
//! errors.

mod support;

use std::sync::Arc;

use ailake::prelude::*;
use ailake_datafusion::{vector_param, PreparedSearch};
use datafusion::arrow::array::RecordBatch;
use datafusion::common::ScalarValue;
use support::*;

const ROWS: usize = 2000;

fn one(batches: Vec<RecordBatch>) -> RecordBatch {
    let schema = batches[0].schema();
    arrow_select::concat::concat_batches(&schema, &batches).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prepared_search_answers_as_the_literal_sql_and_the_session() {
    let dir = tempfile::tempdir().unwrap();
    let table = table(dir.path(), "t", ROWS, Metric::Cosine).await;
    let session = SearchSession::new(&table).await.unwrap();
    let all = vectors(ROWS);
    for partitions in [1, 2] {
        let ctx = context(&table, partitions).await;
        let stmt = PreparedSearch::new(
            &ctx,
            "SELECT id, lang, _distance FROM vector_search('t', 'embedding', $1, 10, 'ef=64') \
             WHERE lang <> 'fr' ORDER BY _distance",
        )
        .await
        .unwrap();
        for i in (0..ROWS).step_by(97).take(15) {
            let (literal, parsed) = sql_vector(&all[i * DIM as usize..(i + 1) * DIM as usize]);
            let got = one(stmt.search(&parsed).await.unwrap());
            let sql = format!(
                "SELECT id, lang, _distance FROM vector_search('t', 'embedding', {literal}, 10, 'ef=64') \
                 WHERE lang <> 'fr' ORDER BY _distance"
            );
            let literal_answer = run(&ctx, &sql).await;
            assert_eq!(distances(&got), distances(&literal_answer));
            assert_eq!(i64s(&got, "id"), i64s(&literal_answer, "id"));
            let params = SearchParams {
                ef: Some(64),
                projection: Some(vec!["id".into()]),
                filter: Some(Filter::parse("lang != 'fr'").unwrap()),
                ..Default::default()
            };
            let want = session.search(&parsed, 10, &params).await.unwrap();
            assert_eq!(distances(&got), distances(&want));
            assert!(strings(&got, "lang").iter().all(|l| l != "fr"));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_parameters_and_concurrent_executions() {
    let dir = tempfile::tempdir().unwrap();
    let table = table(dir.path(), "t", ROWS, Metric::L2).await;
    let ctx = context(&table, 2).await;
    let all = vectors(ROWS);
    let q = |i: usize| all[i * DIM as usize..(i + 1) * DIM as usize].to_vec();
    // `$2` bounds the distance of the k rows found.
    let stmt = Arc::new(
        PreparedSearch::new(
            &ctx,
            "SELECT id, _distance FROM vector_search('t', 'embedding', $1, 10) WHERE _distance <= $2 ORDER BY _distance",
        )
        .await
        .unwrap(),
    );
    let full = one(stmt.execute(&[vector_param(&q(5)), ScalarValue::Float64(Some(1e9))]).await.unwrap());
    let d = distances(&full);
    assert_eq!(d.len(), 10);
    let cut = (f64::from(d[3]) + f64::from(d[4])) / 2.0;
    let some = one(stmt.execute(&[vector_param(&q(5)), ScalarValue::Float64(Some(cut))]).await.unwrap());
    assert_eq!(distances(&some), d[..4].to_vec());

    // Eight callers at once on one statement, each with its own vector: a lone caller's answers.
    let lone: Vec<Vec<i64>> = {
        let mut out = Vec::new();
        for i in 0..8 {
            let b = one(stmt
                .execute(&[vector_param(&q(i * 31)), ScalarValue::Float64(Some(1e9))])
                .await
                .unwrap());
            out.push(i64s(&b, "id"));
        }
        out
    };
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let (stmt, v) = (stmt.clone(), q(i * 31));
            tokio::spawn(async move {
                let b = stmt.execute(&[vector_param(&v), ScalarValue::Float64(Some(1e9))]).await.unwrap();
                i64s(&one(b), "id")
            })
        })
        .collect();
    for (i, t) in tasks.into_iter().enumerate() {
        assert_eq!(t.await.unwrap(), lone[i], "caller {i}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unbound_and_bad_parameters_are_plan_errors() {
    let dir = tempfile::tempdir().unwrap();
    let table = table(dir.path(), "t", 500, Metric::L2).await;
    let ctx = context(&table, 1).await;
    let sql = "SELECT id FROM vector_search('t', 'embedding', $1, 5)";
    let stmt = PreparedSearch::new(&ctx, sql).await.unwrap();
    let cases: Vec<(&str, Vec<ScalarValue>, &str)> = vec![
        ("no value", vec![], "no value for $1"),
        ("wrong dimension", vec![vector_param(&[1.0, 2.0])], "dimension"),
        ("a string", vec![ScalarValue::Utf8(Some("[1,2]".into()))], "array literal"),
        ("NaN", vec![vector_param(&vec![f32::NAN; DIM as usize])], "NaN"),
    ];
    for (what, params, message) in cases {
        let err = stmt.execute(&params).await.unwrap_err().to_string();
        assert!(err.contains(message), "{what}: {err}");
    }
    // Run as plain SQL, the unbound parameter says how to bind it.
    let err = ctx.sql(sql).await.unwrap().collect().await.unwrap_err().to_string();
    assert!(err.contains("PreparedSearch"), "{err}");
    // A filter applied before ranking takes literals, not parameters.
    let err =
        PreparedSearch::new(&ctx, "SELECT id FROM vector_search('t', 'embedding', $1, 5) WHERE lang = $2")
            .await
            .unwrap_err()
            .to_string();
    assert!(err.contains("cannot be applied before ranking"), "{err}");
    // A good vector still answers afterwards.
    let v = vectors(500)[..DIM as usize].to_vec();
    assert_eq!(i64s(&one(stmt.search(&v).await.unwrap()), "id")[0], 0);
}
