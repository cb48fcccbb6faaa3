//! AILK v1.0 golden files (`tests/fixtures/v1.0/`): files written by the frozen format must
//! decode forever. One test decodes every committed file and checks its contents against the
//! inputs below (formulas only: no RNG whose algorithm could change); another checks that
//! today's encoder still writes those exact bytes. `AILAKE_BLESS=1 cargo test -p ailk-format
//! --test golden` writes missing files — never rewrite an existing one: a v1.0 file that stops
//! decoding, or an encoder that stops reproducing it, is a format break (bump the version and
//! add new files instead).

mod common;

use common::OwnedGraph;

use std::path::PathBuf;
use std::sync::Arc;

use ailk_format::object_store::path::Path;
use ailk_format::object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use ailk_format::{
    memory_store, write_shard_bytes, AlignedBytes, ElementType, HnswGraph, HnswMeta, IvfCentroids, IvfLists,
    Metric, PqCodebook, RawVectors, ReadOptions, Section, SectionBuilder, ShardReader, SubsectionKind,
    VectorColumn, VectorData,
};

const DIM: u32 = 8;
const ROWS: u32 = 24;
const M: u32 = 4;
const NLIST: u32 = 3;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v1.0")
}

/// `ROWS × DIM` values, exact binary fractions.
fn vectors(seed: u32) -> Vec<f32> {
    (0..ROWS * DIM).map(|i| ((i * 5 + seed * 3) % 13) as f32 * 0.125 - 0.75).collect()
}

/// `vectors(seed)` scaled to unit length (a cosine column stores normalized rows).
fn unit_vectors(seed: u32) -> Vec<f32> {
    let mut v = vectors(seed);
    for row in v.chunks_exact_mut(DIM as usize) {
        let norm = row.iter().map(|x| x * x).sum::<f32>().sqrt();
        row.iter_mut().for_each(|x| *x /= norm);
    }
    v
}

/// An HNSW graph given by formulas: levels 0–2, node 0 the entry point, unused neighbour
/// slots holding `u32::MAX` (readers ignore slots past the count).
fn graph(metric: Metric) -> OwnedGraph {
    let (n, m0) = (ROWS, 2 * M);
    let levels: Vec<u8> = (0..n)
        .map(|i| {
            if i % 9 == 0 {
                2
            } else if i % 4 == 0 {
                1
            } else {
                0
            }
        })
        .collect();
    let block = |i: u32, level: u8, cap: u32, out: &mut Vec<u32>| {
        let peers: Vec<u32> =
            (1..n).map(|d| (i + d * 5) % n).filter(|&p| levels[p as usize] >= level).collect();
        let count = (1 + i % cap).min(peers.len() as u32);
        out.push(count);
        out.extend((0..cap).map(|j| if j < count { peers[j as usize] } else { u32::MAX }));
    };
    let mut level0 = Vec::new();
    for i in 0..n {
        block(i, 0, m0, &mut level0);
    }
    let (mut upper_offsets, mut upper) = (vec![0u32], Vec::new());
    for i in 0..n {
        for level in 1..=levels[i as usize] {
            block(i, level, M, &mut upper);
        }
        upper_offsets.push(upper.len() as u32);
    }
    let meta = HnswMeta {
        node_count: n,
        m: M,
        m0,
        ef_construction: 64,
        entry_point: 0,
        max_level: 2,
        metric,
        seed: 7,
    };
    OwnedGraph { meta, levels, level0, upper_offsets, upper }
}

/// IVF-PQ parts by formula: `NLIST` lists (row `r` in list `r % NLIST`), `M` 8-bit codes per row.
struct Ivf {
    centroids: Vec<f32>,
    codebooks: Vec<f32>,
    offsets: Vec<u64>,
    codes: Vec<u8>,
    row_ids: Vec<u32>,
}

fn ivf() -> Ivf {
    let centroids = (0..NLIST * DIM).map(|i| (i % 7) as f32 * 0.25 - 0.5).collect();
    let codebooks = (0..256 * DIM).map(|i| (i % 17) as f32 * 0.0625 - 0.5).collect();
    let mut row_ids = Vec::new();
    let mut offsets = vec![0u64];
    for l in 0..NLIST {
        row_ids.extend((0..ROWS).filter(|r| r % NLIST == l));
        offsets.push(row_ids.len() as u64);
    }
    let codes = row_ids.iter().flat_map(|&r| (0..M).map(move |s| ((r * 7 + s * 3) % 256) as u8)).collect();
    Ivf { centroids, codebooks, offsets, codes, row_ids }
}

fn column(field_id: i32, name: &str, metric: Metric, data: &[f32]) -> VectorColumn {
    VectorColumn::summarize(field_id, name, metric, DIM, data).unwrap()
}

fn hnsw_section(metric: Metric) -> Vec<u8> {
    let data = if metric == Metric::Cosine { unit_vectors(1) } else { vectors(1) };
    let g = graph(metric);
    let mut b = SectionBuilder::new(ROWS.into());
    let c = b.column(column(3, "embedding", metric, &data));
    b.add(SubsectionKind::RawVectors, c, RawVectors::encode_f32(DIM, &data).unwrap());
    b.add(SubsectionKind::HnswGraph, c, g.as_ref().encode().unwrap());
    b.encode().unwrap()
}

fn ivfpq_section() -> Vec<u8> {
    let (data, p) = (vectors(2), ivf());
    let mut b = SectionBuilder::new(ROWS.into());
    let c = b.column(column(3, "embedding", Metric::L2, &data));
    b.add(SubsectionKind::RawVectors, c, RawVectors::encode_f32(DIM, &data).unwrap());
    b.add(SubsectionKind::IvfCentroids, c, IvfCentroids::encode(DIM, &p.centroids).unwrap());
    b.add(SubsectionKind::PqCodebook, c, PqCodebook::encode(DIM, M, 8, true, &p.codebooks).unwrap());
    b.add(SubsectionKind::IvfLists, c, IvfLists::encode(M, &p.offsets, &p.codes, &p.row_ids).unwrap());
    b.encode().unwrap()
}

/// A table's shared IVF-PQ codebook file (`metadata/ailake-ivfpq-codebook-<column>.ailk`): a
/// row-less section with one column `codebook` (field id −1, summarized over the centroids)
/// holding the centroids and the PQ codebook.
fn table_codebook_section() -> Vec<u8> {
    let p = ivf();
    let mut b = SectionBuilder::new(0);
    let c = b.column(column(-1, "codebook", Metric::L2, &p.centroids));
    b.add(SubsectionKind::IvfCentroids, c, IvfCentroids::encode(DIM, &p.centroids).unwrap());
    b.add(SubsectionKind::PqCodebook, c, PqCodebook::encode(DIM, M, 8, true, &p.codebooks).unwrap());
    b.encode().unwrap()
}

fn f16_bits() -> Vec<u16> {
    vectors(3).iter().map(|&v| half::f16::from_f32(v).to_bits()).collect()
}

fn f16_section() -> Vec<u8> {
    let bits = f16_bits();
    let mut b = SectionBuilder::new(ROWS.into());
    let mut col = column(3, "embedding", Metric::L2, &vectors(3));
    col.element = ElementType::F16;
    let c = b.column(col);
    b.add(SubsectionKind::RawVectors, c, RawVectors::encode_f16(DIM, &bits).unwrap());
    b.encode().unwrap()
}

fn multi_column_section() -> Vec<u8> {
    let (title, body, g, p) = (vectors(4), unit_vectors(5), graph(Metric::L2), ivf());
    let mut b = SectionBuilder::new(ROWS.into());
    let t = b.column(column(3, "title", Metric::L2, &title));
    let c = b.column(column(4, "body", Metric::Cosine, &body));
    b.add(SubsectionKind::RawVectors, t, RawVectors::encode_f32(DIM, &title).unwrap());
    b.add(SubsectionKind::HnswGraph, t, g.as_ref().encode().unwrap());
    b.add(SubsectionKind::RawVectors, c, RawVectors::encode_f32(DIM, &body).unwrap());
    b.add(SubsectionKind::IvfCentroids, c, IvfCentroids::encode(DIM, &p.centroids).unwrap());
    b.add(SubsectionKind::PqCodebook, c, PqCodebook::encode(DIM, M, 8, true, &p.codebooks).unwrap());
    b.add(SubsectionKind::IvfLists, c, IvfLists::encode(M, &p.offsets, &p.codes, &p.row_ids).unwrap());
    b.encode().unwrap()
}

/// Every golden section, by file name, as today's encoder writes it.
fn sections() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("hnsw-l2.ailk", hnsw_section(Metric::L2)),
        ("hnsw-ip.ailk", hnsw_section(Metric::InnerProduct)),
        ("hnsw-cosine.ailk", hnsw_section(Metric::Cosine)),
        ("ivfpq-l2.ailk", ivfpq_section()),
        ("table-codebook.ailk", table_codebook_section()),
        ("raw-f16.ailk", f16_section()),
        ("multi-column.ailk", multi_column_section()),
    ]
}

/// A whole Parquet shard: rows `id`, `text`, `embedding` and the `hnsw-l2.ailk` section.
fn shard_file() -> Vec<u8> {
    let schema = common::shard_schema(DIM);
    let batch = common::shard_batch(&schema, DIM, 0, &vectors(1));
    write_shard_bytes(schema, &[batch], Some(&hnsw_section(Metric::L2)), None).unwrap().0
}

const SHARD: &str = "shard-hnsw-l2.parquet";

fn read(name: &str) -> Vec<u8> {
    common::golden_files::golden(&dir().join(name), || {
        if name == SHARD {
            shard_file()
        } else {
            sections().into_iter().find(|(n, _)| *n == name).unwrap().1
        }
    })
}

#[test]
fn todays_encoder_writes_the_golden_bytes() {
    for (name, bytes) in sections() {
        let golden = read(name);
        assert!(
            bytes == golden,
            "{name}: the encoder no longer writes the v1.0 bytes ({} vs {})",
            bytes.len(),
            golden.len()
        );
    }
}

fn f32s(data: &VectorData) -> Vec<f32> {
    match data {
        VectorData::F32(a) => a.to_vec(),
        VectorData::F16(a) => a.iter().map(|&b| half::f16::from_bits(b).to_f32()).collect(),
    }
}

fn check_graph(s: &Section, col: u16, metric: Metric) {
    let want = graph(metric);
    let got = HnswGraph::decode(&s.payload(SubsectionKind::HnswGraph, col).unwrap()).unwrap();
    assert_eq!(got.meta, want.meta);
    assert_eq!((&got.levels[..], &got.level0[..]), (&want.levels[..], &want.level0[..]));
    assert_eq!((&got.upper_offsets[..], &got.upper[..]), (&want.upper_offsets[..], &want.upper[..]));
}

fn check_ivf(s: &Section, col: u16, lists: bool) {
    let want = ivf();
    let c = IvfCentroids::decode(&s.payload(SubsectionKind::IvfCentroids, col).unwrap()).unwrap();
    assert_eq!((c.nlist, c.dim, &c.centroids[..]), (NLIST, DIM, &want.centroids[..]));
    let pq = PqCodebook::decode(&s.payload(SubsectionKind::PqCodebook, col).unwrap()).unwrap();
    assert_eq!((pq.dim, pq.m, pq.nbits, pq.residual), (DIM, M, 8, true));
    assert_eq!(&pq.codebooks[..], &want.codebooks[..]);
    if !lists {
        assert!(s.payload(SubsectionKind::IvfLists, col).is_err(), "a codebook file has no lists");
        return;
    }
    let l = IvfLists::decode(&s.payload(SubsectionKind::IvfLists, col).unwrap()).unwrap();
    assert_eq!((l.nlist, l.code_size), (NLIST, M));
    assert_eq!(
        (&l.offsets[..], &l.codes[..], &l.row_ids[..]),
        (&want.offsets[..], &want.codes[..], &want.row_ids[..])
    );
    assert_eq!(l.list(1).unwrap().0, &[1, 4, 7, 10, 13, 16, 19, 22], "list 1 holds rows ≡ 1 mod 3");
}

#[test]
fn golden_files_decode_to_their_contents() {
    for (name, _) in sections() {
        let s =
            Section::decode(AlignedBytes::copy_from(&read(name))).unwrap_or_else(|e| panic!("{name}: {e}"));
        let d = s.directory();
        let rows = if name == "table-codebook.ailk" { 0 } else { u64::from(ROWS) };
        assert_eq!((d.major, d.minor, d.row_count), (1, 0, rows), "{name}");
        let raw =
            |col: u16| RawVectors::decode(&s.payload(SubsectionKind::RawVectors, col).unwrap()).unwrap();
        match name {
            "hnsw-l2.ailk" | "hnsw-ip.ailk" | "hnsw-cosine.ailk" => {
                let metric = match name {
                    "hnsw-l2.ailk" => Metric::L2,
                    "hnsw-ip.ailk" => Metric::InnerProduct,
                    _ => Metric::Cosine,
                };
                let data = if metric == Metric::Cosine { unit_vectors(1) } else { vectors(1) };
                assert_eq!(d.columns, vec![column(3, "embedding", metric, &data)], "{name}");
                assert_eq!(d.columns[0].normalized, metric == Metric::Cosine);
                assert_eq!(f32s(&raw(0).data), data, "{name}");
                check_graph(&s, 0, metric);
            }
            "ivfpq-l2.ailk" => {
                assert_eq!(f32s(&raw(0).data), vectors(2), "{name}");
                check_ivf(&s, 0, true);
            }
            "table-codebook.ailk" => {
                assert_eq!(d.columns, vec![column(-1, "codebook", Metric::L2, &ivf().centroids)]);
                assert!(s.payload(SubsectionKind::RawVectors, 0).is_err(), "no rows, no vectors");
                check_ivf(&s, 0, false);
            }
            "raw-f16.ailk" => {
                assert_eq!(d.columns[0].element, ElementType::F16);
                let r = raw(0);
                assert!(matches!(&r.data, VectorData::F16(b) if b[..] == f16_bits()[..]), "{name}");
                assert_eq!(f32s(&r.data), vectors(3), "these values are exact in f16");
                assert!(s.payload(SubsectionKind::HnswGraph, 0).is_err(), "flat: no index");
            }
            "multi-column.ailk" => {
                let names: Vec<&str> = d.columns.iter().map(|c| c.name.as_str()).collect();
                assert_eq!(names, ["title", "body"]);
                assert_eq!((d.columns[0].metric, d.columns[1].metric), (Metric::L2, Metric::Cosine));
                assert_eq!((d.column_index("title"), d.column_index("body")), (Some(0), Some(1)));
                assert_eq!((f32s(&raw(0).data), f32s(&raw(1).data)), (vectors(4), unit_vectors(5)));
                check_graph(&s, 0, Metric::L2);
                check_ivf(&s, 1, true);
                assert!(s.payload(SubsectionKind::HnswGraph, 1).is_err());
            }
            other => panic!("no checks for {other}"),
        }
    }
}

#[test]
fn golden_parquet_shard_opens_with_its_section_and_rows() {
    let bytes = read(SHARD);
    let section = futures::executor::block_on(async {
        let store: Arc<dyn ObjectStore> = memory_store();
        let path = Path::from(SHARD);
        store.put(&path, PutPayload::from(bytes.clone())).await.unwrap();
        let reader = ShardReader::open(store, path, ReadOptions::default()).await.unwrap();
        reader.load_section().await.unwrap()
    });
    let golden = Section::decode(AlignedBytes::copy_from(&read("hnsw-l2.ailk"))).unwrap();
    assert_eq!(section.directory(), golden.directory());
    // An ordinary Parquet reader reads the rows around the section.
    let reader =
        parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(bytes))
            .unwrap();
    let batches: Vec<_> = reader.build().unwrap().map(Result::unwrap).collect();
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    assert_eq!(rows, ROWS as usize);
    let ids = batches[0].column(0).as_any().downcast_ref::<arrow_array::Int64Array>().unwrap();
    assert_eq!(ids.values()[..3], [0, 1, 2]);
}
