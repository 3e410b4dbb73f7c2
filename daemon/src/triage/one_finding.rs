//! Triage of one finding: does it reproduce every time (deterministic or
//! flaky), and the smallest module that still gives its signature, its
//! flips, code shape, group and bundle. Used by `crosscheck shrink`,
//! `import`, `triage --pending` and the daemon's background triage
//! (`triage::background`).

use crate::config::Config;
use crate::process::probe::Prober;
use crate::store::{GroupKey, Store, StoredFinding};
use crate::triage::bundle;
use anyhow::{anyhow, Result};
use oracles::judge::kind::FindingKind;
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tracing::{info, warn};

/// How far over the `[cost]` limits a shrinking candidate of a cost
/// finding must stay: the first of these that the original module meets.
/// A shrunk module only just over the limits would not reproduce on a busy
/// machine, so the search never goes below the last margin.
const COST_SHRINK_MARGINS: [f64; 3] = [2.0, 1.5, 1.25];

/// What triaging a finding found.
#[derive(Clone, Debug)]
pub struct Triaged {
    /// Runs of the original module that gave the signature, of `runs`.
    pub reproduced: u32,
    /// Runs made.
    pub runs: u32,
    /// The shrunk module, when the finding is deterministic.
    pub shrunk: Option<oracles::triage::shrink::Shrunk>,
    /// The older finding this one was merged into, or the newer one merged
    /// into it: `(merged, into)`, when the shrunk module has the code shape
    /// of another finding with the same suspect.
    pub merge: Option<(i64, i64)>,
}

/// Re-runs the finding's smallest module so far `[triage] reproduce_runs` times; if it gives
/// its signature every time, shrinks it (within `attempts` and
/// `[triage] shrink_seconds`) and stores the result. `stop` aborts.
pub fn triage(
    config: &Config,
    store: &mut Store,
    prober: &mut Prober<'_>,
    finding: &StoredFinding,
    attempts: u32,
    stop: &AtomicBool,
    on_smaller: impl FnMut(usize) + 'static,
) -> Result<Triaged> {
    // A finding shrunk before is shrunk further from where it stopped.
    let start = finding.shrunk.as_deref().unwrap_or(&finding.artifact);
    let wasm = store.read_artifact(start)?;
    let case = Case {
        finding,
        wasm: &wasm,
        seed: finding.first_seed.unwrap_or(0),
        signature: finding.case_signature(),
        attempts,
        stop,
    };
    // A compile blowup may have been judged against the run's own costs.
    prober.set_baseline(Some(store.baseline()?));
    let runs = config.library.triage.reproduce_runs;
    let reproduced = reproduce(prober, &case, runs)?;
    // Recorded only with the outcome, so that a triage cut short by a stop
    // is done again by the next run.
    let reproducibility = format!("{reproduced}/{runs}");
    if reproduced < runs {
        store.set_reproducibility(finding.id, &reproducibility)?;
        write_bundle(config, store, finding.id);
        return Ok(Triaged {
            reproduced,
            runs,
            shrunk: None,
            merge: None,
        });
    }
    let (shrunk, group) = shrink_within_small_budgets(config, prober, &case, on_smaller)?;
    let flips = flips_of(prober, &shrunk.wasm, &case)?;
    store.set_flips(finding.id, &flips)?;
    let merge = record(
        config,
        store,
        finding,
        &shrunk.wasm,
        group.as_ref(),
        &reproducibility,
    )?;
    write_bundle(config, store, merge.map_or(finding.id, |(_, into)| into));
    Ok(Triaged {
        reproduced,
        runs,
        shrunk: Some(shrunk),
        merge,
    })
}

/// `Err` once `stop` is set: every loop of triage checks it.
fn unless_stopped(stop: &AtomicBool) -> Result<()> {
    if stop.load(Ordering::Relaxed) {
        Err(anyhow!("stopped"))
    } else {
        Ok(())
    }
}

/// How many of `runs` runs of the case's module give its signature.
fn reproduce(prober: &mut Prober<'_>, case: &Case, runs: u32) -> Result<u32> {
    let mut reproduced = 0;
    for _ in 0..runs {
        unless_stopped(case.stop)?;
        reproduced += u32::from(prober.gives(case.wasm, case.seed, case.signature)?);
    }
    Ok(reproduced)
}

/// Shrinks and reduces the case, with a tenth of the fuel and epoch
/// budgets when it reproduces under them: candidates that loop forever are
/// common while shrinking (a loop's exit removed), and each runs every
/// engine to the end of its budget. Cost findings keep the budgets their
/// measurement was made under.
fn shrink_within_small_budgets(
    config: &Config,
    prober: &mut Prober<'_>,
    case: &Case,
    on_smaller: impl FnMut(usize) + 'static,
) -> Result<(oracles::triage::shrink::Shrunk, Option<(GroupKey, String)>)> {
    if case.finding.kind.is_cost() {
        return shrink_and_reduce(config, prober, case, on_smaller);
    }
    let e = &config.library.execution;
    let small = config.with_budgets(
        (e.fuel / TIGHT_BUDGET_DIVISOR).max(1),
        (e.epoch_deadline_ms / TIGHT_BUDGET_DIVISOR).max(10),
    )?;
    let mut tight = prober.for_config(&small);
    if tight.gives(case.wasm, case.seed, case.signature)? {
        info!(
            finding = case.finding.id,
            "shrinking with a tenth of the fuel and epoch budgets"
        );
        return shrink_and_reduce(config, &mut tight, case, on_smaller);
    }
    drop(tight);
    shrink_and_reduce(config, prober, case, on_smaller)
}

/// Which single setting of the suspected engines makes the shrunk module
/// agree; a crash of the flipped variants is recorded as what it is.
fn flips_of(prober: &mut Prober<'_>, shrunk: &[u8], case: &Case) -> Result<Vec<String>> {
    Ok(
        match prober.probe_with_flips(shrunk, case.seed, case.signature)? {
            Some(report)
                if oracles::judge::signature::covers(case.signature, &report.signature) =>
            {
                report.flips
            }
            Some(report) => vec![format!(
                "the flipped variants changed the outcome to `{}`",
                report.signature
            )],
            None => vec!["the shrunk module no longer reproduces".to_string()],
        },
    )
}

/// Stores the shrunk module, its code shape and group (suppressing it when
/// a known-bug rule names its trigger) and its reproducibility, then merges
/// it with a finding of the same shape: `(merged, into)`.
fn record(
    config: &Config,
    store: &mut Store,
    finding: &StoredFinding,
    shrunk: &[u8],
    group: Option<&(GroupKey, String)>,
    reproducibility: &str,
) -> Result<Option<(i64, i64)>> {
    // A shape is only a merge key; a module it cannot parse is not merged.
    let shape = oracles::triage::code_shape::fingerprint(shrunk).ok();
    store.set_shrunk(finding.id, shrunk, shape.as_deref())?;
    if let Some((key, fingerprint)) = group {
        store.assign_group(finding.id, key, fingerprint)?;
        suppress_by_trigger(config, store, finding, key)?;
    }
    store.set_reproducibility(finding.id, reproducibility)?;
    store.merge_same_shape(finding.id)
}

/// What shrinking a finding needs to know.
struct Case<'a> {
    finding: &'a StoredFinding,
    wasm: &'a [u8],
    seed: u64,
    signature: &'a str,
    attempts: u32,
    stop: &'a AtomicBool,
}

/// How much smaller the budgets of shrinking candidates are.
const TIGHT_BUDGET_DIVISOR: u64 = 10;

/// Shrinks the case's module with wasm-shrink, then reduces it and
/// fingerprints its trigger (not for cost findings, whose test is a
/// measurement): the shrunk module and its group key.
fn shrink_and_reduce(
    config: &Config,
    prober: &mut Prober<'_>,
    case: &Case,
    on_smaller: impl FnMut(usize) + 'static,
) -> Result<(oracles::triage::shrink::Shrunk, Option<(GroupKey, String)>)> {
    let Case {
        finding,
        wasm,
        seed,
        signature,
        attempts,
        stop,
    } = *case;
    let deadline = Instant::now() + Duration::from_secs(config.library.triage.shrink_seconds);
    let is_cost = finding.kind.is_cost();
    // A blowup (or a slow run) shrinks to the smallest module still over
    // the limits; keeping it twice over lets the shrunk module reproduce on
    // a noisy machine.
    if is_cost {
        // A module only just over the limits (a slow run of 14 times its
        // sibling against a limit of 10) is shrunk against a smaller
        // margin, or against the limits themselves: it reproduced at them,
        // and wasm-shrink starts from a module its predicate accepts.
        prober.set_blowup_margin(None);
        for margin in COST_SHRINK_MARGINS {
            prober.set_blowup_margin(Some(margin));
            if prober.gives(wasm, seed, signature)? {
                info!(
                    finding = finding.id,
                    margin, "shrinking a cost finding over a margin of the limits"
                );
                break;
            }
            prober.set_blowup_margin(None);
        }
    }
    let shrunk = oracles::triage::shrink::shrink(
        wasm,
        attempts,
        seed,
        &mut |candidate| {
            unless_stopped(stop)?;
            // Out of time: refusing the rest ends the search with the best so far.
            if Instant::now() > deadline {
                return Ok(false);
            }
            prober.gives(candidate, seed, signature)
        },
        on_smaller,
    );
    prober.set_blowup_margin(None);
    let mut shrunk = shrunk?;
    // Past wasm-shrink, to what a person would write, and the trigger.
    if is_cost || config.library.triage.reduce_seconds == 0 {
        return Ok((shrunk, None));
    }
    let deadline = Instant::now() + Duration::from_secs(config.library.triage.reduce_seconds);
    let mut still = |candidate: &[u8]| -> Result<bool> {
        unless_stopped(stop)?;
        prober.gives(candidate, seed, signature)
    };
    let reduced = oracles::triage::reduce::reduce(&shrunk.wasm, deadline, &mut still)?;
    shrunk.candidates += reduced.candidates;
    shrunk.wasm = reduced.wasm;
    let fingerprint = oracles::triage::trigger::fingerprint(&shrunk.wasm, &mut still)?;
    let group = group_key(finding, &shrunk.wasm, &fingerprint);
    Ok((shrunk, Some(group)))
}

/// Marks a triaged open finding `suppressed` when a known-bug rule names
/// its trigger (`[[triage.suppress]] trigger = ...`); never a breach.
fn suppress_by_trigger(
    config: &Config,
    store: &mut Store,
    finding: &StoredFinding,
    key: &GroupKey,
) -> Result<()> {
    let Some(trigger) = key.key.split_once(" | ").map(|(_, t)| t) else {
        return Ok(());
    };
    let rule = config
        .library
        .triage
        .suppression_by_trigger(trigger, finding.suspect.as_deref());
    let current = store.require_finding(finding.id)?;
    if let (Some(rule), crate::store::Status::Open, false) =
        (rule, current.status, finding.kind == FindingKind::Breach)
    {
        store.set_status(finding.id, crate::store::Status::Suppressed)?;
        info!(
            finding = finding.id,
            "finding #{} suppressed by its trigger ({}): {trigger}", finding.id, rule.reason
        );
    }
    Ok(())
}

/// The group of a finding whose minimal module is `wasm`: its suspect and
/// the rewrites that make it vanish, or, when none does, the minimal
/// module itself. Returned with the fingerprint as JSON.
fn group_key(
    finding: &StoredFinding,
    wasm: &[u8],
    fingerprint: &oracles::triage::trigger::Fingerprint,
) -> (GroupKey, String) {
    let party = finding
        .suspect
        .as_deref()
        .map_or("undecided", oracles::judge::attribution::suspected_party);
    let print = fingerprint.key();
    let key = if print.is_empty() {
        format!("{party} | module {}", hex::encode(Sha256::digest(wasm)))
    } else {
        format!("{party} | {print}")
    };
    let json = serde_json::to_string(fingerprint).expect("a fingerprint encodes");
    (
        GroupKey {
            key,
            trigger: fingerprint.describe(),
            instructions: fingerprint.instructions().into_iter().collect(),
        },
        json,
    )
}

/// (Re)writes a triaged finding's bundle in the store. A bundle is a
/// convenience copy: failing to write one is logged, not an error of triage.
pub fn write_bundle(config: &Config, store: &Store, id: i64) {
    let dir = bundle::default_dir(config, id);
    let written = store
        .require_finding(id)
        .and_then(|f| bundle::write(config, store, &f, &dir));
    if let Err(err) = written {
        warn!(
            finding = id,
            "could not write the bundle {}: {err:#}",
            dir.display()
        );
    }
}
