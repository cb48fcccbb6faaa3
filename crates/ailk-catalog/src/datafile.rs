//! Iceberg `DataFile` entries from Parquet footers: record count, file size, per-column sizes,
//! value and null counts, lower/upper bounds of primitive columns, and row-group split offsets.
//!
//! iceberg-rust 0.10 keeps its own helper for this crate-private, and its Parquet writer cannot
//! embed an AILK section, so we read the footer our writer (or any writer) produced. Columns are
//! matched to the table schema by Parquet field id; a file whose columns do not match is a
//! [`CatalogError::SchemaMismatch`].

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use iceberg::spec::{
    DataContentType, DataFile, DataFileBuilder, DataFileFormat, Datum, NestedFieldRef, PrimitiveType, Schema,
    Type,
};
use object_store::ObjectStore;
use parquet::basic::Type as PhysicalType;
use parquet::file::metadata::ParquetMetaData;
use parquet::file::statistics::Statistics;

use crate::error::{CatalogError, Result};
use crate::storage::Warehouse;

/// Reads the footer of the Parquet file at `uri` (a URI under `warehouse`) and returns its
/// Iceberg `DataFile` entry for `schema`.
pub async fn data_file_from_store(warehouse: &Warehouse, uri: &str, schema: &Schema) -> Result<DataFile> {
    let path = warehouse.path_of(uri)?;
    let store: Arc<dyn ObjectStore> = warehouse.store().clone();
    let reader = ailk_format::ShardReader::open(store, path, ailk_format::ReadOptions::default()).await?;
    data_file_from_metadata(uri, reader.file_size(), reader.metadata(), schema)
}

/// Builds the Iceberg `DataFile` of a Parquet file from its decoded footer.
pub fn data_file_from_metadata(
    uri: &str,
    file_size: u64,
    metadata: &ParquetMetaData,
    schema: &Schema,
) -> Result<DataFile> {
    let bounded = bounded_field_ids(schema);
    let mut column_sizes: HashMap<i32, u64> = HashMap::new();
    let mut value_counts: HashMap<i32, u64> = HashMap::new();
    let mut null_counts: HashMap<i32, u64> = HashMap::new();
    let mut nulls_unknown: HashSet<i32> = HashSet::new();
    let mut lower: HashMap<i32, Datum> = HashMap::new();
    let mut upper: HashMap<i32, Datum> = HashMap::new();
    let mut no_bounds: HashSet<i32> = HashSet::new();
    let mut split_offsets = Vec::new();
    let mut record_count = 0u64;

    let descr = metadata.file_metadata().schema_descr();
    let mut leaf_ids = Vec::with_capacity(descr.num_columns());
    for leaf in descr.columns() {
        let info = leaf.self_type().get_basic_info();
        if !info.has_id() {
            return Err(CatalogError::SchemaMismatch(format!(
                "{uri}: column {} has no field id",
                leaf.path().string()
            )));
        }
        let field = schema.field_by_id(info.id()).ok_or_else(|| {
            CatalogError::SchemaMismatch(format!(
                "{uri}: column {} has field id {} which the table schema does not have",
                leaf.path().string(),
                info.id()
            ))
        })?;
        if !field.field_type.is_primitive() {
            return Err(CatalogError::SchemaMismatch(format!(
                "{uri}: leaf column {} maps to non-primitive field {}",
                leaf.path().string(),
                field.name
            )));
        }
        leaf_ids.push(info.id());
    }
    for field in required_leaves(schema) {
        if !leaf_ids.contains(&field.id) {
            return Err(CatalogError::SchemaMismatch(format!(
                "{uri}: required column {} (field id {}) is missing",
                field.name, field.id
            )));
        }
    }

    for rg in metadata.row_groups() {
        record_count += u64::try_from(rg.num_rows()).unwrap_or(0);
        if let Some(first) = rg.columns().first() {
            let start = first.dictionary_page_offset().unwrap_or_else(|| first.data_page_offset());
            split_offsets.push(start);
        }
        for (chunk, &id) in rg.columns().iter().zip(&leaf_ids) {
            *column_sizes.entry(id).or_default() += u64::try_from(chunk.compressed_size()).unwrap_or(0);
            *value_counts.entry(id).or_default() += u64::try_from(chunk.num_values()).unwrap_or(0);
            let stats = chunk.statistics();
            match stats.and_then(Statistics::null_count_opt) {
                Some(n) => *null_counts.entry(id).or_default() += n,
                None => {
                    nulls_unknown.insert(id);
                }
            }
            let Some(ty) = bounded.get(&id) else { continue };
            let bounds = stats.and_then(|s| chunk_bounds(s, ty));
            match bounds {
                Some((lo, hi)) if !no_bounds.contains(&id) => {
                    merge(&mut lower, id, lo, std::cmp::Ordering::Less);
                    merge(&mut upper, id, hi, std::cmp::Ordering::Greater);
                }
                _ => {
                    // One row group without exact bounds makes the file's bounds unknown.
                    no_bounds.insert(id);
                    lower.remove(&id);
                    upper.remove(&id);
                }
            }
        }
    }
    for id in nulls_unknown {
        null_counts.remove(&id);
    }

    DataFileBuilder::default()
        .content(DataContentType::Data)
        .file_path(uri.to_string())
        .file_format(DataFileFormat::Parquet)
        .record_count(record_count)
        .file_size_in_bytes(file_size)
        .column_sizes(column_sizes)
        .value_counts(value_counts)
        .null_value_counts(null_counts)
        .lower_bounds(lower)
        .upper_bounds(upper)
        .split_offsets(Some(split_offsets))
        .build()
        .map_err(|e| CatalogError::InvalidInput(format!("data file entry for {uri}: {e}")))
}

fn merge(map: &mut HashMap<i32, Datum>, id: i32, value: Datum, keep_if: std::cmp::Ordering) {
    match map.get(&id) {
        Some(old) if value.partial_cmp(old) != Some(keep_if) => {}
        _ => {
            map.insert(id, value);
        }
    }
}

/// Exact min/max of one column chunk as Iceberg values, when the physical type fits the
/// Iceberg type (Iceberg's single-value encoding of these types is Parquet's plain encoding).
fn chunk_bounds(stats: &Statistics, ty: &PrimitiveType) -> Option<(Datum, Datum)> {
    if !stats.min_is_exact() || !stats.max_is_exact() {
        return None;
    }
    let fits = matches!(
        (stats.physical_type(), ty),
        (PhysicalType::BOOLEAN, PrimitiveType::Boolean)
            | (PhysicalType::INT32, PrimitiveType::Int | PrimitiveType::Date)
            | (
                PhysicalType::INT64,
                PrimitiveType::Long
                    | PrimitiveType::Time
                    | PrimitiveType::Timestamp
                    | PrimitiveType::Timestamptz
            )
            | (PhysicalType::FLOAT, PrimitiveType::Float)
            | (PhysicalType::DOUBLE, PrimitiveType::Double)
            | (PhysicalType::BYTE_ARRAY, PrimitiveType::String | PrimitiveType::Binary)
    );
    if !fits {
        return None;
    }
    let has_nan = match stats {
        Statistics::Float(s) => s.min_opt()?.is_nan() || s.max_opt()?.is_nan(),
        Statistics::Double(s) => s.min_opt()?.is_nan() || s.max_opt()?.is_nan(),
        _ => false,
    };
    if has_nan {
        return None;
    }
    let lo = Datum::try_from_bytes(stats.min_bytes_opt()?, ty.clone()).ok()?;
    let hi = Datum::try_from_bytes(stats.max_bytes_opt()?, ty.clone()).ok()?;
    Some((lo, hi))
}

/// Field ids of primitive fields reachable through structs only (not inside lists or maps):
/// the ones Iceberg keeps bounds for.
fn bounded_field_ids(schema: &Schema) -> HashMap<i32, PrimitiveType> {
    fn walk(fields: &[NestedFieldRef], out: &mut HashMap<i32, PrimitiveType>) {
        for f in fields {
            match f.field_type.as_ref() {
                Type::Primitive(p) => {
                    out.insert(f.id, p.clone());
                }
                Type::Struct(s) => walk(s.fields(), out),
                _ => {}
            }
        }
    }
    let mut out = HashMap::new();
    walk(schema.as_struct().fields(), &mut out);
    out
}

/// Required primitive fields reachable through required structs: every data file must have them.
fn required_leaves(schema: &Schema) -> Vec<NestedFieldRef> {
    fn walk(fields: &[NestedFieldRef], out: &mut Vec<NestedFieldRef>) {
        for f in fields.iter().filter(|f| f.required) {
            match f.field_type.as_ref() {
                Type::Primitive(_) => out.push(f.clone()),
                Type::Struct(s) => walk(s.fields(), out),
                Type::List(l) if l.element_field.required && l.element_field.field_type.is_primitive() => {
                    out.push(l.element_field.clone())
                }
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    walk(schema.as_struct().fields(), &mut out);
    out
}
