//! BM25 of the full-text building blocks (issue 33) against a reference implementation on the
//! real sample's texts: the 4,000 Debian package descriptions of `data/sample`, split into 8
//! files with every 13th row deleted, scored with statistics summed over the files, equal to
//! `bm25s` (Lucene method, one index over the live rows) for the sample's 100 queries: ≥ 99%
//! of the top-10 results and their scores within 1e-4.

use ailake::index::text::{index_texts, Analyzer, Bm25, CollectionStats, TextIndex, TextQuery};

mod common;

use common::text::{reference, tsv};

const FILES: usize = 8;

#[test]
fn bm25_over_split_files_equals_bm25s_over_the_live_rows() {
    let texts = tsv("texts.tsv");
    let queries = tsv("queries.tsv");
    assert_eq!((texts.len(), queries.len()), (4000, 100));
    let analyzer = Analyzer::default();
    let live = |row: usize| !row.is_multiple_of(13);
    let per = texts.len() / FILES;
    let files: Vec<TextIndex> =
        texts.chunks(per).map(|c| index_texts(c.iter().map(|t| Some(t.as_str())), &analyzer)).collect();

    // Each query's distinct terms (the reference sums each token once).
    let query_terms: Vec<Vec<String>> = queries
        .iter()
        .map(|q| {
            let mut seen = std::collections::HashSet::new();
            analyzer.terms(q).into_iter().filter(|t| seen.insert(t.clone())).collect()
        })
        .collect();
    let mut ours = Vec::new();
    for terms in &query_terms {
        let query = TextQuery::Any(terms.iter().cloned().map(TextQuery::Term).collect());
        let terms = query.terms();
        let mut stats = CollectionStats::default();
        for (f, ix) in files.iter().enumerate() {
            stats.add(&CollectionStats::of(ix, &terms, &|r| live(f * per + r as usize)));
        }
        let mut scored: Vec<(usize, f32)> = Vec::new();
        for (f, ix) in files.iter().enumerate() {
            let rows = Bm25::default().score(ix, &terms, &stats, &|r| live(f * per + r as usize));
            scored.extend(rows.into_iter().map(|(r, s)| (f * per + r as usize, s)));
        }
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        scored.truncate(10);
        ours.push(scored);
    }

    // The reference over the live rows only (its document numbers map back to rows).
    let live_rows: Vec<usize> = (0..texts.len()).filter(|&r| live(r)).collect();
    let want_all = reference(&texts, &live_rows, &query_terms);
    let (mut same, mut total, mut worst) = (0usize, 0usize, 0f64);
    for (q, want) in want_all.iter().enumerate() {
        total += want.len();
        for (row, score) in want {
            if let Some((_, s)) = ours[q].iter().find(|(r, _)| r == row) {
                same += 1;
                worst = worst.max((f64::from(*s) - score).abs() / score.abs().max(1.0));
            }
        }
        assert_eq!(ours[q].len(), want.len(), "query {q}: result counts");
    }
    eprintln!("{same} of {total} top-10 results shared with bm25s; worst score difference {worst:.2e}");
    assert!(total > 500, "the queries match rows: {total}");
    assert!(same * 100 >= total * 99, "{same} of {total} shared");
    assert!(worst <= 1e-4, "score difference {worst}");
}
