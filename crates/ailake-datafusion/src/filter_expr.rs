//! DataFusion filter expressions as ailake [`Filter`]s, and the filter's wire form for plans
//! shipped to Ballista executors.
//!
//! Translated: comparisons of a column with a literal (either side), `AND`, `OR`, `NOT`,
//! `[NOT] IN (literals)` and `[NOT] BETWEEN`. `NOT` is pushed down to the comparisons (De
//! Morgan, inverted operators), which keeps SQL's three-valued logic: a comparison with a
//! null column never matches, negated or not, exactly where SQL's `WHERE` drops the row.

use ailake::{Filter, Literal, Op};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::logical_expr::{Between, BinaryExpr, Expr, Operator};
use serde::{Deserialize, Serialize};

/// `expr` as a [`Filter`], or `None` when it uses anything the filter cannot express.
pub fn to_filter(expr: &Expr) -> Option<Filter> {
    translate(expr, false)
}

/// All of `exprs` as one filter (`None` when empty); `None` inside when one does not translate.
pub fn conjunction(exprs: &[Expr]) -> Option<Option<Filter>> {
    let mut out: Option<Filter> = None;
    for e in exprs {
        let f = to_filter(e)?;
        out = Some(match out {
            None => f,
            Some(acc) => acc.and(f),
        });
    }
    Some(out)
}

fn translate(expr: &Expr, negated: bool) -> Option<Filter> {
    match expr {
        Expr::Not(inner) => translate(inner, !negated),
        Expr::BinaryExpr(BinaryExpr { left, op: Operator::And, right }) => {
            let (a, b) = (translate(left, negated)?, translate(right, negated)?);
            Some(if negated { a.or(b) } else { a.and(b) })
        }
        Expr::BinaryExpr(BinaryExpr { left, op: Operator::Or, right }) => {
            let (a, b) = (translate(left, negated)?, translate(right, negated)?);
            Some(if negated { a.and(b) } else { a.or(b) })
        }
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
            let op = comparison(*op)?;
            let (column, op, lit) = match (column_name(left), column_name(right)) {
                (Some(c), None) => (c, op, literal(right)?),
                (None, Some(c)) => (c, flip(op), literal(left)?),
                _ => return None,
            };
            Some(Filter::cmp(column, if negated { invert(op) } else { op }, lit))
        }
        Expr::InList(list) => {
            let column = column_name(&list.expr)?;
            // `NOT IN` a list holding a null never matches in SQL: leave such lists to DataFusion.
            let values: Vec<Literal> = list.list.iter().map(literal).collect::<Option<_>>()?;
            let (op, any) = if list.negated != negated { (Op::Ne, false) } else { (Op::Eq, true) };
            let mut parts = values.into_iter().map(|v| Filter::cmp(column.clone(), op, v));
            let first = parts.next()?;
            Some(parts.fold(first, |acc, f| if any { acc.or(f) } else { acc.and(f) }))
        }
        Expr::Between(Between { expr, negated: not_between, low, high }) => {
            let column = column_name(expr)?;
            let (low, high) = (literal(low)?, literal(high)?);
            if *not_between != negated {
                Some(Filter::cmp(column.clone(), Op::Lt, low).or(Filter::cmp(column, Op::Gt, high)))
            } else {
                Some(Filter::cmp(column.clone(), Op::Ge, low).and(Filter::cmp(column, Op::Le, high)))
            }
        }
        _ => None,
    }
}

fn comparison(op: Operator) -> Option<Op> {
    Some(match op {
        Operator::Eq => Op::Eq,
        Operator::NotEq => Op::Ne,
        Operator::Lt => Op::Lt,
        Operator::LtEq => Op::Le,
        Operator::Gt => Op::Gt,
        Operator::GtEq => Op::Ge,
        _ => return None,
    })
}

/// The operator with its operands swapped (`5 < x` is `x > 5`).
fn flip(op: Op) -> Op {
    match op {
        Op::Lt => Op::Gt,
        Op::Le => Op::Ge,
        Op::Gt => Op::Lt,
        Op::Ge => Op::Le,
        op => op,
    }
}

/// The negated operator (`NOT x < 5` is `x >= 5`; both drop a null `x`).
fn invert(op: Op) -> Op {
    match op {
        Op::Eq => Op::Ne,
        Op::Ne => Op::Eq,
        Op::Lt => Op::Ge,
        Op::Le => Op::Gt,
        Op::Gt => Op::Le,
        Op::Ge => Op::Lt,
    }
}

/// A column reference, also under a cast DataFusion added to compare it (a string column
/// read as `Utf8View`, an integer widened): the filter casts the literal to the column's
/// type instead, and widens an integer column for a fractional literal itself.
fn column_name(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Column(c) => Some(c.name.clone()),
        Expr::Cast(c) if widening(&c.data_type) => column_name(&c.expr),
        Expr::TryCast(c) if widening(&c.data_type) => column_name(&c.expr),
        _ => None,
    }
}

fn widening(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Int64 | DataType::Float64
    )
}

fn literal(expr: &Expr) -> Option<Literal> {
    match expr {
        Expr::Literal(v, _) => scalar(v),
        Expr::Cast(c) => literal(&c.expr),
        Expr::Negative(inner) => match literal(inner)? {
            Literal::Int(i) => Some(Literal::Int(i.checked_neg()?)),
            Literal::Float(f) => Some(Literal::Float(-f)),
            Literal::Str(_) => None,
        },
        _ => None,
    }
}

fn scalar(v: &ScalarValue) -> Option<Literal> {
    Some(match v {
        ScalarValue::Int8(Some(i)) => Literal::Int(i64::from(*i)),
        ScalarValue::Int16(Some(i)) => Literal::Int(i64::from(*i)),
        ScalarValue::Int32(Some(i)) => Literal::Int(i64::from(*i)),
        ScalarValue::Int64(Some(i)) => Literal::Int(*i),
        ScalarValue::UInt8(Some(i)) => Literal::Int(i64::from(*i)),
        ScalarValue::UInt16(Some(i)) => Literal::Int(i64::from(*i)),
        ScalarValue::UInt32(Some(i)) => Literal::Int(i64::from(*i)),
        ScalarValue::UInt64(Some(i)) => Literal::Int(i64::try_from(*i).ok()?),
        ScalarValue::Float32(Some(f)) => Literal::Float(f64::from(*f)),
        ScalarValue::Float64(Some(f)) => Literal::Float(*f),
        ScalarValue::Utf8(Some(s)) | ScalarValue::LargeUtf8(Some(s)) | ScalarValue::Utf8View(Some(s)) => {
            Literal::Str(s.clone())
        }
        _ => return None,
    })
}

/// A [`Filter`] as plans carry it between processes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) enum FilterWire {
    Cmp(String, String, LiteralWire),
    And(Box<FilterWire>, Box<FilterWire>),
    Or(Box<FilterWire>, Box<FilterWire>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) enum LiteralWire {
    Int(i64),
    Float(f64),
    Str(String),
}

const OPS: [(Op, &str); 6] =
    [(Op::Eq, "="), (Op::Ne, "!="), (Op::Lt, "<"), (Op::Le, "<="), (Op::Gt, ">"), (Op::Ge, ">=")];

impl From<&Filter> for FilterWire {
    fn from(f: &Filter) -> Self {
        match f {
            Filter::Cmp(c, op, lit) => {
                let op = OPS.iter().find(|(o, _)| o == op).map_or("=", |(_, s)| s);
                let lit = match lit {
                    Literal::Int(i) => LiteralWire::Int(*i),
                    Literal::Float(v) => LiteralWire::Float(*v),
                    Literal::Str(s) => LiteralWire::Str(s.clone()),
                };
                FilterWire::Cmp(c.clone(), op.to_string(), lit)
            }
            Filter::And(a, b) => FilterWire::And(Box::new((&**a).into()), Box::new((&**b).into())),
            Filter::Or(a, b) => FilterWire::Or(Box::new((&**a).into()), Box::new((&**b).into())),
        }
    }
}

impl FilterWire {
    /// The filter, or `None` for an operator this build does not know.
    pub(crate) fn to_filter(&self) -> Option<Filter> {
        Some(match self {
            FilterWire::Cmp(c, op, lit) => {
                let op = OPS.iter().find(|(_, s)| s == op)?.0;
                let lit = match lit {
                    LiteralWire::Int(i) => Literal::Int(*i),
                    LiteralWire::Float(v) => Literal::Float(*v),
                    LiteralWire::Str(s) => Literal::Str(s.clone()),
                };
                Filter::cmp(c.clone(), op, lit)
            }
            FilterWire::And(a, b) => a.to_filter()?.and(b.to_filter()?),
            FilterWire::Or(a, b) => a.to_filter()?.or(b.to_filter()?),
        })
    }
}

#[cfg(test)]
mod tests {
    use datafusion::prelude::{col, lit};

    use super::*;

    #[test]
    fn comparisons_and_logic_translate() {
        let e = col("lang").eq(lit("en")).and(lit(5i64).lt(col("n")));
        assert_eq!(to_filter(&e), Some(Filter::eq("lang", "en").and(Filter::cmp("n", Op::Gt, 5i64))));
        // NOT is pushed to the comparisons.
        let e = Expr::Not(Box::new(col("a").eq(lit(1i64)).or(col("b").lt_eq(lit(2.5)))));
        assert_eq!(to_filter(&e), Some(Filter::cmp("a", Op::Ne, 1i64).and(Filter::cmp("b", Op::Gt, 2.5))));
        let e = col("a").in_list(vec![lit(1i64), lit(2i64)], true);
        assert_eq!(to_filter(&e), Some(Filter::cmp("a", Op::Ne, 1i64).and(Filter::cmp("a", Op::Ne, 2i64))));
        let e = col("a").between(lit(1i64), lit(3i64));
        assert_eq!(to_filter(&e), Some(Filter::cmp("a", Op::Ge, 1i64).and(Filter::cmp("a", Op::Le, 3i64))));
        let e = col("a").not_between(lit(1i64), lit(3i64));
        assert_eq!(to_filter(&e), Some(Filter::cmp("a", Op::Lt, 1i64).or(Filter::cmp("a", Op::Gt, 3i64))));
    }

    #[test]
    fn untranslatable_expressions_are_none() {
        assert_eq!(to_filter(&col("a").is_null()), None);
        assert_eq!(to_filter(&col("a").eq(col("b"))), None);
        assert_eq!(to_filter(&col("a").like(lit("x%"))), None);
        assert_eq!(to_filter(&col("a").in_list(vec![lit(ScalarValue::Int64(None))], true)), None);
        assert_eq!(conjunction(&[col("a").eq(lit(1i64)), col("a").is_null()]), None);
        assert_eq!(conjunction(&[]), Some(None));
    }

    #[test]
    fn wire_form_round_trips() {
        let f =
            Filter::eq("lang", "en").or(Filter::cmp("n", Op::Ge, 2.5).and(Filter::cmp("m", Op::Lt, -3i64)));
        let wire = FilterWire::from(&f);
        let json = serde_json::to_string(&wire).unwrap();
        let back: FilterWire = serde_json::from_str(&json).unwrap();
        assert_eq!(back.to_filter(), Some(f));
    }
}
