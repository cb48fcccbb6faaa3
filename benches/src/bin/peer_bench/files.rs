//! `peer_bench files`: what each place for a shard's vectors costs. The base set is written
//! twice through `TableWriter` (one file per `--shard-rows` rows, HNSW, rows `id` + vector, as
//! the peers' size script writes them): with the section's `f32` copy (`SectionVectors::F32`)
//! and without it (`SectionVectors::Parquet`). Per table: bytes per row of the data files and
//! of their Parquet part alone (file minus section), the cold start (a fresh cache: planning
//! plus the first query, every shard opened) over `--rounds` rounds, and recall@10 / QPS of
//! warm queries at each `ef`. Rounds interleave the two tables.

use std::sync::Arc;
use std::time::Instant;

use ailake::index::SectionVectors;
use ailake::prelude::*;
use ailake::search::ShardCache;
use ailake::{ReadOptions, ShardReader};
use ailk_testkit::recall_at_k;
use serde_json::{json, Value};

use crate::{list, load, metric, percentile, result_ids, Args, Loaded};

const PLACES: [(&str, SectionVectors); 2] =
    [("f32_copy", SectionVectors::F32), ("parquet", SectionVectors::Parquet)];

pub(crate) fn files(args: &Args) -> anyhow::Result<()> {
    let dir = std::path::PathBuf::from(args.req("--data")?);
    let Loaded { base, queries, truth } = load(&dir)?;
    let shard_rows: usize = args.num("--shard-rows", 5_000)?;
    let nq = args.num("--queries", 1000usize)?.min(queries.rows());
    let rounds = args.num("--rounds", 3usize)?;
    let efs = list(args, "--efs")?;
    let spec = VectorSpec::new("embedding", base.dim as u32, metric(args)?);
    let rt = tokio::runtime::Runtime::new()?;
    let tmp = tempfile::tempdir()?;
    let schema =
        arrow_schema::Schema::new(vec![arrow_schema::Field::new("id", arrow_schema::DataType::Int64, false)]);
    let mut tables = Vec::new();
    for (name, place) in PLACES {
        let table = rt.block_on(async {
            let catalog =
                Catalog::local(tmp.path().join("catalog.db"), "default", tmp.path().join("warehouse"))
                    .await?;
            let table = catalog
                .create_or_load_table(&TableIdent::new("bench", name)?, &schema, std::slice::from_ref(&spec))
                .await?;
            let writer = table.writer(WritePolicy { section_vectors: place, ..WritePolicy::default() })?;
            for start in (0..base.rows()).step_by(shard_rows) {
                let end = (start + shard_rows).min(base.rows());
                let ids: arrow_array::ArrayRef =
                    Arc::new(arrow_array::Int64Array::from_iter_values(start as i64..end as i64));
                let rows = arrow_array::RecordBatch::try_new(Arc::new(schema.clone()), vec![ids])?;
                let vectors: Vec<Vec<f32>> = (start..end).map(|i| base.row(i).to_vec()).collect();
                writer.write_batch(&rows, &vectors).await?;
            }
            writer.commit().await?;
            anyhow::Ok(table.refresh().await?)
        })?;
        let (file_bytes, parquet_bytes) = rt.block_on(sizes(&table))?;
        tables.push((name, table, file_bytes, parquet_bytes));
    }
    let qs: Vec<Vec<f32>> = (0..nq).map(|i| queries.row(i).to_vec()).collect();
    let mut cold: Vec<Vec<f64>> = vec![Vec::new(); tables.len()];
    let mut warm: Vec<Vec<Value>> = vec![Vec::new(); tables.len()];
    for round in 0..rounds {
        for (t, (name, table, ..)) in tables.iter().enumerate() {
            let clock = Instant::now();
            let session = rt.block_on(async {
                let s = SearchSession::with_cache(table, Arc::new(ShardCache::new(4 << 30))).await?;
                s.search(&qs[0], 10, &SearchParams::default()).await?;
                anyhow::Ok(s)
            })?;
            cold[t].push(clock.elapsed().as_secs_f64() * 1e3);
            for &ef in &efs {
                let params =
                    SearchParams { ef: Some(ef), projection: Some(vec!["id".into()]), ..Default::default() };
                let clock = Instant::now();
                let mut found = Vec::with_capacity(nq);
                for q in &qs {
                    found.push(result_ids(&rt.block_on(session.search(q, 10, &params))?)?);
                }
                let qps = nq as f64 / clock.elapsed().as_secs_f64();
                let recall = recall_at_k(&found, &truth[..nq], 10);
                if round == 0 {
                    eprintln!("  {name} ef {ef:>4}: recall@10 {recall:.4}  {qps:>7.0} QPS");
                }
                warm[t].push(json!({"round": round, "ef": ef, "recall": recall, "qps": qps}));
            }
        }
    }
    let rows = base.rows() as f64;
    let mut out = Vec::new();
    for (t, (name, _, file_bytes, parquet_bytes)) in tables.iter().enumerate() {
        let mut c = cold[t].clone();
        c.sort_by(f64::total_cmp);
        eprintln!(
            "{name}: {:.0} bytes/row ({:.0} in Parquet), {:.2}× the Parquet part; cold start p50 {:.1} ms",
            *file_bytes as f64 / rows,
            *parquet_bytes as f64 / rows,
            *file_bytes as f64 / *parquet_bytes as f64,
            percentile(&c, 0.5)
        );
        out.push(json!({"place": name, "file_bytes": file_bytes, "parquet_bytes": parquet_bytes,
            "bytes_per_row": *file_bytes as f64 / rows, "parquet_bytes_per_row": *parquet_bytes as f64 / rows,
            "cold_start_ms": cold[t], "warm": warm[t]}));
    }
    // The IVF-PQ shape the peers' index uses for the same rows (as `peer_bench ivfpq` trains).
    let ivf = ailk_index::IvfPqConfig::for_dataset(base.rows(), base.dim);
    let result = json!({"system": "ailake", "rows": base.rows(), "dim": base.dim, "shard_rows": shard_rows,
        "queries": nq, "rounds": rounds, "places": out, "ivf_nlist": ivf.nlist, "ivf_m": ivf.m});
    std::fs::write(args.req("--out")?, serde_json::to_string_pretty(&result)?)?;
    Ok(())
}

/// Bytes of the table's data files, and of their Parquet part alone (each file less its
/// AILK section).
async fn sizes(table: &Table) -> anyhow::Result<(u64, u64)> {
    let (mut file, mut parquet) = (0, 0);
    for f in table.live_files().await?.iter() {
        let size = f.data_file.file_size_in_bytes();
        let reader = ShardReader::open(
            table.warehouse().store().clone(),
            table.warehouse().path_of(f.path())?,
            ReadOptions::default(),
        )
        .await?;
        file += size;
        parquet += size - reader.location().map_or(0, |l| l.length);
    }
    Ok((file, parquet))
}
