//! Byte buffers whose start is 64-byte aligned, so typed payloads can be viewed in place.

use bytes::Bytes;
use std::ops::{Deref, Range};

/// The alignment every AILK payload and array honours, in bytes.
pub const ALIGN: usize = 64;

#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C, align(64))]
struct Block([u8; ALIGN]);

/// An owned, cheaply clonable byte buffer whose first byte sits at a 64-byte aligned address.
///
/// Built from [`Bytes`] (what `object_store` returns) without a copy when the buffer already
/// is aligned, and with exactly one `memcpy` otherwise. Slicing at multiples of 64 keeps the
/// alignment, which is what lets `&[f32]` / `&[u32]` views of payload arrays exist without
/// decoding element by element.
#[derive(Clone)]
pub struct AlignedBytes(Bytes);

impl AlignedBytes {
    /// Wraps `bytes`, copying once into an aligned allocation if its start is not aligned.
    pub fn new(bytes: Bytes) -> Self {
        if (bytes.as_ptr() as usize).is_multiple_of(ALIGN) {
            return AlignedBytes(bytes);
        }
        Self::copy_from(&bytes)
    }

    /// Copies `data` into a fresh aligned allocation.
    pub fn copy_from(data: &[u8]) -> Self {
        Self::concat(&[data])
    }

    /// Copies the concatenation of `parts` into a fresh aligned allocation.
    pub fn concat(parts: &[&[u8]]) -> Self {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        let mut storage = vec![Block([0; ALIGN]); len.div_ceil(ALIGN)];
        let dst: &mut [u8] = bytemuck::cast_slice_mut(storage.as_mut_slice());
        let mut at = 0;
        for part in parts {
            dst[at..at + part.len()].copy_from_slice(part);
            at += part.len();
        }
        AlignedBytes(Bytes::from_owner(AlignedVec { blocks: storage, len }))
    }

    /// An empty buffer.
    pub fn empty() -> Self {
        Self::copy_from(&[])
    }

    /// A sub-range; `range.start` must be a multiple of 64 (checked, never panics).
    pub fn slice(&self, range: Range<usize>) -> Option<Self> {
        if !range.start.is_multiple_of(ALIGN) || range.start > range.end || range.end > self.0.len() {
            return None;
        }
        Some(AlignedBytes(self.0.slice(range)))
    }
}

impl Deref for AlignedBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for AlignedBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AlignedBytes({} bytes)", self.0.len())
    }
}

struct AlignedVec {
    blocks: Vec<Block>,
    len: usize,
}

impl AsRef<[u8]> for AlignedVec {
    fn as_ref(&self) -> &[u8] {
        let all: &[u8] = bytemuck::cast_slice(self.blocks.as_slice());
        &all[..self.len]
    }
}

/// A typed, zero-copy view of a little-endian array inside an [`AlignedBytes`] buffer.
#[derive(Clone)]
pub struct TypedArray<T> {
    bytes: AlignedBytes,
    _t: std::marker::PhantomData<T>,
}

impl<T: bytemuck::Pod> TypedArray<T> {
    /// Views `bytes` as `[T]`; `None` when its length is not a multiple of `size_of::<T>()`.
    pub fn new(bytes: AlignedBytes) -> Option<Self> {
        if !bytes.len().is_multiple_of(std::mem::size_of::<T>()) {
            return None;
        }
        Some(TypedArray { bytes, _t: std::marker::PhantomData })
    }

    /// Builds an array by copying `values` (for tests and in-memory construction).
    pub fn from_slice(values: &[T]) -> Self {
        TypedArray {
            bytes: AlignedBytes::copy_from(bytemuck::cast_slice(values)),
            _t: std::marker::PhantomData,
        }
    }

    /// Allocates an aligned array of `len` zeroed elements, lets `fill` write them, and
    /// freezes it without a copy.
    pub fn from_fill(len: usize, fill: impl FnOnce(&mut [T])) -> Self {
        let bytes = len * std::mem::size_of::<T>();
        let mut storage = vec![Block([0; ALIGN]); bytes.div_ceil(ALIGN)];
        let raw: &mut [u8] = bytemuck::cast_slice_mut(storage.as_mut_slice());
        fill(bytemuck::cast_slice_mut(&mut raw[..bytes]));
        let owner = AlignedVec { blocks: storage, len: bytes };
        TypedArray { bytes: AlignedBytes(Bytes::from_owner(owner)), _t: std::marker::PhantomData }
    }

    /// The raw bytes behind the view.
    pub fn bytes(&self) -> &AlignedBytes {
        &self.bytes
    }
}

impl<T: bytemuck::Pod> Deref for TypedArray<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        // The start is 64-byte aligned (AlignedBytes invariant) and the length a multiple of
        // size_of::<T>() (checked in `new`), so this cast cannot fail.
        bytemuck::cast_slice(&self.bytes)
    }
}

impl<T: bytemuck::Pod + std::fmt::Debug> std::fmt::Debug for TypedArray<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TypedArray(len={})", self.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unaligned_input_is_realigned_and_equal() {
        let raw = Bytes::from((0u8..200).collect::<Vec<_>>());
        let unaligned = raw.slice(3..150);
        let a = AlignedBytes::new(unaligned.clone());
        assert_eq!(a.as_ptr() as usize % ALIGN, 0);
        assert_eq!(&a[..], &unaligned[..]);
        assert!(a.slice(1..5).is_none());
        assert_eq!(&a.slice(64..100).unwrap()[..], &unaligned[64..100]);
    }

    #[test]
    fn typed_array_views_in_place() {
        let arr = TypedArray::<f32>::from_slice(&[1.0, 2.5, -3.0]);
        assert_eq!(&arr[..], &[1.0, 2.5, -3.0]);
        assert!(TypedArray::<u32>::new(AlignedBytes::copy_from(&[1, 2, 3])).is_none());
    }
}
