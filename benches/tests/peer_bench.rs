//! Smoke test of our side of `cargo xtask bench` (the full run needs the peers' venv and ~10
//! minutes, too much for CI): every `peer_bench` subcommand on a tiny synthetic set, checking
//! the JSON the xtask reads — fields present, recall measured against the ground truth and
//! sane, memory probed. Never asserts speed.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn peer_bench(args: &[&str]) -> Value {
    // `data --out` names a directory; every other subcommand's `--out` is its JSON result.
    let out = args
        .iter()
        .position(|a| *a == "--out")
        .map(|i| args[i + 1].to_string())
        .filter(|_| args[0] != "data");
    let status = Command::new(env!("CARGO_BIN_EXE_peer_bench")).args(args).status().expect("peer_bench runs");
    assert!(status.success(), "peer_bench {args:?} failed: {status}");
    out.map_or(Value::Null, |p| {
        serde_json::from_str(&std::fs::read_to_string(p).expect("output")).expect("JSON")
    })
}

fn recall_at(v: &Value, key: &str, value: u64) -> f64 {
    v["sweep"]
        .as_array()
        .expect("sweep")
        .iter()
        .find(|p| p[key].as_u64() == Some(value))
        .and_then(|p| p["recall"].as_f64())
        .expect("sweep point")
}

#[test]
fn every_subcommand_writes_what_the_xtask_reads() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (d, o) = (data.to_str().unwrap(), |name: &str| dir.path().join(name).display().to_string());
    peer_bench(&["data", "--out", d, "--rows", "3000", "--dim", "16", "--queries", "40", "--clusters", "10"]);
    for f in ["base.fvecs", "query.fvecs", "gt.ivecs"] {
        assert!(Path::new(d).join(f).exists(), "{f} missing");
    }

    let out = o("hnsw.json");
    let hnsw = peer_bench(&[
        "hnsw",
        "--data",
        d,
        "--metric",
        "l2",
        "--threads",
        "2",
        "--m",
        "8",
        "--efc",
        "64",
        "--efs",
        "10,64",
        "--out",
        &out,
    ]);
    assert_eq!((hnsw["rows"].as_u64(), hnsw["dim"].as_u64()), (Some(3000), Some(16)));
    assert!(hnsw["build_s"].as_f64().unwrap() > 0.0);
    assert!(hnsw["build_peak_rss_mib"].as_f64().unwrap() >= hnsw["rss_before_mib"].as_f64().unwrap());
    assert!(recall_at(&hnsw, "ef", 64) >= 0.9, "{hnsw}");

    let out = o("ivfpq.json");
    let ivf = peer_bench(&[
        "ivfpq",
        "--data",
        d,
        "--metric",
        "l2",
        "--threads",
        "2",
        "--nprobes",
        "1,16",
        "--refines",
        "1,4",
        "--out",
        &out,
    ]);
    assert_eq!(ivf["sweep"].as_array().unwrap().len(), 4);
    assert!(ivf["nlist"].as_u64().unwrap() > 1 && ivf["m"].as_u64().unwrap() > 1);
    let refined =
        ivf["sweep"].as_array().unwrap().iter().find(|p| p["nprobe"] == 16 && p["refine"] == 4).unwrap();
    assert!(refined["recall"].as_f64().unwrap() >= 0.8, "{ivf}");

    let out = o("table.json");
    let table = peer_bench(&[
        "table",
        "--data",
        d,
        "--metric",
        "l2",
        "--shard-rows",
        "1000",
        "--m",
        "8",
        "--efc",
        "64",
        "--efs",
        "16,64",
        "--queries",
        "20",
        "--out",
        &out,
    ]);
    assert_eq!(table["shards"].as_u64(), Some(3));
    let writes = table["writes"].as_array().unwrap();
    let paths: Vec<&str> = writes.iter().map(|w| w["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["write_batch", "write_batch_ivf_pq", "write_batch_deferred"]);
    for w in writes {
        assert_eq!(w["rows"].as_u64(), Some(3000));
        assert!(w["rows_per_s"].as_f64().unwrap() > 0.0 && w["peak_rss_mib"].as_f64().unwrap() > 0.0);
    }
    assert!(recall_at(&table, "ef", 64) >= 0.9, "{table}");
    let p = &table["sweep"][0];
    assert!(p["p50_ms"].as_f64().unwrap() <= p["p99_ms"].as_f64().unwrap());

    let out = o("filtered.json");
    let filtered = peer_bench(&[
        "filtered",
        "--data",
        d,
        "--metric",
        "l2",
        "--shard-rows",
        "1000",
        "--efs",
        "16,64",
        "--queries",
        "20",
        "--out",
        &out,
    ]);
    let sel = filtered["selectivities"].as_array().unwrap();
    assert_eq!(sel.len(), 4);
    for s in sel {
        let matching = s["matching"].as_u64().unwrap();
        for p in s["sweep"].as_array().unwrap() {
            assert_eq!(p["min_results"].as_u64(), Some(matching.min(10)), "{s}");
            assert!(p["recall"].as_f64().unwrap() >= 0.9, "{s}");
        }
    }
    assert_eq!(filtered["delete"]["rows_after"].as_u64(), Some(2700), "{filtered}");
    assert!(filtered["ivf_nlist"].as_u64().unwrap() > 1);

    let out = o("scale.json");
    let scale = peer_bench(&[
        "scale",
        "--data",
        d,
        "--metric",
        "l2",
        "--files",
        "30",
        "--target-rows",
        "1000",
        "--efs",
        "16,64",
        "--queries",
        "20",
        "--out",
        &out,
    ]);
    assert_eq!(scale["before"]["best"]["files"].as_u64(), Some(30));
    assert_eq!(scale["floor"]["sweep"].as_array().unwrap().len(), 2);
    assert_eq!(scale["floor"]["best"]["files"].as_u64(), Some(1));
    let after = &scale["after"]["best"];
    assert!(after["files"].as_u64().unwrap() < 30 && after["recall"].as_f64().unwrap() >= 0.9, "{scale}");
    assert!(after["shards_per_query"].as_f64().unwrap() < 30.0, "{scale}");
    assert!(scale["compaction"]["rows_per_s"].as_f64().unwrap() > 0.0);

    // Needs the rustberg server (.ci/install-rustberg).
    let out = o("rest.json");
    let rest = peer_bench(&[
        "rest",
        "--data",
        d,
        "--metric",
        "l2",
        "--rows",
        "1000",
        "--files",
        "2",
        "--commits",
        "3",
        "--queries",
        "10",
        "--rounds",
        "1",
        "--out",
        &out,
    ]);
    let points = rest["points"].as_array().unwrap();
    let catalogs: Vec<&str> = points.iter().map(|p| p["catalog"].as_str().unwrap()).collect();
    assert_eq!(catalogs, ["sqlite", "rest"], "{rest}");
    for p in points {
        assert!(p["commit_p50_ms"].as_f64().unwrap() > 0.0 && p["qps"].as_f64().unwrap() > 0.0, "{p}");
        assert!(p["recall"].as_f64().unwrap() >= 0.8, "{p}");
    }

    let out = o("sql.json");
    let sql = peer_bench(&[
        "sql",
        "--data",
        d,
        "--metric",
        "l2",
        "--shard-rows",
        "1000",
        "--efs",
        "32",
        "--queries",
        "12",
        "--ballista-queries",
        "4",
        "--rounds",
        "1",
        "--out",
        &out,
    ]);
    assert_eq!(sql["shards"].as_u64(), Some(3));
    assert!(sql["search_node_bytes"].as_u64().unwrap() > 16 * 4, "{sql}");
    let points = sql["points"].as_array().unwrap();
    let modes: Vec<&str> = points.iter().map(|p| p["mode"].as_str().unwrap()).collect();
    assert_eq!(modes, ["session", "sql_prepared", "sql_tp1", "sql_tp2", "ballista"]);
    for p in points {
        assert_eq!(p["mismatches"].as_u64(), Some(0), "SQL answers differ from the session's: {p}");
        assert!(p["recall"].as_f64().unwrap() >= 0.9 && p["qps"].as_f64().unwrap() > 0.0, "{p}");
    }
}

#[test]
fn bigtable_kills_the_compaction_at_every_phase_then_resumes_and_searches() {
    let dir = tempfile::tempdir().unwrap();
    let (work, peer) = (dir.path().join("work"), dir.path().join("peer"));
    std::fs::create_dir_all(&work).unwrap();
    let out = dir.path().join("bigtable.json").display().to_string();
    // 20,000 rows × 16 in 200 KB of row memory: the streamed compaction, spilling.
    let v = peer_bench(&[
        "bigtable",
        "--rows",
        "20000",
        "--dim",
        "16",
        "--files",
        "4",
        "--target-rows",
        "2000",
        "--memory",
        "200000",
        "--kill-after",
        "2",
        "--queries",
        "20",
        "--work",
        work.to_str().unwrap(),
        "--peer-data",
        peer.to_str().unwrap(),
        "--out",
        &out,
    ]);
    let runs = v["compaction"]["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 7, "{v}");
    let trained: Vec<_> = runs[..6].iter().map(|r| r["partitions_trained"].as_bool()).collect();
    assert_eq!(trained, [false, false, true, true, true, true].map(Some), "{v}");
    let resumed = v["compaction"]["files_already_written"].as_u64().unwrap();
    assert_eq!(resumed, v["compaction"]["files_added"].as_u64().unwrap(), "the last run only committed: {v}");
    assert!(resumed > 2, "{v}");
    assert_eq!(v["files_with_blocks"], v["compaction"]["files_added"], "{v}");
    assert!(v["in_cache"]["recall"].as_f64().unwrap() >= 0.9, "{v}");
    assert!(v["out_of_cache"]["bytes_per_query"].as_f64().unwrap() > 0.0, "{v}");
    assert!(v["out_of_cache"]["recall"].as_f64().unwrap() >= 0.9, "{v}");
    assert!(v["cold_simulated"]["round_trips"].as_f64().unwrap() >= 1.0, "{v}");
    assert!(v["out_of_cache_peak_rss_mib"].as_f64().unwrap() > 0.0, "{v}");
    let base = std::fs::metadata(peer.join("base.fvecs")).unwrap().len();
    assert_eq!(base, 20_000 * (16 + 1) * 4, "the peers' copy of the rows");
    assert!(peer.join("gt.ivecs").exists() && peer.join("query.fvecs").exists());
    assert_eq!(std::fs::read_dir(&work).unwrap().count(), 0, "the table's directory is removed");
}
