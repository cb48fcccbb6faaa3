//! One query planned over the whole snapshot, searched in parts: the shards a search would
//! visit ([`SearchSession::candidate_shards`]) split into groups that separate workers search
//! ([`SearchSession::search_files`]); merging the parts' top-k by distance gives the
//! session's own answer. This is how a query engine (DataFusion, Ballista) runs one search
//! as parallel tasks.

use std::collections::{HashMap, HashSet};

use arrow_array::RecordBatch;

use super::plan::{Visit, OUTSIDE_PROBES};
use super::SearchSession;
use crate::error::{Result, SearchError};
use crate::filter::prune::may_match;
use crate::params::SearchParams;

/// A shard a search of one query visits unless its distance lower bound prunes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardCandidate {
    /// The data file's URI.
    pub uri: String,
    /// Rows of the file a search may return (matching the filter, not deleted).
    pub rows: u64,
}

impl SearchSession {
    /// The shards a search of `query` would visit, in visit order: every shard holding one of
    /// the table partitions probed for the query (all shards when the table has none), less
    /// those whose column bounds exclude the filter; then, only while those hold fewer than
    /// `k` rows the search may return, shards outside the probed partitions one at a time (as
    /// [`Self::search`] widens).
    ///
    /// Searching any split of these with [`Self::search_files`] and keeping the `k` nearest of
    /// the parts' results answers as [`Self::search`] does whenever the probed shards hold at
    /// least `k` such rows (shards pruned by their distance bound can hold no row nearer than
    /// the `k`-th). With a filter this reads the filter's columns of the probed shards (kept
    /// for the searches that follow).
    pub async fn candidate_shards(
        &self,
        query: &[f32],
        k: usize,
        params: &SearchParams,
    ) -> Result<Vec<ShardCandidate>> {
        let (spec, q, k) = self.prepare(query, k, params)?;
        let mut out = Vec::new();
        let mut rows_held = 0u64;
        for Visit { shard: i, rank, .. } in self.visit_order(&q, &spec, params) {
            let plan = &self.plan[i];
            if params
                .filter
                .as_ref()
                .is_some_and(|f| !may_match(f, &plan.file.data_file, self.table.schema()))
            {
                continue;
            }
            if rank == OUTSIDE_PROBES && rows_held >= k as u64 {
                break;
            }
            let deleted = self.deletes.deleted(plan.uri());
            let rows = match &params.filter {
                None => plan.rows().saturating_sub(deleted.len() as u64),
                Some(f) => {
                    let matching = self.filter_matches(plan, f).await?;
                    matching.iter().filter(|&&r| deleted.binary_search(&u64::from(r)).is_err()).count() as u64
                }
            };
            // A search returns at most `k` rows of one shard.
            rows_held += rows.min(k as u64);
            out.push(ShardCandidate { uri: plan.uri().to_string(), rows });
        }
        Ok(out)
    }

    /// [`Self::search`] over only the data files `files` (URIs of this snapshot, as
    /// [`Self::candidate_shards`] gives them), each visited whatever partitions it holds;
    /// shards are still pruned by their distance bound against this part's own `k`-th
    /// distance. An unknown URI is `InvalidQuery`.
    pub async fn search_files(
        &self,
        files: &[String],
        query: &[f32],
        k: usize,
        params: &SearchParams,
    ) -> Result<RecordBatch> {
        let (spec, q, k) = self.prepare(query, k, params)?;
        let projection = self.projection(params)?;
        let index: HashMap<&str, usize> = self.plan.iter().enumerate().map(|(i, p)| (p.uri(), i)).collect();
        let only: HashSet<usize> = files
            .iter()
            .map(|f| {
                index.get(f.as_str()).copied().ok_or_else(|| {
                    SearchError::InvalidQuery(format!(
                        "{f} is not a data file of snapshot {:?} of {}",
                        self.snapshot_id,
                        self.table.ident()
                    ))
                })
            })
            .collect::<Result<_>>()?;
        let hits = self.nearest(&q, k, &spec, params, Some(&only)).await?;
        self.fetch(&hits, &projection).await
    }
}
