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
    /// The metric's one name everywhere (table properties, the CLI, Python, SQL): `l2`, `ip`
    /// or `cosine`.
    pub fn name(self) -> &'static str {
        match self {
            Metric::L2 => "l2",
            Metric::InnerProduct => "ip",
            Metric::Cosine => "cosine",
        }
    }

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
    /// Per-partition blocks of compressed codes (format 1.1), each read on its own.
    PartitionBlocks,
    /// Full-text indexes of the file's text columns (format 1.2; listed under column 0).
    TextIndexes,
    /// A kind this reader does not know (kept so the directory still lists it).
    Unknown(u16),
}

impl SubsectionKind {
    /// Every kind this version of the format defines.
    pub const KNOWN: [SubsectionKind; 7] = [
        SubsectionKind::RawVectors,
        SubsectionKind::HnswGraph,
        SubsectionKind::IvfCentroids,
        SubsectionKind::PqCodebook,
        SubsectionKind::IvfLists,
        SubsectionKind::PartitionBlocks,
        SubsectionKind::TextIndexes,
    ];

    /// The two-byte code stored in the directory.
    pub fn code(self) -> u16 {
        match self {
            SubsectionKind::RawVectors => 1,
            SubsectionKind::HnswGraph => 2,
            SubsectionKind::IvfCentroids => 3,
            SubsectionKind::PqCodebook => 4,
            SubsectionKind::IvfLists => 5,
            SubsectionKind::PartitionBlocks => 6,
            SubsectionKind::TextIndexes => 7,
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
            6 => SubsectionKind::PartitionBlocks,
            7 => SubsectionKind::TextIndexes,
            other => SubsectionKind::Unknown(other),
        }
    }
}

/// A column type's one name in messages and listings, the words `ailake create --column`
/// takes: `int32`, `int64`, `float32`, `float64`, `string`, `bool`, `date`, `timestamp`,
/// `binary`, `vector<float32, 384>`, `list<…>`; Arrow's own name for anything else. Field
/// names and metadata of nested types are left out.
pub fn column_type_name(data_type: &arrow_schema::DataType) -> String {
    use arrow_schema::DataType as T;
    match data_type {
        T::Int8 => "int8".into(),
        T::Int16 => "int16".into(),
        T::Int32 => "int32".into(),
        T::Int64 => "int64".into(),
        T::UInt8 => "uint8".into(),
        T::UInt16 => "uint16".into(),
        T::UInt32 => "uint32".into(),
        T::UInt64 => "uint64".into(),
        T::Float16 => "float16".into(),
        T::Float32 => "float32".into(),
        T::Float64 => "float64".into(),
        T::Utf8 | T::LargeUtf8 | T::Utf8View => "string".into(),
        T::Boolean => "bool".into(),
        T::Date32 | T::Date64 => "date".into(),
        T::Timestamp(..) => "timestamp".into(),
        T::Binary | T::LargeBinary | T::BinaryView | T::FixedSizeBinary(_) => "binary".into(),
        T::FixedSizeList(item, n) => format!("vector<{}, {n}>", column_type_name(item.data_type())),
        T::List(item) | T::LargeList(item) | T::ListView(item) | T::LargeListView(item) => {
            format!("list<{}>", column_type_name(item.data_type()))
        }
        T::Decimal128(p, s) | T::Decimal256(p, s) => format!("decimal({p}, {s})"),
        other => other.to_string(),
    }
}
