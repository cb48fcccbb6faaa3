//! Adding a section to a Parquet-only file without re-encoding its pages: copy the data
//! region byte for byte, append the section, write the same footer plus the pointers.

use std::sync::Arc;

use bytes::Bytes;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use parquet::file::metadata::{FileMetaData, ParquetMetaData, ParquetMetaDataBuilder, ParquetMetaDataWriter};

use crate::aligned::ALIGN;
use crate::error::{FormatError, Result};
use crate::section::{SectionDirectory, FORMAT_MAJOR};
use crate::shard_reader::{ReadOptions, ShardReader};
use crate::shard_writer::{SectionLocation, WrittenShard, KEY_OFFSET};

/// The pieces of a re-sectioned file, in order; their concatenation is the new file.
#[derive(Debug, Clone)]
pub struct ResectionedFile {
    /// Data region of the source, padding, section, new footer.
    pub parts: Vec<Bytes>,
    /// Description of the new file.
    pub written: WrittenShard,
}

/// Builds the new file from the source's data region (`[0, footer_start)`, which holds the
/// row groups and any page index) and its decoded footer.
pub fn resection_parts(
    data_region: Bytes,
    metadata: &ParquetMetaData,
    section: Bytes,
) -> Result<ResectionedFile> {
    let fm = metadata.file_metadata();
    if let Some(kv) = fm.key_value_metadata().and_then(|kvs| kvs.iter().find(|kv| kv.key == KEY_OFFSET)) {
        let offset = kv.value.as_deref().and_then(|v| v.parse().ok()).unwrap_or(0);
        return Err(FormatError::AlreadySectioned { offset });
    }
    let directory = SectionDirectory::decode(&section)?;
    if directory.row_count != fm.num_rows() as u64 || directory.section_length != section.len() as u64 {
        return Err(FormatError::InvalidInput(format!(
            "section describes {} rows; the file has {}",
            directory.row_count,
            fm.num_rows()
        )));
    }
    let region_len = data_region.len() as u64;
    let offset = region_len.next_multiple_of(ALIGN as u64);
    let location = SectionLocation {
        offset,
        length: section.len() as u64,
        directory_length: directory.directory_length,
        major: FORMAT_MAJOR,
        minor: directory.minor,
    };
    let mut kvs = fm.key_value_metadata().cloned().unwrap_or_default();
    kvs.extend(location.key_values());
    let new_fm = FileMetaData::new(
        fm.version(),
        fm.num_rows(),
        fm.created_by().map(str::to_owned),
        Some(kvs),
        fm.schema_descr_ptr(),
        fm.column_orders().cloned(),
    );
    // Page indexes are not loaded, so the writer re-emits the row groups with their original
    // (still valid) page-index offsets and writes no index of its own.
    let new_metadata =
        ParquetMetaDataBuilder::new(new_fm).set_row_groups(metadata.row_groups().to_vec()).build();
    let mut footer = Vec::new();
    ParquetMetaDataWriter::new(&mut footer, &new_metadata).finish()?;
    let padding = Bytes::from(vec![0u8; (offset - region_len) as usize]);
    let file_size = offset + section.len() as u64 + footer.len() as u64;
    Ok(ResectionedFile {
        parts: vec![data_region, padding, section, Bytes::from(footer)],
        written: WrittenShard {
            file_size,
            num_rows: fm.num_rows() as u64,
            section: Some(location),
            metadata: Arc::new(new_metadata),
        },
    })
}

/// Re-sections an in-memory Parquet file.
pub fn resection_bytes(file: &[u8], section: &[u8]) -> Result<(Vec<u8>, WrittenShard)> {
    let footer_start = crate::shard_reader::footer_start(file)?;
    let metadata = crate::shard_reader::decode_metadata(&file[footer_start as usize..file.len() - 8])?;
    let region = Bytes::copy_from_slice(&file[..footer_start as usize]);
    let out = resection_parts(region, &metadata, Bytes::copy_from_slice(section))?;
    Ok((out.parts.concat(), out.written))
}

async fn resection_from(reader: &ShardReader, section: Bytes) -> Result<ResectionedFile> {
    if let Some(loc) = reader.location() {
        return Err(FormatError::AlreadySectioned { offset: loc.offset });
    }
    let region = reader.read_range(0..reader.footer_start()).await?;
    resection_parts(region, reader.metadata(), section)
}

/// Reads `src` from `store`, writes `dst` = `src` + `section`, and returns the new file's
/// description. `src` and `dst` may be equal (the object is replaced atomically on stores
/// that replace atomically, such as the local file system and S3).
pub async fn resection_object(
    store: Arc<dyn ObjectStore>,
    src: &Path,
    dst: &Path,
    section: Bytes,
    opts: ReadOptions,
) -> Result<WrittenShard> {
    let reader = ShardReader::open(store.clone(), src.clone(), opts).await?;
    let out = resection_from(&reader, section).await?;
    store.put(dst, PutPayload::from_iter(out.parts)).await?;
    Ok(out.written)
}
