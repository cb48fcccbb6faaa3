//! Shared builders for the ailk-format integration tests.
#![allow(dead_code)]

pub mod golden_files;

use std::sync::Arc;

use ailk_format::vector_column::{vector_field, vectors_to_array, with_field_id};
use ailk_format::{
    HnswGraphRef, HnswMeta, IvfCentroids, IvfLists, Metric, PqCodebook, RawVectors, SectionBuilder,
    SubsectionKind, VectorColumn,
};
use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Deterministic pseudo-random vectors.
pub fn random_vectors(rows: usize, dim: usize, seed: u64) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..rows * dim).map(|_| rng.random_range(-1.0f32..1.0)).collect()
}

/// Schema `id: int64, text: utf8, embedding: FixedSizeList<Float32, dim>` with Iceberg field ids.
pub fn shard_schema(dim: u32) -> SchemaRef {
    Arc::new(Schema::new(vec![
        with_field_id(Field::new("id", DataType::Int64, false), 1),
        with_field_id(Field::new("text", DataType::Utf8, true), 2),
        vector_field("embedding", dim, 3, 4, false),
    ]))
}

/// A batch of `rows` rows with ids starting at `first_id`.
pub fn shard_batch(schema: &SchemaRef, dim: u32, first_id: i64, vectors: &[f32]) -> RecordBatch {
    let rows = vectors.len() / dim as usize;
    let ids = Int64Array::from_iter_values(first_id..first_id + rows as i64);
    let texts = StringArray::from_iter((0..rows).map(|i| {
        if i % 7 == 3 {
            None
        } else {
            Some(format!("row {}", first_id + i as i64))
        }
    }));
    let element = match schema.field(2).data_type() {
        DataType::FixedSizeList(child, _) => child.clone(),
        _ => unreachable!(),
    };
    let emb = vectors_to_array(element, dim, vectors).expect("vectors");
    let cols: Vec<ArrayRef> = vec![Arc::new(ids), Arc::new(texts), Arc::new(emb)];
    RecordBatch::try_new(schema.clone(), cols).expect("batch")
}

/// A small but structurally complete HNSW graph over `n` nodes (ring neighbours).
pub struct OwnedGraph {
    pub meta: HnswMeta,
    pub levels: Vec<u8>,
    pub level0: Vec<u32>,
    pub upper_offsets: Vec<u32>,
    pub upper: Vec<u32>,
}

impl OwnedGraph {
    pub fn ring(n: u32, m: u32, seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let m0 = 2 * m;
        let levels: Vec<u8> =
            (0..n).map(|_| if rng.random_bool(0.2) { rng.random_range(1..4) } else { 0 }).collect();
        let max_level = levels.iter().copied().max().unwrap_or(0);
        let entry_point = levels.iter().position(|&l| l == max_level).unwrap_or(0) as u32;
        let mut level0 = Vec::new();
        for i in 0..n {
            let count = rng.random_range(0..=m0.min(n.saturating_sub(1)));
            level0.push(count);
            for j in 0..m0 {
                level0.push(if j < count { (i + 1 + j) % n } else { 0 });
            }
        }
        let mut upper_offsets = vec![0u32];
        let mut upper = Vec::new();
        for i in 0..n {
            for level in 1..=levels[i as usize] {
                // Level-l neighbours are nodes that reach level l (the decoder checks it).
                let peers: Vec<u32> = (0..n).filter(|&p| p != i && levels[p as usize] >= level).collect();
                let count = rng.random_range(0..=m.min(peers.len() as u32));
                upper.push(count);
                for j in 0..m {
                    upper.push(if j < count { peers[rng.random_range(0..peers.len())] } else { 0 });
                }
            }
            upper_offsets.push(upper.len() as u32);
        }
        let meta = HnswMeta {
            node_count: n,
            m,
            m0,
            ef_construction: 100,
            entry_point,
            max_level: u32::from(max_level),
            metric: Metric::L2,
            seed,
        };
        OwnedGraph { meta, levels, level0, upper_offsets, upper }
    }

    pub fn as_ref(&self) -> HnswGraphRef<'_> {
        HnswGraphRef {
            meta: self.meta,
            levels: &self.levels,
            level0: &self.level0,
            upper_offsets: &self.upper_offsets,
            upper: &self.upper,
        }
    }
}

/// IVF-PQ parts: centroids, codebooks, lists.
pub struct OwnedIvfPq {
    pub dim: u32,
    pub m: u32,
    pub centroids: Vec<f32>,
    pub codebooks: Vec<f32>,
    pub offsets: Vec<u64>,
    pub codes: Vec<u8>,
    pub row_ids: Vec<u32>,
}

impl OwnedIvfPq {
    pub fn random(rows: u32, dim: u32, nlist: u32, m: u32, seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let centroids = random_vectors(nlist as usize, dim as usize, seed ^ 1);
        let codebooks = random_vectors(256, dim as usize, seed ^ 2);
        let mut lists: Vec<Vec<u32>> = vec![Vec::new(); nlist as usize];
        for r in 0..rows {
            lists[rng.random_range(0..nlist) as usize].push(r);
        }
        let mut offsets = vec![0u64];
        let mut row_ids = Vec::new();
        for l in &lists {
            row_ids.extend_from_slice(l);
            offsets.push(row_ids.len() as u64);
        }
        let codes = (0..rows as usize * m as usize).map(|_| rng.random()).collect();
        OwnedIvfPq { dim, m, centroids, codebooks, offsets, codes, row_ids }
    }
}

/// A section with every known kind for one column of `vectors`.
pub fn full_section(dim: u32, vectors: &[f32], graph: &OwnedGraph, ivf: &OwnedIvfPq) -> Vec<u8> {
    let rows = vectors.len() as u64 / u64::from(dim);
    let mut b = SectionBuilder::new(rows);
    let col = b.column(VectorColumn::summarize(3, "embedding", Metric::L2, dim, vectors).expect("summary"));
    b.add(SubsectionKind::RawVectors, col, RawVectors::encode_f32(dim, vectors).expect("raw"));
    b.add(SubsectionKind::HnswGraph, col, graph.as_ref().encode().expect("graph"));
    b.add(SubsectionKind::IvfCentroids, col, IvfCentroids::encode(dim, &ivf.centroids).expect("centroids"));
    b.add(
        SubsectionKind::PqCodebook,
        col,
        PqCodebook::encode(dim, ivf.m, 8, true, &ivf.codebooks).expect("pq"),
    );
    b.add(
        SubsectionKind::IvfLists,
        col,
        IvfLists::encode(ivf.m, &ivf.offsets, &ivf.codes, &ivf.row_ids).expect("lists"),
    );
    b.encode().expect("encode")
}
