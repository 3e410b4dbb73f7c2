//! `crosscheck repro ID`: run a finding's module again, in a worker process,
//! and say whether it still gives the same signature.

use crate::config::Config;
use crate::process::probe::Prober;
use crate::store::Store;
use anyhow::Result;
use clap::Args;
use std::process::ExitCode;

/// Arguments of `crosscheck repro`.
#[derive(Args)]
pub struct ReproArgs {
    /// The finding's id.
    id: i64,
    /// Run the original module even if a shrunk one exists.
    #[arg(long)]
    original: bool,
}

/// Runs the command. Exits 1 when the finding reproduces (like `check` on a
/// finding), 0 when it no longer does.
pub fn run(config: &Config, args: ReproArgs) -> Result<ExitCode> {
    let store = Store::open_read_only(&config.store)?;
    let finding = store.require_finding(args.id)?;
    let (which, hash) = match (&finding.shrunk, args.original) {
        (Some(shrunk), false) => ("shrunk", shrunk),
        _ => ("original", &finding.artifact),
    };
    let path = store.artifact_path(hash);
    let wasm = store.read_artifact(hash)?;
    let seed = finding.first_seed.unwrap_or(0);
    let mut prober = Prober::new(config);
    prober.set_baseline(Some(store.baseline()?));
    let found = prober.findings(&wasm, seed)?;
    // A shrunk module may have more engines on the same sides.
    let covers = |f: &&oracles::Finding| {
        oracles::judge::signature::covers(finding.case_signature(), &f.signature)
    };
    let now = found.iter().find(covers).or(found.first());
    println!(
        "finding {} ({which} module {}, {} bytes, call arguments from seed {seed})",
        finding.id,
        path.display(),
        wasm.len()
    );
    println!("recorded: {}", finding.signature);
    println!(
        "now:      {}",
        now.map_or(
            "no finding (the engines agree or it is inconclusive)",
            |f| { f.signature.as_str() }
        )
    );
    // A measurement's figures say how far over (or under) the limits it is.
    for cost in found.iter().filter(|f| f.kind.is_cost()) {
        println!("          {}", cost.summary.replace('\n', "\n          "));
    }
    if now.is_some_and(|f| covers(&f)) {
        println!("reproduces");
        Ok(ExitCode::from(super::EXIT_FINDING))
    } else {
        println!("does not reproduce");
        Ok(ExitCode::from(super::EXIT_AGREE))
    }
}
