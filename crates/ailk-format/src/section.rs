//! The AILK section: a 64-byte header, a table of vector columns (each with its shard
//! summary), a table of sub-sections, and 64-byte aligned payloads. See `docs/format.md`.

use crate::aligned::{AlignedBytes, ALIGN};
use crate::bytes_le::{LeReader, LeWrite};
use crate::error::{FormatError, Result};
use crate::payload::{Payload, PayloadBuilder};
use crate::types::{ElementType, Metric, SubsectionKind};

/// The four magic bytes every section starts with.
pub const MAGIC: [u8; 4] = *b"AILK";
/// The major version this crate writes and the only one it reads.
pub const FORMAT_MAJOR: u16 = 1;
/// The newest minor version this crate writes (readers accept any minor of their major): a
/// section is written as the lowest minor that holds its kinds — 1.3 with
/// [`SubsectionKind::PartitionBlocks`] of code kind 2, 1.2 with
/// [`SubsectionKind::TextIndexes`], 1.1 with [`SubsectionKind::PartitionBlocks`], else 1.0 —
/// so files without the newer kinds stay byte-identical to older files.
pub const FORMAT_MINOR: u16 = 3;
/// Size of the fixed header.
pub const HEADER_BYTES: usize = 64;
const COLUMN_BYTES: usize = 32;
const ENTRY_BYTES: usize = 32;
const CRC_FIELD: std::ops::Range<usize> = 40..44;

/// Most vector columns one section may describe.
pub const MAX_COLUMNS: u32 = 256;
/// Most sub-sections one section may hold.
pub const MAX_ENTRIES: u32 = 4096;
/// Largest directory accepted (header, tables, names, centroids).
pub const MAX_DIRECTORY_BYTES: u64 = 64 << 20;
/// Largest vector dimension accepted.
pub const MAX_DIM: u32 = 1 << 16;

/// One vector column of the shard and its summary (used for pruning shards at search time).
#[derive(Debug, Clone, PartialEq)]
pub struct VectorColumn {
    /// Parquet / Iceberg field id of the column, `-1` when it has none.
    pub field_id: i32,
    /// Column name in the Parquet schema.
    pub name: String,
    /// Vector dimension.
    pub dim: u32,
    /// Distance the column is searched by.
    pub metric: Metric,
    /// Storage element type of raw vectors.
    pub element: ElementType,
    /// Whether vectors were normalized to unit length at write time.
    pub normalized: bool,
    /// Mean of the shard's vectors (`dim` values).
    pub centroid: Vec<f32>,
    /// Largest Euclidean distance from the centroid to any vector of the shard.
    pub radius: f32,
}

impl VectorColumn {
    /// Summarizes `vectors` (row-major, `dim` values per row): centroid and radius.
    pub fn summarize(
        field_id: i32,
        name: impl Into<String>,
        metric: Metric,
        dim: u32,
        vectors: &[f32],
    ) -> Result<Self> {
        let d = dim as usize;
        if d == 0 || dim > MAX_DIM || !vectors.len().is_multiple_of(d) {
            return Err(FormatError::InvalidInput(format!(
                "{} values do not form rows of dimension {dim}",
                vectors.len()
            )));
        }
        if let Some(pos) = vectors.iter().position(|v| !v.is_finite()) {
            return Err(FormatError::InvalidInput(format!("non-finite value in row {}", pos / d)));
        }
        let rows = vectors.len() / d;
        let mut sum = vec![0f64; d];
        for row in vectors.chunks_exact(d) {
            for (s, &v) in sum.iter_mut().zip(row) {
                *s += f64::from(v);
            }
        }
        let centroid: Vec<f32> = sum.iter().map(|s| (s / rows.max(1) as f64) as f32).collect();
        let radius = vectors
            .chunks_exact(d)
            .map(|row| row.iter().zip(&centroid).map(|(a, c)| (a - c) * (a - c)).sum::<f32>())
            .fold(0f32, f32::max)
            .sqrt();
        Ok(VectorColumn {
            field_id,
            name: name.into(),
            dim,
            metric,
            element: ElementType::F32,
            normalized: metric == Metric::Cosine,
            centroid,
            radius: radius * (1.0 + 1e-6) + f32::EPSILON,
        })
    }
}

/// Where one sub-section's payload lies inside the section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubsectionEntry {
    /// What the payload holds.
    pub kind: SubsectionKind,
    /// Index into [`SectionDirectory::columns`].
    pub column: u16,
    /// CRC32C (Castagnoli) of the payload bytes.
    pub crc32c: u32,
    /// Offset of the payload from the section start (a multiple of 64).
    pub offset: u64,
    /// Payload length in bytes.
    pub length: u64,
}

/// The decoded header and tables of a section: enough to plan which payloads to read.
#[derive(Debug, Clone, PartialEq)]
pub struct SectionDirectory {
    /// Format major version.
    pub major: u16,
    /// Format minor version.
    pub minor: u16,
    /// Header flags (reserved, 0 in version 1.0).
    pub flags: u32,
    /// Rows of the shard (all columns).
    pub row_count: u64,
    /// Total section length in bytes.
    pub section_length: u64,
    /// Length of the directory (header + tables + names + centroids), a multiple of 64.
    pub directory_length: u64,
    /// Vector columns; the first is the primary one, used for pruning.
    pub columns: Vec<VectorColumn>,
    /// Sub-sections, in payload order. Entries of unknown kinds are listed and never loaded.
    pub entries: Vec<SubsectionEntry>,
}

/// Reads `(directory_length, section_length)` from the first 64 bytes of a section.
pub fn peek_lengths(header: &[u8]) -> Result<(u64, u64)> {
    let mut r = LeReader::new(header, "section header");
    check_magic_and_version(&mut r)?;
    r.skip(4)?;
    let dir = u64::from(r.u32()?);
    let total = r.u64()?;
    Ok((dir, total))
}

fn check_magic_and_version(r: &mut LeReader<'_>) -> Result<(u16, u16)> {
    let magic: [u8; 4] = r.take(4)?.try_into().map_err(|_| FormatError::layout("magic"))?;
    if magic != MAGIC {
        return Err(FormatError::BadMagic { found: magic });
    }
    let major = r.u16()?;
    let minor = r.u16()?;
    if major != FORMAT_MAJOR {
        return Err(FormatError::UnsupportedVersion { major, minor, supported: FORMAT_MAJOR });
    }
    Ok((major, minor))
}

fn directory_crc(dir: &[u8]) -> u32 {
    let crc = crc32c::crc32c(&dir[..CRC_FIELD.start]);
    crc32c::crc32c_append(crc, &dir[CRC_FIELD.end..])
}

impl SectionDirectory {
    /// Decodes the directory from the leading bytes of a section (at least
    /// `directory_length` of them), checking magic, version, CRC and every offset.
    pub fn decode(buf: &[u8]) -> Result<Self> {
        let mut r = LeReader::new(buf, "section header");
        let (major, minor) = check_magic_and_version(&mut r)?;
        let flags = r.u32()?;
        let directory_length = u64::from(r.u32()?);
        let section_length = r.u64()?;
        let row_count = r.u64()?;
        let column_count = r.u32()?;
        let entry_count = r.u32()?;
        let stored_crc = r.u32()?;
        if directory_length > MAX_DIRECTORY_BYTES || directory_length < HEADER_BYTES as u64 {
            return Err(FormatError::AbsurdSize {
                what: "directory length",
                size: directory_length,
                limit: MAX_DIRECTORY_BYTES,
            });
        }
        if !directory_length.is_multiple_of(ALIGN as u64) || section_length < directory_length {
            return Err(FormatError::layout(format!(
                "directory length {directory_length} is unaligned or exceeds section length {section_length}"
            )));
        }
        if buf.len() < directory_length as usize {
            return Err(FormatError::Truncated {
                what: "section directory",
                needed: directory_length,
                available: buf.len() as u64,
            });
        }
        let dir = &buf[..directory_length as usize];
        let computed = directory_crc(dir);
        if computed != stored_crc {
            return Err(FormatError::ChecksumMismatch {
                what: "section directory".into(),
                stored: stored_crc,
                computed,
            });
        }
        if column_count == 0 {
            return Err(FormatError::layout("a section has at least one vector column"));
        }
        if column_count > MAX_COLUMNS || entry_count > MAX_ENTRIES {
            return Err(FormatError::AbsurdSize {
                what: "column or entry count",
                size: column_count.max(entry_count).into(),
                limit: MAX_ENTRIES.into(),
            });
        }
        let columns_at = HEADER_BYTES;
        let entries_at = columns_at + column_count as usize * COLUMN_BYTES;
        let tables_end = entries_at + entry_count as usize * ENTRY_BYTES;
        if tables_end as u64 > directory_length {
            return Err(FormatError::layout("column and entry tables overrun the directory"));
        }
        let mut columns = Vec::with_capacity(column_count as usize);
        let mut r = LeReader::new(&dir[columns_at..entries_at], "column table");
        for _ in 0..column_count {
            columns.push(decode_column(&mut r, dir, tables_end)?);
        }
        if let Some(dup) =
            columns.iter().enumerate().find(|(i, c)| columns[..*i].iter().any(|o| o.name == c.name))
        {
            return Err(FormatError::layout(format!("two vector columns are named {:?}", dup.1.name)));
        }
        let mut entries = Vec::with_capacity(entry_count as usize);
        let mut r = LeReader::new(&dir[entries_at..tables_end], "entry table");
        let mut next_free = directory_length;
        for i in 0..entry_count {
            let entry = decode_entry(&mut r)?;
            let end = entry.offset.checked_add(entry.length).filter(|&e| e <= section_length);
            if entry.offset < next_free || !entry.offset.is_multiple_of(ALIGN as u64) || end.is_none() {
                return Err(FormatError::layout(format!(
                    "sub-section {i} at {}+{} is unaligned, overlaps, or lies outside the {section_length}-byte section",
                    entry.offset, entry.length
                )));
            }
            if !entry.length.is_multiple_of(ALIGN as u64) {
                return Err(FormatError::layout(format!(
                    "sub-section {i} length {} is not a multiple of {ALIGN}",
                    entry.length
                )));
            }
            if entries.iter().any(|e: &SubsectionEntry| e.kind == entry.kind && e.column == entry.column) {
                return Err(FormatError::layout(format!(
                    "sub-section {i}: a second {:?} for column {}",
                    entry.kind, entry.column
                )));
            }
            if usize::from(entry.column) >= columns.len() {
                return Err(FormatError::layout(format!(
                    "sub-section {i} names column {} of {}",
                    entry.column,
                    columns.len()
                )));
            }
            next_free = end.unwrap_or(section_length);
            entries.push(entry);
        }
        Ok(SectionDirectory {
            major,
            minor,
            flags,
            row_count,
            section_length,
            directory_length,
            columns,
            entries,
        })
    }

    /// The entry of `kind` for vector column `column`, if present.
    pub fn find(&self, kind: SubsectionKind, column: u16) -> Option<&SubsectionEntry> {
        self.entries.iter().find(|e| e.kind == kind && e.column == column)
    }

    /// The primary vector column (the first), whose summary drives shard pruning.
    pub fn primary(&self) -> Option<&VectorColumn> {
        self.columns.first()
    }

    /// Index of the column named `name`.
    pub fn column_index(&self, name: &str) -> Option<u16> {
        self.columns.iter().position(|c| c.name == name).map(|i| i as u16)
    }
}

fn decode_column(r: &mut LeReader<'_>, dir: &[u8], tables_end: usize) -> Result<VectorColumn> {
    let field_id = r.i32()?;
    let dim = r.u32()?;
    let metric = Metric::from_code(r.u8()?)?;
    let element = ElementType::from_code(r.u8()?)?;
    let flags = r.u16()?;
    let radius = r.f32()?;
    let name_offset = r.u32()? as usize;
    let name_length = r.u32()? as usize;
    let centroid_offset = r.u32()? as usize;
    r.skip(4)?;
    if dim == 0 || dim > MAX_DIM {
        return Err(FormatError::AbsurdSize {
            what: "vector dimension",
            size: dim.into(),
            limit: MAX_DIM.into(),
        });
    }
    let name_bytes = area(dir, tables_end, name_offset, name_length, "column name")?;
    let name = std::str::from_utf8(name_bytes)
        .map_err(|_| FormatError::layout("column name is not UTF-8"))?
        .to_owned();
    let centroid_bytes = area(dir, tables_end, centroid_offset, dim as usize * 4, "centroid")?;
    let centroid =
        centroid_bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
    if !radius.is_finite() || radius < 0.0 {
        return Err(FormatError::layout(format!("column {name:?} has radius {radius}")));
    }
    let centroid: Vec<f32> = centroid;
    if centroid.iter().any(|v| !v.is_finite()) {
        return Err(FormatError::layout(format!("column {name:?} has a non-finite centroid")));
    }
    // Bit 0 (normalized) is set exactly for cosine columns; bits 1–15 are undefined in v1.
    if flags & !1 != 0 || (flags & 1 == 1) != (metric == Metric::Cosine) {
        return Err(FormatError::layout(format!(
            "column {name:?} has flags {flags:#x} for metric {metric:?}"
        )));
    }
    Ok(VectorColumn { field_id, name, dim, metric, element, normalized: flags & 1 == 1, centroid, radius })
}

fn area<'a>(dir: &'a [u8], tables_end: usize, offset: usize, len: usize, what: &str) -> Result<&'a [u8]> {
    offset
        .checked_add(len)
        .filter(|&end| offset >= tables_end && end <= dir.len())
        .map(|end| &dir[offset..end])
        .ok_or_else(|| FormatError::layout(format!("{what} at {offset}+{len} lies outside the directory")))
}

fn decode_entry(r: &mut LeReader<'_>) -> Result<SubsectionEntry> {
    let kind = SubsectionKind::from_code(r.u16()?);
    let column = r.u16()?;
    let crc32c = r.u32()?;
    let offset = r.u64()?;
    let length = r.u64()?;
    r.skip(8)?;
    Ok(SubsectionEntry { kind, column, crc32c, offset, length })
}

/// Collects columns and payloads, then encodes a complete section in one buffer.
#[derive(Debug, Default)]
pub struct SectionBuilder<'a> {
    row_count: u64,
    columns: Vec<VectorColumn>,
    payloads: Vec<(SubsectionKind, u16, PayloadBuilder<'a>)>,
}

impl<'a> SectionBuilder<'a> {
    /// A section for a shard of `row_count` rows.
    pub fn new(row_count: u64) -> Self {
        SectionBuilder { row_count, ..Default::default() }
    }

    /// Declares a vector column; returns its index for [`SectionBuilder::add`].
    pub fn column(&mut self, column: VectorColumn) -> u16 {
        self.columns.push(column);
        (self.columns.len() - 1) as u16
    }

    /// Adds a payload of `kind` for column `column`.
    pub fn add(&mut self, kind: SubsectionKind, column: u16, payload: PayloadBuilder<'a>) -> &mut Self {
        self.payloads.push((kind, column, payload));
        self
    }

    /// Encodes the section. Fails on inconsistent input, never writes a section a reader refuses.
    pub fn encode(&self) -> Result<Vec<u8>> {
        if self.columns.is_empty() || self.columns.len() > MAX_COLUMNS as usize {
            return Err(FormatError::InvalidInput(format!(
                "a section needs 1..={MAX_COLUMNS} vector columns"
            )));
        }
        if self.payloads.len() > MAX_ENTRIES as usize {
            return Err(FormatError::InvalidInput(format!("at most {MAX_ENTRIES} sub-sections")));
        }
        for (i, c) in self.columns.iter().enumerate() {
            if self.columns[..i].iter().any(|o| o.name == c.name) {
                return Err(FormatError::InvalidInput(format!("two vector columns are named {:?}", c.name)));
            }
            if c.normalized != (c.metric == Metric::Cosine) || c.centroid.iter().any(|v| !v.is_finite()) {
                return Err(FormatError::InvalidInput(format!(
                    "column {:?}: normalized must be set exactly for cosine, and the centroid finite",
                    c.name
                )));
            }
        }
        for (i, (kind, column, _)) in self.payloads.iter().enumerate() {
            if self.payloads[..i].iter().any(|(k, c, _)| k == kind && c == column) {
                return Err(FormatError::InvalidInput(format!("a second {kind:?} for column {column}")));
            }
            if usize::from(*column) >= self.columns.len() {
                return Err(FormatError::InvalidInput(format!("{kind:?} names undeclared column {column}")));
            }
        }
        // The variable area holds names and centroids, after both tables.
        let tables_end = HEADER_BYTES + self.columns.len() * COLUMN_BYTES + self.payloads.len() * ENTRY_BYTES;
        let mut area = Vec::new();
        let mut places = Vec::with_capacity(self.columns.len());
        for c in &self.columns {
            if c.dim == 0
                || c.dim > MAX_DIM
                || c.centroid.len() != c.dim as usize
                || !c.radius.is_finite()
                || c.radius < 0.0
            {
                return Err(FormatError::InvalidInput(format!(
                    "column {:?}: bad dim, centroid or radius",
                    c.name
                )));
            }
            let name_at = tables_end + area.len();
            area.extend_from_slice(c.name.as_bytes());
            area.pad_to(8);
            let centroid_at = tables_end + area.len();
            area.extend_from_slice(bytemuck::cast_slice(&c.centroid));
            area.pad_to(8);
            places.push((name_at, centroid_at));
        }
        let directory_length = (tables_end + area.len()).next_multiple_of(ALIGN);
        if directory_length as u64 > MAX_DIRECTORY_BYTES {
            return Err(FormatError::InvalidInput("section directory too large".into()));
        }
        let mut offsets = Vec::with_capacity(self.payloads.len());
        let mut pos = directory_length;
        for (_, _, p) in &self.payloads {
            offsets.push(pos);
            pos += p.encoded_len();
        }
        let section_length = pos;

        let mut out = Vec::with_capacity(section_length);
        out.extend_from_slice(&MAGIC);
        out.put_u16(FORMAT_MAJOR);
        let has = |kind| self.payloads.iter().any(|(k, _, _)| *k == kind);
        // Kind 6's metadata names its code kind at byte 25.
        let ex_blocks = self.payloads.iter().any(|(k, _, p)| {
            *k == SubsectionKind::PartitionBlocks
                && p.meta_bytes().get(25) == Some(&crate::blocks::CODE_RABITQ_EX4)
        });
        let minor = if ex_blocks {
            3
        } else if has(SubsectionKind::TextIndexes) {
            2
        } else if has(SubsectionKind::PartitionBlocks) {
            1
        } else {
            0
        };
        out.put_u16(minor);
        out.put_u32(0);
        out.put_u32(directory_length as u32);
        out.put_u64(section_length as u64);
        out.put_u64(self.row_count);
        out.put_u32(self.columns.len() as u32);
        out.put_u32(self.payloads.len() as u32);
        out.put_u32(0); // directory CRC, filled in below
        out.resize(HEADER_BYTES, 0);
        for (c, (name_at, centroid_at)) in self.columns.iter().zip(&places) {
            out.put_i32(c.field_id);
            out.put_u32(c.dim);
            out.put_u8(c.metric.code());
            out.put_u8(c.element.code());
            out.put_u16(u16::from(c.normalized));
            out.put_f32(c.radius);
            out.put_u32(*name_at as u32);
            out.put_u32(c.name.len() as u32);
            out.put_u32(*centroid_at as u32);
            out.put_u32(0);
        }
        // Entries are written with CRC 0 and patched once each payload is in place.
        for ((kind, column, p), offset) in self.payloads.iter().zip(&offsets) {
            out.put_u16(kind.code());
            out.put_u16(*column);
            out.put_u32(0);
            out.put_u64(*offset as u64);
            out.put_u64(p.encoded_len() as u64);
            out.put_u64(0);
        }
        out.extend_from_slice(&area);
        out.resize(directory_length, 0);
        for (i, (_, _, p)) in self.payloads.iter().enumerate() {
            let start = out.len();
            p.write_into(&mut out)?;
            let crc = crc32c::crc32c(&out[start..]);
            let at = HEADER_BYTES + self.columns.len() * COLUMN_BYTES + i * ENTRY_BYTES + 4;
            out[at..at + 4].copy_from_slice(&crc.to_le_bytes());
        }
        let crc = directory_crc(&out[..directory_length]);
        out[CRC_FIELD].copy_from_slice(&crc.to_le_bytes());
        debug_assert_eq!(out.len(), section_length);
        Ok(out)
    }
}

/// A whole section in memory: its directory plus the bytes its payloads are viewed from.
#[derive(Debug, Clone)]
pub struct Section {
    directory: SectionDirectory,
    bytes: AlignedBytes,
}

impl Section {
    /// Decodes a complete section and verifies every payload checksum.
    pub fn decode(bytes: AlignedBytes) -> Result<Self> {
        let directory = SectionDirectory::decode(&bytes)?;
        if (bytes.len() as u64) < directory.section_length {
            return Err(FormatError::Truncated {
                what: "section",
                needed: directory.section_length,
                available: bytes.len() as u64,
            });
        }
        let section = Section { directory, bytes };
        for entry in &section.directory.entries {
            section.verified_slice(entry)?;
        }
        Ok(section)
    }

    /// The decoded directory.
    pub fn directory(&self) -> &SectionDirectory {
        &self.directory
    }

    /// The payload of `kind` for `column`, viewed in place.
    pub fn payload(&self, kind: SubsectionKind, column: u16) -> Result<Payload> {
        let entry =
            self.directory.find(kind, column).ok_or(FormatError::SubsectionNotFound { kind, column })?;
        Payload::decode(self.verified_slice(entry)?)
    }

    fn verified_slice(&self, entry: &SubsectionEntry) -> Result<AlignedBytes> {
        let slice = self
            .bytes
            .slice(entry.offset as usize..(entry.offset + entry.length) as usize)
            .ok_or_else(|| FormatError::layout("sub-section outside the section bytes"))?;
        verify_crc(entry, &slice)?;
        Ok(slice)
    }
}

/// Checks a payload against its directory entry's CRC32C.
pub(crate) fn verify_crc(entry: &SubsectionEntry, bytes: &[u8]) -> Result<()> {
    let computed = crc32c::crc32c(bytes);
    if computed != entry.crc32c {
        return Err(FormatError::ChecksumMismatch {
            what: format!("{:?} sub-section of column {}", entry.kind, entry.column),
            stored: entry.crc32c,
            computed,
        });
    }
    Ok(())
}
