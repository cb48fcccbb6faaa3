//! The REST catalog section (`--only rest`): the same table behind a rustberg REST server and
//! behind the SQLite catalog, interleaved rounds (`peer_bench rest`): commit latency, refresh
//! (catalog load + metadata read) latency, and searches/s on the loaded table.

use std::path::Path;

use anyhow::Result;
use serde_json::{json, Value};

use super::engine::{f, spread};
use super::{read_json, Dataset, Run};

const FIGURES: [(&str, &str, usize); 5] = [
    ("commit_p50_ms", "commit p50 (ms)", 2),
    ("commit_p90_ms", "commit p90 (ms)", 2),
    ("refresh_p50_ms", "refresh p50 (ms)", 2),
    ("search_p50_ms", "search p50 (ms)", 3),
    ("qps", "searches/s", 0),
];

impl Run {
    /// REST against SQLite on `ds`.
    pub(super) fn rest(&mut self, ds: &Dataset) -> Result<Value> {
        let data = ds.dir.display().to_string();
        let rounds = if self.quick { "2" } else { "3" };
        self.steps.add(1);
        let out = self.out(ds, "rest");
        self.ours(
            &format!("ailake through a REST catalog vs SQLite on {}", ds.name),
            &[
                "rest",
                "--data",
                &data,
                "--metric",
                ds.metric,
                "--rows",
                "10000",
                "--files",
                "4",
                "--commits",
                "20",
                "--queries",
                "300",
                "--rounds",
                rounds,
                "--out",
                &out,
            ],
        )?;
        let v = read_json(Path::new(&out))?;
        self.sections.push(rest_table(&ds.name, &v));
        Ok(json!({"rest": v}))
    }
}

fn rest_table(name: &str, v: &Value) -> String {
    let points = v["points"].as_array().cloned().unwrap_or_default();
    let of = |catalog: &str, key: &str| -> Vec<f64> {
        points.iter().filter(|p| p["catalog"] == catalog).map(|p| f(p, key)).collect()
    };
    let mut s = format!(
        "### REST catalog (rustberg 0.3 on loopback) vs SQLite on `{name}` ({} rows in {} HNSW files, {} commits of 100 rows and {} queries per round, {} interleaved rounds)\n\n\
         rustberg is the binary the tests use (`AILAKE_RUSTBERG`; for figures install an optimized one with \
         `AILAKE_RUSTBERG_OPT_LEVEL=3 .ci/install-rustberg`). Both catalogs hold the same table. A commit writes its manifests and Puffin summaries first (both \
         catalogs alike), then SQLite applies the updates, writes the metadata file and swaps its row, while \
         REST sends the requirements and updates and the server writes the metadata. `refresh` is one catalog \
         load plus one metadata read. Searches run on a session of the loaded table, so the catalog is not on \
         their path. Ratios are per round. Recall@10 (round 1, exact truth over the rows held then; the HNSW builds differ run to run): SQLite {}, REST {}.\n\n\
         | figure | SQLite | REST | REST / SQLite |\n|---|---|---|---|\n",
        v["rows"], v["files"], v["commits"], v["queries"], v["rounds"],
        spread(&of("sqlite", "recall").into_iter().filter(|r| r.is_finite()).collect::<Vec<_>>(), 4),
        spread(&of("rest", "recall").into_iter().filter(|r| r.is_finite()).collect::<Vec<_>>(), 4),
    );
    for (key, label, digits) in FIGURES {
        let (sqlite, rest) = (of("sqlite", key), of("rest", key));
        let ratios: Vec<f64> = rest.iter().zip(&sqlite).map(|(r, q)| r / q).collect();
        s += &format!(
            "| {label} | {} | {} | {}× |\n",
            spread(&sqlite, digits),
            spread(&rest, digits),
            spread(&ratios, 2)
        );
    }
    s
}
