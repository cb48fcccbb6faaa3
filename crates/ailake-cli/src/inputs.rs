//! What `ailake ingest` reads: Parquet files holding the rows and their vector column (as
//! `FixedSizeList`, `List` or `LargeList` of floats), or `.npy` / `.fvecs` vectors with a
//! Parquet / CSV file of the attribute columns. Every input is checked against the table
//! before anything is written, then read in batches of at most `batch_rows` rows.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ailake::prelude::*;
use ailk_testkit::texmex::Matrix;
use arrow_array::{ArrayRef, FixedSizeListArray, Float32Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::errors::{invalid, not_found};

/// One input of an ingest, checked against the table.
#[derive(Debug)]
pub enum Source {
    /// A Parquet file with the table's columns.
    Parquet { path: PathBuf, rows: usize },
    /// Vectors for the primary vector column, with their attribute rows.
    Vectors { path: PathBuf, vectors: Matrix<f32>, attributes: Vec<RecordBatch> },
}

impl Source {
    /// Rows the input holds.
    pub fn rows(&self) -> usize {
        match self {
            Source::Parquet { rows, .. } => *rows,
            Source::Vectors { vectors, .. } => vectors.rows(),
        }
    }

    /// The input's path.
    pub fn path(&self) -> &Path {
        match self {
            Source::Parquet { path, .. } | Source::Vectors { path, .. } => path,
        }
    }
}

/// The table's columns as ingest expects them: attributes and vector columns.
pub struct Expected {
    schema: SchemaRef,
    specs: Vec<VectorSpec>,
    /// The attribute columns, without field-id metadata (CSV and `.npy` inputs carry none).
    attributes: Schema,
}

impl Expected {
    /// From the table's current schema.
    pub fn of(table: &Table) -> anyhow::Result<Self> {
        let specs = table.vector_columns()?;
        let fields: Vec<Arc<Field>> = table
            .attribute_schema()?
            .fields()
            .iter()
            .map(|f| Arc::new(f.as_ref().clone().with_metadata(Default::default())))
            .collect();
        Ok(Self { schema: table.file_schema()?, specs, attributes: Schema::new(fields) })
    }

    /// Checks a Parquet file's schema: every table column present, no column the table lacks,
    /// vector columns as lists of floats.
    fn check_parquet(&self, path: &Path, schema: &Schema) -> anyhow::Result<()> {
        let name = path.display();
        for f in schema.fields() {
            if self.schema.field_with_name(f.name()).is_err() {
                return Err(invalid(format!("{name}: column {} is not in the table", f.name())));
            }
        }
        for f in self.schema.fields() {
            let Ok(given) = schema.field_with_name(f.name()) else {
                return Err(invalid(format!("{name}: the table's column {} is missing", f.name())));
            };
            if self.specs.iter().any(|s| &s.name == f.name()) {
                let item = match given.data_type() {
                    DataType::FixedSizeList(i, _) | DataType::List(i) | DataType::LargeList(i) => {
                        i.data_type()
                    }
                    other => {
                        return Err(invalid(format!(
                            "{name}: vector column {} is {other}, not a list of floats",
                            f.name()
                        )))
                    }
                };
                if !matches!(item, DataType::Float16 | DataType::Float32 | DataType::Float64) {
                    return Err(invalid(format!(
                        "{name}: vector column {} holds {item}, not floats",
                        f.name()
                    )));
                }
            }
        }
        Ok(())
    }
}

fn open_parquet(path: &Path) -> anyhow::Result<ParquetRecordBatchReaderBuilder<File>> {
    let file = File::open(path).map_err(|e| invalid(format!("{}: {e}", path.display())))?;
    ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| invalid(format!("{}: not a readable Parquet file: {e}", path.display())))
}

/// A missing input file is `NotFound` (exit 3), named once, before anything is read.
pub fn must_exist(path: &Path) -> anyhow::Result<()> {
    if path.is_file() {
        return Ok(());
    }
    let what = if path.exists() { "not a file" } else { "no such file" };
    Err(not_found(format!("{}: {what}", path.display())))
}

fn read_vectors(path: &Path) -> anyhow::Result<Matrix<f32>> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let m = match ext {
        "npy" => ailk_testkit::npy::read_f32(path),
        _ => ailk_testkit::texmex::read_fvecs(path, None),
    };
    // The readers' messages already name the file.
    m.map_err(|e| {
        let text = e.to_string();
        let name = path.display().to_string();
        invalid(if text.contains(&name) { text } else { format!("{name}: {text}") })
    })
}

/// Reads the attribute rows of a vector file (Parquet, or CSV with a header parsed with the
/// table's column types).
fn read_attributes(path: &Path, schema: Schema) -> anyhow::Result<Vec<RecordBatch>> {
    let name = path.display();
    let batches: Vec<RecordBatch> = if path.extension().is_some_and(|e| e == "csv") {
        let (in_file_order, projection) = csv_columns(path, &schema)?;
        let file = File::open(path).map_err(|e| invalid(format!("{name}: {e}")))?;
        let reader = arrow_csv::ReaderBuilder::new(Arc::new(in_file_order))
            .with_header(true)
            .build(file)
            .map_err(|e| invalid(format!("{name}: {e}")))?;
        let batches: Vec<RecordBatch> =
            reader.collect::<Result<_, _>>().map_err(|e| invalid(format!("{name}: {e}")))?;
        batches
            .iter()
            .map(|b| b.project(&projection).map_err(|e| invalid(format!("{name}: {e}"))))
            .collect::<anyhow::Result<_>>()?
    } else {
        let reader = open_parquet(path)?.build().map_err(|e| invalid(format!("{name}: {e}")))?;
        reader.collect::<Result<_, _>>().map_err(|e| invalid(format!("{name}: {e}")))?
    };
    Ok(batches)
}

/// The CSV file's columns matched to the table's by header name: the schema in the file's
/// column order (with the table's types) and, for each table column, its position in the
/// file. A header naming an unknown column, naming one twice, or missing a column is refused.
fn csv_columns(path: &Path, table: &Schema) -> anyhow::Result<(Schema, Vec<usize>)> {
    let name = path.display();
    let file = File::open(path).map_err(|e| invalid(format!("{name}: {e}")))?;
    let (header, _) = arrow_csv::reader::Format::default()
        .with_header(true)
        .infer_schema(file, Some(0))
        .map_err(|e| invalid(format!("{name}: {e}")))?;
    let mut fields = Vec::with_capacity(header.fields().len());
    for h in header.fields() {
        let Ok(f) = table.field_with_name(h.name()) else {
            let known: Vec<&str> = table.fields().iter().map(|f| f.name().as_str()).collect();
            return Err(invalid(format!(
                "{name}: header names column {:?}, which the table does not have (its columns: {})",
                h.name(),
                known.join(", ")
            )));
        };
        if fields.iter().any(|g: &arrow_schema::Field| g.name() == h.name()) {
            return Err(invalid(format!("{name}: header names column {:?} twice", h.name())));
        }
        fields.push(f.clone());
    }
    let mut projection = Vec::with_capacity(table.fields().len());
    for f in table.fields() {
        match fields.iter().position(|g| g.name() == f.name()) {
            Some(at) => projection.push(at),
            None => return Err(invalid(format!("{name}: header has no column {:?}", f.name()))),
        }
    }
    Ok((Schema::new(fields), projection))
}

/// Plans the inputs: Parquet files as they are; one `.npy`/`.fvecs` file with `attributes`.
pub fn plan(table: &Table, files: &[PathBuf], attributes: Option<&Path>) -> anyhow::Result<Vec<Source>> {
    let expected = Expected::of(table)?;
    let mut out = Vec::new();
    let vector_files =
        files.iter().filter(|f| f.extension().is_some_and(|e| e == "npy" || e == "fvecs")).count();
    if vector_files > 1 || (vector_files == 1 && files.len() > 1) {
        return Err(invalid("give one .npy/.fvecs file per ingest (with --attributes for its rows)"));
    }
    if attributes.is_some() && vector_files == 0 {
        return Err(invalid("--attributes goes with a .npy or .fvecs vector file"));
    }
    for path in files.iter().map(PathBuf::as_path).chain(attributes) {
        must_exist(path)?;
    }
    for path in files {
        if vector_files == 1 {
            let Some(spec) = expected.specs.first() else {
                return Err(invalid(format!("{} has no vector column to put vectors in", table.ident())));
            };
            let vectors = read_vectors(path)?;
            if expected.specs.len() > 1 {
                return Err(invalid(format!(
                    "{}: the table has {} vector columns; ingest Parquet files holding all of them",
                    path.display(),
                    expected.specs.len()
                )));
            }
            if vectors.dim != spec.dim as usize {
                return Err(invalid(format!(
                    "{}: vectors have dimension {}, column {} has {}",
                    path.display(),
                    vectors.dim,
                    spec.name,
                    spec.dim
                )));
            }
            let attrs = expected.attributes.clone();
            let batches = match attributes {
                Some(a) => read_attributes(a, attrs)?,
                None if attrs.fields().is_empty() => vec![RecordBatch::new_empty(Arc::new(attrs))],
                None => {
                    return Err(invalid(format!(
                        "{}: the table has attribute columns ({}); pass them with --attributes FILE",
                        path.display(),
                        attrs.fields().iter().map(|f| f.name().as_str()).collect::<Vec<_>>().join(", ")
                    )))
                }
            };
            let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
            if attributes.is_some() && rows != vectors.rows() {
                return Err(invalid(format!(
                    "{} has {} vectors but the attributes have {rows} rows",
                    path.display(),
                    vectors.rows()
                )));
            }
            out.push(Source::Vectors { path: path.clone(), vectors, attributes: batches });
        } else {
            let builder = open_parquet(path)?;
            expected.check_parquet(path, builder.schema())?;
            let rows = builder.metadata().file_metadata().num_rows().max(0) as usize;
            out.push(Source::Parquet { path: path.clone(), rows });
        }
    }
    Ok(out)
}

/// Attribute rows `range` of a vector source, with the vectors as `FixedSizeList<Float32>`.
fn vector_batch(
    vectors: &Matrix<f32>,
    attributes: &RecordBatch,
    column: &str,
    start: usize,
) -> anyhow::Result<RecordBatch> {
    let rows = attributes.num_rows();
    let values = Float32Array::from(vectors.data[start * vectors.dim..(start + rows) * vectors.dim].to_vec());
    let item = Arc::new(Field::new("item", DataType::Float32, false));
    let list: ArrayRef =
        Arc::new(FixedSizeListArray::try_new(item, vectors.dim as i32, Arc::new(values), None)?);
    let mut fields = attributes.schema().fields().to_vec();
    fields.push(Arc::new(Field::new(column, list.data_type().clone(), false)));
    let mut columns = attributes.columns().to_vec();
    columns.push(list);
    Ok(RecordBatch::try_new_with_options(
        Arc::new(Schema::new(fields)),
        columns,
        &arrow_array::RecordBatchOptions::new().with_row_count(Some(rows)),
    )?)
}

/// The batches of `source`, at most `batch_rows` rows each, in order.
pub fn batches(
    source: &Source,
    table: &Table,
    batch_rows: usize,
) -> anyhow::Result<Box<dyn Iterator<Item = anyhow::Result<RecordBatch>> + Send>> {
    match source {
        Source::Parquet { path, .. } => {
            let reader = open_parquet(path)?
                .with_batch_size(batch_rows)
                .build()
                .map_err(|e| invalid(format!("{}: {e}", path.display())))?;
            let name = path.display().to_string();
            Ok(Box::new(reader.map(move |b| b.map_err(|e| invalid(format!("{name}: {e}"))))))
        }
        Source::Vectors { vectors, attributes, .. } => {
            let column = table.vector_columns()?[0].name.clone();
            let attrs = arrow_select_concat(attributes)?;
            let mut out = Vec::new();
            let mut start = 0;
            while start < vectors.rows() {
                let n = batch_rows.min(vectors.rows() - start);
                let slice = if attrs.num_columns() == 0 {
                    RecordBatch::try_new_with_options(
                        attrs.schema(),
                        vec![],
                        &arrow_array::RecordBatchOptions::new().with_row_count(Some(n)),
                    )?
                } else {
                    attrs.slice(start, n)
                };
                out.push(vector_batch(vectors, &slice, &column, start));
                start += n;
            }
            Ok(Box::new(out.into_iter()))
        }
    }
}

/// The attribute batches as one batch.
fn arrow_select_concat(batches: &[RecordBatch]) -> anyhow::Result<RecordBatch> {
    let schema = batches.first().map(RecordBatch::schema).unwrap_or_else(|| Arc::new(Schema::empty()));
    Ok(arrow_select::concat::concat_batches(&schema, batches)?)
}
