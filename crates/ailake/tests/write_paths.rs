//! Every write path, then search: recall@10 ≥ 0.95 against exact search over the whole
//! (multi-shard) table; multi-vector tables; time travel; pruning on clustered shards.

mod common;

use ailake::prelude::*;
use ailake::{Filter, MultiVectorBatch};
use common::*;

const K: usize = 10;

async fn check_recall(dir: &std::path::Path, name: &str, base: &[Vec<f32>], queries: &[Vec<f32>]) -> f64 {
    let s = session(dir, name).await;
    assert_eq!(s.row_count() as usize, base.len());
    let params = SearchParams::default();
    let mut got = Vec::new();
    for q in queries {
        got.push(ids(&s.search(q, K, &params).await.unwrap()));
    }
    let truth: Vec<Vec<i64>> = queries.iter().map(|q| exact(base, q, K)).collect();
    recall(&got, &truth)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_write_path_reaches_recall_095() {
    let (base, queries) = dataset(4500, 40);
    let dir = tempfile::tempdir().unwrap();
    for path in ["hnsw", "ivf_pq", "auto", "deferred", "ivf_pq_deferred", "idempotent"] {
        let w = writer(dir.path(), path).await;
        for (b, chunk) in base.chunks(1500).enumerate() {
            let batch = rows(b * 1500..b * 1500 + chunk.len());
            match path {
                "hnsw" => drop(w.write_batch(&batch, chunk).await.unwrap()),
                "ivf_pq" => drop(w.write_batch_ivf_pq(&batch, chunk, None).await.unwrap()),
                "auto" => drop(w.write_batch_auto(&batch, chunk).await.unwrap()),
                "deferred" => drop(w.write_batch_deferred(&batch, chunk).await.unwrap()),
                "ivf_pq_deferred" => drop(w.write_batch_ivf_pq_deferred(&batch, chunk).await.unwrap()),
                _ => drop(w.write_batch_idempotent(&format!("b{b}"), &batch, chunk).await.unwrap().unwrap()),
            }
        }
        w.commit().await.unwrap();
        w.wait_indexed().await.unwrap();
        let r = check_recall(dir.path(), path, &base, &queries).await;
        assert!(r >= 0.95, "{path}: recall@10 {r:.3}");
        let s = session(dir.path(), path).await;
        assert_eq!(s.shard_count(), 3, "{path}");
        s.search(&queries[0], K, &SearchParams::default()).await.unwrap();
        let c = s.counters();
        assert_eq!(c.shards_index_searched + c.shards_pruned, 3, "{path}: every shard indexed: {c:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_carry_projection_distance_and_filters() {
    let (base, queries) = dataset(3000, 5);
    let dir = tempfile::tempdir().unwrap();
    let w = writer(dir.path(), "t").await;
    for (b, chunk) in base.chunks(1000).enumerate() {
        w.write_batch(&rows(b * 1000..b * 1000 + chunk.len()), chunk).await.unwrap();
    }
    w.commit().await.unwrap();
    let s = session(dir.path(), "t").await;
    let res = s.search(&queries[0], K, &SearchParams::default()).await.unwrap();
    assert_eq!(res.num_rows(), K);
    let names: Vec<String> = res.schema().fields().iter().map(|f| f.name().clone()).collect();
    assert_eq!(names, ["id", "text", "_distance"]);
    let d = distances(&res);
    assert!(d.windows(2).all(|w| w[0] <= w[1]), "nearest first: {d:?}");
    let texts =
        res.column_by_name("text").unwrap().as_any().downcast_ref::<arrow_array::StringArray>().unwrap();
    for (i, id) in ids(&res).iter().enumerate() {
        assert_eq!(texts.value(i), format!("doc {id}"));
    }
    let c = s.counters();
    assert!(c.read_requests > 0 && c.bytes_read > c.read_requests, "{c:?}");
    // A projection with only ids.
    let p = SearchParams { projection: Some(vec!["id".into()]), ..SearchParams::default() };
    assert_eq!(s.search(&queries[0], K, &p).await.unwrap().num_columns(), 2);

    // A filter matching 7 rows returns exactly those 7, nearest first; one matching 40 returns k.
    let f = Filter::cmp("id", ailake::Op::Lt, 7i64);
    let p = SearchParams { filter: Some(f), ..SearchParams::default() };
    let mut got = ids(&s.search(&queries[0], K, &p).await.unwrap());
    got.sort_unstable();
    assert_eq!(got, (0..7).collect::<Vec<_>>());
    let f = Filter::cmp("id", ailake::Op::Ge, 2960i64);
    let p = SearchParams { filter: Some(f), ..SearchParams::default() };
    let got = ids(&s.search(&queries[0], K, &p).await.unwrap());
    let sub: Vec<Vec<f32>> = base[2960..].to_vec();
    let truth: Vec<i64> = exact(&sub, &queries[0], K).into_iter().map(|i| i + 2960).collect();
    assert_eq!(got, truth, "filtered search is exact over matching rows");

    // Bad queries are typed errors.
    assert!(s.search(&queries[0][..10], K, &SearchParams::default()).await.is_err());
    assert!(s.search(&vec![f32::NAN; DIM], K, &SearchParams::default()).await.is_err());
    let p = SearchParams { projection: Some(vec!["nope".into()]), ..SearchParams::default() };
    assert!(s.search(&queries[0], K, &p).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_vector_tables_search_each_column_and_prune_on_the_primary() {
    let (base, queries) = dataset(2000, 20);
    // A second column: the first 64 values of each embedding, searched by L2.
    let short: Vec<Vec<f32>> = base.iter().map(|v| v[..64].to_vec()).collect();
    let dir = tempfile::tempdir().unwrap();
    let (catalog, wh) = lake(dir.path()).await;
    let specs =
        [VectorSpec::new("embedding", DIM as u32, Metric::Cosine), VectorSpec::new("head", 64, Metric::L2)];
    let w = TableWriter::create_or_open(
        catalog,
        wh,
        WritePolicy::default(),
        ident("multi"),
        &attributes(),
        &specs,
    )
    .await
    .unwrap();
    let missing = w.write_batch(&rows(0..10), &base[..10]).await.unwrap_err();
    assert!(
        matches!(missing, ailake::writer::WriterError::MissingVectorColumn(ref c) if c == "head"),
        "{missing}"
    );
    for b in 0..2 {
        let r = b * 1000..(b + 1) * 1000;
        let cols = [
            MultiVectorBatch::new("embedding", base[r.clone()].to_vec()),
            MultiVectorBatch::new("head", short[r.clone()].to_vec()),
        ];
        w.write_batch_multi(&rows(r), &cols).await.unwrap();
    }
    w.commit().await.unwrap();
    let s = session(dir.path(), "multi").await;
    let mut got = Vec::new();
    for q in &queries {
        got.push(ids(&s.search(q, K, &SearchParams::default()).await.unwrap()));
    }
    let truth: Vec<Vec<i64>> = queries.iter().map(|q| exact(&base, q, K)).collect();
    assert!(recall(&got, &truth) >= 0.95);
    // ef 128: at the default the 64-d column's recall sat at 0.945–0.96 from run to run (the
    // parallel HNSW build is not deterministic), which made the check flaky.
    let p = SearchParams { column: Some("head".into()), ef: Some(128), ..SearchParams::default() };
    let mut got = Vec::new();
    let mut truth = Vec::new();
    for q in &queries {
        let qh = &q[..64];
        got.push(ids(&s.search(qh, K, &p).await.unwrap()));
        let mut scored: Vec<(f32, i64)> = short
            .iter()
            .enumerate()
            .map(|(i, v)| (v.iter().zip(qh).map(|(a, b)| (a - b) * (a - b)).sum::<f32>(), i as i64))
            .collect();
        scored.sort_by(|a, b| a.0.total_cmp(&b.0));
        truth.push(scored.iter().take(K).map(|x| x.1).collect());
    }
    assert!(recall(&got, &truth) >= 0.95, "second column recall {}", recall(&got, &truth));
    let summaries = s_summaries(dir.path()).await;
    assert!(summaries.iter().all(|x| x.column == "embedding" && x.centroid.len() == DIM));
}

async fn s_summaries(dir: &std::path::Path) -> Vec<ailake::catalog::ShardSummary> {
    let (catalog, wh) = lake(dir).await;
    let t = Table::load(catalog, wh, ident("multi")).await.unwrap();
    t.shard_summaries().await.unwrap().unwrap().to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_travel_does_not_see_later_rows() {
    let (base, queries) = dataset(2000, 1);
    let dir = tempfile::tempdir().unwrap();
    let w = writer(dir.path(), "tt").await;
    w.write_batch(&rows(0..1000), &base[..1000]).await.unwrap();
    let first = w.commit().await.unwrap();
    w.write_batch(&rows(1000..2000), &base[1000..]).await.unwrap();
    w.commit().await.unwrap();
    let now = session(dir.path(), "tt").await;
    let old = now.at_snapshot(first).await.unwrap();
    assert_eq!(now.row_count(), 2000);
    assert_eq!(old.row_count(), 1000);
    let p = SearchParams::default();
    let got = ids(&old.search(&queries[0], 50, &p).await.unwrap());
    assert_eq!(got.len(), 50);
    assert!(got.iter().all(|&i| i < 1000), "{got:?}");
    let truth = exact(&base[..1000], &queries[0], 10);
    assert!(recall(&[got[..10].to_vec()], &[truth]) >= 0.9);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clustered_shards_are_pruned() {
    // 16 well-separated clusters in 32-d, one shard per cluster.
    const D: usize = 32;
    let dir = tempfile::tempdir().unwrap();
    let (catalog, wh) = lake(dir.path()).await;
    let spec = VectorSpec::new("embedding", D as u32, Metric::L2);
    let w = TableWriter::create_or_open(
        catalog,
        wh,
        WritePolicy::default(),
        ident("clusters"),
        &attributes(),
        &[spec],
    )
    .await
    .unwrap();
    let mut seed = 12345u64;
    let mut noise = move || {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((seed >> 33) as f32 / (1u64 << 31) as f32) - 0.5
    };
    let center = |c: usize| -> Vec<f32> {
        (0..D).map(|d| if d == c % D { 20.0 * (1 + c / D) as f32 } else { 0.0 }).collect()
    };
    for c in 0..16 {
        let vecs: Vec<Vec<f32>> = (0..200).map(|_| center(c).iter().map(|x| x + noise()).collect()).collect();
        w.write_batch(&rows(c * 200..(c + 1) * 200), &vecs).await.unwrap();
    }
    w.commit().await.unwrap();
    let s = session(dir.path(), "clusters").await;
    assert_eq!(s.shard_count(), 16);
    let q: Vec<f32> = center(5).iter().map(|x| x + 0.1).collect();
    let p = SearchParams { concurrency: 1, io_concurrency: Some(1), ..SearchParams::default() };
    let got = ids(&s.search(&q, K, &p).await.unwrap());
    assert!(got.iter().all(|&i| (1000..1200).contains(&i)), "{got:?}");
    let c = s.counters();
    assert!(c.shards_visited < 8, "visited {} of 16 shards: {c:?}", c.shards_visited);
    assert_eq!(c.shards_visited + c.shards_pruned, 16);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_picks_ivf_pq_on_big_batches_with_enough_cores_and_codebooks_survive_orphan_removal() {
    let (base, _) = dataset(3000, 1);
    let dir = tempfile::tempdir().unwrap();
    let (catalog, wh) = lake(dir.path()).await;
    let spec = VectorSpec::new("embedding", DIM as u32, Metric::Cosine);
    // This machine may have 2 cores: lower the core bar so the IVF-PQ branch is exercised.
    let policy = WritePolicy { auto_min_cores: 1, auto_min_rows: 1000, ..WritePolicy::default() };
    let w = TableWriter::create_or_open(
        catalog.clone(),
        wh.clone(),
        policy,
        ident("auto"),
        &attributes(),
        &[spec],
    )
    .await
    .unwrap();
    assert_eq!(
        w.write_batch_auto(&rows(0..1500), &base[..1500]).await.unwrap().index,
        ailake::catalog::IndexKind::IvfPq
    );
    assert_eq!(
        w.write_batch_auto(&rows(1500..1900), &base[1500..1900]).await.unwrap().index,
        ailake::catalog::IndexKind::Hnsw
    );
    w.write_batch_ivf_pq_deferred(&rows(1900..3000), &base[1900..3000]).await.unwrap();
    w.commit().await.unwrap();
    w.wait_indexed().await.unwrap();
    let table = Table::load(catalog, wh, ident("auto")).await.unwrap();
    let removed = table.remove_orphans(std::time::Duration::ZERO).await.unwrap();
    assert!(removed.iter().all(|r| !r.contains("codebook")), "{removed:?}");
    let location = table.location();
    let codebook = table
        .warehouse()
        .path_of(&format!("{location}/metadata/ailake-ivfpq-codebook-embedding.ailk"))
        .unwrap();
    use ailake::format::object_store::ObjectStoreExt;
    assert!(table.warehouse().store().head(&codebook).await.is_ok(), "the shared codebook is kept");
}
