//! One shard (data file) loaded for search: its index viewed in place from the AILK section,
//! or its vectors read from the Parquet vector column for an exact scan (no section yet, or a
//! section that fails to load — logged, never a wrong answer).

use std::sync::Arc;

use ailk_catalog::VectorSpec;
use ailk_format::object_store::path::Path;
use ailk_format::object_store::ObjectStore;
use ailk_format::vector_column::array_values;
use ailk_format::{RawVectors, ShardReader, SubsectionKind, TypedArray, VectorData};
use ailk_index::{kernels, HnswIndex, IvfPqIndex, IvfPqSearch, Metric, Neighbor, TopK};
use arrow_array::RecordBatch;
use futures::TryStreamExt;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions, RowSelection};
use parquet::arrow::async_reader::ParquetObjectReader;
use parquet::arrow::{ParquetRecordBatchStreamBuilder, ProjectionMask};

use crate::error::{Result, SearchError};
use crate::params::SearchParams;

/// How a shard is searched.
pub(crate) enum ShardIndex {
    Hnsw(HnswIndex),
    IvfPq(IvfPqIndex),
    Flat,
}

/// Raw vectors of a shard (unit length for cosine columns).
pub(crate) enum Vectors {
    Section(TypedArray<f32>),
    Owned(Vec<f32>),
}

impl Vectors {
    fn as_slice(&self) -> &[f32] {
        match self {
            Vectors::Section(v) => v,
            Vectors::Owned(v) => v,
        }
    }
}

/// A loaded shard of one vector column.
pub(crate) struct LoadedShard {
    pub index: ShardIndex,
    pub vectors: Option<Vectors>,
    pub dim: usize,
    pub metric: Metric,
    /// The section failed to load; searched exactly instead.
    pub corrupt: bool,
}

impl LoadedShard {
    pub fn is_flat(&self) -> bool {
        matches!(self.index, ShardIndex::Flat)
    }

    fn raw(&self) -> Option<&[f32]> {
        match (&self.index, &self.vectors) {
            (ShardIndex::Hnsw(h), _) => Some(h.vectors()),
            (_, Some(v)) => Some(v.as_slice()),
            _ => None,
        }
    }

    /// The `k` nearest rows to `query` (unit length for cosine), optionally among `allowed` rows only.
    pub fn search(
        &self,
        query: &[f32],
        k: usize,
        params: &SearchParams,
        allowed: Option<&[u32]>,
    ) -> Result<Vec<Neighbor>> {
        if let Some(rows) = allowed {
            let raw =
                self.raw().ok_or_else(|| SearchError::InvalidQuery("shard has no raw vectors".into()))?;
            let mut top = TopK::new(k);
            for &r in rows {
                let v = &raw[r as usize * self.dim..(r as usize + 1) * self.dim];
                top.push(r, kernels::distance(self.metric, query, v));
            }
            return Ok(top.into_sorted_vec());
        }
        match &self.index {
            ShardIndex::Hnsw(h) => Ok(h.search(query, k, params.ef)?),
            ShardIndex::IvfPq(ivf) => {
                let p =
                    IvfPqSearch { nprobe: params.nprobe.max(1), refine_factor: params.refine_factor.max(1) };
                match ivf.search(query, k, &p) {
                    Ok(n) => Ok(n),
                    // No raw vectors kept for refine: rank by codes only.
                    Err(_) if p.refine_factor > 1 => {
                        Ok(ivf.search(query, k, &IvfPqSearch { refine_factor: 1, ..p })?)
                    }
                    Err(e) => Err(e.into()),
                }
            }
            ShardIndex::Flat => {
                let raw = self
                    .raw()
                    .ok_or_else(|| SearchError::InvalidQuery("flat shard without vectors".into()))?;
                Ok(ailk_index::flat_search(raw, self.dim, self.metric, query, k)?)
            }
        }
    }
}

/// Loads `spec`'s column of the shard behind `reader`.
pub(crate) async fn load_shard(
    store: Arc<dyn ObjectStore>,
    path: &Path,
    reader: &ShardReader,
    spec: &VectorSpec,
) -> Result<LoadedShard> {
    let dim = spec.dim as usize;
    let base = |index, vectors, corrupt| LoadedShard { index, vectors, dim, metric: spec.metric, corrupt };
    let column = reader.directory().and_then(|d| d.column_index(&spec.name));
    let mut corrupt = false;
    if let Some(col) = column {
        match load_indexed(reader, col).await {
            Ok((index, vectors)) => return Ok(base(index, vectors, false)),
            Err(e) => {
                tracing::warn!(file = %path, error = %e, "AILK section unusable; searching the shard exactly");
                corrupt = true;
            }
        }
    }
    let mut values = read_vector_column(store, path, reader, &spec.name).await?;
    if values.len() != reader.metadata().file_metadata().num_rows() as usize * dim {
        return Err(SearchError::InvalidQuery(format!(
            "{path}: vector column {} is not {dim}-dimensional",
            spec.name
        )));
    }
    if spec.metric == Metric::Cosine {
        values.chunks_exact_mut(dim).for_each(kernels::normalize);
    }
    Ok(base(ShardIndex::Flat, Some(Vectors::Owned(values)), corrupt))
}

async fn load_indexed(reader: &ShardReader, col: u16) -> Result<(ShardIndex, Option<Vectors>)> {
    let section = reader.load_section().await?;
    let dir = section.directory();
    let raw = || -> Result<Option<Vectors>> {
        if dir.find(SubsectionKind::RawVectors, col).is_none() {
            return Ok(None);
        }
        match RawVectors::decode(&section.payload(SubsectionKind::RawVectors, col)?)?.data {
            VectorData::F32(v) => Ok(Some(Vectors::Section(v))),
            VectorData::F16(_) => Ok(None),
        }
    };
    if dir.find(SubsectionKind::HnswGraph, col).is_some() {
        return Ok((ShardIndex::Hnsw(HnswIndex::from_section(&section, col)?), None));
    }
    if dir.find(SubsectionKind::IvfLists, col).is_some() {
        return Ok((ShardIndex::IvfPq(IvfPqIndex::from_section(&section, col)?), raw()?));
    }
    match raw()? {
        Some(v) => Ok((ShardIndex::Flat, Some(v))),
        None => Err(SearchError::InvalidQuery("section has no usable index for the column".into())),
    }
}

/// Streams `columns` of the rows in `selection` (all rows when `None`) of a shard, reusing the
/// footer its `ShardReader` already decoded.
pub(crate) async fn read_columns(
    store: Arc<dyn ObjectStore>,
    path: &Path,
    reader: &ShardReader,
    columns: &[String],
    selection: Option<RowSelection>,
) -> Result<Vec<RecordBatch>> {
    let meta = ArrowReaderMetadata::try_new(reader.metadata().clone(), ArrowReaderOptions::new())?;
    let roots: Vec<usize> = columns
        .iter()
        .map(|c| {
            meta.schema()
                .index_of(c)
                .map_err(|_| SearchError::InvalidQuery(format!("{path} has no column {c}")))
        })
        .collect::<Result<_>>()?;
    let object = ParquetObjectReader::new(store, path.clone()).with_file_size(reader.file_size());
    let mask = ProjectionMask::roots(meta.parquet_schema(), roots);
    let mut builder = ParquetRecordBatchStreamBuilder::new_with_metadata(object, meta).with_projection(mask);
    if let Some(sel) = selection {
        builder = builder.with_row_selection(sel);
    }
    Ok(builder.build()?.try_collect().await?)
}

async fn read_vector_column(
    store: Arc<dyn ObjectStore>,
    path: &Path,
    reader: &ShardReader,
    name: &str,
) -> Result<Vec<f32>> {
    let batches = read_columns(store, path, reader, &[name.to_string()], None).await?;
    let mut out = Vec::new();
    for b in batches {
        let (_, values) = array_values(b.column(0).as_ref())?;
        out.extend_from_slice(values);
    }
    Ok(out)
}

/// Reads vector column `name` of the Parquet file at `path` (row-major `f32` values): what an
/// index build of a Parquet-only shard starts from.
pub async fn read_vectors(store: Arc<dyn ObjectStore>, path: &Path, name: &str) -> Result<Vec<f32>> {
    let reader = ShardReader::open(store.clone(), path.clone(), ailk_format::ReadOptions::default()).await?;
    read_vector_column(store, path, &reader, name).await
}
