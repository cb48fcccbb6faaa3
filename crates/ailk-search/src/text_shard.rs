//! One file's full-text index of a text column, loaded for search: a version 2 blob in the
//! file's AILK section (kind 7) is opened by its head only — statistics and the dictionary's
//! directory — and a query then reads its terms' pieces (`session/text_read.rs`); a version 1
//! blob is decoded whole; a file without one is indexed by reading and analyzing its text
//! column (a file written before the column was indexed, another engine's file, a section
//! whose text index is corrupt — logged and counted, never a wrong answer).

use std::ops::Range;
use std::sync::Arc;

use ailk_catalog::TextSpec;
use ailk_format::object_store::path::Path;
use ailk_format::object_store::ObjectStore;
use ailk_format::{
    parse_trailer, ErrorKind, PayloadHead, Posting, ShardReader, SubsectionKind, TermEntry, TextColumnName,
    TextHead, TextIndexes, TEXT_TRAILER_BYTES,
};
use ailk_index::text::{index_texts, Analyzer, TextIndex};
use arrow_array::cast::AsArray;
use arrow_array::Array;
use arrow_schema::{DataType, FieldRef};
use bytes::Bytes;

use crate::error::{Result, SearchError};
use crate::rows::read_conformed;

/// Bytes read from the start of a text payload (its header) and from its end (where a
/// single column's head lies) in the first request.
const PAYLOAD_PREFIX: u64 = 4 << 10;
const PAYLOAD_SUFFIX: u64 = 64 << 10;
/// Text payloads up to this size are read and decoded whole unless told otherwise.
const WHOLE_TEXT_BYTES: u64 = 1 << 20;

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

/// What of a file's index is held.
pub(crate) enum TextBody {
    /// The whole index.
    Whole(TextIndex),
    /// A version 2 blob at file offset `blob_start`: its head; a query reads its pieces.
    Lazy { head: TextHead, blob_start: u64 },
}

/// A checked piece of a version 2 text index, as the cache keeps it.
pub(crate) enum TextPart {
    /// A dictionary block's terms.
    Block(Vec<TermEntry>),
    /// A term's postings.
    Postings(Arc<[Posting]>),
    /// Every row's length.
    DocLens(Vec<u32>),
}

impl TextPart {
    /// Estimated bytes held.
    pub fn memory_bytes(&self) -> u64 {
        match self {
            TextPart::Block(entries) => entries
                .iter()
                .map(|e| {
                    let inline = e
                        .inline
                        .as_ref()
                        .map_or(0, |l| l.iter().map(|p| 40 + 4 * p.positions.len() as u64).sum());
                    e.term.len() as u64 + 96 + inline
                })
                .sum(),
            TextPart::Postings(list) => list.iter().map(|p| 40 + 4 * p.positions.len() as u64).sum(),
            TextPart::DocLens(lens) => 4 * lens.len() as u64,
        }
    }
}

/// A file's inverted index of one text column.
pub(crate) struct TextShard {
    pub body: TextBody,
    pub source: TextSource,
}

impl TextShard {
    fn whole(index: TextIndex, source: TextSource) -> Self {
        Self { body: TextBody::Whole(index), source }
    }

    /// Rows of the file.
    pub fn rows(&self) -> u32 {
        match &self.body {
            TextBody::Whole(index) => index.rows(),
            TextBody::Lazy { head, .. } => head.rows,
        }
    }

    /// Terms in all rows (the statistics subtract deleted rows' lengths).
    pub fn total_len(&self) -> u64 {
        match &self.body {
            TextBody::Whole(index) => index.total_len(),
            TextBody::Lazy { head, .. } => head.total_len,
        }
    }

    /// Estimated bytes held.
    pub fn memory_bytes(&self) -> u64 {
        64 + match &self.body {
            TextBody::Whole(index) => index.memory_bytes(),
            TextBody::Lazy { head, .. } => head.blocks.iter().map(|b| b.first.len() as u64 + 64).sum::<u64>(),
        }
    }
}

/// Loads `spec`'s index of the file behind `reader`; `field` is the table's text field.
pub(crate) async fn load_text_shard(
    store: Arc<dyn ObjectStore>,
    path: &Path,
    reader: &ShardReader,
    spec: &TextSpec,
    field: &FieldRef,
    pieces: Option<bool>,
) -> Result<TextShard> {
    let analyzer = Analyzer::named(&spec.analyzer)?;
    let field_id = ailk_format::vector_column::field_id(field).unwrap_or(-1);
    let has_kind = reader.directory().is_some_and(|d| d.find(SubsectionKind::TextIndexes, 0).is_some());
    let mut source = TextSource::Scanned;
    if has_kind {
        match section_text(reader, spec, field_id, &analyzer, pieces).await {
            Ok(Some(body)) => return Ok(TextShard { body, source: TextSource::Section }),
            Ok(None) => {}
            Err(e) if matches!(e.kind(), ErrorKind::Corrupt | ErrorKind::Unsupported) => {
                tracing::warn!(file = %path, column = %spec.name, error = %e, "text index unusable; scanning the file's text column");
                source = TextSource::Corrupt;
            }
            Err(e) => return Err(e),
        }
    }
    scan_text_shard(store, path, reader, spec, field, source).await
}

/// Indexes the file's text column by reading and analyzing it.
pub(crate) async fn scan_text_shard(
    store: Arc<dyn ObjectStore>,
    path: &Path,
    reader: &ShardReader,
    spec: &TextSpec,
    field: &FieldRef,
    source: TextSource,
) -> Result<TextShard> {
    let analyzer = Analyzer::named(&spec.analyzer)?;
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
    Ok(TextShard::whole(index, source))
}

/// Bytes of a file already read (a payload's first and last bytes), served before reading.
struct Pieces(Vec<(u64, Bytes)>);

impl Pieces {
    async fn get(&self, reader: &ShardReader, range: Range<u64>) -> Result<Bytes> {
        for (start, bytes) in &self.0 {
            let end = start + bytes.len() as u64;
            if range.start >= *start && range.end <= end {
                return Ok(bytes.slice((range.start - start) as usize..(range.end - start) as usize));
            }
        }
        Ok(reader.read_range(range).await?)
    }
}

/// The section's index of the column — its head (version 2) or the whole index (version 1) —
/// `None` when the section does not index it (or indexed it with another analyzer than the
/// table names now).
async fn section_text(
    reader: &ShardReader,
    spec: &TextSpec,
    field_id: i32,
    analyzer: &Analyzer,
    pieces: Option<bool>,
) -> Result<Option<TextBody>> {
    let (Some(dir), Some(loc)) = (reader.directory(), reader.location()) else { return Ok(None) };
    let Some(entry) = dir.find(SubsectionKind::TextIndexes, 0) else { return Ok(None) };
    let (start, len) = (loc.offset + entry.offset, entry.length);
    if !pieces.unwrap_or(len > WHOLE_TEXT_BYTES) {
        return whole_text(reader, spec, field_id, analyzer).await;
    }
    let (prefix, suffix) =
        (start..start + len.min(PAYLOAD_PREFIX), start + len - len.min(PAYLOAD_SUFFIX)..start + len);
    let got = reader.read_ranges(&[prefix.clone(), suffix.clone()]).await?;
    let pieces = Pieces(vec![(prefix.start, got[0].clone()), (suffix.start, got[1].clone())]);
    let header_len = PayloadHead::header_len(&got[0]).filter(|&l| l <= len).ok_or_else(|| bad("header"))?;
    let header = pieces.get(reader, start..start + header_len).await?;
    let payload = PayloadHead::decode(&header, len)?;
    let names = TextColumnName::decode_all(payload.meta(), payload.array_count())?;
    let Some(i) = TextColumnName::find(&names, &spec.name, field_id) else { return Ok(None) };
    if Analyzer::named(&names[i].analyzer).ok().as_ref() != Some(analyzer) {
        return Ok(None);
    }
    let blob = payload.array_range(i)?;
    let (blob_start, blob_len) = (start + blob.start, blob.end - blob.start);
    let rows = reader.metadata().file_metadata().num_rows();
    let version = pieces.get(reader, blob_start..blob_start + blob_len.min(5)).await?;
    if version.get(4) == Some(&1) {
        return whole_text(reader, spec, field_id, analyzer).await;
    }
    let blob_end = blob_start + blob_len;
    let trailer =
        pieces.get(reader, blob_end.saturating_sub(TEXT_TRAILER_BYTES).max(blob_start)..blob_end).await?;
    let (range, crc) = parse_trailer(&trailer, blob_len)?;
    let bytes = pieces.get(reader, blob_start + range.start..blob_start + range.end).await?;
    let head = TextHead::decode(&bytes, &range, crc)?;
    if i64::from(head.rows) != rows {
        return Err(rows_mismatch(spec, head.rows, rows));
    }
    Ok(Some(TextBody::Lazy { head, blob_start }))
}

/// The whole payload (checked by its CRC) and the column's index decoded whole.
async fn whole_text(
    reader: &ShardReader,
    spec: &TextSpec,
    field_id: i32,
    analyzer: &Analyzer,
) -> Result<Option<TextBody>> {
    let (_, payload) = reader.load(&[(SubsectionKind::TextIndexes, 0)]).await?.remove(0);
    let indexes = TextIndexes::decode(&payload)?;
    let Some(column) = indexes.column(&spec.name, field_id) else { return Ok(None) };
    if Analyzer::named(&column.analyzer).ok().as_ref() != Some(analyzer) {
        return Ok(None);
    }
    let index = TextIndex::decode(&column.index)?;
    let rows = reader.metadata().file_metadata().num_rows();
    if i64::from(index.rows()) != rows {
        return Err(rows_mismatch(spec, index.rows(), rows));
    }
    Ok(Some(TextBody::Whole(index)))
}

fn bad(what: &str) -> SearchError {
    SearchError::Corrupt(format!("text indexes: bad {what}"))
}

fn rows_mismatch(spec: &TextSpec, index: u32, file: i64) -> SearchError {
    SearchError::Corrupt(format!("the text index of {} has {index} rows, the file {file}", spec.name))
}
