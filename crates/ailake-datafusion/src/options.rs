//! The knobs of a `vector_search` call (`SearchOptions`, its optional fifth argument) and the
//! planned query (`SearchQuery`) a search table and its plan carry.

use ailake::{Filter, SearchParams};
use datafusion::error::{DataFusionError, Result};
use serde::{Deserialize, Serialize};

/// Search knobs `vector_search` takes in its optional fifth argument (`'ef=64 nprobe=16'`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SearchOptions {
    /// HNSW candidate list size (`ef`).
    pub ef: Option<usize>,
    /// IVF-PQ lists probed (`nprobe`).
    pub nprobe: Option<usize>,
    /// IVF-PQ exact re-rank factor (`refine`).
    pub refine_factor: Option<usize>,
    /// Table partitions probed (`probes`).
    pub partition_probes: Option<usize>,
    /// Whether clustered files are searched through their partition blocks (`blocks=on|off`;
    /// on by default).
    pub partition_blocks: Option<bool>,
    /// The snapshot searched (`snapshot`; the registered table's when absent).
    pub snapshot: Option<i64>,
    /// How `hybrid_search` fuses its lists (`fusion=rrf|weighted`; rrf by default).
    #[serde(default)]
    pub fusion: Option<String>,
    /// The `k0` of reciprocal-rank fusion (`rrf_k`; 60 by default).
    #[serde(default)]
    pub rrf_k: Option<f32>,
    /// Weights of the vector and the text list for weighted fusion (`weights=0.3:0.7`).
    #[serde(default)]
    pub weights: Option<(f32, f32)>,
    /// Rows taken from each list before fusing (`depth`; `max(4k, 40)` by default).
    #[serde(default)]
    pub depth: Option<usize>,
}

impl SearchOptions {
    /// Parses `key=value` pairs separated by spaces or commas.
    pub fn parse(text: &str) -> Result<Self> {
        let mut out = Self::default();
        for pair in text.split([' ', ',']).filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').ok_or_else(|| {
                DataFusionError::Plan(format!("vector_search: option {pair:?} is not key=value"))
            })?;
            let number = |v: &str| {
                v.parse::<usize>().ok().filter(|n| *n > 0).ok_or_else(|| {
                    DataFusionError::Plan(format!(
                        "vector_search: option {key} must be a positive integer, not {v:?}"
                    ))
                })
            };
            match key {
                "ef" => out.ef = Some(number(value)?),
                "nprobe" => out.nprobe = Some(number(value)?),
                "refine" => out.refine_factor = Some(number(value)?),
                "probes" => out.partition_probes = Some(number(value)?),
                "blocks" => {
                    out.partition_blocks = Some(match value {
                        "on" | "true" => true,
                        "off" | "false" => false,
                        _ => {
                            return Err(DataFusionError::Plan(format!(
                                "vector_search: option blocks must be on or off, not {value:?}"
                            )))
                        }
                    })
                }
                "fusion" => {
                    if !matches!(value, "rrf" | "weighted") {
                        return Err(DataFusionError::Plan(format!(
                            "hybrid_search: option fusion must be rrf or weighted, not {value:?}"
                        )));
                    }
                    out.fusion = Some(value.to_string());
                }
                "rrf_k" => {
                    out.rrf_k = Some(value.parse().ok().filter(|v: &f32| v.is_finite() && *v >= 0.0).ok_or_else(
                        || DataFusionError::Plan(format!("hybrid_search: rrf_k must be a number ≥ 0, not {value:?}")),
                    )?)
                }
                "weights" => {
                    let parsed = value
                        .split_once(':')
                        .and_then(|(v, t)| Some((v.parse::<f32>().ok()?, t.parse::<f32>().ok()?)))
                        .filter(|(v, t)| v.is_finite() && t.is_finite());
                    out.weights = Some(parsed.ok_or_else(|| {
                        DataFusionError::Plan(format!(
                            "hybrid_search: weights must be VECTOR:TEXT numbers like 0.3:0.7, not {value:?}"
                        ))
                    })?)
                }
                "depth" => out.depth = Some(number(value)?),
                "snapshot" => {
                    out.snapshot = Some(value.parse().map_err(|_| {
                        DataFusionError::Plan(format!(
                            "vector_search: snapshot must be a snapshot id, not {value:?}"
                        ))
                    })?)
                }
                _ => {
                    return Err(DataFusionError::Plan(format!(
                        "vector_search: unknown option {key:?} (known: ef, nprobe, refine, probes, blocks, snapshot; \
                         hybrid_search also fusion, rrf_k, weights, depth)"
                    )))
                }
            }
        }
        Ok(out)
    }

    /// The session's parameters for these options.
    pub(crate) fn params(
        &self,
        column: &str,
        projection: Vec<String>,
        filter: Option<Filter>,
    ) -> SearchParams {
        let defaults = SearchParams::default();
        SearchParams {
            column: Some(column.to_string()),
            ef: self.ef,
            nprobe: self.nprobe.unwrap_or(defaults.nprobe),
            refine_factor: self.refine_factor.unwrap_or(defaults.refine_factor),
            partition_probes: self.partition_probes,
            partition_blocks: self.partition_blocks.unwrap_or(defaults.partition_blocks),
            projection: Some(projection),
            filter,
            ..defaults
        }
    }

    /// How `hybrid_search` fuses its lists, from the options.
    pub(crate) fn hybrid(&self) -> ailake::HybridParams {
        let fusion = match (self.fusion.as_deref(), self.weights) {
            (Some("weighted"), w) => {
                let (vector, text) = w.unwrap_or((0.5, 0.5));
                ailake::Fusion::Weighted { vector, text }
            }
            _ => ailake::Fusion::Rrf { k0: self.rrf_k.unwrap_or(ailake::RRF_K0) },
        };
        ailake::HybridParams { fusion, depth: self.depth }
    }
}

/// One query of `vector_search`: what to search for.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SearchQuery {
    pub(crate) column: String,
    pub(crate) vector: Vec<f32>,
    pub(crate) k: usize,
    pub(crate) options: SearchOptions,
}

/// What one `text_search` / `hybrid_search` call searches for (also its wire form in plans).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct TextSearchQuery {
    /// The text column.
    pub(crate) text_column: String,
    /// The full-text query.
    pub(crate) text: String,
    /// The vector column and query vector of a hybrid search.
    pub(crate) vector: Option<(String, Vec<f32>)>,
    pub(crate) k: usize,
    pub(crate) options: SearchOptions,
}

impl TextSearchQuery {
    /// The SQL function this query came from (for messages).
    pub(crate) fn function(&self) -> &'static str {
        if self.vector.is_some() {
            "hybrid_search"
        } else {
            "text_search"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SearchOptions;

    #[test]
    fn every_option_reaches_the_search_parameters() {
        let p = SearchOptions::parse("ef=64, nprobe=8 refine=3 probes=12 blocks=off").unwrap().params(
            "v",
            Vec::new(),
            None,
        );
        assert_eq!(
            (p.ef, p.nprobe, p.refine_factor, p.partition_probes, p.partition_blocks),
            (Some(64), 8, 3, Some(12), false)
        );
        assert!(SearchOptions::parse("blocks=on").unwrap().params("v", Vec::new(), None).partition_blocks);
        assert!(
            SearchOptions::parse("").unwrap().params("v", Vec::new(), None).partition_blocks,
            "on by default"
        );
        assert!(SearchOptions::parse("blocks=2").is_err());
    }
}
