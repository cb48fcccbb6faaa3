//! A small SQL-like text form of [`Filter`]: `lang = 'en' AND (year >= 2020 OR score < 0.5)`.
//!
//! Grammar (keywords case-insensitive, AND binds tighter than OR):
//! `expr := and (OR and)*`, `and := atom (AND atom)*`,
//! `atom := '(' expr ')' | column op literal | column [NOT] IN '(' literal (',' literal)* ')'`,
//! `op := = | == | != | <> | < | <= | > | >=` (`IN` is an `OR` of `=`, `NOT IN` an `AND` of `!=`),
//! `column := name | "quoted name"`, `literal := 'text' ('' escapes a quote) | number`.

use std::str::FromStr;

use crate::error::SearchError;
use crate::filter::{Filter, Literal, Op};

#[derive(Debug, Clone, PartialEq)]
enum Token {
    /// A bare word: a column name, or a keyword (AND, OR, NOT, IN).
    Name(String),
    /// A double-quoted column name: never a keyword (`"OR" = 1` names a column).
    Quoted(String),
    Str(String),
    Num(Literal),
    Op(Op),
    Open,
    Close,
    Comma,
}

fn error(input: &str, at: usize, what: &str) -> SearchError {
    SearchError::InvalidQuery(format!("filter {input:?}: {what} at character {}", at + 1))
}

fn tokenize(input: &str) -> Result<Vec<(usize, Token)>, SearchError> {
    let chars: Vec<(usize, char)> = input.char_indices().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        let next = chars.get(i + 1).map(|&(_, c)| c);
        let token = match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '(' => (Token::Open, 1),
            ')' => (Token::Close, 1),
            ',' => (Token::Comma, 1),
            '=' if next == Some('=') => (Token::Op(Op::Eq), 2),
            '=' => (Token::Op(Op::Eq), 1),
            '!' if next == Some('=') => (Token::Op(Op::Ne), 2),
            '<' if next == Some('>') => (Token::Op(Op::Ne), 2),
            '<' if next == Some('=') => (Token::Op(Op::Le), 2),
            '<' => (Token::Op(Op::Lt), 1),
            '>' if next == Some('=') => (Token::Op(Op::Ge), 2),
            '>' => (Token::Op(Op::Gt), 1),
            '\'' | '"' => {
                let mut text = String::new();
                let mut j = i + 1;
                loop {
                    match chars.get(j) {
                        None => return Err(error(input, at, "unterminated quote")),
                        Some(&(_, q)) if q == c && chars.get(j + 1).map(|p| p.1) == Some(c) => {
                            text.push(c);
                            j += 2;
                        }
                        Some(&(_, q)) if q == c => break,
                        Some(&(_, other)) => {
                            text.push(other);
                            j += 1;
                        }
                    }
                }
                let token = if c == '\'' { Token::Str(text) } else { Token::Quoted(text) };
                out.push((at, token));
                i = j + 1;
                continue;
            }
            c if c.is_ascii_digit()
                || ((c == '-' || c == '+' || c == '.')
                    && next.is_some_and(|n| n.is_ascii_digit() || n == '.')) =>
            {
                let mut j = i + 1;
                while chars.get(j).is_some_and(|&(_, d)| {
                    d.is_ascii_digit()
                        || d == '.'
                        || d == 'e'
                        || d == 'E'
                        || ((d == '-' || d == '+') && matches!(chars[j - 1].1, 'e' | 'E'))
                }) {
                    j += 1;
                }
                let end = chars.get(j).map_or(input.len(), |&(b, _)| b);
                let text = &input[at..end];
                let lit = match text.parse::<i64>() {
                    Ok(v) => Literal::Int(v),
                    Err(_) => Literal::Float(
                        text.parse::<f64>()
                            .map_err(|_| error(input, at, &format!("{text:?} is not a number")))?,
                    ),
                };
                out.push((at, Token::Num(lit)));
                i = j;
                continue;
            }
            c if c.is_alphabetic() || c == '_' => {
                let mut j = i + 1;
                while chars.get(j).is_some_and(|&(_, d)| d.is_alphanumeric() || d == '_' || d == '.') {
                    j += 1;
                }
                let end = chars.get(j).map_or(input.len(), |&(b, _)| b);
                out.push((at, Token::Name(input[at..end].to_string())));
                i = j;
                continue;
            }
            other => return Err(error(input, at, &format!("unexpected {other:?}"))),
        };
        out.push((at, token.0));
        i += token.1;
    }
    Ok(out)
}

/// The deepest nesting of parentheses a filter may have.
pub const MAX_FILTER_DEPTH: usize = 64;

struct Parser<'a> {
    input: &'a str,
    tokens: Vec<(usize, Token)>,
    pos: usize,
    /// Parentheses open at `pos`.
    depth: usize,
}

/// `parts` joined by AND (or OR) as a balanced tree: a chain of n terms (`a AND b AND …`, an
/// `IN` list) is log2(n) deep, so nothing that walks a filter recurses deeply.
fn balanced(mut parts: Vec<Filter>, and: bool) -> Filter {
    while parts.len() > 1 {
        let mut next = Vec::with_capacity(parts.len().div_ceil(2));
        let mut it = parts.into_iter();
        while let Some(a) = it.next() {
            next.push(match it.next() {
                Some(b) if and => a.and(b),
                Some(b) => a.or(b),
                None => a,
            });
        }
        parts = next;
    }
    parts.pop().expect("one term at least")
}

impl Parser<'_> {
    fn at(&self) -> usize {
        self.tokens.get(self.pos).map_or(self.input.len(), |t| t.0)
    }

    fn keyword(&mut self, word: &str) -> bool {
        match self.tokens.get(self.pos) {
            Some((_, Token::Name(n))) if n.eq_ignore_ascii_case(word) => {
                self.pos += 1;
                true
            }
            _ => false,
        }
    }

    fn expr(&mut self) -> Result<Filter, SearchError> {
        let mut terms = vec![self.and()?];
        while self.keyword("or") {
            terms.push(self.and()?);
        }
        Ok(balanced(terms, false))
    }

    fn and(&mut self) -> Result<Filter, SearchError> {
        let mut terms = vec![self.atom()?];
        while self.keyword("and") {
            terms.push(self.atom()?);
        }
        Ok(balanced(terms, true))
    }

    fn atom(&mut self) -> Result<Filter, SearchError> {
        let at = self.at();
        let token = self.tokens.get(self.pos).cloned().map(|t| t.1);
        self.pos += 1;
        match token {
            Some(Token::Open) => {
                if self.depth >= MAX_FILTER_DEPTH {
                    return Err(error(
                        self.input,
                        at,
                        &format!("parentheses nested deeper than {MAX_FILTER_DEPTH}"),
                    ));
                }
                self.depth += 1;
                let inner = self.expr()?;
                self.depth -= 1;
                match self.tokens.get(self.pos) {
                    Some((_, Token::Close)) => {
                        self.pos += 1;
                        Ok(inner)
                    }
                    _ => Err(error(self.input, self.at(), "expected ')'")),
                }
            }
            Some(Token::Quoted(column)) => self.comparison(column),
            Some(Token::Name(column)) if !["and", "or"].iter().any(|k| column.eq_ignore_ascii_case(k)) => {
                self.comparison(column)
            }
            None => Err(error(self.input, at, "expected a comparison, found the end")),
            Some(_) => Err(error(self.input, at, "expected a column name or '('")),
        }
    }
}

impl Parser<'_> {
    /// What follows a column name: `[NOT] IN (...)` or a comparison with a literal.
    fn comparison(&mut self, column: String) -> Result<Filter, SearchError> {
        let negated = self.keyword("not");
        if self.keyword("in") {
            return self.in_list(column, negated);
        }
        if negated {
            return Err(error(self.input, self.at(), "expected IN after NOT"));
        }
        let op = match self.tokens.get(self.pos) {
            Some((_, Token::Op(op))) => *op,
            _ => return Err(error(self.input, self.at(), "expected a comparison (= != < <= > >=)")),
        };
        self.pos += 1;
        let lit = match self.tokens.get(self.pos) {
            Some((_, Token::Str(s))) => Literal::Str(s.clone()),
            Some((_, Token::Num(n))) => n.clone(),
            _ => return Err(error(self.input, self.at(), "expected a 'string' or a number")),
        };
        self.pos += 1;
        Ok(Filter::Cmp(column, op, lit))
    }

    /// `( literal, ... )` after `column [NOT] IN`: an `OR` of `=` (an `AND` of `!=`).
    fn in_list(&mut self, column: String, negated: bool) -> Result<Filter, SearchError> {
        if !matches!(self.tokens.get(self.pos), Some((_, Token::Open))) {
            return Err(error(self.input, self.at(), "expected '(' after IN"));
        }
        self.pos += 1;
        let mut out: Vec<Filter> = Vec::new();
        loop {
            let lit = match self.tokens.get(self.pos) {
                Some((_, Token::Str(s))) => Literal::Str(s.clone()),
                Some((_, Token::Num(n))) => n.clone(),
                _ => {
                    return Err(error(
                        self.input,
                        self.at(),
                        "expected a 'string' or a number in the IN list",
                    ))
                }
            };
            self.pos += 1;
            let one = Filter::Cmp(column.clone(), if negated { Op::Ne } else { Op::Eq }, lit);
            out.push(one);
            match self.tokens.get(self.pos) {
                Some((_, Token::Comma)) => self.pos += 1,
                Some((_, Token::Close)) => {
                    self.pos += 1;
                    return Ok(balanced(out, negated));
                }
                _ => return Err(error(self.input, self.at(), "expected ',' or ')' in the IN list")),
            }
        }
    }
}

impl Filter {
    /// Parses the text form (see the module docs); a malformed expression is an
    /// [`SearchError::InvalidQuery`] naming the position.
    pub fn parse(input: &str) -> Result<Filter, SearchError> {
        let mut p = Parser { input, tokens: tokenize(input)?, pos: 0, depth: 0 };
        let filter = p.expr()?;
        if p.pos < p.tokens.len() {
            return Err(error(input, p.at(), "unexpected text after the expression"));
        }
        Ok(filter)
    }
}

impl FromStr for Filter {
    type Err = SearchError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Filter::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_comparisons_with_precedence_and_quotes() {
        let f = Filter::parse("lang = 'en' AND year >= 2020 or score < -0.5").unwrap();
        let want = Filter::eq("lang", "en").and(Filter::cmp("year", Op::Ge, 2020)).or(Filter::cmp(
            "score",
            Op::Lt,
            -0.5,
        ));
        assert_eq!(f, want);
        let f: Filter = "(a != 1 OR \"odd name\" <> 'it''s') and b == 2.5e3".parse().unwrap();
        let want = Filter::cmp("a", Op::Ne, 1).or(Filter::cmp("odd name", Op::Ne, "it's")).and(Filter::cmp(
            "b",
            Op::Eq,
            2500.0,
        ));
        assert_eq!(f, want);
        assert_eq!(Filter::parse("x<=3").unwrap(), Filter::cmp("x", Op::Le, 3));
        assert_eq!(Filter::parse("x>3").unwrap(), Filter::cmp("x", Op::Gt, 3));
        assert_eq!(Filter::parse("x = 'é ü'").unwrap(), Filter::eq("x", "é ü"));
        assert_eq!(
            Filter::parse("id IN (5, 17, -2) and lang not in ('xx', 'yy')").unwrap(),
            Filter::eq("id", 5)
                .or(Filter::eq("id", 17))
                .or(Filter::eq("id", -2))
                .and(Filter::cmp("lang", Op::Ne, "xx").and(Filter::cmp("lang", Op::Ne, "yy")))
        );
        assert_eq!(Filter::parse("id in (3)").unwrap(), Filter::eq("id", 3));
    }

    #[test]
    fn malformed_expressions_are_invalid_input_with_a_position() {
        for bad in [
            "",
            "lang",
            "lang =",
            "lang = en",
            "= 'en'",
            "lang = 'en",
            "(lang = 'en'",
            "lang = 'en')",
            "lang = 'en' AND",
            "lang = 'en' year = 1",
            "a = 1 AND OR b = 2",
            "a ~ 1",
            "a = 1.2.3",
            "a IN ()",
            "a IN (1,)",
            "a IN 1",
            "a IN (1 2)",
            "a NOT = 1",
            "a IN (b)",
            "a, b = 1",
        ] {
            let err = Filter::parse(bad).unwrap_err();
            assert!(matches!(err, SearchError::InvalidQuery(_)), "{bad:?}: {err}");
            assert!(err.to_string().contains("character"), "{bad:?}: {err}");
        }
    }

    /// How deep a filter's tree is, walked without recursion.
    fn depth(f: &Filter) -> usize {
        let mut stack = vec![(f, 1)];
        let mut deepest = 0;
        while let Some((f, d)) = stack.pop() {
            deepest = deepest.max(d);
            if let Filter::And(a, b) | Filter::Or(a, b) = f {
                stack.push((a, d + 1));
                stack.push((b, d + 1));
            }
        }
        deepest
    }

    #[test]
    fn hostile_filters_are_refused_or_kept_shallow() {
        // Nesting past the limit is a typed error, at any depth (no recursion blows up first).
        for n in [MAX_FILTER_DEPTH + 1, 100_000] {
            let deep = format!("{}id = 1{}", "(".repeat(n), ")".repeat(n));
            let err = Filter::parse(&deep).unwrap_err().to_string();
            assert!(err.contains("nested deeper than 64"), "{err}");
        }
        let ok = format!("{}id = 1{}", "(".repeat(MAX_FILTER_DEPTH), ")".repeat(MAX_FILTER_DEPTH));
        assert_eq!(Filter::parse(&ok).unwrap(), Filter::eq("id", 1));
        // A 200,000-literal IN list and a 100,000-term AND chain are balanced trees.
        let list: Vec<String> = (0..200_000).map(|i| i.to_string()).collect();
        let f = Filter::parse(&format!("id IN ({})", list.join(","))).unwrap();
        assert!(depth(&f) <= 19, "{}", depth(&f));
        assert_eq!(f.columns(), vec!["id".to_string()]);
        let chain: Vec<String> = (0..100_000).map(|i| format!("id != {i}")).collect();
        let f = Filter::parse(&chain.join(" AND ")).unwrap();
        assert!(depth(&f) <= 18, "{}", depth(&f));
        let f = Filter::parse(&format!("id NOT IN ({})", list.join(","))).unwrap();
        assert!(format!("{f:?}").len() > 1000);
    }

    fn filter_strategy() -> impl proptest::strategy::Strategy<Value = Filter> {
        use proptest::prelude::*;
        let op =
            prop_oneof![Just(Op::Eq), Just(Op::Ne), Just(Op::Lt), Just(Op::Le), Just(Op::Gt), Just(Op::Ge)];
        let literal = prop_oneof![
            any::<i64>().prop_map(Literal::Int),
            any::<f64>().prop_filter("finite", |v| v.is_finite()).prop_map(Literal::Float),
            ".{0,12}".prop_map(Literal::Str),
        ];
        let leaf = ("[a-zA-Z_\"' é0-9]{1,10}", op, literal).prop_map(|(c, o, l)| Filter::Cmp(c, o, l));
        leaf.prop_recursive(4, 16, 2, |inner| {
            prop_oneof![
                (inner.clone(), inner.clone()).prop_map(|(a, b)| a.and(b)),
                (inner.clone(), inner).prop_map(|(a, b)| a.or(b)),
            ]
        })
    }

    #[test]
    fn a_quoted_keyword_is_a_column_name() {
        let f = Filter::parse(r#""OR" = 'x' AND "and" < 1 OR "not" IN (2)"#).unwrap();
        let expected = Filter::Or(
            Box::new(Filter::And(
                Box::new(Filter::Cmp("OR".into(), Op::Eq, Literal::Str("x".into()))),
                Box::new(Filter::Cmp("and".into(), Op::Lt, Literal::Int(1))),
            )),
            Box::new(Filter::Cmp("not".into(), Op::Eq, Literal::Int(2))),
        );
        assert_eq!(f, expected);
        assert!(Filter::parse("OR = 'x'").is_err(), "a bare keyword is not a column");
    }

    proptest::proptest! {
        /// The text form parses back to the same filter, so equal texts mean equal filters.
        #[test]
        fn display_parses_back_to_the_same_filter(f in filter_strategy()) {
            let text = f.to_string();
            proptest::prop_assert_eq!(Filter::parse(&text).unwrap(), f, "{}", text);
        }
    }
}
