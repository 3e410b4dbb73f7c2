//! Compile cost across Wasmtime releases: with engines of two releases in
//! the matrix (`[matrix] reference_release`, or `NAME@MAJOR` engines), each
//! engine's compile of a case on the newer release (the candidate) is
//! compared with its twin's on the older one (the reference). An engine that
//! compiles the same module many times slower, or with many times the peak
//! heap, than the release before is a `compile-regression` finding of its
//! own, however far below the absolute limits it stays.

use super::compile::{best_of, figures, Blowup};
use super::heap::PeakHeap;
use super::limits::CostLimits;
use super::spread::spanning;
use crate::engine::clock::CompileCost;
use crate::engine::id::{linked_major, EngineId};
use crate::engine::matrix::Matrix;
use crate::engine::outcome::EngineRun;
use crate::engine::Engine;
use crate::judge::case::CaseReport;
use crate::judge::kind::FindingKind;
use std::time::Duration;

/// `(candidate, reference)` engine pairs of the matrix: an engine on the
/// newer release and the same engine on the older one (one of the two is
/// the linked release).
fn twins(matrix: &Matrix) -> Vec<(&dyn Engine, &dyn Engine)> {
    let engines = matrix.engines();
    let ids: Vec<EngineId> = engines.iter().map(|e| EngineId::parse(e.name())).collect();
    engines
        .iter()
        .zip(&ids)
        .filter_map(|(other, other_id)| {
            let (linked, _) = engines
                .iter()
                .zip(&ids)
                .find(|(_, id)| id.is_twin_of(other_id))?;
            let newer = other_id.release() > Some(linked_major());
            Some(if newer {
                (other.as_ref(), linked.as_ref())
            } else {
                (linked.as_ref(), other.as_ref())
            })
        })
        .collect()
}

/// The release of `engine`'s name.
fn release(engine: &dyn Engine) -> u64 {
    EngineId::parse(engine.name()).release_or_linked()
}

/// Whether the case as the matrix ran it makes some engine a suspect: its
/// compile time (CPU where measured) over the limits against its twin's.
pub fn is_suspect(report: &CaseReport, matrix: &Matrix, limits: &CostLimits) -> bool {
    let cost = |name: &str| {
        report
            .runs
            .iter()
            .find(|(engine, _)| engine == name)
            .and_then(|(_, run)| match run {
                EngineRun::Ran(execution) => Some(CompileCost {
                    wall: execution.compile_time,
                    cpu: execution.compile_cpu,
                    peak_heap: None,
                }),
                _ => None,
            })
    };
    twins(matrix).iter().any(|(candidate, reference)| {
        match (cost(candidate.name()), cost(reference.name())) {
            (Some(c), Some(r)) => !over(limits, &r, &c).is_empty(),
            _ => false,
        }
    })
}

/// Every engine whose compile of `wasm`, measured again with its twin's
/// (best of `1 + remeasure` each), is over the limits against the
/// reference release: one blowup per engine and kind of figure.
fn find(
    matrix: &Matrix,
    wasm: &[u8],
    limits: &CostLimits,
    heap: Option<&dyn PeakHeap>,
) -> Vec<Blowup> {
    let runs = 1 + limits.remeasure;
    let mut found = Vec::new();
    for (candidate, reference) in twins(matrix) {
        let Some(theirs) = best_of(reference, wasm, heap, runs) else {
            continue;
        };
        let Some(mine) = best_of(candidate, wasm, heap, runs) else {
            continue;
        };
        for why in over(limits, &theirs, &mine) {
            found.push(Blowup {
                kind: FindingKind::CompileRegression,
                engine: candidate.name().to_string(),
                signature: format!("{} {}", FindingKind::CompileRegression, candidate.name()),
                detail: format!(
                    "{}: compile {} (best of {runs}); {} on the reference release: {}; {why}",
                    candidate.name(),
                    figures(&mine),
                    reference.name(),
                    figures(&theirs),
                ),
            });
        }
    }
    found
}

/// The compile regressions of `wasm` against the reference release, one
/// per case, naming every slow engine (by family when all of it is slow)
/// and both releases: `compile-regression 47->48 cranelift-opt` (the
/// older release first).
pub fn find_regressions(
    matrix: &Matrix,
    wasm: &[u8],
    limits: &CostLimits,
    heap: Option<&dyn PeakHeap>,
) -> Vec<Blowup> {
    let Some((candidate, reference)) = twins(matrix)
        .first()
        .map(|(c, r)| (release(*c), release(*r)))
    else {
        return Vec::new();
    };
    spanning(matrix, limits, |limits, _| find(matrix, wasm, limits, heap))
        .into_iter()
        .map(|mut blowup| {
            let who = blowup
                .signature
                .strip_prefix(FindingKind::CompileRegression.as_str())
                .unwrap_or(&blowup.signature)
                .trim()
                .to_string();
            blowup.signature = format!(
                "{} {reference}->{candidate} {who}",
                FindingKind::CompileRegression
            );
            blowup
        })
        .collect()
}

/// Why `cost` is over the release limits against `reference`, if it is:
/// one reason per figure (time, peak heap).
fn over(limits: &CostLimits, reference: &CompileCost, cost: &CompileCost) -> Vec<String> {
    let releases = &limits.releases;
    let mut found = Vec::new();
    let time = cost.own_time();
    let ratio = time.as_secs_f64() / reference.own_time().as_secs_f64().max(1e-6);
    if time >= Duration::from_millis(releases.time_floor_ms) && ratio > releases.time_ratio {
        found.push(format!(
            "{ratio:.1} times the reference release's time, over {}",
            releases.time_ratio
        ));
    }
    if let (Some(peak), Some(theirs)) = (cost.peak_heap, reference.peak_heap) {
        let ratio = peak as f64 / theirs.max(1) as f64;
        if peak >= releases.memory_floor_mib << 20 && ratio > releases.memory_ratio {
            found.push(format!(
                "{ratio:.1} times the reference release's peak heap, over {}",
                releases.memory_ratio
            ));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cost::compile::cost;

    #[test]
    fn only_costs_far_over_the_reference_release_and_over_the_floors_count() {
        let limits = CostLimits::default();
        let r = &limits.releases;
        let reference = cost(20, 10);
        // Slower, but not by the ratio.
        assert!(over(&limits, &reference, &cost(60, 10)).is_empty());
        // By the ratio and over the floor.
        let slow = ((r.time_ratio + 1.0) * 20.0) as u64;
        assert_eq!(over(&limits, &reference, &cost(slow, 10)).len(), 1);
        // By the ratio, but under the floor: noise on a tiny module.
        let tiny = cost(1, 1);
        assert!(over(&limits, &tiny, &cost(r.time_floor_ms - 1, 1)).is_empty());
        // The peak heap alone.
        let big = (r.memory_ratio as u64 + 1) * 10 + r.memory_floor_mib;
        let text = over(&limits, &reference, &cost(20, big));
        assert!(text[0].contains("peak heap"), "{text:?}");
    }
}
