//! ailake through an Iceberg REST catalog: a real server (rustberg 0.3, started by each test
//! on a loopback port, see `rest_support`), through the public API — the whole life of a
//! table, pyiceberg's own `RestCatalog` reading and appending to the same table, two writers
//! at once, and a fault-injecting proxy for failed commits, bad credentials, OAuth2 token
//! refresh, malformed answers and 5xx storms.

mod rest_support;
mod support;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use ailake::catalog::{ConnectOptions, RestCatalog, RestOptions, Secret};
use ailake::prelude::*;
use rest_support::proxy::{Action, Proxy};
use rest_support::Rustberg;
use support::*;

/// The catalog at `url` with `token`, its tables' files in the server's warehouse.
async fn connect(url: &str, token: &str) -> Catalog {
    let options = ConnectOptions { token: Some(Secret::new(token)), ..Default::default() };
    Catalog::connect(url, options).await.unwrap()
}

/// A REST catalog with explicit options (timeouts, retries), files in `server`'s warehouse.
async fn connect_with(server: &Rustberg, options: RestOptions) -> ailake::AilakeResult<Catalog> {
    let rest = RestCatalog::connect(options).await?;
    Ok(Catalog::new(Arc::new(rest), Warehouse::local(&server.warehouse)?))
}

fn spec() -> VectorSpec {
    VectorSpec::new("embedding", DIM, Metric::L2)
}

/// Writes rows `ids` as one file and commits it with `batch_id`; the snapshot.
async fn append(table: &Table, ids: std::ops::Range<usize>, batch_id: &str) -> i64 {
    let writer = table.writer(WritePolicy::default()).unwrap();
    let opts = WriteOptions { batch_id: Some(batch_id.to_string()), ..Default::default() };
    writer.write(&batch(ids), &opts).await.unwrap();
    writer.commit().await.unwrap()
}

/// `rest_table.py COMMAND [ARG]` (pyiceberg's RestCatalog) on `docs.<name>`, not started.
fn pyiceberg_command(
    server: &Rustberg,
    name: &str,
    command: &str,
    arg: Option<&Path>,
) -> std::process::Command {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/rest_table.py");
    let mut c = std::process::Command::new(python());
    c.arg(script).args([&server.url, &server.key, &format!("docs.{name}"), command]).args(arg);
    c
}

/// Runs `rest_table.py` on `docs.<name>`; its JSON answer.
fn pyiceberg(server: &Rustberg, name: &str, command: &str, arg: Option<&Path>) -> serde_json::Value {
    let out = pyiceberg_command(server, name, command, arg).output().unwrap();
    assert!(out.status.success(), "pyiceberg failed:\n{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null)
}

/// Rows `ids` (with their vectors) as the JSON file `rest_table.py append` reads.
fn rows_file(dir: &Path, name: &str, ids: std::ops::Range<usize>) -> std::path::PathBuf {
    let values = vectors(ids.clone(), DIM);
    let rows: Vec<serde_json::Value> = ids
        .zip(values.chunks_exact(DIM as usize))
        .map(|(i, v)| serde_json::json!({"id": i, "text": format!("doc {i}"), "embedding": v}))
        .collect();
    let file = dir.join(format!("{name}-rows.json"));
    std::fs::write(&file, serde_json::to_vec(&rows).unwrap()).unwrap();
    file
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_lives_its_whole_life_through_a_rest_catalog() {
    let dir = tempfile::tempdir().unwrap();
    let server = Rustberg::start(dir.path());
    let catalog = connect(&server.url, &server.key).await;
    let table = catalog.create_table(&ident("life"), &attributes(), &[spec()]).await.unwrap();
    assert!(table.metadata_location().starts_with(&format!("file://{}", server.warehouse.display())));
    let first = append(&table, 0..300, "b0").await;
    append(&table, 300..600, "b1").await;
    // The same batch again (a retried job) is a no-op.
    append(&table, 300..600, "b1").await;
    let deferred = table.writer(WritePolicy::default()).unwrap();
    let opts = WriteOptions::default().deferred();
    deferred.write(&batch(600..900), &opts).await.unwrap();
    deferred.commit().await.unwrap();
    deferred.wait_indexed().await.unwrap();
    assert_eq!(live_ids(&table).await, (0..900).map(|i| i as i64).collect::<Vec<_>>());
    assert!(recall(&table, 0..900, 0..20, 10).await >= 0.95);

    table.delete(&Filter::cmp("id", ailake::Op::Lt, 50i64)).await.unwrap();
    let compacted = table.compact(&CompactOptions { target_rows: 400, ..Default::default() }).await.unwrap();
    assert!(compacted.files_removed >= 3, "{compacted:?}");
    let table = table.refresh().await.unwrap();
    assert_eq!(live_ids(&table).await, (50..900).map(|i| i as i64).collect::<Vec<_>>());
    // Time travel to the first snapshot, then expire the history before the current one.
    let old = table.at_snapshot(first).unwrap().search().await.unwrap();
    assert_eq!(old.row_count(), 300);
    let expired = table.expire_snapshots(Duration::ZERO, 1).await.unwrap();
    assert!(!expired.is_empty());
    let table = table.refresh().await.unwrap();
    assert!(table.at_snapshot(first).is_err(), "expired");
    assert_eq!(table.metadata().snapshots().count(), 1);

    // pyiceberg's own REST client reads the same rows, then appends its own.
    let read = pyiceberg(&server, "life", "read", None);
    let read_ids: Vec<i64> = read["ids"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect();
    assert_eq!(read_ids, (50..900).map(|i| i as i64).collect::<Vec<_>>());
    let values = vectors(900..910, DIM);
    let file = rows_file(dir.path(), "life", 900..910);
    pyiceberg(&server, "life", "append", Some(&file));
    let table = table.refresh().await.unwrap();
    let session = table.search().await.unwrap();
    let hits = session
        .search(&values[5 * DIM as usize..6 * DIM as usize], 1, &SearchParams::default())
        .await
        .unwrap();
    assert_eq!(ids(&hits), vec![905], "pyiceberg's rows are searched (exact scan of its file)");
    // And our writes continue on top of its snapshot.
    append(&table, 1000..1100, "b2").await;
    assert_eq!(live_ids(&table).await.len(), 850 + 10 + 100);

    assert_eq!(catalog.list_tables("docs").await.unwrap(), vec![ident("life")]);
    catalog.drop_table(&ident("life")).await.unwrap();
    let gone = catalog.load_table(&ident("life")).await.unwrap_err();
    assert_eq!(AilakeError::from(gone).kind(), ErrorKind::NotFound);
}

/// pyiceberg appending rows `ids` through the REST server, in a child process.
fn pyiceberg_appender(
    server: &Rustberg,
    dir: &Path,
    name: &str,
    ids: std::ops::Range<usize>,
) -> std::process::Child {
    let file = rows_file(dir, name, ids);
    pyiceberg_command(server, name, "append", Some(&file)).spawn().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_writers_and_pyiceberg_through_one_server_land_every_batch_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = Rustberg::start(dir.path());
    let catalog = connect(&server.url, &server.key).await;
    let table = catalog.create_table(&ident("race"), &attributes(), &[spec()]).await.unwrap();
    // pyiceberg commits 5 appends of 10 rows through the same server meanwhile.
    let mut theirs = pyiceberg_appender(&server, dir.path(), "race", 1000..1050);
    let writers = (0..2).map(|w| {
        let table = table.clone();
        tokio::spawn(async move {
            for b in 0..4 {
                let start = (w * 4 + b) * 50;
                // Each batch twice: the second is a no-op wherever it lands.
                for _ in 0..2 {
                    append(&table, start..start + 50, &format!("w{w}-b{b}")).await;
                }
            }
        })
    });
    for w in writers.collect::<Vec<_>>() {
        w.await.unwrap();
    }
    assert!(theirs.wait().unwrap().success(), "pyiceberg's appends");
    let expected: Vec<i64> = (0..400).chain(1000..1050).collect();
    assert_eq!(live_ids(&table).await, expected);
    let snapshots = table.refresh().await.unwrap().metadata().snapshots().count();
    assert_eq!(snapshots, 8 + 5, "one snapshot per batch, none twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_that_fails_anywhere_lands_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = Rustberg::start(dir.path());
    let proxy = Proxy::start(&server.url).await;
    let mut options = RestOptions::new(&proxy.url);
    options.token = Some(Secret::new(&server.key));
    options.timeout = Duration::from_secs(2);
    let catalog = connect_with(&server, options).await.unwrap();
    let table = catalog.create_table(&ident("faults"), &attributes(), &[spec()]).await.unwrap();
    let commit_path = "/namespaces/docs/tables/faults";
    let faults = [
        Action::Fail(502),
        Action::Fail(500),
        Action::ForwardThenFail(500),
        Action::Fail(409),
        Action::ForwardThenFail(503),
        Action::Stall,
        Action::Fail(429),
    ];
    for (round, fault) in faults.into_iter().enumerate() {
        // Only the first request of the round fails (round 0: a read of the table while
        // appending; then the commit itself); the retry goes through.
        let mut fired = false;
        let method_hit = if round == 0 { "GET" } else { "POST" };
        proxy.set_rule(move |method, path, _| {
            if method == method_hit && path.ends_with(commit_path) && !fired {
                fired = true;
                return fault;
            }
            Action::Forward
        });
        let start = round * 100;
        append(&table, start..start + 100, &format!("round-{round}")).await;
        let expected: Vec<i64> = (0..start as i64 + 100).collect();
        assert_eq!(live_ids(&table).await, expected, "after {fault:?}");
    }
    let snapshots = table.refresh().await.unwrap().metadata().snapshots().count();
    assert_eq!(snapshots, faults.len(), "one snapshot per round, none twice");
    // A refusal before the server acted is sent again; a commit that landed although its
    // answer failed is found by re-reading the table, never sent twice.
    let sent: Vec<usize> = faults
        .iter()
        .enumerate()
        .map(|(round, f)| if round == 0 || matches!(f, Action::ForwardThenFail(_)) { 1 } else { 2 })
        .collect();
    assert_eq!(proxy.count("POST", commit_path), sent.iter().sum::<usize>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_credentials_addresses_and_answers_are_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let server = Rustberg::start(dir.path());
    let kind = |e: ailake::AilakeError| (e.kind(), e.is_retryable(), e.to_string());

    // A wrong token: refused at connect, the server's message kept, the token nowhere.
    let mut options = RestOptions::new(&server.url);
    options.token = Some(Secret::new("rb_not-a-real-key-1234"));
    assert!(!format!("{options:?}").contains("rb_not-a-real"), "{options:?}");
    let (k, retry, message) = kind(connect_with(&server, options).await.unwrap_err());
    assert_eq!((k, retry), (ErrorKind::Unauthorized, false), "{message}");
    assert!(message.contains("401") && !message.contains("rb_not-a-real"), "{message}");

    // Nobody listening: I/O, retryable.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut options = RestOptions::new(format!("http://127.0.0.1:{closed}"));
    options.retries = 1;
    let (k, retry, message) = kind(connect_with(&server, options).await.unwrap_err());
    assert_eq!((k, retry), (ErrorKind::Io, true), "{message}");

    // Not a catalog URL at all.
    let bad = Catalog::connect("ftp://example", ConnectOptions::default()).await.unwrap_err();
    assert_eq!(AilakeError::from(bad).kind(), ErrorKind::InvalidInput);

    // Unknown table and namespace.
    let catalog = connect(&server.url, &server.key).await;
    let missing = catalog.load_table(&ident("nothing")).await.unwrap_err();
    assert_eq!(AilakeError::from(missing).kind(), ErrorKind::NotFound);
    let missing = catalog.list_tables("nowhere").await.unwrap_err();
    assert_eq!(AilakeError::from(missing).kind(), ErrorKind::NotFound);

    // A warehouse location that is not the server's.
    let elsewhere = dir.path().join("elsewhere");
    let options = ConnectOptions {
        token: Some(Secret::new(&server.key)),
        warehouse: Some(elsewhere.display().to_string()),
        ..Default::default()
    };
    let (k, _, message) = kind(Catalog::connect(&server.url, options).await.unwrap_err().into());
    assert_eq!(k, ErrorKind::InvalidInput, "{message}");
    assert!(message.contains("rest-warehouse"), "names the server's warehouse: {message}");

    // Through the proxy: a cut-off answer, then a storm of 503s (bounded retries).
    let table = catalog.create_table(&ident("answers"), &attributes(), &[spec()]).await.unwrap();
    append(&table, 0..10, "a").await;
    let proxy = Proxy::start(&server.url).await;
    let mut options = RestOptions::new(&proxy.url);
    options.token = Some(Secret::new(&server.key));
    options.retries = 3;
    let through = connect_with(&server, options).await.unwrap();
    proxy.set_rule(|method, path, _| match (method, path.ends_with("/tables/answers")) {
        ("GET", true) => Action::Truncated,
        _ => Action::Forward,
    });
    let (k, retry, message) = kind(through.load_table(&ident("answers")).await.unwrap_err().into());
    assert_eq!((k, retry), (ErrorKind::Io, true), "{message}");
    assert!(message.contains("malformed"), "{message}");
    proxy.set_rule(|_, _, _| Action::Fail(503));
    let before = proxy.count("GET", "/tables/answers");
    let (k, retry, message) = kind(through.load_table(&ident("answers")).await.unwrap_err().into());
    assert_eq!((k, retry), (ErrorKind::Io, true), "{message}");
    assert_eq!(proxy.count("GET", "/tables/answers") - before, 4, "the first try and 3 retries");
    // The table is untouched by all of it.
    proxy.set_rule(|_, _, _| Action::Forward);
    assert_eq!(
        live_ids(&through.load_table(&ident("answers")).await.unwrap()).await,
        (0..10).collect::<Vec<_>>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth2_client_credentials_are_refreshed_once_when_a_token_expires_mid_commit() {
    let dir = tempfile::tempdir().unwrap();
    let server = Rustberg::start(dir.path());
    let proxy = Proxy::start(&server.url).await;
    proxy.issue_tokens("ailake", "s3cret", &server.key);

    let mut wrong = RestOptions::new(&proxy.url);
    wrong.credential = Some(Secret::new("ailake:nope"));
    let err = connect_with(&server, wrong).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized, "{err}");
    assert!(!err.to_string().contains("nope"), "{err}");

    let mut options = RestOptions::new(&proxy.url);
    options.credential = Some(Secret::new("ailake:s3cret"));
    assert!(!format!("{options:?}").contains("s3cret"));
    let catalog = connect_with(&server, options).await.unwrap();
    let table = catalog.create_table(&ident("oauth"), &attributes(), &[spec()]).await.unwrap();
    append(&table, 0..100, "first").await;
    assert_eq!(proxy.tokens_issued(), 1, "one token serves every request while valid");

    // The token lapses between the write and its commit: refreshed once, committed once.
    let writer = table.writer(WritePolicy::default()).unwrap();
    let opts = WriteOptions { batch_id: Some("second".into()), ..Default::default() };
    writer.write(&batch(100..200), &opts).await.unwrap();
    proxy.revoke_tokens();
    writer.commit().await.unwrap();
    assert_eq!(proxy.tokens_issued(), 2);
    assert_eq!(live_ids(&table).await, (0..200).collect::<Vec<_>>());
}
