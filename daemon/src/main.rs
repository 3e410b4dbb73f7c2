//! `crosscheck`: differential fuzzing of WebAssembly engines.

mod case_table;
mod commands;
mod config;
mod dashboard;
mod health;
mod logging;
mod process;
mod releases;
mod seeds;
mod store;
mod sweep;
mod triage;

// Compile heaps are measured from the global allocator.
oracles::install_instrumented_heap!();

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
    /// Run the daemon: worker processes fuzz seeds from the stored cursor,
    /// findings go to the store, until --duration, --cases or SIGINT/SIGTERM.
    Run(commands::run::RunArgs),
    /// Show the store: daemon state, seed cursor, counters, findings, runs.
    Status(commands::status::StatusArgs),
    /// List the findings in the store, or show one.
    Findings(commands::findings::FindingsArgs),
    /// Shrink a finding's module while it keeps its signature (wasm-shrink;
    /// every candidate runs in a worker process).
    Shrink(commands::shrink::ShrinkArgs),
    /// Open findings, most urgent first (crash > hang/oom > mismatch >
    /// rejection; new in the latest run first; most hits), one line each
    /// with the suspect.
    Triage(commands::triage::TriageArgs),
    /// Run a finding's (shrunk) module again in a worker process: exit 1 if
    /// it still gives its signature, 0 if not.
    Repro(commands::repro::ReproArgs),
    /// Which published Wasmtime release first shows a finding, or first
    /// fixes it: builds crosscheck against releases (cached) and searches.
    Bisect(commands::bisect::BisectArgs),
    /// Build crosscheck against a published Wasmtime release (cached, as
    /// `bisect` does) and print the binary's path.
    BuildRelease(commands::build_release::BuildReleaseArgs),
    /// What changed in the compiler between two Wasmtime releases: Cranelift
    /// rules new, changed, renamed and removed; each pass's source changes.
    DiffRelease(commands::diff_release::DiffReleaseArgs),
    /// Print the SHA-256s that pin a Wasmtime release's C API library
    /// (its wheel's and the library's), and the source entry to add.
    CApiPin(commands::c_api_pin::CApiPinArgs),
    /// Show the configuration in force (`--show`): the file's keys merged
    /// over the embedded defaults, with the origin of each.
    Config(commands::config::ConfigArgs),
    /// Run every stored finding again (worker processes, progress bar):
    /// which still reproduce, which are fixed, which changed.
    Replay(commands::replay::ReplayArgs),
    /// A finding as Markdown for an upstream issue: attribution, versions,
    /// the module as WAT, the `wasmtime run` line of every variant.
    Report(commands::report::ReportArgs),
    /// Take libFuzzer artifacts (inputs of the `differential` target) and
    /// .wasm/.wat modules into the store as findings, triaged and shrunk
    /// like the daemon's.
    Import(commands::import::ImportArgs),
    /// Write a finding's reproduction bundle: original and shrunk .wasm and
    /// .wat, finding.json (seed, settings, versions, expected vs actual),
    /// report.md, repro.sh and the configuration.
    Bundle(commands::bundle::BundleArgs),
    /// Grow a module (its largest function repeated, or a built-in shape at
    /// n, 2n, 4n, ...) and fit how compile time and peak compile heap grow
    /// on every engine; exit 1 if some growth is superlinear.
    Scale(commands::scale::ScaleArgs),
    /// Time one export on every engine (repeated calls, several rounds):
    /// each engine's time per call relative to the fastest, with spread.
    Perf(commands::perf::PerfArgs),
    /// Write the daemon's generation entropy for a seed range, one file per
    /// seed: inputs from which the `differential` fuzz target builds the
    /// daemon's modules (a seed corpus for `cargo fuzz run`).
    SeedCorpus(commands::seed_corpus::SeedCorpusArgs),
    /// The release gate: judge the store's fuzz health by the `[gate]`
    /// policy (cases, open findings, shares, speed, instruction coverage,
    /// a baseline); a table, JUnit XML, JSON; exit 1 if a rule fails.
    Gate(commands::gate::GateArgs),
    /// Serve a store's dashboard (HTML, JSON API, Prometheus /metrics)
    /// without fuzzing; `crosscheck run` serves it too.
    Serve(commands::serve::ServeArgs),
    /// Mark a finding open, fixed or ignored.
    Mark(commands::mark::MarkArgs),
    /// The groups of findings with one trigger; join or split them by hand.
    Group(commands::group::GroupArgs),
    /// Stores: `store copy --from DIR --to postgres://...` moves an SQLite
    /// store into a fleet's PostgreSQL store (or back)
    Store(commands::store::StoreArgs),
    /// A worker process of `crosscheck run` (started by the daemon).
    #[command(hide = true)]
    Worker,
    /// One engine served to a crosscheck of another Wasmtime release
    /// (`oracles::pipeline::serve_engine`).
    #[command(hide = true, name = "serve-engine")]
    ServeEngine,
}

fn main() -> ExitCode {
    restore_default_sigpipe();
    oracles::engine::panics::install_hook();
    let cli = Cli::parse();
    // Cranelift compiles and wasm runs on the calling thread: give every
    // command a known, large stack instead of whatever `ulimit -s` says.
    let result = std::thread::Builder::new()
        .name("crosscheck".into())
        .stack_size(oracles::pipeline::stack::CASE_STACK_BYTES)
        .spawn(move || run(cli))
        .map_err(anyhow::Error::from)
        .and_then(|thread| {
            thread.join().map_err(|panic| {
                anyhow::anyhow!(
                    "internal error: {}",
                    oracles::engine::panics::payload_message(panic.as_ref())
                )
            })?
        });
    match result {
        Ok(code) => code,
        Err(err) => {
            // Messages may quote names a module chose.
            eprintln!("error: {}", triage::inert::terminal(&format!("{err:#}")));
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
    logging::init(&config.log);
    // A worker readies the releases of the configuration its supervisor
    // hands it, not those of the one it was started with.
    if !matches!(
        cli.command,
        Command::ServeEngine | Command::Config(_) | Command::CApiPin(_) | Command::Worker
    ) {
        config.ready_other_releases();
    }
    match cli.command {
        Command::Case(args) => commands::case::run(&config, args),
        Command::Check(args) => commands::check::run(&config, args),
        Command::Sweep(args) => commands::sweep::run(&config, args),
        Command::Bench(args) => commands::bench::run(&config, args),
        Command::Run(args) => commands::run::run(&config, args),
        Command::Status(args) => commands::status::run(&config, args),
        Command::Findings(args) => commands::findings::run(&config, args),
        Command::Shrink(args) => commands::shrink::run(&config, args),
        Command::Triage(args) => commands::triage::run(&config, args),
        Command::Repro(args) => commands::repro::run(&config, args),
        Command::Bisect(args) => commands::bisect::run(&config, args),
        Command::BuildRelease(args) => commands::build_release::run(&config, args),
        Command::CApiPin(args) => commands::c_api_pin::run(args),
        Command::DiffRelease(args) => commands::diff_release::run(&config, args),
        Command::Config(args) => commands::config::run(&config, cli.config.as_deref(), args),
        Command::Replay(args) => commands::replay::run(&config, args),
        Command::Report(args) => commands::report::run(&config, args),
        Command::Mark(args) => commands::mark::run(&config, args),
        Command::Group(args) => commands::group::run(&config, args),
        Command::Store(args) => commands::store::run(&config, args),
        Command::Import(args) => commands::import::run(&config, args),
        Command::Bundle(args) => commands::bundle::run(&config, args),
        Command::Scale(args) => commands::scale::run(&config, args),
        Command::Perf(args) => commands::perf::run(&config, args),
        Command::SeedCorpus(args) => commands::seed_corpus::run(&config, args),
        Command::Gate(args) => commands::gate::run(&config, args),
        Command::Serve(args) => commands::serve::run(&config, args),
        Command::Worker => commands::worker::run(&config),
        Command::ServeEngine => {
            oracles::pipeline::serve_engine::serve(std::io::stdin().lock(), std::io::stdout())?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
