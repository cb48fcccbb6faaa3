//! The table's shared IVF-PQ codebooks (one per vector column): stored under the table's
//! `metadata/` as `ailake-ivfpq-codebook-<column>.ailk`, trained once by the first deferred
//! IVF-PQ build (in any process) and reused by every later one, so all shards of the table
//! quantize alike.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use ailk_catalog::Table;
use ailk_format::object_store::{ObjectStoreExt, PutMode, PutPayload};
use ailk_format::sync::lock;
use ailk_index::{IvfPqCodebook, IvfPqConfig};
use tokio::sync::OnceCell;

use crate::error::{Result, WriterError};
use crate::prepare::PreparedColumn;

/// The codebooks this writer has loaded or trained, by column.
#[derive(Default)]
pub(crate) struct SharedCodebooks {
    cells: Mutex<HashMap<String, Arc<OnceCell<Arc<IvfPqCodebook>>>>>,
}

impl SharedCodebooks {
    /// The codebook of every column of a prepared batch (in column order): loaded once per
    /// writer, trained on `columns` with `cfg` (or `IvfPqConfig::for_dataset`) when the table
    /// has none yet.
    pub async fn for_columns(
        &self,
        table: &Table,
        columns: &[PreparedColumn],
        cfg: Option<IvfPqConfig>,
    ) -> Result<Vec<Arc<IvfPqCodebook>>> {
        let mut out = Vec::with_capacity(columns.len());
        for c in columns {
            let cell = lock(&self.cells).entry(c.spec.name.clone()).or_default().clone();
            out.push(cell.get_or_try_init(|| load_or_train(table, c, cfg)).await?.clone());
        }
        Ok(out)
    }
}

/// The table's codebook for a column: read it if stored, else train on this batch and
/// store it with a create-only put (a concurrent trainer that loses reads the winner's).
async fn load_or_train(
    table: &Table,
    c: &PreparedColumn,
    cfg: Option<IvfPqConfig>,
) -> Result<Arc<IvfPqCodebook>> {
    let wh = table.warehouse();
    let uri = format!(
        "{}/metadata/{}ivfpq-codebook-{}.ailk",
        table.location(),
        ailk_catalog::TABLE_FILE_PREFIX,
        c.spec.name
    );
    let path = wh.path_of(&uri)?;
    let mut stale = false;
    match wh.store().get(&path).await {
        Ok(got) => {
            let book = IvfPqCodebook::from_bytes(&got.bytes().await?)?;
            if fits(&book, c) {
                return Ok(Arc::new(book));
            }
            // Another table's (a dropped table re-created at the same location): replaced.
            tracing::warn!(%uri, dim = book.dim, metric = ?book.metric, "a codebook of another shape is stored for this column; training a new one");
            stale = true;
        }
        Err(object_store::Error::NotFound { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    let (values, dim, metric) = (c.index_values.clone(), c.spec.dim as usize, c.spec.metric);
    let rows = values.len() / dim;
    let cfg = cfg.unwrap_or_else(|| IvfPqConfig::for_dataset(rows, dim));
    let book = tokio::task::spawn_blocking(move || IvfPqCodebook::train(&values, dim, metric, &cfg))
        .await
        .map_err(|e| WriterError::BuildFailed { file: uri.clone(), reason: e.to_string() })??;
    let bytes = book.to_bytes()?;
    let mode = if stale { PutMode::Overwrite } else { PutMode::Create };
    match wh.store().put_opts(&path, PutPayload::from(bytes), mode.into()).await {
        Ok(_) => {
            tracing::info!(%uri, rows, "trained the table's shared IVF-PQ codebook");
            Ok(Arc::new(book))
        }
        Err(object_store::Error::AlreadyExists { .. }) => {
            let won = IvfPqCodebook::from_bytes(&wh.store().get(&path).await?.bytes().await?)?;
            if !fits(&won, c) {
                return Err(WriterError::InvalidInput(format!(
                    "{uri} holds a codebook of dimension {} ({:?}), not column {}'s",
                    won.dim, won.metric, c.spec.name
                )));
            }
            Ok(Arc::new(won))
        }
        Err(e) => Err(e.into()),
    }
}

/// Whether `book` quantizes `c`'s vectors: same dimension and metric.
fn fits(book: &IvfPqCodebook, c: &PreparedColumn) -> bool {
    book.dim == c.spec.dim as usize && book.metric == c.spec.metric
}
