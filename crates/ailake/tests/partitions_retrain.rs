//! Retraining the table's partitions while queries run (issue 31): a session on the old
//! snapshot keeps answering as before; on a snapshot where files clustered by the old
//! partitions sit beside files clustered by the new ones, the old files are searched whole
//! (their blocks belong to partitions the table no longer has) and the answers keep their
//! recall; once every file is re-clustered, only blocks are read again.

mod common;

use std::sync::Arc;

use ailake::prelude::*;
use ailake::search::partitions_property;
use common::*;

const ROWS: usize = 4000;

fn recall_of(got: &[Vec<i64>], truth: &[Vec<i64>]) -> f64 {
    let hits: usize = got.iter().zip(truth).map(|(g, t)| g.iter().filter(|i| t.contains(i)).count()).sum();
    hits as f64 / truth.iter().map(Vec::len).sum::<usize>() as f64
}

async fn top10(session: &SearchSession, queries: &[Vec<f32>]) -> Vec<Vec<i64>> {
    let mut out = Vec::new();
    for q in queries {
        out.push(ids(&session.search(q, 10, &SearchParams::default()).await.unwrap()));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retrain_while_queries_run_keeps_every_answer_right() {
    let (base, queries) = dataset(ROWS, 20);
    let truth: Vec<Vec<i64>> = queries.iter().map(|q| exact(&base, q, 10)).collect();
    let dir = tempfile::tempdir().unwrap();
    let catalog =
        Catalog::local(dir.path().join("catalog.db"), "default", dir.path().join("wh")).await.unwrap();
    let spec = VectorSpec::new("embedding", DIM as u32, Metric::Cosine);
    let t = catalog.create_table(&ident("r"), &attributes(), &[spec]).await.unwrap();
    let mut order: Vec<usize> = (0..ROWS).collect();
    order.sort_by_key(|&i| (i * 7919) % ROWS);
    write_files(&t, &base, &order, 250).await;
    let first = t.compact(&CompactOptions { target_rows: 600, ..Default::default() }).await.unwrap();
    let t = t.refresh().await.unwrap();
    let old = Arc::new(t.search().await.unwrap());
    let before = top10(&old, &queries).await;
    assert!(recall_of(&before, &truth) >= 0.95);

    // Retrain: the partitions are named no more; the next compaction trains new ones and
    // re-clusters 2,000 rows' worth of files while the old session keeps answering.
    let key = partitions_property("embedding");
    let uri = t.properties().get(&key).unwrap().clone();
    assert!(t.remove_property_if(&key, &uri).await.unwrap());
    let (session, qs) = (old.clone(), queries.clone());
    let querying = tokio::spawn(async move {
        let mut rounds = Vec::new();
        for _ in 0..5 {
            rounds.push(top10(&session, &qs).await);
        }
        rounds
    });
    let opts = CompactOptions { target_rows: 600, max_rows: 2000, ..Default::default() };
    let second = t.compact(&opts).await.unwrap();
    for round in querying.await.unwrap() {
        assert_eq!(round, before, "the old snapshot's session answers as before");
    }
    assert_ne!(second.partitions_version, first.partitions_version, "a new partitions version");
    assert!(second.rows > 0 && second.rows < ROWS as u64, "{second:?}");

    // Mixed: files of both versions. The old ones are searched whole, the new ones by blocks.
    let t = t.refresh().await.unwrap();
    let mixed = t.search().await.unwrap();
    let got = top10(&mixed, &queries).await;
    let c = mixed.counters();
    eprintln!("mixed: recall {:.3}, {c:?}", recall_of(&got, &truth));
    assert!(recall_of(&got, &truth) >= 0.95);
    assert!(c.shards_visited > 0, "files of the old partitions are searched whole");
    assert!(c.blocks_scanned > 0, "files of the new partitions through their blocks");
    assert_eq!(top10(&old, &queries).await, before);

    // Everything re-clustered: blocks only.
    t.compact(&CompactOptions { target_rows: 600, ..Default::default() }).await.unwrap();
    let t = t.refresh().await.unwrap();
    let summaries = t.shard_summaries().await.unwrap().unwrap();
    assert!(summaries.iter().all(|s| s.occupancy.as_ref().map(|o| o.version) == second.partitions_version));
    let done = t.search().await.unwrap();
    let got = top10(&done, &queries).await;
    assert!(recall_of(&got, &truth) >= 0.95);
    assert_eq!(done.counters().shards_visited, 0, "no file searched whole");
}
