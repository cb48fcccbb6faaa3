//! ailake on a live S3-compatible server: moto (`python -m moto.server`, installed into the
//! project venv by `.ci/run`) on a loopback port, started by the test and stopped when it
//! ends. Through the public API, with the SQLite catalog and a warehouse at
//! `s3://lake/wh`: every write path (sync HNSW; deferred HNSW; deferred IVF-PQ whose shared
//! codebook is stored with a conditional create-only put), two writers committing
//! concurrently, search, time travel, deletes, compaction, `remove_orphans` — and pyiceberg
//! reading the table from S3 through pyarrow with the endpoint override; a compacted table
//! searched through its partition blocks from S3, with no cache and with one; full-text search
//! of a table on S3 (ranged reads of text index pieces); and a table
//! behind a REST catalog (rustberg, its warehouse on the same moto server).
#![cfg(feature = "s3")]

mod support;

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ailake::format::object_store::path::Path as StorePath;
use ailake::format::object_store::ObjectStoreExt;
use ailake::prelude::*;
use ailake::Op;
use support::*;

/// A moto server on a free loopback port with bucket `lake`, stopped when dropped (also on a
/// failing test), and exiting by itself if this process dies (it watches its parent).
struct Moto {
    endpoint: String,
    child: Child,
}

/// Runs moto's server and exits when the parent process is gone.
const MOTO_MAIN: &str = r#"
import os, sys, threading, time
from moto.server import main
parent = os.getppid()
def watch():
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)
threading.Thread(target=watch, daemon=True).start()
sys.argv = ["moto_server", "-H", "127.0.0.1", "-p", sys.argv[1]]
main()
"#;

impl Moto {
    fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(python())
            .args(["-c", MOTO_MAIN, &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto[server] in the project venv (.ci/run installs it)");
        let moto = Moto { endpoint: format!("http://127.0.0.1:{port}"), child };
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(30), "moto did not start on port {port}");
            std::thread::sleep(Duration::from_millis(100));
        }
        let create = Command::new(python())
            .args([
                "-c",
                "import boto3, sys; boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1', \
                 aws_access_key_id='test', aws_secret_access_key='test').create_bucket(Bucket='lake')",
                &moto.endpoint,
            ])
            .status()
            .unwrap();
        assert!(create.success(), "creating the bucket failed");
        moto
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The S3 warehouse `s3://lake/<prefix>` with a SQLite catalog in `dir`.
async fn s3_catalog(m: &Moto, dir: &Path, prefix: &str) -> Catalog {
    let options = [
        ("aws_endpoint", m.endpoint.as_str()),
        ("aws_allow_http", "true"),
        ("aws_region", "us-east-1"),
        ("aws_access_key_id", "test"),
        ("aws_secret_access_key", "test"),
    ];
    let warehouse = Warehouse::s3(&format!("s3://lake/{prefix}"), &options).unwrap();
    let sql = SqlCatalog::open(dir.join("catalog.db"), "default").await.unwrap();
    Catalog::new(Arc::new(sql), warehouse)
}

fn pyiceberg_s3_ids(m: &Moto, dir: &Path, prefix: &str) -> Vec<i64> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/read_table.py");
    let out = Command::new(python())
        .arg(script)
        .arg(dir.join("catalog.db"))
        .arg(format!("s3://lake/{prefix}"))
        .arg("docs.t")
        .env("AILAKE_TEST_S3_ENDPOINT", &m.endpoint)
        .output()
        .unwrap();
    assert!(out.status.success(), "pyiceberg on S3 failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    json["ids"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_table_operation_works_on_a_live_s3_server() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let catalog = s3_catalog(&moto, dir.path(), "wh").await;
    let specs = [VectorSpec::new("embedding", DIM, Metric::L2)];
    let table = catalog.create_table(&ident("t"), &attributes(), &specs).await.unwrap();
    assert!(table.location().starts_with("s3://lake/wh/"), "{}", table.location());

    // Every write path, one commit.
    let writer = table.writer(WritePolicy::default()).unwrap();
    writer.write(&batch(0..300), &WriteOptions::default()).await.unwrap();
    writer.write(&batch(300..600), &WriteOptions::default().deferred()).await.unwrap();
    let ivf = WriteOptions::default().index(IndexChoice::IvfPq(None)).deferred();
    writer.write(&batch(600..900), &ivf).await.unwrap();
    writer.commit().await.unwrap();
    writer.wait_indexed().await.unwrap();
    let codebook = StorePath::from("docs/t/metadata/ailake-ivfpq-codebook-embedding.ailk");
    let wh = table.warehouse();
    assert!(wh.store().head(&codebook).await.is_ok(), "the shared codebook was put on S3");

    // Two writers commit at once; both land.
    let a = table.refresh().await.unwrap().writer(WritePolicy::default()).unwrap();
    let b = table.refresh().await.unwrap().writer(WritePolicy::default()).unwrap();
    a.write(&batch(900..1000), &WriteOptions::default()).await.unwrap();
    b.write(&batch(1000..1100), &WriteOptions::default()).await.unwrap();
    let (ra, rb) = tokio::join!(a.commit(), b.commit());
    ra.unwrap();
    rb.unwrap();
    let all: Vec<i64> = (0..1100).collect();
    assert_eq!(live_ids(&table).await, all);
    assert!(recall(&table, 0..1100, 0..30, 10).await >= 0.9);
    let before_delete = table.refresh().await.unwrap().snapshot_id().unwrap();

    // Deletes, time travel, compaction.
    table.delete(&Filter::cmp("id", Op::Lt, 50i64)).await.unwrap();
    let live: Vec<i64> = (50..1100).collect();
    assert_eq!(live_ids(&table).await, live);
    let old = table.refresh().await.unwrap().at_snapshot(before_delete).unwrap().search().await.unwrap();
    assert_eq!(old.row_count(), 1100);
    let out = table.compact(&CompactOptions { target_rows: 400, ..Default::default() }).await.unwrap();
    assert_eq!((out.files_removed, out.deleted_rows_purged), (5, 50), "{out:?}");
    assert_eq!(live_ids(&table).await, live);
    assert!(recall(&table, 50..1100, 60..90, 10).await >= 0.9);

    // A stray object is an orphan; live files are not.
    let stray = StorePath::from("docs/t/data/stray.parquet");
    wh.store().put(&stray, b"left by a killed writer".to_vec().into()).await.unwrap();
    let removed = table.remove_orphans(Duration::ZERO).await.unwrap();
    assert!(removed.iter().any(|r| r.ends_with("data/stray.parquet")), "{removed:?}");
    assert_eq!(live_ids(&table).await, live);

    // pyiceberg reads the same rows from S3.
    assert_eq!(pyiceberg_s3_ids(&moto, dir.path(), "wh"), live);
}

/// A compacted table on S3 is searched through its partition blocks: with a cache of 0 bytes
/// (every block and vector read from S3 for every query) and with a cache whose second pass
/// reads nothing, answering with recall against the exact truth.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partition_blocks_answer_from_s3() {
    use ailake::search::ShardCache;
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let catalog = s3_catalog(&moto, dir.path(), "blocks").await;
    let specs = [VectorSpec::new("embedding", DIM, Metric::L2)];
    let table = catalog.create_table(&ident("t"), &attributes(), &specs).await.unwrap();
    let writer = table.writer(WritePolicy::default()).unwrap();
    for start in (0..2000).step_by(250) {
        writer.write(&batch(start..start + 250), &WriteOptions::default()).await.unwrap();
    }
    writer.commit().await.unwrap();
    table.compact(&CompactOptions { target_rows: 500, ..Default::default() }).await.unwrap();
    let table = table.refresh().await.unwrap();
    let summaries = table.shard_summaries().await.unwrap().unwrap();
    assert!(
        summaries.len() >= 3 && summaries.iter().all(|s| s.blocks.is_some()),
        "{} files",
        summaries.len()
    );
    let queries = vectors(0..20, DIM);
    let recall_of = |got: &[Vec<i64>]| {
        let hits: usize = got
            .iter()
            .zip(queries.chunks_exact(DIM as usize))
            .map(|(g, q)| exact(0..2000, q, 10).iter().filter(|i| g.contains(i)).count())
            .sum();
        hits as f64 / (10 * got.len()) as f64
    };
    let params = SearchParams { partition_probes: Some(16), ..SearchParams::default() };
    for budget in [0, 1 << 30] {
        let session = SearchSession::with_cache(&table, Arc::new(ShardCache::new(budget))).await.unwrap();
        let mut passes = Vec::new();
        for _ in 0..2 {
            let before = session.counters();
            let mut got = Vec::new();
            for q in queries.chunks_exact(DIM as usize) {
                got.push(ids(&session.search(q, 10, &params).await.unwrap()));
            }
            let c = session.counters();
            assert!(c.blocks_scanned > before.blocks_scanned, "through blocks (cache {budget})");
            assert_eq!(c.blocks_corrupt, 0);
            passes.push((got, c.bytes_read - before.bytes_read));
        }
        for (got, _) in &passes {
            let r = recall_of(got);
            assert!(r >= 0.95, "recall {r} with a cache of {budget} bytes");
        }
        if budget == 0 {
            assert!(passes[1].1 > 0, "no cache: the second pass reads from S3 again");
        } else {
            assert_eq!(passes[1].1, 0, "the second pass is answered from the cache");
        }
    }
}

/// Full-text search of a table on S3 (issue 33): the real sample's descriptions in 4 files,
/// 40 rows deleted; each query reads its files' text heads, dictionary blocks and postings with
/// ranged GETs (or whole, `text_pieces: false`) and answers exactly as the same table on a
/// local disk does — with no cache (everything read from S3 per query) and with one (the
/// second pass reads nothing).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_search_answers_from_s3() {
    use ailake::search::ShardCache;
    use ailake::{TextSpec, SCORE_COLUMN};
    use arrow_array::cast::AsArray;
    use arrow_array::types::Float32Type;
    let texts: Vec<String> =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/sample/texts.tsv"))
            .unwrap()
            .lines()
            .take(2000)
            .map(|l| l.split_once('\t').map_or("", |(_, t)| t).to_string())
            .collect();
    let schema = arrow_schema::Schema::new(vec![
        arrow_schema::Field::new("id", arrow_schema::DataType::Int64, false),
        arrow_schema::Field::new("text", arrow_schema::DataType::Utf8, true),
    ]);
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let remote = s3_catalog(&moto, dir.path(), "text").await;
    let local = Catalog::local(dir.path().join("local.db"), "default", dir.path().join("wh")).await.unwrap();
    let mut tables = Vec::new();
    for catalog in [&remote, &local] {
        let specs = [VectorSpec::new("embedding", DIM, Metric::L2)];
        let table = catalog
            .create_table_with_text(&ident("t"), &schema, &specs, &[TextSpec::new("text")])
            .await
            .unwrap();
        let writer = table.writer(WritePolicy::default()).unwrap();
        for start in (0..texts.len()).step_by(500) {
            let ids: arrow_array::ArrayRef =
                Arc::new(arrow_array::Int64Array::from_iter_values(start as i64..start as i64 + 500));
            let t: arrow_array::ArrayRef =
                Arc::new(arrow_array::StringArray::from_iter_values(&texts[start..start + 500]));
            let rows = arrow_array::RecordBatch::try_new(Arc::new(schema.clone()), vec![ids, t]).unwrap();
            let values = vectors(start..start + 500, DIM);
            writer.write_flat(&rows, &[("embedding", &values)], &WriteOptions::default()).await.unwrap();
        }
        writer.commit().await.unwrap();
        table.delete(&Filter::cmp("id", Op::Lt, 40i64)).await.unwrap();
        tables.push(table.refresh().await.unwrap());
    }
    let params = SearchParams { projection: Some(vec!["id".into()]), ..Default::default() };
    let scored = |b: &arrow_array::RecordBatch| {
        let s = b.column_by_name(SCORE_COLUMN).unwrap().as_primitive::<Float32Type>();
        ids(b).into_iter().zip(s.values().iter().copied()).collect::<Vec<_>>()
    };
    let queries = ["disk usage", "network daemon", "\"command line\"", "python AND library"];
    let local_session = tables[1].search().await.unwrap();
    let mut want = Vec::new();
    for q in queries {
        want.push(scored(&local_session.text_search(q, 10, &params).await.unwrap()));
    }
    for (budget, pieces) in [(0, true), (1 << 30, true), (0, false)] {
        let session = SearchSession::with_cache(&tables[0], Arc::new(ShardCache::new(budget))).await.unwrap();
        let params = SearchParams { text_pieces: Some(pieces), ..params.clone() };
        for pass in 0..2 {
            let before = session.counters();
            for (q, want) in queries.iter().zip(&want) {
                assert_eq!(&scored(&session.text_search(q, 10, &params).await.unwrap()), want, "{q}");
            }
            let c = session.counters();
            assert_eq!((c.text_shards_scanned, c.text_indexes_corrupt), (0, 0), "{c:?}");
            let read = c.bytes_read - before.bytes_read;
            if budget == 0 || pass == 0 {
                assert!(read > 0, "pass {pass} with a cache of {budget} reads from S3");
            } else {
                assert_eq!(read, 0, "the second pass is answered from the cache");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rest_catalog_table_lives_on_s3() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let endpoint = moto.endpoint.as_str();
    let properties = [
        ("s3.endpoint", endpoint),
        ("s3.access-key-id", "test"),
        ("s3.secret-access-key", "test"),
        ("s3.region", "us-east-1"),
        ("s3.path-style-access", "true"),
    ];
    let server =
        ailk_testkit::rustberg::Rustberg::start_with(dir.path(), Some("s3://lake/rest"), &properties);
    let s3_options = [
        ("aws_endpoint", endpoint),
        ("aws_allow_http", "true"),
        ("aws_region", "us-east-1"),
        ("aws_access_key_id", "test"),
        ("aws_secret_access_key", "test"),
    ];
    let options = ConnectOptions {
        token: Some(Secret::new(&server.key)),
        s3_options: s3_options.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        ..Default::default()
    };
    let catalog = Catalog::connect(&server.url, options).await.unwrap();
    assert_eq!(catalog.warehouse().root(), "s3://lake/rest", "the server's warehouse");
    let specs = [VectorSpec::new("embedding", DIM, Metric::L2)];
    let table = catalog.create_table(&ident("t"), &attributes(), &specs).await.unwrap();
    assert!(
        table.metadata_location().starts_with("s3://lake/rest/docs/t/metadata/"),
        "{}",
        table.metadata_location()
    );
    let writer = table.writer(WritePolicy::default()).unwrap();
    writer.write(&batch(0..300), &WriteOptions::default()).await.unwrap();
    writer.write(&batch(300..600), &WriteOptions::default().deferred()).await.unwrap();
    writer.commit().await.unwrap();
    writer.wait_indexed().await.unwrap();
    table.delete(&Filter::cmp("id", Op::Lt, 100i64)).await.unwrap();
    table.compact(&CompactOptions { target_rows: 250, ..Default::default() }).await.unwrap();
    let table = table.refresh().await.unwrap();
    assert_eq!(live_ids(&table).await, (100..600).collect::<Vec<_>>());
    let session = table.search().await.unwrap();
    let hits = session.search(&vectors(450..451, DIM), 1, &SearchParams::default()).await.unwrap();
    assert_eq!(ids(&hits), vec![450]);

    // pyiceberg's RestCatalog reads the same rows from S3.
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/rest_table.py");
    let out = Command::new(python())
        .arg(script)
        .args([&server.url, &server.key, "docs.t", "read"])
        .env("AILAKE_TEST_S3_ENDPOINT", endpoint)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pyiceberg via REST on S3 failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let read: Vec<i64> = json["ids"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect();
    assert_eq!(read, (100..600).collect::<Vec<_>>());
}
