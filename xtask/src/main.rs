//! Project automation, run as `cargo xtask <command>`:
//!
//! - `ci`: exactly what `.ci/run` checks after its installs — fmt, clippy, the workspace
//!   tests, the `cuda` feature (builds, and falls back to the CPU without a device), and that
//!   the fuzz targets and the `s3` feature still build, and the Python package (installed
//!   into the project venv, its pytest suite run).
//! - `bench [--quick] [--dataset NAME|PATH] [--only filtered|scale|python|objstore|engine|sql]`: peers side by side, criterion benchmarks (`benches/`).
//! - `fuzz-seeds DIR`: writes valid sections and shard files as a seed corpus for `cargo fuzz`.
//! - `sample`: rebuilds the committed real sample `data/sample` from `../shared/data`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

mod bench;
mod plot;
mod sample;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("bench") => bench::bench(bench::BenchOptions {
            quick: args.iter().any(|a| a == "--quick"),
            dataset: args.iter().position(|a| a == "--dataset").and_then(|i| args.get(i + 1)).cloned(),
            only: args.iter().position(|a| a == "--only").and_then(|i| args.get(i + 1)).cloned(),
        }),
        Some("fuzz-seeds") => {
            let dir = args.get(1).map_or("fuzz/corpus", String::as_str);
            run("cargo", &["run", "-p", "ailake-benches", "--bin", "fuzz_seeds", "--", dir])
        }
        Some("sample") => sample::sample(&root()),
        _ => bail!(
            "usage: cargo xtask <ci | bench [--quick] [--dataset NAME|PATH] [--only filtered|scale|python|objstore|engine|sql] | fuzz-seeds [DIR] | sample>"
        ),
    }
}

/// The workspace root, found at run time (`cargo locate-project`), not baked in at build
/// time: a build reused from another checkout of the same sources must act on this one.
pub(crate) fn root() -> PathBuf {
    let located = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["locate-project", "--workspace", "--message-format", "plain"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| PathBuf::from(s.trim()));
    match located.as_deref().and_then(Path::parent) {
        Some(dir) => dir.to_path_buf(),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf(),
    }
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

/// The Python package, installed into the project venv the way the README documents
/// (`pip install ./python`; a dev-profile build here, which reuses the workspace's compiled
/// dependencies) and its pytest suite run against the installed package.
fn python_package() -> Result<()> {
    let python = std::env::var("AILAKE_PYTHON")
        .unwrap_or_else(|_| root().join(".venv/bin/python").display().to_string());
    let install = [
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-build-isolation",
        "--no-deps",
        "--force-reinstall",
        "./python",
    ];
    eprintln!("$ MATURIN_PEP517_ARGS='--profile dev' {python} {}", install.join(" "));
    // The build backend runs `maturin` from PATH: the venv's own.
    let bin = Path::new(&python).parent().map(Path::to_path_buf).unwrap_or_default();
    let path = std::env::join_paths(
        std::iter::once(bin).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )?;
    let status = Command::new(&python)
        .args(install)
        .env("MATURIN_PEP517_ARGS", "--profile dev")
        .env("PATH", path)
        .current_dir(root())
        .status()
        .with_context(|| format!("starting {python}"))?;
    if !status.success() {
        bail!("installing the Python package failed with {status}");
    }
    run(&python, &["-m", "pytest", "-q", "-p", "no:cacheprovider", "python/tests"])
}

fn ci() -> Result<()> {
    run("cargo", &["fmt", "--all", "--", "--check"])?;
    run("cargo", &["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"])?;
    run("cargo", &["test", "--workspace"])?;
    // The `s3` feature: linted, and every table operation run against a live moto server.
    run(
        "cargo",
        &[
            "clippy",
            "-p",
            "ailk-catalog",
            "-p",
            "ailake",
            "--features",
            "s3",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    )?;
    run("cargo", &["test", "-p", "ailake", "--features", "s3", "--test", "s3"])?;
    python_package()?;
    run("cargo", &["test", "-p", "ailk-index", "--features", "cuda", "--test", "cuda"])?;
    run(
        "cargo",
        &["clippy", "-p", "ailk-index", "--features", "cuda", "--all-targets", "--", "-D", "warnings"],
    )?;
    run("cargo", &["check", "--manifest-path", "fuzz/Cargo.toml", "--bins"])?;
    Ok(())
}
