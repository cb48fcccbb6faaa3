//! Small enums shared by the whole stack: metric, element type, sub-section kind.

use crate::error::{FormatError, Result};

/// The distance a vector column is searched by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Metric {
    /// Squared Euclidean distance; smaller is nearer.
    #[default]
    L2,
    /// Inner product; larger is nearer (searched as `-q·x`).
    InnerProduct,
    /// Cosine similarity; vectors are normalized at write time, then searched as inner product.
    Cosine,
}

impl Metric {
    /// The one-byte code stored in the section.
    pub fn code(self) -> u8 {
        match self {
            Metric::L2 => 0,
            Metric::InnerProduct => 1,
            Metric::Cosine => 2,
        }
    }

    /// Decodes a stored code.
    pub fn from_code(code: u8) -> Result<Self> {
        match code {
            0 => Ok(Metric::L2),
            1 => Ok(Metric::InnerProduct),
            2 => Ok(Metric::Cosine),
            other => Err(FormatError::layout(format!("unknown metric code {other}"))),
        }
    }
}

/// How vector elements are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ElementType {
    /// IEEE-754 binary32.
    #[default]
    F32,
    /// IEEE-754 binary16, stored as its raw `u16` bits.
    F16,
}

impl ElementType {
    /// The one-byte code stored in the section.
    pub fn code(self) -> u8 {
        match self {
            ElementType::F32 => 0,
            ElementType::F16 => 1,
        }
    }

    /// Decodes a stored code.
    pub fn from_code(code: u8) -> Result<Self> {
        match code {
            0 => Ok(ElementType::F32),
            1 => Ok(ElementType::F16),
            other => Err(FormatError::layout(format!("unknown element type code {other}"))),
        }
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            ElementType::F32 => 4,
            ElementType::F16 => 2,
        }
    }
}

/// What a sub-section holds. Codes are stable; readers skip codes they do not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SubsectionKind {
    /// The column's vectors, row-major, in file row order.
    RawVectors,
    /// An HNSW graph over the column's rows.
    HnswGraph,
    /// IVF coarse centroids.
    IvfCentroids,
    /// Product-quantization codebooks.
    PqCodebook,
    /// IVF inverted lists: PQ codes and row ids per list.
    IvfLists,
    /// A kind this reader does not know (kept so the directory still lists it).
    Unknown(u16),
}

impl SubsectionKind {
    /// Every kind this version of the format defines.
    pub const KNOWN: [SubsectionKind; 5] = [
        SubsectionKind::RawVectors,
        SubsectionKind::HnswGraph,
        SubsectionKind::IvfCentroids,
        SubsectionKind::PqCodebook,
        SubsectionKind::IvfLists,
    ];

    /// The two-byte code stored in the directory.
    pub fn code(self) -> u16 {
        match self {
            SubsectionKind::RawVectors => 1,
            SubsectionKind::HnswGraph => 2,
            SubsectionKind::IvfCentroids => 3,
            SubsectionKind::PqCodebook => 4,
            SubsectionKind::IvfLists => 5,
            SubsectionKind::Unknown(code) => code,
        }
    }

    /// Decodes a stored code; unknown codes are kept as [`SubsectionKind::Unknown`].
    pub fn from_code(code: u16) -> Self {
        match code {
            1 => SubsectionKind::RawVectors,
            2 => SubsectionKind::HnswGraph,
            3 => SubsectionKind::IvfCentroids,
            4 => SubsectionKind::PqCodebook,
            5 => SubsectionKind::IvfLists,
            other => SubsectionKind::Unknown(other),
        }
    }
}
