//! Shard pruning by a [`Filter`] and the column bounds Iceberg records for each data file
//! (manifest `lower_bounds` / `upper_bounds`): a file whose bounds exclude every match is
//! never opened. Only numeric and string columns are compared; anything else (or a file
//! without bounds, or with NaN values in the column) may match.

use std::cmp::Ordering;

use ailk_catalog::iceberg::spec::{DataFile, Datum, PrimitiveLiteral, PrimitiveType, Schema};

use crate::filter::{Filter, Literal, Op};

/// Whether a row of `file` may match `filter` (false only when its bounds prove none does).
pub fn may_match(filter: &Filter, file: &DataFile, schema: &Schema) -> bool {
    may_match_bounds(filter, &mut |column, lit| {
        let id = schema.field_by_name(column)?.id;
        if file.nan_value_counts().get(&id).is_some_and(|n| *n > 0) {
            return None;
        }
        let (lo, hi) = (file.lower_bounds().get(&id)?, file.upper_bounds().get(&id)?);
        Some((compare(lo, lit)?, compare(hi, lit)?))
    })
}

/// How a column's lower and upper bound compare with a literal (`None`: unknown).
pub(crate) type BoundsFn<'a> = dyn FnMut(&str, &Literal) -> Option<(Ordering, Ordering)> + 'a;

/// Whether a row may match `filter`, given per column how the column's bounds compare with a
/// literal (unknown bounds: it may match).
pub(crate) fn may_match_bounds(filter: &Filter, bounds: &mut BoundsFn<'_>) -> bool {
    match filter {
        Filter::Cmp(column, op, lit) => {
            let Some((lo, hi)) = bounds(column, lit) else { return true };
            use Ordering::*;
            match op {
                Op::Eq => lo != Greater && hi != Less,
                Op::Ne => !(lo == Equal && hi == Equal),
                Op::Lt => lo == Less,
                Op::Le => lo != Greater,
                Op::Gt => hi == Greater,
                Op::Ge => hi != Less,
            }
        }
        Filter::And(a, b) => may_match_bounds(a, bounds) && may_match_bounds(b, bounds),
        Filter::Or(a, b) => may_match_bounds(a, bounds) || may_match_bounds(b, bounds),
    }
}

/// How a bound compares with a literal, when both are plain numbers or both strings.
fn compare(bound: &Datum, lit: &Literal) -> Option<Ordering> {
    let numeric = matches!(
        bound.data_type(),
        PrimitiveType::Int | PrimitiveType::Long | PrimitiveType::Float | PrimitiveType::Double
    );
    match (bound.literal(), lit) {
        (PrimitiveLiteral::String(s), Literal::Str(v)) if *bound.data_type() == PrimitiveType::String => {
            Some(s.as_str().cmp(v.as_str()))
        }
        (b, Literal::Int(v)) if numeric => match b {
            PrimitiveLiteral::Int(i) => Some(i64::from(*i).cmp(v)),
            PrimitiveLiteral::Long(i) => Some(i.cmp(v)),
            b => as_f64(b)?.partial_cmp(&(*v as f64)),
        },
        (b, Literal::Float(v)) if numeric => as_f64(b)?.partial_cmp(v),
        _ => None,
    }
}

fn as_f64(b: &PrimitiveLiteral) -> Option<f64> {
    match b {
        PrimitiveLiteral::Int(i) => Some(f64::from(*i)),
        PrimitiveLiteral::Long(i) => Some(*i as f64),
        PrimitiveLiteral::Float(f) => Some(f64::from(f.0)),
        PrimitiveLiteral::Double(f) => Some(f.0),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use ailk_catalog::iceberg::spec::{
        DataContentType, DataFileBuilder, DataFileFormat, NestedField, Schema, Type,
    };

    use super::*;

    fn file(lo: (i64, &str), hi: (i64, &str)) -> DataFile {
        DataFileBuilder::default()
            .content(DataContentType::Data)
            .file_path("mem://f.parquet".into())
            .file_format(DataFileFormat::Parquet)
            .record_count(10)
            .file_size_in_bytes(1)
            .lower_bounds(HashMap::from([(1, Datum::long(lo.0)), (2, Datum::string(lo.1))]))
            .upper_bounds(HashMap::from([(1, Datum::long(hi.0)), (2, Datum::string(hi.1))]))
            .build()
            .unwrap()
    }

    fn schema() -> Schema {
        Schema::builder()
            .with_fields(vec![
                NestedField::required(1, "id", Type::Primitive(PrimitiveType::Long)).into(),
                NestedField::required(2, "lang", Type::Primitive(PrimitiveType::String)).into(),
                NestedField::required(3, "other", Type::Primitive(PrimitiveType::Long)).into(),
            ])
            .build()
            .unwrap()
    }

    /// Pruning agrees with evaluating the filter on every value of the bounds' range.
    #[test]
    fn bounds_prune_only_files_without_matches() {
        let f = file((10, "de"), (20, "fr"));
        let s = schema();
        let cases = [
            (Filter::eq("id", 15i64), true),
            (Filter::eq("id", 21i64), false),
            (Filter::cmp("id", Op::Lt, 10i64), false),
            (Filter::cmp("id", Op::Le, 10i64), true),
            (Filter::cmp("id", Op::Gt, 20i64), false),
            (Filter::cmp("id", Op::Ge, 20.0), true),
            (Filter::cmp("id", Op::Ne, 15i64), true),
            (Filter::eq("lang", "en"), true),
            (Filter::eq("lang", "it"), false),
            (Filter::eq("id", 30i64).or(Filter::eq("lang", "es")), true),
            (Filter::eq("id", 30i64).and(Filter::eq("lang", "es")), false),
            // Unknown bounds and mismatched types never prune.
            (Filter::eq("other", 99i64), true),
            (Filter::eq("id", "x"), true),
        ];
        for (filter, expected) in cases {
            assert_eq!(may_match(&filter, &f, &s), expected, "{filter:?}");
        }
        let single = file((7, "en"), (7, "en"));
        assert!(!may_match(&Filter::cmp("id", Op::Ne, 7i64), &single, &s));
    }
}
