//! A pre-check of untrusted Parquet footers (Thrift compact protocol) before parquet decodes
//! them. parquet 58 sizes vectors from declared list lengths, and reads a known field by its
//! id whatever wire type the bytes declare, so a corrupt footer can make it reserve gigabytes
//! (found twice by our `shard_open` fuzz target). This walker follows the Parquet footer
//! schema: every known field must carry its expected wire type, every list, map or string
//! must declare no more elements or bytes than remain, nesting stops at [`MAX_DEPTH`]. It
//! allocates nothing.

use crate::error::{FormatError, Result};

/// Deepest nesting of structs / containers accepted.
pub const MAX_DEPTH: usize = 64;

/// Expected wire type of a field, following `parquet.thrift`.
#[derive(Clone, Copy)]
enum Ty {
    /// Any scalar or binary; only its wire type is checked by the caller's table.
    Wire(u8),
    /// A list whose elements have this wire type and, for structs, this schema.
    List(u8, Option<&'static Schema>),
    /// A struct with this schema (`None`: any fields, checked for sizes only).
    Struct(Option<&'static Schema>),
    /// `SchemaElement.num_children`: an i32 parquet reserves a vector by, so it must not
    /// exceed the number of schema elements.
    ChildCount,
}

type Schema = [(i16, Ty)];

const BOOL: Ty = Ty::Wire(1);
const I16: Ty = Ty::Wire(4);
const I32: Ty = Ty::Wire(5);
const I64: Ty = Ty::Wire(6);
const BIN: Ty = Ty::Wire(8);

const DOUBLE: Ty = Ty::Wire(7);
const BYTE: Ty = Ty::Wire(3);
/// A struct with no known fields (parquet skips whatever it holds by wire type).
static EMPTY: &Schema = &[];
const EMPTY_STRUCT: Ty = Ty::Struct(Some(EMPTY));

static KEY_VALUE: &Schema = &[(1, BIN), (2, BIN)];
static DECIMAL_TYPE: &Schema = &[(1, I32), (2, I32)];
static TIME_UNIT: &Schema = &[(1, EMPTY_STRUCT), (2, EMPTY_STRUCT), (3, EMPTY_STRUCT)];
static TIME_TYPE: &Schema = &[(1, BOOL), (2, Ty::Struct(Some(TIME_UNIT)))];
static INT_TYPE: &Schema = &[(1, BYTE), (2, BOOL)];
static VARIANT_TYPE: &Schema = &[(1, BYTE)];
static GEOMETRY_TYPE: &Schema = &[(1, BIN)];
static GEOGRAPHY_TYPE: &Schema = &[(1, BIN), (2, I32)];
/// The `LogicalType` union.
static LOGICAL_TYPE: &Schema = &[
    (1, EMPTY_STRUCT),
    (2, EMPTY_STRUCT),
    (3, EMPTY_STRUCT),
    (4, EMPTY_STRUCT),
    (5, Ty::Struct(Some(DECIMAL_TYPE))),
    (6, EMPTY_STRUCT),
    (7, Ty::Struct(Some(TIME_TYPE))),
    (8, Ty::Struct(Some(TIME_TYPE))),
    (10, Ty::Struct(Some(INT_TYPE))),
    (11, EMPTY_STRUCT),
    (12, EMPTY_STRUCT),
    (13, EMPTY_STRUCT),
    (14, EMPTY_STRUCT),
    (15, EMPTY_STRUCT),
    (16, Ty::Struct(Some(VARIANT_TYPE))),
    (17, Ty::Struct(Some(GEOMETRY_TYPE))),
    (18, Ty::Struct(Some(GEOGRAPHY_TYPE))),
];
static BOUNDING_BOX: &Schema =
    &[(1, DOUBLE), (2, DOUBLE), (3, DOUBLE), (4, DOUBLE), (5, DOUBLE), (6, DOUBLE), (7, DOUBLE), (8, DOUBLE)];
static COLUMN_ORDER: &Schema = &[(1, EMPTY_STRUCT)];
static AES_GCM: &Schema = &[(1, BIN), (2, BIN), (3, BOOL)];
static ENCRYPTION_ALGORITHM: &Schema = &[(1, Ty::Struct(Some(AES_GCM))), (2, Ty::Struct(Some(AES_GCM)))];
static SORTING_COLUMN: &Schema = &[(1, I32), (2, BOOL), (3, BOOL)];
static PAGE_ENCODING_STATS: &Schema = &[(1, I32), (2, I32), (3, I32)];
static STATISTICS: &Schema =
    &[(1, BIN), (2, BIN), (3, I64), (4, I64), (5, BIN), (6, BIN), (7, BOOL), (8, BOOL)];
static SIZE_STATISTICS: &Schema = &[(1, I64), (2, Ty::List(6, None)), (3, Ty::List(6, None))];
static GEO_STATISTICS: &Schema = &[(1, Ty::Struct(Some(BOUNDING_BOX))), (2, Ty::List(5, None))];
static COLUMN_META: &Schema = &[
    (1, I32),
    (2, Ty::List(5, None)),
    (3, Ty::List(8, None)),
    (4, I32),
    (5, I64),
    (6, I64),
    (7, I64),
    (8, Ty::List(12, Some(KEY_VALUE))),
    (9, I64),
    (10, I64),
    (11, I64),
    (12, Ty::Struct(Some(STATISTICS))),
    (13, Ty::List(12, Some(PAGE_ENCODING_STATS))),
    (14, I64),
    (15, I32),
    (16, Ty::Struct(Some(SIZE_STATISTICS))),
    (17, Ty::Struct(Some(GEO_STATISTICS))),
];
static ENCRYPTION_WITH_COLUMN_KEY: &Schema = &[(1, Ty::List(8, None)), (2, BIN)];
static COLUMN_CRYPTO: &Schema = &[(1, EMPTY_STRUCT), (2, Ty::Struct(Some(ENCRYPTION_WITH_COLUMN_KEY)))];
static COLUMN_CHUNK: &Schema = &[
    (1, BIN),
    (2, I64),
    (3, Ty::Struct(Some(COLUMN_META))),
    (4, I64),
    (5, I32),
    (6, I64),
    (7, I32),
    (8, Ty::Struct(Some(COLUMN_CRYPTO))),
    (9, BIN),
];
static ROW_GROUP: &Schema = &[
    (1, Ty::List(12, Some(COLUMN_CHUNK))),
    (2, I64),
    (3, I64),
    (4, Ty::List(12, Some(SORTING_COLUMN))),
    (5, I64),
    (6, I64),
    (7, I16),
];
static SCHEMA_ELEMENT: &Schema = &[
    (1, I32),
    (2, I32),
    (3, I32),
    (4, BIN),
    (5, Ty::ChildCount),
    (6, I32),
    (7, I32),
    (8, I32),
    (9, I32),
    (10, Ty::Struct(Some(LOGICAL_TYPE))),
];
/// `FileMetaData`, the footer's root struct.
static FILE_META: &Schema = &[
    (1, I32),
    (2, Ty::List(12, Some(SCHEMA_ELEMENT))),
    (3, I64),
    (4, Ty::List(12, Some(ROW_GROUP))),
    (5, Ty::List(12, Some(KEY_VALUE))),
    (6, BIN),
    (7, Ty::List(12, Some(COLUMN_ORDER))),
    (8, Ty::Struct(Some(ENCRYPTION_ALGORITHM))),
    (9, BIN),
];

fn wire_of(ty: Ty) -> u8 {
    match ty {
        Ty::Wire(w) => w,
        Ty::ChildCount => 5,
        Ty::List(..) => 9,
        Ty::Struct(_) => 12,
    }
}

fn same_wire(expected: u8, found: u8) -> bool {
    // Booleans travel as type 1 (true) or 2 (false) in struct fields.
    expected == found || (expected == 1 && found == 2)
}

struct Walker<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Length of the footer's schema list, once seen: the bound of any `num_children`.
    schema_elements: u64,
}

fn bad(msg: &str) -> FormatError {
    FormatError::NotParquet(format!("corrupt footer metadata: {msg}"))
}

impl Walker<'_> {
    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn byte(&mut self) -> Result<u8> {
        let b = *self.buf.get(self.pos).ok_or_else(|| bad("truncated"))?;
        self.pos += 1;
        Ok(b)
    }

    fn skip(&mut self, n: usize) -> Result<()> {
        if n > self.remaining() {
            return Err(bad("a length runs past the end"));
        }
        self.pos += n;
        Ok(())
    }

    fn varint(&mut self) -> Result<u64> {
        let mut v = 0u64;
        for shift in (0..70).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift.min(63);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(bad("overlong varint"))
    }

    /// Checks that `count` elements of at least `min_size` bytes each can still fit.
    fn plausible(&self, count: u64, min_size: u64) -> Result<usize> {
        if count.saturating_mul(min_size) > self.remaining() as u64 {
            return Err(bad("a container declares more elements than bytes remain"));
        }
        Ok(count as usize)
    }

    fn value(&mut self, ty: u8, schema: Option<&'static Schema>, depth: usize) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(bad("nested too deeply"));
        }
        match ty {
            1 | 2 => Ok(()), // booleans inside struct fields carry no payload
            3 => self.skip(1),
            4..=6 => self.varint().map(|_| ()),
            7 => self.skip(8),
            8 => {
                let len = self.varint()?;
                let len = self.plausible(len, 1)?;
                self.skip(len)
            }
            9 | 10 => {
                let header = self.byte()?;
                let elem = header & 0x0f;
                let count = match header >> 4 {
                    15 => self.varint()?,
                    n => u64::from(n),
                };
                let count = self.plausible(count, 1)?;
                if schema.is_some_and(|s| std::ptr::eq(s, SCHEMA_ELEMENT)) {
                    self.schema_elements = count as u64;
                }
                for _ in 0..count {
                    self.element(elem, schema, depth + 1)?;
                }
                Ok(())
            }
            11 => {
                let count = self.varint()?;
                if count == 0 {
                    return Ok(());
                }
                let kinds = self.byte()?;
                for _ in 0..self.plausible(count, 2)? {
                    self.element(kinds >> 4, None, depth + 1)?;
                    self.element(kinds & 0x0f, None, depth + 1)?;
                }
                Ok(())
            }
            12 => self.structure(schema, depth + 1),
            13 => self.skip(16),
            _ => Err(bad("unknown thrift type")),
        }
    }

    /// A container element. The Thrift spec gives boolean elements one byte each, but
    /// parquet 58 skips them as if they were struct-field booleans (no byte), and the guard
    /// must follow parquet's reading, not the spec's, to see the same bytes it will see.
    fn element(&mut self, ty: u8, schema: Option<&'static Schema>, depth: usize) -> Result<()> {
        if ty == 1 || ty == 2 {
            return Ok(());
        }
        self.value(ty, schema, depth)
    }

    /// A struct; with a schema, each known field id must carry its expected wire type (and
    /// lists their expected element type), since parquet decodes known fields by id.
    fn structure(&mut self, schema: Option<&'static Schema>, depth: usize) -> Result<()> {
        let mut last_id: i16 = 0;
        loop {
            let header = self.byte()?;
            let ty = header & 0x0f;
            if ty == 0 {
                return Ok(());
            }
            let id = match header >> 4 {
                0 => {
                    let z = self.varint()?;
                    i16::try_from((z >> 1) as i64 ^ -((z & 1) as i64))
                        .map_err(|_| bad("field id out of range"))?
                }
                delta => last_id.wrapping_add(i16::from(delta)),
            };
            last_id = id;
            let expected = schema.and_then(|s| s.iter().find(|(fid, _)| *fid == id)).map(|(_, t)| *t);
            let Some(expected) = expected else {
                self.value(ty, None, depth)?;
                continue;
            };
            if !same_wire(wire_of(expected), ty) {
                return Err(bad("a field carries an unexpected type"));
            }
            match expected {
                Ty::Wire(_) => self.value(ty, None, depth)?,
                Ty::ChildCount => {
                    let z = self.varint()?;
                    let children = (z >> 1) as i64 ^ -((z & 1) as i64);
                    if children < 0 || children as u64 >= self.schema_elements.max(1) {
                        return Err(bad("a schema element claims more children than the schema has"));
                    }
                }
                Ty::Struct(inner) => self.value(ty, inner, depth)?,
                Ty::List(elem, inner) => {
                    let at = self.pos;
                    let declared = self.buf.get(at).map(|h| h & 0x0f);
                    if declared.is_some_and(|d| !same_wire(elem, d)) {
                        return Err(bad("a list holds elements of an unexpected type"));
                    }
                    self.value(ty, inner, depth)?;
                }
            }
        }
    }
}

/// Checks that `bytes` is a plausible Parquet `FileMetaData` in Thrift compact encoding:
/// known fields carry their expected types and declared sizes fit the bytes.
pub fn check_footer(bytes: &[u8]) -> Result<()> {
    Walker { buf: bytes, pos: 0, schema_elements: 0 }.structure(Some(FILE_META), 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_claiming_more_elements_than_bytes_is_refused() {
        // field 2 (delta 2), type list; header 0xFC = varint size, struct elements; 2^31.
        let bomb = [0x29, 0xfc, 0x80, 0x80, 0x80, 0x80, 0x08, 0x00];
        assert!(check_footer(&bomb).is_err());
        // field 2 declared as binary: parquet would read a list there anyway, so refuse.
        assert!(check_footer(&[0x28, 0x05, 0x41, 0x41, 0x41, 0x41, 0x41, 0x00]).is_err());
        // field 1 (version) i32 zigzag 1, field 2 list of one SchemaElement {4: "a"}, STOP.
        assert!(check_footer(&[0x15, 0x02, 0x19, 0x1c, 0x48, 0x01, b'a', 0x00, 0x00]).is_ok());
    }
}
