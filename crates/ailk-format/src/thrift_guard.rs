//! A pre-check of untrusted Parquet footers (Thrift compact protocol) before parquet decodes
//! them. parquet 58 sizes vectors from declared list lengths, so a corrupt footer declaring
//! billions of elements makes it allocate gigabytes (found by our `shard_open` fuzz target).
//! This walker refuses any footer whose lists, maps or strings declare more elements or
//! bytes than remain, or that nests deeper than [`MAX_DEPTH`]; it allocates nothing.

use crate::error::{FormatError, Result};

/// Deepest nesting of structs / containers accepted.
pub const MAX_DEPTH: usize = 64;

struct Walker<'a> {
    buf: &'a [u8],
    pos: usize,
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

    fn value(&mut self, ty: u8, depth: usize) -> Result<()> {
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
                for _ in 0..self.plausible(count, 1)? {
                    self.element(elem, depth + 1)?;
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
                    self.element(kinds >> 4, depth + 1)?;
                    self.element(kinds & 0x0f, depth + 1)?;
                }
                Ok(())
            }
            12 => self.structure(depth + 1),
            13 => self.skip(16),
            _ => Err(bad("unknown thrift type")),
        }
    }

    /// A container element: booleans take one byte here.
    fn element(&mut self, ty: u8, depth: usize) -> Result<()> {
        if ty == 1 || ty == 2 {
            return self.skip(1);
        }
        self.value(ty, depth)
    }

    fn structure(&mut self, depth: usize) -> Result<()> {
        loop {
            let header = self.byte()?;
            let ty = header & 0x0f;
            if ty == 0 {
                return Ok(());
            }
            if header >> 4 == 0 {
                self.varint()?; // explicit field id
            }
            self.value(ty, depth)?;
        }
    }
}

/// Checks that `bytes` is one plausible Thrift compact struct (declared sizes fit the bytes).
pub fn check_footer(bytes: &[u8]) -> Result<()> {
    Walker { buf: bytes, pos: 0 }.structure(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_claiming_more_elements_than_bytes_is_refused() {
        // field 1 (delta 1), type list; header 0xF5 = varint size, i32 elements; size 2^31.
        let bomb = [0x19, 0xf5, 0x80, 0x80, 0x80, 0x80, 0x08, 0x00];
        assert!(check_footer(&bomb).is_err());
        // field 1: list of 2 i32 (zigzag 1, 2), then STOP.
        assert!(check_footer(&[0x19, 0x25, 0x02, 0x04, 0x00]).is_ok());
    }
}
