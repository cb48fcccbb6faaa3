//! NumPy `.npy` arrays (format versions 1–3): little-endian `f2`/`f4`/`f8` read as `f32`,
//! `i4`/`i8` read as `i64`, C order, one or two dimensions. What numpy users hand us as
//! vectors, and the format of the in-repo sample (`data/sample`, float16 vectors).

use std::io::{Error, ErrorKind, Result};
use std::path::Path;

use crate::texmex::Matrix;

const MAGIC: &[u8] = b"\x93NUMPY";

/// The element type of an array, from its `descr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dtype {
    F16,
    F32,
    F64,
    I32,
    I64,
}

impl Dtype {
    fn parse(descr: &str) -> Option<Self> {
        Some(match descr {
            "<f2" => Dtype::F16,
            "<f4" => Dtype::F32,
            "<f8" => Dtype::F64,
            "<i4" => Dtype::I32,
            "<i8" => Dtype::I64,
            _ => return None,
        })
    }

    fn size(self) -> usize {
        match self {
            Dtype::F16 => 2,
            Dtype::F32 | Dtype::I32 => 4,
            Dtype::F64 | Dtype::I64 => 8,
        }
    }

    fn is_float(self) -> bool {
        matches!(self, Dtype::F16 | Dtype::F32 | Dtype::F64)
    }
}

fn invalid(msg: String) -> Error {
    Error::new(ErrorKind::InvalidData, msg)
}

/// The value of `'key': value` in the header dict (a quoted string, `True`/`False` or a tuple).
fn header_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let start = header.find(&format!("'{key}'"))? + key.len() + 2;
    let rest = header[start..].trim_start().strip_prefix(':')?.trim_start();
    let end = match rest.chars().next()? {
        '(' => rest.find(')')? + 1,
        '\'' => rest[1..].find('\'')? + 2,
        _ => rest.find([',', '}']).unwrap_or(rest.len()),
    };
    Some(rest[..end].trim())
}

/// Parses the header; returns the dtype, `(rows, dim)` and the data's offset.
fn parse_header(bytes: &[u8]) -> Result<(Dtype, usize, usize, usize)> {
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err(invalid("not a .npy file (no \\x93NUMPY magic)".into()));
    }
    let (len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => {
            (u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize, 12)
        }
        v => return Err(invalid(format!(".npy format version {v} is not supported"))),
    };
    let header = bytes
        .get(start..start + len)
        .and_then(|h| std::str::from_utf8(h).ok())
        .ok_or_else(|| invalid(".npy header is truncated or not text".into()))?;
    let descr =
        header_value(header, "descr").ok_or_else(|| invalid("no 'descr' in the .npy header".into()))?;
    let dtype = Dtype::parse(descr.trim_matches('\'')).ok_or_else(|| {
        invalid(format!(".npy dtype {descr} is not supported (little-endian f2/f4/f8/i4/i8 are)"))
    })?;
    if header_value(header, "fortran_order") != Some("False") {
        return Err(invalid(".npy array in Fortran order is not supported".into()));
    }
    let shape =
        header_value(header, "shape").ok_or_else(|| invalid("no 'shape' in the .npy header".into()))?;
    let dims: Vec<usize> = shape
        .trim_matches(['(', ')'])
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(|_| invalid(format!(".npy shape {shape} is not a tuple of integers"))))
        .collect::<Result<_>>()?;
    let (rows, dim) = match dims[..] {
        [n] => (n, 1),
        [n, d] => (n, d),
        _ => return Err(invalid(format!(".npy shape {shape}: one or two dimensions expected"))),
    };
    let data = start + len;
    let want = rows.checked_mul(dim).and_then(|n| n.checked_mul(dtype.size()));
    if want != Some(bytes.len() - data.min(bytes.len())) {
        return Err(invalid(format!(
            ".npy data is {} bytes, shape {shape} of {descr} needs {want:?}",
            bytes.len().saturating_sub(data)
        )));
    }
    Ok((dtype, rows, dim, data))
}

/// A float array (any of `f2`/`f4`/`f8`) as `f32`.
pub fn parse_f32(bytes: &[u8]) -> Result<Matrix<f32>> {
    let (dtype, _rows, dim, at) = parse_header(bytes)?;
    if !dtype.is_float() {
        return Err(invalid(format!("expected a float .npy array, found {dtype:?}")));
    }
    let body = &bytes[at..];
    let data = match dtype {
        Dtype::F16 => body.chunks_exact(2).map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32()).collect(),
        Dtype::F32 => body.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect(),
        _ => {
            body.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")) as f32).collect()
        }
    };
    Ok(Matrix { dim, data })
}

/// An integer array (`i4`/`i8`) as `i64`.
pub fn parse_i64(bytes: &[u8]) -> Result<Matrix<i64>> {
    let (dtype, _rows, dim, at) = parse_header(bytes)?;
    let body = &bytes[at..];
    let data = match dtype {
        Dtype::I32 => {
            body.chunks_exact(4).map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as i64).collect()
        }
        Dtype::I64 => {
            body.chunks_exact(8).map(|c| i64::from_le_bytes(c.try_into().expect("8 bytes"))).collect()
        }
        other => return Err(invalid(format!("expected an integer .npy array, found {other:?}"))),
    };
    Ok(Matrix { dim, data })
}

/// Reads a float `.npy` file as `f32`.
pub fn read_f32(path: impl AsRef<Path>) -> Result<Matrix<f32>> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    parse_f32(&bytes).map_err(|e| Error::new(e.kind(), format!("{}: {e}", path.display())))
}

fn encode(descr: &str, rows: usize, dim: usize, body: Vec<u8>) -> Vec<u8> {
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': ({rows}, {dim}), }}");
    // Magic (6) + version (2) + length (2) + header + '\n' is a multiple of 64.
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + body.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend(body);
    out
}

/// Encodes `m` as a float16 (`<f2`) array: half the bytes of f32, ~3 significant digits.
pub fn encode_f16(m: &Matrix<f32>) -> Vec<u8> {
    let body = m.data.iter().flat_map(|&v| half::f16::from_f32(v).to_le_bytes()).collect();
    encode("<f2", m.rows(), m.dim, body)
}

/// Encodes `m` as a float32 (`<f4`) array.
pub fn encode_f32(m: &Matrix<f32>) -> Vec<u8> {
    encode("<f4", m.rows(), m.dim, m.data.iter().flat_map(|v| v.to_le_bytes()).collect())
}

/// Encodes `m` as an int32 (`<i4`) array.
pub fn encode_i32(m: &Matrix<i32>) -> Vec<u8> {
    encode("<i4", m.rows(), m.dim, m.data.iter().flat_map(|v| v.to_le_bytes()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `bytes` with the first `from` replaced by `to` (same length, so the header stays valid).
    fn patch(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
        assert_eq!(from.len(), to.len());
        let at = bytes.windows(from.len()).position(|w| w == from.as_bytes()).expect("present");
        let mut out = bytes.to_vec();
        out[at..at + to.len()].copy_from_slice(to.as_bytes());
        out
    }

    #[test]
    fn round_trips_and_rejects_malformed_arrays() {
        let m = Matrix { dim: 3, data: vec![1.0, -2.5, 3.0, 0.5, 1e-3, 65504.0] };
        assert_eq!(parse_f32(&encode_f32(&m)).unwrap(), m);
        let h = parse_f32(&encode_f16(&m)).unwrap();
        assert_eq!(h.dim, 3);
        for (a, b) in h.data.iter().zip(&m.data) {
            assert!((a - b).abs() <= b.abs() * 1e-3, "{a} vs {b}");
        }
        let ids = Matrix { dim: 2, data: vec![7, -8, 9, 10] };
        assert_eq!(parse_i64(&encode_i32(&ids)).unwrap().data, vec![7, -8, 9, 10]);
        assert!(parse_i64(&encode_f32(&m)).is_err(), "floats are not ids");
        assert!(parse_f32(&encode_i32(&ids)).is_err(), "ids are not vectors");

        let good = encode_f32(&m);
        assert!(parse_f32(&good[..good.len() - 1]).is_err(), "truncated data");
        assert!(parse_f32(&good[..20]).is_err(), "truncated header");
        assert!(parse_f32(b"PK\x03\x04 not npy").is_err());
        assert!(parse_f32(&patch(&good, "<f4", ">f4")).is_err(), "big-endian");
        assert!(parse_f32(&patch(&good, "'fortran_order': False", "'fortran_order': True ")).is_err());
        assert!(parse_f32(&patch(&good, "(2, 3)", "(2, 4)")).is_err(), "shape larger than the data");
        // A 1-D array is one column.
        let one = encode("<f4", 2, 1, [1f32, 2.0].iter().flat_map(|v| v.to_le_bytes()).collect());
        let one = patch(&one, "(2, 1)", "(2,)  ");
        assert_eq!(parse_f32(&one).unwrap(), Matrix { dim: 1, data: vec![1.0, 2.0] });
    }
}
