//! The table handle reads one metadata version: commits made after it was loaded are invisible
//! until `refresh`, time travel stays inside the version, and errors carry a kind.

mod common;

use ailk_catalog::{Catalog, CatalogError, ErrorKind, SnapshotUpdate, TableIdent, VectorSpec};
use ailk_format::Metric;
use arrow_schema::{DataType, Field, Schema as ArrowSchema};
use common::*;

#[tokio::test]
async fn a_handle_sees_one_metadata_version_until_refreshed() {
    let table = memory_table().await;
    assert_eq!(table.snapshot_id(), None);
    assert!(table.live_files().await.unwrap().is_empty());

    let a = write_file(&table, 0..10).await;
    let s1 = table.commit(SnapshotUpdate::append(vec![a])).await.unwrap().snapshot_id();
    // The old handle still reads the version it was loaded at.
    assert_eq!(table.snapshot_id(), None);
    assert!(table.live_files().await.unwrap().is_empty());

    let v1 = table.refresh().await.unwrap();
    assert_eq!(v1.snapshot_id(), Some(s1));
    let b = write_file(&v1, 10..30).await;
    let s2 = v1.commit(SnapshotUpdate::append(vec![b]).with_batch_ids(["b-2"])).await.unwrap().snapshot_id();

    // v1 keeps its files, summaries and lineage; v2 sees the new commit.
    assert_eq!(v1.live_files().await.unwrap().len(), 1);
    assert!(!v1.contains_batch("b-2").unwrap());
    let v2 = v1.refresh().await.unwrap();
    assert_eq!(v2.snapshot_id(), Some(s2));
    assert_eq!(v2.live_files().await.unwrap().len(), 2);
    assert!(v2.contains_batch("b-2").unwrap());
    assert_ne!(v1.metadata_location(), v2.metadata_location());

    // Time travel inside one version; a snapshot this version does not know is NotFound.
    let back = v2.at_snapshot(s1).unwrap();
    assert_eq!(back.snapshot_id(), Some(s1));
    assert_eq!(back.live_files().await.unwrap().len(), 1);
    assert!(!back.contains_batch("b-2").unwrap());
    assert_eq!(back.metadata_location(), v2.metadata_location());
    let err = v1.at_snapshot(s2).unwrap_err();
    assert!(matches!(err, CatalogError::SnapshotNotFound(id) if id == s2));
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn one_commit_never_carries_a_batch_id_twice() {
    let table = memory_table().await;
    let a = write_file(&table, 0..10).await;
    let b = write_file(&table, 10..20).await;
    let err =
        table.commit(SnapshotUpdate::append(vec![a, b]).with_batch_ids(["same", "same"])).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert_eq!(table.refresh().await.unwrap().snapshot_id(), None, "nothing committed");
}

#[tokio::test]
async fn catalog_loads_and_creates_vector_tables() {
    let catalog = Catalog::memory();
    let ident = TableIdent::parse("docs.chunks").unwrap();
    let attributes = ArrowSchema::new(vec![Field::new("id", DataType::Int64, false)]);
    let spec = VectorSpec::new("embedding", 8, Metric::Cosine);

    let missing = catalog.load_table(&ident).await.unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::NotFound);
    let created = catalog.create_table(&ident, &attributes, std::slice::from_ref(&spec)).await.unwrap();
    assert_eq!(created.vector_columns().unwrap(), vec![spec.clone()]);
    let again = catalog.create_table(&ident, &attributes, std::slice::from_ref(&spec)).await.unwrap_err();
    assert_eq!(again.kind(), ErrorKind::AlreadyExists);

    let loaded =
        catalog.create_or_load_table(&ident, &attributes, std::slice::from_ref(&spec)).await.unwrap();
    assert_eq!(loaded.metadata_location(), created.metadata_location());
    let other = VectorSpec::new("embedding", 16, Metric::Cosine);
    let err = catalog.create_or_load_table(&ident, &attributes, &[other]).await.unwrap_err();
    assert!(matches!(err, CatalogError::SchemaMismatch(_)), "{err}");
    assert_eq!(catalog.list_tables("docs").await.unwrap(), vec![ident.clone()]);
    let no_vectors = catalog.create_table(&TableIdent::parse("docs.plain").unwrap(), &attributes, &[]).await;
    assert_eq!(no_vectors.unwrap_err().kind(), ErrorKind::InvalidInput);
}
