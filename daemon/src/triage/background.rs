//! The daemon's background triage: while a run fuzzes, it takes new
//! findings one at a time, most urgent first, and triages each
//! (`triage::one_finding`) in its own niced worker process, so that fuzzing
//! goes on; once fuzzing is over, it may finish what is left.

use super::one_finding::{triage, write_bundle, Triaged};
use super::scaling_checks;
use crate::config::Config;
use crate::process::probe::Prober;
use crate::process::supervisor::BackgroundWork;
use crate::store::Store;
use anyhow::Result;
use oracles::judge::kind::FindingKind;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tracing::{info, warn};

/// How often the idle background triage looks for new findings.
const IDLE_POLL: Duration = Duration::from_secs(2);

/// The daemon's background triage as the supervisor steers it.
#[derive(Default)]
pub struct Background {
    /// Raised to stop it (abandoning a triage under way).
    pub stop: AtomicBool,
    /// Raised when the run's fuzzing is over: it stops once nothing is
    /// left to triage.
    draining: AtomicBool,
    /// Raised by the background triage when it has stopped.
    done: AtomicBool,
}

impl Background {
    /// Lets the background triage triage what is left, for at most `limit` or until
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

/// The background triage with its configuration, as the supervisor runs
/// it beside fuzzing.
pub struct BackgroundTriage<'a> {
    config: &'a Config,
    control: Background,
}

impl<'a> BackgroundTriage<'a> {
    /// The background triage of `config`'s store, if `[triage]
    /// background` is on.
    pub fn of(config: &'a Config) -> Option<Self> {
        config.library.triage.background.then(|| BackgroundTriage {
            config,
            control: Background::default(),
        })
    }
}

impl BackgroundWork for BackgroundTriage<'_> {
    fn name(&self) -> &'static str {
        "triage"
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

/// The daemon's background triage: triages untriaged open findings, most
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
    let limits = &config.library.triage;
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
        config.library.triage.shrink_attempts,
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
