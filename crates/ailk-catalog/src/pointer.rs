//! Catalogs that record only a metadata pointer (memory, SQLite) do what a REST server does
//! for them: check a commit's requirements, apply its updates to the base metadata
//! (`TableMetadataBuilder`), write the new metadata file, then swap the pointer from the base
//! location to it. The swap is stricter than the requirements (any commit in between loses
//! it), so conditional property changes are exact on these catalogs. A catalog of one's own
//! that stores a pointer (a key-value store, a database row) implements
//! [`crate::CatalogProvider`] with these helpers and its own swap.

use std::future::Future;
use std::str::FromStr;

use iceberg::io::FileIO;
use iceberg::spec::TableMetadataBuilder;
use iceberg::{MetadataLocation, TableCreation};

use crate::error::{CatalogError, Result};
use crate::provider::{CatalogProvider, MetadataCommit, TableIdent};

/// Writes `creation`'s first metadata file under its location and registers it as `table`
/// (creating the namespace when missing); the file is removed again if the name is taken.
pub async fn create_by_register(
    catalog: &dyn CatalogProvider,
    table: &TableIdent,
    creation: TableCreation,
    io: &FileIO,
) -> Result<String> {
    let location = creation
        .location
        .clone()
        .ok_or_else(|| CatalogError::InvalidInput(format!("creating {table} needs a location")))?;
    let metadata = TableMetadataBuilder::from_table_creation(creation)?.build()?.metadata;
    let metadata_location = MetadataLocation::new_with_metadata(&location, &metadata);
    metadata.write_to(io, &metadata_location).await?;
    let uri = metadata_location.to_string();
    catalog.create_namespace(&table.namespace).await?;
    if let Err(e) = catalog.register_table(table, &uri).await {
        let _ = io.delete(&uri).await;
        return Err(e);
    }
    Ok(uri)
}

/// Applies `commit` to its base and writes the result as the next metadata file; returns its
/// location, or `None` when a requirement fails on the base (a newer version is needed).
pub async fn write_commit(io: &FileIO, commit: &MetadataCommit) -> Result<Option<String>> {
    if commit.requirements.iter().any(|r| r.check(Some(&commit.base)).is_err()) {
        return Ok(None);
    }
    let mut builder = commit.base.as_ref().clone().into_builder(Some(commit.base_location.clone()));
    for update in commit.updates.iter().cloned() {
        builder = update.apply(builder)?;
    }
    let metadata = builder.build()?.metadata;
    let location =
        MetadataLocation::from_str(&commit.base_location)?.with_next_version().with_new_metadata(&metadata);
    metadata.write_to(io, &location).await?;
    Ok(Some(location.to_string()))
}

/// [`write_commit`], then `swap(expected, new)` of the pointer; `None` (and the new file
/// removed) when a requirement failed or the swap lost.
pub async fn commit_by_swap<F, Fut>(io: &FileIO, commit: MetadataCommit, swap: F) -> Result<Option<String>>
where
    F: FnOnce(String, String) -> Fut,
    Fut: Future<Output = Result<bool>>,
{
    let Some(uri) = write_commit(io, &commit).await? else { return Ok(None) };
    if swap(commit.base_location, uri.clone()).await? {
        return Ok(Some(uri));
    }
    if let Err(e) = io.delete(&uri).await {
        tracing::warn!(%uri, error = %e, "could not remove the metadata file of a lost swap");
    }
    Ok(None)
}
