//! `peer_bench sql --data DIR --metric l2|ip --efs a,b [--shard-rows R] [--queries Q] [--ballista-queries B] [--rounds R] --out F`:
//! what the SQL layer costs. The base set is written as one table (HNSW, one file per
//! `--shard-rows` rows); then per `ef`, interleaved over `--rounds` rounds, the same queries
//! one at a time through:
//! - `session`: `SearchSession::search` (the direct path);
//! - `sql_tp1` / `sql_tp2`: `SELECT id, _distance FROM vector_search(...)` on a DataFusion
//!   context with 1 and 2 target partitions (the SQL text parsed and planned per query);
//! - `sql_prepared`: the same statement with the query vector as a parameter (`$1`),
//!   prepared once per `ef` (`PreparedSearch`), run per query on the 1-partition context;
//! - `ballista`: the same SQL on a Ballista cluster of a scheduler and 2 executors on loopback
//!   (`--ballista-queries` of them: each costs a job).
//!
//! Every SQL answer is checked against the session's (same distances); mismatches are
//! counted. Reported per mode: p50 / p99 latency, QPS, recall@10, and the bytes of the
//! search node as the codec ships it to an executor.

use std::sync::Arc;
use std::time::Instant;

use ailake::prelude::*;
use ailake_datafusion::{
    ballista_config, start_local_cluster, AilakeCodec, AilakeSql, PreparedSearch, VectorSearchExec,
};
use ailk_testkit::recall_at_k;
use datafusion::execution::SessionStateBuilder;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion_proto::physical_plan::PhysicalExtensionCodec;
use serde_json::{json, Value};

use crate::{list, load, metric, percentile, result_ids, Args, Loaded};

pub(crate) fn sql(args: &Args) -> anyhow::Result<()> {
    let dir = std::path::PathBuf::from(args.req("--data")?);
    let Loaded { base, queries, truth } = load(&dir)?;
    let shard_rows: usize = args.num("--shard-rows", 5_000)?;
    let nq = args.num("--queries", 300usize)?.min(queries.rows());
    let nb = args.num("--ballista-queries", 50usize)?.min(nq);
    let rounds = args.num("--rounds", 3usize)?;
    let efs = list(args, "--efs")?;
    let spec = VectorSpec::new("embedding", base.dim as u32, metric(args)?);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let tmp = tempfile::tempdir()?;
    let schema =
        arrow_schema::Schema::new(vec![arrow_schema::Field::new("id", arrow_schema::DataType::Int64, false)]);
    let (catalog, table) = rt.block_on(async {
        let catalog =
            Catalog::local(tmp.path().join("catalog.db"), "default", tmp.path().join("warehouse")).await?;
        let table = catalog
            .create_or_load_table(&TableIdent::new("bench", "sql")?, &schema, std::slice::from_ref(&spec))
            .await?;
        let writer = table.writer(WritePolicy::default())?;
        for start in (0..base.rows()).step_by(shard_rows) {
            let end = (start + shard_rows).min(base.rows());
            let ids: arrow_array::ArrayRef =
                Arc::new(arrow_array::Int64Array::from_iter_values(start as i64..end as i64));
            let rows = arrow_array::RecordBatch::try_new(Arc::new(schema.clone()), vec![ids])?;
            let vectors: Vec<Vec<f32>> = (start..end).map(|i| base.row(i).to_vec()).collect();
            writer.write_batch(&rows, &vectors).await?;
        }
        writer.commit().await?;
        anyhow::Ok((catalog, table.refresh().await?))
    })?;
    // The queries as SQL literals, and as DataFusion reads them back (decimal → f64 → f32).
    let literals: Vec<(String, Vec<f32>)> = (0..nq)
        .map(|i| {
            let text: Vec<String> = queries.row(i).iter().map(|x| format!("{x:?}")).collect();
            let parsed = text.iter().map(|t| t.parse::<f64>().map(|v| v as f32)).collect::<Result<_, _>>()?;
            anyhow::Ok((format!("[{}]", text.join(", ")), parsed))
        })
        .collect::<anyhow::Result<_>>()?;

    let sql_layer = AilakeSql::new();
    let contexts: Vec<(&str, SessionContext)> = rt.block_on(async {
        let mut out = Vec::new();
        for (name, partitions) in [("sql_tp1", 1), ("sql_tp2", 2)] {
            let ctx =
                SessionContext::new_with_config(SessionConfig::new().with_target_partitions(partitions));
            sql_layer.register_functions(&ctx);
            sql_layer.register_table(&ctx, "t", &table).await?;
            out.push((name, ctx));
        }
        let config = ballista_config(catalog.clone()).with_target_partitions(2);
        let state = SessionStateBuilder::new().with_config(config).with_default_features().build();
        let url = start_local_cluster(&state, 2, 2).await?;
        let ctx = ailake_datafusion::remote_context(&url, state)?;
        sql_layer.register_functions(&ctx);
        sql_layer.register_table(&ctx, "t", &table).await?;
        out.push(("ballista", ctx));
        anyhow::Ok(out)
    })?;
    let session = rt.block_on(SearchSession::new(&table))?;
    let shards = session.shard_count();

    let mut results: Vec<Value> = Vec::new();
    for round in 0..rounds {
        for &ef in &efs {
            let params =
                SearchParams { ef: Some(ef), projection: Some(vec!["id".into()]), ..Default::default() };
            // The direct path first: its answers are what every SQL answer is checked against.
            let mut want = Vec::with_capacity(nq);
            let mut lat = Vec::with_capacity(nq);
            let clock = Instant::now();
            for (_, q) in &literals {
                let t = Instant::now();
                want.push(rt.block_on(session.search(q, 10, &params))?);
                lat.push(t.elapsed().as_secs_f64() * 1e3);
            }
            let total = clock.elapsed().as_secs_f64();
            let found: Vec<Vec<u32>> = want.iter().map(result_ids).collect::<anyhow::Result<_>>()?;
            results.push(point(
                "session",
                round,
                ef,
                nq,
                total,
                lat,
                recall_at_k(&found, &truth[..nq], 10),
                0,
            ));
            // The prepared statement: parsed and planned once (not timed), bound per query.
            let stmt = rt.block_on(PreparedSearch::new(
                &contexts[0].1,
                &format!("SELECT id, _distance FROM vector_search('t', 'embedding', $1, 10, 'ef={ef}') ORDER BY _distance"),
            ))?;
            let (mut lat, mut found, mut mismatches) = (Vec::with_capacity(nq), Vec::with_capacity(nq), 0);
            let clock = Instant::now();
            for (i, (_, q)) in literals.iter().enumerate() {
                let t = Instant::now();
                let batches = rt.block_on(stmt.search(q))?;
                lat.push(t.elapsed().as_secs_f64() * 1e3);
                let got = arrow_select::concat::concat_batches(&batches[0].schema(), &batches)?;
                mismatches += usize::from(distances(&got) != distances(&want[i]));
                found.push(result_ids(&got)?);
            }
            let total = clock.elapsed().as_secs_f64();
            let recall = recall_at_k(&found, &truth[..nq], 10);
            results.push(point("sql_prepared", round, ef, nq, total, lat, recall, mismatches));
            for (name, ctx) in &contexts {
                let n = if *name == "ballista" { nb } else { nq };
                let mut lat = Vec::with_capacity(n);
                // Of each query: parsing and logical planning (`ctx.sql`), then physical planning
                // and execution (`collect`).
                let mut planning = Vec::with_capacity(n);
                let mut found = Vec::with_capacity(n);
                let mut mismatches = 0;
                let clock = Instant::now();
                for (i, (literal, _)) in literals[..n].iter().enumerate() {
                    let sql = format!(
                        "SELECT id, _distance FROM vector_search('t', 'embedding', {literal}, 10, 'ef={ef}') ORDER BY _distance"
                    );
                    let t = Instant::now();
                    let batches = rt.block_on(async {
                        let df = ctx.sql(&sql).await?;
                        planning.push(t.elapsed().as_secs_f64() * 1e3);
                        df.collect().await
                    })?;
                    lat.push(t.elapsed().as_secs_f64() * 1e3);
                    let got = arrow_select::concat::concat_batches(&batches[0].schema(), &batches)?;
                    if distances(&got) != distances(&want[i]) {
                        mismatches += 1;
                    }
                    found.push(result_ids(&got)?);
                }
                let total = clock.elapsed().as_secs_f64();
                let recall = recall_at_k(&found, &truth[..n], 10);
                let mut p = point(name, round, ef, n, total, lat, recall, mismatches);
                planning.sort_by(f64::total_cmp);
                p["sql_planning_p50_ms"] = json!(percentile(&planning, 0.5));
                results.push(p);
            }
        }
    }
    // What one search node weighs on the wire (the plan a scheduler ships per task group).
    let plan_bytes = rt.block_on(async {
        let (literal, _) = &literals[0];
        let sql = format!("SELECT id, _distance FROM vector_search('t', 'embedding', {literal}, 10)");
        let plan = contexts[1].1.sql(&sql).await?.create_physical_plan().await?;
        let node = find_search(&plan).ok_or_else(|| anyhow::anyhow!("no search node in the plan"))?;
        let mut buf = Vec::new();
        AilakeCodec::new(catalog.clone()).try_encode(node, &mut buf)?;
        anyhow::Ok(buf.len())
    })?;
    let out = json!({"system": "ailake", "rows": base.rows(), "dim": base.dim, "shards": shards,
        "shard_rows": shard_rows, "queries": nq, "ballista_queries": nb, "rounds": rounds,
        "search_node_bytes": plan_bytes, "points": results});
    std::fs::write(args.req("--out")?, serde_json::to_string_pretty(&out)?)?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn point(
    mode: &str,
    round: usize,
    ef: usize,
    n: usize,
    total_s: f64,
    mut lat: Vec<f64>,
    recall: f64,
    mismatches: usize,
) -> Value {
    lat.sort_by(f64::total_cmp);
    let (p50, p99) = (percentile(&lat, 0.5), percentile(&lat, 0.99));
    let qps = n as f64 / total_s;
    if round == 0 {
        eprintln!("  {mode:>9} ef {ef:>4}: recall@10 {recall:.4}  {qps:>7.0} QPS  p50 {p50:.3} ms  p99 {p99:.3} ms  mismatches {mismatches}");
    }
    json!({"mode": mode, "round": round, "ef": ef, "queries": n, "qps": qps, "p50_ms": p50, "p99_ms": p99,
        "recall": recall, "mismatches": mismatches})
}

fn distances(b: &arrow_array::RecordBatch) -> Vec<f32> {
    b.column_by_name("_distance")
        .and_then(|c| c.as_any().downcast_ref::<arrow_array::Float32Array>())
        .map(|c| c.values().to_vec())
        .unwrap_or_default()
}

fn find_search(plan: &Arc<dyn ExecutionPlan>) -> Option<Arc<dyn ExecutionPlan>> {
    if plan.as_any().downcast_ref::<VectorSearchExec>().is_some() {
        return Some(plan.clone());
    }
    plan.children().into_iter().find_map(find_search)
}
