//! The findings of a case, defined once: its verdict's (a mismatch, a
//! crash, an unexpected rejection), its confirmed compile blowups (absolute
//! and oracle-relative limits, and outliers against the run's baseline),
//! its confirmed slow runs, and a panic of the harness itself. The daemon's
//! workers, `sweep --record`, `import` (through a worker) and the fuzz
//! targets all take their findings from here, so the same case gives the
//! same signatures wherever it runs.

use super::run::SeedReport;
use crate::config::LibraryConfig;
use crate::cost::baseline::{find_outliers, Baseline};
use crate::cost::compile::{find_blowups, is_suspect as is_blowup_suspect, Blowup};
use crate::cost::heap::PeakHeap;
use crate::cost::limits::CostLimits;
use crate::cost::releases::{
    find_regressions as find_release_regressions, is_suspect as is_release_suspect,
};
use crate::cost::run::{find_slow_runs, is_suspect as is_slow_suspect, SlowRun};
use crate::cost::spread::spanning;
use crate::engine::clock::CompileCost;
use crate::engine::death::{Death, DeathKind};
use crate::engine::id::EngineId;
use crate::engine::matrix::Matrix;
use crate::engine::outcome::{EngineRun, Outcome, TrapKind};
use crate::engine::{runs_unbudgeted, swarm};
use crate::judge::attribution::{blame, suspect};
use crate::judge::kind::FindingKind;
use crate::judge::releases::divergence;
use crate::judge::signature::{MismatchSignature, SignatureSide, MISMATCH};
use crate::judge::verdict::{Side, Verdict};
use crate::triage::flip::{flips, smallest_vanishing, Flip};
use serde::{Deserialize, Serialize};

/// One finding of a case, as every program records or reports it. The
/// module is the case's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The deduplication key: kind, phase, who disagrees, outcome classes
    /// (no observed values, pids, times or sizes).
    pub signature: String,
    /// What kind of finding it is.
    pub kind: FindingKind,
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
        // A divergence between two Wasmtime releases is labelled as one.
        let versions = match verdict {
            Verdict::Mismatch(m) => divergence(m).map(|v| (v.kind, m.signature(&v.label()))),
            _ => None,
        };
        Some(Finding {
            signature: match &versions {
                Some((_, signature)) => signature.to_string(),
                None => verdict.signature()?,
            },
            kind: match versions {
                Some((kind, _)) => kind,
                None => verdict.finding_kind()?,
            },
            summary: verdict.to_string(),
            suspect: suspect(verdict),
            flips: Vec::new(),
        })
    }

    /// A confirmed compile blowup.
    pub fn of_blowup(blowup: Blowup) -> Finding {
        Finding {
            suspect: Some(blowup_suspect(blowup.kind, &blowup.engine)),
            summary: format!(
                "{}\n  {}\n",
                blowup.kind.as_str().to_uppercase(),
                blowup.detail.replace('\n', "\n  ")
            ),
            kind: blowup.kind,
            signature: blowup.signature,
            flips: Vec::new(),
        }
    }

    /// A confirmed slow run.
    pub fn of_slow_run(slow: SlowRun) -> Finding {
        Finding {
            kind: FindingKind::Perf,
            summary: format!("PERF\n  {}\n", slow.detail),
            suspect: Some(format!(
                "runs far slower than its sibling {}: suspect {}",
                slow.sibling, slow.engine
            )),
            signature: slow.signature,
            flips: Vec::new(),
        }
    }

    /// Confirmed work fuel does not meter (`cost::unmetered`).
    pub fn of_unmetered(slow: SlowRun) -> Finding {
        Finding {
            suspect: Some(format!(
                "spends far more time per unit of fuel than {} (fuel no longer bounds its CPU): suspect {}",
                slow.sibling, slow.engine
            )),
            ..Finding::of_slow_run(slow)
        }
    }

    /// A panic outside the engines (the generator, the harness): a crash of
    /// crosscheck itself.
    pub fn of_harness_panic(panic: &str) -> Finding {
        Finding {
            signature: format!("crash harness: {}", panic.replace(['\n', '\t'], " ")),
            kind: FindingKind::Crash,
            summary: format!("CRASH\n  the harness panicked: {panic}\n"),
            suspect: Some("the harness panicked: suspect crosscheck itself".into()),
            flips: Vec::new(),
        }
    }
}

/// Who a compile blowup of `kind` on `engine` points at, in words.
pub fn blowup_suspect(kind: FindingKind, engine: &str) -> String {
    match kind {
        FindingKind::CompileTime => {
            format!("compiling takes time far over the limits: suspect {engine}")
        }
        FindingKind::CompileRegression => {
            format!("compiling costs far more than on the reference release: suspect {engine}")
        }
        _ => format!("compiling takes memory far over the limits: suspect {engine}"),
    }
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

/// The findings of the engines of a case that died (`EngineRun::Died`):
/// one per finding kind and way of dying, naming every engine that died so
/// (engines that share code dying alike are one bug), breaches first. The
/// suspect weighs the engines that died against those that ran the case.
/// The swarm's `drawn` engines count only where nothing else died alike:
/// their settings vary from case to case, and one bug keeps one
/// signature whatever the swarm drew.
pub fn of_deaths(runs: &[(EngineId, EngineRun)], drawn: &[EngineId]) -> Vec<Finding> {
    let mut groups: Vec<(&Death, FindingKind, Vec<&EngineId>)> = Vec::new();
    for (engine, run) in runs {
        let EngineRun::Died(death) = run else {
            continue;
        };
        let kind = finding_kind_in(death, engine);
        match groups
            .iter_mut()
            .find(|(d, k, _)| *k == kind && d.how == death.how)
        {
            Some((_, _, engines)) => engines.push(engine),
            None => groups.push((death, kind, vec![engine])),
        }
    }
    if groups.is_empty() {
        return Vec::new();
    }
    groups.sort_by_key(|(death, _, _)| !death.is_breach());
    let fixed = |e: &EngineId| !drawn.contains(e);
    let survivors: Vec<EngineId> = runs
        .iter()
        .filter(|(_, run)| matches!(run, EngineRun::Ran(_)))
        .map(|(engine, _)| engine.clone())
        .filter(fixed)
        .collect();
    groups
        .into_iter()
        .map(|(death, kind, engines)| {
            let witnesses = match (kind, death.call) {
                (FindingKind::Mismatch, Some(call)) => {
                    ended_call(runs, call).into_iter().filter(fixed).collect()
                }
                _ => survivors.clone(),
            };
            let not_drawn: Vec<&EngineId> = engines.iter().copied().filter(|e| fixed(e)).collect();
            let (engines, signed) = if not_drawn.is_empty() {
                let mut signed: Vec<EngineId> =
                    engines.iter().map(|e| swarm::signed_as(e)).collect();
                signed.dedup();
                (engines, signed)
            } else {
                let signed = not_drawn.iter().map(|e| (*e).clone()).collect();
                (not_drawn, signed)
            };
            death_finding(death, kind, &engines, &signed, &witnesses)
        })
        .collect()
}

/// The engines that ran the case and did not run out of fuel or time in
/// call `call`: where an engine without a budget ran on, one whose budget
/// ran out in that call went on too, and witnesses neither an end nor a
/// hang (wasmi's spurious trap in a loop that never ends gives the step
/// to every engine without a budget, and each runs on, rightly).
fn ended_call(runs: &[(EngineId, EngineRun)], call: usize) -> Vec<EngineId> {
    runs.iter()
        .filter(|(_, run)| match run {
            EngineRun::Ran(execution) => !execution
                .calls
                .get(call)
                .is_some_and(|o| matches!(o, Outcome::Trap(TrapKind::OutOfFuel))),
            _ => false,
        })
        .map(|(engine, _)| engine.clone())
        .collect()
}

/// The finding kind of `death` in `engine`: a run that went on past the
/// time limit is a limit escape in an engine with fuel or an epoch
/// deadline (they exist to stop it), and a `mismatch` in one without
/// either, which the matrix only gives steps that an engine with a budget
/// ended (`case::plan::Horizon`).
fn finding_kind_in(death: &Death, engine: &str) -> FindingKind {
    match (death.kind, death.compiling) {
        (DeathKind::Hang, false) if runs_unbudgeted(engine) => FindingKind::Mismatch,
        (DeathKind::Hang, false) => FindingKind::LimitEscape,
        _ => FindingKind::of_death(death),
    }
}

/// What a death of `listed` (engines) is blamed on, and why.
fn death_attribution(kind: FindingKind, listed: &str, party: &str) -> String {
    match kind {
    FindingKind::CompileTime | FindingKind::CompileMemory => blowup_suspect(kind, party),
    FindingKind::Breach => format!(
        "{} reached outside linear memory: suspect {party}",
        listed
    ),
    FindingKind::Mismatch => format!(
        "{} ran on without end where every engine with a budget ended each step it took (no fuel or epochs to stop it): suspect {party}",
        listed
    ),
    FindingKind::LimitEscape => format!(
        "{} ran on past its budget (fuel, or an epoch deadline of {} s per step) until the worker's time limit: suspect {party}",
        listed,
        crate::engine::EPOCH_DEADLINE.as_secs()
    ),
    _ => format!("the worker died in {}: suspect {party}", listed),
    }
}

/// The finding of `engines` dying as `death`, a finding of `kind`
/// ([`finding_kind_in`]), while `survivors` ran the case; its signature
/// names them as `signed` (the swarm's draws by their compiler).
fn death_finding(
    death: &Death,
    kind: FindingKind,
    engines: &[&EngineId],
    signed: &[EngineId],
    survivors: &[EngineId],
) -> Finding {
    let ran_on = matches!(
        kind,
        FindingKind::Hang | FindingKind::LimitEscape | FindingKind::Mismatch
    );
    let names = if ran_on {
        // What hung, not which engines the limit happened to reach: the
        // families, so that one bug is one finding whichever of a
        // family's variants ran into it first.
        let mut families: Vec<String> = engines.iter().map(|e| e.family()).collect();
        families.sort();
        families.dedup();
        families
    } else {
        signed.iter().map(EngineId::to_string).collect()
    };
    let sides = names.clone();
    let names = names.join(",");
    let died: Vec<EngineId> = engines.iter().map(|e| (*e).clone()).collect();
    let listed = died.join(", ");
    let party = death_suspect(&died, survivors);
    let signature = if death.is_breach() {
        // Not necessarily a death: a canary can change in a live process.
        format!("{kind} {} in {names}", death.how)
    } else if kind == FindingKind::Mismatch {
        // Signed like the mismatches of the comparison: what ran on, and
        // who is blamed for it.
        MismatchSignature {
            label: MISMATCH.into(),
            phase: "run".into(),
            sides: vec![SignatureSide {
                engines: sides,
                class: "hang".into(),
            }],
            blame: party.to_string(),
        }
        .to_string()
    } else if kind == FindingKind::LimitEscape {
        format!("{kind} {names} ran on past its fuel or epoch deadline")
    } else if kind == FindingKind::from(death.kind) {
        format!("{kind} worker {} in {names}", death.how)
    } else {
        // Signed like a measured compile blowup.
        format!("{kind} {names}")
    };
    let suspect = death_attribution(kind, &listed, &party);
    let others = match survivors {
        [] => "no other engine ran the case to the end".to_string(),
        _ => format!("ran the case to the end: {}", survivors.join(", ")),
    };
    let what = match (death.is_breach(), death.compiling) {
        (true, _) => "reached outside its sandbox",
        (false, true) => "did not finish compiling",
        (false, false) if ran_on => "ran on until its worker was killed",
        (false, false) => "died running the module",
    };
    Finding {
        signature,
        kind,
        summary: format!(
            "{}\n  {} {what}: {}\n  {}\n  {others}\n",
            kind.as_str().to_uppercase(),
            listed,
            death.how,
            death.detail.replace('\n', "\n  "),
        ),
        suspect: Some(suspect),
        flips: Vec::new(),
    }
}

/// Who the engines that died point at, weighed by implementation family
/// against the engines that ran the case (`judge::attribution::blame`):
/// the configuration they share, a family, or, where the families split
/// evenly, the configuration the dead engines share and the survivors
/// lack, else the dead engines' families. Never a swarm draw's name: its
/// settings vary from case to case, and one bug must keep one signature.
fn death_suspect(died: &[EngineId], survivors: &[EngineId]) -> String {
    let families = || {
        let mut families: Vec<String> = died.iter().map(EngineId::family).collect();
        families.sort();
        families.dedup();
        families.join(" and ")
    };
    let survivors = &hang_witnesses(died, survivors);
    if survivors.is_empty() {
        return families();
    }
    let side = |engines: &[EngineId], class: &str| Side {
        engines: engines.to_vec(),
        observed: class.to_string(),
        class: class.to_string(),
    };
    let blamed = blame(&[side(survivors, "completed"), side(died, "died")]);
    if blamed.parties.is_empty() {
        crate::judge::attribution::shared_configuration(died, survivors).unwrap_or_else(families)
    } else {
        blamed.parties.join(" and ")
    }
}

/// The survivors that tell where engines without a budget that ran on
/// went wrong: where some engine without a budget ended the step too
/// (another family's, another release's), only those and the
/// interpreters. An engine with fuel or an epoch deadline ended the step
/// through the trap exit its checks give every loop, so it cannot say
/// whether the loop ends; without such witnesses, every survivor.
fn hang_witnesses(died: &[EngineId], survivors: &[EngineId]) -> Vec<EngineId> {
    let unbudgeted = |e: &EngineId| runs_unbudgeted(e.as_str());
    if !died.iter().all(unbudgeted) || !survivors.iter().any(unbudgeted) {
        return survivors.to_vec();
    }
    survivors
        .iter()
        .filter(|e| unbudgeted(e) || e.variant().is_none())
        .cloned()
        .collect()
}

/// Every finding of a case, in this order: the deaths of its engines
/// ([`of_deaths`]), its verdict's (with its configuration flips when
/// `flips` is given), later disagreements that blame another party, then
/// its confirmed compile blowups, outliers and slow runs. Cost suspects are
/// measured again before they count. A case in which an engine died gets
/// no flips and no cost checks: both run the engines again in this
/// process, which the dead one would take down again.
pub fn of_case_rerunning_suspects(
    case: &SeedReport,
    matrix: &Matrix,
    cost: &CostEvidence<'_>,
    flips_with: Option<&LibraryConfig>,
) -> Vec<Finding> {
    let verdict = case.report.verdict();
    let deaths = of_deaths(&case.report.runs, &case.report.drawn);
    let died = !deaths.is_empty();
    let flips_with = flips_with.filter(|_| !died);
    let mut found: Vec<Finding> = deaths;
    let drawn = &case.report.drawn;
    let signed = verdict.renamed(|e| drawn.contains(e).then(|| swarm::signed_as(e)));
    found.extend(Finding::of_verdict(&signed).map(|mut finding| {
        if let Some(settings) = flips_with {
            let flipped = flips(
                &case.module.wasm,
                &case.plan,
                verdict,
                &settings.matrix.oracle,
                &settings.matrix.engines,
                &settings.execution,
            );
            finding.flips = flipped.iter().map(Flip::describe).collect();
            finding.flips.extend(smallest_vanishing(&flipped));
        }
        finding
    }));
    // Later disagreements that blame someone else are findings of their own.
    found.extend(
        case.report
            .comparison
            .further
            .iter()
            .filter_map(|m| Finding::of_verdict(&Verdict::Mismatch(m.clone()))),
    );
    if died {
        return found;
    }
    let limits = &cost.limits;
    let wasm = &case.module.wasm;
    let suspect = is_blowup_suspect(&case.report, limits, cost.case_peak_heap);
    // Siblings are measured whenever an engine is over, suspect or not.
    found.extend(
        spanning(matrix, limits, |limits, first| {
            compile_blowups(matrix, wasm, cost, limits, suspect || !first)
        })
        .into_iter()
        .map(Finding::of_blowup),
    );
    if is_release_suspect(&case.report, matrix, limits) {
        found.extend(
            find_release_regressions(matrix, wasm, limits, cost.heap)
                .into_iter()
                .map(Finding::of_blowup),
        );
    }
    if is_slow_suspect(&case.report, limits) {
        found.extend(
            find_slow_runs(matrix, &case.report, wasm, &case.plan, limits)
                .into_iter()
                .map(Finding::of_slow_run),
        );
    }
    // Also where a step ran out of fuel: that is where work fuel does not
    // meter shows.
    if crate::cost::unmetered::is_suspect(&case.report, limits) {
        found.extend(
            crate::cost::unmetered::find_unmetered(matrix, &case.report, wasm, &case.plan, limits)
                .into_iter()
                .map(Finding::of_unmetered),
        );
    }
    found
}

/// The compile blowups of `wasm` against the `[cost]` limits alone (no
/// run distribution to judge outliers by), each named with every engine
/// it spans ([`spread`]): what the `compile_cost` fuzz target stops on,
/// signed as the daemon signs them.
pub fn blowup_findings(
    matrix: &Matrix,
    wasm: &[u8],
    limits: &CostLimits,
    heap: Option<&dyn PeakHeap>,
) -> Vec<Finding> {
    spanning(matrix, limits, |limits, _| {
        find_blowups(matrix, wasm, limits, heap)
    })
    .into_iter()
    .map(Finding::of_blowup)
    .collect()
}

/// The engines whose compile of `wasm` is over `limits` (absolute and
/// oracle-relative, and against their own distribution in the run), one
/// blowup per engine and kind, each confirmed by measuring again. The
/// limits are measured against only when the case made some engine
/// `suspect` (`cost::compile::is_suspect`); outliers always.
fn compile_blowups(
    matrix: &Matrix,
    wasm: &[u8],
    cost: &CostEvidence<'_>,
    limits: &CostLimits,
    suspect: bool,
) -> Vec<Blowup> {
    let mut blowups = Vec::new();
    if suspect {
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
    blowups
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
            EngineRun::Ran(execution) => Some((
                engine.to_string(),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(names: &[&str]) -> Vec<EngineId> {
        names.iter().map(|n| EngineId::parse(n)).collect()
    }

    #[test]
    fn a_hang_of_swarm_draws_keeps_one_suspect_whatever_the_draw_set() {
        // The embedders' default and an unbudgeted Pulley the swarm drew,
        // against the budgeted engines and the interpreter: families
        // split evenly, so the configuration the dead share names them.
        let survivors = ids(&[
            "wasmi",
            "cranelift-tail-explicit",
            "cranelift-notail-signals",
            "cranelift-tail-signals+opt-none",
        ]);
        let suspects: std::collections::BTreeSet<String> = [
            "pulley-tail-signals+nobudget+fixed-memory+no-cow",
            "pulley-tail-signals+nobudget+opt-size+nan-canon",
            "pulley-tail-signals+nobudget+no-spectre",
        ]
        .iter()
        .map(|drawn| death_suspect(&ids(&["wasmtime-default", drawn]), &survivors))
        .collect();
        assert_eq!(suspects.len(), 1, "{suspects:?}");
        let suspect = suspects.into_iter().next().unwrap();
        assert!(!suspect.contains("nobudget"), "{suspect}");
    }

    #[test]
    fn engines_out_of_fuel_in_the_call_of_a_hang_witness_nothing() {
        // wasmi traps (wrongly) in a loop that never ends, every Wasmtime
        // engine with fuel runs out there, and every one without a budget
        // runs on, rightly: wasmi is blamed, not the code without checks.
        use crate::engine::death::{Death, DeathKind};
        let hang = EngineRun::Died(Death {
            kind: DeathKind::Hang,
            how: "ran past its time limit".into(),
            detail: String::new(),
            compiling: false,
            call: Some(0),
        });
        let runs: Vec<(EngineId, EngineRun)> = vec![
            (
                EngineId::parse("wasmi"),
                ran(Outcome::Trap(TrapKind::IntegerDivisionByZero)),
            ),
            (
                EngineId::parse("cranelift-tail-explicit"),
                ran(Outcome::Trap(TrapKind::OutOfFuel)),
            ),
            (EngineId::parse("wasmtime-default"), hang.clone()),
            (
                EngineId::parse("cranelift-tail-signals+opt-none+nobudget"),
                hang.clone(),
            ),
            (EngineId::parse("pulley-tail-signals+nobudget"), hang),
        ];
        let found = of_deaths(&runs, &[]);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(
            found[0].signature.ends_with("=hang blame wasmi"),
            "{}",
            found[0].signature
        );
    }

    #[test]
    fn what_the_swarm_drew_never_changes_a_hangs_signature() {
        // 48's dead-store bug: the default and the Pulley witness run on;
        // the witnesses at opt level none and on Winch, and 51, end. A
        // swarm draw that ends too (its settings avoid the bug) or runs on
        // leaves the signature as it is.
        use crate::engine::death::{Death, DeathKind};
        let linked = crate::engine::id::linked_major();
        let newer = format!("wasmtime-default@{}", linked + 3);
        let hang = EngineRun::Died(Death {
            kind: DeathKind::Hang,
            how: "ran past its time limit".into(),
            detail: String::new(),
            compiling: false,
            call: None,
        });
        let survivors = [
            "wasmi",
            "cranelift-tail-signals+opt-none+nobudget",
            "winch-notail-signals+nobudget",
            newer.as_str(),
        ];
        let signature = |drawn: Option<(&str, EngineRun)>| {
            let mut runs: Vec<(EngineId, EngineRun)> = vec![
                (EngineId::parse("wasmtime-default"), hang.clone()),
                (
                    EngineId::parse("pulley-tail-signals+nobudget"),
                    hang.clone(),
                ),
            ];
            runs.extend(survivors.iter().map(|n| (EngineId::parse(n), ran_ok())));
            let mut drawn_ids = Vec::new();
            if let Some((name, run)) = drawn {
                runs.push((EngineId::parse(name), run));
                drawn_ids.push(EngineId::parse(name));
            }
            of_deaths(&runs, &drawn_ids)[0].signature.clone()
        };
        let alone = signature(None);
        assert!(
            alone.ends_with(&format!(
                "blame Cranelift's optimizer (mid-end) in Wasmtime {linked}, fixed in {}",
                linked + 3
            )),
            "{alone}"
        );
        for (drawn, run) in [
            ("wasmtime-default+no-spectre+guard-0", ran_ok()),
            ("pulley-tail-signals+opt-none+nobudget", ran_ok()),
            ("cranelift-tail-signals+single-pass+nobudget", hang.clone()),
        ] {
            assert_eq!(signature(Some((drawn, run))), alone, "{drawn}");
        }
    }

    /// Winch crashing or refusing under whatever settings the swarm drew
    /// is one finding of Winch, not one per setting; a fixed engine keeps
    /// its own name.
    #[test]
    fn a_drawn_engine_is_signed_by_its_compiler_whatever_the_settings() {
        let crash = EngineRun::Died(Death {
            kind: DeathKind::Crash,
            how: "killed by SIGSEGV".into(),
            detail: String::new(),
            compiling: false,
            call: None,
        });
        let drawn_settings = [
            "winch-notail-signals+nobudget",
            "winch-notail-signals+reserve-64k",
            "winch-notail-signals+no-cow+guard-0",
        ];
        let death_signatures: std::collections::BTreeSet<String> = drawn_settings
            .iter()
            .map(|drawn| {
                let runs = vec![
                    (EngineId::parse("wasmi"), ran_ok()),
                    (EngineId::parse("wasmtime-default"), ran_ok()),
                    (EngineId::parse(drawn), crash.clone()),
                ];
                of_deaths(&runs, &[EngineId::parse(drawn)])[0]
                    .signature
                    .clone()
            })
            .collect();
        assert_eq!(death_signatures.len(), 1, "{death_signatures:?}");
        let only = death_signatures.first().unwrap();
        assert!(only.contains("in wasmtime-swarm[winch]"), "{only}");

        let refusal_signatures: std::collections::BTreeSet<String> = drawn_settings
            .iter()
            .map(|drawn| {
                let verdict = Verdict::UnexpectedRejection {
                    engines: vec![EngineId::parse(drawn)],
                };
                let drawn = [EngineId::parse(drawn)];
                let signed = verdict.renamed(|e| drawn.contains(e).then(|| swarm::signed_as(e)));
                Finding::of_verdict(&signed).unwrap().signature
            })
            .collect();
        assert_eq!(
            refusal_signatures.into_iter().collect::<Vec<_>>(),
            ["rejected-unexpected {wasmtime-swarm[winch]}"]
        );
        let fixed = Verdict::UnexpectedRejection {
            engines: vec![EngineId::parse("winch-notail-signals")],
        };
        let signed = fixed.renamed(|_| None);
        assert_eq!(
            Finding::of_verdict(&signed).unwrap().signature,
            "rejected-unexpected {winch-notail-signals}"
        );
    }

    fn ran_ok() -> EngineRun {
        ran(Outcome::Returned(vec![]))
    }

    /// A run that instantiated and made one call, which gave `call`.
    fn ran(call: Outcome) -> EngineRun {
        use crate::engine::outcome::Execution;
        use std::time::Duration;
        EngineRun::Ran(Execution {
            instantiation: Outcome::Returned(vec![]),
            calls: vec![call],
            state: None,
            compile_time: Duration::ZERO,
            compile_cpu: None,
            code_bytes: None,
            instantiate_time: Duration::ZERO,
            run_time: Duration::ZERO,
            run_cpu: None,
            call_times: vec![Duration::ZERO],
            host_calls: Vec::new(),
            fuel_used: Vec::new(),
        })
    }

    #[test]
    fn a_hang_is_weighed_against_the_engines_without_a_budget_that_ended_the_step() {
        // The embedders' default and the Pulley hang witness ran on; the
        // witnesses at opt level none and on Winch, and the newer release,
        // ended the step without a budget too: the optimizer, in the linked
        // release, fixed in the newer one. The engines with fuel ended it
        // through their checks' trap exit and say nothing of it.
        let linked = crate::engine::id::linked_major();
        let newer = format!("wasmtime-default@{}", linked + 3);
        let survivors = ids(&[
            "wasmi",
            "cranelift-tail-explicit",
            "cranelift-notail-signals",
            "cranelift-tail-signals+opt-none",
            "cranelift-tail-signals+opt-none+nobudget",
            "winch-notail-signals+nobudget",
            &newer,
        ]);
        let died = ids(&["wasmtime-default", "pulley-tail-signals+nobudget"]);
        assert_eq!(
            death_suspect(&died, &survivors),
            format!(
                "Cranelift's optimizer (mid-end) in Wasmtime {linked}, fixed in {}",
                linked + 3
            )
        );
        // Where no engine without a budget ended it, the budget's checks
        // are what the dead engines lack.
        let budgeted_only = &survivors[..4];
        let suspect = death_suspect(&died, budgeted_only);
        assert!(suspect.contains("code compiled without fuel"), "{suspect}");
    }
}
