//! What a commit records besides its manifests: the snapshot summary (operation, what changed,
//! running totals) and the check that files written with one schema may join the table's
//! current one.

use std::collections::HashMap;

use iceberg::spec::{DataFile, Operation, Schema, Summary};

use crate::error::{CatalogError, Result};
use crate::layout::BATCH_IDS_PROPERTY;
use crate::update::SnapshotUpdate;

/// Files written with `written` may join a table whose schema is now `current`: each of their
/// top-level fields still exists (by id) with the same type or an allowed promotion.
pub(crate) fn check_schema(written: &Schema, current: &Schema) -> Result<()> {
    use iceberg::spec::{PrimitiveType as P, Type};
    for field in written.as_struct().fields() {
        let Some(now) = current.field_by_id(field.id) else {
            return Err(CatalogError::SchemaChanged(format!(
                "column {} (field id {}) was dropped since the files were written",
                field.name, field.id
            )));
        };
        let promoted = matches!(
            (field.field_type.as_ref(), now.field_type.as_ref()),
            (Type::Primitive(P::Int), Type::Primitive(P::Long))
                | (Type::Primitive(P::Float), Type::Primitive(P::Double))
        );
        if now.field_type != field.field_type && !promoted {
            return Err(CatalogError::SchemaChanged(format!(
                "column {} (field id {}) was {} when the files were written and is now {}",
                field.name, field.id, field.field_type, now.field_type
            )));
        }
    }
    Ok(())
}

/// What one commit removed and added besides the update's data files.
pub(crate) struct Changes<'a> {
    pub removed: &'a [DataFile],
    pub added_deletes: &'a [DataFile],
    pub removed_deletes: &'a [DataFile],
}

/// The snapshot summary: the operation, what changed, and running totals (from the parent's).
pub(crate) fn summarize(
    parent: Option<&Summary>,
    operation: Operation,
    update: &SnapshotUpdate,
    changes: &Changes<'_>,
) -> Summary {
    let removed = changes.removed;
    let total = |key: &str| -> i64 {
        parent.and_then(|s| s.additional_properties.get(key)).and_then(|v| v.parse().ok()).unwrap_or(0)
    };
    let added_files = update.added.len() as i64;
    let added_rows: i64 = update.added.iter().map(|f| f.record_count() as i64).sum();
    let added_size: i64 = update.added.iter().map(|f| f.file_size_in_bytes() as i64).sum();
    let deleted_files = removed.len() as i64;
    let deleted_rows: i64 = removed.iter().map(|f| f.record_count() as i64).sum();
    let removed_size: i64 = removed.iter().map(|f| f.file_size_in_bytes() as i64).sum();
    let mut props: HashMap<String, String> = update.properties.clone();
    let mut put = |k: &str, v: i64| {
        props.insert(k.to_string(), v.to_string());
    };
    if added_files > 0 {
        put("added-data-files", added_files);
        put("added-records", added_rows);
        put("added-files-size", added_size);
    }
    if deleted_files > 0 {
        put("deleted-data-files", deleted_files);
        put("deleted-records", deleted_rows);
        put("removed-files-size", removed_size);
    }
    put("total-data-files", total("total-data-files") + added_files - deleted_files);
    put("total-records", total("total-records") + added_rows - deleted_rows);
    put("total-files-size", total("total-files-size") + added_size - removed_size);
    let added_deletes = changes.added_deletes.len() as i64;
    let added_positions: i64 = changes.added_deletes.iter().map(|f| f.record_count() as i64).sum();
    let removed_deletes = changes.removed_deletes.len() as i64;
    let removed_positions: i64 = changes.removed_deletes.iter().map(|f| f.record_count() as i64).sum();
    if added_deletes > 0 {
        put("added-delete-files", added_deletes);
        put("added-position-delete-files", added_deletes);
        put("added-position-deletes", added_positions);
    }
    if removed_deletes > 0 {
        put("removed-delete-files", removed_deletes);
        put("removed-position-delete-files", removed_deletes);
        put("removed-position-deletes", removed_positions);
    }
    put("total-delete-files", total("total-delete-files") + added_deletes - removed_deletes);
    put("total-position-deletes", total("total-position-deletes") + added_positions - removed_positions);
    put("total-equality-deletes", total("total-equality-deletes"));
    if !update.batch_ids.is_empty() {
        props.insert(BATCH_IDS_PROPERTY.to_string(), update.batch_ids.join(","));
    }
    Summary { operation, additional_properties: props }
}
