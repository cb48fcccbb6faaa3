//! Iceberg v2 position deletes (merge-on-read): writing a position delete file for one data
//! file, and the [`DeleteIndex`] of a snapshot — for every live data file, the row positions
//! the snapshot's applicable position delete files remove.
//!
//! A position delete file is a Parquet file with the spec's two reserved columns,
//! `file_path` (field id 2147483546) and `pos` (2147483545), sorted by both. It applies to a
//! data file when it names the file's path and its data sequence number is at least the data
//! file's. ailake writes one delete file per data file and sets `referenced_data_file`; files
//! other engines wrote may cover many data files and are read in full.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use arrow_array::{Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use iceberg::spec::{DataContentType, DataFile, DataFileBuilder, DataFileFormat, Datum};
use object_store::ObjectStoreExt;

use crate::error::{CatalogError, Result};
use crate::manifests::{LiveFile, SnapshotFiles};
use crate::storage::Warehouse;

/// Field id of the `file_path` column of a position delete file.
pub const DELETE_FILE_PATH_FIELD_ID: i32 = 2147483546;
/// Field id of the `pos` column of a position delete file.
pub const DELETE_POS_FIELD_ID: i32 = 2147483545;

/// The rows each live data file of one snapshot has lost to position deletes.
#[derive(Debug, Default, Clone)]
pub struct DeleteIndex {
    by_file: HashMap<String, Arc<Vec<u64>>>,
    delete_files: usize,
}

impl DeleteIndex {
    /// Deleted row positions of data file `path`, ascending and unique (empty when none).
    pub fn deleted(&self, path: &str) -> &[u64] {
        self.by_file.get(path).map_or(&[], |v| v.as_slice())
    }

    /// Whether no row of the snapshot is deleted.
    pub fn is_empty(&self) -> bool {
        self.by_file.is_empty()
    }

    /// Deleted rows over all live data files.
    pub fn total(&self) -> u64 {
        self.by_file.values().map(|v| v.len() as u64).sum()
    }

    /// Live position delete files the index was built from.
    pub fn delete_files(&self) -> usize {
        self.delete_files
    }

    /// Builds the index of `data` (live data files) from `deletes` (live delete files).
    /// Equality deletes are `Unsupported`: ailake never writes them and cannot apply them yet.
    pub(crate) async fn build(
        warehouse: &Warehouse,
        table: &str,
        data: &[LiveFile],
        deletes: &[LiveFile],
    ) -> Result<Self> {
        if let Some(eq) =
            deletes.iter().find(|d| d.data_file.content_type() == DataContentType::EqualityDeletes)
        {
            return Err(CatalogError::Unsupported(format!(
                "{} holds equality delete file {}; applying equality deletes is not supported",
                table,
                eq.path()
            )));
        }
        let seq: HashMap<&str, i64> = data.iter().map(|f| (f.path(), f.sequence_number)).collect();
        let rows: HashMap<&str, u64> = data.iter().map(|f| (f.path(), f.data_file.record_count())).collect();
        let mut sets: HashMap<String, BTreeSet<u64>> = HashMap::new();
        for d in deletes {
            // A delete file naming one data file that is gone (or newer) changes nothing.
            if let Some(target) = d.data_file.referenced_data_file() {
                if seq.get(target.as_str()).is_none_or(|s| *s > d.sequence_number) {
                    continue;
                }
            }
            for (path, positions) in read_position_deletes(warehouse, d.path()).await? {
                if seq.get(path.as_str()).is_some_and(|s| *s <= d.sequence_number) {
                    // A position past the file's rows (another engine's bad delete file)
                    // deletes nothing.
                    let total = rows.get(path.as_str()).copied().unwrap_or(0);
                    sets.entry(path).or_default().extend(positions.into_iter().filter(|&p| p < total));
                }
            }
        }
        let by_file = sets.into_iter().map(|(p, s)| (p, Arc::new(s.into_iter().collect()))).collect();
        Ok(Self { by_file, delete_files: deletes.len() })
    }
}

/// The positions of data file `target` that the live delete files of `files` remove.
pub(crate) async fn deleted_positions_of(
    warehouse: &Warehouse,
    files: &SnapshotFiles,
    target: &str,
) -> Result<Vec<u64>> {
    let Some(data) = files.data.iter().find(|f| f.path() == target) else { return Ok(Vec::new()) };
    let mut set = BTreeSet::new();
    for d in files.deletes.iter().filter(|d| applies(d, data)) {
        if d.data_file.content_type() == DataContentType::EqualityDeletes {
            return Err(CatalogError::Unsupported(format!(
                "{target} has equality delete file {}; carrying equality deletes is not supported",
                d.path()
            )));
        }
        if let Some(p) = read_position_deletes(warehouse, d.path()).await?.remove(target) {
            set.extend(p);
        }
    }
    Ok(set.into_iter().collect())
}

/// Whether delete file `d` may apply to data file `data`: newer or as new, and naming it
/// (by `referenced_data_file`, or by its `file_path` bounds when those are set).
fn applies(d: &LiveFile, data: &LiveFile) -> bool {
    if d.sequence_number < data.sequence_number {
        return false;
    }
    if let Some(r) = d.data_file.referenced_data_file() {
        return r == data.path();
    }
    let bound = |m: &HashMap<i32, Datum>| match m.get(&DELETE_FILE_PATH_FIELD_ID).map(Datum::literal) {
        Some(iceberg::spec::PrimitiveLiteral::String(s)) => Some(s.clone()),
        _ => None,
    };
    match (bound(d.data_file.lower_bounds()), bound(d.data_file.upper_bounds())) {
        (Some(lo), Some(hi)) => lo.as_str() <= data.path() && data.path() <= hi.as_str(),
        _ => true,
    }
}

/// Reads the position delete file at `uri`: the positions it deletes, per data file path.
pub(crate) async fn read_position_deletes(
    warehouse: &Warehouse,
    uri: &str,
) -> Result<HashMap<String, Vec<u64>>> {
    let path = warehouse.path_of(uri)?;
    let store = warehouse.store().clone();
    let reader =
        ailk_format::ShardReader::open(store.clone(), path.clone(), ailk_format::ReadOptions::default())
            .await?;
    let columns = ["file_path".to_string(), "pos".to_string()];
    let batches = ailk_format::read_columns(store, &path, &reader, &columns, None).await?;
    let mut out: HashMap<String, Vec<u64>> = HashMap::new();
    for batch in batches {
        let paths = arrow_cast_strings(batch.column(0).as_ref(), uri)?;
        let pos = batch
            .column(1)
            .as_any()
            .downcast_ref::<Int64Array>()
            .ok_or_else(|| CatalogError::Corrupt(format!("{uri}: pos is not a long column")))?;
        for i in 0..batch.num_rows() {
            if paths.is_null(i) || pos.is_null(i) || pos.value(i) < 0 {
                return Err(CatalogError::Corrupt(format!("{uri}: row {i} has a null or negative position")));
            }
            out.entry(paths.value(i).to_string()).or_default().push(pos.value(i) as u64);
        }
    }
    Ok(out)
}

fn arrow_cast_strings<'a>(array: &'a dyn Array, uri: &str) -> Result<&'a StringArray> {
    array
        .as_any()
        .downcast_ref::<StringArray>()
        .ok_or_else(|| CatalogError::Corrupt(format!("{uri}: file_path is not a string column")))
}

/// The Arrow schema of a position delete file (the spec's reserved field ids).
fn delete_schema() -> Arc<Schema> {
    let id = |f: Field, id: i32| {
        f.with_metadata(HashMap::from([(
            parquet::arrow::PARQUET_FIELD_ID_META_KEY.to_string(),
            id.to_string(),
        )]))
    };
    Arc::new(Schema::new(vec![
        id(Field::new("file_path", DataType::Utf8, false), DELETE_FILE_PATH_FIELD_ID),
        id(Field::new("pos", DataType::Int64, false), DELETE_POS_FIELD_ID),
    ]))
}

/// Writes a position delete file under `data/` of the table at `location` that removes `positions` of data
/// file `target`, and returns its Iceberg entry (content `PositionDeletes`, referencing
/// `target`). The file is invisible until a commit adds it.
pub(crate) async fn write_position_deletes(
    warehouse: &Warehouse,
    location: &str,
    target: &DataFile,
    positions: &[u64],
) -> Result<DataFile> {
    let mut positions = positions.to_vec();
    positions.sort_unstable();
    positions.dedup();
    let (Some(&first), Some(&last)) = (positions.first(), positions.last()) else {
        return Err(CatalogError::InvalidInput("a position delete file needs at least one position".into()));
    };
    if last >= target.record_count() {
        return Err(CatalogError::InvalidInput(format!(
            "position {last} is past the {} rows of {}",
            target.record_count(),
            target.file_path()
        )));
    }
    let path_value = target.file_path();
    let batch = RecordBatch::try_new(
        delete_schema(),
        vec![
            Arc::new(StringArray::from_iter_values(std::iter::repeat_n(path_value, positions.len()))),
            Arc::new(Int64Array::from_iter_values(positions.iter().map(|&p| p as i64))),
        ],
    )
    .map_err(|e| CatalogError::Internal(format!("position delete batch: {e}")))?;
    let (bytes, _) = ailk_format::write_shard_bytes(delete_schema(), &[batch], None, None)?;
    let uri = format!("{location}/data/{}-deletes.parquet", uuid::Uuid::new_v4());
    let size = bytes.len() as u64;
    warehouse.store().put(&warehouse.path_of(&uri)?, bytes.into()).await?;
    let file = DataFileBuilder::default()
        .content(DataContentType::PositionDeletes)
        .file_path(uri)
        .file_format(DataFileFormat::Parquet)
        .partition(target.partition().clone())
        .record_count(positions.len() as u64)
        .file_size_in_bytes(size)
        .referenced_data_file(Some(path_value.to_string()))
        .lower_bounds(HashMap::from([
            (DELETE_FILE_PATH_FIELD_ID, Datum::string(path_value)),
            (DELETE_POS_FIELD_ID, Datum::long(first as i64)),
        ]))
        .upper_bounds(HashMap::from([
            (DELETE_FILE_PATH_FIELD_ID, Datum::string(path_value)),
            (DELETE_POS_FIELD_ID, Datum::long(last as i64)),
        ]))
        .build()
        .map_err(|e| CatalogError::Internal(format!("position delete entry: {e}")))?;
    Ok(file)
}
