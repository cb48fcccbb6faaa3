//! Project automation, run as `cargo xtask <command>`:
//!
//! - `ci`: exactly what `.ci/run` checks after its installs — fmt, clippy, the workspace
//!   tests, the `cuda` feature (builds, and falls back to the CPU without a device), and that
//!   the fuzz targets and the `s3` feature still build.
//! - `bench [--quick] [--dataset NAME|PATH]`: peers side by side, criterion benchmarks (`benches/`).
//! - `fuzz-seeds DIR`: writes valid sections and shard files as a seed corpus for `cargo fuzz`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

mod bench;
mod plot;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("bench") => bench::bench(bench::BenchOptions {
            quick: args.iter().any(|a| a == "--quick"),
            dataset: args.iter().position(|a| a == "--dataset").and_then(|i| args.get(i + 1)).cloned(),
        }),
        Some("fuzz-seeds") => {
            let dir = args.get(1).map_or("fuzz/corpus", String::as_str);
            run("cargo", &["run", "-p", "ailake-benches", "--bin", "fuzz_seeds", "--", dir])
        }
        _ => bail!("usage: cargo xtask <ci | bench [--quick] [--dataset NAME|PATH] | fuzz-seeds [DIR]>"),
    }
}

pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf()
}

pub(crate) fn run(program: &str, args: &[&str]) -> Result<()> {
    eprintln!("$ {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .current_dir(root())
        .status()
        .with_context(|| format!("starting {program}"))?;
    if !status.success() {
        bail!("`{program} {}` failed with {status}", args.join(" "));
    }
    Ok(())
}

fn ci() -> Result<()> {
    run("cargo", &["fmt", "--all", "--", "--check"])?;
    run("cargo", &["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"])?;
    run("cargo", &["test", "--workspace"])?;
    run("cargo", &["check", "-p", "ailk-format", "--features", "s3"])?;
    run("cargo", &["test", "-p", "ailk-index", "--features", "cuda", "--test", "cuda"])?;
    run(
        "cargo",
        &["clippy", "-p", "ailk-index", "--features", "cuda", "--all-targets", "--", "-D", "warnings"],
    )?;
    run("cargo", &["check", "--manifest-path", "fuzz/Cargo.toml", "--bins"])?;
    Ok(())
}
