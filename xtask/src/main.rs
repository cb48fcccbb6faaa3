//! Project automation, run as `cargo xtask <command>`:
//!
//! - `ci`: exactly what `.ci/run` checks after its installs — fmt, clippy, the workspace
//!   tests, the `cuda` feature (builds, and falls back to the CPU without a device), the `s3`
//!   feature against a live moto server, the Python package (installed into the project venv,
//!   its pytest suite run), and a short coverage-guided run of each fuzz target from
//!   `fuzz/seeds` that fails on any crash.
//! - `bench [--quick] [--dataset NAME|PATH] [--only filtered|scale|bigtable|python|objstore|engine|sql|rest|ray|text]`: peers side by side, criterion benchmarks (`benches/`).
//! - `fuzz-seeds [DIR]`: writes valid sections and shard files as the seed corpus (default
//!   `fuzz/seeds`, committed; rerun after a format change).
//! - `fuzz-smoke`: the fuzz step of `ci` alone.
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
            let dir = args.get(1).map_or("fuzz/seeds", String::as_str);
            run("cargo", &["run", "-p", "ailake-benches", "--bin", "fuzz_seeds", "--", dir])
        }
        Some("fuzz-smoke") => fuzz_smoke(),
        Some("sample") => sample::sample(&root()),
        _ => bail!(
            "usage: cargo xtask <ci | bench [--quick] [--dataset NAME|PATH] [--only filtered|scale|bigtable|python|objstore|engine|sql|rest|ray|text] | fuzz-seeds [DIR] | fuzz-smoke | sample>"
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
    fuzz_smoke()?;
    Ok(())
}

/// The fuzz targets, instrumented for coverage as `cargo fuzz` would (on stable, through
/// rustc's `sancov-module` pass), each run for [`FUZZ_SECONDS`] from the committed seeds in
/// `fuzz/seeds`: a crash, panic or leak fails the run and libFuzzer leaves the input under
/// `fuzz/artifacts/`.
fn fuzz_smoke() -> Result<()> {
    const TARGETS: [&str; 4] = ["section_decode", "shard_open", "summaries_decode", "text_index_decode"];
    const FUZZ_SECONDS: u32 = 20;
    const TRIPLE: &str = "x86_64-unknown-linux-gnu";
    let root = root();
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| root.join("target"), PathBuf::from)
        .join("fuzz-smoke");
    let flags = [
        "--cfg fuzzing",
        "-Cpasses=sancov-module",
        "-Cllvm-args=-sanitizer-coverage-level=4",
        "-Cllvm-args=-sanitizer-coverage-inline-8bit-counters",
        "-Cllvm-args=-sanitizer-coverage-pc-table",
        "-Cllvm-args=-sanitizer-coverage-trace-compares",
        "-Cdebug-assertions",
        "-Coverflow-checks",
    ]
    .join(" ");
    let target_dir_arg = target_dir.to_string_lossy().into_owned();
    eprintln!("$ RUSTFLAGS='{flags}' cargo build --manifest-path fuzz/Cargo.toml --release --bins");
    // `--target` keeps the instrumentation flags off build scripts and proc macros.
    let status = Command::new("cargo")
        .args(["build", "--manifest-path", "fuzz/Cargo.toml", "--release", "--bins", "--target", TRIPLE])
        .args(["--target-dir", &target_dir_arg])
        .env("RUSTFLAGS", &flags)
        .current_dir(&root)
        .status()
        .context("starting cargo")?;
    if !status.success() {
        bail!("building the fuzz targets failed with {status}");
    }
    let corpus_root = std::env::temp_dir().join(format!("ailake-fuzz-smoke-{}", std::process::id()));
    let artifacts = root.join("fuzz/artifacts");
    std::fs::create_dir_all(&artifacts)?;
    for target in TARGETS {
        // A scratch corpus: libFuzzer adds what it finds there, the committed seeds stay as they are.
        let corpus = corpus_root.join(target);
        std::fs::create_dir_all(&corpus)?;
        let binary = target_dir.join(TRIPLE).join("release").join(target);
        let seeds = root.join("fuzz/seeds").join(target);
        run(
            &binary.to_string_lossy(),
            &[
                &format!("-max_total_time={FUZZ_SECONDS}"),
                &format!("-artifact_prefix={}/", artifacts.display()),
                "-print_final_stats=1",
                &corpus.to_string_lossy(),
                &seeds.to_string_lossy(),
            ],
        )?;
    }
    let _ = std::fs::remove_dir_all(&corpus_root);
    Ok(())
}
