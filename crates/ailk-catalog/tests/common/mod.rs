//! Shared helpers: a test schema, Parquet data files written with its field ids, table setup.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::Arc;

use ailk_catalog::iceberg::arrow::schema_to_arrow_schema;
use ailk_catalog::iceberg::spec::{DataFile, ListType, NestedField, PrimitiveType, Schema, Type};
use ailk_catalog::{data_file_from_store, CatalogProvider, MemoryCatalog, Table, TableIdent, Warehouse};
use arrow_array::builder::{Float32Builder, ListBuilder};
use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use object_store::{ObjectStoreExt, PutPayload};
use parquet::arrow::ArrowWriter;

/// Dimension of the test vectors.
pub const DIM: usize = 4;

/// `id: long` (1, required), `text: string` (2), `embedding: list<float>` (3, element 4).
pub fn schema() -> Schema {
    Schema::builder()
        .with_fields(vec![
            NestedField::required(1, "id", Type::Primitive(PrimitiveType::Long)).into(),
            NestedField::optional(2, "text", Type::Primitive(PrimitiveType::String)).into(),
            NestedField::required(
                3,
                "embedding",
                Type::List(ListType::new(
                    NestedField::list_element(4, Type::Primitive(PrimitiveType::Float), true).into(),
                )),
            )
            .into(),
        ])
        .build()
        .unwrap()
}

/// A batch of rows `ids`, in `schema` (the table's, with its field ids).
pub fn batch(schema: &Schema, ids: std::ops::Range<i64>) -> RecordBatch {
    let arrow = Arc::new(schema_to_arrow_schema(schema).unwrap());
    let id: ArrayRef = Arc::new(Int64Array::from_iter_values(ids.clone()));
    let text: ArrayRef = Arc::new(StringArray::from_iter_values(ids.clone().map(|i| format!("row {i}"))));
    let element = match arrow.field(2).data_type() {
        arrow_schema::DataType::List(f) => f.clone(),
        other => panic!("unexpected {other}"),
    };
    let mut list = ListBuilder::new(Float32Builder::new()).with_field(element);
    for i in ids {
        for d in 0..DIM {
            list.values().append_value(i as f32 + d as f32 / 10.0);
        }
        list.append(true);
    }
    let emb: ArrayRef = Arc::new(list.finish());
    RecordBatch::try_new(arrow, vec![id, text, emb]).unwrap()
}

/// Writes rows `ids` as a Parquet file under the table's `data/` directory and returns its
/// Iceberg entry.
pub async fn write_file(table: &Table, ids: std::ops::Range<i64>) -> DataFile {
    let state = table.refresh().await.unwrap();
    let rows = batch(state.schema(), ids);
    let uri = format!("{}/data/{}.parquet", state.location(), uuid::Uuid::new_v4());
    put_batch(table.warehouse(), &uri, &rows).await;
    data_file_from_store(table.warehouse(), &uri, state.schema()).await.unwrap()
}

/// Writes `rows` as a Parquet file at `uri`.
pub async fn put_batch(warehouse: &Warehouse, uri: &str, rows: &RecordBatch) {
    let mut buf = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut buf, rows.schema(), None).unwrap();
    writer.write(rows).unwrap();
    writer.close().unwrap();
    let path = warehouse.path_of(uri).unwrap();
    warehouse.store().put(&path, PutPayload::from(buf)).await.unwrap();
}

/// A fresh table `ns.t` in a memory catalog and memory warehouse.
pub async fn memory_table() -> Table {
    let catalog: Arc<dyn CatalogProvider> = Arc::new(MemoryCatalog::new());
    Table::create(catalog, Warehouse::memory(), TableIdent::new("ns", "t").unwrap(), schema(), HashMap::new())
        .await
        .unwrap()
}

/// The table's newest metadata, read at `snapshot` (its current snapshot when `None`).
pub async fn version(table: &Table, snapshot: Option<i64>) -> Table {
    let current = table.refresh().await.unwrap();
    match snapshot {
        Some(id) => current.at_snapshot(id).unwrap(),
        None => current,
    }
}

/// URIs of the live data files of `snapshot` (current when `None`).
pub async fn live_paths(table: &Table, snapshot: Option<i64>) -> Vec<String> {
    version(table, snapshot).await.live_files().await.unwrap().iter().map(|f| f.path().to_string()).collect()
}

/// Sorted ids of every live row of `snapshot` (current when `None`), read back from the files.
pub async fn live_ids(table: &Table, snapshot: Option<i64>) -> Vec<i64> {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let mut ids = Vec::new();
    for f in version(table, snapshot).await.live_files().await.unwrap().iter() {
        let path = table.warehouse().path_of(f.path()).unwrap();
        let bytes = table.warehouse().store().get(&path).await.unwrap().bytes().await.unwrap();
        let reader = ParquetRecordBatchReaderBuilder::try_new(bytes).unwrap().build().unwrap();
        for b in reader {
            let b = b.unwrap();
            let col = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
            ids.extend(col.values().iter().copied());
        }
    }
    ids.sort_unstable();
    ids
}
