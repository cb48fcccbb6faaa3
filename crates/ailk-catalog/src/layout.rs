//! The layout of an ailake table: attribute columns plus vector columns, recorded in the
//! table's properties (`ailake.vector-columns`), and the Arrow schema data files are written
//! with (vector columns as `FixedSizeList<Float32>`, every column carrying its Iceberg field id).

use std::sync::Arc;

use ailk_format::vector_column::{vector_field, with_field_id};
use ailk_format::Metric;
use arrow_schema::{DataType, Field, Schema as ArrowSchema, SchemaRef};
use iceberg::arrow::{arrow_schema_to_schema, schema_to_arrow_schema};
use iceberg::spec::{Schema, Type};

use crate::error::{CatalogError, Result};

/// Table property listing the vector columns: `name:dim:metric` entries, comma-separated,
/// the primary (pruning) column first.
pub const VECTOR_COLUMNS_PROPERTY: &str = "ailake.vector-columns";

/// One vector column of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VectorSpec {
    /// Column name.
    pub name: String,
    /// Dimension.
    pub dim: u32,
    /// Distance the column is searched by.
    pub metric: Metric,
}

impl VectorSpec {
    /// A vector column `name` of dimension `dim` searched by `metric`.
    pub fn new(name: impl Into<String>, dim: u32, metric: Metric) -> Self {
        Self { name: name.into(), dim, metric }
    }
}

/// Encodes specs as the `ailake.vector-columns` property value.
pub fn encode_specs(specs: &[VectorSpec]) -> String {
    specs.iter().map(|s| format!("{}:{}:{}", s.name, s.dim, s.metric.name())).collect::<Vec<_>>().join(",")
}

/// Parses the `ailake.vector-columns` property value.
pub fn parse_specs(value: &str) -> Result<Vec<VectorSpec>> {
    value
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|entry| {
            let bad = || CatalogError::Corrupt(format!("bad vector column entry {entry:?}"));
            let mut parts = entry.rsplitn(3, ':');
            let metric = match parts.next().ok_or_else(bad)? {
                "l2" => Metric::L2,
                "ip" => Metric::InnerProduct,
                "cosine" => Metric::Cosine,
                _ => return Err(bad()),
            };
            let dim = parts.next().and_then(|d| d.parse().ok()).filter(|&d| d > 0).ok_or_else(bad)?;
            let name = parts.next().filter(|n| !n.is_empty()).ok_or_else(bad)?;
            Ok(VectorSpec::new(name, dim, metric))
        })
        .collect()
}

/// The Iceberg schema of a table with `attributes` (flat primitive columns) and `vectors`
/// (each `list<float>`, required). Field ids: attributes first, then each vector column and
/// its element.
pub fn table_schema(attributes: &ArrowSchema, vectors: &[VectorSpec]) -> Result<Schema> {
    if vectors.is_empty() {
        return Err(CatalogError::InvalidInput("a table needs at least one vector column".into()));
    }
    let mut fields = Vec::new();
    let mut next_id = 1;
    for f in attributes.fields() {
        if f.data_type().is_nested() {
            return Err(CatalogError::InvalidInput(format!(
                "attribute column {} is {}: nested attribute columns are not supported",
                f.name(),
                f.data_type()
            )));
        }
        if vectors.iter().any(|v| &v.name == f.name()) {
            return Err(CatalogError::InvalidInput(format!(
                "{} is both an attribute and a vector column",
                f.name()
            )));
        }
        fields.push(with_field_id(f.as_ref().clone(), next_id));
        next_id += 1;
    }
    for v in vectors {
        if v.dim == 0 || v.name.is_empty() || v.name.contains([',', ':']) {
            return Err(CatalogError::InvalidInput(format!("invalid vector column {v:?}")));
        }
        fields.push(vector_field(&v.name, v.dim, next_id, next_id + 1, false));
        next_id += 2;
    }
    Ok(arrow_schema_to_schema(&ArrowSchema::new(fields))?)
}

/// The Arrow schema data files of a table are written with: the table schema's columns with
/// their field ids, vector columns as `FixedSizeList<Float32, dim>`.
pub fn file_schema(schema: &Schema, vectors: &[VectorSpec]) -> Result<SchemaRef> {
    let arrow = schema_to_arrow_schema(schema)?;
    let mut fields: Vec<Field> = Vec::with_capacity(arrow.fields().len());
    for (field, iceberg_field) in arrow.fields().iter().zip(schema.as_struct().fields()) {
        match vectors.iter().find(|v| &v.name == field.name()) {
            Some(v) => {
                let Type::List(list) = iceberg_field.field_type.as_ref() else {
                    return Err(CatalogError::SchemaMismatch(format!(
                        "vector column {} is not a list",
                        v.name
                    )));
                };
                fields.push(vector_field(
                    &v.name,
                    v.dim,
                    iceberg_field.id,
                    list.element_field.id,
                    !iceberg_field.required,
                ));
            }
            None => fields.push(field.as_ref().clone()),
        }
    }
    for v in vectors {
        if !fields.iter().any(|f| f.name() == &v.name && matches!(f.data_type(), DataType::FixedSizeList(..)))
        {
            return Err(CatalogError::SchemaMismatch(format!("table has no vector column {}", v.name)));
        }
    }
    Ok(Arc::new(ArrowSchema::new(fields)))
}

/// Snapshot-summary key listing the batch ids a commit carries (comma-separated).
pub const BATCH_IDS_PROPERTY: &str = "ailake.batch-ids";

/// Files under a table's `metadata/` whose names start with this belong to the table itself
/// (e.g. the shared IVF-PQ codebook) and are never orphans.
pub const TABLE_FILE_PREFIX: &str = "ailake-";
