//! Row fetch of a search's winners: their projected columns from each file (by field id,
//! conformed to the table's schema) — small columns decoded whole once and kept in the shard
//! cache, large ones read with Parquet row selection — in rank order with `_distance` appended.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use ailk_format::{resolve_columns, ShardReader, PAGED_CHUNK_MIN};
use ailk_index::Neighbor;
use arrow_array::{Array, ArrayRef, Float32Array, RecordBatch, RecordBatchOptions, UInt32Array};
use arrow_schema::{DataType, Field, FieldRef, Schema};
use arrow_select::concat::concat;
use arrow_select::take::take;
use parquet::arrow::arrow_reader::RowSelection;
use parquet::arrow::PARQUET_FIELD_ID_META_KEY;

use super::{SearchSession, DISTANCE_COLUMN};
use crate::error::{Result, SearchError};
use crate::rows::read_conformed;

impl SearchSession {
    /// Reads the projected columns of the winners and appends `_distance`.
    pub(super) async fn fetch(
        &self,
        hits: &[(usize, Neighbor)],
        projection: &[String],
    ) -> Result<RecordBatch> {
        self.fetch_scored(hits, projection, DISTANCE_COLUMN).await
    }

    /// Reads the projected columns of the winners and appends their `distance` field as the
    /// column `score_column`.
    pub(super) async fn fetch_scored(
        &self,
        hits: &[(usize, Neighbor)],
        projection: &[String],
        score_column: &str,
    ) -> Result<RecordBatch> {
        let mut fields: Vec<Field> =
            projection.iter().map(|c| self.schema.field_with_name(c).cloned()).collect::<Result<_, _>>()?;
        fields.push(Field::new(score_column, DataType::Float32, false));
        let out_schema = Arc::new(Schema::new(fields));
        if projection.is_empty() {
            // Only `_distance` asked for (a count over the result): nothing to read.
            let distances = Float32Array::from_iter_values(hits.iter().map(|(_, n)| n.distance));
            return Ok(RecordBatch::try_new(out_schema, vec![Arc::new(distances)])?);
        }
        let mut by_file: BTreeMap<usize, Vec<u32>> = BTreeMap::new();
        for (i, n) in hits {
            by_file.entry(*i).or_default().push(n.id);
        }
        // Every file's rows at once: one round trip of reads, not one per file.
        let reads = by_file.into_iter().map(|(i, mut rows)| async move {
            rows.sort_unstable();
            rows.dedup();
            let batch = self.file_rows(i, &rows, projection).await?;
            Ok::<_, SearchError>((i, rows, vec![batch]))
        });
        let mut parts = Vec::new();
        let mut position: HashMap<(usize, u32), usize> = HashMap::new();
        let mut base = 0usize;
        for read in futures::future::join_all(reads).await {
            let (i, rows, batches) = read?;
            for (j, r) in rows.iter().enumerate() {
                position.insert((i, *r), base + j);
            }
            base += rows.len();
            parts.extend(batches);
        }
        let distances: ArrayRef =
            Arc::new(Float32Array::from_iter_values(hits.iter().map(|(_, n)| n.distance)));
        if hits.is_empty() {
            return Ok(RecordBatch::new_empty(out_schema));
        }
        // A column some file lacked (schema evolution) is nullable in the result.
        let part_fields: Vec<Field> = out_schema.fields()[..projection.len()]
            .iter()
            .enumerate()
            .map(|(c, f)| {
                let nulls =
                    parts.iter().any(|b| b.schema().field(c).is_nullable() && b.column(c).null_count() > 0);
                f.as_ref().clone().with_nullable(f.is_nullable() || nulls)
            })
            .collect();
        let part_schema = Arc::new(Schema::new(part_fields.clone()));
        let parts: Vec<RecordBatch> = parts
            .into_iter()
            .map(|b| RecordBatch::try_new(part_schema.clone(), b.columns().to_vec()))
            .collect::<Result<_, _>>()?;
        let all = arrow_select::concat::concat_batches(&part_schema, &parts)?;
        let mut out_fields = part_fields;
        out_fields.push(Field::new(score_column, DataType::Float32, false));
        let out_schema = Arc::new(Schema::new(out_fields));
        let take = UInt32Array::from_iter_values(hits.iter().map(|(i, n)| position[&(*i, n.id)] as u32));
        let mut columns = arrow_select::take::take_record_batch(&all, &take)?.columns().to_vec();
        columns.push(distances);
        Ok(RecordBatch::try_new(out_schema, columns)?)
    }

    /// The `projection` of rows `rows` (sorted, distinct) of file `i`. A column
    /// [`keep_decoded`] picks is decoded whole once and kept in the shard cache, and later
    /// fetches take their rows from it (no read, no decompression); others are read for the
    /// selected rows only (the pages holding them).
    async fn file_rows(&self, i: usize, rows: &[u32], projection: &[String]) -> Result<RecordBatch> {
        let plan = &self.plan[i];
        let fields = self.fields(projection)?;
        let indices = UInt32Array::from(rows.to_vec());
        let mut columns: Vec<Option<ArrayRef>> = vec![None; fields.len()];
        let mut reader = None;
        let (mut whole, mut selected) = (Vec::new(), Vec::new());
        for (c, field) in fields.iter().enumerate() {
            if let Some(column) = self.cache.get_column(plan.uri(), &column_key(field)) {
                columns[c] = Some(take(&column, &indices, None)?);
                continue;
            }
            let reader = match &reader {
                Some(r) => r,
                None => reader.insert(self.reader(plan.uri(), &plan.path, plan.file_size()).await?),
            };
            if keep_decoded(&chunk_sizes(reader, field)?) {
                whole.push(c);
            } else {
                selected.push(c);
            }
        }
        if !whole.is_empty() {
            // The small columns decoded whole, in one read of their chunks.
            let reader = reader.as_ref().expect("a missed column looked at the footer");
            let wanted: Vec<FieldRef> = whole.iter().map(|&c| fields[c].clone()).collect();
            let batches = read_conformed(self.cached.clone(), &plan.path, reader, &wanted, None).await?;
            let total = reader.metadata().file_metadata().num_rows().max(0) as usize;
            for (j, &c) in whole.iter().enumerate() {
                let column = column_of(&batches, j)?;
                if column.len() != total {
                    return Err(SearchError::Corrupt(format!(
                        "{}: column {} has {} rows of {total}",
                        plan.uri(),
                        fields[c].name(),
                        column.len()
                    )));
                }
                self.cache.insert_column(plan.uri(), &column_key(&fields[c]), column.clone());
                columns[c] = Some(take(&column, &indices, None)?);
            }
        }
        if !selected.is_empty() {
            let reader = reader.as_ref().expect("a selected column looked at the footer");
            let total = reader.metadata().file_metadata().num_rows() as usize;
            let ranges = rows.iter().map(|&r| r as usize..r as usize + 1);
            let selection = RowSelection::from_consecutive_ranges(ranges, total);
            let wanted: Vec<FieldRef> = selected.iter().map(|&c| fields[c].clone()).collect();
            let batches =
                read_conformed(self.cached.clone(), &plan.path, reader, &wanted, Some(selection)).await?;
            let got: usize = batches.iter().map(RecordBatch::num_rows).sum();
            if got != rows.len() {
                return Err(SearchError::Corrupt(format!(
                    "{}: fetched {got} rows of {}",
                    plan.uri(),
                    rows.len()
                )));
            }
            for (j, &c) in selected.iter().enumerate() {
                columns[c] = Some(column_of(&batches, j)?);
            }
        }
        let columns: Vec<ArrayRef> = columns.into_iter().map(|c| c.expect("every column filled")).collect();
        let fields: Vec<Field> = fields
            .iter()
            .zip(&columns)
            .map(|(f, c)| f.as_ref().clone().with_nullable(f.is_nullable() || c.null_count() > 0))
            .collect();
        let opts = RecordBatchOptions::new().with_row_count(Some(rows.len()));
        Ok(RecordBatch::try_new_with_options(Arc::new(Schema::new(fields)), columns, &opts)?)
    }
}

/// Columns at most this large decoded (summed over the file's row groups) are decoded whole
/// and kept: no larger than the one page a row selection would read from a larger column.
const DECODED_COLUMN_MAX: u64 = 1 << 20;

/// Columns read whole anyway (no chunk above [`PAGED_CHUNK_MIN`] compressed: a row selection
/// reads and decompresses every page of such a chunk) are kept decoded up to this size.
const READ_WHOLE_KEPT_MAX: u64 = 16 << 20;

/// Whether a column whose chunks are `(compressed, decoded)` bytes is decoded whole once and
/// kept, rather than read for the selected rows on every fetch. Small columns are; so are
/// columns whose chunks a row selection would read whole and decompress anyway — every fetch
/// paid that (about 1.3 ms per query for the `i64` ids of a 125k-row file) and kept nothing.
fn keep_decoded(chunks: &[(u64, u64)]) -> bool {
    let decoded: u64 = chunks.iter().map(|c| c.1).sum();
    decoded <= DECODED_COLUMN_MAX
        || (decoded <= READ_WHOLE_KEPT_MAX && chunks.iter().all(|c| c.0 <= PAGED_CHUNK_MIN))
}

/// Column `j` of `batches`, as one array.
fn column_of(batches: &[RecordBatch], j: usize) -> Result<ArrayRef> {
    let parts: Vec<&dyn Array> = batches.iter().map(|b| b.column(j).as_ref()).collect();
    Ok(match parts.len() {
        1 => batches[0].column(j).clone(),
        _ => concat(&parts)?,
    })
}

/// The cache key of a table field's column: its field id, name and type, so a field renamed
/// or a name reused by another field never meets another field's values.
fn column_key(field: &Field) -> String {
    let id = field.metadata().get(PARQUET_FIELD_ID_META_KEY).map_or("-", String::as_str);
    format!("{id}\u{1f}{}\u{1f}{}", field.name(), field.data_type())
}

/// The (compressed, decoded) sizes of `field`'s column chunks in the file, one per row group
/// (none when the file lacks it).
fn chunk_sizes(reader: &ShardReader, field: &Field) -> Result<Vec<(u64, u64)>> {
    let Some(name) = resolve_columns(reader, &[field])?.pop().flatten() else { return Ok(Vec::new()) };
    Ok(reader
        .metadata()
        .row_groups()
        .iter()
        .flat_map(|rg| rg.columns())
        .filter(|c| c.column_path().parts().first() == Some(&name))
        .map(|c| (c.compressed_size().max(0) as u64, c.uncompressed_size().max(0) as u64))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::keep_decoded;

    #[test]
    fn columns_read_whole_anyway_are_kept_decoded() {
        let mib = 1u64 << 20;
        assert!(keep_decoded(&[(mib / 4, mib)]), "small");
        assert!(keep_decoded(&[]), "absent from the file");
        // 125k i64 ids: 1 MB and a bit decoded, ~0.4 MB compressed (read whole by a selection).
        assert!(keep_decoded(&[(400_000, 1_000_200)]));
        assert!(keep_decoded(&[(mib, 3 * mib), (mib, 3 * mib)]), "two row groups, each read whole");
        // A chunk above 2 MiB compressed is read page by page: not kept.
        assert!(!keep_decoded(&[(3 * mib, 8 * mib)]));
        // Compressible beyond the cap: read whole, not kept.
        assert!(!keep_decoded(&[(mib, 64 * mib)]));
    }
}
