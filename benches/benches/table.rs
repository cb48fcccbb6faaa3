//! TableWriter and SearchSession on the embedded default (SQLite catalog, local warehouse),
//! with real embeddings (`../shared/data/debian-minilm` when present, else `data/sample`; cosine): rows/s of the write paths,
//! and search latency over 1, 8 and 64 shards of the same 24,000 rows. The search group also
//! prints p50/p99 latency and bytes read per query over the held-out queries.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use ailake::prelude::*;
use arrow_array::{ArrayRef, Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use tokio::runtime::Runtime;

const ROWS: usize = 24_000;
const WRITE_ROWS: usize = 5_000;

/// The team's 30k-row set when it is beside the repository; otherwise the committed sample
/// padded with noisy copies of its rows (`Sample::base_rows_padded`), said on stderr.
fn data() -> (Vec<Vec<f32>>, Vec<Vec<f32>>) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/debian-minilm");
    if !dir.join("base.fvecs").exists() {
        eprintln!("{} is missing: using data/sample padded to {ROWS} rows", dir.display());
        let s = ailk_testkit::sample::Sample::load().expect("the committed sample");
        return (s.base_rows_padded(ROWS), s.query_rows(s.queries.rows()));
    }
    let base = ailk_testkit::texmex::read_fvecs(dir.join("base.fvecs"), Some(ROWS)).expect("dataset");
    let q = ailk_testkit::texmex::read_fvecs(dir.join("query.fvecs"), Some(200)).expect("queries");
    let split =
        |m: ailk_testkit::texmex::Matrix<f32>| m.data.chunks_exact(m.dim).map(<[f32]>::to_vec).collect();
    (split(base), split(q))
}

fn attributes() -> Schema {
    Schema::new(vec![Field::new("id", DataType::Int64, false)])
}

fn batch(ids: std::ops::Range<usize>) -> RecordBatch {
    let id: ArrayRef = Arc::new(Int64Array::from_iter_values(ids.map(|i| i as i64)));
    RecordBatch::try_new(Arc::new(attributes()), vec![id]).expect("batch")
}

async fn writer(dir: &std::path::Path, name: &str) -> TableWriter {
    let catalog: Arc<dyn CatalogProvider> =
        Arc::new(SqlCatalog::open(dir.join("catalog.db"), "default").await.expect("catalog"));
    let wh = Warehouse::local(dir.join("warehouse")).expect("warehouse");
    let spec = VectorSpec::new("embedding", 384, Metric::Cosine);
    TableWriter::create_or_open(
        catalog,
        wh,
        WritePolicy::default(),
        TableIdent::new("b", name).expect("ident"),
        &attributes(),
        &[spec],
    )
    .await
    .expect("writer")
}

fn writes(c: &mut Criterion) {
    let rt = Runtime::new().expect("runtime");
    let (base, _) = data();
    let dir = tempfile::tempdir().expect("tempdir");
    let w = rt.block_on(writer(dir.path(), "writes"));
    let emb = &base[..WRITE_ROWS];
    let mut g = c.benchmark_group("table_write_5000x384");
    g.sample_size(10);
    g.throughput(Throughput::Elements(WRITE_ROWS as u64));
    for path in ["write_batch_deferred", "write_batch", "write_batch_ivf_pq"] {
        g.bench_function(path, |b| {
            b.iter_batched(
                || batch(0..WRITE_ROWS),
                |rows| {
                    rt.block_on(async {
                        match path {
                            "write_batch_deferred" => w.write_batch_deferred(&rows, emb).await,
                            "write_batch" => w.write_batch(&rows, emb).await,
                            _ => w.write_batch_ivf_pq(&rows, emb, None).await,
                        }
                        .expect("write")
                    })
                },
                BatchSize::PerIteration,
            )
        });
        // The deferred path's background builds must not run under the next path's timing.
        rt.block_on(w.wait_indexed()).expect("builds");
    }
    g.finish();
}

fn search(c: &mut Criterion) {
    let rt = Runtime::new().expect("runtime");
    let (base, queries) = data();
    let mut g = c.benchmark_group("table_search_24k_x_384_k10");
    g.sample_size(20);
    for shards in [1usize, 8, 64] {
        let dir = tempfile::tempdir().expect("tempdir");
        let session = rt.block_on(async {
            let w = writer(dir.path(), "search").await;
            let per = ROWS / shards;
            for s in 0..shards {
                let r = s * per..(s + 1) * per;
                w.write_batch(&batch(r.clone()), &base[r]).await.expect("write");
            }
            w.commit().await.expect("commit");
            let catalog: Arc<dyn CatalogProvider> =
                Arc::new(SqlCatalog::open(dir.path().join("catalog.db"), "default").await.expect("catalog"));
            let wh = Warehouse::local(dir.path().join("warehouse")).expect("warehouse");
            SearchSession::open(catalog, wh, TableIdent::new("b", "search").expect("ident"))
                .await
                .expect("session")
        });
        let params = SearchParams { projection: Some(vec!["id".into()]), ..SearchParams::default() };
        // Warm the caches, then p50 / p99 and bytes per query over the held-out queries.
        for q in &queries {
            rt.block_on(session.search(q, 10, &params)).expect("search");
        }
        let before = session.counters();
        let mut lat: Vec<f64> = queries
            .iter()
            .map(|q| {
                let t = Instant::now();
                rt.block_on(session.search(q, 10, &params)).expect("search");
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        let after = session.counters();
        lat.sort_by(f64::total_cmp);
        eprintln!(
            "search {shards} shards: p50 {:.2} ms, p99 {:.2} ms, {:.0} bytes/query (warm), visited {:.1} pruned {:.1} shards/query",
            lat[lat.len() / 2],
            lat[lat.len() * 99 / 100],
            (after.bytes_read - before.bytes_read) as f64 / queries.len() as f64,
            (after.shards_visited - before.shards_visited) as f64 / queries.len() as f64,
            (after.shards_pruned - before.shards_pruned) as f64 / queries.len() as f64,
        );
        let mut i = 0;
        g.bench_function(format!("{shards}_shards"), |b| {
            b.iter(|| {
                i = (i + 1) % queries.len();
                rt.block_on(session.search(&queries[i], 10, &params)).expect("search")
            })
        });
    }
    g.finish();
}

criterion_group!(benches, writes, search);
criterion_main!(benches);
