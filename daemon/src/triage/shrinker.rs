//! Triage of one finding: does it reproduce every time (deterministic or
//! flaky), and the smallest module that still gives its signature. Used by
//! `crosscheck shrink` and by the daemon's background shrinker, which takes
//! new findings one at a time in its own worker process so that fuzzing
//! goes on.

use crate::config::Config;
use crate::process::probe::Prober;
use crate::process::supervisor::Beside;
use crate::store::{Finding, GroupKey, Store};
use crate::triage::bundle;
use crate::triage::scaling_checks;
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

/// How often the idle background shrinker looks for new findings.
const IDLE_POLL: Duration = Duration::from_secs(2);

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
    finding: &Finding,
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
    let runs = config.settings.triage.reproduce_runs;
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
    let e = &config.settings.execution;
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
    finding: &Finding,
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
    finding: &'a Finding,
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
    let deadline = Instant::now() + Duration::from_secs(config.settings.triage.shrink_seconds);
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
    if is_cost || config.settings.triage.reduce_seconds == 0 {
        return Ok((shrunk, None));
    }
    let deadline = Instant::now() + Duration::from_secs(config.settings.triage.reduce_seconds);
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
    finding: &Finding,
    key: &GroupKey,
) -> Result<()> {
    let Some(trigger) = key.key.split_once(" | ").map(|(_, t)| t) else {
        return Ok(());
    };
    let rule = config
        .settings
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
    finding: &Finding,
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
fn write_bundle(config: &Config, store: &Store, id: i64) {
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

/// The daemon's background shrinker as the supervisor steers it.
#[derive(Default)]
pub struct Background {
    /// Raised to stop it (abandoning a triage under way).
    pub stop: AtomicBool,
    /// Raised when the run's fuzzing is over: it stops once nothing is
    /// left to triage.
    draining: AtomicBool,
    /// Raised by the shrinker when it has stopped.
    done: AtomicBool,
}

impl Background {
    /// Lets the shrinker triage what is left, for at most `limit` or until
    /// `signal` is raised; logs what it waited for.
    pub fn drain(&self, limit: Duration, signal: &AtomicBool) {
        if limit.is_zero() {
            return;
        }
        let started = Instant::now();
        self.draining.store(true, Ordering::Relaxed);
        info!(
            limit_secs = limit.as_secs(),
            "fuzzing is over; triaging the findings left before the run ends"
        );
        while !self.done.load(Ordering::Relaxed)
            && started.elapsed() < limit
            && !signal.load(Ordering::Relaxed)
        {
            std::thread::sleep(Duration::from_millis(100));
        }
        if self.done.load(Ordering::Relaxed) {
            info!(
                "every finding is triaged ({:.0} s after fuzzing ended)",
                started.elapsed().as_secs_f64()
            );
        } else {
            warn!(
                "the run ends with findings left to triage ([triage] drain_seconds = {}); `crosscheck triage --pending` finishes them",
                limit.as_secs()
            );
        }
    }
}

/// The background shrinker with its configuration, as the supervisor runs
/// it beside fuzzing.
pub struct BackgroundTriage<'a> {
    config: &'a Config,
    control: Background,
}

impl<'a> BackgroundTriage<'a> {
    /// The background shrinker of `config`'s store, if `[triage]
    /// background` is on.
    pub fn of(config: &'a Config) -> Option<Self> {
        config.settings.triage.background.then(|| BackgroundTriage {
            config,
            control: Background::default(),
        })
    }
}

impl Beside for BackgroundTriage<'_> {
    fn name(&self) -> &'static str {
        "shrinker"
    }

    fn work(&self) {
        run_background(self.config, &self.control);
    }

    fn drain(&self, limit: Duration, signal: &AtomicBool) {
        self.control.drain(limit, signal);
    }

    fn stop(&self) {
        self.control.stop.store(true, Ordering::Relaxed);
    }
}

/// The daemon's background shrinker: triages untriaged open findings, most
/// urgent first, until stopped, or, once the supervisor drains it, until
/// none is left. Errors are logged, never fatal to fuzzing.
pub fn run_background(config: &Config, control: &Background) {
    run_until_stopped(config, control);
    control.done.store(true, Ordering::Relaxed);
}

fn run_until_stopped(config: &Config, control: &Background) {
    let stop = &control.stop;
    let mut store = match Store::open(&config.store) {
        Ok(store) => store,
        Err(err) => {
            warn!("background shrinking is off: {err:#}");
            return;
        }
    };
    if let Err(err) = merge_unshaped(config, &mut store) {
        warn!("could not merge findings shrunk by an older crosscheck: {err:#}");
    }
    let mut prober = Prober::with_stop(config, stop).in_background();
    while !stop.load(Ordering::Relaxed) {
        // Findings first; a scaling check when there is none to triage;
        // nothing more once draining finds none.
        let worked = triage_next(config, &mut store, &mut prober, stop).and_then(|triaged| {
            if !triaged && control.draining.load(Ordering::Relaxed) {
                return Ok(None);
            }
            Ok(Some(
                triaged || scaling_checks::check_next_shape(config, &mut store, &mut prober, stop)?,
            ))
        });
        match worked {
            Ok(None) => break,
            Ok(Some(true)) => {}
            Ok(Some(false)) => sleep_unless_stopped(IDLE_POLL, stop),
            Err(_) if stop.load(Ordering::Relaxed) => break,
            Err(err) => {
                warn!("background shrinking stops: {err:#}");
                break;
            }
        }
    }
    // A finding whose triage was cut short is free for the next daemon or
    // `crosscheck triage --pending` at once.
    match store.release_claims(&claimant(config)) {
        Ok(released) => {
            for id in released {
                info!(finding = id, "gave up triaging finding #{id}");
            }
        }
        Err(err) => warn!("{err:#}"),
    }
}

/// Who claims findings for triage: this process on this host.
fn claimant(config: &Config) -> String {
    format!("{}:{}", config.daemon.host_name(), std::process::id())
}

/// Triages the most urgent untriaged open finding, logging what became of
/// it; false when there is none. A failure to triage that finding is
/// recorded on it and logged; only store errors and `stop` are errors.
pub fn triage_next(
    config: &Config,
    store: &mut Store,
    prober: &mut Prober<'_>,
    stop: &AtomicBool,
) -> Result<bool> {
    // Claimed, so that in a fleet one daemon triages each finding; the
    // claim outlasts the longest triage, and runs out if its daemon dies.
    let claimant = claimant(config);
    let limits = &config.settings.triage;
    let claim_seconds = 2 * (limits.shrink_seconds + limits.reduce_seconds) + 600;
    let now = crate::store::unix_now();
    let Some(finding) = store.claim_untriaged(&claimant, now, now + claim_seconds as i64)? else {
        return Ok(false);
    };
    info!(finding = finding.id, "triaging finding #{}", finding.id);
    let started = Instant::now();
    let outcome = triage(
        config,
        store,
        prober,
        &finding,
        config.settings.triage.shrink_attempts,
        stop,
        |_| {},
    );
    // How a compile blowup's shrunk module grows with its size.
    if let Ok(Triaged {
        shrunk: Some(shrunk),
        ..
    }) = &outcome
    {
        if matches!(
            finding.kind,
            FindingKind::CompileTime | FindingKind::CompileMemory | FindingKind::CompileRegression
        ) {
            scaling_checks::check_finding(config, store, prober, stop, &finding, &shrunk.wasm)?;
        }
    }
    match outcome {
        Ok(t) => match (&t.shrunk, t.merge) {
            (Some(_), Some((merged, into))) => info!(
                finding = finding.id,
                "finding #{merged} merged into #{into}: their shrunk modules have the same code and suspect"
            ),
            (Some(shrunk), None) => info!(
                finding = finding.id,
                "shrunk finding #{}: {} -> {} bytes in {:.0} s ({} candidates)",
                finding.id,
                shrunk.original_size,
                shrunk.wasm.len(),
                started.elapsed().as_secs_f64(),
                shrunk.candidates
            ),
            (None, _) => info!(
                finding = finding.id,
                "finding #{} is flaky: reproduced {} of {} times; not shrunk",
                finding.id,
                t.reproduced,
                t.runs
            ),
        },
        Err(err) if stop.load(Ordering::Relaxed) => return Err(err),
        Err(err) => {
            warn!(
                finding = finding.id,
                "could not triage finding #{}: {err:#}", finding.id
            );
            store.set_reproducibility(finding.id, &format!("error: {err:#}"))?;
        }
    }
    Ok(true)
}

/// Gives findings shrunk before code shapes and bundles were recorded (a
/// store of an older crosscheck) their shape and bundle, and merges those
/// that share a shape.
pub fn merge_unshaped(config: &Config, store: &mut Store) -> Result<()> {
    for f in store.findings()? {
        let (Some(hash), None) = (&f.shrunk, &f.shape) else {
            continue;
        };
        let wasm = store.read_artifact(hash)?;
        let Ok(shape) = oracles::triage::code_shape::fingerprint(&wasm) else {
            continue;
        };
        store.set_shape(f.id, &shape)?;
        match store.merge_same_shape(f.id)? {
            Some((merged, into)) => {
                info!("finding #{merged} merged into #{into}: their shrunk modules have the same code and suspect");
                write_bundle(config, store, into);
            }
            None => write_bundle(config, store, f.id),
        }
    }
    Ok(())
}

fn sleep_unless_stopped(duration: Duration, stop: &AtomicBool) {
    let until = Instant::now() + duration;
    while Instant::now() < until && !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(50));
    }
}
