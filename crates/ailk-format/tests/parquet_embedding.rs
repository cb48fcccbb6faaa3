//! Files with a section: readable by the parquet crate row for row, section found through
//! object_store range reads, bytes read bounded, re-sectioning keeps pages untouched.

mod common;

use std::sync::Arc;

use ailk_format::object_store::path::Path;
use ailk_format::object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use ailk_format::{
    local_store, memory_store, resection_bytes, resection_object, write_shard_bytes, CountingStore,
    FormatError, RawVectors, ReadOptions, ShardReader, SubsectionKind, VectorData,
};
use arrow_array::RecordBatch;
use bytes::Bytes;
use common::{full_section, random_vectors, shard_batch, shard_schema, OwnedGraph, OwnedIvfPq};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

const DIM: u32 = 16;

struct Fixture {
    batches: Vec<RecordBatch>,
    vectors: Vec<f32>,
    section: Vec<u8>,
}

fn fixture(rows: u32) -> Fixture {
    let schema = shard_schema(DIM);
    let vectors = random_vectors(rows as usize, DIM as usize, 7);
    let half = (rows / 2 * DIM) as usize;
    let batches = vec![
        shard_batch(&schema, DIM, 0, &vectors[..half]),
        shard_batch(&schema, DIM, i64::from(rows / 2), &vectors[half..]),
    ];
    let graph = OwnedGraph::ring(rows, 8, 1);
    let ivf = OwnedIvfPq::random(rows, DIM, 4, 8, 2);
    let section = full_section(DIM, &vectors, &graph, &ivf);
    Fixture { batches, vectors, section }
}

fn read_all_rows(file: Vec<u8>) -> Vec<RecordBatch> {
    ParquetRecordBatchReaderBuilder::try_new(Bytes::from(file))
        .expect("parquet reader")
        .build()
        .expect("build")
        .collect::<Result<Vec<_>, _>>()
        .expect("read rows")
}

fn concat(batches: &[RecordBatch]) -> RecordBatch {
    arrow_select_concat(batches)
}

fn arrow_select_concat(batches: &[RecordBatch]) -> RecordBatch {
    let schema = batches[0].schema();
    let cols = (0..schema.fields().len())
        .map(|c| {
            let arrays: Vec<&dyn arrow_array::Array> = batches.iter().map(|b| b.column(c).as_ref()).collect();
            parquet_concat(&arrays)
        })
        .collect();
    RecordBatch::try_new(schema, cols).expect("concat")
}

fn parquet_concat(arrays: &[&dyn arrow_array::Array]) -> arrow_array::ArrayRef {
    // Rebuild through MutableArrayData to avoid depending on arrow-select in tests.
    let data: Vec<_> = arrays.iter().map(|a| a.to_data()).collect();
    let refs: Vec<_> = data.iter().collect();
    let total = data.iter().map(|d| d.len()).sum();
    let mut m = arrow_data::transform::MutableArrayData::new(refs, false, total);
    for (i, d) in data.iter().enumerate() {
        m.extend(i, 0, d.len());
    }
    arrow_array::make_array(m.freeze())
}

#[test]
fn parquet_crate_reads_every_row_of_a_sectioned_file() {
    let f = fixture(500);
    let (file, written) = write_shard_bytes(shard_schema(DIM), &f.batches, Some(&f.section), None).unwrap();
    let loc = written.section.expect("section written");
    assert_eq!(loc.offset % 64, 0);
    assert_eq!(&file[loc.offset as usize..loc.offset as usize + 4], b"AILK");
    assert_eq!(&file[loc.offset as usize..(loc.offset + loc.length) as usize], &f.section[..]);
    assert_eq!(written.file_size, file.len() as u64);
    let back = concat(&read_all_rows(file));
    let want = concat(&f.batches);
    assert_eq!(back.num_rows(), 500);
    for c in 0..want.num_columns() {
        assert_eq!(back.column(c).to_data(), want.column(c).to_data(), "column {c}");
    }
}

#[test]
fn field_ids_reach_the_parquet_schema() {
    let f = fixture(10);
    let (_, written) = write_shard_bytes(shard_schema(DIM), &f.batches, Some(&f.section), None).unwrap();
    let schema = written.metadata.file_metadata().schema_descr();
    let ids: Vec<(String, i32)> =
        schema.columns().iter().map(|c| (c.path().string(), c.self_type().get_basic_info().id())).collect();
    assert_eq!(
        ids,
        vec![("id".into(), 1), ("text".into(), 2), ("embedding.list.element".into(), 4)],
        "leaf columns carry their Iceberg field ids"
    );
    let emb = &schema.root_schema().get_fields()[2];
    assert_eq!(emb.get_basic_info().id(), 3);
}

async fn put(store: &Arc<dyn ObjectStore>, path: &str, file: Vec<u8>) -> Path {
    let path = Path::from(path);
    store.put(&path, PutPayload::from(file)).await.unwrap();
    path
}

fn f32_data(raw: &RawVectors) -> &[f32] {
    match &raw.data {
        VectorData::F32(d) => d,
        VectorData::F16(_) => panic!("f32 expected"),
    }
}

#[tokio::test]
async fn section_loads_from_local_and_memory_stores() {
    let f = fixture(300);
    let (file, _) = write_shard_bytes(shard_schema(DIM), &f.batches, Some(&f.section), None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for store in [local_store(dir.path()).unwrap(), memory_store()] {
        let path = put(&store, "data/shard-0.parquet", file.clone()).await;
        let reader = ShardReader::open(store.clone(), path, ReadOptions::default()).await.unwrap();
        let directory = reader.directory().expect("directory");
        assert_eq!(directory.row_count, 300);
        assert_eq!(reader.metadata().file_metadata().num_rows(), 300);
        let loaded = reader.load(&[(SubsectionKind::RawVectors, 0)]).await.unwrap();
        let raw = RawVectors::decode(&loaded[0].1).unwrap();
        assert_eq!(f32_data(&raw), &f.vectors[..]);
        let section = reader.load_section().await.unwrap();
        assert_eq!(section.directory(), directory);
    }
}

#[tokio::test]
async fn loading_reads_no_more_than_footer_and_section_bytes() {
    // 20k rows × 64 dims: the row groups dwarf the footer and the prefetch window.
    let dim = 64;
    let rows = 20_000u32;
    let schema = shard_schema(dim);
    let vectors = random_vectors(rows as usize, dim as usize, 9);
    let batch = shard_batch(&schema, dim, 0, &vectors);
    let graph = OwnedGraph::ring(rows, 8, 3);
    let ivf = OwnedIvfPq::random(rows, dim, 16, 8, 4);
    let section = full_section(dim, &vectors, &graph, &ivf);
    let (file, written) = write_shard_bytes(schema, &[batch], Some(&section), None).unwrap();
    let loc = written.section.unwrap();
    let footer_bytes = written.file_size - (loc.offset + loc.length);
    let inner = memory_store();
    let path = put(&inner, "s.parquet", file.clone()).await;

    for prefetch in [0, 64 * 1024] {
        // Whole section.
        let counting = Arc::new(CountingStore::new(inner.clone()));
        let opts = ReadOptions { file_size: Some(file.len() as u64), prefetch };
        let reader = ShardReader::open(counting.clone(), path.clone(), opts).await.unwrap();
        reader.load_section().await.unwrap();
        let (_, bytes) = counting.counters().snapshot();
        assert!(
            bytes <= footer_bytes + loc.length,
            "prefetch {prefetch}: read {bytes} > {footer_bytes} + {}",
            loc.length
        );

        // One sub-section only: footer + directory + that payload.
        let counting = Arc::new(CountingStore::new(inner.clone()));
        let reader = ShardReader::open(counting.clone(), path.clone(), opts).await.unwrap();
        let (_, after_open) = counting.counters().snapshot();
        let entry = *reader.directory().unwrap().find(SubsectionKind::IvfCentroids, 0).unwrap();
        reader.load(&[(SubsectionKind::IvfCentroids, 0)]).await.unwrap();
        let (requests, bytes) = counting.counters().snapshot();
        let bound = footer_bytes + loc.directory_length + entry.length;
        assert!(after_open <= footer_bytes + loc.directory_length + prefetch);
        assert!(
            bytes <= bound.max(prefetch + loc.directory_length + entry.length),
            "prefetch {prefetch}: {bytes} > {bound}"
        );
        assert!(bytes < loc.length / 4, "a sub-section load must not read the whole section");
        assert!(requests <= 4, "{requests} requests");
    }
}

/// A shard of `rows` random `dim`-wide rows (`seed`), put at `name` in a fresh memory store:
/// the store, the object's path and the file's bytes.
async fn put_shard(dim: u32, rows: u32, seed: u64, name: &str) -> (Arc<dyn ObjectStore>, Path, Vec<u8>) {
    let schema = shard_schema(dim);
    let vectors = random_vectors(rows as usize, dim as usize, seed);
    let batch = shard_batch(&schema, dim, 0, &vectors);
    let (file, _) = write_shard_bytes(schema, &[batch], None, None).unwrap();
    let store = memory_store();
    let path = put(&store, name, file.clone()).await;
    (store, path, file)
}

#[tokio::test]
async fn the_page_index_comes_from_the_prefetched_tail_when_it_holds_it() {
    // 20k rows × 64 dims: the vectors' pages are listed in an offset index that the writer
    // puts just before the footer.
    let (inner, path, file) = put_shard(64, 20_000, 5, "p.parquet").await;
    let mut indexes = Vec::new();
    for (prefetch, requests) in [(64 * 1024, 0), (0, 1)] {
        let counting = Arc::new(CountingStore::new(inner.clone()));
        let opts = ReadOptions { file_size: Some(file.len() as u64), prefetch };
        let reader = ShardReader::open(counting.clone(), path.clone(), opts).await.unwrap();
        let (before, _) = counting.counters().snapshot();
        let paged = reader.paged_metadata().await.unwrap();
        let (after, _) = counting.counters().snapshot();
        assert_eq!(after - before, requests, "prefetch {prefetch}: page index requests");
        let index = paged.offset_index().expect("an offset index");
        assert!(index[0].iter().any(|c| c.page_locations().len() > 1), "the vectors span several pages");
        // Loaded once per reader: a second call reads nothing.
        reader.paged_metadata().await.unwrap();
        assert_eq!(counting.counters().snapshot().0, after);
        indexes.push(format!("{index:?}"));
    }
    assert_eq!(indexes[0], indexes[1], "the tail and the store give the same index");
}

#[tokio::test]
async fn a_page_holds_at_most_4096_rows_so_a_winner_fetch_decodes_little() {
    // A search fetches its winners' rows page by page from large files: every column's
    // pages stay small, whatever the default of the Parquet writer (20,000 rows).
    let rows = 20_000u32;
    let (inner, path, file) = put_shard(8, rows, 6, "small-pages.parquet").await;
    let opts = ReadOptions { file_size: Some(file.len() as u64), prefetch: 64 * 1024 };
    let reader = ShardReader::open(inner, path, opts).await.unwrap();
    let paged = reader.paged_metadata().await.unwrap();
    let index = paged.offset_index().expect("an offset index");
    for (c, column) in index[0].iter().enumerate() {
        let firsts: Vec<i64> = column.page_locations().iter().map(|p| p.first_row_index).collect();
        let largest =
            firsts.windows(2).map(|w| w[1] - w[0]).chain([rows as i64 - firsts[firsts.len() - 1]]).max();
        assert!(largest <= Some(4096), "column {c}: a page of {largest:?} rows");
        assert!(firsts.len() >= 5, "column {c}: {} pages for {rows} rows", firsts.len());
    }
}

#[test]
fn resectioning_keeps_pages_byte_for_byte() {
    let f = fixture(400);
    let (plain, written) = write_shard_bytes(shard_schema(DIM), &f.batches, None, None).unwrap();
    assert!(written.section.is_none());
    let (with_section, info) = resection_bytes(&plain, &f.section).unwrap();
    let loc = info.section.unwrap();
    assert_eq!(info.file_size, with_section.len() as u64);
    let footer_start = plain.len()
        - 8
        - u32::from_le_bytes(plain[plain.len() - 8..plain.len() - 4].try_into().unwrap()) as usize;
    assert_eq!(&with_section[..footer_start], &plain[..footer_start], "data region copied unchanged");
    assert_eq!(&with_section[loc.offset as usize..(loc.offset + loc.length) as usize], &f.section[..]);
    let back = concat(&read_all_rows(with_section.clone()));
    let want = concat(&f.batches);
    for c in 0..want.num_columns() {
        assert_eq!(back.column(c).to_data(), want.column(c).to_data());
    }
    // The page index written by the original writer is still usable.
    let opts = parquet::arrow::arrow_reader::ArrowReaderOptions::new()
        .with_page_index_policy(parquet::file::metadata::PageIndexPolicy::Required);
    let b = ParquetRecordBatchReaderBuilder::try_new_with_options(Bytes::from(with_section.clone()), opts)
        .unwrap();
    assert!(b.metadata().offset_index().is_some());
    // A second section cannot be added.
    assert!(matches!(resection_bytes(&with_section, &f.section), Err(FormatError::AlreadySectioned { .. })));
}

#[tokio::test]
async fn resectioning_through_the_object_store() {
    let f = fixture(200);
    let (plain, _) = write_shard_bytes(shard_schema(DIM), &f.batches, None, None).unwrap();
    let store = memory_store();
    let src = put(&store, "a.parquet", plain).await;
    let reader = ShardReader::open(store.clone(), src.clone(), ReadOptions::default()).await.unwrap();
    assert!(reader.directory().is_none());
    let dst = Path::from("b.parquet");
    let written =
        resection_object(store.clone(), &src, &dst, Bytes::from(f.section.clone()), ReadOptions::default())
            .await
            .unwrap();
    let reader = ShardReader::open(store.clone(), dst, ReadOptions::default()).await.unwrap();
    assert_eq!(reader.location(), written.section);
    let raw =
        RawVectors::decode(&reader.load(&[(SubsectionKind::RawVectors, 0)]).await.unwrap()[0].1).unwrap();
    assert_eq!(f32_data(&raw), &f.vectors[..]);
}

#[test]
fn writer_refuses_a_section_for_other_rows() {
    let f = fixture(100);
    let other = fixture(50);
    let err = write_shard_bytes(shard_schema(DIM), &f.batches, Some(&other.section), None).unwrap_err();
    assert!(matches!(err, FormatError::InvalidInput(_)), "{err}");
}
