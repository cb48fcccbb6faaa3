//! Hybrid search (issue 33): `hybrid_search` equals a reciprocal-rank (and a weighted) fusion
//! computed by hand from the session's own vector and text lists, with and without a filter
//! (which applies to both lists first); and the text path's bad input, unindexed columns and
//! corrupt indexes: typed errors or defined results, never a panic or a wrong answer.

mod common;

use std::sync::Arc;

use ailake::prelude::*;
use ailake::search::ShardCache;
use ailake::{Fusion, HybridParams, ShardReader, SubsectionKind, TextSpec, SCORE_COLUMN};
use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Int64Type};
use arrow_array::RecordBatch;
use common::dataset;
use common::text::{sample_table, sample_table_with, tsv};

fn ids_scores(batch: &RecordBatch, score: &str) -> Vec<(i64, f32)> {
    let ids = batch.column_by_name("id").unwrap().as_primitive::<Int64Type>();
    let s = batch.column_by_name(score).unwrap().as_primitive::<Float32Type>();
    ids.values().iter().copied().zip(s.values().iter().copied()).collect()
}

/// RRF by hand: `Σ 1 / (k0 + rank)`, ties by first appearance (vector list first).
fn rrf(lists: &[Vec<i64>], k0: f32, k: usize) -> Vec<(i64, f32)> {
    let mut order: Vec<i64> = Vec::new();
    let mut score = std::collections::HashMap::new();
    for list in lists {
        for (rank, id) in list.iter().enumerate() {
            if !score.contains_key(id) {
                order.push(*id);
            }
            *score.entry(*id).or_insert(0f32) += 1.0 / (k0 + rank as f32 + 1.0);
        }
    }
    let mut out: Vec<(usize, i64, f32)> =
        order.iter().enumerate().map(|(o, id)| (o, *id, score[id])).collect();
    out.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)));
    out.into_iter().take(k).map(|(_, id, s)| (id, s)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hybrid_equals_fusion_by_hand_with_and_without_a_filter() {
    let dir = tempfile::tempdir().unwrap();
    let table = sample_table(dir.path(), "h", 500).await;
    let session = table.search().await.unwrap();
    let (_, queries) = dataset(4000, 20);
    let texts = tsv("queries.tsv");
    let (k, depth) = (10, 40);
    for filter in [None, Some(Filter::parse("id >= 1000").unwrap())] {
        let params = SearchParams {
            projection: Some(vec!["id".into()]),
            filter: filter.clone(),
            ..Default::default()
        };
        let mut fused_rows = 0;
        for (q, text) in queries.iter().zip(&texts) {
            let by_vector = ids_scores(&session.search(q, depth, &params).await.unwrap(), "_distance");
            let by_text = ids_scores(&session.text_search(text, depth, &params).await.unwrap(), SCORE_COLUMN);
            let lists = [by_vector.iter().map(|r| r.0).collect(), by_text.iter().map(|r| r.0).collect()];
            let want = rrf(&lists, 60.0, k);
            let hybrid = HybridParams { depth: Some(depth), ..Default::default() };
            let got =
                ids_scores(&session.hybrid_search(q, text, k, &params, &hybrid).await.unwrap(), SCORE_COLUMN);
            assert_eq!(got.len(), want.len());
            for (g, w) in got.iter().zip(&want) {
                assert_eq!(g.0, w.0, "rrf order: got {got:?}, want {want:?}");
                assert!((g.1 - w.1).abs() < 1e-6);
            }
            if filter.is_some() {
                assert!(got.iter().all(|r| r.0 >= 1000), "the filter applies to both lists");
            }
            fused_rows += got.iter().filter(|r| lists[0].contains(&r.0) && lists[1].contains(&r.0)).count();

            // Weighted: min-max normalized scores (vector scores are negated distances).
            let norm = |l: &[(i64, f32)], sign: f32| -> Vec<(i64, f32)> {
                let s: Vec<f32> = l.iter().map(|r| sign * r.1).collect();
                let (lo, hi) =
                    s.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |a, &v| (a.0.min(v), a.1.max(v)));
                l.iter()
                    .zip(&s)
                    .map(|(r, &v)| (r.0, if hi > lo { (v - lo) / (hi - lo) } else { 1.0 }))
                    .collect()
            };
            let mut want: Vec<(i64, f32)> = Vec::new();
            for (list, w) in [(norm(&by_vector, -1.0), 0.3f32), (norm(&by_text, 1.0), 0.7)] {
                for (id, s) in list {
                    match want.iter_mut().find(|e| e.0 == id) {
                        Some(e) => e.1 += w * s,
                        None => want.push((id, w * s)),
                    }
                }
            }
            want.sort_by(|a, b| b.1.total_cmp(&a.1));
            let weighted =
                HybridParams { depth: Some(depth), fusion: Fusion::Weighted { vector: 0.3, text: 0.7 } };
            let got = ids_scores(
                &session.hybrid_search(q, text, k, &params, &weighted).await.unwrap(),
                SCORE_COLUMN,
            );
            for (g, w) in got.iter().zip(&want) {
                assert!((g.1 - w.1).abs() < 1e-5, "weighted scores: got {got:?}, want {want:?}");
            }
        }
        assert!(fused_rows > 0, "some rows are in both lists");
    }
    // A text part of stop words only: the vector list alone, fused.
    let en =
        sample_table_with(dir.path(), "en", 1000, &[TextSpec::new("text").with_analyzer("english")]).await;
    let session = en.search().await.unwrap();
    let params = SearchParams { projection: Some(vec!["id".into()]), ..Default::default() };
    let vector_only = ids_scores(&session.search(&queries[0], 10, &params).await.unwrap(), "_distance");
    let got = session
        .hybrid_search(&queries[0], "the and of", 10, &params, &HybridParams::default())
        .await
        .unwrap();
    let got: Vec<i64> = ids_scores(&got, SCORE_COLUMN).iter().map(|r| r.0).collect();
    assert_eq!(got, vector_only.iter().map(|r| r.0).collect::<Vec<_>>());
    let bad = HybridParams { fusion: Fusion::Rrf { k0: f32::NAN }, ..Default::default() };
    assert!(session.hybrid_search(&queries[0], "disk", 10, &params, &bad).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_text_input_gives_typed_errors_or_defined_results() {
    let dir = tempfile::tempdir().unwrap();
    let table =
        sample_table_with(dir.path(), "b", 1000, &[TextSpec::new("text").with_analyzer("english")]).await;
    let session = table.search().await.unwrap();
    let params = SearchParams { projection: Some(vec!["id".into(), "text".into()]), ..Default::default() };
    for empty in ["", "   \n\t"] {
        let e = session.text_search(empty, 10, &params).await.unwrap_err();
        assert!(e.to_string().contains("empty"), "{e}");
    }
    assert!(session.text_search("disk", 0, &params).await.is_err());
    for nothing in ["the and of", "🦀 🎉", "\"\"", "AND OR"] {
        assert_eq!(session.text_search(nothing, 10, &params).await.unwrap().num_rows(), 0, "{nothing:?}");
    }
    let huge = "word ".repeat(200_000);
    assert!(session.text_search(&huge, 10, &params).await.unwrap_err().to_string().contains("terms"));
    // Stemming: documents and queries through the same analyzer.
    let got = session.text_search("compressing archives", 5, &params).await.unwrap();
    assert!(got.num_rows() > 0);
    let text = got.column_by_name("text").unwrap().as_string::<i32>();
    assert!(text.iter().flatten().all(|t| {
        let t = t.to_lowercase();
        t.contains("compress") || t.contains("archiv")
    }));
    // A phrase and AND narrow the matches.
    let phrase = session.text_search("\"command line\"", 400, &params).await.unwrap();
    let text = phrase.column_by_name("text").unwrap().as_string::<i32>();
    assert!(phrase.num_rows() > 0 && text.iter().flatten().all(|t| t.to_lowercase().contains("command")));
    let both = session.text_search("library AND python", 400, &params).await.unwrap();
    let text = both.column_by_name("text").unwrap().as_string::<i32>();
    assert!(text
        .iter()
        .flatten()
        .all(|t| t.to_lowercase().contains("librar") && t.to_lowercase().contains("python")));
    // A filter on the text column itself.
    let one = text.value(0).to_string();
    let f = SearchParams { filter: Some(Filter::eq("text", one.as_str())), ..params.clone() };
    let got = session.text_search("library", 10, &f).await.unwrap();
    assert_eq!(got.num_rows(), 1);
    assert_eq!(got.column_by_name("text").unwrap().as_string::<i32>().value(0), one);
    // Columns: not a column, not a string column.
    for (col, why) in [("nope", "not in the table"), ("id", "not a text column")] {
        let p = SearchParams { text_column: Some(col.into()), ..params.clone() };
        assert!(session.text_search("disk", 10, &p).await.unwrap_err().to_string().contains(why));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unindexed_columns_and_corrupt_indexes_are_scanned_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let indexed = sample_table(dir.path(), "indexed", 1000).await;
    let plain = sample_table_with(dir.path(), "plain", 1000, &[]).await;
    let params = SearchParams { projection: Some(vec!["id".into()]), ..Default::default() };
    let want = ids_scores(
        &indexed.search().await.unwrap().text_search("disk usage", 10, &params).await.unwrap(),
        SCORE_COLUMN,
    );
    assert_eq!(want.len(), 10);

    // A table without text indexes: the default column is an error saying so; a named string
    // column is scanned (the simple analyzer), counted, and answers the same.
    let session = plain.search().await.unwrap();
    let e = session.text_search("disk usage", 10, &params).await.unwrap_err();
    assert!(e.to_string().contains("no text-indexed column"), "{e}");
    let named = SearchParams { text_column: Some("text".into()), ..params.clone() };
    let got = ids_scores(&session.text_search("disk usage", 10, &named).await.unwrap(), SCORE_COLUMN);
    assert_eq!(got, want);
    assert_eq!(session.counters().text_shards_scanned, 4);

    // Corrupt text indexes: one file's head (found when the file is opened), another's
    // dictionary block holding "disk" (found when the query reads it). Each file is scanned
    // instead (counted), the answer unchanged.
    let files = indexed.live_files().await.unwrap();
    corrupt_text_piece(&indexed, files[1].path(), |head| head.start).await;
    corrupt_text_piece(&indexed, files[2].path(), |_| 0).await;
    for pieces in [false, true] {
        let session = SearchSession::with_cache(&indexed, Arc::new(ShardCache::new(1 << 30))).await.unwrap();
        let p = SearchParams { text_pieces: Some(pieces), ..params.clone() };
        let got = ids_scores(&session.text_search("disk usage", 10, &p).await.unwrap(), SCORE_COLUMN);
        assert_eq!(got, want, "pieces: {pieces}");
        let c = session.counters();
        assert_eq!((c.text_shards_scanned, c.text_indexes_corrupt), (2, 2), "pieces: {pieces}: {c:?}");
    }
    let session = SearchSession::with_cache(&indexed, Arc::new(ShardCache::new(1 << 30))).await.unwrap();
    // Vector search of the same file still works (its vector payloads are intact).
    let (_, queries) = dataset(4000, 1);
    assert_eq!(session.search(&queries[0], 10, &params).await.unwrap().num_rows(), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deferred_writes_get_their_text_index_with_their_vector_index() {
    let dir = tempfile::tempdir().unwrap();
    let indexed = sample_table(dir.path(), "now", 1000).await;
    let params = SearchParams { projection: Some(vec!["id".into()]), ..Default::default() };
    let want = ids_scores(
        &indexed.search().await.unwrap().text_search("network daemon", 10, &params).await.unwrap(),
        SCORE_COLUMN,
    );

    let (catalog, wh) = common::lake(dir.path()).await;
    let catalog = Catalog::new(catalog, wh);
    let spec = VectorSpec::new("embedding", common::DIM as u32, Metric::Cosine);
    let table = catalog
        .create_table_with_text(
            &common::ident("later"),
            &common::attributes(),
            &[spec],
            &[TextSpec::new("text")],
        )
        .await
        .unwrap();
    let texts = tsv("texts.tsv");
    let (base, _) = dataset(texts.len(), 1);
    let writer = table.writer(WritePolicy::default()).unwrap();
    for start in (0..4000).step_by(1000) {
        let batch = common::text::text_batch(start..start + 1000, &texts);
        let values: Vec<f32> = base[start..start + 1000].iter().flatten().copied().collect();
        writer
            .write_flat(&batch, &[("embedding", &values)], &WriteOptions::default().deferred())
            .await
            .unwrap();
    }
    writer.commit().await.unwrap();
    writer.wait_indexed().await.unwrap();
    let session = table.refresh().await.unwrap().search().await.unwrap();
    let got = ids_scores(&session.text_search("network daemon", 10, &params).await.unwrap(), SCORE_COLUMN);
    // The same scores; the same rows above the 10th score (rows tied at the cut follow the
    // order of files, which the background builds' replace commits change).
    assert_eq!(got.iter().map(|r| r.1).collect::<Vec<_>>(), want.iter().map(|r| r.1).collect::<Vec<_>>());
    let above = |l: &[(i64, f32)]| {
        let cut = l.last().unwrap().1;
        let mut ids: Vec<i64> = l.iter().filter(|r| r.1 > cut).map(|r| r.0).collect();
        ids.sort_unstable();
        ids
    };
    assert_eq!(above(&got), above(&want));
    let c = session.counters();
    assert_eq!(c.text_shards_scanned, 0, "the background builds wrote the text indexes: {c:?}");
}

/// Flips a byte of the text index blob of `file`: at the blob offset `pick` chooses from its
/// head's range, or (when `pick` says 0) inside the dictionary block that holds "disk".
async fn corrupt_text_piece(table: &Table, file: &str, pick: impl Fn(std::ops::Range<u64>) -> u64) {
    use ailake::format::{parse_trailer, AlignedBytes, Payload, TextHead};
    let wh = table.warehouse().clone();
    let reader = ShardReader::open(wh.store().clone(), wh.path_of(file).unwrap(), ReadOptions::default())
        .await
        .unwrap();
    let loc = reader.location().unwrap();
    let entry = *reader.directory().unwrap().find(SubsectionKind::TextIndexes, 0).unwrap();
    let path = file.strip_prefix("file://").unwrap_or(file).to_string();
    let mut bytes = std::fs::read(&path).unwrap();
    let start = (loc.offset + entry.offset) as usize;
    let payload = &bytes[start..start + entry.length as usize];
    let payload = Payload::decode(AlignedBytes::copy_from(payload)).unwrap();
    let blob = payload.array::<u8>(0).unwrap();
    let blob_at = start as u64 + payload.array_offset(0).unwrap();
    let n = blob.len() as u64;
    let (range, crc) = parse_trailer(&blob[blob.len() - 12..], n).unwrap();
    let head = TextHead::decode(&blob[range.start as usize..range.end as usize], &range, crc).unwrap();
    let mut at = pick(range);
    if at == 0 {
        at = head.blocks[head.block_of("disk").unwrap()].range.start + 1;
    }
    bytes[(blob_at + at) as usize] ^= 0x5A;
    std::fs::write(&path, &bytes).unwrap();
}
