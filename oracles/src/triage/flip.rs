//! The smallest configuration difference that flips a finding: each engine
//! on the wrong side of a disagreement is run again with one setting
//! changed at a time (the stack strategy, tail calls, Cranelift's opt level
//! and register allocator; wasmi's translation mode), against an engine of
//! the other side. A setting whose change makes the two agree points at the
//! part of the engine that is wrong ("agrees once opt level speed -> none":
//! look at Cranelift's optimizations).

use crate::case::plan::Plan;
use crate::engine::id::EngineId;
use crate::engine::matrix::Matrix;
use crate::engine::{ExecutionConfig, WASMI_LAZY};
use crate::judge::attribution::{suspect, suspected_party};
use crate::judge::verdict::Verdict;

/// One engine run with one setting changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flip {
    /// The engine on the wrong side.
    pub engine: String,
    /// What changed, in words (`opt level speed -> none`).
    pub change: String,
    /// The changed engine's name (`cranelift-tail-signals+opt-none`).
    pub variant: String,
    /// How many settings changed (more than one for a set of the swarm's
    /// drawn settings).
    pub settings: usize,
    /// Whether it then agrees with the other side; `None` when the run
    /// could not tell (the variant refused the module, or the case was
    /// inconclusive).
    pub agrees: Option<bool>,
}

impl Flip {
    /// One line for reports.
    pub fn describe(&self) -> String {
        let outcome = match self.agrees {
            Some(true) => "agrees",
            Some(false) => "still disagrees",
            None => "undecided",
        };
        format!("{} with {}: {outcome}", self.engine, self.change)
    }
}

/// Re-runs `wasm` with `plan` on every one-setting neighbour of each engine
/// on the suspected side of `verdict` (a mismatch or a crash of the matrix
/// `oracle` + `engines`). Empty for other verdicts.
pub fn flips(
    wasm: &[u8],
    plan: &Plan,
    verdict: &Verdict,
    oracle: &str,
    engines: &[String],
    limits: &ExecutionConfig,
) -> Vec<Flip> {
    let Some((wrong, reference)) = sides(verdict, oracle, engines) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for engine in wrong {
        for (change, variant, settings) in neighbours(&engine) {
            let agrees = Matrix::new(&reference, std::slice::from_ref(&variant), limits)
                .ok()
                .and_then(|matrix| match matrix.run(wasm, plan).comparison.verdict {
                    Verdict::Agree => Some(true),
                    Verdict::Mismatch(_) | Verdict::Crash { .. } => Some(false),
                    _ => None,
                });
            out.push(Flip {
                engine: engine.clone(),
                change,
                variant,
                settings,
                agrees,
            });
        }
    }
    out
}

/// The engines to flip and the engine to compare them with. The oracle
/// side is the reference unless the attribution suspects the oracle (it
/// disagrees alone, or with the other wasmi-based engines).
fn sides(verdict: &Verdict, oracle: &str, engines: &[String]) -> Option<(Vec<String>, String)> {
    let attribution = suspect(verdict)?;
    let oracle_suspected = suspected_party(&attribution) == oracle;
    match verdict {
        Verdict::Mismatch(m) => {
            if oracle_suspected {
                let reference = m
                    .sides
                    .iter()
                    .filter(|g| !g.engines.iter().any(|e| e == oracle))
                    .max_by_key(|g| g.engines.len())?
                    .engines
                    .first()?
                    .clone();
                Some((vec![oracle.to_string()], reference.to_string()))
            } else {
                let wrong = m
                    .sides
                    .iter()
                    .filter(|g| !g.engines.iter().any(|e| e == oracle))
                    .flat_map(|g| g.engines.iter().map(EngineId::to_string))
                    .collect();
                Some((wrong, oracle.to_string()))
            }
        }
        Verdict::Crash { engines: crashed } => {
            let wrong: Vec<String> = crashed.iter().map(|(e, _)| e.to_string()).collect();
            let reference = std::iter::once(oracle.to_string())
                .chain(engines.iter().cloned())
                .find(|e| !wrong.contains(e))?;
            Some((wrong, reference))
        }
        _ => None,
    }
}

/// The smallest changes that make the finding vanish: of the flips that
/// agree, every one changing the fewest settings, in words (a bug that
/// needs two of a swarm draw's settings at once vanishes when either goes:
/// both are named; one that either setting brings on vanishes only when
/// both go); `None` when none agrees.
pub fn smallest_vanishing(flips: &[Flip]) -> Option<String> {
    let agreeing = flips.iter().filter(|f| f.agrees == Some(true));
    let fewest = agreeing.clone().map(|f| f.settings).min()?;
    let changes: Vec<String> = agreeing
        .filter(|f| f.settings == fewest)
        .map(|f| format!("{} with {}", f.engine, f.change))
        .collect();
    Some(format!(
        "smallest change that makes it vanish ({fewest} setting{}): {}",
        if fewest == 1 { "" } else { "s" },
        changes.join("; or ")
    ))
}

/// The engines a setting (or a set of drawn settings) away from `engine`,
/// with what changed and how many settings that is.
fn neighbours(engine: &str) -> Vec<(String, String, usize)> {
    if engine == "wasmi" {
        return vec![(
            "translation eager -> lazy".to_string(),
            WASMI_LAZY.to_string(),
            1,
        )];
    }
    // An injected fault stays with every neighbour, as a bug of the
    // build would.
    let id = EngineId::parse(engine);
    match id.variant() {
        Some(variant) => variant
            .neighbours()
            .into_iter()
            .map(|(change, v, settings)| {
                let neighbour = EngineId::new(&v.name(), id.fault(), id.release());
                (change, neighbour.to_string(), settings)
            })
            .collect(),
        None => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::matrix::default_tie_breakers;
    use crate::ModuleInfo;

    /// The verdict of `wat` on wasmi and `engines` (every export called
    /// with seed 0's arguments, or the one `call`), with the default
    /// tie-breakers, and its flips.
    fn flips_of(
        wat: &str,
        engines: &[&str],
        call: Option<(&str, &[&str])>,
    ) -> (Verdict, Vec<Flip>) {
        let wasm = wat::parse_str(wat).unwrap();
        let engines: Vec<String> = engines.iter().map(|s| s.to_string()).collect();
        let limits = ExecutionConfig::default();
        let matrix = Matrix::new("wasmi", &engines, &limits)
            .and_then(|m| m.with_tie_breakers(&default_tie_breakers(), &limits))
            .unwrap();
        let info = ModuleInfo::parse(&wasm).unwrap();
        let plan = match call {
            Some((export, args)) => {
                let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
                Plan::single_call(&info, export, &args).unwrap()
            }
            None => Plan::from_seed(&info, 0, 1),
        };
        let verdict = matrix.run(&wasm, &plan).comparison.verdict;
        let found = flips(&wasm, &plan, &verdict, "wasmi", &engines, &limits);
        (verdict, found)
    }

    #[test]
    fn only_engines_with_settings_are_flipped_and_agreement_yields_nothing() {
        // i64.mul executed as i64.add: the faulty engine is the suspect and
        // has no settings to change.
        let (verdict, found) = flips_of(
            r#"(module (func (export "f") (result i64) i64.const 3 i64.const 5 i64.mul))"#,
            &["wasmi-fault-i64-mul", "cranelift-tail-signals"],
            None,
        );
        assert!(matches!(verdict, Verdict::Mismatch(_)));
        assert!(found.is_empty());
        let (verdict, found) = flips_of(
            r#"(module (func (export "f") (result i32) i32.const 1))"#,
            &["cranelift-tail-signals"],
            None,
        );
        assert_eq!((verdict, found), (Verdict::Agree, Vec::new()));
        let names: Vec<String> = neighbours("cranelift-tail-signals")
            .into_iter()
            .map(|(_, name, _)| name)
            .collect();
        assert_eq!(
            names,
            [
                "cranelift-tail-explicit",
                "cranelift-notail-signals",
                "cranelift-tail-signals+nofuel",
                "cranelift-tail-signals+opt-none",
                "cranelift-tail-signals+single-pass"
            ]
        );
        assert_eq!(neighbours("winch-notail-signals").len(), 3);
    }

    #[test]
    fn a_bug_tied_to_one_of_two_drawn_settings_is_named_by_the_smallest_set() {
        // An i32.add fault that fires only where a CPU feature is off
        // (`engine::swarm::setting_tied_fault`), on a draw of two settings.
        let (verdict, found) = flips_of(
            r#"(module (func (export "f") (param i32 i32) (result i32)
                 local.get 0 local.get 1 i32.add))"#,
            &["wasmtime-default+verifier+no-sse41+fault-cpu-add"],
            Some(("f", &["3", "5"])),
        );
        assert!(matches!(verdict, Verdict::Mismatch(_)), "{verdict:?}");
        let sets: Vec<(usize, Option<bool>)> = found
            .iter()
            .filter(|f| f.change.contains("Wasmtime's default"))
            .map(|f| (f.settings, f.agrees))
            .collect();
        assert_eq!(sets.len(), 3, "{found:#?}");
        assert!(sets.contains(&(2, Some(true))), "{found:#?}");
        let smallest = smallest_vanishing(&found).unwrap();
        assert!(
            smallest.starts_with("smallest change that makes it vanish (1 setting)"),
            "{smallest}"
        );
        assert!(
            smallest.contains("SSE4.1") || smallest.contains("sse41"),
            "{smallest}"
        );
        assert!(!smallest.contains("debug verifier"), "{smallest}");
    }

    #[test]
    fn a_bug_that_needs_two_drawn_settings_is_named_by_both() {
        // An i32.add fault that fires only with a memory reservation and
        // memories that may not move, both at once
        // (`engine::swarm::setting_tied_fault`): undoing either makes it
        // vanish, so triage names each as a smallest change.
        let (verdict, found) = flips_of(
            r#"(module (func (export "f") (param i32 i32) (result i32)
                 local.get 0 local.get 1 i32.add))"#,
            &[
                "wasmtime-default+reserve-1m+fixed-memory+fault-layout-add",
                "wasmtime-default",
            ],
            Some(("f", &["3", "5"])),
        );
        assert!(matches!(verdict, Verdict::Mismatch(_)), "{verdict:?}");
        let smallest = smallest_vanishing(&found).unwrap();
        assert!(
            smallest.starts_with("smallest change that makes it vanish (1 setting)")
                && smallest.contains("; or "),
            "{smallest}"
        );
        assert!(
            smallest.contains("reservation") && smallest.contains("move"),
            "{smallest}"
        );
        // Against the same configuration without them, the attribution
        // names both settings as suspects.
        let Verdict::Mismatch(m) = &verdict else {
            unreachable!()
        };
        let blamed = m.blame.join(" and ");
        assert!(
            blamed.contains("one or more of")
                && blamed.contains("reservation")
                && blamed.contains("never moves"),
            "{blamed}"
        );
    }

    #[test]
    fn every_smallest_set_that_makes_a_finding_vanish_is_named() {
        let flip = |change: &str, settings: usize, agrees: bool| Flip {
            engine: "wasmtime-default+reserve-1m+fixed-memory".into(),
            change: change.into(),
            variant: String::new(),
            settings,
            agrees: Some(agrees),
        };
        // A bug needing both settings: either change makes it vanish.
        let both = [
            flip("reservation -> default", 1, true),
            flip("fixed -> default", 1, true),
            flip("reservation and fixed -> default", 2, true),
        ];
        let named = smallest_vanishing(&both).unwrap();
        assert!(
            named.contains("(1 setting)")
                && named.contains("reservation -> default")
                && named.contains("; or ")
                && named.contains("fixed -> default"),
            "{named}"
        );
        // A bug either setting brings on: only the pair makes it vanish.
        let either = [
            flip("reservation -> default", 1, false),
            flip("fixed -> default", 1, false),
            flip("reservation and fixed -> default", 2, true),
        ];
        let named = smallest_vanishing(&either).unwrap();
        assert!(
            named.contains("(2 settings)") && named.contains("reservation and fixed"),
            "{named}"
        );
        assert_eq!(smallest_vanishing(&either[..2]), None);
    }

    #[test]
    fn a_suspected_oracle_is_flipped_against_the_majority() {
        // wasmi's select/eqz bug (corpus/wasmi-select-eqz.wat): lazy
        // translation uses the same translator, so it still disagrees.
        let (_, found) = flips_of(
            r#"(module (func (export "f") (param i32 i32) (result i32)
                (select (i32.const 1) (local.get 1) (i32.eqz (local.get 0)))))"#,
            &["cranelift-tail-signals", "cranelift-notail-explicit"],
            Some(("f", &["3", "5"])),
        );
        assert_eq!(
            found,
            [Flip {
                engine: "wasmi".into(),
                change: "translation eager -> lazy".into(),
                variant: "wasmi+lazy".into(),
                settings: 1,
                agrees: Some(false),
            }]
        );
        assert_eq!(
            found[0].describe(),
            "wasmi with translation eager -> lazy: still disagrees"
        );
    }

    #[test]
    fn a_translator_panic_goes_away_with_lazy_translation() {
        // corpus/wasmi-store-translate-panic.wat: wasmi panics translating a
        // function nobody calls; translated lazily, it never is.
        crate::engine::panics::install_hook();
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../corpus/wasmi-store-translate-panic.wat"
        );
        let (verdict, found) = flips_of(
            &std::fs::read_to_string(path).unwrap(),
            &["cranelift-tail-signals"],
            None,
        );
        assert!(matches!(verdict, Verdict::Crash { .. }), "{verdict}");
        let lines: Vec<String> = found.iter().map(Flip::describe).collect();
        assert_eq!(lines, ["wasmi with translation eager -> lazy: agrees"]);
    }
}
