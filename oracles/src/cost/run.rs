//! Run-time cost across configurations: a case one engine runs much slower
//! than its siblings (the other Wasmtime variants of its release, or the other wasmi-based
//! engines: an interpreter is not compared with a JIT), the way explicit
//! stack checks or a calling-convention change can make call-heavy code
//! slower (../shared/seeds/002). A suspect is run again, and only the best
//! of each engine's runs counts, so that a busy machine makes no findings.

use super::limits::CostLimits;
use crate::case::plan::Plan;
use crate::engine::id::EngineId;
use crate::engine::matrix::Matrix;
use crate::engine::outcome::{EngineRun, Outcome};
use crate::engine::Engine;
use crate::judge::case::CaseReport;
use crate::judge::verdict::Verdict;
use std::time::Duration;

/// An engine consistently much slower than a sibling on one module.
#[derive(Clone, Debug, PartialEq)]
pub struct SlowRun {
    /// The slow engine.
    pub engine: String,
    /// Its fastest sibling.
    pub sibling: String,
    /// Dedup key: `perf <engine>`.
    pub signature: String,
    /// The figures, for the report.
    pub detail: String,
}

/// Which engines are compared with each other: Wasmtime variants (a
/// fault-injected one included), or wasmi-based engines.
fn family(engine: &EngineId) -> &'static str {
    if engine.family() == crate::engine::family::WASMI {
        "wasmi"
    } else {
        "wasmtime"
    }
}

/// Run time (instantiation and calls) of each engine that ran the case.
fn run_times(report: &CaseReport) -> Vec<(&EngineId, Duration)> {
    report
        .runs
        .iter()
        .filter_map(|(engine, run)| match run {
            EngineRun::Ran(execution) => Some((engine, execution.run_time)),
            _ => None,
        })
        .collect()
}

/// `(slow, fastest sibling, ratio)` for every engine over the limits
/// against its fastest sibling in `times`.
fn over<'a>(
    times: &[(&'a EngineId, Duration)],
    limits: &CostLimits,
) -> Vec<(&'a EngineId, &'a EngineId, Duration, Duration)> {
    let floor = Duration::from_millis(limits.perf.floor_ms);
    // Of one release: a slower release is a finding of its own kind, not a
    // slow configuration.
    let kin: Vec<(&str, u64)> = times
        .iter()
        .map(|(engine, _)| (family(engine), engine.release_or_linked()))
        .collect();
    let mut slow = Vec::new();
    for (i, &(engine, time)) in times.iter().enumerate() {
        let fastest = times
            .iter()
            .enumerate()
            .filter(|(j, (other, _))| *other != engine && kin[*j] == kin[i])
            .map(|(_, sibling)| sibling)
            .min_by_key(|(_, t)| *t);
        if let Some(&(sibling, best)) = fastest {
            let ratio = time.as_secs_f64() / best.as_secs_f64().max(1e-6);
            if time >= floor && ratio > limits.perf.ratio {
                slow.push((engine, sibling, time, best));
            }
        }
    }
    slow
}

/// Whether the case, as the matrix ran it, makes an engine a suspect. Only
/// cases the engines agree on count: otherwise they did different work.
pub fn is_suspect(report: &CaseReport, limits: &CostLimits) -> bool {
    matches!(*report.verdict(), Verdict::Agree) && !over(&run_times(report), limits).is_empty()
}

/// Runs every engine of a suspect's families `limits.remeasure` more times
/// on the module and its plan; an engine whose best time is still over the
/// limits against its sibling's best is a [`SlowRun`].
pub fn find_slow_runs(
    matrix: &Matrix,
    report: &CaseReport,
    wasm: &[u8],
    plan: &Plan,
    limits: &CostLimits,
) -> Vec<SlowRun> {
    let first = run_times(report);
    let suspects = over(&first, limits);
    if suspects.is_empty() {
        return Vec::new();
    }
    let families: Vec<&str> = suspects.iter().map(|s| family(s.0)).collect();
    let mut best: Vec<(&EngineId, Duration, &dyn Engine)> = first
        .iter()
        .filter(|(id, _)| families.contains(&family(id)))
        .filter_map(|&(id, time)| {
            let engine = matrix.engines().iter().find(|e| e.name() == id.as_str())?;
            Some((id, time, engine.as_ref()))
        })
        .collect();
    // Rounds of one run per engine, not all runs of one engine and then the
    // next: a burst of load on the machine then slows siblings alike
    // instead of making one of them look slow.
    for _ in 0..limits.remeasure {
        for (_, time, engine) in &mut best {
            if let Some(again) = run_time(*engine, wasm, plan) {
                *time = (*time).min(again);
            }
        }
    }
    let best: Vec<(&EngineId, Duration)> = best.into_iter().map(|(n, t, _)| (n, t)).collect();
    over(&best, limits)
        .into_iter()
        .map(|(engine, sibling, time, sibling_time)| SlowRun {
            engine: engine.to_string(),
            sibling: sibling.to_string(),
            signature: format!("perf {engine}"),
            detail: format!(
                "{engine} runs the case in {:.1} ms, {:.0} times {sibling}'s {:.2} ms \
                 (best of {} runs each; limits: {} times and {} ms)",
                time.as_secs_f64() * 1e3,
                time.as_secs_f64() / sibling_time.as_secs_f64().max(1e-6),
                sibling_time.as_secs_f64() * 1e3,
                1 + limits.remeasure,
                limits.perf.ratio,
                limits.perf.floor_ms
            ),
        })
        .collect()
}

/// One more run of the plan on `engine`, if it runs the module: its CPU
/// time when measured (a re-run confirms a suspect, and other load on the
/// machine must not), else its wall time.
fn run_time(engine: &dyn Engine, wasm: &[u8], plan: &Plan) -> Option<Duration> {
    match crate::engine::panics::catch(|| engine.execute(wasm, plan)) {
        Ok(EngineRun::Ran(execution)) => Some(execution.run_cpu.unwrap_or(execution.run_time)),
        _ => None,
    }
}

/// One engine's time per call of a plan over several rounds.
#[derive(Clone, Debug)]
pub struct CallTiming {
    /// The engine.
    pub engine: String,
    /// Time per call in each round (one instance per round), sorted.
    pub per_call: Vec<Duration>,
    /// What the last call returned, as text.
    pub result: String,
}

impl CallTiming {
    /// The median round's time per call.
    pub fn median(&self) -> Duration {
        self.per_call[self.per_call.len() / 2]
    }
}

/// Runs `plan` (calls that must all return) `rounds` times on every engine
/// of the matrix: each engine's time per call, and the engines that
/// refused the module, with why. Fails when an engine cannot instantiate
/// the module, a call does not return, or an engine crashes.
pub fn time_calls(
    matrix: &Matrix,
    wasm: &[u8],
    plan: &Plan,
    rounds: usize,
) -> anyhow::Result<(Vec<CallTiming>, Vec<String>)> {
    let calls = plan.calls.len().max(1) as u32;
    let mut timings = Vec::new();
    let mut refused = Vec::new();
    for engine in matrix.engines() {
        let mut per_call = Vec::new();
        let mut result = String::new();
        for _ in 0..rounds {
            match engine.execute(wasm, plan) {
                EngineRun::Ran(execution) => {
                    let Some(last) = execution.calls.last() else {
                        anyhow::bail!(
                            "{} failed to instantiate the module: {}",
                            engine.name(),
                            execution.instantiation
                        );
                    };
                    if !matches!(last, Outcome::Returned(_)) {
                        anyhow::bail!("{} did not return: {last}", engine.name());
                    }
                    result = last.to_string();
                    per_call.push(execution.run_time / calls);
                }
                EngineRun::Rejected(why) => {
                    refused.push(format!("{}: {why}", engine.name()));
                    break;
                }
                EngineRun::Crashed(why) => anyhow::bail!("{} crashed: {why}", engine.name()),
                EngineRun::Died(death) => {
                    anyhow::bail!(
                        "{} died: {} ({})",
                        engine.name(),
                        death.how,
                        death.kind.as_str()
                    )
                }
            }
        }
        if !per_call.is_empty() {
            per_call.sort();
            timings.push(CallTiming {
                engine: engine.name().to_string(),
                per_call,
                result,
            });
        }
    }
    Ok((timings, refused))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn only_siblings_are_compared_and_only_above_the_floor() {
        let limits = CostLimits::default();
        let names =
            |found: Vec<(&EngineId, &EngineId, Duration, Duration)>| -> Vec<(String, String)> {
                found
                    .into_iter()
                    .map(|(a, b, _, _)| (a.to_string(), b.to_string()))
                    .collect()
            };
        let over = |times: &[(&str, Duration)], limits: &CostLimits| {
            let ids: Vec<(EngineId, Duration)> = times
                .iter()
                .map(|(n, t)| (EngineId::parse(n), *t))
                .collect();
            let refs: Vec<(&EngineId, Duration)> = ids.iter().map(|(n, t)| (n, *t)).collect();
            names(over(&refs, limits))
        };
        // An interpreter 50 times slower than the JIT is no finding.
        let times = [("wasmi", ms(50)), ("cranelift-tail-signals", ms(1))];
        assert!(over(&times, &limits).is_empty());
        // A Wasmtime variant 30 times slower than another is.
        let times = [
            ("wasmi", ms(50)),
            ("cranelift-tail-signals", ms(1)),
            ("cranelift-tail-explicit", ms(30)),
        ];
        assert_eq!(
            over(&times, &limits),
            [(
                "cranelift-tail-explicit".into(),
                "cranelift-tail-signals".into()
            )]
        );
        // Below the floor a ratio is noise.
        let times = [
            ("cranelift-tail-signals", Duration::from_micros(100)),
            ("cranelift-tail-explicit", ms(5)),
        ];
        assert!(over(&times, &limits).is_empty());
        // wasmi-based engines are siblings of wasmi.
        let times = [("wasmi", ms(2)), ("wasmi-fault-slow", ms(60))];
        assert_eq!(
            over(&times, &limits),
            [("wasmi-fault-slow".into(), "wasmi".into())]
        );
    }
}
