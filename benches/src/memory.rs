//! Peak resident memory of one step of a benchmark process (Linux; zeros elsewhere), measured
//! exactly as the peers' scripts measure it (`benches/peers/memory.py`).

/// Starts a new peak-RSS window (`5` → `/proc/self/clear_refs` resets `VmHWM`) and returns the
/// resident size now, in MiB.
pub fn reset_peak() -> f64 {
    // Failing to reset (not Linux, no permission) leaves the process-lifetime peak: still an
    // upper bound, so the error is not worth surfacing.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    status_mib("VmRSS")
}

/// Peak resident size since the last [`reset_peak`], in MiB.
pub fn peak_mib() -> f64 {
    status_mib("VmHWM")
}

fn status_mib(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_large_allocation_raises_the_peak_and_a_reset_lowers_it() {
        if !cfg!(target_os = "linux") {
            return;
        }
        let before = super::reset_peak();
        assert!(before > 0.0);
        let big = vec![1u8; 256 << 20];
        std::hint::black_box(&big);
        let peak = super::peak_mib();
        assert!(peak >= before + 200.0, "peak {peak} MiB, before {before} MiB");
        drop(big);
        let after = super::reset_peak();
        assert!(super::peak_mib() < peak - 200.0, "reset kept the old peak (rss now {after})");
    }
}
