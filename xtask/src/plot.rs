//! Recall–QPS curves and write-throughput bars of the peer comparison as SVG (plotters), for
//! `docs/img/`.

use std::path::Path;

use anyhow::{anyhow, Result};
use plotters::prelude::*;
use serde_json::Value;

/// One curve: a system's (recall, QPS) sweep points.
pub struct Curve<'a> {
    /// Legend label.
    pub label: &'a str,
    /// Result file with a `sweep` of `recall` / `qps` points.
    pub result: &'a Value,
    /// Keep only points whose `refine` is this (when set).
    pub refine: Option<u64>,
}

fn points(c: &Curve) -> Vec<(f64, f64)> {
    let mut pts: Vec<(f64, f64)> = c.result["sweep"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| c.refine.is_none_or(|r| p["refine"].as_u64().unwrap_or(1) == r))
        .filter_map(|p| Some((p["recall"].as_f64()?, p["qps"].as_f64()?)))
        .filter(|(_, q)| *q > 0.0)
        .collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    pts
}

/// Writes a log-QPS over recall@10 chart of `curves` to `path`, captioned `title` + `stamp`.
pub fn recall_qps(path: &Path, title: &str, stamp: &str, curves: &[Curve]) -> Result<()> {
    let all: Vec<(f64, f64)> = curves.iter().flat_map(points).collect();
    if all.is_empty() {
        return Ok(());
    }
    let rmin = all.iter().map(|p| p.0).fold(1.0, f64::min).clamp(0.0, 0.99);
    let qmin = all.iter().map(|p| p.1).fold(f64::MAX, f64::min) * 0.8;
    let qmax = all.iter().map(|p| p.1).fold(0.0, f64::max) * 1.25;
    let root = SVGBackend::new(path, (900, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
    let (chart_area, footer) = root.split_vertically(520);
    footer.titled(stamp, ("sans-serif", 13)).map_err(|e| anyhow!("{e}"))?;
    let mut chart = ChartBuilder::on(&chart_area)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(rmin..1.0f64, (qmin..qmax).log_scale())
        .map_err(|e| anyhow!("{e}"))?;
    chart
        .configure_mesh()
        .x_desc("recall@10")
        .y_desc("queries per second (log)")
        .draw()
        .map_err(|e| anyhow!("{e}"))?;
    for (i, c) in curves.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        let pts = points(c);
        chart
            .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
            .map_err(|e| anyhow!("{e}"))?
            .label(c.label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2)));
        chart
            .draw_series(pts.into_iter().map(|p| Circle::new(p, 3, color.filled())))
            .map_err(|e| anyhow!("{e}"))?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(|e| anyhow!("{e}"))?;
    root.present().map_err(|e| anyhow!("{e}"))?;
    Ok(())
}

/// One bar of a throughput chart.
pub struct Bar {
    /// Axis label (system and write path).
    pub label: String,
    /// Rows per second.
    pub value: f64,
}

/// Writes horizontal bars of rows/s on a log axis (the paths differ by 100×) to `path`.
pub fn write_bars(path: &Path, title: &str, stamp: &str, bars: &[Bar]) -> Result<()> {
    let bars: Vec<&Bar> = bars.iter().filter(|b| b.value.is_finite() && b.value > 0.0).collect();
    if bars.is_empty() {
        return Ok(());
    }
    let lo = bars.iter().map(|b| b.value).fold(f64::MAX, f64::min) / 3.0;
    let hi = bars.iter().map(|b| b.value).fold(0.0, f64::max) * 3.0;
    let height = 120 + 34 * bars.len() as u32;
    let root = SVGBackend::new(path, (900, height)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
    let (chart_area, footer) = root.split_vertically(height - 40);
    footer.titled(stamp, ("sans-serif", 13)).map_err(|e| anyhow!("{e}"))?;
    let n = bars.len();
    let mut chart = ChartBuilder::on(&chart_area)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(260)
        .build_cartesian_2d((lo..hi).log_scale(), (0..n).into_segmented())
        .map_err(|e| anyhow!("{e}"))?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .label_style(("sans-serif", 13))
        .y_labels(n)
        .y_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => {
                (n - 1).checked_sub(*i).and_then(|j| bars.get(j)).map_or(String::new(), |b| b.label.clone())
            }
            SegmentValue::Last => String::new(),
        })
        .x_desc("rows per second (log)")
        .draw()
        .map_err(|e| anyhow!("{e}"))?;
    chart
        .draw_series(bars.iter().enumerate().map(|(i, b)| {
            let row = n - 1 - i;
            let color = Palette99::pick(i).to_rgba();
            let mut r = Rectangle::new(
                [(lo, SegmentValue::Exact(row)), (b.value, SegmentValue::Exact(row + 1))],
                color.filled(),
            );
            r.set_margin(4, 4, 0, 0);
            r
        }))
        .map_err(|e| anyhow!("{e}"))?;
    chart
        .draw_series(bars.iter().enumerate().map(|(i, b)| {
            Text::new(
                format!("{:.0}", b.value),
                (b.value * 1.05, SegmentValue::CenterOf(n - 1 - i)),
                ("sans-serif", 13),
            )
        }))
        .map_err(|e| anyhow!("{e}"))?;
    root.present().map_err(|e| anyhow!("{e}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_an_svg_with_every_curve() {
        let a = serde_json::json!({"sweep": [{"recall": 0.8, "qps": 1000.0, "refine": 1}, {"recall": 0.95, "qps": 400.0, "refine": 1}]});
        let b =
            serde_json::json!({"sweep": [{"recall": 0.85, "qps": 900.0}, {"recall": 0.99, "qps": 200.0}]});
        let dir = std::env::temp_dir().join(format!("ailake-plot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("p.svg");
        let curves = [
            Curve { label: "ours", result: &a, refine: Some(1) },
            Curve { label: "peer", result: &b, refine: None },
        ];
        recall_qps(&path, "test chart", "machine — date", &curves).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("ours") && svg.contains("peer") && svg.contains("recall@10"));
        assert_eq!(svg.matches("<circle").count(), 4);
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn renders_one_bar_per_positive_value() {
        let dir = std::env::temp_dir().join(format!("ailake-bars-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("b.svg");
        let bars = [
            Bar { label: "ailake write_batch".into(), value: 10_000.0 },
            Bar { label: "AI-Lake write_batch".into(), value: 3_600.0 },
            Bar { label: "never ran".into(), value: f64::NAN },
        ];
        write_bars(&path, "writes", "machine — date", &bars).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(svg.contains("ailake write_batch") && svg.contains("AI-Lake write_batch"));
        assert!(svg.contains("\n10000\n") && svg.contains("\n3600\n"), "value labels missing");
        assert!(!svg.contains("never ran"));
        std::fs::remove_dir_all(dir).ok();
    }
}
