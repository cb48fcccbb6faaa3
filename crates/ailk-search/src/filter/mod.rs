//! Row filters: simple column comparisons combined with AND / OR, evaluated on Arrow batches.

use ailk_format::column_type_name;
use arrow_array::{
    Array, ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, Scalar, StringArray,
};
use arrow_cast::CastOptions;
use arrow_ord::cmp;
use arrow_schema::DataType;

use crate::error::{Result, SearchError};

mod parse;
pub(crate) mod prune;
pub(crate) mod rows;

/// A literal a column is compared with (cast to the column's type).
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A string.
    Str(String),
}

/// The literal as the filter text writes it: `5`, `2.5`, `'text'`.
impl std::fmt::Display for Literal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Literal::Int(v) => write!(f, "{v}"),
            Literal::Float(v) => write!(f, "{v:?}"),
            Literal::Str(v) => write!(f, "'{}'", v.replace('\'', "''")),
        }
    }
}

impl From<i64> for Literal {
    fn from(v: i64) -> Self {
        Literal::Int(v)
    }
}
impl From<f64> for Literal {
    fn from(v: f64) -> Self {
        Literal::Float(v)
    }
}
impl From<&str> for Literal {
    fn from(v: &str) -> Self {
        Literal::Str(v.to_string())
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// A row filter. Rows where a compared column is null do not match.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `column op literal`
    Cmp(String, Op, Literal),
    /// Both match.
    And(Box<Filter>, Box<Filter>),
    /// Either matches.
    Or(Box<Filter>, Box<Filter>),
}

/// The filter's text form (every column double-quoted, every `AND`/`OR` parenthesized,
/// floats in Rust's shortest round-trip form): two filters print the same text exactly when
/// they are equal, so the text keys caches of filter results.
impl std::fmt::Display for Filter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Filter::Cmp(column, op, literal) => {
                let op = match op {
                    Op::Eq => "=",
                    Op::Ne => "!=",
                    Op::Lt => "<",
                    Op::Le => "<=",
                    Op::Gt => ">",
                    Op::Ge => ">=",
                };
                write!(f, "\"{}\" {op} {literal}", column.replace('"', "\"\""))
            }
            Filter::And(a, b) => write!(f, "({a} AND {b})"),
            Filter::Or(a, b) => write!(f, "({a} OR {b})"),
        }
    }
}

impl Filter {
    /// `column op value`.
    pub fn cmp(column: impl Into<String>, op: Op, value: impl Into<Literal>) -> Self {
        Filter::Cmp(column.into(), op, value.into())
    }

    /// `column = value`.
    pub fn eq(column: impl Into<String>, value: impl Into<Literal>) -> Self {
        Self::cmp(column, Op::Eq, value)
    }

    /// This and `other`.
    pub fn and(self, other: Filter) -> Self {
        Filter::And(Box::new(self), Box::new(other))
    }

    /// This or `other`.
    pub fn or(self, other: Filter) -> Self {
        Filter::Or(Box::new(self), Box::new(other))
    }

    /// The columns the filter reads.
    pub fn columns(&self) -> Vec<String> {
        match self {
            Filter::Cmp(c, ..) => vec![c.clone()],
            Filter::And(a, b) | Filter::Or(a, b) => {
                let mut out = a.columns();
                out.extend(b.columns().into_iter().filter(|c| !out.contains(c)).collect::<Vec<_>>());
                out
            }
        }
    }

    /// Evaluates the filter on `batch` (which must hold its columns): true where a row matches.
    pub fn evaluate(&self, batch: &RecordBatch) -> Result<BooleanArray> {
        let mask = match self {
            Filter::Cmp(column, op, lit) => {
                let array = batch.column_by_name(column).ok_or_else(|| {
                    SearchError::InvalidQuery(format!("filter column {column} is not in the table"))
                })?;
                let literal: ArrayRef = match lit {
                    Literal::Int(v) => std::sync::Arc::new(Int64Array::from(vec![*v])),
                    Literal::Float(v) => std::sync::Arc::new(Float64Array::from(vec![*v])),
                    Literal::Str(v) => std::sync::Arc::new(StringArray::from(vec![v.as_str()])),
                };
                // A fractional literal against an integer column compares as floats (`id > 2.5`
                // must not become `id > 2`); otherwise the literal takes the column's type, and
                // one that does not parse as that type is an error, not a silent null.
                let widened;
                let array: &ArrayRef = if matches!(lit, Literal::Float(_)) && array.data_type().is_integer() {
                    widened = arrow_cast::cast(array, &DataType::Float64)?;
                    &widened
                } else {
                    array
                };
                let ty = column_type_name(array.data_type());
                // A number never equals text: comparing a string column with one is a mistake
                // (a forgotten quote), not a filter that silently matches nothing.
                let text_column =
                    matches!(array.data_type(), DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View);
                if text_column && !matches!(lit, Literal::Str(_)) {
                    return Err(SearchError::InvalidQuery(format!(
                        "cannot compare {column} (string) with the number {lit}: quote it ('{lit}') to compare text"
                    )));
                }
                let strict = CastOptions { safe: false, ..Default::default() };
                let literal =
                    arrow_cast::cast_with_options(&literal, array.data_type(), &strict).map_err(|_| {
                        SearchError::InvalidQuery(format!(
                            "cannot compare {column} ({ty}) with {lit}: not a {ty} value"
                        ))
                    })?;
                let scalar = Scalar::new(literal);
                match op {
                    Op::Eq => cmp::eq(array, &scalar),
                    Op::Ne => cmp::neq(array, &scalar),
                    Op::Lt => cmp::lt(array, &scalar),
                    Op::Le => cmp::lt_eq(array, &scalar),
                    Op::Gt => cmp::gt(array, &scalar),
                    Op::Ge => cmp::gt_eq(array, &scalar),
                }
                .map_err(|_| {
                    SearchError::InvalidQuery(format!("cannot compare {column} ({ty}) with {lit}"))
                })?
            }
            Filter::And(a, b) => arrow_arith_and(&a.evaluate(batch)?, &b.evaluate(batch)?, true),
            Filter::Or(a, b) => arrow_arith_and(&a.evaluate(batch)?, &b.evaluate(batch)?, false),
        };
        // Null comparisons do not match.
        Ok(mask.iter().map(|v| Some(v.unwrap_or(false))).collect())
    }
}

fn arrow_arith_and(a: &BooleanArray, b: &BooleanArray, and: bool) -> BooleanArray {
    a.iter()
        .zip(b.iter())
        .map(|(x, y)| {
            let (x, y) = (x.unwrap_or(false), y.unwrap_or(false));
            Some(if and { x && y } else { x || y })
        })
        .collect()
}

/// Row positions where `mask` is true.
pub(crate) fn selected_rows(mask: &BooleanArray) -> Vec<u32> {
    (0..mask.len()).filter(|&i| mask.is_valid(i) && mask.value(i)).map(|i| i as u32).collect()
}
