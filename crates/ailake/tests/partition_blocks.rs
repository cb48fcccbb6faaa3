//! Partition blocks (issue 31) on the real sample: compaction gives clustered files blocks of
//! RaBitQ codes; a search reads only the probed partitions' blocks, re-ranks exactly and
//! answers with recall ≥ 0.95 against exact truth; a cache far smaller than the table (or
//! none) answers identically; filters and deletes hold; a corrupt block or re-ranking vector
//! is never used (its rows are searched exactly, counted); eight concurrent callers on a small
//! cache get a lone caller's answers; files written after compaction are
//! searched through their own index beside the blocks.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use ailake::prelude::*;
use ailake::search::ShardCache;
use ailake::BlockCode;
use common::*;

const ROWS: usize = 4000;
const FILE_ROWS: usize = 250;

/// The sample written in shuffled files, then compacted into clustered files with blocks.
async fn compacted(dir: &std::path::Path, base: &[Vec<f32>]) -> Table {
    let catalog = Catalog::local(dir.join("catalog.db"), "default", dir.join("warehouse")).await.unwrap();
    let spec = VectorSpec::new("embedding", DIM as u32, Metric::Cosine);
    let table = catalog.create_table(&ident("b"), &attributes(), &[spec]).await.unwrap();
    let mut order: Vec<usize> = (0..ROWS).collect();
    order.sort_by_key(|&i| (i * 7919) % ROWS);
    write_files(&table, base, &order, FILE_ROWS).await;
    let opts = CompactOptions { target_rows: 600, ..Default::default() };
    table.compact(&opts).await.unwrap();
    table.refresh().await.unwrap()
}

async fn session_with(table: &Table, budget: u64) -> SearchSession {
    SearchSession::with_cache(table, Arc::new(ShardCache::new(budget))).await.unwrap()
}

/// Ids of the top 10 of every query.
async fn top10(session: &SearchSession, queries: &[Vec<f32>], params: &SearchParams) -> Vec<Vec<i64>> {
    let mut out = Vec::new();
    for q in queries {
        out.push(ids(&session.search(q, 10, params).await.unwrap()));
    }
    out
}

fn recall_of(got: &[Vec<i64>], truth: &[Vec<i64>]) -> f64 {
    let hits: usize = got.iter().zip(truth).map(|(g, t)| g.iter().filter(|i| t.contains(i)).count()).sum();
    hits as f64 / truth.iter().map(Vec::len).sum::<usize>() as f64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocks_answer_with_recall_reading_only_probed_partitions_whatever_the_cache() {
    let (base, queries) = dataset(ROWS, 40);
    let dir = tempfile::tempdir().unwrap();
    let table = compacted(dir.path(), &base).await;
    let summaries = table.shard_summaries().await.unwrap().unwrap();
    assert!(summaries.len() >= 5, "{} files", summaries.len());
    assert!(summaries.iter().all(|s| s.blocks.is_some()), "every compacted file has blocks");
    let index_bytes: u64 = summaries.iter().map(|s| s.section.unwrap().1).sum();

    let truth: Vec<Vec<i64>> = queries.iter().map(|q| exact(&base, q, 10)).collect();
    let big = session_with(&table, 1 << 30).await;
    let got = top10(&big, &queries, &SearchParams::default()).await;
    let recall = recall_of(&got, &truth);
    let c = big.counters();
    eprintln!("blocks: recall {recall:.3}, {c:?}, index bytes {index_bytes}");
    assert!(recall >= 0.95, "recall@10 {recall:.3}");
    assert!(c.blocks_scanned > 0 && c.rows_reranked > 0);
    // 384 dimensions (512 rotated coordinates): the default writes 1-bit codes alone.
    assert_eq!(c.rows_refined, 0, "BlockCode::Auto writes no 4-bit codes at 384 dimensions: {c:?}");
    assert_eq!(c.shards_visited, 0, "no shard was loaded whole");
    assert_eq!(c.blocks_corrupt, 0);
    let per_query = c.bytes_read as f64 / queries.len() as f64;
    assert!(per_query < index_bytes as f64 / 10.0, "{per_query} bytes per query of {index_bytes}");

    // Warm: the second pass reads nothing.
    let before = big.counters().bytes_read;
    assert_eq!(top10(&big, &queries, &SearchParams::default()).await, got);
    assert_eq!(big.counters().bytes_read, before, "a warm query reads nothing");

    // No cache at all, and a cache of a tenth of the index: the same answers.
    for budget in [0, index_bytes / 10] {
        let small = session_with(&table, budget).await;
        assert_eq!(top10(&small, &queries, &SearchParams::default()).await, got, "budget {budget}");
    }

    // The whole-file path agrees closely; probing every partition finds the exact answer.
    let whole = SearchParams { partition_blocks: false, ..Default::default() };
    let whole_recall = recall_of(&top10(&big, &queries, &whole).await, &truth);
    eprintln!("whole-file path: recall {whole_recall:.3}");

    // The planner: on a session whose files' whole indexes are in memory (a whole-file pass
    // loaded them) and whose blocks are not, the loaded indexes answer — no byte read.
    let planned = session_with(&table, 1 << 30).await;
    top10(&planned, &queries, &whole).await;
    let before = planned.counters();
    let got_planned = top10(&planned, &queries, &SearchParams::default()).await;
    let c = planned.counters();
    assert_eq!(c.bytes_read, before.bytes_read, "the loaded indexes answered");
    assert!(c.shards_planned_whole > 0 && c.blocks_read == 0, "{c:?}");
    assert!(recall_of(&got_planned, &truth) >= 0.95);
    // Where the probed blocks are in memory too, the blocks answer (cheaper than the graph).
    let warm = session_with(&table, 1 << 30).await;
    top10(&warm, &queries, &SearchParams::default()).await;
    top10(&warm, &queries, &whole).await;
    let before = warm.counters();
    assert_eq!(top10(&warm, &queries, &SearchParams::default()).await, got);
    assert_eq!(warm.counters().shards_planned_whole, before.shards_planned_whole);

    let all = SearchParams { partition_probes: Some(100_000), ..Default::default() };
    assert!(recall_of(&top10(&big, &queries, &all).await, &truth) >= 0.99);
    let none = SearchParams { partition_probes: Some(0), ..Default::default() };
    let err = big.search(&queries[0], 10, &none).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
}

/// Blocks of 1-bit codes alone (format 1.1, `BlockCode::OneBit`) still answer, and 4-bit
/// codes (the default) answer at least as well while reading fewer exact vectors.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_bit_blocks_answer_and_four_bit_codes_rerank_fewer_rows() {
    let (base, queries) = dataset(ROWS, 40);
    let truth: Vec<Vec<i64>> = queries.iter().map(|q| exact(&base, q, 10)).collect();
    let mut seen = Vec::new();
    for code in [BlockCode::OneBit, BlockCode::Ex4] {
        let dir = tempfile::tempdir().unwrap();
        let catalog = Catalog::local(dir.path().join("catalog.db"), "default", dir.path().join("warehouse"))
            .await
            .unwrap();
        let spec = VectorSpec::new("embedding", DIM as u32, Metric::Cosine);
        let table = catalog.create_table(&ident("b"), &attributes(), &[spec]).await.unwrap();
        let order: Vec<usize> = (0..ROWS).map(|i| (i * 7919) % ROWS).collect();
        write_files(&table, &base, &order, FILE_ROWS).await;
        let policy = WritePolicy { block_code: code, ..Default::default() };
        let opts = CompactOptions { target_rows: 600, ..Default::default() };
        ailake::writer::compact(&table, policy, &opts).await.unwrap();
        let table = table.refresh().await.unwrap();
        let session = session_with(&table, 1 << 30).await;
        let recall = recall_of(&top10(&session, &queries, &SearchParams::default()).await, &truth);
        let c = session.counters();
        eprintln!("{code:?}: recall {recall:.3}, {} re-ranked, {} refined", c.rows_reranked, c.rows_refined);
        assert!(recall >= 0.95, "{code:?}: recall@10 {recall:.3}");
        assert_eq!(c.shards_visited, 0, "{code:?}: answered by blocks");
        assert_eq!(c.rows_refined > 0, code == BlockCode::Ex4);
        seen.push((recall, c.rows_reranked));
    }
    assert!(seen[1].0 >= seen[0].0 - 0.01, "{seen:?}");
    assert!(seen[1].1 * 2 < seen[0].1, "4-bit codes re-rank under half the rows: {seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_deletes_new_files_and_corrupt_blocks_keep_answers_right() {
    let (base, queries) = dataset(ROWS, 12);
    let dir = tempfile::tempdir().unwrap();
    let table = compacted(dir.path(), &base).await;

    // A filter: only matching rows, nearest first among them.
    let session = session_with(&table, 1 << 30).await;
    let params = SearchParams { filter: Some(Filter::parse("id < 1000").unwrap()), ..Default::default() };
    let low: Vec<Vec<f32>> = base[..1000].to_vec();
    let mut hits = 0;
    for q in &queries {
        let got = ids(&session.search(q, 10, &params).await.unwrap());
        assert_eq!(got.len(), 10);
        assert!(got.iter().all(|&i| i < 1000), "{got:?}");
        hits += exact(&low, q, 10).iter().filter(|i| got.contains(i)).count();
    }
    assert!(hits as f64 >= 0.9 * 10.0 * queries.len() as f64, "filtered recall {hits}");

    // Deleted rows never come back.
    let first: Vec<i64> = ids(&session.search(&queries[0], 10, &SearchParams::default()).await.unwrap());
    let gone: BTreeSet<i64> = first[..3].iter().copied().collect();
    let list = gone.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
    table.delete(&Filter::parse(&format!("id IN ({list})")).unwrap()).await.unwrap();
    let table = table.refresh().await.unwrap();
    let session = session_with(&table, 1 << 30).await;
    let after = ids(&session.search(&queries[0], 10, &SearchParams::default()).await.unwrap());
    assert!(after.iter().all(|i| !gone.contains(i)), "{after:?}");
    assert_eq!(&after[..7], &first[3..], "the rest keep their order");

    // A file written after compaction (no blocks) is searched beside the blocks.
    let writer = table.writer(WritePolicy::default()).unwrap();
    let near: Vec<f32> = queries[1].clone();
    writer.write_flat(&batch_of(&[90_000]), &[("embedding", &near)], &WriteOptions::default()).await.unwrap();
    writer.commit().await.unwrap();
    let table = table.refresh().await.unwrap();
    let session = session_with(&table, 1 << 30).await;
    let got = ids(&session.search(&queries[1], 10, &SearchParams::default()).await.unwrap());
    assert_eq!(got[0], 90_000, "{got:?}");

    // Corrupt one block of every file on disk: answers are unchanged, the blocks counted.
    let clean: Vec<Vec<i64>> = top10(&session, &queries, &SearchParams::default()).await;
    for s in table.shard_summaries().await.unwrap().unwrap().iter().cloned() {
        let Some(layout) = s.blocks else { continue };
        let path = s.file_path.strip_prefix("file://").unwrap().to_string();
        let mut bytes = std::fs::read(&path).unwrap();
        for b in &layout.blocks {
            bytes[(b.offset + 70) as usize] ^= 0x5A;
        }
        // And every re-ranking vector of the file's first block.
        let first = layout.blocks[0];
        for row in first.row_start..first.row_start + first.rows {
            bytes[layout.vector_range(row).start as usize] ^= 0x01;
        }
        std::fs::write(&path, bytes).unwrap();
    }
    let session = session_with(&table, 1 << 30).await;
    let damaged = top10(&session, &queries, &SearchParams::default()).await;
    let c = session.counters();
    eprintln!("corrupt: {c:?}");
    assert!(c.blocks_corrupt > 0);
    assert_eq!(c.blocks_scanned, 0, "no damaged block was scanned");
    // Rows of damaged blocks are scored exactly through the shard (its section fails its
    // checksum too, so from the Parquet column): the answers can only get better.
    let truth: Vec<Vec<i64>> = queries
        .iter()
        .map(|q| {
            let mut rows = base.clone();
            rows.push(queries[1].clone());
            exact(&rows, q, 10)
                .into_iter()
                .map(|i| if i == ROWS as i64 { 90_000 } else { i })
                .filter(|i| !gone.contains(i))
                .collect()
        })
        .collect();
    assert!(recall_of(&damaged, &truth) >= recall_of(&clean, &truth) - 1e-9);
}

/// A read failing at each request of a cold block query in turn (on a simulated object
/// store): the call fails retryably, the cache keeps nothing partial, and the retry on the
/// same session answers exactly as an undisturbed one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_block_read_failing_mid_wave_fails_retryably_and_the_retry_answers_in_full() {
    use ailake::testing::{Fault, FaultTarget, LatencyProfile, SimulatedStore};
    let (base, queries) = dataset(ROWS, 2);
    let dir = tempfile::tempdir().unwrap();
    let local = compacted(dir.path(), &base).await;
    let expected = ids(&session_with(&local, 1 << 30)
        .await
        .search(&queries[0], 10, &SearchParams::default())
        .await
        .unwrap());
    let wh = Warehouse::local(dir.path().join("warehouse")).unwrap();
    let sim = Arc::new(SimulatedStore::new(wh.store().clone(), LatencyProfile::none()));
    let remote = Warehouse::new(sim.clone(), wh.root()).unwrap();
    let provider = SqlCatalog::open(dir.path().join("catalog.db"), "default").await.unwrap();
    let table = Catalog::new(Arc::new(provider), remote).load_table(&ident("b")).await.unwrap();
    let mut failed = 0;
    for (nth, fault) in
        (0..12).zip([Fault::ServerError, Fault::Timeout, Fault::ConnectionCut].into_iter().cycle())
    {
        let session = session_with(&table, 1 << 30).await;
        sim.fail_after(FaultTarget::Reads, fault, nth);
        match session.search(&queries[0], 10, &SearchParams::default()).await {
            Ok(hits) => assert_eq!(ids(&hits), expected, "fault {nth} hit nothing the query needed"),
            Err(e) => {
                assert!(e.is_retryable() && e.kind() == ErrorKind::Io, "{e}");
                failed += 1;
            }
        }
        sim.clear_faults();
        let again = session.search(&queries[0], 10, &SearchParams::default()).await.unwrap();
        assert_eq!(ids(&again), expected, "the retry after fault {nth} ({fault:?})");
        assert_eq!(session.counters().blocks_corrupt, 0, "a failed read is not a corrupt block");
    }
    assert!(failed >= 3, "the faults hit the query's reads: {failed}");
}

/// Eight callers searching one session at once, through a cache of a twentieth of the index
/// (blocks evicted and re-read under contention): every answer equals the one a lone caller
/// gets.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_concurrent_callers_on_a_small_block_cache_get_the_lone_callers_answers() {
    let (base, queries) = dataset(ROWS, 24);
    let dir = tempfile::tempdir().unwrap();
    let table = compacted(dir.path(), &base).await;
    let summaries = table.shard_summaries().await.unwrap().unwrap();
    let index_bytes: u64 = summaries.iter().map(|s| s.section.unwrap().1).sum();
    let alone = top10(&session_with(&table, 1 << 30).await, &queries, &SearchParams::default()).await;
    let shared = Arc::new(session_with(&table, index_bytes / 20).await);
    let queries = Arc::new(queries);
    let callers: Vec<_> = (0..8)
        .map(|caller| {
            let (session, queries) = (shared.clone(), queries.clone());
            tokio::spawn(async move {
                let mut got = Vec::new();
                // Each caller walks the queries from its own starting point, three times.
                for i in 0..queries.len() * 3 {
                    let q = (i + caller * 3) % queries.len();
                    got.push((
                        q,
                        ids(&session.search(&queries[q], 10, &SearchParams::default()).await.unwrap()),
                    ));
                }
                got
            })
        })
        .collect();
    for caller in callers {
        for (q, got) in caller.await.unwrap() {
            assert_eq!(got, alone[q], "query {q}");
        }
    }
    let c = shared.counters();
    assert!(c.blocks_scanned > 0 && c.bytes_read > 0, "{c:?}");
    assert_eq!(c.shards_visited, 0, "no shard was loaded whole");
}

/// A cold query through blocks on a remote-like store (30 ms to first byte) costs three
/// sequential round trips after planning — the probed blocks with the footers, the
/// re-ranking vectors, the winners' rows — because on object storage a query that must read
/// vectors takes every candidate its bound may still admit in one wave; its answers are the
/// warm ones (re-ranked in rounds) but for rare rows where an error bound fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cold_block_query_costs_three_round_trips() {
    use ailake::testing::{LatencyProfile, SimulatedStore};
    let (base, queries) = dataset(ROWS, 40);
    let dir = tempfile::tempdir().unwrap();
    let local = compacted(dir.path(), &base).await;
    let warm = top10(&session_with(&local, 1 << 30).await, &queries, &SearchParams::default()).await;
    let wh = Warehouse::local(dir.path().join("warehouse")).unwrap();
    let profile =
        LatencyProfile { first_byte: std::time::Duration::from_millis(30), bytes_per_second: 100e6 };
    let sim = Arc::new(SimulatedStore::new(wh.store().clone(), profile));
    let remote = Warehouse::new(sim.clone(), wh.root()).unwrap();
    let provider = SqlCatalog::open(dir.path().join("catalog.db"), "default").await.unwrap();
    let table = Catalog::new(Arc::new(provider), remote).load_table(&ident("b")).await.unwrap();
    // The simulated store sits on a local directory: ask for object storage's behaviour.
    let params = SearchParams { rerank_in_one_wave: Some(true), ..SearchParams::default() };
    let (mut trips, mut same) = (Vec::new(), 0);
    for (q, expected) in queries.iter().zip(&warm) {
        let session = session_with(&table, 1 << 30).await;
        let before = sim.stats().snapshot();
        let hits = session.search(q, 10, &params).await.unwrap();
        let d = sim.stats().snapshot() - before;
        trips.push(d.round_trips);
        // What the store sent is what the search asked for (no merged gaps: an object store
        // client's `get_ranges` merges ranges up to 1 MiB apart).
        let asked = session.counters().bytes_read;
        assert!(d.bytes_read <= asked + asked / 4, "the store sent {} bytes for {asked} asked", d.bytes_read);
        // The one wave re-ranks a superset of what rounds usually take: where an error bound
        // fails, it may find a row the rounds missed (never the reverse in practice).
        let got = ids(&hits);
        let overlap = got.iter().filter(|i| expected.contains(i)).count();
        assert!(overlap >= 9, "cold {got:?} vs warm {expected:?}");
        same += overlap;
        assert!(session.counters().blocks_scanned > 0, "through blocks");
    }
    // Before one-wave re-ranking, 23 of these 40 queries took a fourth (a second vector round).
    assert!(same >= 396, "{same} of 400 results as warm");
    let three = trips.iter().filter(|&&t| t <= 3).count();
    assert!(three >= 38 && trips.iter().all(|&t| t <= 4), "round trips per query: {trips:?}");
}
