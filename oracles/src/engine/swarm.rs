//! The configuration swarm: one engine of the matrix whose Wasmtime
//! configuration is drawn anew for every case from the case's seed, as
//! Wasmtime's own fuzzers draw theirs: the compiler (Cranelift, Winch,
//! Pulley) and one to three settings off their defaults (opt level,
//! register allocator, stack strategy, x86-64 CPU features, memory
//! reservation, guard and mobility, inlining, table and image
//! initialization, Cranelift's verifier, Spectre mitigations, the resource
//! limiter). Four fixed variants never test these. Most cases change one
//! setting, so that a disagreement of the drawn engine alone is blamed on
//! that setting and its signature is one of a few dozen engine names; a
//! quarter change two and a tenth three, because some bugs need two
//! settings at once (a memory reservation and a memory that may not move),
//! and triage's flips name the smallest set that makes a finding vanish
//! (`triage::flip`).
//!
//! A drawn configuration is an ordinary engine name
//! (`wasmtime-default+no-sse41`): reports, family
//! attribution, flips and reproduction use that name, and a finding's
//! module re-run with its seed (reproduction, shrinking) draws the same
//! configuration again. The drawn engine has neither fuel nor epochs, as
//! embedders run Wasmtime: the matrix runs it only on the steps an engine
//! with a budget ended.

use super::faults::faulty::{Fault, FaultyEngine};
use super::id::EngineId;
use super::interface::{Capabilities, DrawsPerCase, Engine, EngineError, ExecutionConfig};
use super::tuning::{Tuning, CPU_FEATURES, CPU_LEVELS};
use super::wasmtime::{Backend, Budget, WasmtimeEngine, WasmtimeVariant};
use crate::case::plan::Plan;
use crate::engine::outcome::EngineRun;
use anyhow::{bail, Context, Result};
use arbitrary::Unstructured;
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use sha2::{Digest, Sha256};
use wasmparser::WasmFeatures;

/// The swarm's name in `[matrix] engines`.
pub const SWARM: &str = "wasmtime-swarm";

/// How many draws a case may take to find a configuration no fixed engine
/// of the matrix already runs.
const ATTEMPTS: u32 = 8;

/// The configuration drawn for `seed` (the `attempt`-th draw): always
/// without fuel or epochs.
pub fn draw(seed: u64, attempt: u32) -> WasmtimeVariant {
    let bytes = stream(seed, attempt);
    let mut u = Unstructured::new(&bytes);
    // 256 bytes are far more than a draw takes; running dry keeps what was
    // drawn so far.
    let mut variant = WasmtimeVariant::embedder_default();
    let _ = draw_into(&mut u, &mut variant);
    variant
}

/// The configuration drawn for `seed` that is none of `taken` (the fixed
/// engines' names) and accepts `wasm` (Winch refuses tail calls and
/// reference-typed values: drawn again rather than losing the case);
/// `None` if every attempt failed.
pub fn draw_avoiding(seed: u64, taken: &[&str], wasm: &[u8]) -> Option<WasmtimeVariant> {
    (0..ATTEMPTS).map(|attempt| draw(seed, attempt)).find(|v| {
        !taken.contains(&v.name().as_str())
            && crate::case::module_info::validates_with(wasm, v.features())
            && !(v.tuning.nan_canon && converts_float_width(wasm))
    })
}

/// Whether `wasm` promotes or demotes floats: wasm-smith's NaN
/// canonicalization leaves those conversions' NaN payloads as the engine
/// makes them, which Cranelift's NaN canonicalization (`+nan-canon`)
/// changes, a difference the specification allows; such modules draw
/// again.
fn converts_float_width(wasm: &[u8]) -> bool {
    crate::case::instructions::histogram(wasm).is_ok_and(|counts| {
        FLOAT_WIDTH_CONVERSIONS
            .iter()
            .any(|n| counts.contains_key(n))
    })
}

/// The instructions that promote or demote floats, as
/// `case::instructions` names them.
const FLOAT_WIDTH_CONVERSIONS: [&str; 4] = [
    "f32.demote_f64",
    "f64.promote_f32",
    "f32x4.demote_f64x2_zero",
    "f64x2.promote_low_f32x4",
];

/// One setting the swarm changes in a case, besides the compiler.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Twist {
    /// The compiler alone (Winch, Pulley without a budget).
    Nothing,
    OptNone,
    OptSize,
    SinglePass,
    /// Explicit checks (Pulley; Cranelift's are in the fixed matrix).
    Explicit,
    Cpu,
    Reservation,
    Guard,
    NoGuardBefore,
    FixedMemory,
    NoCow,
    EagerTables,
    Verifier,
    Inline,
    NoSpectre,
    NoLimiter,
    NanCanon,
}

impl Twist {
    const ALL: [Twist; 17] = [
        Twist::Nothing,
        Twist::OptNone,
        Twist::OptSize,
        Twist::SinglePass,
        Twist::Explicit,
        Twist::Cpu,
        Twist::Reservation,
        Twist::Guard,
        Twist::NoGuardBefore,
        Twist::FixedMemory,
        Twist::NoCow,
        Twist::EagerTables,
        Twist::Verifier,
        Twist::Inline,
        Twist::NoSpectre,
        Twist::NoLimiter,
        Twist::NanCanon,
    ];

    fn suits(self, backend: Backend) -> bool {
        let compiles_clif = backend != Backend::Winch;
        match self {
            Twist::Nothing => backend != Backend::Cranelift,
            Twist::Explicit => backend == Backend::Pulley,
            Twist::Cpu => backend == Backend::Cranelift,
            Twist::SinglePass => compiles_clif && cfg!(wasmtime_single_pass_regalloc),
            // Winch requires lazy table initialization.
            Twist::OptNone
            | Twist::OptSize
            | Twist::EagerTables
            | Twist::Verifier
            | Twist::Inline
            | Twist::NoSpectre
            | Twist::NanCanon => compiles_clif,
            Twist::Reservation
            | Twist::Guard
            | Twist::NoGuardBefore
            | Twist::FixedMemory
            | Twist::NoCow
            | Twist::NoLimiter => true,
        }
    }

    fn apply(self, u: &mut Unstructured<'_>, v: &mut WasmtimeVariant) -> arbitrary::Result<()> {
        let t = &mut v.tuning;
        match self {
            Twist::Nothing => {}
            Twist::OptNone => v.opt_none = true,
            Twist::OptSize => t.opt_size = true,
            Twist::SinglePass => v.single_pass = true,
            Twist::Explicit => v.signals = false,
            Twist::Cpu => {
                let choice = u.choose_index(CPU_LEVELS.len() + CPU_FEATURES.len())?;
                t.cpu_off = match CPU_LEVELS.get(choice) {
                    Some((_, mask)) => *mask,
                    None => 1 << (choice - CPU_LEVELS.len()),
                };
            }
            Twist::Reservation => {
                t.reservation = Some(*u.choose(&[0, 64 << 10, 1 << 20, 16 << 20])?);
            }
            Twist::Guard => t.guard = Some(*u.choose(&[0, 64 << 10, 2 << 30])?),
            Twist::NoGuardBefore => t.no_guard_before = true,
            Twist::FixedMemory => t.fixed_memory = true,
            Twist::NoCow => t.no_cow = true,
            Twist::EagerTables => t.eager_tables = true,
            Twist::Verifier => t.verifier = true,
            Twist::Inline => t.inlining = true,
            Twist::NoSpectre => t.no_spectre = true,
            Twist::NoLimiter => t.no_limiter = true,
            Twist::NanCanon => t.nan_canon = true,
        }
        Ok(())
    }
}

/// The smallest reservation a memory that may not move gets: it grows
/// only within its reservation, and generated memories stay within 1 MiB
/// (`[generator] max_memory_pages`), so a smaller one would make growth
/// fail where the other engines grow, a difference the specification
/// allows.
const FIXED_RESERVATION: u64 = 1 << 20;

fn draw_into(u: &mut Unstructured<'_>, v: &mut WasmtimeVariant) -> arbitrary::Result<()> {
    v.backend = match u.int_in_range(0..=19u8)? {
        0..=2 => Backend::Winch,
        3..=4 => Backend::Pulley,
        _ => Backend::Cranelift,
    };
    // Winch supports neither the tail-call proposal nor explicit checks.
    v.tail_calls = v.backend != Backend::Winch;
    v.budget = Budget::None;
    let mut twists: Vec<Twist> = Twist::ALL
        .into_iter()
        .filter(|t| t.suits(v.backend))
        .collect();
    let count = match u.int_in_range(0..=19u8)? {
        0..=12 => 1,
        13..=17 => 2,
        _ => 3,
    };
    if count == 1 {
        return u.choose(&twists)?.apply(u, v);
    }
    twists.retain(|t| *t != Twist::Nothing);
    for _ in 0..count {
        if twists.is_empty() {
            break;
        }
        let twist = twists.swap_remove(u.choose_index(twists.len())?);
        let before = *v;
        twist.apply(u, v)?;
        // A combination Wasmtime refuses (memory layout with explicit
        // checks, opt level size at opt level none) is left out.
        if WasmtimeVariant::parse(&v.name()) != Some(*v) {
            *v = before;
        }
    }
    let t = &mut v.tuning;
    if t.fixed_memory && t.reservation.is_some_and(|r| r < FIXED_RESERVATION) {
        t.reservation = Some(FIXED_RESERVATION);
    }
    Ok(())
}

/// How a finding names an engine the swarm drew: by the swarm and its
/// compiler (`wasmtime-swarm[winch]`), so that one bug of a compiler hit
/// under whatever settings the swarm drew is one finding; triage's flips
/// name the settings that matter.
pub fn signed_as(drawn: &EngineId) -> EngineId {
    EngineId::parse(&format!("{SWARM}[{}]", drawn.family()))
}

/// What a drawn configuration (by its name) sets, one label per setting,
/// for counting which settings really ran: its compiler (`cranelift`,
/// `winch`, `pulley`), `explicit` checks, `opt-none`, `single-pass`, and
/// its tuning's tokens (`opt-size`, `no-sse41`, `x86-64-v2`, ...).
pub fn settings_of(name: &str) -> Vec<String> {
    let Some(v) = WasmtimeVariant::parse(name) else {
        return Vec::new();
    };
    let backend = match v.backend {
        Backend::Cranelift => "cranelift",
        Backend::Winch => "winch",
        Backend::Pulley => "pulley",
    };
    let mut labels = vec![backend.to_string()];
    for (on, label) in [
        (!v.signals, "explicit"),
        (v.opt_none, "opt-none"),
        (v.single_pass, "single-pass"),
    ] {
        if on {
            labels.push(label.to_string());
        }
    }
    labels.extend(v.tuning.tokens());
    labels
}

/// The bytes a draw is made from: ChaCha8 keyed by a SHA-256 of the seed
/// and the attempt, apart from every other stream drawn from the seed.
fn stream(seed: u64, attempt: u32) -> Vec<u8> {
    let mut key = Sha256::new();
    key.update(b"configuration swarm");
    key.update(seed.to_le_bytes());
    key.update(attempt.to_le_bytes());
    let mut rng = ChaCha8Rng::from_seed(key.finalize().into());
    let mut bytes = vec![0u8; 256];
    rng.fill_bytes(&mut bytes);
    bytes
}

pub use super::id::{CPU_TIED_FAULT, LAYOUT_TIED_FAULT};

/// The engine `name`: Cranelift variant `base` with the fault `tied`
/// names (`cpu-<fault>`, `layout-<fault>`) where its settings are those
/// the fault needs (a CPU feature off; a memory reservation and memories
/// that may not move), without it otherwise.
pub fn setting_tied_fault(
    name: &str,
    base: &str,
    tied: &str,
    limits: &ExecutionConfig,
) -> Result<Box<dyn Engine>> {
    type Needs = fn(&Tuning) -> bool;
    let (suffix, needs): (&str, Needs) = if let Some(s) = tied.strip_prefix(CPU_TIED_FAULT) {
        (s, |t| t.cpu_off != 0)
    } else if let Some(s) = tied.strip_prefix(LAYOUT_TIED_FAULT) {
        (s, |t| t.reservation.is_some() && t.fixed_memory)
    } else {
        bail!("engine {name:?}: {tied:?} is tied to no setting ({CPU_TIED_FAULT}<fault>, {LAYOUT_TIED_FAULT}<fault>)")
    };
    let fault = Fault::from_suffix(suffix)
        .with_context(|| format!("unknown fault {suffix:?} in engine {name:?}"))?;
    let variant = WasmtimeVariant::parse(base)
        .with_context(|| format!("engine {name:?}: {base:?} is not a Wasmtime variant"))?;
    let engine = WasmtimeEngine::named(variant, limits, name.to_string())?;
    // It stands for a bug of Cranelift's: a draw of Winch or Pulley runs
    // without it.
    Ok(
        if variant.backend == Backend::Cranelift && needs(&variant.tuning) {
            Box::new(FaultyEngine::named(
                fault,
                Box::new(engine),
                name.to_string(),
            ))
        } else {
            Box::new(engine)
        },
    )
}

/// The swarm as an engine of the matrix: the matrix asks it for the
/// case's engine ([`Engine::drawn_for`]) and runs that under its own name.
pub struct SwarmEngine {
    name: String,
    limits: ExecutionConfig,
    /// A fault every drawn engine carries (`wasmtime-swarm+fault-<x>`, for
    /// testing; `cpu-<x>` fires only where the draw turned a CPU feature
    /// off).
    fault: Option<String>,
}

impl SwarmEngine {
    /// The swarm with the matrix's limits, its drawn engines carrying
    /// `fault` (`cpu-<fault>`, [`CPU_TIED_FAULT`]; `layout-<fault>`,
    /// [`LAYOUT_TIED_FAULT`]) if given.
    pub fn new(limits: &ExecutionConfig, fault: Option<String>) -> Result<SwarmEngine> {
        if let Some(fault) = &fault {
            let known = [CPU_TIED_FAULT, LAYOUT_TIED_FAULT]
                .iter()
                .filter_map(|tie| fault.strip_prefix(tie))
                .any(|suffix| Fault::from_suffix(suffix).is_some());
            if !known {
                let tied = |prefix: &str| EngineId::new(SWARM, Some(&format!("{prefix}add")), None);
                bail!(
                    "the swarm carries only faults tied to its settings ({}, {}), not {fault:?}",
                    tied(CPU_TIED_FAULT),
                    tied(LAYOUT_TIED_FAULT)
                );
            }
        }
        let name = EngineId::new(SWARM, fault.as_deref(), None).to_string();
        Ok(SwarmEngine {
            name,
            limits: limits.clone(),
            fault,
        })
    }

    fn build(&self, variant: WasmtimeVariant) -> Result<Box<dyn Engine>, EngineError> {
        let engine: Result<Box<dyn Engine>> = match &self.fault {
            Some(fault) => {
                let name = EngineId::new(&variant.name(), Some(fault), None);
                setting_tied_fault(&name, &variant.name(), fault, &self.limits)
            }
            None => WasmtimeEngine::new(variant, &self.limits).map(|e| Box::new(e) as _),
        };
        engine.map_err(|e| EngineError::Unavailable(format!("{e:#}")))
    }
}

impl DrawsPerCase for SwarmEngine {
    fn drawn_for(
        &self,
        wasm: &[u8],
        plan: &Plan,
        taken: &[&str],
    ) -> Option<Result<Box<dyn Engine>, EngineError>> {
        Some(self.build(draw_avoiding(plan.seed, taken, wasm)?))
    }
}

impl Engine for SwarmEngine {
    fn name(&self) -> &str {
        &self.name
    }

    fn settings(&self) -> String {
        "a Wasmtime configuration drawn from each case's seed".into()
    }

    fn features(&self) -> WasmFeatures {
        super::interface::comparable_features()
    }

    fn compile(&self, wasm: &[u8]) -> Result<(), EngineError> {
        self.build(draw(0, 0))?.compile(wasm)
    }

    fn capabilities(&self) -> Capabilities<'_> {
        Capabilities {
            draws: Some(self),
            ..Capabilities::default()
        }
    }

    fn execute_observed(&self, wasm: &[u8], plan: &Plan, compiled: &mut dyn FnMut()) -> EngineRun {
        match self.build(draw(plan.seed, 0)) {
            Ok(engine) => engine.execute_observed(wasm, plan, compiled),
            Err(error) => EngineRun::Crashed(format!("building the drawn configuration: {error}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_deterministic_varied_and_named_again() {
        let mut names = std::collections::BTreeSet::new();
        for seed in 0..300 {
            let variant = draw(seed, 0);
            assert_eq!(variant, draw(seed, 0));
            assert_eq!(variant.budget, Budget::None);
            assert_eq!(
                WasmtimeVariant::parse(&variant.name()),
                Some(variant),
                "{}",
                variant.name()
            );
            names.insert(variant.name());
        }
        assert!(names.len() > 40, "only {} distinct draws", names.len());
        let tokens = names
            .iter()
            .flat_map(|n| n.split('+').skip(1))
            .collect::<String>();
        for token in [
            "winch",
            "pulley",
            "opt-none",
            "opt-size",
            "verifier",
            "inline",
            "x86-64-v",
            "no-",
            "reserve-",
            "guard-",
            "eager-tables",
            "no-cow",
            "no-spectre",
            "no-limiter",
            "nan-canon",
        ] {
            assert!(
                tokens.contains(token) || names.iter().any(|n| n.starts_with(token)),
                "no draw has {token}"
            );
        }
    }

    #[test]
    fn nan_canonicalization_is_not_drawn_for_modules_that_promote_or_demote() {
        let promotes = wat::parse_str(
            "(module (func (export \"p\") (param f32) (result f64) local.get 0 f64.promote_f32))",
        )
        .unwrap();
        let adds = wat::parse_str(
            "(module (func (export \"a\") (param f32) (result f32) local.get 0 local.get 0 f32.add))",
        )
        .unwrap();
        assert!(converts_float_width(&promotes));
        assert!(!converts_float_width(&adds));
        let known: Vec<&str> = crate::case::instructions::catalogue()
            .iter()
            .map(|i| i.name.as_str())
            .collect();
        for name in FLOAT_WIDTH_CONVERSIONS {
            assert!(known.contains(&name), "{name} is no instruction's name");
        }
        let canonicalizing = (0..2000)
            .filter(|&seed| draw(seed, 0).tuning.nan_canon)
            .collect::<Vec<_>>();
        assert!(!canonicalizing.is_empty());
        for seed in canonicalizing {
            assert!(draw_avoiding(seed, &[], &adds).is_some_and(|v| v.tuning.nan_canon));
            assert!(draw_avoiding(seed, &[], &promotes).is_some_and(|v| !v.tuning.nan_canon));
        }
    }

    #[test]
    fn a_cranelift_draw_is_the_embedders_default_with_one_to_three_settings_changed() {
        let mut per_count = [0; 4];
        let mut fixed_with_reservation = 0;
        for seed in 0..1000 {
            let variant = draw(seed, 0);
            if variant.backend == Backend::Cranelift {
                let changed = settings_of(&variant.name()).len() - 1;
                assert!((1..=3).contains(&changed), "{}", variant.name());
                per_count[changed] += 1;
                assert!(
                    variant.name().starts_with("wasmtime-default+")
                        || variant.opt_none
                        || variant.single_pass,
                    "{}",
                    variant.name()
                );
            }
            let t = variant.tuning;
            if t.fixed_memory {
                assert!(
                    t.reservation.is_none_or(|r| r >= FIXED_RESERVATION),
                    "{}",
                    variant.name()
                );
                fixed_with_reservation += t.reservation.is_some() as u32;
            }
        }
        let [_, one, two, three] = per_count;
        assert!(one > two && two > three && three > 0, "{per_count:?}");
        assert!(
            fixed_with_reservation > 0,
            "a reservation never meets a memory that may not move"
        );
    }

    #[test]
    fn every_draw_builds_and_avoids_the_fixed_engines() {
        let limits = ExecutionConfig::default();
        let taken = ["wasmtime-default", "winch-notail-signals+nobudget"];
        let empty = wat::parse_str("(module)").unwrap();
        for seed in 0..120 {
            let variant = draw_avoiding(seed, &taken, &empty).expect("a free draw");
            assert!(!taken.contains(&variant.name().as_str()));
            WasmtimeEngine::new(variant, &limits)
                .unwrap_or_else(|e| panic!("{}: {e:#}", variant.name()));
        }
    }
}
