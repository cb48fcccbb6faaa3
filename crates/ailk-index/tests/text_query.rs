//! Full-text queries and fusion (issue 33): parsing (terms, phrases, AND / OR, stop words,
//! emoji, a huge query), matching against a naive scan of the analyzed rows (proptest), and
//! reciprocal-rank / weighted fusion against sums computed by hand.

use std::collections::BTreeSet;

use ailk_index::text::{index_texts, reciprocal_rank_fusion, weighted_fusion, Analyzer, TextQuery, RRF_K0};
use proptest::prelude::*;

const WORDS: [&str; 6] = ["apt", "kernel", "rust", "lib", "gnome", "x11"];

fn term(t: &str) -> TextQuery {
    TextQuery::Term(t.into())
}

#[test]
fn queries_parse_into_terms_phrases_and_boolean_clauses() {
    let a = Analyzer::default();
    let p = |s: &str| TextQuery::parse(s, &a).unwrap();
    assert_eq!(p("Rust"), term("rust"));
    assert_eq!(p("rust kernel"), TextQuery::Any(vec![term("rust"), term("kernel")]));
    assert_eq!(
        p("rust AND kernel OR apt"),
        TextQuery::Any(vec![TextQuery::All(vec![term("rust"), term("kernel")]), term("apt")])
    );
    assert_eq!(
        p("\"Linux kernel\" AND rust"),
        TextQuery::All(vec![TextQuery::Phrase(vec!["linux".into(), "kernel".into()]), term("rust")])
    );
    assert_eq!(p("dns-server"), TextQuery::Phrase(vec!["dns".into(), "server".into()]));
    assert_eq!(
        p("rust 🦀 \"unbalanced quote"),
        TextQuery::Any(vec![term("rust"), TextQuery::Phrase(vec!["unbalanced".into(), "quote".into()])])
    );
    assert_eq!(p(""), TextQuery::Any(vec![]));
    let stop = Analyzer { stop_words: true, ..a };
    assert_eq!(TextQuery::parse("the of and", &stop).unwrap(), TextQuery::Any(vec![]));
    assert_eq!(p("rust AND kernel").terms(), ["rust", "kernel"]);
    let huge = "word ".repeat(200_000);
    assert!(TextQuery::parse(&huge, &a).is_err(), "a 1 MB query is refused, not truncated");
}

fn rows() -> impl Strategy<Value = Vec<Vec<usize>>> {
    prop::collection::vec(prop::collection::vec(0..WORDS.len(), 0..10), 1..40)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn matches_equal_a_naive_scan(rows in rows(), a in 0..WORDS.len(), b in 0..WORDS.len(), c in 0..WORDS.len()) {
        let texts: Vec<String> = rows.iter().map(|r| r.iter().map(|&w| WORDS[w]).collect::<Vec<_>>().join(" ")).collect();
        let ix = index_texts(texts.iter().map(|t| Some(t.as_str())), &Analyzer::default());
        let (wa, wb, wc) = (WORDS[a], WORDS[b], WORDS[c]);
        let has = |r: &Vec<usize>, w: usize| r.contains(&w);
        let phrase = |r: &Vec<usize>| r.windows(2).any(|p| p[0] == a && p[1] == b);
        let naive = |f: &dyn Fn(&Vec<usize>) -> bool| -> BTreeSet<u32> {
            rows.iter().enumerate().filter(|(_, r)| f(r)).map(|(i, _)| i as u32).collect()
        };
        let q = |s: String| TextQuery::parse(&s, &Analyzer::default()).unwrap().matches(&ix);
        prop_assert_eq!(q(format!("{wa} {wb}")), naive(&|r| has(r, a) || has(r, b)));
        prop_assert_eq!(q(format!("{wa} AND {wb}")), naive(&|r| has(r, a) && has(r, b)));
        prop_assert_eq!(q(format!("\"{wa} {wb}\"")), naive(&|r| phrase(r)));
        prop_assert_eq!(q(format!("{wa} AND {wb} OR {wc}")), naive(&|r| (has(r, a) && has(r, b)) || has(r, c)));
        prop_assert_eq!(q(format!("\"{wa} {wb}\" AND {wc}")), naive(&|r| phrase(r) && has(r, c)));
    }
}

#[test]
fn reciprocal_rank_fusion_equals_the_sum_by_hand() {
    let vector = vec!["a", "b", "c", "d"];
    let text = vec!["c", "a", "e"];
    let got = reciprocal_rank_fusion(&[vector, text], RRF_K0, 10);
    let s = |ranks: &[f32]| ranks.iter().map(|r| 1.0 / (60.0 + r)).sum::<f32>();
    let want =
        [("a", s(&[1.0, 2.0])), ("c", s(&[3.0, 1.0])), ("b", s(&[2.0])), ("e", s(&[3.0])), ("d", s(&[4.0]))];
    assert_eq!(got.len(), want.len());
    for ((gk, gs), (wk, ws)) in got.iter().zip(want) {
        assert_eq!(*gk, wk);
        assert!((gs - ws).abs() < 1e-7, "{gk}: {gs} vs {ws}");
    }
    assert_eq!(reciprocal_rank_fusion(&[vec![1, 2, 3]], RRF_K0, 2).len(), 2, "k cuts");
    assert!(reciprocal_rank_fusion::<u32>(&[vec![], vec![]], RRF_K0, 5).is_empty());
}

#[test]
fn weighted_fusion_normalizes_each_list() {
    // Vector scores as negated distances; text scores BM25.
    let vector = vec![(1u32, -0.1f32), (2, -0.3), (3, -0.5)];
    let text = vec![(3u32, 9.0f32), (4, 3.0)];
    let got = weighted_fusion(&[(vector, 0.7), (text, 0.3)], 10);
    // Normalized: vector 1→1, 2→0.5, 3→0; text 3→1, 4→0.
    let want = [(1, 0.7), (2, 0.35), (3, 0.3), (4, 0.0)];
    for ((gk, gs), (wk, ws)) in got.iter().zip(want) {
        assert_eq!(*gk, wk);
        assert!((gs - ws).abs() < 1e-6, "{gk}: {gs} vs {ws}");
    }
    let flat = weighted_fusion(&[(vec![(7u32, 2.0f32), (8, 2.0)], 1.0)], 10);
    assert_eq!(flat, vec![(7, 1.0), (8, 1.0)], "equal scores normalize to 1, order kept");
}
