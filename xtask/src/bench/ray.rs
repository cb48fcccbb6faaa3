//! The Ray section (`--only ray`): ingest through `ailake.ray.Sink` with 1 and 2 write tasks at
//! a time against one process writing the same blocks, and batch search on 1 and 2 Ray actors
//! against one process's `search_batch` (`benches/peers/ailake_ray_bench.py`, the release build
//! of `python/` in `.venv-py-bench` with Ray installed beside it).

use std::path::Path;

use anyhow::Result;
use serde_json::{json, Value};

use super::engine::{f, spread};
use super::python::imports;
use super::{read_json, root, Dataset, Run, SHARD_ROWS};

/// Ray as `.ci/requirements.txt` pins it.
const RAY: &str = "ray[data]==2.60.0";

impl Run {
    /// The Ray paths on `ds`.
    pub(super) fn ray(&mut self, ds: &Dataset) -> Result<Value> {
        let python = self.our_python()?;
        if !imports(&python, "ray.data") {
            self.steps.add(1);
            self.steps.run("pip install Ray into .venv-py-bench", &python, &["-m", "pip", "install", RAY])?;
        }
        self.steps.add(1);
        let out = self.out(ds, "ray");
        let script = root().join("benches/peers/ailake_ray_bench.py").display().to_string();
        let data = ds.dir.display().to_string();
        let rounds = if self.quick { "1" } else { "2" };
        self.steps.run(
            &format!("ailake on Ray on {}", ds.name),
            &python,
            &[
                &script,
                "--data",
                &data,
                "--metric",
                ds.metric,
                "--shard-rows",
                SHARD_ROWS,
                "--rounds",
                rounds,
                "--out",
                &out,
            ],
        )?;
        let v = read_json(Path::new(&out))?;
        self.sections.push(ray_table(&ds.name, &v));
        Ok(json!({"ray": v}))
    }
}

/// The values of `key` over rounds for the points of `mode` whose `kind_key` exists.
fn values(points: &[Value], mode: &str, kind_key: &str, key: &str) -> Vec<f64> {
    points.iter().filter(|p| p["mode"] == mode && p.get(kind_key).is_some()).map(|p| f(p, key)).collect()
}

/// Per round, `mode`'s `key` over `base`'s in the same round.
fn ratios(points: &[Value], mode: &str, base: &str, kind_key: &str, key: &str) -> Vec<f64> {
    let a = values(points, mode, kind_key, key);
    let b = values(points, base, kind_key, key);
    a.iter().zip(&b).map(|(x, y)| x / y).collect()
}

fn ray_table(name: &str, v: &Value) -> String {
    let points = v["points"].as_array().cloned().unwrap_or_default();
    let mut s = format!(
        "### Ray Data on `{name}` ({} rows × {}, blocks of {} rows, HNSW files; Ray {}, a local cluster of 2 CPUs; {} interleaved rounds)\n\n\
         Ingest: one process writing each block with `table.write` and one `commit()`, against \
         `ailake.ray.Sink` with 1 and 2 write tasks at a time (each task writes and indexes one file; the \
         driver commits them once). `task p50`: the median wall time of one block's write — the per-worker \
         cost, which more workers divide on a machine with more cores. This machine has 2 cores, so 2 workers \
         share them with Ray's own processes: the ratio shows overhead, not the scaling a cluster gets.\n\n\
         | ingest path | rows/s | vs one process | task p50 (s) |\n|---|---|---|---|\n",
        v["rows"], v["dim"], v["shard_rows"], v["ray"].as_str().unwrap_or("?"), v["rounds"]
    );
    for (mode, label) in [
        ("process", "one process"),
        ("ray_1", "Ray sink, 1 task at a time"),
        ("ray_2", "Ray sink, 2 tasks at a time"),
    ] {
        let r = values(&points, mode, "rows_per_s", "rows_per_s");
        let t = values(&points, mode, "rows_per_s", "task_p50_s");
        let x = ratios(&points, mode, "process", "rows_per_s", "rows_per_s");
        s += &format!("| {label} | {} | {}× | {} |\n", spread(&r, 0), spread(&x, 2), spread(&t, 3));
    }
    s += &format!(
        "\nBatch search: {} queries (the set's queries, tiled), k = 10, ef {}, through one process's \
         `table.search_batch` (every core) and `ailake.ray.search` on 1 and 2 actors of one CPU each \
         (each opens the snapshot once; time includes building the query dataset and collecting the results).\n\n\
         | search path | QPS | vs `search_batch` | recall@10 |\n|---|---|---|---|\n",
        v["search_queries"], v["ef"]
    );
    for (mode, label) in [
        ("search_batch", "`search_batch`, one process"),
        ("ray_1", "`ailake.ray.search`, 1 actor"),
        ("ray_2", "`ailake.ray.search`, 2 actors"),
    ] {
        let q = values(&points, mode, "qps", "qps");
        let x = ratios(&points, mode, "search_batch", "qps", "qps");
        let r = values(&points, mode, "qps", "recall");
        s += &format!("| {label} | {} | {}× | {} |\n", spread(&q, 0), spread(&x, 2), spread(&r, 4));
    }
    s
}
