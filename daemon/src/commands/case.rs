//! `crosscheck case --seed N`: one generated case, explained.

use crate::config::Config;
use crate::process::probe::Prober;
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

/// Runs the command: the module is generated here (and written first: a
/// case that crashes an engine is exactly the one to keep), then runs in a
/// worker process like `check`, with the same exit statuses.
pub fn run(config: &Config, args: CaseArgs) -> Result<ExitCode> {
    let module = oracles::generate(args.seed, &config.library.generator)?;
    if let Some(path) = &args.emit_wasm {
        std::fs::write(path, &module.wasm)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = &args.emit_wat {
        let text = wasmprinter::print_bytes(&module.wasm).context("printing the module as WAT")?;
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    let info = oracles::ModuleInfo::parse(&module.wasm)
        .with_context(|| format!("seed {}: wasm-smith produced an invalid module", args.seed))?;
    println!(
        "seed {}: swarm features: {}",
        args.seed,
        module.features.join(", ")
    );
    let mut prober = Prober::new(config);
    let probed = prober.show(&module.wasm, args.seed, None)?;
    if let Some(shape) = crate::triage::bundle::aimed_shape(&module.wasm) {
        println!("{}", crate::triage::bundle::shape_line(shape));
    }
    if let Some(rule) = &info.rule_target {
        println!("{}", crate::triage::bundle::rule_lines(rule));
        // Compiles in this process: only once no engine died compiling it.
        let rewrote = match probed.restarts {
            0 => oracles::case::rules::code_change::optimizer_rewrote(
                &module.wasm,
                rule.instances,
                rule,
            )?,
            _ => None,
        };
        let opcode = oracles::case::rules::code_change::aimed_opcode(rule).unwrap_or("-");
        println!(
            "the optimizer rewrote the aimed instruction `{opcode}` (opt level speed vs none): {}",
            match (rewrote, probed.restarts) {
                (_, 1..) => "not checked (an engine died running the case)",
                (Some(true), _) => "yes",
                (Some(false), _) => "no",
                (None, _) => "not observable (a lowering rule)",
            }
        );
    }
    print!("{}", super::probed_text(&probed));
    println!("reproduce: crosscheck case --seed {}", args.seed);
    Ok(ExitCode::from(super::exit_status_of(&probed)))
}
