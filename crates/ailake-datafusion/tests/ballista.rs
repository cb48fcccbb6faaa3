//! The same SQL on a Ballista cluster — a scheduler and two executors on loopback, in this
//! process — answers as the in-process `SearchSession` and the local DataFusion plan: the
//! ailake nodes travel through `AilakeCodec`, and the executors open the snapshot through
//! the catalog.
#![cfg(feature = "ballista")]

mod support;

use ailake::prelude::*;
use ailake_datafusion::{ballista_config, start_local_cluster, AilakeSql};
use datafusion::execution::SessionStateBuilder;
use support::*;

const ROWS: usize = 3000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ballista_cluster_answers_as_the_session() {
    let dir = tempfile::tempdir().unwrap();
    let table = table(dir.path(), "t", ROWS, Metric::L2).await;
    table.delete(&Filter::parse("n = 3").unwrap()).await.unwrap();
    let table = table.refresh().await.unwrap();
    let catalog = catalog(dir.path()).await;

    let config = ballista_config(catalog).with_target_partitions(2);
    let state = SessionStateBuilder::new().with_config(config).with_default_features().build();
    let url = start_local_cluster(&state, 2, 2).await.unwrap();
    let ctx = ailake_datafusion::remote_context(&url, state).unwrap();
    let sql = AilakeSql::new();
    sql.register_functions(&ctx);
    sql.register_table(&ctx, "t", &table).await.unwrap();

    let session = SearchSession::new(&table).await.unwrap();
    let all = vectors(ROWS);
    let d = DIM as usize;
    for (i, q) in (0..6).map(|i| (i, &all[(i * 401 % ROWS) * d..][..d])) {
        let (literal, parsed) = sql_vector(q);
        let (where_sql, filter) =
            if i % 2 == 0 { ("", None) } else { ("WHERE lang = 'fr'", Some(Filter::eq("lang", "fr"))) };
        let got = run(&ctx, &format!("SELECT id, _distance FROM vector_search('t', 'embedding', {literal}, 10) {where_sql} ORDER BY _distance")).await;
        let params = SearchParams { projection: Some(vec!["id".into()]), filter, ..Default::default() };
        let want = session.search(&parsed, 10, &params).await.unwrap();
        assert_eq!(distances(&got), distances(&want), "{where_sql}");
        let (mut a, mut b) = (i64s(&got, "id"), i64s(&want, "id"));
        a.sort_unstable();
        b.sort_unstable();
        assert_eq!(a, b);
    }
    // Full-text and hybrid search through the cluster (`lang` has no text index: scanned).
    let text_params = SearchParams {
        projection: Some(vec!["id".into()]),
        text_column: Some("lang".into()),
        ..Default::default()
    };
    let got = run(&ctx, "SELECT id, _score FROM text_search('t', 'lang', 'fr OR de', 10)").await;
    let want = session.text_search("fr OR de", 10, &text_params).await.unwrap();
    assert_eq!(i64s(&got, "id"), i64s(&want, "id"));
    let (literal, parsed) = sql_vector(&all[..d]);
    let got = run(&ctx, &format!("SELECT id, _score FROM hybrid_search('t', 'embedding', {literal}, 'lang', 'fr', 10) WHERE n < 50")).await;
    let hybrid_params = SearchParams { filter: Some(Filter::parse("n < 50").unwrap()), ..text_params };
    let want = session.hybrid_search(&parsed, "fr", 10, &hybrid_params, &Default::default()).await.unwrap();
    assert_eq!(i64s(&got, "id"), i64s(&want, "id"));
    // A scan through the cluster: every live row once.
    let got = run(&ctx, "SELECT count(*) AS c, min(id) AS lo FROM t WHERE lang = 'en'").await;
    let live = (0..ROWS).filter(|i| i % 100 != 3 && lang(*i) == "en").count();
    assert_eq!(i64s(&got, "c"), vec![live as i64]);
    assert_eq!(i64s(&got, "lo"), vec![0]);
    // Bad input is still a plan error, raised where the plan is made.
    let err = ctx.sql("SELECT * FROM vector_search('t', 'embedding', [1.0], 10)").await.err().unwrap();
    assert!(err.to_string().contains("dimension 32"), "{err}");
}
