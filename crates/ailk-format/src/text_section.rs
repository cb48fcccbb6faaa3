//! The text-index sub-section (format 1.2, [`SubsectionKind::TextIndexes`]): one payload per
//! file holding the full-text index of each of the table's indexed text columns. The inverted
//! index itself is an opaque, self-checking blob here (its codec lives in `ailk-index`); this
//! module carries which column it indexes and with which analyzer.
//!
//! Payload metadata: `u32` column count, then per column `i32` field id, `u8` analyzer name
//! length, `u16` column name length, the analyzer name and the column name (UTF-8). Arrays:
//! one `u8` array per column, the index blob, in the same order.
//!
//! [`SubsectionKind::TextIndexes`]: crate::SubsectionKind::TextIndexes

use crate::aligned::TypedArray;
use crate::bytes_le::{LeReader, LeWrite};
use crate::error::{FormatError, Result};
use crate::payload::{Payload, PayloadBuilder};

/// The analyzers a text column may name (what `ailk-index`'s analyzer implements):
/// `simple` — Unicode words, lowercased; `english` — the same, English stop words dropped and
/// Snowball English stemming.
pub const TEXT_ANALYZERS: [&str; 2] = ["simple", "english"];

/// Most text columns one file indexes.
pub const MAX_TEXT_COLUMNS: usize = 256;

/// One text column's index inside a section.
#[derive(Debug, Clone)]
pub struct TextColumnIndex {
    /// Parquet / Iceberg field id of the text column, `-1` when it has none.
    pub field_id: i32,
    /// Column name in the Parquet schema.
    pub name: String,
    /// Analyzer the index was built with (one of [`TEXT_ANALYZERS`] for this version).
    pub analyzer: String,
    /// The encoded inverted index.
    pub index: TypedArray<u8>,
}

/// Which column a text index covers, from the payload's metadata alone (array `i` of the
/// payload is the index of the `i`-th name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextColumnName {
    /// Parquet / Iceberg field id of the text column, `-1` when it has none.
    pub field_id: i32,
    /// Column name in the Parquet schema.
    pub name: String,
    /// Analyzer the index was built with.
    pub analyzer: String,
}

impl TextColumnName {
    /// The columns a payload's metadata `meta` names, checked against its `arrays` count.
    pub fn decode_all(meta: &[u8], arrays: usize) -> Result<Vec<Self>> {
        let mut r = LeReader::new(meta, "text indexes metadata");
        let count = r.u32()? as usize;
        if count == 0 || count > MAX_TEXT_COLUMNS || count != arrays {
            return Err(bad(format!("{count} columns for {arrays} arrays")));
        }
        let mut columns: Vec<Self> = Vec::with_capacity(count);
        for _ in 0..count {
            let field_id = r.i32()?;
            let alen = usize::from(r.u8()?);
            let nlen = usize::from(r.u16()?);
            let analyzer = utf8(r.take(alen)?, "analyzer name")?;
            let name = utf8(r.take(nlen)?, "column name")?;
            if columns.iter().any(|c| c.name == name) {
                return Err(bad(format!("column {name:?} twice")));
            }
            columns.push(Self { field_id, name, analyzer });
        }
        Ok(columns)
    }

    /// The position of the column named `name` (or, when `field_id` is not -1, with that id).
    pub fn find(columns: &[Self], name: &str, field_id: i32) -> Option<usize> {
        columns
            .iter()
            .position(|c| field_id != -1 && c.field_id == field_id)
            .or_else(|| columns.iter().position(|c| c.name == name))
    }
}

/// The text indexes of one file.
#[derive(Debug, Clone, Default)]
pub struct TextIndexes {
    /// One per indexed text column.
    pub columns: Vec<TextColumnIndex>,
}

/// A column to encode: field id, column name, analyzer, index blob.
pub type TextColumnParts<'a> = (i32, &'a str, &'a str, &'a [u8]);

fn bad(msg: impl std::fmt::Display) -> FormatError {
    FormatError::layout(format!("text indexes: {msg}"))
}

impl TextIndexes {
    /// Encodes the indexes of `columns`.
    pub fn encode<'a>(columns: &[TextColumnParts<'a>]) -> Result<PayloadBuilder<'a>> {
        if columns.is_empty() || columns.len() > MAX_TEXT_COLUMNS {
            return Err(FormatError::InvalidInput(format!("1..={MAX_TEXT_COLUMNS} text columns per file")));
        }
        let mut meta = Vec::new();
        meta.put_u32(columns.len() as u32);
        for (i, (field_id, name, analyzer, _)) in columns.iter().enumerate() {
            if columns[..i].iter().any(|c| c.1 == *name) {
                return Err(FormatError::InvalidInput(format!("text column {name:?} given twice")));
            }
            let (Ok(alen), Ok(nlen)) = (u8::try_from(analyzer.len()), u16::try_from(name.len())) else {
                return Err(FormatError::InvalidInput(format!("text column {name:?}: name too long")));
            };
            meta.put_i32(*field_id);
            meta.put_u8(alen);
            meta.put_u16(nlen);
            meta.extend_from_slice(analyzer.as_bytes());
            meta.extend_from_slice(name.as_bytes());
        }
        Ok(columns.iter().fold(PayloadBuilder::new(meta), |b, c| b.array(c.3)))
    }

    /// Views a payload as text indexes (the blobs are not decoded here).
    pub fn decode(p: &Payload) -> Result<Self> {
        let names = TextColumnName::decode_all(p.meta(), p.array_count())?;
        let columns = names
            .into_iter()
            .enumerate()
            .map(|(i, n)| {
                Ok(TextColumnIndex {
                    field_id: n.field_id,
                    name: n.name,
                    analyzer: n.analyzer,
                    index: p.array(i)?,
                })
            })
            .collect::<Result<_>>()?;
        Ok(Self { columns })
    }

    /// The index of the column named `name` (or, when `field_id` is not -1, with that id).
    pub fn column(&self, name: &str, field_id: i32) -> Option<&TextColumnIndex> {
        let names: Vec<TextColumnName> = self
            .columns
            .iter()
            .map(|c| TextColumnName {
                field_id: c.field_id,
                name: c.name.clone(),
                analyzer: c.analyzer.clone(),
            })
            .collect();
        TextColumnName::find(&names, name, field_id).map(|i| &self.columns[i])
    }
}

fn utf8(bytes: &[u8], what: &str) -> Result<String> {
    std::str::from_utf8(bytes).map(str::to_owned).map_err(|_| bad(format!("{what} is not UTF-8")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aligned::AlignedBytes;

    #[test]
    fn round_trip_and_refusals() {
        let a = [1u8, 2, 3];
        let b = [9u8; 100];
        let built = TextIndexes::encode(&[(3, "title", "simple", &a), (-1, "body", "english", &b)]).unwrap();
        let p = Payload::decode(AlignedBytes::new(built.to_vec().unwrap().into())).unwrap();
        let t = TextIndexes::decode(&p).unwrap();
        assert_eq!(t.columns.len(), 2);
        assert_eq!((t.columns[0].field_id, t.columns[0].name.as_str()), (3, "title"));
        assert_eq!(t.columns[1].analyzer, "english");
        assert_eq!(&t.columns[1].index[..], &b);
        assert_eq!(t.column("renamed", 3).unwrap().name, "title");
        assert_eq!(t.column("body", -1).unwrap().name, "body");
        assert!(t.column("nope", 7).is_none());
        assert!(TextIndexes::encode(&[]).is_err());
        assert!(TextIndexes::encode(&[(1, "x", "simple", &a), (2, "x", "simple", &a)]).is_err());
    }
}
