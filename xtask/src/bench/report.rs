//! Markdown tables of the index comparisons (ours against hnswlib, FAISS, LanceDB), the CSV
//! rows of every sweep point, and the shared cell helpers.

use serde_json::Value;

/// QPS of the cheapest sweep point reaching `target` recall, with that recall.
pub(super) fn qps_at(result: &Value, target: f64) -> Option<(f64, f64, u64)> {
    result["sweep"].as_array()?.iter().find_map(|p| {
        let recall = p["recall"].as_f64()?;
        (recall >= target).then(|| (p["qps"].as_f64().unwrap_or(0.0), recall, p["ef"].as_u64().unwrap_or(0)))
    })
}

/// HNSW: ours (M=16) against hnswlib (M=16) and FAISS `IndexHNSWFlat` (M=32), same
/// ef_construction; ratios are ours over each peer.
pub(super) fn hnsw_table(name: &str, ours: &Value, hnswlib: &Value, faiss: &Value) -> String {
    let f = |v: &Value, k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    let mut s = format!(
        "### HNSW on `{name}` ({} × {}, ef_construction=200; ailake and hnswlib M=16, FAISS HNSW{})\n\n\
         | | ailake | hnswlib | FAISS | ailake / hnswlib | ailake / FAISS |\n|---|---|---|---|---|---|\n",
        ours["rows"], ours["dim"], faiss["m"]
    );
    let (bo, bh, bf) = (f(ours, "build_s"), f(hnswlib, "build_s"), f(faiss, "build_s"));
    s += &format!(
        "| build, 2 threads (s) | {bo:.2} | {bh:.2} | {bf:.2} | {:.2}× the time | {:.2}× the time |\n",
        bo / bh,
        bo / bf
    );
    let growth = |v: &Value| f(v, "build_peak_rss_mib") - f(v, "rss_before_mib");
    s += &format!(
        "| build peak RSS, MiB (growth over the loaded data) | {:.0} (+{:.0}) | {:.0} (+{:.0}) | {:.0} (+{:.0}) | {:.2}× the growth | {:.2}× the growth |\n",
        f(ours, "build_peak_rss_mib"),
        growth(ours),
        f(hnswlib, "build_peak_rss_mib"),
        growth(hnswlib),
        f(faiss, "build_peak_rss_mib"),
        growth(faiss),
        growth(ours) / growth(hnswlib),
        growth(ours) / growth(faiss)
    );
    let cell = |r: Option<(f64, f64, u64)>| match r {
        Some((qps, rec, ef)) => format!("{qps:.0} (recall {rec:.3}, ef {ef})"),
        None => "not reached".into(),
    };
    let ratio = |o: Option<(f64, f64, u64)>, p: Option<(f64, f64, u64)>| match (o, p) {
        (Some(o), Some(p)) => format!("{:.2}× the QPS", o.0 / p.0),
        _ => "—".into(),
    };
    for target in [0.90, 0.95, 0.99] {
        let (o, h, fa) = (qps_at(ours, target), qps_at(hnswlib, target), qps_at(faiss, target));
        s += &format!(
            "| 1-thread QPS at recall@10 ≥ {target:.2} | {} | {} | {} | {} | {} |\n",
            cell(o),
            cell(h),
            cell(fa),
            ratio(o, h),
            ratio(o, fa)
        );
    }
    s += "\nFull sweep (ailake's per-query latency from its fastest pass; the peers answer in one batched call):\n\n\
          | ef | ailake recall | ailake QPS | ailake p50 / p99 µs | hnswlib recall | hnswlib QPS | FAISS recall | FAISS QPS |\n\
          |---|---|---|---|---|---|---|---|\n";
    let empty = Vec::new();
    let sweep = |v: &Value| v["sweep"].as_array().unwrap_or(&empty).clone();
    let (so, sh, sf) = (sweep(ours), sweep(hnswlib), sweep(faiss));
    for ((o, h), fa) in so.iter().zip(&sh).zip(&sf) {
        s += &format!(
            "| {} | {:.4} | {:.0} | {:.0} / {:.0} | {:.4} | {:.0} | {:.4} | {:.0} |\n",
            o["ef"],
            f(o, "recall"),
            f(o, "qps"),
            f(o, "p50_us"),
            f(o, "p99_us"),
            f(h, "recall"),
            f(h, "qps"),
            f(fa, "recall"),
            f(fa, "qps")
        );
    }
    s
}

/// Best QPS among sweep points reaching `target` recall (optionally only without refine).
pub(super) fn best_qps(result: &Value, target: f64, refine_only_one: bool) -> Option<(f64, f64, u64, u64)> {
    result["sweep"]
        .as_array()?
        .iter()
        .filter(|p| !refine_only_one || p["refine"].as_u64() == Some(1))
        .filter(|p| p["recall"].as_f64().is_some_and(|r| r >= target))
        .map(|p| {
            let g = |k: &str| p[k].as_f64().unwrap_or(0.0);
            (g("qps"), g("recall"), p["nprobe"].as_u64().unwrap_or(0), p["refine"].as_u64().unwrap_or(1))
        })
        .max_by(|a, b| a.0.total_cmp(&b.0))
}

pub(super) fn ivfpq_table(name: &str, ours: &Value, peer: &Value) -> String {
    let f = |v: &Value, k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    let mut s = format!(
        "### IVF-PQ on `{name}` ({} × {}, nlist={}, m={}, 8-bit codes, residual, `IvfPqConfig::for_dataset`)\n\n",
        ours["rows"], ours["dim"], ours["nlist"], ours["m"]
    );
    s += "| | ailake | FAISS | ailake / FAISS |\n|---|---|---|---|\n";
    s += &time_row("k-means, k=nlist, ≤25 iterations, 2 threads (s)", "kmeans_s", ours, peer);
    s += &time_row("train + add, raw vectors kept, 2 threads (s)", "build_s", ours, peer);
    s += &rss_row(ours, peer);
    let cell = ivf_cell;
    for (label, target, plain) in [
        ("≥ 0.90, refine allowed", 0.90, false),
        ("≥ 0.95, refine allowed", 0.95, false),
        ("≥ 0.80, no refine", 0.80, true),
    ] {
        let (o, p) = (best_qps(ours, target, plain), best_qps(peer, target, plain));
        let ratio = match (o, p) {
            (Some(o), Some(p)) => format!("{:.2}× the QPS", o.0 / p.0),
            _ => "—".into(),
        };
        s += &format!("| 1-thread QPS at recall@10 {label} | {} | {} | {ratio} |\n", cell(o), cell(p));
    }
    s += "\nFull sweep (ailake's per-query latency from its fastest pass; FAISS answers in one batched call):\n\n\
          | nprobe | refine | ailake recall | ailake QPS | ailake p50 / p99 µs | FAISS recall | FAISS QPS |\n\
          |---|---|---|---|---|---|---|\n";
    let empty = Vec::new();
    let (so, sp) = (ours["sweep"].as_array().unwrap_or(&empty), peer["sweep"].as_array().unwrap_or(&empty));
    for (o, p) in so.iter().zip(sp) {
        s += &format!(
            "| {} | {} | {:.4} | {:.0} | {:.0} / {:.0} | {:.4} | {:.0} |\n",
            o["nprobe"],
            o["refine"],
            f(o, "recall"),
            f(o, "qps"),
            f(o, "p50_us"),
            f(o, "p99_us"),
            f(p, "recall"),
            f(p, "qps")
        );
    }
    s
}

/// Appends one CSV row per sweep point of a result file.
pub(super) fn csv_rows(
    csv: &mut String,
    dataset: &str,
    system: &str,
    index: &str,
    json: &Value,
    param: &str,
) {
    let build = json["build_s"].as_f64().unwrap_or(f64::NAN);
    for p in json["sweep"].as_array().into_iter().flatten() {
        csv.push_str(&format!(
            "{dataset},{system},{index},{build:.3},{},{},{:.4},{:.1}\n",
            p[param].as_u64().unwrap_or(0),
            p["refine"].as_u64().unwrap_or(1),
            p["recall"].as_f64().unwrap_or(f64::NAN),
            p["qps"].as_f64().unwrap_or(f64::NAN)
        ));
    }
}

/// ailake IVF-PQ (per-file index, queried in-process) against LanceDB's IVF_PQ table on the
/// same data and parameters.
pub(super) fn lancedb_table(name: &str, ours: &Value, lance: &Value) -> String {
    let f = |v: &Value, k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    let mut s = format!(
        "### IVF-PQ vs LanceDB {} on `{name}` ({} × {}, nlist={}, m={})\n\n\
         LanceDB is queried as its users query it: one `search().to_arrow()` call per query, its own \
         thread pool inside each call, Python overhead included; ailake's QPS is one thread, in-process.\n\n",
        lance["version"].as_str().unwrap_or("?"),
        ours["rows"],
        ours["dim"],
        ours["nlist"],
        ours["m"]
    );
    s += "| | ailake | LanceDB | ailake / LanceDB |\n|---|---|---|---|\n";
    s += &time_row("index build, raw vectors kept (s)", "build_s", ours, lance);
    s += &rss_row(ours, lance);
    s += &format!("| LanceDB table write (rows/s) | — | {:.0} | — |\n", f(lance, "write_rows_per_s"));
    for (label, target, plain) in [("≥ 0.90, refine allowed", 0.90, false), ("≥ 0.80, no refine", 0.80, true)]
    {
        let (o, p) = (best_qps(ours, target, plain), best_qps(lance, target, plain));
        let cell = ivf_cell;
        let ratio = match (o, p) {
            (Some(o), Some(p)) => format!("{:.1}× the QPS", o.0 / p.0),
            _ => "—".into(),
        };
        s += &format!("| QPS at recall@10 {label} | {} | {} | {ratio} |\n", cell(o), cell(p));
    }
    s += "\nLanceDB sweep (latency per query):\n\n| nprobe | refine | recall | QPS | p50 ms | p99 ms |\n|---|---|---|---|---|---|\n";
    for p in lance["sweep"].as_array().into_iter().flatten() {
        s += &format!(
            "| {} | {} | {:.4} | {:.0} | {:.2} | {:.2} |\n",
            p["nprobe"],
            p["refine"],
            f(p, "recall"),
            f(p, "qps"),
            f(p, "p50_ms"),
            f(p, "p99_ms")
        );
    }
    s
}

/// Memory a build added on top of what the process held before it (the loaded data set).
fn build_growth_mib(v: &Value) -> Option<(f64, f64)> {
    let peak = v["build_peak_rss_mib"].as_f64()?;
    let before = v["rss_before_mib"].as_f64()?;
    Some((peak, peak - before))
}

/// `| build peak RSS | ours | peer | ratio |`, or nothing when a side did not record it.
pub(super) fn rss_row(ours: &Value, peer: &Value) -> String {
    match (build_growth_mib(ours), build_growth_mib(peer)) {
        (Some((po, go)), Some((pp, gp))) => format!(
            "| build peak RSS, MiB (growth over the loaded data) | {po:.0} (+{go:.0}) | {pp:.0} (+{gp:.0}) | \
             {:.2}× the growth |\n",
            go / gp
        ),
        _ => String::new(),
    }
}

/// `| label | ours | peer | ratio× the time |` for the seconds under `key`.
fn time_row(label: &str, key: &str, ours: &Value, peer: &Value) -> String {
    let (o, p) = (ours[key].as_f64().unwrap_or(f64::NAN), peer[key].as_f64().unwrap_or(f64::NAN));
    format!("| {label} | {o:.2} | {p:.2} | {:.2}× the time |\n", o / p)
}

/// An IVF-PQ sweep point reaching a recall target, or "not reached".
fn ivf_cell(r: Option<(f64, f64, u64, u64)>) -> String {
    match r {
        Some((qps, rec, np, rf)) => format!("{qps:.0} (recall {rec:.3}, nprobe {np}, refine {rf})"),
        None => "not reached".into(),
    }
}
