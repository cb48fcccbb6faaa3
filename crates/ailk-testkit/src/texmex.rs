//! TEXMEX vector files (`.fvecs`, `.ivecs`): each vector is a little-endian `i32` dimension
//! followed by that many `f32` / `i32` values. Used for datasets and ground truth.

use std::io::{Error, ErrorKind, Result};
use std::path::Path;

/// A dense row-major matrix read from a TEXMEX file.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix<T> {
    /// Values per row.
    pub dim: usize,
    /// `rows × dim` values.
    pub data: Vec<T>,
}

impl<T> Matrix<T> {
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.data.len().checked_div(self.dim).unwrap_or(0)
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> &[T] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }
}

fn parse<T>(path: &Path, bytes: &[u8], limit: Option<usize>, conv: fn([u8; 4]) -> T) -> Result<Matrix<T>> {
    let bad = |reason: String| Error::new(ErrorKind::InvalidData, format!("{}: {reason}", path.display()));
    if bytes.len() < 4 {
        return Err(bad("shorter than one dimension header".into()));
    }
    let dim = i32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    if dim <= 0 || dim > 1 << 16 {
        return Err(bad(format!("dimension {dim}")));
    }
    let dim = dim as usize;
    let stride = 4 * (dim + 1);
    if !bytes.len().is_multiple_of(stride) {
        return Err(bad(format!("{} bytes is not a whole number of {dim}-dimensional records", bytes.len())));
    }
    let rows = (bytes.len() / stride).min(limit.unwrap_or(usize::MAX));
    let mut data = Vec::with_capacity(rows * dim);
    for (r, rec) in bytes.chunks_exact(stride).take(rows).enumerate() {
        if rec[..4] != bytes[..4] {
            return Err(bad(format!("record {r} has a different dimension")));
        }
        data.extend(rec[4..].chunks_exact(4).map(|c| conv([c[0], c[1], c[2], c[3]])));
    }
    Ok(Matrix { dim, data })
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::new(e.kind(), format!("{}: {e}", path.display())))
}

/// Reads up to `limit` rows (all when `None`) of an `.fvecs` file.
pub fn read_fvecs(path: impl AsRef<Path>, limit: Option<usize>) -> Result<Matrix<f32>> {
    let path = path.as_ref();
    parse(path, &read(path)?, limit, f32::from_le_bytes)
}

/// Reads up to `limit` rows (all when `None`) of an `.ivecs` file.
pub fn read_ivecs(path: impl AsRef<Path>, limit: Option<usize>) -> Result<Matrix<i32>> {
    let path = path.as_ref();
    parse(path, &read(path)?, limit, i32::from_le_bytes)
}

/// Writes an `.fvecs` file.
pub fn write_fvecs(path: impl AsRef<Path>, m: &Matrix<f32>) -> Result<()> {
    write(path.as_ref(), m.dim, m.data.iter().map(|v| v.to_le_bytes()))
}

/// Writes an `.ivecs` file.
pub fn write_ivecs(path: impl AsRef<Path>, m: &Matrix<i32>) -> Result<()> {
    write(path.as_ref(), m.dim, m.data.iter().map(|v| v.to_le_bytes()))
}

fn write(path: &Path, dim: usize, values: impl Iterator<Item = [u8; 4]>) -> Result<()> {
    let mut out = Vec::new();
    for (i, v) in values.enumerate() {
        if i % dim == 0 {
            out.extend_from_slice(&(dim as i32).to_le_bytes());
        }
        out.extend_from_slice(&v);
    }
    std::fs::write(path, out).map_err(|e| Error::new(e.kind(), format!("{}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_malformed_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.fvecs");
        let m = Matrix { dim: 3, data: vec![1.0, 2.0, 3.0, -4.0, 5.5, 6.0] };
        write_fvecs(&p, &m).unwrap();
        assert_eq!(read_fvecs(&p, None).unwrap(), m);
        assert_eq!(read_fvecs(&p, Some(1)).unwrap().rows(), 1);
        let q = dir.path().join("x.ivecs");
        let gt = Matrix { dim: 2, data: vec![7, 8, 9, 10] };
        write_ivecs(&q, &gt).unwrap();
        assert_eq!(read_ivecs(&q, None).unwrap().row(1), &[9, 10]);
        std::fs::write(&p, [3, 0, 0, 0, 1, 2]).unwrap();
        assert_eq!(read_fvecs(&p, None).unwrap_err().kind(), ErrorKind::InvalidData);
        assert_eq!(read_fvecs(dir.path().join("missing"), None).unwrap_err().kind(), ErrorKind::NotFound);
    }
}
