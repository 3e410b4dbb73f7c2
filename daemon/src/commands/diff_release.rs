//! `crosscheck diff-release REFERENCE CANDIDATE`: what changed in the
//! compiler between two Wasmtime releases. The Cranelift rules in
//! rule-guided generation's scope that are new, changed, renamed or
//! removed, per file; each pass's source changes; the register
//! allocator's version. Read from the releases' crates in Cargo's cache,
//! fetched when missing (`releases::release_sources`).

use crate::config::Config;
use crate::releases::release_sources::ensure;
use anyhow::{bail, Context, Result};
use clap::Args;
use oracles::case::release_diff::{diff_passes, diff_rules, PassChange, RuleChangeKind, RuleDiff};
use oracles::case::release_sources::{Pass, ReleaseSources};
use oracles::case::rules::catalog::rules_in;
use std::fmt::Write;
use std::process::ExitCode;

/// Arguments of `crosscheck diff-release`.
#[derive(Args)]
pub struct DiffReleaseArgs {
    /// The reference release: a major (`48`: the linked release, the
    /// pinned C API release or a cached build of that major) or a full
    /// version (`48.0.10`).
    reference: String,
    /// The candidate release, named the same way.
    candidate: String,
    /// List every rule that differs (`file:line`, name), not only counts.
    #[arg(long)]
    rules: bool,
}

/// Runs the command: prints the diff.
pub fn run(config: &Config, args: DiffReleaseArgs) -> Result<ExitCode> {
    oracles::engine::other_release::use_builds(&config.builds_dir());
    let reference = ensure(&full_version(&args.reference)?)?;
    let candidate = ensure(&full_version(&args.candidate)?)?;
    let diff = rule_diff(&reference, &candidate)?;
    let passes = diff_passes(&reference, &candidate)?;
    let mut text = rules_text(&reference, &candidate, &diff);
    if args.rules {
        text += &rule_list(&diff);
    }
    text += &passes_text(&reference, &candidate, &passes);
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}

/// The rules of the two releases, diffed.
pub fn rule_diff(reference: &ReleaseSources, candidate: &ReleaseSources) -> Result<RuleDiff> {
    let rules = |sources: &ReleaseSources| -> Result<_> {
        rules_in(&sources.isle_sources()?).map_err(|problem| {
            anyhow::anyhow!("the rules of Wasmtime {}: {problem}", sources.wasmtime)
        })
    };
    Ok(diff_rules(&rules(reference)?, &rules(candidate)?))
}

/// `48` or `48.0.10` as a full version: a major is the linked release,
/// the pinned C API release, or a cached build of it.
fn full_version(text: &str) -> Result<String> {
    let text = text.trim();
    if text.contains('.') {
        let parts: Vec<&str> = text.split('.').collect();
        if parts.len() != 3 || parts.iter().any(|p| p.parse::<u64>().is_err()) {
            bail!("{text:?} is not a Wasmtime version (MAJOR or MAJOR.MINOR.PATCH)");
        }
        return Ok(text.to_string());
    }
    let major: u64 = text.parse().with_context(|| {
        format!("{text:?} is not a Wasmtime version (MAJOR or MAJOR.MINOR.PATCH)")
    })?;
    if major == oracles::engine::other_release::linked_major() {
        return Ok(oracles::versions::WASMTIME.to_string());
    }
    if let Ok(pin) = oracles::engine::c_api::pinned::of_major(major) {
        return Ok(pin.version.to_string());
    }
    if let Ok((_, version)) = oracles::engine::other_release::build_of(major) {
        return Ok(version);
    }
    bail!("no release of Wasmtime {major} is linked, pinned or built here: give its full version (MAJOR.MINOR.PATCH)")
}

/// The rule table: per file and in total.
fn rules_text(reference: &ReleaseSources, candidate: &ReleaseSources, diff: &RuleDiff) -> String {
    let kinds = [
        RuleChangeKind::New,
        RuleChangeKind::Changed,
        RuleChangeKind::Renamed,
        RuleChangeKind::Removed,
    ];
    let mut text = format!(
        "Cranelift rules in rule-guided generation's scope (src/opts/*.isle, src/isa/x64/lower.isle):\n  \
         reference Wasmtime {} (cranelift-codegen {}), candidate Wasmtime {} (cranelift-codegen {})\n\n",
        reference.wasmtime, reference.cranelift, candidate.wasmtime, candidate.cranelift
    );
    let _ = write!(
        text,
        "  {:<28} {:>9} {:>9}",
        "file", "reference", "candidate"
    );
    for kind in kinds {
        let _ = write!(text, " {:>8}", kind.as_str());
    }
    text.push('\n');
    let (mut old, mut new) = (0, 0);
    for (file, counts) in &diff.files {
        let _ = write!(
            text,
            "  {file:<28} {:>9} {:>9}",
            counts.reference, counts.candidate
        );
        for kind in kinds {
            let _ = write!(
                text,
                " {:>8}",
                counts.changes.get(&kind).copied().unwrap_or(0)
            );
        }
        text.push('\n');
        (old, new) = (old + counts.reference, new + counts.candidate);
    }
    let _ = write!(text, "  {:<28} {old:>9} {new:>9}", "total");
    for kind in kinds {
        let _ = write!(text, " {:>8}", diff.count(kind));
    }
    text.push('\n');
    text
}

/// Every rule that differs, one line each.
fn rule_list(diff: &RuleDiff) -> String {
    let mut text = String::from("\nrules that differ (reference line -> candidate line):\n");
    for change in &diff.changes {
        let line = |l: Option<usize>| l.map_or("-".to_string(), |l| l.to_string());
        let _ = writeln!(
            text,
            "  {:<8} {}:{} -> {}{}",
            change.kind.as_str(),
            change.file,
            line(change.reference_line),
            line(change.candidate_line),
            change
                .name
                .as_deref()
                .map(|n| format!("  ({n})"))
                .unwrap_or_default()
        );
    }
    text
}

/// The passes' table and the register allocator's versions.
fn passes_text(
    reference: &ReleaseSources,
    candidate: &ReleaseSources,
    passes: &[(Pass, PassChange)],
) -> String {
    let mut text =
        String::from("\npasses (source lines added and removed; files changed, added, removed):\n");
    for (pass, change) in passes {
        if change.unknown {
            let _ = writeln!(
                text,
                "  {:<16} not comparable: a crate of it is not in the registry for one release",
                pass.name()
            );
            continue;
        }
        let _ = writeln!(
            text,
            "  {:<16} {:>7} {:>7}   {} changed, {} added, {} removed",
            pass.name(),
            format!("+{}", change.lines_added),
            format!("-{}", change.lines_removed),
            change.files_changed,
            change.files_added,
            change.files_removed
        );
    }
    let version = |v: &Option<String>| v.clone().unwrap_or_else(|| "?".into());
    let _ = writeln!(
        text,
        "  {:<16} {} -> {}",
        "regalloc2",
        version(&reference.regalloc2),
        version(&candidate.regalloc2)
    );
    text
}
