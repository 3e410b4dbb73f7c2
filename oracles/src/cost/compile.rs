//! Compile-time and compile-memory blowups: one module's compile on every
//! engine of the matrix, measured (wall time, and the peak heap the compile
//! allocates when the program can tell), judged against absolute limits and
//! against the oracle's translation of the same module, which is linear in
//! its size. A suspect is measured again, and only the best of the runs
//! counts, so that a busy machine does not make findings.

use super::heap::PeakHeap;
use super::limits::CostLimits;
use crate::engine::clock::timed;
use crate::engine::clock::CompileCost;
use crate::engine::matrix::Matrix;
use crate::engine::outcome::EngineRun;
use crate::engine::Engine;
use crate::judge::case::CaseReport;
use crate::judge::kind::FindingKind;
use std::time::Duration;

/// A compile over a limit.
#[derive(Clone, Debug, PartialEq)]
pub struct Blowup {
    /// [`FindingKind::CompileTime`], `CompileMemory` or
    /// `CompileRegression`.
    pub kind: FindingKind,
    /// The engine.
    pub engine: String,
    /// Dedup key: kind and engine.
    pub signature: String,
    /// The figures, for the report.
    pub detail: String,
}

/// Compiles `wasm` on `engine`, measured; `None` if the engine rejects it
/// or panics (a crash is the differential oracle's finding, not a cost).
pub fn measure(
    engine: &dyn Engine,
    wasm: &[u8],
    heap: Option<&dyn PeakHeap>,
) -> Option<CompileCost> {
    if let Some(own) = engine.capabilities().measures_compiles {
        return own.measured_compile(wasm).ok();
    }
    if let Some(heap) = heap {
        heap.reset_peak();
    }
    let (compiled, wall, cpu) = timed(|| crate::engine::panics::catch(|| engine.compile(wasm)));
    let peak_heap = heap.map(|h| h.peak_bytes());
    matches!(compiled, Ok(Ok(()))).then_some(CompileCost {
        wall,
        cpu,
        peak_heap,
    })
}

/// The first blowup of `wasm` on the matrix's engines (see
/// [`find_blowups`]).
pub fn find_blowup(
    matrix: &Matrix,
    wasm: &[u8],
    limits: &CostLimits,
    heap: Option<&dyn PeakHeap>,
) -> Option<Blowup> {
    find_blowups(matrix, wasm, limits, heap).into_iter().next()
}

/// Every blowup of `wasm` on the matrix's engines (an engine can be over
/// both the time and the memory limits), judged against the oracle's
/// compile. Every suspect is measured `limits.remeasure` times more, and
/// stays one only if its best figures are still over a limit.
pub fn find_blowups(
    matrix: &Matrix,
    wasm: &[u8],
    limits: &CostLimits,
    heap: Option<&dyn PeakHeap>,
) -> Vec<Blowup> {
    let Some((oracle, others)) = matrix.engines().split_first() else {
        return Vec::new();
    };
    let Some(reference) = best_of(oracle.as_ref(), wasm, heap, 1 + limits.remeasure) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for engine in others {
        let Some(first) = measure(engine.as_ref(), wasm, heap) else {
            continue;
        };
        if over(limits, &reference, &first).is_empty() {
            continue;
        }
        let best = best_of(engine.as_ref(), wasm, heap, limits.remeasure)
            .map_or(first.clone(), |b| minimum(&first, &b));
        for (kind, why) in over(limits, &reference, &best) {
            found.push(Blowup {
                kind,
                engine: engine.name().to_string(),
                signature: format!("{kind} {}", engine.name()),
                detail: format!(
                    "{}: compile {} (best of {} runs); {} (the reference): {}; {why}",
                    engine.name(),
                    figures(&best),
                    1 + limits.remeasure,
                    oracle.name(),
                    figures(&reference)
                ),
            });
        }
    }
    found
}

/// Whether a case, as the matrix ran it, makes some engine a blowup
/// suspect: its compile time against the oracle's (the first run), or the
/// whole case's peak heap (`case_peak_heap`, when measured) at or above the
/// memory floor. Suspects are confirmed or cleared by [`find_blowup`],
/// which measures the compiles alone.
pub fn is_suspect(report: &CaseReport, limits: &CostLimits, case_peak_heap: Option<u64>) -> bool {
    if case_peak_heap.is_some_and(|peak| peak >= limits.compile.memory_floor_mib << 20) {
        return true;
    }
    let compile_time = |run: &EngineRun| match run {
        EngineRun::Ran(execution) => Some(execution.compile_time),
        _ => None,
    };
    let Some((_, oracle)) = report.runs.first() else {
        return false;
    };
    let Some(reference) = compile_time(oracle) else {
        return false;
    };
    let reference = CompileCost {
        wall: reference,
        cpu: None,
        peak_heap: None,
    };
    report.runs[1..].iter().any(|(_, run)| {
        compile_time(run).is_some_and(|wall| {
            !over(
                limits,
                &reference,
                &CompileCost {
                    wall,
                    cpu: None,
                    peak_heap: None,
                },
            )
            .is_empty()
        })
    })
}

/// Which limit `cost` is over, and why, if any.
fn over(
    limits: &CostLimits,
    reference: &CompileCost,
    cost: &CompileCost,
) -> Vec<(FindingKind, String)> {
    let mut found = Vec::new();
    let seconds = cost.own_time().as_secs_f64();
    let ratio = seconds / reference.own_time().as_secs_f64().max(1e-6);
    if seconds > limits.compile.seconds {
        found.push((
            FindingKind::CompileTime,
            format!("over the limit of {} s", limits.compile.seconds),
        ));
    } else if cost.own_time() >= Duration::from_millis(limits.compile.time_floor_ms)
        && ratio > limits.compile.time_ratio
    {
        found.push((
            FindingKind::CompileTime,
            format!(
                "{ratio:.0} times the reference, over {}",
                limits.compile.time_ratio
            ),
        ));
    }
    if let (Some(peak), Some(reference_peak)) = (cost.peak_heap, reference.peak_heap) {
        let mib = peak as f64 / f64::from(1 << 20);
        let ratio = peak as f64 / (reference_peak.max(1) as f64);
        if mib > limits.compile.memory_mib as f64 {
            found.push((
                FindingKind::CompileMemory,
                format!("over the limit of {} MiB", limits.compile.memory_mib),
            ));
        } else if mib >= limits.compile.memory_floor_mib as f64
            && ratio > limits.compile.memory_ratio
        {
            found.push((
                FindingKind::CompileMemory,
                format!(
                    "{ratio:.0} times the reference, over {}",
                    limits.compile.memory_ratio
                ),
            ));
        }
    }
    found
}

/// The smallest time and the smallest peak of `runs` compiles; `None` if
/// the engine rejects the module.
pub fn best_of(
    engine: &dyn Engine,
    wasm: &[u8],
    heap: Option<&dyn PeakHeap>,
    runs: u32,
) -> Option<CompileCost> {
    let mut best: Option<CompileCost> = None;
    for _ in 0..runs.max(1) {
        let cost = measure(engine, wasm, heap)?;
        best = Some(match best {
            None => cost,
            Some(b) => minimum(&b, &cost),
        });
    }
    best
}

/// The smaller time and the smaller peak of two measurements.
pub(crate) fn minimum(a: &CompileCost, b: &CompileCost) -> CompileCost {
    CompileCost {
        wall: a.wall.min(b.wall),
        cpu: match (a.cpu, b.cpu) {
            (Some(x), Some(y)) => Some(x.min(y)),
            (x, y) => x.or(y),
        },
        peak_heap: match (a.peak_heap, b.peak_heap) {
            (Some(x), Some(y)) => Some(x.min(y)),
            (x, y) => x.or(y),
        },
    }
}

/// A measurement as text: `12.3 ms, peak heap 4.5 MiB`.
pub(crate) fn figures(cost: &CompileCost) -> String {
    let mut text = format!("{:.1} ms", cost.wall.as_secs_f64() * 1e3);
    if let Some(cpu) = cost.cpu {
        text += &format!(" ({:.1} ms CPU)", cpu.as_secs_f64() * 1e3);
    }
    if let Some(peak) = cost.peak_heap {
        text += &format!(", peak heap {:.1} MiB", peak as f64 / f64::from(1 << 20));
    }
    text
}

/// A measurement of `ms` milliseconds and a `mib` MiB peak, for tests.
#[cfg(test)]
pub(crate) fn cost(ms: u64, mib: u64) -> CompileCost {
    CompileCost {
        wall: Duration::from_millis(ms),
        cpu: None,
        peak_heap: Some(mib << 20),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ExecutionConfig;

    #[test]
    fn limits_are_absolute_or_relative_above_a_floor() {
        let limits = CostLimits::default();
        let reference = cost(1, 1);
        let kinds = |reference: &CompileCost, c: &CompileCost| -> Vec<FindingKind> {
            over(&limits, reference, c)
                .into_iter()
                .map(|(k, _)| k)
                .collect()
        };
        assert!(kinds(&reference, &cost(200, 50)).is_empty());
        // 1000x the reference but under the floor: a small module.
        assert!(kinds(&cost(0, 0), &cost(400, 0)).is_empty());
        use FindingKind::{CompileMemory, CompileTime};
        assert_eq!(kinds(&reference, &cost(2000, 1)), [CompileTime]);
        assert_eq!(kinds(&reference, &cost(11_000, 1)), [CompileTime]);
        assert_eq!(kinds(&reference, &cost(10, 3000)), [CompileMemory]);
        assert_eq!(kinds(&reference, &cost(10, 1100)), [CompileMemory]);
        assert!(kinds(&cost(1, 2), &cost(10, 1100)).is_empty());
        // Over both: both are findings.
        assert_eq!(
            kinds(&reference, &cost(2000, 1100)),
            [CompileTime, CompileMemory]
        );
    }

    #[test]
    fn an_ordinary_module_is_no_blowup_on_the_default_matrix() {
        let limits = ExecutionConfig::default();
        let matrix = Matrix::new(
            "wasmi",
            &[
                "cranelift-tail-signals".to_string(),
                "cranelift-notail-explicit".to_string(),
            ],
            &limits,
        )
        .unwrap();
        let wasm = wat::parse_str(
            r#"(module (func (export "f") (param i32) (result i32)
                local.get 0 i32.const 1 i32.add))"#,
        )
        .unwrap();
        assert_eq!(
            find_blowup(&matrix, &wasm, &CostLimits::default(), None),
            None
        );
        let measured = measure(matrix.engines()[1].as_ref(), &wasm, None).unwrap();
        assert!(measured.wall > Duration::ZERO && measured.peak_heap.is_none());
        // Cranelift compiles on the calling thread: its CPU time is there.
        let cpu = measured.cpu.unwrap();
        assert!(cpu > Duration::ZERO && cpu <= measured.wall + Duration::from_millis(1));
    }
}
