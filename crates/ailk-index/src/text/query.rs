//! [`TextQuery`]: a full-text query — terms, `"quoted phrases"`, `AND` / `OR` (uppercase;
//! `AND` binds tighter; clauses side by side are `OR`ed) — parsed with the column's analyzer,
//! and the rows of one file it matches. Scoring is BM25 over every term of the query
//! ([`TextQuery::terms`]) on the matched rows.

use std::collections::BTreeSet;

use crate::error::{IndexError, Result};
use crate::text::analyzer::Analyzer;
use ailk_format::TextIndex;

/// Most terms a query may hold (a longer one is refused, not truncated).
pub const MAX_QUERY_TERMS: usize = 1024;

/// A parsed full-text query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextQuery {
    /// Rows holding the term.
    Term(String),
    /// Rows holding the terms at consecutive positions.
    Phrase(Vec<String>),
    /// Rows matching every clause.
    All(Vec<TextQuery>),
    /// Rows matching any clause (none for an empty list: a query of stop words only).
    Any(Vec<TextQuery>),
}

/// A token of the query text.
enum Token {
    Clause(TextQuery),
    And,
    Or,
}

impl TextQuery {
    /// Parses `text`. A bare word the analyzer splits into several terms (`dns-server`) is a
    /// phrase; words and phrases the analyzer empties (stop words, emoji) drop out; an
    /// unbalanced quote runs to the end. `InvalidParams` past [`MAX_QUERY_TERMS`] terms.
    pub fn parse(text: &str, analyzer: &Analyzer) -> Result<Self> {
        let mut tokens = Vec::new();
        let mut terms = 0usize;
        let mut clause = |words: &str, tokens: &mut Vec<Token>| -> Result<()> {
            let t = analyzer.terms(words);
            terms += t.len();
            if terms > MAX_QUERY_TERMS {
                return Err(IndexError::InvalidParams(format!(
                    "the text query has more than {MAX_QUERY_TERMS} terms"
                )));
            }
            match t.len() {
                0 => {}
                1 => tokens.push(Token::Clause(TextQuery::Term(t.into_iter().next().expect("one")))),
                _ => tokens.push(Token::Clause(TextQuery::Phrase(t))),
            }
            Ok(())
        };
        for (i, part) in text.split('"').enumerate() {
            if i % 2 == 1 {
                clause(part, &mut tokens)?;
                continue;
            }
            for word in part.split_whitespace() {
                match word {
                    "AND" => tokens.push(Token::And),
                    "OR" => tokens.push(Token::Or),
                    w => clause(w, &mut tokens)?,
                }
            }
        }
        // OR-groups of AND-chains: a clause after `AND` joins the current chain.
        let mut groups: Vec<Vec<TextQuery>> = Vec::new();
        let mut joined = false;
        for t in tokens {
            match t {
                Token::And => joined = true,
                Token::Or => joined = false,
                Token::Clause(c) => {
                    match groups.last_mut() {
                        Some(g) if joined => g.push(c),
                        _ => groups.push(vec![c]),
                    }
                    joined = false;
                }
            }
        }
        let mut any: Vec<TextQuery> = groups
            .into_iter()
            .map(|mut g| if g.len() == 1 { g.remove(0) } else { TextQuery::All(g) })
            .collect();
        Ok(if any.len() == 1 { any.remove(0) } else { TextQuery::Any(any) })
    }

    /// Every term of the query, in order, repeats kept (what BM25 sums over).
    pub fn terms(&self) -> Vec<String> {
        match self {
            TextQuery::Term(t) => vec![t.clone()],
            TextQuery::Phrase(ts) => ts.clone(),
            TextQuery::All(cs) | TextQuery::Any(cs) => cs.iter().flat_map(TextQuery::terms).collect(),
        }
    }

    /// Whether the query is one term or an `OR` of terms: then every row holding any of its
    /// terms matches, and scoring needs no separate match step.
    pub fn is_disjunction_of_terms(&self) -> bool {
        match self {
            TextQuery::Term(_) => true,
            TextQuery::Any(cs) => cs.iter().all(|c| matches!(c, TextQuery::Term(_))),
            _ => false,
        }
    }

    /// Whether matching needs the terms' positions (the query holds a phrase).
    pub fn needs_positions(&self) -> bool {
        match self {
            TextQuery::Term(_) => false,
            TextQuery::Phrase(_) => true,
            TextQuery::All(cs) | TextQuery::Any(cs) => cs.iter().any(TextQuery::needs_positions),
        }
    }

    /// The rows of `index` the query matches, ascending.
    pub fn matches(&self, index: &TextIndex) -> BTreeSet<u32> {
        match self {
            TextQuery::Term(t) => index.postings(t).iter().map(|p| p.row).collect(),
            TextQuery::Phrase(ts) => phrase_rows(index, ts),
            TextQuery::All(cs) => {
                let mut it = cs.iter().map(|c| c.matches(index));
                let first = it.next().unwrap_or_default();
                it.fold(first, |acc, m| acc.intersection(&m).copied().collect())
            }
            TextQuery::Any(cs) => cs.iter().flat_map(|c| c.matches(index)).collect(),
        }
    }
}

/// Rows holding `terms` at consecutive positions.
fn phrase_rows(index: &TextIndex, terms: &[String]) -> BTreeSet<u32> {
    if terms.is_empty() {
        return BTreeSet::new();
    }
    let lists: Vec<_> = terms.iter().map(|t| index.postings(t)).collect();
    let mut out = BTreeSet::new();
    for p in lists[0] {
        let rest: Option<Vec<&Vec<u32>>> = lists[1..]
            .iter()
            .map(|l| l.binary_search_by_key(&p.row, |q| q.row).ok().map(|i| &l[i].positions))
            .collect();
        let Some(rest) = rest else { continue };
        let hit = p
            .positions
            .iter()
            .any(|&at| rest.iter().enumerate().all(|(i, ps)| ps.binary_search(&(at + 1 + i as u32)).is_ok()));
        if hit {
            out.insert(p.row);
        }
    }
    out
}
