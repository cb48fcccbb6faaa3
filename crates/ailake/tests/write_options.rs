//! The one write path: `TableWriter::write` (vectors in the batch) and `write_flat`, with
//! every combination of index, deferred building and batch id; the table handle; the error
//! model (one `AilakeError` with a kind, whatever layer raised it).

mod support;

use ailake::catalog::{IndexKind, IndexStatus};
use ailake::prelude::*;
use support::*;

const K: usize = 10;

/// Index kinds and statuses of the current snapshot's shards, sorted.
async fn shard_kinds(table: &Table) -> Vec<(IndexKind, IndexStatus)> {
    let t = table.refresh().await.unwrap();
    let mut kinds: Vec<_> =
        t.shard_summaries().await.unwrap().unwrap().iter().map(|s| (s.index, s.status)).collect();
    kinds.sort_by_key(|(k, s)| (*k as u8, *s as u8));
    kinds
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_combination_of_index_deferral_and_batch_id_writes_and_searches() {
    let dir = tempfile::tempdir().unwrap();
    let table = table(dir.path(), "combos").await;
    let writer = table.writer(WritePolicy::default()).unwrap();
    let choices = [IndexChoice::Hnsw, IndexChoice::IvfPq(None), IndexChoice::Auto, IndexChoice::Flat];
    let mut first = 0;
    for index in &choices {
        for deferred in [false, true] {
            for tagged in [false, true] {
                let batch_id = tagged.then(|| format!("b{first}"));
                let opts = WriteOptions { index: index.clone(), deferred, batch_id };
                let file = writer.write(&batch(first..first + 600), &opts).await.unwrap().unwrap();
                assert_eq!(file.rows, 600);
                assert_eq!(file.indexed, !deferred || matches!(index, IndexChoice::Flat), "{opts:?}");
                first += 600;
            }
        }
    }
    writer.commit().await.unwrap();
    writer.wait_indexed().await.unwrap();
    let kinds = shard_kinds(&table).await;
    assert_eq!(kinds.len(), 16);
    assert!(kinds.iter().all(|(_, s)| *s == IndexStatus::Ready), "{kinds:?}");
    let count = |k: IndexKind| kinds.iter().filter(|(x, _)| *x == k).count();
    // Auto picks HNSW for 600 rows; None keeps raw vectors only.
    assert_eq!((count(IndexKind::Hnsw), count(IndexKind::IvfPq), count(IndexKind::Flat)), (8, 4, 4));
    assert_eq!(live_ids(&table).await, (0..first as i64).collect::<Vec<_>>());
    let r = recall(&table, 0..first, 0..40, K).await;
    assert!(r >= 0.9, "recall@{K} = {r}");
    // Every batch id is in the lineage: retrying any write is a no-op.
    for b in (0..first).step_by(1200).map(|f| f + 600) {
        let opts = WriteOptions::default().batch_id(format!("b{b}")).deferred();
        assert!(writer.write(&batch(b..b + 600), &opts).await.unwrap().is_none(), "b{b}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_vector_deferred_idempotent_and_flat_slices() {
    let dir = tempfile::tempdir().unwrap();
    let table = table_with(dir.path(), "multi", &["body", "title"]).await;
    let writer = table.writer(WritePolicy::default()).unwrap();
    let opts = WriteOptions::default().index(IndexChoice::IvfPq(None)).deferred().batch_id("m-1");
    let file = writer.write(&batch_with(0..800, &["body", "title"]), &opts).await.unwrap().unwrap();
    assert!(!file.indexed);
    // The same rows again as flat slices, another batch id, HNSW.
    let values = vectors(800..1600, DIM);
    let flat = [("body", values.as_slice()), ("title", values.as_slice())];
    let opts = WriteOptions::default().deferred().batch_id("m-2");
    writer.write_flat(&rows(800..1600), &flat, &opts).await.unwrap().unwrap();
    assert!(writer.write_flat(&rows(800..1600), &flat, &opts).await.unwrap().is_none(), "staged id");
    writer.commit().await.unwrap();
    writer.wait_indexed().await.unwrap();
    assert_eq!(
        shard_kinds(&table).await,
        vec![(IndexKind::Hnsw, IndexStatus::Ready), (IndexKind::IvfPq, IndexStatus::Ready)]
    );
    assert_eq!(live_ids(&table).await, (0..1600).collect::<Vec<_>>());
    let session = table.refresh().await.unwrap().search().await.unwrap();
    let q = &vectors(5..6, DIM);
    for column in ["body", "title"] {
        let params = SearchParams { column: Some(column.into()), ..Default::default() };
        let got = ids(&session.search(q, K, &params).await.unwrap());
        assert_eq!(got[0], 5, "{column}");
    }
    assert_eq!(session.counters().shards_flat_scanned, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_writes_are_typed_invalid_input_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let table = table(dir.path(), "bad").await;
    let writer = table.writer(WritePolicy::default()).unwrap();
    let opts = WriteOptions::default();
    let wrong_dim = {
        let base = rows(0..10);
        let column = vector_array(&[0.5; 80], 8);
        let mut fields: Vec<arrow_schema::Field> =
            base.schema().fields().iter().map(|f| f.as_ref().clone()).collect();
        fields.push(arrow_schema::Field::new("embedding", column.data_type().clone(), false));
        let mut columns = base.columns().to_vec();
        columns.push(column);
        arrow_array::RecordBatch::try_new(std::sync::Arc::new(arrow_schema::Schema::new(fields)), columns)
            .unwrap()
    };
    let short = {
        let values = vectors(0..10, DIM)[..(DIM as usize) * 10 - 1].to_vec();
        writer.write_flat(&rows(0..10), &[("embedding", &values)], &opts).await
    };
    let mut nan = vectors(0..10, DIM);
    nan[3 * DIM as usize + 1] = f32::NAN;
    let errors: Vec<AilakeError> = vec![
        writer.write(&rows(0..10), &opts).await.unwrap_err().into(),
        short.unwrap_err().into(),
        writer.write_flat(&rows(0..10), &[("embedding", &nan)], &opts).await.unwrap_err().into(),
        writer.write_flat(&rows(0..10), &[("other", &nan)], &opts).await.unwrap_err().into(),
        writer.write(&wrong_dim, &opts).await.unwrap_err().into(),
        writer.write(&batch(0..10), &WriteOptions::default().batch_id("a,b")).await.unwrap_err().into(),
        writer.write(&batch(0..0), &opts).await.unwrap_err().into(),
    ];
    for e in &errors {
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
        assert!(!e.is_retryable());
    }
    let nan_err = writer.write_flat(&rows(0..10), &[("embedding", &nan)], &opts).await.unwrap_err();
    assert!(matches!(nan_err, ailake::writer::WriterError::NonFinite { row: 3, .. }), "{nan_err}");
    assert_eq!(writer.commit().await.unwrap(), 0, "nothing was staged");
    let data = std::fs::read_dir(dir.path().join("warehouse/docs/bad")).unwrap().count();
    assert_eq!(data, 1, "only the metadata directory exists");
    // A writer on a table without vector columns, and time travel to a missing snapshot.
    let err: AilakeError = table.at_snapshot(42).unwrap_err().into();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conflict_is_one_error_kind_whoever_raises_it_and_parents_stay_per_handle() {
    let dir = tempfile::tempdir().unwrap();
    let table = table(dir.path(), "parents").await;
    let writer = table.writer(WritePolicy::default()).unwrap();
    writer.write(&batch(0..100), &WriteOptions::default()).await.unwrap();
    let first = writer.commit().await.unwrap();

    // A handle expecting `first`, and a clone made before it that expects nothing.
    let pinned = writer.clone().with_parent_snapshot(first);
    let plain = writer.clone();
    plain.write(&batch(100..200), &WriteOptions::default()).await.unwrap();
    let second = plain.commit().await.unwrap();
    pinned.write(&batch(200..300), &WriteOptions::default()).await.unwrap();
    let err: AilakeError = pinned.commit().await.unwrap_err().into();
    assert!(
        matches!(err, AilakeError::Catalog(ailake::catalog::CatalogError::StaleParent { expected: Some(e), actual: Some(a) }) if e == first && a == second),
        "{err:?}"
    );
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert!(!err.is_retryable(), "a stale parent needs re-planning, not the same call again");
    // The unpinned handle commits what the pinned one staged (staging is shared).
    plain.commit().await.unwrap();
    assert_eq!(live_ids(&table).await, (0..300).collect::<Vec<_>>());

    // A writer needs the current version; a time-travel handle is refused.
    let old_handle = table.refresh().await.unwrap().at_snapshot(first).unwrap();
    let err: AilakeError = old_handle.writer(WritePolicy::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);

    // Time travel through the handle: the first snapshot still has 100 rows.
    let old = table.refresh().await.unwrap().at_snapshot(first).unwrap().search().await.unwrap();
    assert_eq!(old.row_count(), 100);
    assert_eq!(old.snapshot_id(), Some(first));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pinned_writer_is_not_made_stale_by_its_own_index_builds() {
    let dir = tempfile::tempdir().unwrap();
    let table = table(dir.path(), "pinned").await;
    let writer = table.writer(WritePolicy::default()).unwrap();
    writer.write(&batch(0..100), &WriteOptions::default()).await.unwrap();
    let first = writer.commit().await.unwrap();
    let pinned = writer.with_parent_snapshot(first);
    for round in 1..4 {
        let rows = batch(round * 500..(round + 1) * 500);
        pinned.write(&rows, &WriteOptions::default().deferred()).await.unwrap();
        pinned.commit().await.unwrap();
        // The build lands after the commit: a replace the pinned handle itself made.
        pinned.wait_indexed().await.unwrap();
    }
    pinned.write(&batch(5000..5100), &WriteOptions::default()).await.unwrap();
    pinned.commit().await.unwrap();
    let kinds = shard_kinds(&table).await;
    assert!(kinds.iter().all(|(_, s)| *s == IndexStatus::Ready), "{kinds:?}");
    assert_eq!(live_ids(&table).await.len(), 100 + 3 * 500 + 100);
}
