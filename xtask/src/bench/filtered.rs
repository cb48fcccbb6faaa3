//! The filtered-search section: `peer_bench filtered` against LanceDB with `prefilter=True`
//! on the same rows and predicates (`bucket < 500 / 100 / 10 / 1`), and a 10% delete.

use std::path::Path;

use anyhow::Result;
use serde_json::{json, Value};

use super::{read_json, Dataset, Run};

/// HNSW `ef` sweep of our filtered search.
const EFS: &str = "16,32,64,128";
/// LanceDB sweep (IVF_PQ) of the filtered search.
const NPROBES: &str = "8,16,32,64";
const REFINES: &str = "1,10";

impl Run {
    /// Filtered search and deletes: ours vs LanceDB on `ds`.
    pub(super) fn filtered(&mut self, ds: &Dataset) -> Result<Value> {
        let data = ds.dir.display().to_string();
        let (ours, lance) = (self.out(ds, "ailake-filtered"), self.out(ds, "lancedb-filtered"));
        let queries = if self.quick { "100" } else { "200" };
        self.ours(
            &format!("ailake filtered search on {}", ds.name),
            &[
                "filtered",
                "--data",
                &data,
                "--metric",
                ds.metric,
                "--shard-rows",
                super::SHARD_ROWS,
                "--efs",
                EFS,
                "--queries",
                queries,
                "--out",
                &ours,
            ],
        )?;
        let ours = read_json(Path::new(&ours))?;
        let (nlist, m) = (ours["ivf_nlist"].to_string(), ours["ivf_m"].to_string());
        self.python(
            &format!("LanceDB filtered search on {}", ds.name),
            "lancedb_filtered_bench.py",
            &[
                "--data",
                &data,
                "--metric",
                ds.metric,
                "--nlist",
                &nlist,
                "--m",
                &m,
                "--nprobes",
                NPROBES,
                "--refines",
                REFINES,
                "--queries",
                queries,
                "--out",
                &lance,
            ],
        )?;
        let lance = read_json(Path::new(&lance))?;
        self.sections.push(filtered_table(&ds.name, &ours, &lance));
        Ok(json!({"ailake": ours, "lancedb": lance}))
    }
}

/// The fastest sweep point of one selectivity reaching `target` recall, else the most
/// accurate one (marked).
fn best(sweep: &Value, target: f64) -> Option<&Value> {
    let points = sweep.as_array()?;
    let f = |p: &Value, k: &str| p[k].as_f64().unwrap_or(0.0);
    points
        .iter()
        .filter(|p| f(p, "recall") >= target)
        .max_by(|a, b| f(a, "qps").total_cmp(&f(b, "qps")))
        .or_else(|| points.iter().max_by(|a, b| f(a, "recall").total_cmp(&f(b, "recall"))))
}

fn config(p: &Value) -> String {
    if let Some(ef) = p["ef"].as_u64() {
        return format!("ef {ef}");
    }
    if p["exact"].as_bool() == Some(true) {
        return "exact".into();
    }
    format!("nprobe {} refine {}", p["nprobe"], p["refine"])
}

fn cell(p: Option<&Value>, target: f64) -> String {
    let Some(p) = p else { return "—".into() };
    let f = |k: &str| p[k].as_f64().unwrap_or(f64::NAN);
    let miss = if f("recall") < target { " (below target)" } else { "" };
    format!(
        "{:.0} QPS, recall {:.3}{miss}, p50 {:.2} / p99 {:.2} ms ({}; ≥ {} rows)",
        f("qps"),
        f("recall"),
        f("p50_ms"),
        f("p99_ms"),
        config(p),
        p["min_results"]
    )
}

/// Markdown: per selectivity, each side's fastest point at recall@10 ≥ 0.95; then the delete.
pub(super) fn filtered_table(name: &str, ours: &Value, lance: &Value) -> String {
    const TARGET: f64 = 0.95;
    let mut s = format!(
        "### Filtered search on `{name}` ({} rows, {} files; `bucket < N`, k=10, 1 query per call)\n\n\
         ailake: HNSW files, per-shard choice of exact scan of the matching rows or the filtered graph \
         walk (`FilterStrategy::Auto`). LanceDB {}: IVF_PQ (nlist {}, m {}) + BTREE index on `bucket`, \
         `where(..., prefilter=True)`, sweeping nprobes × refine and the exact search; each side's fastest \
         point with recall@10 ≥ {TARGET} against the exact filtered answer.\n\n\
         | selectivity | matching rows | ailake | LanceDB | ailake / LanceDB QPS |\n|---|---|---|---|---|\n",
        ours["rows"],
        ours["files"],
        lance["version"].as_str().unwrap_or("?"),
        lance["nlist"],
        lance["m"],
    );
    let ours_sel = ours["selectivities"].as_array().cloned().unwrap_or_default();
    let lance_sel = lance["selectivities"].as_array().cloned().unwrap_or_default();
    for (o, l) in ours_sel.iter().zip(&lance_sel) {
        let (bo, bl) = (best(&o["sweep"], TARGET), best(&l["sweep"], TARGET));
        let ratio = match (bo, bl) {
            (Some(a), Some(b)) => {
                format!("{:.2}×", a["qps"].as_f64().unwrap_or(0.0) / b["qps"].as_f64().unwrap_or(1.0))
            }
            _ => "—".into(),
        };
        s += &format!(
            "| {:.1}% | {} | {} | {} | {ratio} |\n",
            o["selectivity"].as_f64().unwrap_or(0.0) * 100.0,
            o["matching"],
            cell(bo, TARGET),
            cell(bl, TARGET),
        );
    }
    let (od, ld) = (&ours["delete"], &lance["delete"]);
    let search = |v: &Value| {
        format!(
            "{:.0} QPS, p50 {:.2} ms, recall {:.3}",
            v["qps"].as_f64().unwrap_or(0.0),
            v["p50_ms"].as_f64().unwrap_or(0.0),
            v["recall"].as_f64().unwrap_or(0.0)
        )
    };
    s += &format!(
        "\nDelete `bucket >= 900` (10% of the rows), then the unfiltered search (ailake ef 64; LanceDB \
         nprobe {} refine {}):\n\n| | ailake | LanceDB |\n|---|---|---|\n\
         | delete call (s) | {:.2} ({} rows, {} position delete files) | {:.2} |\n\
         | rows after | {} | {} |\n| search before | {} | {} |\n| search after | {} | {} |\n\n",
        ld["nprobe"],
        ld["refine"],
        od["seconds"].as_f64().unwrap_or(0.0),
        od["rows_deleted"],
        od["delete_files"],
        ld["seconds"].as_f64().unwrap_or(0.0),
        od["rows_after"],
        ld["rows_after"],
        search(&od["before"]),
        search(&ld["before"]),
        search(&od["after"]),
        search(&ld["after"]),
    );
    s
}
