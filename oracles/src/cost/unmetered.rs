//! Work fuel does not meter: embedders rely on fuel as a bound on the CPU
//! a guest may take, so an engine spending far more time per unit of fuel
//! than the same configuration at opt level none (whose code does what
//! the operators say, one by one) breaks that bound, as Cranelift's
//! loop-invariant code motion under fuel did in Wasmtime 48 (about 40
//! times the CPU per unit). A case whose Cranelift engine with fuel spends
//! more than `[cost.perf] unmetered_ns_per_fuel` per unit over at least
//! `unmetered_min_fuel` units is a suspect; it is run again beside its
//! twin at opt level none, and a best rate still `unmetered_ratio` times
//! the twin's is a `perf` finding ("unmetered work"). Bulk operations
//! cost one unit whatever their length on every opt level alike, so they
//! raise both rates and never make a finding.

use super::limits::CostLimits;
use super::run::SlowRun;
use crate::case::plan::Plan;
use crate::engine::id::EngineId;
use crate::engine::matrix::Matrix;
use crate::engine::outcome::{EngineRun, Execution};
use crate::engine::{build_engine, Backend, Budget, Engine, WasmtimeVariant};
use crate::judge::case::CaseReport;
use std::time::Duration;

/// The time (CPU where measured) and fuel of one run, over every step
/// that counted fuel.
fn time_and_fuel(execution: &Execution) -> (Duration, u64) {
    let fuel = execution.fuel_used.iter().flatten().sum();
    (execution.run_cpu.unwrap_or(execution.run_time), fuel)
}

/// Nanoseconds per unit of fuel, if enough fuel was spent to tell.
fn rate(execution: &Execution, min_fuel: u64) -> Option<f64> {
    let (time, fuel) = time_and_fuel(execution);
    (fuel >= min_fuel.max(1)).then(|| time.as_secs_f64() * 1e9 / fuel as f64)
}

/// The Cranelift engine at opt level speed with fuel that `engine` is,
/// if it is one (a fault injected into it included).
fn optimizing_with_fuel(engine: &EngineId) -> Option<WasmtimeVariant> {
    engine
        .variant()
        .filter(|v| v.backend == Backend::Cranelift && !v.opt_none && v.budget == Budget::Fuel)
}

/// The engines of the case that spent more than the limit per unit of
/// fuel: the suspects.
fn suspects<'a>(report: &'a CaseReport, limits: &CostLimits) -> Vec<&'a EngineId> {
    let perf = &limits.perf;
    report
        .runs
        .iter()
        .filter(|(id, _)| optimizing_with_fuel(id).is_some())
        .filter_map(|(id, run)| match run {
            EngineRun::Ran(execution) => rate(execution, perf.unmetered_min_fuel)
                .filter(|ns| *ns > perf.unmetered_ns_per_fuel)
                .map(|_| id),
            _ => None,
        })
        .collect()
}

/// Whether the case makes an engine a suspect of unmetered work.
pub fn is_suspect(report: &CaseReport, limits: &CostLimits) -> bool {
    !suspects(report, limits).is_empty()
}

/// One more run's rate of `engine` on the plan (`None` if it does not run
/// it or spends too little fuel).
fn rate_of(engine: &dyn Engine, wasm: &[u8], plan: &Plan, min_fuel: u64) -> Option<f64> {
    match crate::engine::panics::catch(|| engine.execute(wasm, plan)) {
        Ok(EngineRun::Ran(execution)) => rate(&execution, min_fuel),
        _ => None,
    }
}

/// Every suspect run again beside its twin at opt level none (built with
/// the matrix's limits), in turns; a best rate still over the limits is a
/// [`SlowRun`] signed `perf <engine> unmetered work`.
pub fn find_unmetered(
    matrix: &Matrix,
    report: &CaseReport,
    wasm: &[u8],
    plan: &Plan,
    limits: &CostLimits,
) -> Vec<SlowRun> {
    let perf = &limits.perf;
    let runs = 1 + limits.remeasure;
    suspects(report, limits)
        .into_iter()
        .filter_map(|id| {
            let engine = matrix.engines().iter().find(|e| e.name() == id.as_str())?;
            let twin_name = WasmtimeVariant {
                opt_none: true,
                ..optimizing_with_fuel(id)?
            }
            .name();
            let twin = build_engine(&twin_name, &matrix.limits).ok()?;
            // Rounds of one run each, as `cost::run` measures siblings: a
            // burst of load slows both alike. The same operators, so the
            // same fuel, in a correct engine; an injected fault's own
            // operators are not the twin's.
            let (mut mine, mut theirs) = (f64::INFINITY, f64::INFINITY);
            for _ in 0..runs {
                let min_fuel = perf.unmetered_min_fuel;
                if let Some(rate) = rate_of(engine.as_ref(), wasm, plan, min_fuel) {
                    mine = mine.min(rate);
                }
                if let Some(rate) = rate_of(twin.as_ref(), wasm, plan, min_fuel / 10) {
                    theirs = theirs.min(rate);
                }
            }
            let measured = mine.is_finite() && theirs.is_finite();
            (measured && mine > perf.unmetered_ns_per_fuel && mine > perf.unmetered_ratio * theirs)
                .then(|| SlowRun {
                    engine: id.to_string(),
                    sibling: twin_name.clone(),
                    signature: format!("perf {id} unmetered work"),
                    detail: format!(
                        "unmetered work: {id} spends {mine:.1} ns per unit of fuel, {:.0} times \
                         {twin_name}'s {theirs:.2} ns (best of {runs} runs each; limits: \
                         {} ns and {} times)",
                        mine / theirs.max(1e-9),
                        perf.unmetered_ns_per_fuel,
                        perf.unmetered_ratio
                    ),
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::module_info::ModuleInfo;
    use crate::engine::ExecutionConfig;

    const SPIN: &str = r#"(module
        (memory 1)
        (func (export "spin") (param i32) (result i32) (local i32)
          (loop
            (local.set 1 (i32.add (local.get 1) (i32.const 1)))
            (br_if 0 (i32.lt_u (local.get 1) (i32.const 30000))))
          (local.get 1)))"#;

    #[test]
    fn work_fuel_does_not_meter_is_found_against_opt_level_none() {
        let wasm = wat::parse_str(SPIN).unwrap();
        let limits = ExecutionConfig::default();
        let info = ModuleInfo::parse(&wasm).unwrap();
        let plan = Plan::from_seed(&info, 1, 2);
        let cost = CostLimits::default();
        for (engine, expected) in [
            ("cranelift-tail-signals+fault-unmetered-copy", 1),
            ("cranelift-tail-signals", 0),
        ] {
            let matrix = Matrix::new("wasmi", &[engine.to_string()], &limits).unwrap();
            let report = matrix.run(&wasm, &plan);
            let found = find_unmetered(&matrix, &report, &wasm, &plan, &cost);
            assert_eq!(found.len(), expected, "{engine}: {found:#?}");
            if let Some(slow) = found.first() {
                assert_eq!(slow.signature, format!("perf {engine} unmetered work"));
                assert!(
                    slow.detail.contains("cranelift-tail-signals+opt-none"),
                    "{}",
                    slow.detail
                );
            }
        }
    }
}
