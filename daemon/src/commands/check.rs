//! `crosscheck check FILE`: a user's module through the matrix.

use crate::case_table::{engine_table, module_summary, verdict_text};
use crate::config::Config;
use anyhow::{bail, Context, Result};
use clap::Args;
use oracles::case::module_file::read_module_file;
use oracles::{ModuleInfo, Plan};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `crosscheck check`.
#[derive(Args)]
pub struct CheckArgs {
    /// A .wasm binary or a .wat text module.
    file: PathBuf,
    /// Call only this export (otherwise every export, arguments from --seed).
    #[arg(long, value_name = "NAME")]
    invoke: Option<String>,
    /// Comma-separated arguments for --invoke, e.g. 3,8 (floats: 1.5, nan, inf).
    #[arg(
        long,
        value_delimiter = ',',
        allow_hyphen_values = true,
        requires = "invoke"
    )]
    args: Vec<String>,
    /// Seed for the arguments when every export is called.
    #[arg(long, default_value_t = 0, conflicts_with = "invoke")]
    seed: u64,
}

/// Runs the command.
pub fn run(config: &Config, args: CheckArgs) -> Result<ExitCode> {
    let wasm = read_module_file(&args.file)?;
    let info = ModuleInfo::parse(&wasm)
        .with_context(|| format!("{} cannot be checked", args.file.display()))?;
    if info.import_count > 0 {
        bail!(
            "{} imports {} item(s); crosscheck links no imports, so only self-contained modules can be checked",
            args.file.display(),
            info.import_count
        );
    }
    let plan = match &args.invoke {
        Some(export) => Plan::single_call(&info, export, &args.args)?,
        None => Plan::from_seed(&info, args.seed, config.settings.execution.calls_per_export),
    };
    let matrix = config.settings.matrix()?;
    let report = matrix.run(&wasm, &plan);
    print!("{}", module_summary(&wasm, &info, &plan));
    println!();
    print!("{}", engine_table(&report));
    if args.invoke.is_some() {
        if let Some((name, oracles::EngineRun::Ran(exec))) = report.runs.first() {
            if let Some(outcome) = exec.calls.first() {
                println!("\n{name} result: {outcome}");
            }
        }
    }
    println!();
    println!("{}", verdict_text(&report.comparison));
    Ok(ExitCode::from(super::exit_status(
        &report.comparison.verdict,
    )))
}
