//! Row scans of data files for query engines: the live rows of one file as the table's
//! schema sees them, with the row groups a filter cannot match skipped by their Parquet
//! statistics and position-deleted rows removed. The filter itself is not applied to the
//! rows read (the engine evaluates it): the statistics only prune.

use std::cmp::Ordering;
use std::ops::Range;
use std::sync::Arc;

use ailk_catalog::{LiveFile, Table};
use ailk_format::{resolve_columns, ReadOptions, ShardReader};
use arrow_array::RecordBatch;
use arrow_schema::{DataType, Field, FieldRef};
use parquet::arrow::arrow_reader::RowSelection;
use parquet::file::metadata::RowGroupMetaData;
use parquet::file::statistics::Statistics;

use crate::error::{Result, SearchError};
use crate::filter::prune::may_match_bounds;
use crate::filter::{Filter, Literal};
use crate::rows::read_conformed;

/// What scanning one data file read.
#[derive(Debug, Default)]
pub struct FileScan {
    /// The rows: the requested columns, deleted rows and skipped row groups left out.
    pub batches: Vec<RecordBatch>,
    /// Row groups of the file.
    pub row_groups: usize,
    /// Row groups skipped because their statistics prove no row matches the filter.
    pub row_groups_pruned: usize,
    /// Rows left out because a position delete removed them.
    pub rows_deleted: usize,
}

/// Reads `columns` (table column names; none for a row count) of the live rows of `file`, a
/// data file of `table`'s snapshot. Row groups whose statistics prove that no row matches
/// `filter` are skipped; the rows of `deleted` (ascending positions, see
/// `DeleteIndex::deleted`) are left out. Columns are found by field id and cast to the
/// table's types; a column the file predates reads as nulls.
pub async fn scan_file(
    table: &Table,
    file: &LiveFile,
    columns: &[String],
    filter: Option<&Filter>,
    deleted: &[u64],
) -> Result<FileScan> {
    let schema = table.file_schema()?;
    let fields: Vec<FieldRef> = columns
        .iter()
        .map(|c| {
            schema
                .field_with_name(c)
                .map(|f| Arc::new(f.clone()))
                .map_err(|_| SearchError::InvalidQuery(format!("column {c} is not in the table")))
        })
        .collect::<Result<_>>()?;
    let store = table.warehouse().store().clone();
    let path = table.warehouse().path_of(file.path())?;
    let opts = ReadOptions { file_size: Some(file.data_file.file_size_in_bytes()), ..ReadOptions::default() };
    let reader = ShardReader::open(store.clone(), path.clone(), opts).await?;

    // Which Parquet column each filter column is in (by field id), for the statistics.
    let filter_columns: Vec<(String, Option<String>)> = match filter {
        Some(f) => {
            let names = f.columns();
            // Only plain integer and string columns prune: their Parquet statistics order as
            // the table's values do (a decimal's do not).
            let table_fields: Vec<Option<Field>> = names
                .iter()
                .map(|c| schema.field_with_name(c).ok().cloned())
                .map(|f| f.filter(|f| prunable(f.data_type())))
                .collect();
            let known: Vec<&Field> = table_fields.iter().flatten().collect();
            let resolved = resolve_columns(&reader, &known)?;
            let mut resolved = resolved.into_iter();
            names
                .into_iter()
                .zip(&table_fields)
                .map(|(n, f)| (n, f.as_ref().and_then(|_| resolved.next().flatten())))
                .collect()
        }
        None => Vec::new(),
    };

    let metadata = reader.metadata().clone();
    let mut out = FileScan { row_groups: metadata.num_row_groups(), ..FileScan::default() };
    let keep: Vec<(usize, bool)> = metadata
        .row_groups()
        .iter()
        .map(|rg| {
            (
                rg.num_rows().max(0) as usize,
                filter.is_none_or(|f| row_group_may_match(f, rg, &filter_columns)),
            )
        })
        .collect();
    out.row_groups_pruned = keep.iter().filter(|(_, k)| !k).count();
    if out.row_groups_pruned == out.row_groups && out.row_groups > 0 {
        return Ok(out);
    }
    let (ranges, rows_deleted) = live_ranges(&keep, deleted);
    out.rows_deleted = rows_deleted;
    let total = keep.iter().map(|(rows, _)| rows).sum();
    let selection = RowSelection::from_consecutive_ranges(ranges.into_iter(), total);
    out.batches = read_conformed(store, &path, &reader, &fields, Some(selection)).await?;
    Ok(out)
}

fn prunable(t: &DataType) -> bool {
    matches!(t, DataType::Int32 | DataType::Int64 | DataType::Utf8 | DataType::LargeUtf8)
}

/// The row ranges to read: the rows of the kept row groups (`(rows, kept)` in file order) less
/// the `deleted` positions (ascending); and how many deleted rows the kept groups held.
fn live_ranges(groups: &[(usize, bool)], deleted: &[u64]) -> (Vec<Range<usize>>, usize) {
    let mut ranges = Vec::new();
    let mut dropped = 0;
    let mut start = 0usize;
    let mut next = 0usize;
    for &(rows, keep) in groups {
        let end = start + rows;
        let mut from = start;
        while let Some(&d) = deleted.get(next) {
            let d = d as usize;
            if d >= end {
                break;
            }
            next += 1;
            if d < from {
                continue;
            }
            if keep {
                dropped += 1;
                if from < d {
                    ranges.push(from..d);
                }
            }
            from = d + 1;
        }
        if keep && from < end {
            ranges.push(from..end);
        }
        start = end;
    }
    (ranges, dropped)
}

/// Whether a row of row group `rg` may match `filter`, by the min / max statistics of the
/// filter's columns (`columns`: table column → Parquet column). String bounds a writer
/// truncated, and columns without statistics, never prune.
fn row_group_may_match(filter: &Filter, rg: &RowGroupMetaData, columns: &[(String, Option<String>)]) -> bool {
    may_match_bounds(filter, &mut |column, lit| {
        let parquet_name = columns.iter().find(|(c, _)| c == column)?.1.as_ref()?;
        let chunk = rg.columns().iter().find(|c| c.column_path().string() == *parquet_name)?;
        let stats = chunk.statistics()?;
        Some((compare_stat(stats, lit, true)?, compare_stat(stats, lit, false)?))
    })
}

/// How the row group's minimum (`min`) or maximum compares with `lit`, for integer, float and
/// string columns.
fn compare_stat(stats: &Statistics, lit: &Literal, min: bool) -> Option<Ordering> {
    fn pick<T>(min: bool, lo: Option<T>, hi: Option<T>) -> Option<T> {
        if min {
            lo
        } else {
            hi
        }
    }
    let as_f64 = |v: f64| match lit {
        Literal::Float(f) => v.partial_cmp(f),
        _ => None,
    };
    match stats {
        Statistics::Int32(s) => {
            let v = i64::from(*pick(min, s.min_opt(), s.max_opt())?);
            match lit {
                Literal::Int(i) => Some(v.cmp(i)),
                _ => as_f64(v as f64),
            }
        }
        Statistics::Int64(s) => {
            let v = *pick(min, s.min_opt(), s.max_opt())?;
            match lit {
                Literal::Int(i) => Some(v.cmp(i)),
                _ => as_f64(v as f64),
            }
        }
        // Float columns never prune: Parquet bounds leave NaN out, and NaN compares greater
        // than every number when the rows are evaluated.
        // A string bound a writer truncated (or did not mark exact) is not compared.
        Statistics::ByteArray(s) if !(s.min_is_exact() && s.max_is_exact()) => None,
        Statistics::ByteArray(s) => match lit {
            Literal::Str(v) => Some(pick(min, s.min_opt(), s.max_opt())?.data().cmp(v.as_bytes())),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::live_ranges;

    /// The ranges hold exactly the rows of kept groups that are not deleted.
    #[test]
    fn live_ranges_leave_out_deleted_rows_and_pruned_groups() {
        let groups = [(4, true), (3, false), (5, true)];
        let deleted = [0, 2, 3, 4, 6, 7, 11, 40];
        let (ranges, dropped) = live_ranges(&groups, &deleted);
        let rows: Vec<usize> = ranges.into_iter().flatten().collect();
        let expected: Vec<usize> =
            [0..4, 7..12].into_iter().flatten().filter(|r| !deleted.contains(&(*r as u64))).collect();
        assert_eq!(rows, expected);
        // 0, 2, 3 in the first group and 7, 11 in the last; 4 and 6 fall in the pruned group.
        assert_eq!(dropped, 5);
    }
}
