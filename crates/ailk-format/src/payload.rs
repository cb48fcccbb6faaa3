//! The payload container every sub-section kind uses: a few fixed metadata bytes followed by
//! typed, 64-byte aligned arrays that readers view in place.
//!
//! ```text
//! 0      u32  meta_length M
//! 4      u32  array_count A
//! 8      [M]  kind-specific metadata, then zero padding to a multiple of 8
//! ..     A × 24-byte array descriptors: u8 type, 7 zero bytes, u64 offset, u64 element count
//! ..     zero padding to 64; each array starts at a multiple of 64 from the payload start
//! ```

use std::borrow::Cow;

use crate::aligned::{AlignedBytes, TypedArray, ALIGN};
use crate::bytes_le::{LeReader, LeWrite};
use crate::error::{FormatError, Result};

/// Most arrays one payload may declare (a guard against absurd counts in corrupt bytes).
pub const MAX_ARRAYS: u32 = 1024;
/// Most metadata bytes one payload may declare.
pub const MAX_META_BYTES: u32 = 64 * 1024;
const DESCRIPTOR_BYTES: usize = 24;

/// Element type of a payload array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArrayType {
    /// Unsigned bytes (PQ codes, HNSW levels).
    U8,
    /// `u16`, also the raw bits of `f16` vectors.
    U16,
    /// `u32` (neighbour ids, row ids).
    U32,
    /// `u64` (list offsets).
    U64,
    /// `f32` (vectors, centroids, codebooks).
    F32,
}

impl ArrayType {
    fn code(self) -> u8 {
        match self {
            ArrayType::U8 => 1,
            ArrayType::U16 => 2,
            ArrayType::U32 => 3,
            ArrayType::U64 => 4,
            ArrayType::F32 => 5,
        }
    }

    fn from_code(code: u8) -> Result<Self> {
        Ok(match code {
            1 => ArrayType::U8,
            2 => ArrayType::U16,
            3 => ArrayType::U32,
            4 => ArrayType::U64,
            5 => ArrayType::F32,
            other => return Err(FormatError::layout(format!("unknown array type code {other}"))),
        })
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            ArrayType::U8 => 1,
            ArrayType::U16 => 2,
            ArrayType::U32 | ArrayType::F32 => 4,
            ArrayType::U64 => 8,
        }
    }
}

/// Maps a Rust element type to its [`ArrayType`].
pub trait ArrayElement: bytemuck::Pod {
    /// The stored type code.
    const TYPE: ArrayType;
}
impl ArrayElement for u8 {
    const TYPE: ArrayType = ArrayType::U8;
}
impl ArrayElement for u16 {
    const TYPE: ArrayType = ArrayType::U16;
}
impl ArrayElement for u32 {
    const TYPE: ArrayType = ArrayType::U32;
}
impl ArrayElement for u64 {
    const TYPE: ArrayType = ArrayType::U64;
}
impl ArrayElement for f32 {
    const TYPE: ArrayType = ArrayType::F32;
}

/// Assembles one payload from metadata bytes and borrowed arrays (copied once, at encode).
#[derive(Debug, Clone, Default)]
pub struct PayloadBuilder<'a> {
    meta: Vec<u8>,
    arrays: Vec<(ArrayType, Cow<'a, [u8]>)>,
}

impl<'a> PayloadBuilder<'a> {
    /// Starts a payload with the kind's fixed metadata bytes.
    pub fn new(meta: Vec<u8>) -> Self {
        PayloadBuilder { meta, arrays: Vec::new() }
    }

    /// The payload's fixed metadata bytes.
    pub(crate) fn meta_bytes(&self) -> &[u8] {
        &self.meta
    }

    /// Appends an array; arrays are addressed by their position.
    pub fn array<T: ArrayElement>(mut self, values: &'a [T]) -> Self {
        self.arrays.push((T::TYPE, Cow::Borrowed(bytemuck::cast_slice(values))));
        self
    }

    fn descriptors_end(&self) -> usize {
        8 + self.meta.len().next_multiple_of(8) + self.arrays.len() * DESCRIPTOR_BYTES
    }

    /// The exact number of bytes [`PayloadBuilder::write_into`] appends.
    pub fn encoded_len(&self) -> usize {
        let mut pos = self.descriptors_end().next_multiple_of(ALIGN);
        for (_, data) in &self.arrays {
            pos = (pos + data.len()).next_multiple_of(ALIGN);
        }
        pos
    }

    /// Appends the encoded payload to `out`; the caller places it at a 64-byte boundary.
    pub fn write_into(&self, out: &mut Vec<u8>) -> Result<()> {
        if self.arrays.len() > MAX_ARRAYS as usize || self.meta.len() > MAX_META_BYTES as usize {
            return Err(FormatError::InvalidInput("payload has too many arrays or metadata bytes".into()));
        }
        let start = out.len();
        out.reserve(self.encoded_len());
        out.put_u32(self.meta.len() as u32);
        out.put_u32(self.arrays.len() as u32);
        out.extend_from_slice(&self.meta);
        out.pad_to_from(start, 8);
        let mut offset = self.descriptors_end().next_multiple_of(ALIGN);
        for (ty, data) in &self.arrays {
            out.put_u8(ty.code());
            out.extend_from_slice(&[0; 7]);
            out.put_u64(offset as u64);
            out.put_u64((data.len() / ty.size()) as u64);
            offset = (offset + data.len()).next_multiple_of(ALIGN);
        }
        for (_, data) in &self.arrays {
            out.pad_to_from(start, ALIGN);
            out.extend_from_slice(data);
        }
        out.pad_to_from(start, ALIGN);
        debug_assert_eq!(out.len() - start, self.encoded_len());
        Ok(())
    }

    /// Encodes into a fresh vector.
    pub fn to_vec(&self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.write_into(&mut out)?;
        Ok(out)
    }
}

trait PadFrom {
    fn pad_to_from(&mut self, start: usize, align: usize);
}

impl PadFrom for Vec<u8> {
    fn pad_to_from(&mut self, start: usize, align: usize) {
        let rel = (self.len() - start).next_multiple_of(align);
        self.resize(start + rel, 0);
    }
}

#[derive(Debug, Clone, Copy)]
struct ArrayDesc {
    ty: ArrayType,
    offset: usize,
    count: usize,
}

/// A decoded payload: metadata bytes plus array descriptors, all bounds-checked.
#[derive(Debug, Clone)]
pub struct Payload {
    bytes: AlignedBytes,
    meta_len: usize,
    arrays: Vec<ArrayDesc>,
}

impl Payload {
    /// Parses and validates a payload. Never panics; corrupt bytes give a typed error.
    pub fn decode(bytes: AlignedBytes) -> Result<Self> {
        let (meta_len, arrays) = parse_header(&bytes, bytes.len() as u64)?;
        Ok(Payload { bytes, meta_len, arrays })
    }

    /// The kind-specific metadata bytes.
    pub fn meta(&self) -> &[u8] {
        &self.bytes[8..8 + self.meta_len]
    }

    /// Number of arrays declared.
    pub fn array_count(&self) -> usize {
        self.arrays.len()
    }

    /// A zero-copy view of array `index`, checked to hold elements of type `T`.
    pub fn array<T: ArrayElement>(&self, index: usize) -> Result<TypedArray<T>> {
        let desc = self
            .arrays
            .get(index)
            .ok_or_else(|| FormatError::layout(format!("payload has no array {index}")))?;
        if desc.ty != T::TYPE {
            return Err(FormatError::layout(format!(
                "array {index} holds {:?}, expected {:?}",
                desc.ty,
                T::TYPE
            )));
        }
        let end = desc.offset + desc.count * desc.ty.size();
        let slice = self
            .bytes
            .slice(desc.offset..end)
            .ok_or_else(|| FormatError::layout(format!("array {index} is out of bounds")))?;
        TypedArray::new(slice)
            .ok_or_else(|| FormatError::layout(format!("array {index} has a ragged length")))
    }

    /// Byte offset of array `index` from the payload start (to locate it in a file).
    pub fn array_offset(&self, index: usize) -> Result<u64> {
        self.arrays
            .get(index)
            .map(|d| d.offset as u64)
            .ok_or_else(|| FormatError::layout(format!("payload has no array {index}")))
    }

    /// The whole encoded payload.
    pub fn bytes(&self) -> &AlignedBytes {
        &self.bytes
    }
}

/// The header of a payload whose first bytes are `bytes` and whose length is `total`: the
/// metadata length and the array descriptors, checked against `total`.
fn parse_header(bytes: &[u8], total: u64) -> Result<(usize, Vec<ArrayDesc>)> {
    let mut r = LeReader::new(bytes, "payload header");
    let meta_len = r.u32()?;
    let count = r.u32()?;
    if meta_len > MAX_META_BYTES {
        return Err(FormatError::AbsurdSize {
            what: "payload metadata",
            size: meta_len.into(),
            limit: MAX_META_BYTES.into(),
        });
    }
    if count > MAX_ARRAYS {
        return Err(FormatError::AbsurdSize {
            what: "payload array count",
            size: count.into(),
            limit: MAX_ARRAYS.into(),
        });
    }
    let meta_len = meta_len as usize;
    r.skip(meta_len.next_multiple_of(8))?;
    let mut arrays = Vec::with_capacity(count as usize);
    let mut next_free = (8 + meta_len.next_multiple_of(8) + count as usize * DESCRIPTOR_BYTES) as u64;
    for i in 0..count {
        let ty = ArrayType::from_code(r.u8()?)?;
        r.skip(7)?;
        let offset = r.u64()?;
        let elems = r.u64()?;
        let len = elems.checked_mul(ty.size() as u64);
        let end = len.and_then(|l| offset.checked_add(l));
        let Some(end) = end.filter(|&e| e <= total) else {
            return Err(FormatError::layout(format!(
                "array {i}: {elems} elements at offset {offset} exceed the {total}-byte payload"
            )));
        };
        if !offset.is_multiple_of(ALIGN as u64) || offset < next_free {
            return Err(FormatError::layout(format!("array {i}: offset {offset} is unaligned or overlaps")));
        }
        next_free = end;
        arrays.push(ArrayDesc { ty, offset: offset as usize, count: elems as usize });
    }
    Ok((meta_len, arrays))
}

/// A payload's header read on its own (its first bytes), to locate arrays and read them with
/// ranged reads instead of the whole payload (no CRC covers a part: what is read that way
/// carries its own checks).
#[derive(Debug, Clone)]
pub struct PayloadHead {
    meta: Vec<u8>,
    arrays: Vec<ArrayDesc>,
}

impl PayloadHead {
    /// Bytes of the header (lengths, metadata, descriptors) as its first 8 bytes declare it,
    /// `None` when `first` holds fewer than 8 bytes.
    pub fn header_len(first: &[u8]) -> Option<u64> {
        let word = |at: usize| first.get(at..at + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        let (meta, count) = (u64::from(word(0)?), u64::from(word(4)?));
        Some(8 + meta.next_multiple_of(8) + count * DESCRIPTOR_BYTES as u64)
    }

    /// Decodes the header from `prefix` (at least [`PayloadHead::header_len`] bytes) of a
    /// `total`-byte payload.
    pub fn decode(prefix: &[u8], total: u64) -> Result<Self> {
        let (meta_len, arrays) = parse_header(prefix, total)?;
        Ok(Self { meta: prefix[8..8 + meta_len].to_vec(), arrays })
    }

    /// The kind-specific metadata bytes.
    pub fn meta(&self) -> &[u8] {
        &self.meta
    }

    /// Number of arrays declared.
    pub fn array_count(&self) -> usize {
        self.arrays.len()
    }

    /// Bytes of array `index`, relative to the payload's start.
    pub fn array_range(&self, index: usize) -> Result<std::ops::Range<u64>> {
        let d = self
            .arrays
            .get(index)
            .ok_or_else(|| FormatError::layout(format!("payload has no array {index}")))?;
        let start = d.offset as u64;
        Ok(start..start + (d.count * d.ty.size()) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_round_trips_arrays_and_meta() {
        let a = [1.5f32, -2.0, 3.25];
        let b = [7u32, 8, 9, 10];
        let c: [u8; 0] = [];
        let enc = PayloadBuilder::new(vec![9, 8, 7]).array(&a).array(&b).array(&c).to_vec().unwrap();
        assert_eq!(enc.len() % ALIGN, 0);
        let p = Payload::decode(AlignedBytes::copy_from(&enc)).unwrap();
        assert_eq!(p.meta(), &[9, 8, 7]);
        assert_eq!(&p.array::<f32>(0).unwrap()[..], &a);
        assert_eq!(&p.array::<u32>(1).unwrap()[..], &b);
        assert_eq!(p.array::<u8>(2).unwrap().len(), 0);
        assert!(p.array::<u32>(0).is_err(), "type is checked");
        assert!(p.array::<u32>(3).is_err(), "index is checked");
    }
}
