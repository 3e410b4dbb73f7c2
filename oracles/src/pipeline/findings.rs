//! The findings of a case, defined once: its verdict's (a mismatch, a
//! crash, an unexpected rejection), its confirmed compile blowups (absolute
//! and oracle-relative limits, and outliers against the run's baseline),
//! its confirmed slow runs, and a panic of the harness itself. The daemon's
//! workers, `sweep --record`, `import` (through a worker) and the fuzz
//! targets all take their findings from here, so the same case gives the
//! same signatures wherever it runs.

use super::run::SeedReport;
use crate::config::Settings;
use crate::cost::baseline::{find_outliers, Baseline};
use crate::cost::compile::{find_blowups, is_suspect as is_blowup_suspect, Blowup, CompileCost};
use crate::cost::heap::PeakHeap;
use crate::cost::limits::CostLimits;
use crate::cost::run::{find_slow_runs, is_suspect as is_slow_suspect, SlowRun};
use crate::engine::matrix::Matrix;
use crate::judge::attribution::suspect;
use crate::judge::verdict::Verdict;
use crate::triage::flip::{flips, Flip};
use serde::{Deserialize, Serialize};

/// One finding of a case, as every program records or reports it. The
/// module is the case's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The deduplication key: kind, phase, who disagrees, outcome classes
    /// (no observed values, pids, times or sizes).
    pub signature: String,
    /// `mismatch`, `crash`, `hang`, `oom`, `compile-time`, `compile-memory`,
    /// `perf`, ...
    pub kind: String,
    /// What was observed, for the report.
    pub summary: String,
    /// Who is probably wrong, in words (`judge::attribution`).
    pub suspect: Option<String>,
    /// The configuration flips tried, when asked for (`triage::flip`).
    #[serde(default)]
    pub flips: Vec<String>,
}

impl Finding {
    /// The finding a verdict is, if it is one.
    pub fn of_verdict(verdict: &Verdict) -> Option<Finding> {
        Some(Finding {
            signature: verdict.signature()?,
            kind: verdict.label(),
            summary: verdict.to_string(),
            suspect: suspect(verdict),
            flips: Vec::new(),
        })
    }

    /// A confirmed compile blowup.
    pub fn of_blowup(blowup: Blowup) -> Finding {
        Finding {
            suspect: Some(blowup_suspect(blowup.kind, &blowup.engine)),
            summary: format!("{}\n  {}\n", blowup.kind.to_uppercase(), blowup.detail),
            kind: blowup.kind.to_string(),
            signature: blowup.signature,
            flips: Vec::new(),
        }
    }

    /// A confirmed slow run.
    pub fn of_slow_run(slow: SlowRun) -> Finding {
        Finding {
            kind: "perf".into(),
            summary: format!("PERF\n  {}\n", slow.detail),
            suspect: Some(format!(
                "runs far slower than its sibling {}: suspect {}",
                slow.sibling, slow.engine
            )),
            signature: slow.signature,
            flips: Vec::new(),
        }
    }

    /// A panic outside the engines (the generator, the harness): a crash of
    /// crosscheck itself.
    pub fn of_harness_panic(panic: &str) -> Finding {
        Finding {
            signature: format!("crash harness: {}", panic.replace(['\n', '\t'], " ")),
            kind: "crash".into(),
            summary: format!("CRASH\n  the harness panicked: {panic}\n"),
            suspect: Some("the harness panicked: suspect crosscheck itself".into()),
            flips: Vec::new(),
        }
    }
}

/// Who a compile blowup of `kind` on `engine` points at, in words.
pub fn blowup_suspect(kind: &str, engine: &str) -> String {
    let what = if kind == "compile-time" {
        "time"
    } else {
        "memory"
    };
    format!("compiling takes {what} far over the limits: suspect {engine}")
}

/// What the cost checks of a case have to go on besides the case itself.
pub struct CostEvidence<'a> {
    /// The `[cost]` limits, already raised by any margin
    /// ([`CostLimits::scaled`]).
    pub limits: CostLimits,
    /// The heap, when this program measures it (re-measurements of
    /// suspects read their peak heap from it).
    pub heap: Option<&'a dyn PeakHeap>,
    /// The whole case's peak heap, when measured.
    pub case_peak_heap: Option<u64>,
    /// Each engine's compile of the case as the matrix ran it.
    pub compiles: Vec<(String, CompileCost)>,
    /// The module's size in instructions.
    pub instructions: u64,
    /// The run's compile cost per instruction, per engine, once known.
    pub baseline: Option<&'a Baseline>,
}

/// Every finding of a case, in this order: its verdict's (with its
/// configuration flips when `flips` is given), later disagreements that
/// blame another party, then its confirmed compile blowups, outliers and
/// slow runs. Cost suspects are measured again
/// before they count.
pub fn of_case(
    case: &SeedReport,
    matrix: &Matrix,
    cost: &CostEvidence<'_>,
    flips_with: Option<&Settings>,
) -> Vec<Finding> {
    let verdict = &case.report.comparison.verdict;
    let mut found: Vec<Finding> = Finding::of_verdict(verdict)
        .map(|mut finding| {
            if let Some(settings) = flips_with {
                finding.flips = flips(
                    &case.module.wasm,
                    &case.plan,
                    verdict,
                    &settings.matrix.oracle,
                    &settings.matrix.engines,
                    &settings.execution,
                )
                .iter()
                .map(Flip::describe)
                .collect();
            }
            finding
        })
        .into_iter()
        .collect();
    // Later disagreements that blame someone else are findings of their own.
    found.extend(
        case.report
            .comparison
            .further
            .iter()
            .filter_map(|m| Finding::of_verdict(&Verdict::Mismatch(m.clone()))),
    );
    let limits = &cost.limits;
    let wasm = &case.module.wasm;
    let mut blowups = Vec::new();
    if is_blowup_suspect(&case.report, limits, cost.case_peak_heap) {
        blowups.extend(find_blowups(matrix, wasm, limits, cost.heap));
    }
    if let Some(baseline) = cost.baseline {
        for outlier in find_outliers(
            matrix,
            wasm,
            cost.instructions,
            &cost.compiles,
            baseline,
            limits,
            cost.heap,
        ) {
            if blowups.iter().all(|b| b.signature != outlier.signature) {
                blowups.push(outlier);
            }
        }
    }
    found.extend(blowups.into_iter().map(Finding::of_blowup));
    if is_slow_suspect(&case.report, limits) {
        found.extend(
            find_slow_runs(matrix, &case.report, wasm, &case.plan, limits)
                .into_iter()
                .map(Finding::of_slow_run),
        );
    }
    found
}

/// Each engine's compile of a case as the matrix ran it, with the peak heap
/// of each compile where it was measured (`compile_heap[matrix index]`).
pub fn compiles_of(
    case: &SeedReport,
    compile_heap: &std::collections::BTreeMap<usize, u64>,
) -> Vec<(String, CompileCost)> {
    case.report
        .runs
        .iter()
        .enumerate()
        .filter_map(|(index, (engine, run))| match run {
            crate::judge::outcome::EngineRun::Ran(execution) => Some((
                engine.clone(),
                CompileCost {
                    wall: execution.compile_time,
                    // The run's baseline is of wall times: judged alike.
                    cpu: None,
                    peak_heap: compile_heap.get(&index).copied(),
                },
            )),
            _ => None,
        })
        .collect()
}
