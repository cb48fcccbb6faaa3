//! Row fetch of a search's winners: their projected columns, read with Parquet row selection
//! from each file (by field id, conformed to the table's schema), in rank order with
//! `_distance` appended.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use ailk_index::Neighbor;
use arrow_array::{ArrayRef, Float32Array, RecordBatch, UInt32Array};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::arrow_reader::RowSelection;

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
        let mut fields: Vec<Field> =
            projection.iter().map(|c| self.schema.field_with_name(c).cloned()).collect::<Result<_, _>>()?;
        fields.push(Field::new(DISTANCE_COLUMN, DataType::Float32, false));
        let out_schema = Arc::new(Schema::new(fields));
        let mut by_file: BTreeMap<usize, Vec<u32>> = BTreeMap::new();
        for (i, n) in hits {
            by_file.entry(*i).or_default().push(n.id);
        }
        // Every file's rows at once: one round trip of reads, not one per file.
        let reads = by_file.into_iter().map(|(i, mut rows)| async move {
            rows.sort_unstable();
            rows.dedup();
            let plan = &self.plan[i];
            let reader = self.reader(&plan.uri, &plan.path, plan.file_size).await?;
            let total = reader.metadata().file_metadata().num_rows() as usize;
            let ranges = rows.iter().map(|&r| r as usize..r as usize + 1);
            let selection = RowSelection::from_consecutive_ranges(ranges, total);
            let fields = self.fields(projection)?;
            let batches =
                read_conformed(self.cached.clone(), &plan.path, &reader, &fields, Some(selection)).await?;
            let got: usize = batches.iter().map(RecordBatch::num_rows).sum();
            if got != rows.len() {
                return Err(SearchError::Corrupt(format!(
                    "{}: fetched {got} rows of {}",
                    plan.uri,
                    rows.len()
                )));
            }
            Ok((i, rows, batches))
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
        out_fields.push(Field::new(DISTANCE_COLUMN, DataType::Float32, false));
        let out_schema = Arc::new(Schema::new(out_fields));
        let take = UInt32Array::from_iter_values(hits.iter().map(|(i, n)| position[&(*i, n.id)] as u32));
        let mut columns = arrow_select::take::take_record_batch(&all, &take)?.columns().to_vec();
        columns.push(distances);
        Ok(RecordBatch::try_new(out_schema, columns)?)
    }
}
