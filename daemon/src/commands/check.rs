//! `crosscheck check FILE`: a user's module through the matrix.

use crate::config::Config;
use crate::process::probe::Prober;
use crate::process::protocol::SingleCall;
use anyhow::{Context, Result};
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
    /// Only say whether the case gives this finding signature: prints the
    /// signature it gives and exits 1 when it is this one (or the same
    /// sides with more engines on them), 0 otherwise (what `crosscheck
    /// bisect` asks each release's build).
    #[arg(long, value_name = "SIGNATURE", conflicts_with = "invoke")]
    expect: Option<String>,
    /// Judge compile costs against this run's distribution (JSON, as
    /// `bisect` writes it from the store), as the daemon judged the finding.
    #[arg(long, value_name = "FILE", requires = "expect")]
    baseline: Option<PathBuf>,
}

/// Runs the command: the module runs in a worker process
/// (`process::probe`), so an engine that aborts, segfaults, hangs or
/// exhausts memory is a row of the table and a finding, and the other
/// engines still run (see [`super::exit_status_of`] for the exit status).
pub fn run(config: &Config, args: CheckArgs) -> Result<ExitCode> {
    let wasm = read_module_file(&args.file)?;
    let info = ModuleInfo::parse(&wasm)
        .with_context(|| format!("{} cannot be checked", args.file.display()))?;
    let linked = oracles::case::imports::link(&info.imports, args.seed).map_err(|why| {
        anyhow::anyhow!(
            "{} cannot be checked: {why} (crosscheck links imported functions, memories, tables and globals of numeric and nullable reference types)",
            args.file.display()
        )
    })?;
    let call = match &args.invoke {
        Some(export) => {
            // Refused here, with the exports named, rather than in the worker.
            Plan::single_call(&info, export, &args.args)?;
            Some(SingleCall {
                export: export.clone(),
                args: args.args.clone(),
            })
        }
        None => None,
    };
    let mut prober = Prober::new(config);
    if let Some(wanted) = &args.expect {
        if let Some(file) = &args.baseline {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read the baseline {}", file.display()))?;
            let baseline = serde_json::from_str(&text)
                .with_context(|| format!("{} is not a crosscheck baseline", file.display()))?;
            prober.set_baseline(Some(baseline));
        }
        let now = prober
            .signature_for(&wasm, args.seed, wanted)
            .with_context(|| format!("running {}", args.file.display()))?;
        println!("signature: {}", now.as_deref().unwrap_or("none"));
        let covers = |now: &str| oracles::judge::signature::covers(wanted, now);
        let code = if now.as_deref().is_some_and(covers) {
            super::EXIT_FINDING
        } else {
            super::EXIT_AGREE
        };
        return Ok(ExitCode::from(code));
    }
    let probed = prober
        .show(&wasm, args.seed, call)
        .with_context(|| format!("running {}", args.file.display()))?;
    for item in &linked {
        println!(
            "linked: {}",
            crate::triage::inert::one_line(&item.to_string())
        );
    }
    print!("{}", super::probed_text(&probed));
    Ok(ExitCode::from(super::exit_status_of(&probed)))
}
