//! Result batches printed as a text table, JSON (one array of row objects) or CSV.

use arrow_array::cast::AsArray;
use arrow_array::{Array, RecordBatch};
use arrow_cast::display::{ArrayFormatter, FormatOptions};
use arrow_schema::DataType;
use clap::ValueEnum;
use serde_json::{Map, Number, Value};

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// An aligned text table (long texts shortened).
    Table,
    /// A JSON array of row objects.
    Json,
    /// CSV with a header row.
    Csv,
}

/// Longest cell of the text table before it is shortened.
const MAX_CELL: usize = 80;

fn json_value(array: &dyn Array, row: usize, fmt: &ArrayFormatter<'_>) -> Value {
    if array.is_null(row) {
        return Value::Null;
    }
    let number = |v: f64| Number::from_f64(v).map_or(Value::Null, Value::Number);
    match array.data_type() {
        DataType::Boolean => Value::Bool(array.as_boolean().value(row)),
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => {
            fmt.value(row).to_string().parse::<i64>().map_or(Value::Null, Value::from)
        }
        DataType::UInt8 | DataType::UInt16 | DataType::UInt32 | DataType::UInt64 => {
            fmt.value(row).to_string().parse::<u64>().map_or(Value::Null, Value::from)
        }
        DataType::Float32 => {
            number(array.as_primitive::<arrow_array::types::Float32Type>().value(row) as f64)
        }
        DataType::Float64 => number(array.as_primitive::<arrow_array::types::Float64Type>().value(row)),
        DataType::FixedSizeList(..) => {
            let inner = array.as_fixed_size_list().value(row);
            list_json(inner.as_ref())
        }
        DataType::List(_) => list_json(array.as_list::<i32>().value(row).as_ref()),
        DataType::LargeList(_) => list_json(array.as_list::<i64>().value(row).as_ref()),
        _ => Value::String(fmt.value(row).to_string()),
    }
}

fn list_json(values: &dyn Array) -> Value {
    let opts = FormatOptions::default();
    match ArrayFormatter::try_new(values, &opts) {
        Ok(fmt) => Value::Array((0..values.len()).map(|i| json_value(values, i, &fmt)).collect()),
        Err(_) => Value::Null,
    }
}

/// One display formatter per column of `batch`.
fn formatters<'a>(
    batch: &'a RecordBatch,
    opts: &'a FormatOptions<'a>,
) -> anyhow::Result<Vec<ArrayFormatter<'a>>> {
    Ok(batch.columns().iter().map(|c| ArrayFormatter::try_new(c.as_ref(), opts)).collect::<Result<_, _>>()?)
}

/// The rows of `batches` as JSON objects (column name → value).
pub fn to_json(batches: &[RecordBatch]) -> anyhow::Result<Value> {
    let opts = FormatOptions::default();
    let mut rows = Vec::new();
    for batch in batches {
        let fmts = formatters(batch, &opts)?;
        for row in 0..batch.num_rows() {
            let mut obj = Map::new();
            for (i, field) in batch.schema().fields().iter().enumerate() {
                obj.insert(field.name().clone(), json_value(batch.column(i).as_ref(), row, &fmts[i]));
            }
            rows.push(Value::Object(obj));
        }
    }
    Ok(Value::Array(rows))
}

fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn shorten(s: String) -> String {
    let flat = s.replace(['\n', '\t'], " ");
    if flat.chars().count() <= MAX_CELL {
        flat
    } else {
        format!("{}…", flat.chars().take(MAX_CELL - 1).collect::<String>())
    }
}

/// `batches` rendered in `format`.
pub fn render(batches: &[RecordBatch], format: Format) -> anyhow::Result<String> {
    let opts = FormatOptions::default().with_null("");
    match format {
        Format::Json => Ok(serde_json::to_string_pretty(&to_json(batches)?)?),
        Format::Csv => {
            let mut out = String::new();
            if let Some(b) = batches.first() {
                let names: Vec<String> = b.schema().fields().iter().map(|f| csv_cell(f.name())).collect();
                out.push_str(&names.join(","));
                out.push('\n');
            }
            for batch in batches {
                let fmts = formatters(batch, &opts)?;
                for row in 0..batch.num_rows() {
                    let cells: Vec<String> =
                        fmts.iter().map(|f| csv_cell(&f.value(row).to_string())).collect();
                    out.push_str(&cells.join(","));
                    out.push('\n');
                }
            }
            Ok(out)
        }
        Format::Table => {
            let Some(first) = batches.first() else { return Ok("(no rows)\n".into()) };
            let header: Vec<String> = first.schema().fields().iter().map(|f| f.name().clone()).collect();
            let mut rows = vec![header];
            for batch in batches {
                let fmts = formatters(batch, &opts)?;
                for row in 0..batch.num_rows() {
                    rows.push(fmts.iter().map(|f| shorten(f.value(row).to_string())).collect());
                }
            }
            if rows.len() == 1 {
                return Ok("(no rows)\n".into());
            }
            let widths: Vec<usize> = (0..rows[0].len())
                .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
                .collect();
            let mut out = String::new();
            for (i, r) in rows.iter().enumerate() {
                let cells: Vec<String> = r.iter().zip(&widths).map(|(v, w)| format!("{v:<w$}")).collect();
                out.push_str(cells.join("  ").trim_end());
                out.push('\n');
                if i == 0 {
                    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
                    out.push_str(&rule.join("  "));
                    out.push('\n');
                }
            }
            Ok(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{Float32Array, Int64Array, StringArray};
    use arrow_schema::{Field, Schema};

    use super::*;

    fn batch() -> RecordBatch {
        let schema = Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("text", DataType::Utf8, true),
            Field::new("_distance", DataType::Float32, false),
        ]);
        RecordBatch::try_new(
            Arc::new(schema),
            vec![
                Arc::new(Int64Array::from(vec![7, 8])),
                Arc::new(StringArray::from(vec![Some("a, \"quoted\" text"), None])),
                Arc::new(Float32Array::from(vec![0.25, 0.5])),
            ],
        )
        .unwrap()
    }

    #[test]
    fn every_format_carries_the_rows() {
        let json = to_json(&[batch()]).unwrap();
        assert_eq!(json[0]["id"], 7);
        assert_eq!(json[0]["text"], "a, \"quoted\" text");
        assert_eq!(json[1]["text"], Value::Null);
        assert_eq!(json[1]["_distance"], 0.5);
        let csv = render(&[batch()], Format::Csv).unwrap();
        assert_eq!(csv, "id,text,_distance\n7,\"a, \"\"quoted\"\" text\",0.25\n8,,0.5\n");
        let table = render(&[batch()], Format::Table).unwrap();
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 4, "{table}");
        assert!(
            lines[0].starts_with("id  text") && lines[2].starts_with("7   a, \"quoted\" text"),
            "{table}"
        );
        assert_eq!(render(&[], Format::Table).unwrap(), "(no rows)\n");
    }
}
