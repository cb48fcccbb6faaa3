//! `cargo xtask fuzz-seeds [DIR]` runs this: writes valid AILK sections and shard files as a
//! seed corpus for the `section_decode` and `shard_open` fuzz targets, and shard-summary
//! blobs for `summaries_decode`.

use std::path::PathBuf;

use ailake_benches::{batch, random_vectors, schema};
use ailk_catalog::{encode_summaries, IndexKind, IndexStatus, ShardSummary};
use ailk_format::{
    write_shard_bytes, IvfCentroids, Metric, RawVectors, SectionBuilder, SubsectionKind, VectorColumn,
};

fn main() -> anyhow::Result<()> {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "fuzz/corpus".into()));
    for target in ["section_decode", "shard_open", "summaries_decode", "text_index_decode"] {
        std::fs::create_dir_all(dir.join(target))?;
    }
    for (i, (rows, dim)) in [(1usize, 1u32), (5, 3), (40, 8)].into_iter().enumerate() {
        let v = random_vectors(rows, dim as usize, i as u64);
        let mut b = SectionBuilder::new(rows as u64);
        b.column(VectorColumn::summarize(2, "embedding", Metric::L2, dim, &v)?);
        b.add(SubsectionKind::RawVectors, 0, RawVectors::encode_f32(dim, &v)?);
        b.add(SubsectionKind::IvfCentroids, 0, IvfCentroids::encode(dim, &v[..dim as usize])?);
        // Partition blocks (format 1.1 codes for seed 1, 1.3 for the others): rows in runs of
        // 10 of one partition each.
        let runs: Vec<u32> = (0..rows as u32).map(|r| r / 10).collect();
        let code = if i == 1 { ailk_index::BlockCode::OneBit } else { ailk_index::BlockCode::Ex4 };
        let blocks = ailk_index::BuiltBlocks::build(&v, dim as usize, Metric::L2, &runs, 1, code)?;
        if let Some(blocks) = &blocks {
            blocks.add_to_section(&mut b, 0)?;
        }
        // Text indexes (format 1.2) of a text column of the same rows.
        let texts: Vec<Option<String>> = (0..rows)
            .map(|r| (r % 4 != 3).then(|| format!("row {r} of the seed {i}, row {}", r % 3)))
            .collect();
        let index = ailk_index::text::index_texts(texts.iter().map(|t| t.as_deref()), &Default::default());
        let text = index.encode();
        // The version 1 blob too (still read).
        std::fs::write(dir.join("text_index_decode").join(format!("seed-v1-{i}")), index.encode_v1())?;
        b.add(
            SubsectionKind::TextIndexes,
            0,
            ailk_format::TextIndexes::encode(&[(1, "text", "simple", &text)])?,
        );
        std::fs::write(dir.join("text_index_decode").join(format!("seed-{i}")), &text)?;
        let section = b.encode()?;
        std::fs::write(dir.join("section_decode").join(format!("seed-{i}")), &section)?;
        let s = schema(dim);
        let (file, _) = write_shard_bytes(s.clone(), &[batch(&s, dim, &v)], Some(&section), None)?;
        std::fs::write(dir.join("shard_open").join(format!("seed-{i}")), &file)?;
    }
    for (i, count) in [0usize, 1, 3].into_iter().enumerate() {
        let summaries: Vec<ShardSummary> = (0..count)
            .map(|s| ShardSummary {
                file_path: format!("s3://bucket/t/data/{s}.parquet"),
                rows: 100 * s as u64,
                column: "embedding".into(),
                centroid: random_vectors(1, 4, s as u64),
                radius: 0.5,
                index: [IndexKind::Flat, IndexKind::Hnsw, IndexKind::IvfPq][s % 3],
                status: if s % 2 == 0 { IndexStatus::Ready } else { IndexStatus::Pending },
                section: (s % 2 == 0).then_some((4096, 1024)),
                occupancy: (s % 3 == 0)
                    .then(|| ailk_catalog::Occupancy { version: 1, counts: vec![(0, 5), (7, 2)] }),
                blocks: (s == 1).then(|| ailk_catalog::BlockLayout {
                    version: 1,
                    seed: 7,
                    dim: 4,
                    padded: 64,
                    vectors_offset: 4096,
                    blocks: vec![ailk_catalog::BlockEntry {
                        partition: 3,
                        row_start: 0,
                        rows: 100,
                        offset: 8192,
                        length: 1024,
                    }],
                }),
            })
            .collect();
        std::fs::write(dir.join("summaries_decode").join(format!("seed-{i}")), encode_summaries(&summaries))?;
    }
    eprintln!("seeds written under {}", dir.display());
    Ok(())
}
