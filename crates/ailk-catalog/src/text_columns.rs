//! The text columns of a table that carry a full-text index in every data file, each with its
//! analyzer, recorded in the table's properties (`ailake.text-columns`) at `create`.

use arrow_schema::{DataType, Schema as ArrowSchema};

use crate::error::{CatalogError, Result};

/// Table property listing the full-text indexed columns: `name:analyzer` entries,
/// comma-separated.
pub const TEXT_COLUMNS_PROPERTY: &str = "ailake.text-columns";

/// One full-text indexed column of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextSpec {
    /// Column name (a string attribute column).
    pub name: String,
    /// Analyzer name, one of [`ailk_format::TEXT_ANALYZERS`].
    pub analyzer: String,
}

impl TextSpec {
    /// Column `name` indexed with the `simple` analyzer (Unicode words, lowercased).
    pub fn new(name: impl Into<String>) -> Self {
        Self { name: name.into(), analyzer: "simple".into() }
    }

    /// The same column with analyzer `analyzer`.
    pub fn with_analyzer(mut self, analyzer: impl Into<String>) -> Self {
        self.analyzer = analyzer.into();
        self
    }
}

/// Encodes specs as the `ailake.text-columns` property value.
pub fn encode_text_specs(specs: &[TextSpec]) -> String {
    specs.iter().map(|s| format!("{}:{}", s.name, s.analyzer)).collect::<Vec<_>>().join(",")
}

/// Parses the `ailake.text-columns` property value (empty: none).
pub fn parse_text_specs(value: &str) -> Result<Vec<TextSpec>> {
    value
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|entry| {
            let (name, analyzer) = entry
                .rsplit_once(':')
                .filter(|(n, a)| !n.is_empty() && ailk_format::TEXT_ANALYZERS.contains(a))
                .ok_or_else(|| CatalogError::Corrupt(format!("bad text column entry {entry:?}")))?;
            Ok(TextSpec { name: name.into(), analyzer: analyzer.into() })
        })
        .collect()
}

/// Checks `specs` against a new table's attribute columns: each names a string column, once,
/// with a known analyzer.
pub fn check_text_specs(attributes: &ArrowSchema, specs: &[TextSpec]) -> Result<()> {
    for (i, s) in specs.iter().enumerate() {
        let field = attributes.field_with_name(&s.name).map_err(|_| {
            CatalogError::InvalidInput(format!("text index column {} is not an attribute column", s.name))
        })?;
        if !matches!(field.data_type(), DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View) {
            return Err(CatalogError::InvalidInput(format!(
                "text index column {} is {}, not a string column",
                s.name,
                field.data_type()
            )));
        }
        if s.name.contains([',', ':']) {
            return Err(CatalogError::InvalidInput(format!(
                "text index column name {:?} holds ',' or ':'",
                s.name
            )));
        }
        if !ailk_format::TEXT_ANALYZERS.contains(&s.analyzer.as_str()) {
            return Err(CatalogError::InvalidInput(format!(
                "unknown text analyzer {:?} for {} (known: {})",
                s.analyzer,
                s.name,
                ailk_format::TEXT_ANALYZERS.join(", ")
            )));
        }
        if specs[..i].iter().any(|o| o.name == s.name) {
            return Err(CatalogError::InvalidInput(format!("text index column {} given twice", s.name)));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_schema::Field;

    #[test]
    fn specs_round_trip_and_bad_ones_are_refused() {
        let specs = [TextSpec::new("title"), TextSpec::new("body").with_analyzer("english")];
        let text = encode_text_specs(&specs);
        assert_eq!(text, "title:simple,body:english");
        assert_eq!(parse_text_specs(&text).unwrap(), specs);
        assert!(parse_text_specs("").unwrap().is_empty());
        assert!(parse_text_specs("body:klingon").is_err());
        let schema = ArrowSchema::new(vec![
            Field::new("title", DataType::Utf8, true),
            Field::new("body", DataType::LargeUtf8, true),
            Field::new("n", DataType::Int64, false),
        ]);
        check_text_specs(&schema, &specs).unwrap();
        assert!(check_text_specs(&schema, &[TextSpec::new("n")]).is_err());
        assert!(check_text_specs(&schema, &[TextSpec::new("missing")]).is_err());
        assert!(check_text_specs(&schema, &[TextSpec::new("title").with_analyzer("x")]).is_err());
        assert!(check_text_specs(&schema, &[TextSpec::new("title"), TextSpec::new("title")]).is_err());
    }
}
