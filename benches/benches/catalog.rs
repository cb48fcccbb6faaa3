//! ailk-catalog: commit latency on the embedded default (SQLite catalog, local warehouse), and
//! how planning a search grows with the number of data files — shard summaries from the
//! snapshot's Puffin file versus opening every data file's footer and AILK directory.

use std::collections::HashMap;
use std::sync::Arc;

use ailake_benches::{batch, random_vectors, schema};
use ailk_catalog::iceberg::arrow::arrow_schema_to_schema;
use ailk_catalog::iceberg::spec::DataFile;
use ailk_catalog::{
    data_file_from_store, CatalogProvider, IndexKind, IndexStatus, ShardSummary, SnapshotUpdate, SqlCatalog,
    Table, TableIdent, Warehouse,
};
use ailk_format::object_store::{ObjectStoreExt, PutPayload};
use ailk_format::{
    write_shard_bytes, Metric, RawVectors, ReadOptions, SectionBuilder, ShardReader, SubsectionKind,
    VectorColumn,
};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use tokio::runtime::Runtime;

const DIM: u32 = 16;
const ROWS: usize = 32;

async fn new_table(dir: &std::path::Path) -> Table {
    let catalog: Arc<dyn CatalogProvider> =
        Arc::new(SqlCatalog::open(dir.join("catalog.db"), "default").await.expect("catalog"));
    let wh = Warehouse::local(dir.join("warehouse")).expect("warehouse");
    let schema = arrow_schema_to_schema(&schema(DIM)).expect("schema");
    Table::create(catalog, wh, TableIdent::new("bench", "t").expect("ident"), schema, HashMap::new())
        .await
        .expect("table")
}

/// Writes one small shard with a raw-vector section; returns its entry and summary.
async fn shard(table: &Table, location: &str, seed: u64) -> (DataFile, ShardSummary) {
    let vectors = random_vectors(ROWS, DIM as usize, seed);
    let column = VectorColumn::summarize(2, "embedding", Metric::L2, DIM, &vectors).expect("summary");
    let mut b = SectionBuilder::new(ROWS as u64);
    let col = b.column(column.clone());
    b.add(SubsectionKind::RawVectors, col, RawVectors::encode_f32(DIM, &vectors).expect("raw"));
    let section = b.encode().expect("section");
    let s = schema(DIM);
    let (bytes, written) =
        write_shard_bytes(s.clone(), &[batch(&s, DIM, &vectors)], Some(&section), None).expect("shard");
    let uri = format!("{location}/data/{seed:08}.parquet");
    let wh = table.warehouse();
    wh.store().put(&wh.path_of(&uri).expect("path"), PutPayload::from(bytes)).await.expect("put");
    let iceberg_schema = arrow_schema_to_schema(&s).expect("schema");
    let entry = data_file_from_store(wh, &uri, &iceberg_schema).await.expect("entry");
    let loc = written.section.expect("section written");
    let summary = ShardSummary {
        file_path: uri,
        rows: ROWS as u64,
        column: "embedding".into(),
        centroid: column.centroid,
        radius: column.radius,
        index: IndexKind::Flat,
        status: IndexStatus::Ready,
        section: Some((loc.offset, loc.length)),
        occupancy: None,
        blocks: None,
    };
    (entry, summary)
}

fn commit_latency(c: &mut Criterion) {
    let rt = Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let table = rt.block_on(new_table(dir.path()));
    let location = table.location().to_string();
    let mut seed = 0;
    let mut g = c.benchmark_group("catalog_sqlite_local");
    g.sample_size(30);
    g.bench_function("append_commit_one_file", |b| {
        b.iter_batched(
            || {
                seed += 1;
                rt.block_on(shard(&table, &location, seed))
            },
            |(entry, summary)| {
                rt.block_on(table.commit(SnapshotUpdate::append(vec![entry]).with_summaries(vec![summary])))
                    .expect("commit")
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

fn planning(c: &mut Criterion) {
    let rt = Runtime::new().expect("runtime");
    let mut g = c.benchmark_group("plan_files");
    g.sample_size(10);
    for files in [10usize, 100, 1_000, 10_000] {
        let dir = tempfile::tempdir().expect("tempdir");
        let table = rt.block_on(async {
            let table = new_table(dir.path()).await;
            let location = table.location().to_string();
            for chunk in (0..files).collect::<Vec<_>>().chunks(250) {
                let mut entries = Vec::new();
                let mut summaries = Vec::new();
                for &i in chunk {
                    let (e, s) = shard(&table, &location, i as u64).await;
                    entries.push(e);
                    summaries.push(s);
                }
                table
                    .commit(SnapshotUpdate::append(entries).with_summaries(summaries))
                    .await
                    .expect("commit");
            }
            table.refresh().await.expect("refresh")
        });
        // Each pass plans a fresh handle (metadata + Puffin read), as a new search session does.
        g.bench_function(format!("puffin_summaries/{files}"), |b| {
            b.iter(|| {
                let fresh = rt.block_on(table.refresh()).expect("refresh");
                let s = rt.block_on(fresh.shard_summaries()).expect("summaries").expect("present");
                assert_eq!(s.len(), files);
            })
        });
        g.bench_function(format!("footers/{files}"), |b| {
            b.iter(|| {
                rt.block_on(async {
                    let live = table.refresh().await.expect("refresh").live_files().await.expect("files");
                    let store = table.warehouse().store().clone();
                    let mut centroids = 0;
                    for f in live.iter() {
                        let path = table.warehouse().path_of(f.path()).expect("path");
                        let r = ShardReader::open(store.clone(), path, ReadOptions::default())
                            .await
                            .expect("open");
                        centroids += r.directory().and_then(|d| d.primary()).map_or(0, |c| c.centroid.len());
                    }
                    assert_eq!(centroids, files * DIM as usize);
                })
            })
        });
    }
    g.finish();
}

criterion_group!(benches, commit_latency, planning);
criterion_main!(benches);
