//! Writing the big table: a streamed Gaussian mixture as unindexed files, its exact top-10
//! merged in as each file's rows go by (never all rows in memory), and the same rows appended
//! to a TEXMEX directory for the peers when asked.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use ailake::prelude::*;
use ailk_testkit::synthetic::StreamedMixture;
use ailk_testkit::texmex::{write_fvecs, write_ivecs, Matrix};
use anyhow::Result;
use arrow_array::{ArrayRef, Int64Array, RecordBatch};

use super::{catalog, table_ident, CLUSTERS, SEED, SPREAD};
use crate::scale::attributes;

/// Top-10 (distance, id) of each query, kept sorted.
fn merge_truth(truth: &mut [Vec<(f32, u32)>], queries: &[f32], rows: &[f32], first: usize, dim: usize) {
    use rayon::prelude::*;
    truth.par_iter_mut().enumerate().for_each(|(qi, best)| {
        let q = &queries[qi * dim..(qi + 1) * dim];
        for (r, v) in rows.chunks_exact(dim).enumerate() {
            let d = ailk_index::kernels::l2_sq(q, v);
            if best.len() < 10 || d < best[best.len() - 1].0 {
                let at = best.partition_point(|&(x, _)| x <= d);
                best.insert(at, (d, (first + r) as u32));
                best.truncate(10);
            }
        }
    });
}

/// Appends rows to an `.fvecs` file (each row: its dimension as an `i32`, then its values).
fn append_fvecs(out: &mut impl Write, values: &[f32], dim: usize) -> std::io::Result<()> {
    let mut bytes = Vec::with_capacity(values.len() / dim.max(1) * (dim + 1) * 4);
    for row in values.chunks_exact(dim) {
        bytes.extend_from_slice(&(dim as i32).to_le_bytes());
        for v in row {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
    }
    out.write_all(&bytes)
}

/// Writes `query.fvecs` and `gt.ivecs` (top 10) into `dir`.
pub(super) fn write_queries(dir: &Path, queries: &Matrix<f32>, truth: &[Vec<u32>]) -> Result<()> {
    write_fvecs(dir.join("query.fvecs"), queries)?;
    let gt: Vec<i32> = truth.iter().flat_map(|t| t.iter().map(|&id| id as i32)).collect();
    write_ivecs(dir.join("gt.ivecs"), &Matrix { dim: 10, data: gt })?;
    Ok(())
}

/// What [`build`] made.
pub(super) struct Built {
    pub queries: Matrix<f32>,
    pub truth: Vec<Vec<u32>>,
    pub seconds: f64,
}

/// Writes the table (unindexed files, one commit); with `peer_data`, the same rows, queries
/// and truth as a TEXMEX directory there (`base.fvecs`, `query.fvecs`, `gt.ivecs`).
pub(super) fn build(
    rt: &tokio::runtime::Runtime,
    dir: &Path,
    shape: (usize, usize, usize),
    nq: usize,
    peer_data: Option<&Path>,
) -> Result<Built> {
    let (rows, dim, files) = shape;
    let mix = StreamedMixture::new(dim, CLUSTERS, SPREAD, SEED);
    let queries = mix.queries(nq, SEED + 1);
    let mut truth = vec![Vec::new(); nq];
    let catalog = rt.block_on(catalog(dir))?;
    let spec = VectorSpec::new("embedding", dim as u32, Metric::L2);
    let table = rt.block_on(catalog.create_table(&table_ident()?, &attributes(), &[spec]))?;
    let writer = table.writer(WritePolicy::default())?;
    let mut base = match peer_data {
        Some(p) => {
            std::fs::create_dir_all(p)?;
            Some(std::io::BufWriter::new(std::fs::File::create(p.join("base.fvecs"))?))
        }
        None => None,
    };
    let per = rows.div_ceil(files);
    let clock = Instant::now();
    for start in (0..rows).step_by(per) {
        let end = (start + per).min(rows);
        let values = mix.rows(start..end);
        merge_truth(&mut truth, &queries, &values, start, dim);
        if let Some(out) = base.as_mut() {
            append_fvecs(out, &values, dim)?;
        }
        let id: ArrayRef = Arc::new(Int64Array::from_iter_values((start..end).map(|i| i as i64)));
        let batch = RecordBatch::try_new(Arc::new(attributes()), vec![id])?;
        let opts = WriteOptions::default().index(IndexChoice::Flat);
        rt.block_on(writer.write_flat(&batch, &[("embedding", &values)], &opts))?;
        eprintln!("  wrote rows {start}..{end} ({:.0} s)", clock.elapsed().as_secs_f64());
    }
    rt.block_on(writer.commit())?;
    if let Some(mut out) = base {
        out.flush()?;
    }
    let truth: Vec<Vec<u32>> = truth.into_iter().map(|t| t.into_iter().map(|(_, id)| id).collect()).collect();
    let queries = Matrix { dim, data: queries };
    write_queries(dir, &queries, &truth)?;
    if let Some(p) = peer_data {
        write_queries(p, &queries, &truth)?;
    }
    Ok(Built { queries, truth, seconds: clock.elapsed().as_secs_f64() })
}
