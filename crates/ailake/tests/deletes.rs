//! Row deletes (Iceberg v2 position deletes): what search, counts, time travel and pyiceberg
//! see after them; whole-file removal; bad filters; deletes racing deferred index builds,
//! appends and each other on one table; a replace of a file carrying its deletes.

mod support;

use std::collections::BTreeSet;

use ailake::catalog::{data_file_from_store, SnapshotUpdate};
use ailake::format::object_store::ObjectStoreExt;
use ailake::prelude::*;
use ailake::Op;
use support::*;

/// `lo <= id < hi`.
fn id_range(lo: i64, hi: i64) -> Filter {
    Filter::cmp("id", Op::Ge, lo).and(Filter::cmp("id", Op::Lt, hi))
}

/// Searches for the vectors of rows `queries` and checks that no result is in `gone`, that
/// `k` rows come back, and that recall against exact search over `live` is at least 0.95.
async fn check_search(table: &Table, live: &BTreeSet<usize>, gone: &BTreeSet<usize>, queries: &[usize]) {
    let session = table.refresh().await.unwrap().search().await.unwrap();
    assert_eq!(session.row_count() as usize, live.len());
    let all = vectors(0..live.iter().chain(gone).max().unwrap() + 1, DIM);
    let row = |i: usize| &all[i * DIM as usize..(i + 1) * DIM as usize];
    let params = SearchParams { ef: Some(64), ..Default::default() };
    let (mut hits, mut total) = (0, 0);
    for &q in queries {
        let got = ids(&session.search(row(q), 10, &params).await.unwrap());
        assert_eq!(got.len(), 10);
        assert!(
            got.iter().all(|g| !gone.contains(&(*g as usize))),
            "query {q}: a deleted row came back: {got:?}"
        );
        let mut scored: Vec<(f32, usize)> = live
            .iter()
            .map(|&i| (row(i).iter().zip(row(q)).map(|(a, b)| (a - b) * (a - b)).sum::<f32>(), i))
            .collect();
        scored.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        hits += scored.iter().take(10).filter(|(_, i)| got.contains(&(*i as i64))).count();
        total += 10;
    }
    assert!(hits as f64 >= 0.95 * total as f64, "recall {hits}/{total}");
}

fn as_i64(set: &BTreeSet<usize>) -> Vec<i64> {
    set.iter().map(|&i| i as i64).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletes_hide_rows_from_search_counts_and_pyiceberg_and_time_travel_sees_them() {
    let dir = tempfile::tempdir().unwrap();
    let table = table(dir.path(), "t").await;
    let writer = table.writer(WritePolicy::default()).unwrap();
    writer.write(&batch(0..300), &WriteOptions::default()).await.unwrap();
    writer.write(&batch(300..600), &WriteOptions::default().deferred()).await.unwrap();
    writer.write(&batch(600..900), &WriteOptions::default().index(IndexChoice::IvfPq(None))).await.unwrap();
    writer.commit().await.unwrap();
    writer.wait_indexed().await.unwrap();
    let before = table.refresh().await.unwrap().snapshot_id().unwrap();

    // Rows of two files: one position delete file each.
    let filter = Filter::cmp("id", Op::Lt, 50i64).or(id_range(300, 320)).or(Filter::eq("id", 899i64));
    let out = table.delete(&filter).await.unwrap();
    assert_eq!((out.rows_deleted, out.files_removed, out.delete_files), (71, 0, 3));
    let gone: BTreeSet<usize> = (0..50).chain(300..320).chain([899]).collect();
    let live: BTreeSet<usize> = (0..900).filter(|i| !gone.contains(i)).collect();
    let table = table.refresh().await.unwrap();
    assert_eq!(table.snapshot_id(), out.snapshot_id);
    assert_eq!(live_ids(&table).await, as_i64(&live));
    assert_eq!(pyiceberg_ids(dir.path(), "t"), as_i64(&live));
    let summary = &table.metadata().current_snapshot().unwrap().summary().additional_properties;
    assert_eq!(summary["total-position-deletes"], "71");
    assert_eq!(summary["total-delete-files"], "3");
    check_search(&table, &live, &gone, &[0, 10, 49, 305, 500, 899, 700]).await;

    // Time travel still sees the deleted rows, here and in pyiceberg.
    let all: Vec<i64> = (0..900).collect();
    let old = table.at_snapshot(before).unwrap().search().await.unwrap();
    assert_eq!((old.row_count(), old.deleted_row_count()), (900, 0));
    let every = SearchParams { filter: Some(Filter::cmp("id", Op::Ge, 0i64)), ..Default::default() };
    let mut got = ids(&old.search(&vectors(0..1, DIM), 1000, &every).await.unwrap());
    got.sort_unstable();
    assert_eq!(got, all);
    assert_eq!(pyiceberg_ids_at(dir.path(), "t", Some(before)), all);

    // The same filter again matches no live row: nothing is committed.
    let again = table.delete(&filter).await.unwrap();
    assert_eq!((again.snapshot_id, again.rows_deleted), (None, 0));
    assert_eq!(table.refresh().await.unwrap().snapshot_id(), out.snapshot_id);

    // Every remaining row of the first file: the file goes whole, with its delete file.
    let whole = table.delete(&Filter::cmp("id", Op::Lt, 300i64)).await.unwrap();
    assert_eq!((whole.rows_deleted, whole.files_removed, whole.delete_files), (250, 1, 0));
    let table = table.refresh().await.unwrap();
    assert_eq!(table.live_files().await.unwrap().len(), 2);
    assert_eq!(table.live_delete_files().await.unwrap().len(), 2);
    let live: BTreeSet<usize> = live.into_iter().filter(|&i| i >= 300).collect();
    let gone: BTreeSet<usize> = (0..900).filter(|i| !live.contains(i)).collect();
    assert_eq!(live_ids(&table).await, as_i64(&live));
    assert_eq!(pyiceberg_ids(dir.path(), "t"), as_i64(&live));
    check_search(&table, &live, &gone, &[5, 301, 450, 898]).await;

    // A filtered search over deleted rows: only live matches, min(k, matching) of them.
    let session = table.search().await.unwrap();
    let params = SearchParams { filter: Some(id_range(310, 330)), ..Default::default() };
    let got = ids(&session.search(&vectors(315..316, DIM), 50, &params).await.unwrap());
    assert_eq!(got.iter().copied().collect::<BTreeSet<_>>(), (320..330).collect());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_deletes_are_invalid_input_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let table = table(dir.path(), "t").await;
    let err = table.delete(&Filter::eq("id", 1i64)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    let writer = table.writer(WritePolicy::default()).unwrap();
    writer.write(&batch(0..100), &WriteOptions::default()).await.unwrap();
    writer.commit().await.unwrap();
    let files_before = std::fs::read_dir(dir.path().join("warehouse/docs/t/data")).unwrap().count();
    let snapshot = table.refresh().await.unwrap().snapshot_id();
    for bad in [
        Filter::eq("nope", 1i64),
        Filter::eq("id", "not a number"),
        Filter::eq("embedding", 1i64),
        Filter::eq("id", 1i64).or(Filter::cmp("missing", Op::Gt, 2.5)),
    ] {
        let err = table.delete(&bad).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad:?}: {err}");
        let session = table.refresh().await.unwrap().search().await.unwrap();
        let params = SearchParams { filter: Some(bad.clone()), ..Default::default() };
        let err = session.search(&vectors(0..1, DIM), 5, &params).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "search {bad:?}: {err}");
    }
    assert_eq!(table.refresh().await.unwrap().snapshot_id(), snapshot);
    assert_eq!(std::fs::read_dir(dir.path().join("warehouse/docs/t/data")).unwrap().count(), files_before);
}

/// A replace that keeps row positions (a re-sectioned copy of a file, as deferred builds
/// and `resume_indexing` commit) carries the old file's position deletes to the new one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_same_position_replace_carries_the_files_deletes() {
    let dir = tempfile::tempdir().unwrap();
    let table = table(dir.path(), "t").await;
    let writer = table.writer(WritePolicy::default()).unwrap();
    writer.write(&batch(0..200), &WriteOptions::default()).await.unwrap();
    writer.write(&batch(200..400), &WriteOptions::default()).await.unwrap();
    writer.commit().await.unwrap();
    table.delete(&id_range(10, 20)).await.unwrap();
    table.delete(&Filter::eq("id", 150i64)).await.unwrap();
    let table = table.refresh().await.unwrap();
    let old =
        table.live_files().await.unwrap().iter().find(|f| f.data_file.record_count() == 200).unwrap().clone();
    let old = if table.deleted_rows().await.unwrap().deleted(old.path()).is_empty() {
        table.live_files().await.unwrap().iter().find(|f| f.path() != old.path()).unwrap().clone()
    } else {
        old
    };
    assert_eq!(table.deleted_rows().await.unwrap().deleted(old.path()).len(), 11);

    // A byte-for-byte copy of the file: same rows at the same positions.
    let wh = table.warehouse();
    let bytes = wh.store().get(&wh.path_of(old.path()).unwrap()).await.unwrap().bytes().await.unwrap();
    let new_uri = format!("{}/data/copy.parquet", table.location());
    wh.store().put(&wh.path_of(&new_uri).unwrap(), bytes.into()).await.unwrap();
    let new = data_file_from_store(wh, &new_uri, table.schema()).await.unwrap();
    table.commit(SnapshotUpdate::replace(old.path(), new)).await.unwrap();

    let table = table.refresh().await.unwrap();
    let deletes = table.deleted_rows().await.unwrap();
    assert_eq!(deletes.deleted(&new_uri).len(), 11, "the deletes moved to the new file");
    assert!(deletes.deleted(old.path()).is_empty());
    assert_eq!(table.live_delete_files().await.unwrap().len(), 1, "the old file's delete files went with it");
    let live: BTreeSet<usize> = (0..400).filter(|&i| !(10..20).contains(&i) && i != 150).collect();
    assert_eq!(live_ids(&table).await, as_i64(&live));
    assert_eq!(pyiceberg_ids(dir.path(), "t"), as_i64(&live));
}

/// Deletes race deferred writes (whose background builds commit replaces of the very files
/// being deleted from), plain appends and other deletes on one table: every delete lands
/// exactly once on the right rows, whatever order the commits take.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletes_racing_deferred_builds_appends_and_deletes_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let table = table(dir.path(), "t").await;
    let writer = table.writer(WritePolicy::default()).unwrap();
    const FILE: usize = 1500;
    const FILES: usize = 6;
    // The first two files exist before the race.
    for f in 0..2 {
        writer.write(&batch(f * FILE..(f + 1) * FILE), &WriteOptions::default().deferred()).await.unwrap();
    }
    writer.commit().await.unwrap();

    let appends = {
        let writer = writer.clone();
        tokio::spawn(async move {
            for f in 2..FILES {
                let opts =
                    if f % 2 == 0 { WriteOptions::default().deferred() } else { WriteOptions::default() };
                writer.write(&batch(f * FILE..(f + 1) * FILE), &opts).await.unwrap();
                writer.commit().await.unwrap();
            }
        })
    };
    // Two deleters: every 7th row of the first two files, and ranges of later files once
    // they are there (a delete matching nothing yet commits nothing).
    let sevens = {
        let table = table.clone();
        tokio::spawn(async move {
            for start in (0..2 * FILE as i64).step_by(500) {
                let f = Filter::cmp("id", Op::Ge, start).and(Filter::cmp("id", Op::Lt, start + 500));
                let rows: Vec<i64> = (start..start + 500).filter(|i| i % 7 == 0).collect();
                for chunk in rows.chunks(25) {
                    let mut filter = Filter::eq("id", chunk[0]);
                    for &r in &chunk[1..] {
                        filter = filter.or(Filter::eq("id", r));
                    }
                    table.delete(&filter.and(f.clone())).await.unwrap();
                }
            }
        })
    };
    let ranges = {
        let table = table.clone();
        tokio::spawn(async move {
            let mut deleted = Vec::new();
            for round in 0..6 {
                let lo = (2 * FILE + round * 700) as i64;
                let out = table.delete(&id_range(lo, lo + 40)).await.unwrap();
                if out.rows_deleted > 0 {
                    deleted.push((lo, out.rows_deleted));
                }
                tokio::time::sleep(std::time::Duration::from_millis(30)).await;
            }
            deleted
        })
    };
    appends.await.unwrap();
    sevens.await.unwrap();
    let ranges = ranges.await.unwrap();
    writer.wait_indexed().await.unwrap();

    let mut gone: BTreeSet<usize> = (0..2 * FILE).filter(|i| i % 7 == 0).collect();
    for (lo, n) in &ranges {
        assert_eq!(*n, 40, "a range delete removes whole ranges of one file");
        gone.extend(*lo as usize..*lo as usize + 40);
    }
    let live: BTreeSet<usize> = (0..FILES * FILE).filter(|i| !gone.contains(i)).collect();
    let table = table.refresh().await.unwrap();
    assert_eq!(live_ids(&table).await, as_i64(&live));
    assert_eq!(pyiceberg_ids(dir.path(), "t"), as_i64(&live));
    check_search(&table, &live, &gone, &[0, 7, 700, 1400, 2100, 3001, 5000, 8999]).await;
}

/// A position delete file as Spark writes them: one file covering rows of two data files, no
/// `referenced_data_file`, no bounds. Search, counts and pyiceberg honour it; a same-position
/// replace of one of the files carries its rows of that file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_file_position_deletes_of_other_engines_are_honoured() {
    use ailake::catalog::iceberg::spec::{DataContentType, DataFileBuilder, DataFileFormat, Datum};
    use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
    use arrow_schema::{DataType, Field, Schema};
    use std::collections::HashMap;
    use std::sync::Arc;

    let dir = tempfile::tempdir().unwrap();
    let table = table(dir.path(), "t").await;
    let writer = table.writer(WritePolicy::default()).unwrap();
    writer.write(&batch(0..300), &WriteOptions::default()).await.unwrap();
    writer.write(&batch(300..600), &WriteOptions::default()).await.unwrap();
    writer.commit().await.unwrap();
    let table = table.refresh().await.unwrap();
    // a holds ids 0..300, b ids 300..600 (told apart by the id column's upper bound).
    let id_field = table.schema().field_by_name("id").unwrap().id;
    let holding = |last: i64| {
        let files = table.live_files();
        async move {
            let files = files.await.unwrap();
            let f =
                files.iter().find(|f| f.data_file.upper_bounds().get(&id_field) == Some(&Datum::long(last)));
            f.unwrap().path().to_string()
        }
    };
    let (a, b) = (holding(299).await, holding(599).await);

    let mut rows: Vec<(String, i64)> = [1, 2, 3].iter().map(|&p| (a.clone(), p)).collect();
    rows.extend([10, 20].iter().map(|&p| (b.clone(), p)));
    rows.sort();
    let id = |f: Field, id: i32| {
        f.with_metadata(HashMap::from([("PARQUET:field_id".to_string(), id.to_string())]))
    };
    let schema = Arc::new(Schema::new(vec![
        id(Field::new("file_path", DataType::Utf8, false), 2147483546),
        id(Field::new("pos", DataType::Int64, false), 2147483545),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.0.as_str()))),
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.1))),
    ];
    let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
    let (bytes, _) = ailake::format::write_shard_bytes(schema, &[batch], None, None).unwrap();
    let uri = format!("{}/data/spark-deletes.parquet", table.location());
    let wh = table.warehouse();
    let size = bytes.len() as u64;
    wh.store().put(&wh.path_of(&uri).unwrap(), bytes.into()).await.unwrap();
    let file = DataFileBuilder::default()
        .content(DataContentType::PositionDeletes)
        .file_path(uri)
        .file_format(DataFileFormat::Parquet)
        .record_count(5)
        .file_size_in_bytes(size)
        .build()
        .unwrap();
    table.commit(SnapshotUpdate { added_deletes: vec![file], ..Default::default() }).await.unwrap();

    let gone: BTreeSet<usize> = [1, 2, 3, 310, 320].into_iter().collect();
    let live: BTreeSet<usize> = (0..600).filter(|i| !gone.contains(i)).collect();
    let table = table.refresh().await.unwrap();
    assert_eq!(live_ids(&table).await, as_i64(&live));
    assert_eq!(pyiceberg_ids(dir.path(), "t"), as_i64(&live));
    check_search(&table, &live, &gone, &[1, 2, 310, 320, 450]).await;

    // Replace file a by a byte copy: its three deleted rows stay deleted, b's two too.
    let bytes = wh.store().get(&wh.path_of(&a).unwrap()).await.unwrap().bytes().await.unwrap();
    let copy = format!("{}/data/copy-of-a.parquet", table.location());
    wh.store().put(&wh.path_of(&copy).unwrap(), bytes.into()).await.unwrap();
    let new = data_file_from_store(wh, &copy, table.schema()).await.unwrap();
    table.commit(SnapshotUpdate::replace(a.as_str(), new)).await.unwrap();
    let table = table.refresh().await.unwrap();
    assert_eq!(table.deleted_rows().await.unwrap().deleted(&copy), &[1, 2, 3]);
    assert_eq!(live_ids(&table).await, as_i64(&live));
    assert_eq!(pyiceberg_ids(dir.path(), "t"), as_i64(&live));
}
