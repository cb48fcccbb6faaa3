//! `ailake`: the command line of ailake — vector search on Apache Iceberg tables whose Parquet
//! files carry their own index. Create a table, ingest Parquet / `.npy` / `.fvecs` files,
//! search it, delete rows, compact it, expire old snapshots, look at its snapshots and files, and resume interrupted index builds.
//!
//! Every failure prints one line on stderr (`error: …`) and exits non-zero by its kind:
//! 2 invalid input, 3 not found, 4 conflict or already exists, 5 corrupt data, 6 I/O, 7 refused
//! credentials (a REST catalog), 1 anything else.

mod create;
mod delete;
mod demo;
mod errors;
mod history;
mod info;
mod ingest;
mod inputs;
mod lake;
mod maintain;
mod output;
mod progress;
mod readers;
mod search;
#[cfg(feature = "sql")]
mod sql;

use clap::{Parser, Subcommand};

use crate::lake::LakeArgs;

/// Vector search on Apache Iceberg tables, without a second system.
///
/// Tables live in a warehouse directory with a SQLite catalog beside it (pyiceberg, DuckDB and
/// Spark read them as ordinary Iceberg tables). Start with `ailake demo`.
#[derive(Debug, Parser)]
#[command(name = "ailake", version, propagate_version = true, max_term_width = 100)]
struct Cli {
    #[command(flatten)]
    lake: LakeArgs,
    /// More logs on stderr: -v info, -vv debug (RUST_LOG overrides).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Demo(demo::DemoArgs),
    Create(create::CreateArgs),
    Ingest(ingest::IngestArgs),
    Search(search::SearchArgs),
    #[cfg(feature = "sql")]
    Sql(sql::SqlArgs),
    Delete(delete::DeleteArgs),
    Compact(maintain::CompactArgs),
    Expire(maintain::ExpireArgs),
    Info(info::InfoArgs),
    History(history::HistoryArgs),
    Inspect(info::InspectArgs),
    ResumeIndexing(maintain::ResumeArgs),
    Vacuum(maintain::VacuumArgs),
    Tables(info::TablesArgs),
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Demo(a) => demo::run(&cli.lake, a).await,
        Command::Create(a) => create::run(&cli.lake, a).await,
        Command::Ingest(a) => ingest::run(&cli.lake, a).await,
        Command::Search(a) => search::run(&cli.lake, a).await,
        #[cfg(feature = "sql")]
        Command::Sql(a) => sql::run(&cli.lake, a).await,
        Command::Delete(a) => delete::run(&cli.lake, a).await,
        Command::Compact(a) => maintain::compact(&cli.lake, a).await,
        Command::Expire(a) => maintain::expire(&cli.lake, a).await,
        Command::Info(a) => info::info(&cli.lake, a).await,
        Command::History(a) => history::history(&cli.lake, a).await,
        Command::Inspect(a) => info::inspect(a).await,
        Command::ResumeIndexing(a) => maintain::resume(&cli.lake, a).await,
        Command::Vacuum(a) => maintain::vacuum(&cli.lake, a).await,
        Command::Tables(a) => info::tables(&cli.lake, a).await,
    }
}

/// A closed pipe (`ailake info t | head -3`) ends the process quietly, as it ends `cat`: exit
/// status 141 (killed by SIGPIPE in shell terms), no panic message. Any other panic keeps
/// the default report.
fn quiet_on_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let text = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if text.starts_with("failed printing to std") && text.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info);
    }));
}

fn main() -> std::process::ExitCode {
    quiet_on_closed_pipe();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => e.exit(), // --help, --version
        Err(e) => {
            // One line, like every other failure: clap's lines before its usage hint.
            let text = e.to_string();
            let problem: Vec<&str> = text
                .lines()
                .map(str::trim)
                .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
                .filter(|l| !l.is_empty())
                .collect();
            eprintln!("{} (see --help)", problem.join(" "));
            return std::process::ExitCode::from(2);
        }
    };
    let default = match cli.verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        // Colour only on a terminal: a pipe or a log file gets plain text.
        .with_ansi(progress::stderr_is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| default.into()),
        )
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: starting the async runtime: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", errors::one_line(&e));
            std::process::ExitCode::from(errors::exit_code(&e))
        }
    }
}
