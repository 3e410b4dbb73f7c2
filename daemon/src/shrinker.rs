//! Triage of one finding: does it reproduce every time (deterministic or
//! flaky), and the smallest module that still gives its signature. Used by
//! `crosscheck shrink` and by the daemon's background shrinker, which takes
//! new findings one at a time in its own worker process so that fuzzing
//! goes on.

use crate::config::Config;
use crate::probe::{read_module, Prober};
use crate::store::{Finding, Store};
use anyhow::{anyhow, Result};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tracing::{info, warn};

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
    pub shrunk: Option<oracles::shrink::Shrunk>,
}

/// Re-runs the finding's module `[triage] reproduce_runs` times; if it gives
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
    let wasm = read_module(&store.artifact_path(&finding.artifact))?;
    let seed = finding.first_seed.unwrap_or(0);
    let signature = finding.signature.as_str();
    let runs = config.triage.reproduce_runs;
    let mut reproduced = 0;
    for _ in 0..runs {
        if stop.load(Ordering::Relaxed) {
            return Err(anyhow!("stopped"));
        }
        reproduced += u32::from(prober.signature_of(&wasm, seed)?.as_deref() == Some(signature));
    }
    // Recorded only with the outcome, so that a triage cut short by a stop
    // is done again by the next run.
    let reproducibility = format!("{reproduced}/{runs}");
    if reproduced < runs {
        store.set_reproducibility(finding.id, &reproducibility)?;
        return Ok(Triaged {
            reproduced,
            runs,
            shrunk: None,
        });
    }
    let deadline = Instant::now() + Duration::from_secs(config.triage.shrink_seconds);
    let shrunk = oracles::shrink::shrink(
        &wasm,
        attempts,
        seed,
        &mut |candidate| {
            if stop.load(Ordering::Relaxed) {
                return Err(anyhow!("stopped"));
            }
            // Out of time: refusing the rest ends the search with the best so far.
            if Instant::now() > deadline {
                return Ok(false);
            }
            Ok(prober.signature_of(candidate, seed)?.as_deref() == Some(signature))
        },
        on_smaller,
    )?;
    store.set_shrunk(finding.id, &shrunk.wasm)?;
    store.set_reproducibility(finding.id, &reproducibility)?;
    Ok(Triaged {
        reproduced,
        runs,
        shrunk: Some(shrunk),
    })
}

/// The daemon's background shrinker: triages untriaged open findings, most
/// urgent first, until `stop`. Errors are logged, never fatal to fuzzing.
pub fn run_background(config: &Config, stop: &AtomicBool) {
    let mut store = match Store::open(&config.store.data_dir) {
        Ok(store) => store,
        Err(err) => {
            warn!("background shrinking is off: {err:#}");
            return;
        }
    };
    let mut prober = Prober::with_stop(config, stop).in_background();
    while !stop.load(Ordering::Relaxed) {
        let next = match store.next_untriaged() {
            Ok(next) => next,
            Err(err) => {
                warn!("background shrinking stops: {err:#}");
                return;
            }
        };
        let Some(finding) = next else {
            sleep_unless_stopped(IDLE_POLL, stop);
            continue;
        };
        let started = Instant::now();
        let outcome = triage(
            config,
            &mut store,
            &mut prober,
            &finding,
            config.triage.shrink_attempts,
            stop,
            |_| {},
        );
        match outcome {
            Ok(t) => match &t.shrunk {
                Some(shrunk) => info!(
                    finding = finding.id,
                    "shrunk finding #{}: {} -> {} bytes in {:.0} s ({} candidates)",
                    finding.id,
                    shrunk.original_size,
                    shrunk.wasm.len(),
                    started.elapsed().as_secs_f64(),
                    shrunk.candidates
                ),
                None => info!(
                    finding = finding.id,
                    "finding #{} is flaky: reproduced {} of {} times; not shrunk",
                    finding.id,
                    t.reproduced,
                    t.runs
                ),
            },
            Err(_) if stop.load(Ordering::Relaxed) => return,
            Err(err) => {
                warn!(
                    finding = finding.id,
                    "could not triage finding #{}: {err:#}", finding.id
                );
                let _ = store.set_reproducibility(finding.id, &format!("error: {err:#}"));
            }
        }
    }
}

fn sleep_unless_stopped(duration: Duration, stop: &AtomicBool) {
    let until = Instant::now() + duration;
    while Instant::now() < until && !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(50));
    }
}
