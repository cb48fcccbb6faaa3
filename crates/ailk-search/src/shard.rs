//! One shard (data file) loaded for search: the [`VectorIndex`] of one vector column, viewed in
//! place from the AILK section, or a flat index over the Parquet vector column (no section
//! yet, or a section that fails to load — logged and counted, never a wrong answer).

use std::sync::Arc;

use ailk_catalog::VectorSpec;
use ailk_format::object_store::path::Path;
use ailk_format::object_store::ObjectStore;
use ailk_format::{read_vector_column, ErrorKind, ShardReader};
use ailk_index::{kernels, Metric, VectorIndex};

use crate::error::Result;

/// A loaded shard of one vector column.
pub(crate) struct LoadedShard {
    pub index: VectorIndex,
    /// The section failed to load; searched exactly instead.
    pub corrupt: bool,
}

/// Loads `spec`'s column of the shard behind `reader`.
pub(crate) async fn load_shard(
    store: Arc<dyn ObjectStore>,
    path: &Path,
    reader: &ShardReader,
    spec: &VectorSpec,
) -> Result<LoadedShard> {
    let column = reader.directory().and_then(|d| d.column_index(&spec.name));
    let mut corrupt = false;
    if let Some(col) = column {
        let loaded = match reader.load_section().await {
            Ok(section) => VectorIndex::from_section(&section, col).map_err(crate::SearchError::from),
            Err(e) => Err(e.into()),
        };
        match loaded {
            Ok(index) => return Ok(LoadedShard { index, corrupt: false }),
            Err(e) if matches!(e.kind(), ErrorKind::Corrupt | ErrorKind::Unsupported) => {
                tracing::warn!(file = %path, error = %e, "AILK section unusable; searching the shard exactly");
                corrupt = true;
            }
            Err(e) => return Err(e),
        }
    }
    let dim = spec.dim as usize;
    let mut values = read_vector_column(store, path, reader, &spec.name, dim).await?;
    if spec.metric == Metric::Cosine {
        values.chunks_exact_mut(dim).for_each(kernels::normalize);
    }
    Ok(LoadedShard { index: VectorIndex::flat(values, dim, spec.metric)?, corrupt })
}
