//! `crosscheck case --seed N`: one generated case, explained.

use crate::case_table::{engine_table, module_summary, verdict_text};
use crate::config::Config;
use anyhow::{Context, Result};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `crosscheck case`.
#[derive(Args)]
pub struct CaseArgs {
    /// The 64-bit seed.
    #[arg(long)]
    seed: u64,
    /// Write the generated module here.
    #[arg(long, value_name = "FILE")]
    emit_wasm: Option<PathBuf>,
    /// Write the generated module's text form here.
    #[arg(long, value_name = "FILE")]
    emit_wat: Option<PathBuf>,
}

/// Runs the command.
pub fn run(config: &Config, args: CaseArgs) -> Result<ExitCode> {
    let matrix = config.settings.matrix()?;
    // Write the module before running it: a case that crashes an engine is
    // exactly the one that must be kept.
    let module = oracles::generate(args.seed, &config.settings.generator)?;
    if let Some(path) = &args.emit_wasm {
        std::fs::write(path, &module.wasm)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = &args.emit_wat {
        let text = wasmprinter::print_bytes(&module.wasm).context("printing the module as WAT")?;
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    let case = oracles::run_seed(
        args.seed,
        &config.settings.generator,
        &config.settings.execution,
        &matrix,
    )?;
    println!(
        "seed {}: swarm features: {}",
        args.seed,
        case.module.features.join(", ")
    );
    print!(
        "{}",
        module_summary(&case.module.wasm, &case.info, &case.plan)
    );
    if let Some(rule) = &case.info.rule_target {
        println!("{}", crate::triage::bundle::rule_lines(rule));
        let rewrote = oracles::case::rules::code_change::optimizer_rewrote(
            &case.module.wasm,
            rule.instances,
            rule,
        )?;
        let opcode = oracles::case::rules::code_change::aimed_opcode(rule).unwrap_or("-");
        println!(
            "the optimizer rewrote the aimed instruction `{opcode}` (opt level speed vs none): {}",
            match rewrote {
                Some(true) => "yes",
                Some(false) => "no",
                None => "not observable (a lowering rule)",
            }
        );
    }
    println!();
    print!("{}", engine_table(&case.report));
    println!();
    println!("{}", verdict_text(&case.report.comparison));
    println!("reproduce: crosscheck case --seed {}", args.seed);
    Ok(ExitCode::from(super::exit_status(
        &case.report.comparison.verdict,
    )))
}
