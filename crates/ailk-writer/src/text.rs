//! Full-text indexes of a file's text columns (issue 33): each of the table's text columns
//! analyzed and inverted into the file's AILK section (kind 7), built with the rows the file
//! is written with.

use ailk_catalog::TextSpec;
use ailk_format::vector_column::field_id;
use ailk_index::text::{index_texts, Analyzer};
use arrow_array::cast::AsArray;
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;

use crate::error::{Result, WriterError};

/// One text column's encoded index, ready for the section.
#[derive(Debug, Clone)]
pub(crate) struct TextBlob {
    pub field_id: i32,
    pub name: String,
    pub analyzer: String,
    pub blob: Vec<u8>,
}

/// The indexes of `texts`' columns of `batch` (the rows as the file holds them). Nothing when
/// the table has no text columns or the batch does not carry the file's rows (an index built
/// from the vectors alone, as `resume_indexing` does: those files are searched by scanning
/// their text column).
pub(crate) fn text_indexes(batch: &RecordBatch, rows: usize, texts: &[TextSpec]) -> Result<Vec<TextBlob>> {
    if texts.is_empty() || batch.num_rows() != rows {
        return Ok(Vec::new());
    }
    texts
        .iter()
        .map(|spec| {
            let analyzer = Analyzer::named(&spec.analyzer)?;
            let (i, field) =
                batch.schema().column_with_name(&spec.name).map(|(i, f)| (i, f.clone())).ok_or_else(
                    || WriterError::InvalidInput(format!("the batch has no text column {}", spec.name)),
                )?;
            let field_id = field_id(&field).unwrap_or(-1);
            let column = batch.column(i);
            let index = match column.data_type() {
                DataType::Utf8 => index_texts(column.as_string::<i32>().iter(), &analyzer),
                DataType::LargeUtf8 => index_texts(column.as_string::<i64>().iter(), &analyzer),
                DataType::Utf8View => index_texts(column.as_string_view().iter(), &analyzer),
                other => {
                    return Err(WriterError::InvalidInput(format!(
                        "text index column {} is {other}, not a string column",
                        spec.name
                    )))
                }
            };
            Ok(TextBlob {
                field_id,
                name: spec.name.clone(),
                analyzer: spec.analyzer.clone(),
                blob: index.encode(),
            })
        })
        .collect()
}
