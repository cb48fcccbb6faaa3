//! Full-text and hybrid search through the `ailake` binary (issue 33): `create --text-index`,
//! `ingest`, `search --text` (BM25, `_score`), `search --like … --text …` (hybrid) and the
//! demo's hybrid query; bad input exits with a one-line typed error.

mod support;

use serde_json::Value;
use support::*;

fn rows(json: &str) -> Vec<Value> {
    serde_json::from_str::<Value>(json).unwrap().as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_with_a_text_index_then_search_by_words_and_hybrid() {
    let dir = tempfile::tempdir().unwrap();
    let wh = dir.path().join("warehouse");
    // The demo creates docs.debian with an English text index and prints a hybrid query.
    let out = ok(&wh, &["demo", "--rows", "2000", "--queries", "1"]);
    assert!(out.contains("BM25") && out.contains("hybrid: vector and words"), "{out}");

    let json = ok(
        &wh,
        &[
            "search",
            "docs.debian",
            "--text",
            "clipboard manager",
            "-k",
            "5",
            "--columns",
            "id,text",
            "--format",
            "json",
        ],
    );
    let hits = rows(&json);
    assert_eq!(hits.len(), 5);
    let scores: Vec<f64> = hits.iter().map(|r| r["_score"].as_f64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "best first: {scores:?}");
    let text = hits[0]["text"].as_str().unwrap().to_lowercase();
    assert!(text.contains("clipboard") || text.contains("manag"), "{text}");

    // Hybrid: the row's own vector plus words; the row itself is in both lists, so first.
    let json = ok(
        &wh,
        &[
            "search",
            "docs.debian",
            "--like",
            "7",
            "--text",
            "python",
            "-k",
            "5",
            "--columns",
            "id",
            "--format",
            "json",
        ],
    );
    let hybrid = rows(&json);
    assert_eq!(hybrid.len(), 5);
    let weighted = ok(
        &wh,
        &[
            "search",
            "docs.debian",
            "--like",
            "7",
            "--text",
            "python",
            "-k",
            "5",
            "--fusion",
            "weighted",
            "--weights",
            "0.3,0.7",
            "--format",
            "json",
        ],
    );
    assert_eq!(rows(&weighted).len(), 5);
    // A filter applies to both lists.
    let json = ok(
        &wh,
        &[
            "search",
            "docs.debian",
            "--like",
            "7",
            "--text",
            "python",
            "--filter",
            "id >= 1000",
            "--columns",
            "id",
            "--format",
            "json",
        ],
    );
    assert!(rows(&json).iter().all(|r| r["id"].as_i64().unwrap() >= 1000));

    // A new table: --text-index on a string column; an unknown analyzer or a non-string
    // column is refused with nothing created.
    fails(
        &wh,
        &["create", "docs.bad", "--vector", "e:4:l2", "--column", "t:string", "--text-index", "t:klingon"],
        2,
        "analyzer",
    );
    fails(
        &wh,
        &["create", "docs.bad", "--vector", "e:4:l2", "--column", "n:int64", "--text-index", "n"],
        2,
        "not a string column",
    );
    let out = ok(
        &wh,
        &[
            "create",
            "docs.notes",
            "--vector",
            "e:4:l2",
            "--column",
            "id:int64!",
            "--column",
            "t:string",
            "--text-index",
            "t:english",
        ],
    );
    assert!(out.contains("text index on t (english analyzer)"), "{out}");
    fails(&wh, &["search", "docs.debian", "--text", "  "], 2, "empty");
    fails(&wh, &["search", "docs.debian", "--text", "x", "--text-column", "id"], 2, "not a text column");
}
