//! Full-text and hybrid search (issue 33). A text query is parsed with the column's analyzer;
//! every live file's inverted index of the column is loaded (from its section, or by reading
//! and analyzing its text column when it has none — counted) and BM25's collection statistics
//! (live documents, their total length, each term's live document frequency) are summed over
//! all of them, so every file is scored as one BM25 over the snapshot's live rows. Filters
//! restrict which rows score, never the statistics. Hybrid search runs a widened vector list
//! and a widened text list concurrently and fuses them (reciprocal-rank or weighted).

use std::sync::Arc;

use ailk_catalog::TextSpec;
use ailk_format::sync::lock;
use ailk_index::text::RRF_K0;
use ailk_index::text::{reciprocal_rank_fusion, weighted_fusion, Analyzer, Bm25, CollectionStats, TextQuery};
use ailk_index::Neighbor;
use arrow_array::RecordBatch;
use arrow_schema::{DataType, FieldRef};
use futures::{StreamExt, TryStreamExt};

use super::text_read::column_key;
use super::SearchSession;
use crate::error::{Result, SearchError};
use crate::filter::rows::filter_fields;
use crate::params::{SearchCounters, SearchParams};
use crate::text_shard::{load_text_shard, TextShard, TextSource};

/// Name of the score column of full-text and hybrid results (higher is better).
pub const SCORE_COLUMN: &str = "_score";

/// Files whose text index is loaded at once.
const TEXT_LOAD_CONCURRENCY: usize = 16;

/// How a hybrid search fuses its vector and text lists.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fusion {
    /// Reciprocal-rank fusion: `Σ 1 / (k0 + rank)` over the lists a row is in.
    Rrf {
        /// The rank offset (60 unless told otherwise).
        k0: f32,
    },
    /// Each list's scores min-max normalized, weighted and summed (vector scores are negated
    /// distances).
    Weighted {
        /// Weight of the vector list.
        vector: f32,
        /// Weight of the text list.
        text: f32,
    },
}

impl Default for Fusion {
    fn default() -> Self {
        Fusion::Rrf { k0: RRF_K0 }
    }
}

/// Parameters of a hybrid search beyond [`SearchParams`].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct HybridParams {
    /// How the lists are fused.
    pub fusion: Fusion,
    /// Rows taken from each list before fusing (default: `max(4k, 40)`; never below `k`).
    pub depth: Option<usize>,
}

impl HybridParams {
    /// The depth of each list for a top-`k` hybrid search.
    pub fn depth_for(&self, k: usize) -> usize {
        self.depth.unwrap_or((4 * k).max(40)).max(k)
    }
}

impl SearchSession {
    /// The `k` rows that best match the full-text query `text` (terms, `"phrases"`, `AND` /
    /// `OR`) in `params.text_column` (default: the first text-indexed column) by BM25 over the
    /// snapshot's live rows: the projected columns plus `_score`, best first. A string column
    /// without a text index is searched by reading and analyzing it (`simple` analyzer,
    /// counted in `text_shards_scanned`). An empty query is `InvalidQuery`; a query whose
    /// words all drop out (stop words, emoji) matches nothing.
    pub async fn text_search(&self, text: &str, k: usize, params: &SearchParams) -> Result<RecordBatch> {
        let spec = self.text_spec(params)?;
        let projection = self.projection(params)?;
        let hits = self.text_hits(text, k, &spec, params).await?;
        self.fetch_scored(&hits, &projection, SCORE_COLUMN).await
    }

    /// Hybrid search: the nearest rows to `vector` and the best BM25 matches of `text`, each
    /// list `hybrid.depth_for(k)` deep and filtered by `params.filter`, searched concurrently
    /// and fused (`hybrid.fusion`); the `k` best with the projected columns plus `_score`.
    pub async fn hybrid_search(
        &self,
        vector: &[f32],
        text: &str,
        k: usize,
        params: &SearchParams,
        hybrid: &HybridParams,
    ) -> Result<RecordBatch> {
        let depth = hybrid.depth_for(k);
        let (spec, q, vector_depth) = self.prepare(vector, depth, params)?;
        let text_spec = self.text_spec(params)?;
        let projection = self.projection(params)?;
        let (by_vector, by_text) = tokio::join!(
            self.nearest(&q, vector_depth, &spec, params, None),
            self.text_hits(text, depth, &text_spec, params)
        );
        let (by_vector, by_text) = (by_vector?, by_text?);
        let key = |(i, n): &(usize, Neighbor)| (*i, n.id);
        let fused = match hybrid.fusion {
            Fusion::Rrf { k0 } => {
                if !(k0.is_finite() && k0 >= 0.0) {
                    return Err(SearchError::InvalidQuery(format!(
                        "rrf k0 must be finite and ≥ 0, not {k0}"
                    )));
                }
                let lists = [by_vector.iter().map(key).collect(), by_text.iter().map(key).collect()];
                reciprocal_rank_fusion(&lists, k0, k)
            }
            Fusion::Weighted { vector, text } => {
                if !(vector.is_finite() && text.is_finite()) {
                    return Err(SearchError::InvalidQuery("fusion weights must be finite".into()));
                }
                let v = by_vector.iter().map(|h| (key(h), -h.1.distance)).collect();
                let t = by_text.iter().map(|h| (key(h), h.1.distance)).collect();
                weighted_fusion(&[(v, vector), (t, text)], k)
            }
        };
        let hits: Vec<(usize, Neighbor)> =
            fused.into_iter().map(|((i, id), score)| (i, Neighbor { id, distance: score })).collect();
        self.fetch_scored(&hits, &projection, SCORE_COLUMN).await
    }

    /// The text column `params` names (or the first text-indexed one): its spec, or one with
    /// the `simple` analyzer for a string column the table does not index.
    fn text_spec(&self, params: &SearchParams) -> Result<TextSpec> {
        let Some(name) = &params.text_column else {
            return self.texts.first().cloned().ok_or_else(|| {
                SearchError::InvalidQuery(format!(
                    "{} has no text-indexed column: name a string column to scan, or create the table with one",
                    self.table.ident()
                ))
            });
        };
        if let Some(spec) = self.texts.iter().find(|s| &s.name == name) {
            return Ok(spec.clone());
        }
        match self.schema.field_with_name(name).map(|f| f.data_type().clone()) {
            Ok(DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View) => Ok(TextSpec::new(name.clone())),
            Ok(other) => Err(SearchError::InvalidQuery(format!("{name} is {other}, not a text column"))),
            Err(_) => Err(SearchError::InvalidQuery(format!("column {name} is not in the table"))),
        }
    }

    /// The best `k` BM25 matches of `text` as (shard, row, score in `distance`), best first.
    pub(super) async fn text_hits(
        &self,
        text: &str,
        k: usize,
        spec: &TextSpec,
        params: &SearchParams,
    ) -> Result<Vec<(usize, Neighbor)>> {
        if k == 0 {
            return Err(SearchError::InvalidQuery("k must be at least 1".into()));
        }
        if text.trim().is_empty() {
            return Err(SearchError::InvalidQuery("the text query is empty".into()));
        }
        if let Some(filter) = &params.filter {
            filter_fields(filter, &self.schema)?;
        }
        let analyzer = Analyzer::named(&spec.analyzer)?;
        let query = TextQuery::parse(text, &analyzer)?;
        let terms = query.terms();
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        let field: FieldRef = Arc::new(self.schema.field_with_name(&spec.name)?.clone());
        // Every live file counts in the statistics, whatever the filter.
        let shards: Vec<Arc<TextShard>> = futures::stream::iter(0..self.plan.len())
            .map(|i| self.text_shard(i, spec, &field, params.text_pieces))
            .buffered(TEXT_LOAD_CONCURRENCY)
            .try_collect()
            .await?;
        let deleted: Vec<&[u64]> = self.plan.iter().map(|p| self.deletes.deleted(p.uri())).collect();
        let mut distinct = terms.clone();
        distinct.sort_unstable();
        distinct.dedup();
        let views =
            self.term_views(shards, spec, &field, &distinct, query.needs_positions(), &deleted).await?;
        let mut stats = CollectionStats::default();
        for (view, deleted) in views.iter().zip(&deleted) {
            let live = |r: u32| deleted.binary_search(&u64::from(r)).is_err();
            stats.docs += u64::from(view.rows()) - deleted.len() as u64;
            stats.total_len += view.total_len() - view.deleted_len;
            for t in &distinct {
                let postings = view.index().postings(t);
                let df = if deleted.is_empty() {
                    postings.len()
                } else {
                    postings.iter().filter(|p| live(p.row)).count()
                };
                *stats.df.entry(t.clone()).or_default() += df as u64;
            }
        }
        let bm25 = Bm25::default();
        let mut hits: Vec<(usize, Neighbor)> = Vec::new();
        for (i, (view, deleted)) in views.iter().zip(&deleted).enumerate() {
            let index = view.index();
            let allowed = match &params.filter {
                Some(f)
                    if crate::filter::prune::may_match(
                        f,
                        &self.plan[i].file.data_file,
                        self.table.schema(),
                    ) =>
                {
                    Some(self.filter_matches(&self.plan[i], f).await?)
                }
                Some(_) => continue,
                None => None,
            };
            let matched = (!query.is_disjunction_of_terms()).then(|| query.matches(index));
            let live = |r: u32| {
                deleted.binary_search(&u64::from(r)).is_err()
                    && allowed.as_ref().is_none_or(|a| a.binary_search(&r).is_ok())
                    && matched.as_ref().is_none_or(|m| m.contains(&r))
            };
            SearchCounters::add(&self.counters.text_shards_searched, 1);
            let top = bm25.top(index, &terms, &stats, &live, k);
            hits.extend(top.into_iter().map(|(row, score)| (i, Neighbor { id: row, distance: score })));
        }
        hits.sort_by(|a, b| {
            b.1.distance.total_cmp(&a.1.distance).then(a.0.cmp(&b.0)).then(a.1.id.cmp(&b.1.id))
        });
        hits.truncate(k);
        Ok(hits)
    }

    /// Shard `i`'s index of `spec`'s column: from the cache, the file's section, or a scan.
    async fn text_shard(
        &self,
        i: usize,
        spec: &TextSpec,
        field: &FieldRef,
        pieces: Option<bool>,
    ) -> Result<Arc<TextShard>> {
        let plan = &self.plan[i];
        let column = column_key(spec);
        let shard = match self.cache.get_text(plan.uri(), &column) {
            Some(s) => s,
            None => {
                let reader = self.reader(plan.uri(), &plan.path, plan.file_size()).await?;
                let shard = Arc::new(
                    load_text_shard(self.cached.clone(), &plan.path, &reader, spec, field, pieces).await?,
                );
                self.cache.insert_text(plan.uri(), &column, shard.clone());
                shard
            }
        };
        if lock(&self.touched).insert((plan.uri().to_string(), format!("text:{column}"))) {
            if shard.source != TextSource::Section {
                SearchCounters::add(&self.counters.text_shards_scanned, 1);
            }
            if shard.source == TextSource::Corrupt {
                SearchCounters::add(&self.counters.text_indexes_corrupt, 1);
            }
        }
        Ok(shard)
    }
}
