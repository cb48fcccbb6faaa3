//! Where tables live: the catalog and warehouse flags (or environment), opened as a [`Catalog`].

use std::path::{Path, PathBuf};

use ailake::prelude::*;
use anyhow::Context;
use clap::Args;

use crate::errors::{invalid, not_found};

/// The catalog and warehouse every subcommand works on.
#[derive(Debug, Clone, Args)]
pub struct LakeArgs {
    /// Warehouse directory holding the tables' files (`DIR` or `file:///DIR`; default
    /// `warehouse`). With a REST catalog, default: the warehouse the server names.
    #[arg(long, global = true, env = "AILAKE_WAREHOUSE")]
    pub warehouse: Option<String>,
    /// The catalog: SQLite (`sqlite:///PATH` or a path; default `catalog.db` in the
    /// warehouse) or an Iceberg REST catalog (`http(s)://HOST/…`).
    #[arg(long, global = true, env = "AILAKE_CATALOG")]
    pub catalog: Option<String>,
    /// Bearer token for a REST catalog.
    #[arg(long, global = true, env = "AILAKE_CATALOG_TOKEN", hide_env_values = true)]
    pub catalog_token: Option<String>,
    /// OAuth2 client credentials (`CLIENT_ID:SECRET`) for a REST catalog.
    #[arg(long, global = true, env = "AILAKE_CATALOG_CREDENTIAL", hide_env_values = true)]
    pub catalog_credential: Option<String>,
    /// Catalog name inside the SQLite file (pyiceberg's `SqlCatalog(name, …)`).
    #[arg(long, global = true, env = "AILAKE_CATALOG_NAME", default_value = "default")]
    pub catalog_name: String,
}

impl LakeArgs {
    /// The warehouse as given (default `warehouse`).
    pub fn warehouse(&self) -> &str {
        self.warehouse.as_deref().unwrap_or("warehouse")
    }

    /// The REST catalog URL, when the catalog is one.
    pub fn rest_uri(&self) -> Option<&str> {
        self.catalog.as_deref().filter(|c| c.starts_with("http://") || c.starts_with("https://"))
    }

    /// The warehouse directory.
    pub fn warehouse_dir(&self) -> anyhow::Result<PathBuf> {
        let w = self.warehouse();
        if let Some(rest) = w.strip_prefix("file://") {
            return Ok(PathBuf::from(rest));
        }
        if w.contains("://") {
            return Err(crate::errors::CliError {
                kind: ErrorKind::Unsupported,
                message: format!(
                    "warehouse {w}: only local directories are supported by this build (object stores come with the s3 feature)"
                ),
            }
            .into());
        }
        Ok(PathBuf::from(w))
    }

    /// The SQLite catalog file.
    pub fn catalog_path(&self) -> anyhow::Result<PathBuf> {
        match &self.catalog {
            None => Ok(self.warehouse_dir()?.join("catalog.db")),
            Some(c) => match c.strip_prefix("sqlite://") {
                Some(path) => Ok(PathBuf::from(path)),
                None if c.contains("://") => {
                    Err(invalid(format!("catalog {c}: expected sqlite:///PATH or a file path")))
                }
                None => Ok(PathBuf::from(c)),
            },
        }
    }

    /// Opens the catalog; unless `create`, a missing catalog file is a not-found error (a
    /// mistyped `--warehouse` must not silently start an empty lake).
    pub async fn open(&self, create: bool) -> anyhow::Result<Catalog> {
        if let Some(uri) = self.rest_uri() {
            let options = ailake::ConnectOptions {
                warehouse: self.warehouse.clone(),
                token: self.catalog_token.clone().map(ailake::Secret::new),
                credential: self.catalog_credential.clone().map(ailake::Secret::new),
                ..Default::default()
            };
            return Ok(Catalog::connect(uri, options).await?);
        }
        let (db, dir) = (self.catalog_path()?, self.warehouse_dir()?);
        if !create && !db.exists() {
            return Err(not_found(format!(
                "no catalog at {} (create a table first, or pass --warehouse / --catalog)",
                db.display()
            )));
        }
        if create {
            if let Some(parent) = db.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
            }
        }
        Ok(Catalog::local(&db, &self.catalog_name, &dir).await?)
    }

    /// Opens the catalog and loads `table` at its newest version.
    pub async fn table(&self, table: &str) -> anyhow::Result<Table> {
        let catalog = self.open(false).await?;
        Ok(catalog.load_table(&parse_ident(table)?).await?)
    }
}

/// `namespace.name`.
pub fn parse_ident(table: &str) -> anyhow::Result<TableIdent> {
    Ok(TableIdent::parse(table)?)
}

/// An absolute form of `path` for messages users copy.
pub fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// A count flag of at least 1: `0` and negatives refused in words (clap's own range message
/// would print u64's bounds).
pub fn at_least_one(s: &str) -> Result<u64, String> {
    let s = s.trim();
    match s.parse::<i128>() {
        Ok(n) if n < 1 => Err(format!("{n} is too small: it must be at least 1")),
        Ok(n) => u64::try_from(n).map_err(|_| format!("{n} is too large")),
        Err(_) if !s.is_empty() && s.trim_start_matches('-').chars().all(|c| c.is_ascii_digit()) => {
            Err(format!("{s} is out of range: it must be at least 1 and fit 64 bits"))
        }
        Err(_) => Err(format!("{s:?} is not a whole number")),
    }
}

/// A byte size: a whole number with an optional `K`, `M`, `G` or `T` (powers of 1024; `KiB`,
/// `MB` … accepted alike), at least 1.
pub fn byte_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(digits);
    let shift = match unit.trim().to_ascii_uppercase().trim_end_matches("IB").trim_end_matches('B') {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        "T" => 40,
        _ => return Err(format!("{s:?} is not a size: write e.g. 512M or 4G")),
    };
    let n = at_least_one(number)?;
    n.checked_mul(1 << shift).ok_or_else(|| format!("{s} is too large"))
}

/// `-k`: 1 to 100,000 results per query.
pub fn result_count(s: &str) -> Result<u64, String> {
    match at_least_one(s)? {
        k if k <= 100_000 => Ok(k),
        k => Err(format!("{k} is too large: at most 100000 results per query")),
    }
}

#[cfg(test)]
mod tests {
    use super::byte_size;

    #[test]
    fn byte_sizes_read_as_powers_of_1024() {
        assert_eq!(byte_size("512"), Ok(512));
        assert_eq!(byte_size("64K"), Ok(64 << 10));
        assert_eq!(byte_size("512M"), Ok(512 << 20));
        assert_eq!(byte_size("4GiB"), Ok(4 << 30));
        assert_eq!(byte_size(" 2 gb "), Ok(2 << 30));
        assert!(byte_size("0").unwrap_err().contains("at least 1"));
        assert!(byte_size("4X").unwrap_err().contains("not a size"));
        assert!(byte_size("G").is_err());
        assert!(byte_size("99999999999T").unwrap_err().contains("too large"));
    }
}
