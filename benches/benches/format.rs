//! ailk-format: encode/decode throughput of a 100k×384 raw-vector sub-section, and the time
//! to open a shard's section from a local file versus reading the whole file.

use std::sync::Arc;

use ailake_benches::{batch, random_vectors, schema};
use ailk_format::object_store::path::Path;
use ailk_format::object_store::ObjectStoreExt;
use ailk_format::{
    local_store, write_shard_bytes, AlignedBytes, Metric, RawVectors, ReadOptions, Section, SectionBuilder,
    ShardReader, SubsectionKind, VectorColumn,
};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const ROWS: usize = 100_000;
const DIM: u32 = 384;

fn encode(vectors: &[f32], column: &VectorColumn) -> Vec<u8> {
    let mut b = SectionBuilder::new(ROWS as u64);
    b.column(column.clone());
    b.add(SubsectionKind::RawVectors, 0, RawVectors::encode_f32(DIM, vectors).expect("encode"));
    b.encode().expect("section")
}

fn codec(c: &mut Criterion) {
    let vectors = random_vectors(ROWS, DIM as usize, 1);
    let column = VectorColumn::summarize(2, "embedding", Metric::L2, DIM, &vectors).expect("summary");
    let encoded = encode(&vectors, &column);
    let aligned = AlignedBytes::copy_from(&encoded);
    let mut g = c.benchmark_group("section_100k_x_384");
    g.throughput(Throughput::Bytes(encoded.len() as u64));
    g.sample_size(20);
    g.bench_function("encode", |b| b.iter(|| encode(&vectors, &column)));
    g.bench_function("decode_verify_crc", |b| {
        b.iter(|| {
            let s = Section::decode(aligned.clone()).expect("decode");
            RawVectors::decode(&s.payload(SubsectionKind::RawVectors, 0).expect("payload")).expect("raw").rows
        })
    });
    g.finish();
}

fn open_vs_whole_file(c: &mut Criterion) {
    let vectors = random_vectors(ROWS, DIM as usize, 2);
    let column = VectorColumn::summarize(2, "embedding", Metric::L2, DIM, &vectors).expect("summary");
    // The section holds only a small sub-section here (centroids), as an index would be next
    // to large row groups; opening should cost the footer and the section, not the rows.
    let centroids = &vectors[..256 * DIM as usize];
    let mut sb = SectionBuilder::new(ROWS as u64);
    sb.column(column);
    sb.add(SubsectionKind::IvfCentroids, 0, ailk_format::IvfCentroids::encode(DIM, centroids).expect("c"));
    let section = sb.encode().expect("section");
    let s = schema(DIM);
    let (file, _) =
        write_shard_bytes(s.clone(), &[batch(&s, DIM, &vectors)], Some(&section), None).expect("file");
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(dir.path().join("shard.parquet"), &file).expect("write");
    let store = local_store(dir.path()).expect("store");
    let path = Path::from("shard.parquet");
    let rt = tokio::runtime::Builder::new_current_thread().build().expect("rt");
    let size = Some(file.len() as u64);

    let mut g = c.benchmark_group("open_local_shard_100k_x_384");
    g.sample_size(20);
    g.bench_function("open_footer_and_section", |b| {
        b.iter(|| {
            rt.block_on(async {
                let r = ShardReader::open(
                    Arc::clone(&store),
                    path.clone(),
                    ReadOptions { file_size: size, ..Default::default() },
                )
                .await
                .expect("open");
                r.load_section().await.expect("section").directory().row_count
            })
        })
    });
    g.bench_function("read_whole_file", |b| {
        b.iter(|| {
            rt.block_on(async { store.get(&path).await.expect("get").bytes().await.expect("bytes").len() })
        })
    });
    g.finish();
}

criterion_group!(benches, codec, open_vs_whole_file);
criterion_main!(benches);
