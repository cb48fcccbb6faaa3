//! One file's full-text index of a text column, loaded for search: decoded from the file's
//! AILK section (kind 7) when it carries one, else built by reading and analyzing the file's
//! text column (a file written before the column was indexed, another engine's file, a
//! section whose text index is corrupt — logged and counted, never a wrong answer).

use std::sync::Arc;

use ailk_catalog::TextSpec;
use ailk_format::object_store::path::Path;
use ailk_format::object_store::ObjectStore;
use ailk_format::{ErrorKind, ShardReader, SubsectionKind, TextIndexes};
use ailk_index::text::{index_texts, Analyzer, TextIndex};
use arrow_array::cast::AsArray;
use arrow_array::Array;
use arrow_schema::{DataType, FieldRef};

use crate::error::{Result, SearchError};
use crate::rows::read_conformed;

/// How a [`TextShard`] was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextSource {
    /// Decoded from the file's section.
    Section,
    /// The file has no text index of the column: its text column was read and analyzed.
    Scanned,
    /// The file's text index failed to load: its text column was read and analyzed.
    Corrupt,
}

/// A file's inverted index of one text column.
pub(crate) struct TextShard {
    pub index: TextIndex,
    pub source: TextSource,
    /// Terms in all rows (the statistics subtract deleted rows' lengths).
    pub total_len: u64,
}

impl TextShard {
    fn new(index: TextIndex, source: TextSource) -> Self {
        let total_len = (0..index.rows()).map(|r| u64::from(index.doc_len(r))).sum();
        Self { index, source, total_len }
    }

    /// Estimated bytes held.
    pub fn memory_bytes(&self) -> u64 {
        self.index.memory_bytes() + 64
    }
}

/// Loads `spec`'s index of the file behind `reader`; `field` is the table's text field.
pub(crate) async fn load_text_shard(
    store: Arc<dyn ObjectStore>,
    path: &Path,
    reader: &ShardReader,
    spec: &TextSpec,
    field: &FieldRef,
) -> Result<TextShard> {
    let analyzer = Analyzer::named(&spec.analyzer)?;
    let field_id = ailk_format::vector_column::field_id(field).unwrap_or(-1);
    let has_kind = reader.directory().is_some_and(|d| d.find(SubsectionKind::TextIndexes, 0).is_some());
    let mut source = TextSource::Scanned;
    if has_kind {
        match section_index(reader, spec, field_id, &analyzer).await {
            Ok(Some(index)) => return Ok(TextShard::new(index, TextSource::Section)),
            Ok(None) => {}
            Err(e) if matches!(e.kind(), ErrorKind::Corrupt | ErrorKind::Unsupported) => {
                tracing::warn!(file = %path, column = %spec.name, error = %e, "text index unusable; scanning the file's text column");
                source = TextSource::Corrupt;
            }
            Err(e) => return Err(e),
        }
    }
    let batches = read_conformed(store, path, reader, std::slice::from_ref(field), None).await?;
    let mut texts: Vec<Option<String>> = Vec::new();
    for b in &batches {
        let column = b.column(0);
        match column.data_type() {
            DataType::Utf8 => texts.extend(column.as_string::<i32>().iter().map(|t| t.map(str::to_owned))),
            DataType::LargeUtf8 => {
                texts.extend(column.as_string::<i64>().iter().map(|t| t.map(str::to_owned)))
            }
            DataType::Utf8View => texts.extend(column.as_string_view().iter().map(|t| t.map(str::to_owned))),
            other => {
                return Err(SearchError::InvalidQuery(format!("text column {} is {other}", spec.name)));
            }
        }
    }
    let index = index_texts(texts.iter().map(|t| t.as_deref()), &analyzer);
    Ok(TextShard::new(index, source))
}

/// The section's index of the column, `None` when the section does not index it (or indexed
/// it with another analyzer than the table names now).
async fn section_index(
    reader: &ShardReader,
    spec: &TextSpec,
    field_id: i32,
    analyzer: &Analyzer,
) -> Result<Option<TextIndex>> {
    let (_, payload) = reader.load(&[(SubsectionKind::TextIndexes, 0)]).await?.remove(0);
    let indexes = TextIndexes::decode(&payload)?;
    let Some(column) = indexes.column(&spec.name, field_id) else { return Ok(None) };
    if Analyzer::named(&column.analyzer).ok().as_ref() != Some(analyzer) {
        return Ok(None);
    }
    let index = TextIndex::decode(&column.index)?;
    let rows = reader.metadata().file_metadata().num_rows();
    if i64::from(index.rows()) != rows {
        return Err(SearchError::Corrupt(format!(
            "the text index of {} has {} rows, the file {rows}",
            spec.name,
            index.rows()
        )));
    }
    Ok(Some(index))
}
