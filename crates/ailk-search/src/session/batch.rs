//! Many queries at once: split over the runtime's worker threads (at most one per core),
//! each thread answering its share in turn; results in the queries' order.

use arrow_array::RecordBatch;
use futures::{StreamExt, TryStreamExt};

use super::SearchSession;
use crate::error::{Result, SearchError};
use crate::params::SearchParams;

impl SearchSession {
    /// [`Self::search`] for several queries, one result per query in their order. On a
    /// multi-threaded Tokio runtime the queries are split over as many threads as it has
    /// workers (at most one per core), each searching its share in turn; meanwhile other
    /// futures of the calling task wait (see `tokio::task::block_in_place`). Elsewhere the
    /// queries run concurrently on the calling task.
    pub async fn search_batch(
        &self,
        queries: &[Vec<f32>],
        k: usize,
        params: &SearchParams,
    ) -> Result<Vec<RecordBatch>> {
        use tokio::runtime::{Handle, RuntimeFlavor};
        let handle = Handle::try_current().ok().filter(|h| h.runtime_flavor() == RuntimeFlavor::MultiThread);
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        // As many threads as the runtime has workers, at most one per core.
        let parallel =
            handle.as_ref().map_or(cores, |h| h.metrics().num_workers().min(cores)).min(queries.len());
        let Some(handle) = handle.filter(|_| parallel > 1) else {
            // The futures are made up front: a stream mapping a borrowing closure is not
            // `Send` for every lifetime, which callers spawning this future need.
            let searches: Vec<_> = queries.iter().map(|q| self.search(q, k, params)).collect();
            return futures::stream::iter(searches).buffered(parallel.max(1)).try_collect().await;
        };
        let share = queries.len().div_ceil(parallel);
        tokio::task::block_in_place(|| {
            std::thread::scope(|scope| {
                let workers: Vec<_> = queries
                    .chunks(share)
                    .map(|part| {
                        let handle = handle.clone();
                        scope.spawn(move || {
                            handle.block_on(async {
                                let mut out = Vec::with_capacity(part.len());
                                for q in part {
                                    out.push(self.search(q, k, params).await?);
                                }
                                Ok::<_, SearchError>(out)
                            })
                        })
                    })
                    .collect();
                let mut out = Vec::with_capacity(queries.len());
                for w in workers {
                    let part =
                        w.join().map_err(|_| SearchError::Internal("a search thread panicked".into()))?;
                    out.extend(part?);
                }
                Ok(out)
            })
        })
    }
}
