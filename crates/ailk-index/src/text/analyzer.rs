//! [`Analyzer`]: Unicode word segmentation (UAX #29), lowercasing, optional English stop
//! words and optional Snowball English stemming. Documents and queries go through the same
//! analyzer; a table names it per text column (`simple` or `english`, see [`Analyzer::named`]).

use rust_stemmers::{Algorithm, Stemmer};
use unicode_segmentation::UnicodeSegmentation;

use ailk_format::TextIndex;

use crate::error::{IndexError, Result};

pub use ailk_format::MAX_TERM_BYTES;

/// Lucene's English stop words.
const STOP_WORDS: [&str; 33] = [
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it", "no",
    "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these", "they", "this", "to",
    "was", "will", "with",
];

/// How text becomes terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Analyzer {
    /// Lowercase every term (Unicode lowercasing).
    pub lowercase: bool,
    /// Drop English stop words.
    pub stop_words: bool,
    /// Reduce words to their Snowball English stem (after stop words are dropped).
    pub stem: bool,
}

impl Default for Analyzer {
    fn default() -> Self {
        Self { lowercase: true, stop_words: false, stem: false }
    }
}

impl Analyzer {
    /// The analyzer a table names: `simple` (Unicode words, lowercased) or `english` (the same,
    /// stop words dropped, Snowball English stems). `InvalidParams` for any other name.
    pub fn named(name: &str) -> Result<Self> {
        match name {
            "simple" => Ok(Self::default()),
            "english" => Ok(Self { lowercase: true, stop_words: true, stem: true }),
            other => Err(IndexError::InvalidParams(format!(
                "unknown text analyzer {other:?} (known: {})",
                ailk_format::TEXT_ANALYZERS.join(", ")
            ))),
        }
    }

    /// The terms of `text`, in order (repeats kept).
    pub fn terms(&self, text: &str) -> Vec<String> {
        let stemmer = self.stem.then(|| Stemmer::create(Algorithm::English));
        text.unicode_words()
            .map(|w| {
                let w = if self.lowercase { w.to_lowercase() } else { w.to_string() };
                truncate(w)
            })
            .filter(|w| !(self.stop_words && STOP_WORDS.binary_search(&w.as_str()).is_ok()))
            .map(|w| match &stemmer {
                Some(s) => truncate(s.stem(&w).into_owned()),
                None => w,
            })
            .collect()
    }
}

/// The inverted index of `texts` (one per row, `None` for a null) analyzed by `analyzer`.
pub fn index_texts<'a>(texts: impl IntoIterator<Item = Option<&'a str>>, analyzer: &Analyzer) -> TextIndex {
    TextIndex::from_term_rows(texts.into_iter().map(|t| t.map(|t| analyzer.terms(t)).unwrap_or_default()))
}

fn truncate(mut w: String) -> String {
    if w.len() > MAX_TERM_BYTES {
        let mut end = MAX_TERM_BYTES;
        while !w.is_char_boundary(end) {
            end -= 1;
        }
        w.truncate(end);
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_segmented_lowercased_and_stop_words_dropped() {
        let a = Analyzer::default();
        assert_eq!(
            a.terms("The Quick-brown fox's DNS-server, v2.0!"),
            ["the", "quick", "brown", "fox's", "dns", "server", "v2.0"]
        );
        let s = Analyzer { stop_words: true, ..a };
        assert_eq!(s.terms("the cat and the hat"), ["cat", "hat"]);
        assert!(s.terms("the and of").is_empty());
        assert_eq!(a.terms("Größe ÉCOLE 東京 🦀 emoji"), ["größe", "école", "東", "京", "emoji"]);
        assert!(STOP_WORDS.windows(2).all(|w| w[0] < w[1]), "sorted for binary search");
        let long = "x".repeat(200) + " é".repeat(40).as_str();
        assert!(a.terms(&long).iter().all(|t| t.len() <= MAX_TERM_BYTES));
    }

    #[test]
    fn named_analyzers() {
        assert_eq!(Analyzer::named("simple").unwrap(), Analyzer::default());
        let en = Analyzer::named("english").unwrap();
        assert_eq!(en.terms("The servers are running and connected"), ["server", "run", "connect"]);
        for name in ailk_format::TEXT_ANALYZERS {
            assert!(Analyzer::named(name).is_ok(), "{name}");
        }
        assert!(Analyzer::named("klingon").is_err());
    }
}
