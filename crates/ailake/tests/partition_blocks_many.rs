//! Partition blocks across 1,000 files (issue 31): once a table has partitions, a stream of
//! small writes whose rows come grouped by partition gives every file blocks; a query then
//! plans only the files holding its probed partitions, reads their blocks in one wave and
//! answers with recall ≥ 0.95 against exact truth over every row — warm, with a cache of a
//! tenth of the index, and with none (the same answers).

mod common;

use std::sync::Arc;

use ailake::prelude::*;
use ailake::search::ShardCache;
use common::*;

/// Rows compacted first (they train the table's partitions).
const SEED_ROWS: usize = 4000;
/// Files written after, each of `FILE_ROWS` rows grouped by partition.
const FILES: usize = 1000;
const FILE_ROWS: usize = 16;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_block_files_answer_through_their_blocks() {
    let rows = SEED_ROWS + FILES * FILE_ROWS;
    let (base, queries) = dataset(rows, 40);
    let dir = tempfile::tempdir().unwrap();
    let catalog =
        Catalog::local(dir.path().join("catalog.db"), "default", dir.path().join("warehouse")).await.unwrap();
    let spec = VectorSpec::new("embedding", DIM as u32, Metric::Cosine);
    let table = catalog.create_table(&ident("many"), &attributes(), &[spec]).await.unwrap();
    write_files(&table, &base, &(0..SEED_ROWS).collect::<Vec<_>>(), 1000).await;
    table.compact(&CompactOptions { target_rows: 1000, ..Default::default() }).await.unwrap();
    let table = table.refresh().await.unwrap();
    let partitions =
        ailake::load_partitions(&table, "embedding").await.unwrap().expect("compaction trained partitions");

    // The rest of the rows, ordered by partition, written as 1,000 files.
    let rest: Vec<usize> = (SEED_ROWS..rows).collect();
    let values: Vec<f32> = rest.iter().flat_map(|&i| base[i].iter().copied()).collect();
    let assignment = partitions.assign(&values);
    let mut order: Vec<usize> = (0..rest.len()).collect();
    order.sort_by_key(|&i| (assignment[i], rest[i]));
    let order: Vec<usize> = order.into_iter().map(|i| rest[i]).collect();
    write_files(&table, &base, &order, FILE_ROWS).await;
    let table = table.refresh().await.unwrap();
    let summaries = table.shard_summaries().await.unwrap().unwrap();
    let with_blocks = summaries.iter().filter(|s| s.blocks.is_some()).count();
    assert!(summaries.len() > FILES, "{} files", summaries.len());
    assert!(with_blocks >= FILES, "{with_blocks} of {} files have blocks", summaries.len());
    let index_bytes: u64 = summaries.iter().filter_map(|s| s.section).map(|(_, len)| len).sum();
    let blocks: usize = summaries.iter().filter_map(|s| s.blocks.as_ref()).map(|b| b.blocks.len()).sum();

    let truth: Vec<Vec<i64>> = queries.iter().map(|q| exact(&base, q, 10)).collect();
    // Probing 48 of the table's partitions (the default for up to 192).
    let probes = 48;
    let params = SearchParams { partition_probes: Some(probes), ..Default::default() };
    let probed = probes as f64 / partitions.len() as f64;
    let warm = SearchSession::with_cache(&table, Arc::new(ShardCache::new(1 << 30))).await.unwrap();
    let mut got = Vec::new();
    for q in &queries {
        got.push(ids(&warm.search(q, 10, &params).await.unwrap()));
    }
    let c = warm.counters();
    let r = recall(&got, &truth);
    let scanned = c.blocks_scanned as f64 / queries.len() as f64;
    let pruned = c.shards_pruned_by_partition as f64 / queries.len() as f64;
    eprintln!(
        "{} files ({with_blocks} with blocks, {blocks} blocks), {probes} of {} partitions probed: recall {r:.3}, \
         {scanned:.1} blocks scanned and {pruned:.1} files pruned per query, {c:?}",
        summaries.len(),
        partitions.len()
    );
    assert!(r >= 0.95, "recall@10 {r:.3}");
    assert_eq!(c.shards_visited, 0, "no file was loaded whole");
    assert_eq!(c.blocks_corrupt, 0);
    assert!(c.blocks_scanned > 0);
    assert!(
        scanned <= 1.5 * probed * blocks as f64,
        "{scanned:.1} blocks scanned per query of {blocks}: only the probed partitions' blocks are read"
    );
    assert!(
        pruned >= (1.0 - 1.5 * probed) * summaries.len() as f64,
        "{pruned:.1} of {} files pruned per query: files without a probed partition are not planned",
        summaries.len()
    );

    // A tenth of the index as cache, and none: the same answers.
    for budget in [index_bytes / 10, 0] {
        let small = SearchSession::with_cache(&table, Arc::new(ShardCache::new(budget))).await.unwrap();
        for (q, want) in queries.iter().zip(&got).take(10) {
            assert_eq!(
                &ids(&small.search(q, 10, &SearchParams::default()).await.unwrap()),
                want,
                "budget {budget}"
            );
        }
    }
}
