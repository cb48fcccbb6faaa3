//! Writing a Parquet data file that carries an AILK section between its last row group and
//! its footer, with `ailake.ailk.*` key-value pointers in the footer.

use std::io::Write;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{DataType, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::{KeyValue, ParquetMetaData};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;

use crate::aligned::ALIGN;
use crate::error::{FormatError, Result};
use crate::section::{SectionDirectory, FORMAT_MAJOR};

/// Footer key holding the section's byte offset in the file.
pub const KEY_OFFSET: &str = "ailake.ailk.offset";
/// Footer key holding the section's length in bytes.
pub const KEY_LENGTH: &str = "ailake.ailk.length";
/// Footer key holding the section's format version, `major.minor`.
pub const KEY_VERSION: &str = "ailake.ailk.version";
/// Footer key holding the length of the section's directory (lets readers fetch it in one read).
pub const KEY_DIRECTORY_LENGTH: &str = "ailake.ailk.directory-length";

/// Where a section lies in a data file, as recorded by the footer pointers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SectionLocation {
    /// Byte offset of the section from the file start (a multiple of 64).
    pub offset: u64,
    /// Section length in bytes.
    pub length: u64,
    /// Length of the section's directory in bytes.
    pub directory_length: u64,
    /// Format major version.
    pub major: u16,
    /// Format minor version.
    pub minor: u16,
}

impl SectionLocation {
    /// The footer key-value pairs that record this location.
    pub fn key_values(&self) -> Vec<KeyValue> {
        vec![
            KeyValue::new(KEY_OFFSET.into(), self.offset.to_string()),
            KeyValue::new(KEY_LENGTH.into(), self.length.to_string()),
            KeyValue::new(KEY_VERSION.into(), format!("{}.{}", self.major, self.minor)),
            KeyValue::new(KEY_DIRECTORY_LENGTH.into(), self.directory_length.to_string()),
        ]
    }
}

/// What a finished shard file looks like.
#[derive(Debug, Clone)]
pub struct WrittenShard {
    /// Total file size in bytes.
    pub file_size: u64,
    /// Rows written.
    pub num_rows: u64,
    /// The section's place, when one was written.
    pub section: Option<SectionLocation>,
    /// The Parquet footer as written (row groups, column chunk sizes, statistics).
    pub metadata: Arc<ParquetMetaData>,
}

/// Rows per data page at most (Parquet's default is 20,000). A search fetches its winners'
/// rows page by page from files whose columns are too large to keep decoded, and decompresses
/// each page holding a winner: 4,096 rows of an `i64` column is 32 KiB decoded, not 160.
pub const PAGE_ROWS: usize = 4096;

/// Writer properties suited to shard files: zstd for scalar columns; vector columns
/// (`FixedSizeList<Float32>`) uncompressed, without dictionary or statistics, since
/// embeddings neither compress nor prune; pages of at most [`PAGE_ROWS`] rows.
pub fn default_writer_properties(schema: &SchemaRef) -> WriterProperties {
    let mut builder = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_data_page_row_count_limit(PAGE_ROWS)
        .set_created_by(format!("ailake {}", env!("CARGO_PKG_VERSION")));
    for field in schema.fields() {
        if let DataType::FixedSizeList(child, _) = field.data_type() {
            let path = ColumnPath::new(vec![field.name().clone(), "list".into(), child.name().clone()]);
            builder = builder
                .set_column_compression(path.clone(), Compression::UNCOMPRESSED)
                .set_column_dictionary_enabled(path.clone(), false)
                .set_column_statistics_enabled(path, EnabledStatistics::None);
        }
    }
    builder.build()
}

/// Streams record batches into a Parquet file and closes it with an optional AILK section.
pub struct ShardWriter<W: Write + Send> {
    inner: ArrowWriter<W>,
    rows: u64,
}

impl<W: Write + Send> ShardWriter<W> {
    /// Starts a shard file on `sink` with `schema`; `props` default to
    /// [`default_writer_properties`].
    pub fn try_new(sink: W, schema: SchemaRef, props: Option<WriterProperties>) -> Result<Self> {
        let props = props.unwrap_or_else(|| default_writer_properties(&schema));
        Ok(ShardWriter { inner: ArrowWriter::try_new(sink, schema, Some(props))?, rows: 0 })
    }

    /// Appends a batch of rows.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        self.inner.write(batch)?;
        self.rows += batch.num_rows() as u64;
        Ok(())
    }

    /// Flushes the last row group, writes `section` (64-byte aligned) and the footer with its
    /// pointers. The section must describe exactly the rows written.
    pub fn finish(mut self, section: Option<&[u8]>) -> Result<WrittenShard> {
        let mut location = None;
        if let Some(section) = section {
            let directory = SectionDirectory::decode(section)?;
            if directory.row_count != self.rows || directory.section_length != section.len() as u64 {
                return Err(FormatError::InvalidInput(format!(
                    "section describes {} rows in {} bytes; the file has {} rows and the section {} bytes",
                    directory.row_count,
                    directory.section_length,
                    self.rows,
                    section.len()
                )));
            }
            self.inner.flush()?;
            let here = self.inner.bytes_written();
            self.inner.write_all(&vec![0u8; here.next_multiple_of(ALIGN) - here])?;
            let loc = SectionLocation {
                offset: self.inner.bytes_written() as u64,
                length: section.len() as u64,
                directory_length: directory.directory_length,
                major: FORMAT_MAJOR,
                minor: directory.minor,
            };
            self.inner.write_all(section)?;
            for kv in loc.key_values() {
                self.inner.append_key_value_metadata(kv);
            }
            location = Some(loc);
        }
        let metadata = self.inner.finish()?;
        self.inner.sync()?;
        Ok(WrittenShard {
            file_size: self.inner.bytes_written() as u64,
            num_rows: self.rows,
            section: location,
            metadata: Arc::new(metadata),
        })
    }
}

/// Encodes a whole shard file in memory: `batches`, then `section` (if any), then the footer.
pub fn write_shard_bytes(
    schema: SchemaRef,
    batches: &[RecordBatch],
    section: Option<&[u8]>,
    props: Option<WriterProperties>,
) -> Result<(Vec<u8>, WrittenShard)> {
    let mut buf = Vec::new();
    let mut writer = ShardWriter::try_new(&mut buf, schema, props)?;
    for batch in batches {
        writer.write(batch)?;
    }
    let written = writer.finish(section)?;
    Ok((buf, written))
}
