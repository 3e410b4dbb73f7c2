//! `crosscheck`: differential fuzzing of WebAssembly engines.

mod commands;
mod config;
mod report;
mod seeds;
mod stats;
mod store;

use anyhow::Result;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Differential fuzzing and correctness checking of WebAssembly engines:
/// wasm-smith cases run on Wasmtime's Cranelift configurations and on wasmi.
#[derive(Parser)]
#[command(name = "crosscheck", version)]
struct Cli {
    /// Configuration file; the embedded defaults (config.toml) when absent.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate the case for one seed, run it on the matrix and explain.
    Case(commands::case::CaseArgs),
    /// Run a user's .wasm or .wat module through the matrix.
    /// Exit status: 0 agree, 1 finding, 2 error, 3 undecided.
    Check(commands::check::CheckArgs),
    /// Run a range of seeds in-process on all cores and summarize verdicts.
    Sweep(commands::sweep::SweepArgs),
    /// Measure cases/s on one core: generation, wasmi, each compile, the matrix.
    Bench(commands::bench::BenchArgs),
    /// List the findings in the store, or show one.
    Findings(commands::findings::FindingsArgs),
}

fn main() -> ExitCode {
    restore_default_sigpipe();
    oracles::panics::install_hook();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    // Cranelift compiles and wasm runs on the calling thread: give every
    // command a known, large stack instead of whatever `ulimit -s` says.
    let result = std::thread::Builder::new()
        .name("crosscheck".into())
        .stack_size(commands::sweep::WORKER_STACK_BYTES)
        .spawn(move || run(cli))
        .map_err(anyhow::Error::from)
        .and_then(|thread| {
            thread.join().map_err(|panic| {
                anyhow::anyhow!(
                    "internal error: {}",
                    oracles::panics::payload_message(panic.as_ref())
                )
            })?
        });
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(commands::EXIT_ERROR)
        }
    }
}

/// Rust ignores SIGPIPE, so printing into a closed pipe (`crosscheck ... | head`)
/// would panic; like other command-line tools, end quietly instead.
fn restore_default_sigpipe() {
    // SAFETY: called first thing in main, before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    let config = config::Config::load(cli.config.as_deref())?;
    match cli.command {
        Command::Case(args) => commands::case::run(&config, args),
        Command::Check(args) => commands::check::run(&config, args),
        Command::Sweep(args) => commands::sweep::run(&config, args),
        Command::Bench(args) => commands::bench::run(&config, args),
        Command::Findings(args) => commands::findings::run(&config, args),
    }
}
