//! `crosscheck triage`: the open findings a person should look at, most
//! urgent first, one line each.

use crate::config::Config;
use crate::process::probe::Prober;
use crate::store::Status;
use crate::store::Store;
use crate::triage::background;
use anyhow::Result;
use clap::Args;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

/// Arguments of `crosscheck triage`.
#[derive(Args)]
pub struct TriageArgs {
    /// Also list findings marked fixed or ignored.
    #[arg(long)]
    all: bool,
    /// First triage every open finding not triaged yet (re-run, shrink,
    /// attribute, merge, bundle), as the daemon's background triage would:
    /// for findings left over when a run ended.
    #[arg(long)]
    pending: bool,
}

/// One line of the listing.
enum Line<'a> {
    /// A group of more than one finding, before its findings.
    Group(&'a crate::store::Group),
    /// A finding of the group above.
    Member(&'a crate::store::StoredFinding),
    /// A finding alone in its group, or not grouped yet.
    Alone(&'a crate::store::StoredFinding),
}

/// Runs the command.
pub fn run(config: &Config, args: TriageArgs) -> Result<ExitCode> {
    let mut store = Store::open_existing(&config.store)?;
    if args.pending {
        background::merge_unshaped(config, &mut store)?;
        let stop = AtomicBool::new(false);
        let mut prober = Prober::new(config);
        while background::triage_next(config, &mut store, &mut prober, &stop)? {}
    }
    let latest_run_start = store.runs(1)?.first().map_or(i64::MAX, |r| r.started_at);
    let mut findings: Vec<_> = store
        .findings()?
        .into_iter()
        .filter(|f| args.all || f.status == Status::Open)
        .collect();
    // Urgency, then new in the latest run, then how often it is hit.
    findings.sort_by_key(|f| {
        (
            f.kind.urgency(),
            f.first_seen < latest_run_start,
            std::cmp::Reverse(f.hits),
            f.id,
        )
    });
    println!(
        "{} {} finding(s) in {}, most urgent first",
        findings.len(),
        if args.all { "" } else { "open" },
        config.store.data_dir.display()
    );
    let groups: std::collections::BTreeMap<i64, crate::store::Group> =
        store.groups()?.into_iter().map(|g| (g.id, g)).collect();
    for line in grouped(&findings, &groups) {
        let (f, indent) = match line {
            Line::Group(group) => {
                println!("{}", group.describe());
                continue;
            }
            Line::Member(f) => (f, "  "),
            Line::Alone(f) => (f, ""),
        };
        println!("{indent}{}", finding_line(f, latest_run_start));
    }
    Ok(ExitCode::SUCCESS)
}

/// The findings of one group (one trigger, one bug) under its line, at the
/// place of its most urgent finding.
fn grouped<'a>(
    findings: &'a [crate::store::StoredFinding],
    groups: &'a std::collections::BTreeMap<i64, crate::store::Group>,
) -> Vec<Line<'a>> {
    let mut ordered = Vec::new();
    let mut shown_groups = std::collections::BTreeSet::new();
    for f in findings {
        match f.group.and_then(|g| groups.get(&g)) {
            Some(group) if group.findings.len() > 1 => {
                if shown_groups.insert(group.id) {
                    ordered.push(Line::Group(group));
                    ordered.extend(
                        findings
                            .iter()
                            .filter(|other| other.group == Some(group.id))
                            .map(Line::Member),
                    );
                }
            }
            _ => ordered.push(Line::Alone(f)),
        }
    }
    ordered
}

/// One finding: new or not, kind, hits, shrunk size, suspect, signature.
fn finding_line(f: &crate::store::StoredFinding, latest_run_start: i64) -> String {
    let new = if f.first_seen >= latest_run_start {
        "NEW"
    } else {
        "   "
    };
    let shrunk = match (f.shrunk_size, f.reproducible.as_deref()) {
        (Some(size), _) => format!("{size} B"),
        (None, Some(r)) if r.starts_with("error") => "error".to_string(),
        (None, Some(r)) => format!("flaky {r}"),
        (None, None) => "unshrunk".to_string(),
    };
    let status = if f.status == Status::Open {
        String::new()
    } else {
        format!(" [{}]", f.status)
    };
    format!(
        "#{:<4} {new} {:<9} {:>7} hits  {shrunk:>9}  {}{status} -- {}",
        f.id,
        f.kind,
        f.hits,
        f.suspect.as_deref().unwrap_or("no attribution"),
        f.signature
    )
}
