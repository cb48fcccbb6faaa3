//! Full-text building blocks (issue 33): the inverted index round-trips through its binary
//! form and never panics on damaged bytes; BM25 equals a naive scorer written from the formula;
//! and scores with statistics summed over files equal one BM25 over all live rows, however the
//! rows are split into files and whichever are deleted.

use std::collections::{HashMap, HashSet};

use ailk_index::text::{index_texts, Analyzer, Bm25, CollectionStats, TextIndex};
use proptest::prelude::*;

const WORDS: [&str; 12] =
    ["apt", "kernel", "Python", "rust", "the", "of", "données", "東京", "🦀", "lib", "x11", "gnome"];

fn docs() -> impl Strategy<Value = Vec<Option<String>>> {
    prop::collection::vec(prop::option::weighted(0.9, prop::collection::vec(0..WORDS.len(), 0..12)), 1..60)
        .prop_map(|rows| {
            rows.into_iter()
                .map(|r| r.map(|ws| ws.iter().map(|&w| WORDS[w]).collect::<Vec<_>>().join(" ")))
                .collect()
        })
}

fn index(rows: &[Option<String>]) -> TextIndex {
    index_texts(rows.iter().map(|r| r.as_deref()), &Analyzer::default())
}

/// BM25 straight from the formula over the analyzed rows (`None`: deleted).
fn naive(rows: &[Option<Vec<String>>], query: &[String]) -> Vec<(usize, f32)> {
    let live: Vec<(usize, &Vec<String>)> =
        rows.iter().enumerate().filter_map(|(i, r)| r.as_ref().map(|r| (i, r))).collect();
    let n = live.len() as f64;
    let avg = live.iter().map(|(_, r)| r.len()).sum::<usize>() as f64 / n;
    let mut out = Vec::new();
    for &(i, r) in &live {
        let mut score = 0f64;
        let mut any = false;
        for t in query {
            let tf = r.iter().filter(|w| *w == t).count() as f64;
            if tf == 0.0 {
                continue;
            }
            any = true;
            let df = live.iter().filter(|(_, d)| d.contains(t)).count() as f64;
            let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
            score += idf * tf / (tf + 1.2 * (0.25 + 0.75 * r.len() as f64 / avg));
        }
        if any {
            out.push((i, score as f32));
        }
    }
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn the_index_round_trips_and_damaged_bytes_never_panic(rows in docs(), cut in 0usize..400, flip in any::<(usize, u8)>()) {
        let ix = index(&rows);
        let bytes = ix.encode();
        prop_assert_eq!(TextIndex::decode(&bytes).unwrap(), ix.clone());
        let _ = TextIndex::decode(&bytes[..cut.min(bytes.len())]);
        let mut damaged = bytes.clone();
        let at = flip.0 % damaged.len();
        damaged[at] ^= flip.1.max(1);
        if let Ok(d) = TextIndex::decode(&damaged) {
            // Whatever decodes is self-consistent: it round-trips.
            prop_assert_eq!(TextIndex::decode(&d.encode()).unwrap(), d);
        }
    }

    #[test]
    fn split_files_score_as_one_bm25_over_the_live_rows(
        rows in docs(),
        query in prop::collection::vec(0..WORDS.len(), 1..4),
        deleted in prop::collection::vec(any::<bool>(), 60),
        cuts in prop::collection::vec(0usize..60, 0..7),
    ) {
        let analyzer = Analyzer::default();
        let query: Vec<String> = query.iter().flat_map(|&w| analyzer.terms(WORDS[w])).collect();
        let is_live = |i: usize| !deleted[i % deleted.len()];
        // The reference: one BM25 over every live row.
        let analyzed: Vec<Option<Vec<String>>> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| is_live(i).then(|| r.as_deref().map(|t| analyzer.terms(t)).unwrap_or_default()))
            .collect();
        let want = naive(&analyzed, &query);
        // The table: rows split into files at `cuts`, statistics summed, each file scored.
        let mut bounds: Vec<usize> = cuts.into_iter().map(|c| c % (rows.len() + 1)).collect();
        bounds.extend([0, rows.len()]);
        bounds.sort_unstable();
        bounds.dedup();
        let files: Vec<(usize, TextIndex)> = bounds.windows(2).map(|w| (w[0], index(&rows[w[0]..w[1]]))).collect();
        let mut stats = CollectionStats::default();
        for (start, ix) in &files {
            let live = |r: u32| is_live(start + r as usize);
            stats.add(&CollectionStats::of(ix, &query, &live));
        }
        let mut got: Vec<(usize, f32)> = Vec::new();
        for (start, ix) in &files {
            let live = |r: u32| is_live(start + r as usize);
            got.extend(Bm25::default().score(ix, &query, &stats, &live).into_iter().map(|(r, s)| (start + r as usize, s)));
        }
        got.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        prop_assert_eq!(got.len(), want.len());
        let want_scores: HashMap<usize, f32> = want.iter().copied().collect();
        for (row, score) in &got {
            let w = want_scores[row];
            prop_assert!((score - w).abs() <= 1e-4 * w.abs().max(1.0), "row {}: {} vs {}", row, score, w);
        }
        let deleted_rows: HashSet<usize> = (0..rows.len()).filter(|&i| !is_live(i)).collect();
        prop_assert!(got.iter().all(|(r, _)| !deleted_rows.contains(r)), "a deleted row scored");
    }
}

#[test]
fn a_query_of_unknown_words_or_an_empty_collection_scores_nothing() {
    let ix = index(&[Some("rust kernel".into()), None, Some(String::new())]);
    assert_eq!(ix.rows(), 3);
    let all = |_: u32| true;
    let q = vec!["python".to_string()];
    let stats = CollectionStats::of(&ix, &q, &all);
    assert_eq!((stats.docs, stats.total_len, stats.df["python"]), (3, 2, 0));
    assert!(Bm25::default().score(&ix, &q, &stats, &all).is_empty());
    let none = |_: u32| false;
    let empty = CollectionStats::of(&ix, &q, &none);
    assert!(Bm25::default().score(&ix, &["rust".to_string()], &empty, &none).is_empty());
    assert!(TextIndex::decode(b"").is_err() && TextIndex::decode(b"AITX\x02").is_err());
}
