//! `crosscheck findings [show ID]`: what the store holds.

use crate::config::Config;
use crate::store::{Store, StoredFinding};
use anyhow::Result;
use clap::{Args, Subcommand};
use std::process::ExitCode;

/// Arguments of `crosscheck findings`.
#[derive(Args)]
pub struct FindingsArgs {
    #[command(subcommand)]
    action: Option<Action>,
}

#[derive(Subcommand)]
enum Action {
    /// Everything known about one finding.
    Show {
        /// The finding's id, as listed.
        id: i64,
    },
}

/// Runs the command.
pub fn run(config: &Config, args: FindingsArgs) -> Result<ExitCode> {
    let store = Store::open_read_only(&config.store)?;
    match args.action {
        None => list(config, &store)?,
        Some(Action::Show { id }) => {
            let f = store.require_finding(id)?;
            show_identity(&store, &f)?;
            show_triage(&store, &f)?;
            show_modules(&store, &f)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One line per finding.
fn list(config: &Config, store: &Store) -> Result<()> {
    let findings = store.findings()?;
    println!(
        "{} finding(s) in {}",
        findings.len(),
        config.store.data_dir.display()
    );
    for f in findings {
        let seed = f.first_seed.map_or("-".into(), |s| s.to_string());
        let merged = f
            .merged_into
            .map_or(String::new(), |into| format!(" (merged into {into})"));
        println!(
            "{:>5}  {:<20} {:>8} hits  seed {:<8} {}{merged}",
            f.id, f.kind, f.hits, seed, f.signature
        );
    }
    Ok(())
}

/// What the finding is, what it was merged with, what it aimed at, who is
/// blamed and which releases show it.
fn show_identity(store: &Store, f: &StoredFinding) -> Result<()> {
    println!("finding {}: {} ({})", f.id, f.kind, f.status);
    println!("signature: {}", f.signature);
    if let Some(into) = f.merged_into {
        println!("merged into finding {into}: the same code shape and suspect once shrunk");
    }
    for merged in store.merged_from(f.id)? {
        println!(
            "also seen as finding {} ({} hits): {}",
            merged.id, merged.hits, merged.signature
        );
    }
    if let Some(suspect) = &f.suspect {
        println!("attribution: {suspect}");
    }
    let original = store.read_artifact(&f.artifact).ok();
    if let Some(rule) = original
        .as_deref()
        .and_then(crate::triage::bundle::aimed_rule)
    {
        println!("{}", crate::triage::bundle::rule_lines(&rule));
    }
    if let Some(shape) = original
        .as_deref()
        .and_then(crate::triage::bundle::aimed_shape)
    {
        println!("{}", crate::triage::bundle::shape_line(shape));
    }
    if let Some(group) = f.group.map(|g| store.group(g)).transpose()?.flatten() {
        println!("{}", group.describe());
    }
    if let Some(bisection) = store.bisection(f.id)? {
        println!(
            "releases: {} (bisected over Wasmtime {})",
            bisection.answer, bisection.range
        );
    }
    Ok(())
}

/// Reproduction, flips and hits.
fn show_triage(store: &Store, f: &StoredFinding) -> Result<()> {
    match &f.reproducible {
        Some(r) if crate::store::is_flaky(Some(r)) => println!(
            "reproduced when re-run: {r}, flaky (triaged again when hit again; the gate judges it by its flaky share)"
        ),
        Some(r) => println!("reproduced when re-run: {r}"),
        None => println!("reproduced when re-run: not triaged yet"),
    }
    if let Some(flips) = f.flips.as_deref().filter(|f| !f.is_empty()) {
        println!("one setting changed (shrunk module):");
        for line in flips.lines() {
            println!("  {line}");
        }
    }
    println!(
        "hits: {} (first seen {}, last seen {})",
        f.hits,
        timestamp(f.first_seen),
        timestamp(f.last_seen)
    );
    let seeds = store.hit_seeds(f.id, 10)?;
    if !seeds.is_empty() {
        println!("seeds of the first hits: {seeds:?}");
    }
    match (&f.source, f.first_seed) {
        (Some(source), Some(seed)) => {
            println!("source: {source} (call arguments from seed {seed})")
        }
        (None, Some(seed)) => println!("reproduce: crosscheck case --seed {seed}"),
        _ => {}
    }
    Ok(())
}

/// The modules, the summary and the scaling check.
fn show_modules(store: &Store, f: &StoredFinding) -> Result<()> {
    println!("module: {}", store.artifact_path(&f.artifact).display());
    match &f.shrunk {
        Some(hash) => println!("shrunk module: {}", store.artifact_path(hash).display()),
        None => println!("shrunk module: none yet (`crosscheck shrink {}`)", f.id),
    }
    println!("\n{}", f.summary);
    if let Some(check) = store.scaling_of_finding(f.id)? {
        println!(
            "scaling check of the shrunk module ({}):\n{}",
            timestamp(check.at),
            check.report.trim_end()
        );
        match check.superlinear.as_slice() {
            [] => println!("no superlinear growth"),
            lines => println!("SUPERLINEAR:\n  {}", lines.join("\n  ")),
        }
    }
    Ok(())
}

fn timestamp(unix: i64) -> humantime::Rfc3339Timestamp {
    humantime::format_rfc3339_seconds(
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix.max(0) as u64),
    )
}
