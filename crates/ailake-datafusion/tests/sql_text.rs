//! `text_search` and `hybrid_search` in SQL (issue 33) answer as the session's own
//! `text_search` / `hybrid_search` (same rows, same scores) on the real sample's descriptions,
//! with `WHERE` filters applied before ranking and `_score` filters after; bad calls are plan
//! errors.

mod support;

use std::sync::Arc;

use ailake::prelude::*;
use ailake::{HybridParams, TextSpec};
use ailk_testkit::sample::Sample;
use arrow_array::{ArrayRef, FixedSizeListArray, Float32Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use support::*;

fn scores(b: &RecordBatch) -> Vec<f32> {
    let c = b.column_by_name("_score").unwrap();
    c.as_any().downcast_ref::<Float32Array>().unwrap().values().to_vec()
}

/// `docs.texts`: the sample's 4,000 rows (id, text, embedding) in 4 files, `text` indexed.
async fn text_table(dir: &std::path::Path) -> (Table, Sample) {
    let s = Sample::load().unwrap();
    let attrs =
        Schema::new(vec![Field::new("id", DataType::Int64, false), Field::new("text", DataType::Utf8, true)]);
    let spec = VectorSpec::new("embedding", s.base.dim as u32, Metric::Cosine);
    let ident = TableIdent::new("docs", "texts").unwrap();
    let table = catalog(dir)
        .await
        .create_table_with_text(&ident, &attrs, &[spec], &[TextSpec::new("text")])
        .await
        .unwrap();
    let writer = table.writer(WritePolicy::default()).unwrap();
    let d = s.base.dim;
    for start in (0..4000).step_by(1000) {
        let ids = start..start + 1000;
        let id: ArrayRef = Arc::new(Int64Array::from_iter_values(ids.clone().map(|i| i as i64)));
        let text: ArrayRef = Arc::new(StringArray::from_iter_values(ids.clone().map(|i| s.texts[i].clone())));
        let values = Float32Array::from(s.base.data[start * d..(start + 1000) * d].to_vec());
        let item = Arc::new(Field::new("item", DataType::Float32, false));
        let emb: ArrayRef =
            Arc::new(FixedSizeListArray::try_new(item, d as i32, Arc::new(values), None).unwrap());
        let mut fields: Vec<Field> = attrs.fields().iter().map(|f| f.as_ref().clone()).collect();
        fields.push(Field::new("embedding", emb.data_type().clone(), false));
        let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), vec![id, text, emb]).unwrap();
        writer.write(&batch, &WriteOptions::default()).await.unwrap();
    }
    writer.commit().await.unwrap();
    (table.refresh().await.unwrap(), s)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_and_hybrid_search_in_sql_answer_as_the_session() {
    let dir = tempfile::tempdir().unwrap();
    let (table, s) = text_table(dir.path()).await;
    let ctx = context(&table, 2).await;
    let session = SearchSession::new(&table).await.unwrap();
    for (i, words) in
        ["disk usage", "python library", "\"command line\" tool", "font AND monospace"].iter().enumerate()
    {
        let (where_sql, filter) = if i % 2 == 0 {
            ("", None)
        } else {
            ("WHERE id >= 1500", Some(Filter::parse("id >= 1500").unwrap()))
        };
        let sql_words = words.replace('\'', "''");
        let got = run(&ctx, &format!("SELECT id, _score FROM text_search('t', 'text', '{sql_words}', 10) {where_sql} ORDER BY _score DESC, id")).await;
        let params = SearchParams {
            projection: Some(vec!["id".into()]),
            filter: filter.clone(),
            ..Default::default()
        };
        let want = session.text_search(words, 10, &params).await.unwrap();
        assert_eq!(scores(&got), scores(&want), "{words} {where_sql}");
        let (mut a, mut b) = (i64s(&got, "id"), i64s(&want, "id"));
        a.sort_unstable();
        b.sort_unstable();
        assert_eq!(a, b, "{words}");
        if filter.is_some() {
            assert!(a.iter().all(|&id| id >= 1500));
        }

        // Hybrid: the i-th held-out query's vector with the same words.
        let q = &s.query_rows(4)[i];
        let (literal, parsed) = sql_vector(q);
        let got = run(&ctx, &format!(
            "SELECT id, _score FROM hybrid_search('t', 'embedding', {literal}, 'text', '{sql_words}', 10, 'depth=30') {where_sql} ORDER BY _score DESC"
        )).await;
        let hybrid = HybridParams { depth: Some(30), ..Default::default() };
        let want = session.hybrid_search(&parsed, words, 10, &params, &hybrid).await.unwrap();
        assert_eq!(scores(&got), scores(&want), "hybrid {words}");
        let weighted = run(&ctx, &format!(
            "SELECT id FROM hybrid_search('t', 'embedding', {literal}, 'text', '{sql_words}', 5, 'fusion=weighted weights=0.2:0.8')"
        )).await;
        assert_eq!(weighted.num_rows(), 5);
    }
    // A filter on _score applies after ranking; the text column itself can be filtered.
    let got =
        run(&ctx, "SELECT id, _score FROM text_search('t', 'text', 'library', 20) WHERE _score > 3.0").await;
    assert!(scores(&got).iter().all(|&s| s > 3.0) && got.num_rows() < 20);
    let got =
        run(&ctx, "SELECT id, text FROM text_search('t', 'text', 'library', 5) WHERE text >= 'Python'").await;
    assert!(got.num_rows() == 5 && strings(&got, "text").iter().all(|t| t.as_str() >= "Python"));

    // Bad calls are plan errors.
    for (sql, mentions) in [
        ("SELECT * FROM text_search('t', 'text', '  ', 10)", "empty"),
        ("SELECT * FROM text_search('t', 'id', 'x', 10)", "not a text column"),
        ("SELECT * FROM text_search('t', 'nope', 'x', 10)", "no column"),
        ("SELECT * FROM text_search('t', 'text', 'x', 0)", "at least 1"),
        ("SELECT * FROM text_search('t', 'text', 'x')", "4 or 5 arguments"),
        ("SELECT * FROM hybrid_search('t', 'embedding', [1.0], 'text', 'x', 10)", "dimension 384"),
        ("SELECT * FROM hybrid_search('t', 'text', [1.0], 'text', 'x', 10)", "not a vector column"),
        ("SELECT * FROM text_search('t', 'text', 'x', 10, 'fusion=max')", "rrf or weighted"),
        ("SELECT * FROM text_search('t', 'text', 'x', 10) WHERE embedding IS NULL", "vector column"),
        (
            "SELECT * FROM text_search('t', 'text', 'x', 10) WHERE text LIKE '%a%'",
            "cannot be applied before ranking",
        ),
    ] {
        let err = match ctx.sql(sql).await {
            Err(e) => e,
            Ok(df) => df.collect().await.err().unwrap_or_else(|| panic!("{sql} succeeded")),
        };
        assert!(err.to_string().contains(mentions), "{sql}: {err}");
    }
}
