//! Shared data generators for the criterion benchmarks, and the peak-memory probe of
//! `peer_bench`.

pub mod memory;

use std::sync::Arc;

use ailk_format::vector_column::{vector_field, vectors_to_array, with_field_id};
use arrow_array::{ArrayRef, Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// `rows × dim` uniform values in [-1, 1), from a fixed seed.
pub fn random_vectors(rows: usize, dim: usize, seed: u64) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..rows * dim).map(|_| rng.random_range(-1.0f32..1.0)).collect()
}

/// Schema `id: int64, embedding: FixedSizeList<Float32, dim>`.
pub fn schema(dim: u32) -> SchemaRef {
    Arc::new(Schema::new(vec![
        with_field_id(Field::new("id", DataType::Int64, false), 1),
        vector_field("embedding", dim, 2, 3, false),
    ]))
}

/// One batch holding `vectors`.
pub fn batch(schema: &SchemaRef, dim: u32, vectors: &[f32]) -> RecordBatch {
    let rows = vectors.len() / dim as usize;
    let DataType::FixedSizeList(element, _) = schema.field(1).data_type().clone() else {
        panic!("vector column expected")
    };
    let cols: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from_iter_values(0..rows as i64)),
        Arc::new(vectors_to_array(element, dim, vectors).expect("vectors")),
    ];
    RecordBatch::try_new(schema.clone(), cols).expect("batch")
}
