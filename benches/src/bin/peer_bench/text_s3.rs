//! `peer_bench text-s3 --texts F --queries F --shard-rows R --uri s3://… --write-endpoint URL
//! --read-endpoint URL [--nq Q] [--cold-queries C] --out F`: full-text search of a table on
//! an S3 server (moto): written through `--write-endpoint`, then searched through
//! `--read-endpoint` (the latency proxy of `benches/peers/objstore_compare.py --mode text`):
//! cold queries (a new session and an empty cache each; planning not timed) and warm ones.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use ailake::prelude::*;
use ailake::search::ShardCache;
use ailake::TextSpec;
use serde_json::json;

use crate::objstore::moto_catalog;
use crate::text::{ms, stats, text_schema, tsv, write_texts};
use crate::Args;

pub(crate) fn text_s3(args: &Args) -> anyhow::Result<()> {
    let texts = tsv(Path::new(args.req("--texts")?))?;
    let queries = tsv(Path::new(args.req("--queries")?))?;
    let shard_rows: usize = args.num("--shard-rows", 100_000)?;
    let nq = args.num("--nq", 100usize)?.min(queries.len());
    let cold_n = args.num("--cold-queries", 10usize)?.min(nq);
    let uri = args.req("--uri")?;
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let tmp = tempfile::tempdir()?;
    let db = tmp.path().join("catalog.db");
    let catalog = |endpoint: &str| rt.block_on(moto_catalog(&db, uri, endpoint));
    let ident = TableIdent::new("bench", "text")?;
    let writing = catalog(args.req("--write-endpoint")?)?;
    let spec = VectorSpec::new("embedding", 4, Metric::Cosine);
    let clock = Instant::now();
    rt.block_on(async {
        let table =
            writing.create_table_with_text(&ident, &text_schema(), &[spec], &[TextSpec::new("text")]).await?;
        write_texts(&table, &texts, shard_rows, None).await
    })?;
    let build_s = clock.elapsed().as_secs_f64();
    eprintln!("{} documents written to {uri} in {build_s:.1}s", texts.len());

    let table = rt.block_on(catalog(args.req("--read-endpoint")?)?.load_table(&ident))?;
    let params = SearchParams { projection: Some(vec!["id".into()]), ..Default::default() };
    let mut cold = Vec::new();
    for q in &queries[..cold_n] {
        let session = rt.block_on(SearchSession::with_cache(&table, Arc::new(ShardCache::new(4 << 30))))?;
        let clock = Instant::now();
        rt.block_on(session.text_search(q, 10, &params))?;
        cold.push(ms(clock.elapsed()));
    }
    let session = rt.block_on(SearchSession::with_cache(&table, Arc::new(ShardCache::new(4 << 30))))?;
    for q in &queries[..nq] {
        rt.block_on(session.text_search(q, 10, &params))?;
    }
    let mut warm = Vec::new();
    for q in &queries[..nq] {
        let clock = Instant::now();
        rt.block_on(session.text_search(q, 10, &params))?;
        warm.push(ms(clock.elapsed()));
    }
    let files = rt.block_on(table.live_files())?.len();
    let out = json!({"system": "ailake", "docs": texts.len(), "files": files, "build_s": build_s,
                     "cold": stats(cold), "warm": stats(warm)});
    std::fs::write(args.req("--out")?, serde_json::to_string_pretty(&out)?)?;
    eprintln!("{out}");
    Ok(())
}
