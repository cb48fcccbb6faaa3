//! One shard (data file) loaded for search: the [`VectorIndex`] of one vector column, viewed in
//! place from the AILK section (its vectors from the section, or from the Parquet column
//! when the section was written without them), or a flat index over the Parquet vector
//! column (no section
//! yet, or a section that fails to load — logged and counted, never a wrong answer). The
//! Parquet column may be any list of floats another engine wrote; rows without a usable
//! vector are excluded, never returned.

use std::sync::Arc;

use ailk_catalog::VectorSpec;
use ailk_format::object_store::path::Path;
use ailk_format::object_store::ObjectStore;
use ailk_format::{read_vector_rows, resolve_columns, ErrorKind, ShardReader, TypedArray};
use ailk_index::{kernels, Metric, VectorIndex};
use arrow_schema::Field;

use crate::error::Result;

/// A loaded shard of one vector column.
pub(crate) struct LoadedShard {
    pub index: VectorIndex,
    /// The section failed to load; searched exactly instead.
    pub corrupt: bool,
    /// Rows without a usable vector (sorted): never returned.
    pub excluded: Vec<u32>,
}

impl LoadedShard {
    /// Rows of the shard, as its index holds them (never more than its file holds).
    pub fn rows(&self) -> usize {
        self.index.rows()
    }

    /// Estimated bytes it holds (index payloads and the excluded-row list).
    pub fn memory_bytes(&self) -> u64 {
        self.index.memory_bytes() + self.excluded.len() as u64 * 4
    }
}

/// Loads `spec`'s column of the shard behind `reader`.
pub(crate) async fn load_shard(
    store: Arc<dyn ObjectStore>,
    path: &Path,
    reader: &ShardReader,
    spec: &VectorSpec,
    field: &Field,
) -> Result<LoadedShard> {
    let column = reader.directory().and_then(|d| d.column_index(&spec.name));
    let mut corrupt = false;
    // The Parquet column's vectors, once read (a lighter file's index needs them; so does the
    // exact fallback, which then reuses them).
    let mut read: Option<(Vec<f32>, Vec<u32>)> = None;
    if let Some(col) = column {
        let loaded = match reader.load_section().await {
            Ok(section) if VectorIndex::needs_vectors(&section, col) => {
                // A section without its vectors (a lighter file): they are the file's own
                // column, every row of it usable (the writer checked them).
                let (values, excluded) =
                    read.insert(column_vectors(store.clone(), path, reader, spec, field).await?);
                if excluded.is_empty() {
                    let values = TypedArray::from_slice(values);
                    VectorIndex::from_section_with(&section, col, Some(values))
                        .map_err(crate::SearchError::from)
                } else {
                    Err(crate::SearchError::Corrupt(format!(
                        "{} of the indexed rows have no usable vector in the Parquet column",
                        excluded.len()
                    )))
                }
            }
            Ok(section) => VectorIndex::from_section(&section, col).map_err(crate::SearchError::from),
            Err(e) => Err(e.into()),
        };
        match loaded {
            Ok(index) => return Ok(LoadedShard { index, corrupt: false, excluded: Vec::new() }),
            Err(e) if matches!(e.kind(), ErrorKind::Corrupt | ErrorKind::Unsupported) => {
                tracing::warn!(file = %path, error = %e, "AILK section unusable; searching the shard exactly");
                corrupt = true;
            }
            Err(e) => return Err(e),
        }
    }
    let (values, excluded) = match read {
        Some(read) => read,
        None => column_vectors(store, path, reader, spec, field).await?,
    };
    if !excluded.is_empty() {
        tracing::warn!(file = %path, column = %spec.name, rows = excluded.len(), "rows without a usable vector (null, wrong length or NaN) are never returned");
    }
    Ok(LoadedShard { index: VectorIndex::flat(values, spec.dim as usize, spec.metric)?, corrupt, excluded })
}

/// The vectors of `spec`'s Parquet column (normalized for cosine) and the rows without a
/// usable one (zeros in their place). The column is found by field id, so a renamed column
/// is found; a file written before the column existed has none (every row excluded).
async fn column_vectors(
    store: Arc<dyn ObjectStore>,
    path: &Path,
    reader: &ShardReader,
    spec: &VectorSpec,
    field: &Field,
) -> Result<(Vec<f32>, Vec<u32>)> {
    let dim = spec.dim as usize;
    let (mut values, excluded) = match resolve_columns(reader, &[field])?.pop().flatten() {
        Some(name) => {
            let got = read_vector_rows(store, path, reader, &name, dim).await?;
            (got.values, got.bad.into_iter().map(|(row, _)| row).collect::<Vec<u32>>())
        }
        // No row has a vector: an index of no rows (nothing sized by the footer's count).
        None => {
            let rows = reader.metadata().file_metadata().num_rows();
            tracing::warn!(file = %path, column = %spec.name, rows, "the file has no such vector column: its rows are never returned");
            (Vec::new(), Vec::new())
        }
    };
    let mut excluded = excluded;
    if spec.metric == Metric::Cosine {
        values.chunks_exact_mut(dim).for_each(kernels::normalize);
        // A zero vector (another engine's file) has no cosine distance: never returned.
        let zeros = values.chunks_exact(dim).enumerate().filter(|(_, v)| v.iter().all(|&x| x == 0.0));
        let zeros: Vec<u32> =
            zeros.map(|(row, _)| row as u32).filter(|r| excluded.binary_search(r).is_err()).collect();
        if !zeros.is_empty() {
            excluded.extend(zeros);
            excluded.sort_unstable();
        }
    }
    Ok((values, excluded))
}
