//! Wasmtime variants: their configuration, compile, instantiation and run.
//! Wasmtime's API is called here and in a few more modules only, each for
//! one job: `wasmtime_imports` (host functions and values), `tuning` (the
//! swarm's settings), `canary` (guarded memories) and `observe` (compiles
//! made to read CLIF: `clif`, `opt_levels`). Pointing crosscheck at
//! another Wasmtime release touches nothing else (the architecture test
//! `only_the_modules_that_say_so_call_wasmtime` holds it to that).

use super::canary;
use super::drive::{drive, Compiled, HarnessLimiter, LiveInstance};
use super::faults::memory_sabotage::MemorySabotage;
use super::interface::{
    comparable_features, proposal_features, Capabilities, Engine, EngineError, ExecutionConfig,
    GeneratesCode,
};
use super::tuning::Tuning;
use super::wasmtime_imports::to_val;
use crate::case::module_info::{Signature, ValueType};
use crate::case::plan::Plan;
use crate::case::value::{display_values, FuncIdentity, Value};
use crate::engine::death::{Death, DeathKind};
use crate::engine::outcome::{EngineRun, Outcome, TrapKind};
use anyhow::Result;
use std::collections::HashMap;
use wasmparser::WasmFeatures;
use wasmtime::{
    Config, Extern, Func, Instance, Module, OptLevel, Ref, RegallocAlgorithm, Store, Strategy,
    Trap, Val,
};

/// Which Wasmtime code generator runs the module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// The optimizing Cranelift JIT (opt level `speed`).
    Cranelift,
    /// The single-pass Winch baseline compiler.
    Winch,
    /// Cranelift targeting the Pulley interpreter.
    Pulley,
}

impl Backend {
    /// Whether `message` is a refusal this backend documents: Winch's
    /// instructions, types and CPU feature gaps that it reports as
    /// unimplemented (`winch/codegen/src/codegen/error.rs`), which are an
    /// expected rejection, the module then judged by the other engines.
    /// Its internal errors ("Winch internal error: ...") are not.
    pub fn documents_refusal(self, message: &str) -> bool {
        self == Backend::Winch && WINCH_REFUSALS.iter().any(|r| message.contains(r))
    }
}

/// The refusals Winch documents as its gaps, not bugs.
const WINCH_REFUSALS: [&str; 5] = [
    "Unsupported Wasm type",
    "Unimplemented Wasm instruction",
    "Unimplemented Masm instruction",
    "Instruction not implemented for CPUs without",
    "Unsupported eager initialization of tables",
];

/// One point of the configuration matrix, named `<backend>-<tail>-<stack>`,
/// optionally with Cranelift settings off their defaults appended
/// (`+opt-none`, `+single-pass`): triage flips those one at a time to find
/// the smallest configuration difference that changes the outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WasmtimeVariant {
    /// Code generator.
    pub backend: Backend,
    /// The tail-call proposal (`Config::wasm_tail_call`). Cranelift uses the
    /// tail calling convention either way; this switches validation of
    /// `return_call*`.
    pub tail_calls: bool,
    /// `true`: signals-based traps (guard pages, inline stack probes).
    /// `false`: explicit bounds and stack-limit checks, no guard region.
    pub signals: bool,
    /// Cranelift's opt level `none` instead of `speed`.
    pub opt_none: bool,
    /// Cranelift's single-pass register allocator instead of backtracking.
    pub single_pass: bool,
    /// What stops a call that does not end, and instruments the code for
    /// it.
    pub budget: Budget,
    /// The proposals wasmi lacks on too (`+proposals`): typed function
    /// references, GC, exceptions and relaxed SIMD (deterministic), for
    /// the Wasmtime-only sub-matrix (`[matrix] proposal_engines`).
    pub proposals: bool,
    /// Settings beyond these axes (CPU features, memory layout, verifier,
    /// ...), as the configuration swarm draws them.
    pub tuning: Tuning,
}

/// What a variant's code carries to stop a call that does not end. Both
/// budgets change the code Cranelift generates (a check in every loop
/// header and function entry, which counts as a call that may observe
/// memory), so optimizations embedders get do not fire under them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Budget {
    /// Fuel metering (`consume_fuel`, `[execution] fuel` per step).
    Fuel,
    /// An epoch deadline (`epoch_interruption`, [`EPOCH_DEADLINE`](super::EPOCH_DEADLINE) per
    /// step), `+nofuel`.
    Epoch,
    /// Neither, as `Config::new()` and most embedders run (`+nobudget`; the
    /// embedders' whole default is named [`EMBEDDER_DEFAULT`]). Only the
    /// worker's time limit stops it: the matrix never gives it a step that
    /// no engine with a budget ended (`case::plan::Horizon`).
    None,
}

/// The name of Wasmtime's default configuration as embedders run it
/// (`Config::new()`): Cranelift at opt level speed, tail calls,
/// signals-based traps, and neither fuel nor epochs.
pub const EMBEDDER_DEFAULT: &str = "wasmtime-default";

/// How often the epoch of variants without fuel advances.
pub const EPOCH_TICK: std::time::Duration = std::time::Duration::from_millis(10);

impl WasmtimeVariant {
    /// The variant as this process compiles it. An engine without fuel or
    /// epochs runs only where a supervisor kills its process when it runs
    /// on (`ExecutionConfig::supervised`: the daemon's workers); anywhere
    /// else nothing could stop a step that never ends, so there it gets an
    /// epoch deadline, with the checks that come with it.
    pub fn compiled_as(self, limits: &ExecutionConfig) -> WasmtimeVariant {
        if self.budget == Budget::None && !limits.supervised {
            WasmtimeVariant {
                budget: Budget::Epoch,
                ..self
            }
        } else {
            self
        }
    }

    /// Parses `cranelift-tail-signals` and its siblings, with options.
    pub fn parse(name: &str) -> Option<WasmtimeVariant> {
        let mut options = name.split('+');
        let mut variant = WasmtimeVariant::parse_base(options.next()?)?;
        for option in options {
            match option {
                "opt-none" if !variant.opt_none => variant.opt_none = true,
                "single-pass" if !variant.single_pass => variant.single_pass = true,
                "nofuel" if variant.budget == Budget::Fuel => variant.budget = Budget::Epoch,
                "nobudget" if variant.budget == Budget::Fuel => variant.budget = Budget::None,
                "proposals" if !variant.proposals => variant.proposals = true,
                token if variant.tuning.take(token) => {}
                _ => return None,
            }
        }
        variant.tuning_fits().then_some(variant)
    }

    /// Whether the tuning suits the backend: CPU features are the x86-64
    /// backend's, opt levels Cranelift's, Winch needs lazy tables, and
    /// explicit checks fix the memory layout.
    fn tuning_fits(&self) -> bool {
        let t = &self.tuning;
        (t.cpu_off == 0 || self.backend == Backend::Cranelift)
            && (!t.opt_size || (self.backend != Backend::Winch && !self.opt_none))
            && (!t.eager_tables || self.backend != Backend::Winch)
            && (!t.lays_out_memory() || self.signals)
    }

    fn parse_base(name: &str) -> Option<WasmtimeVariant> {
        if name == EMBEDDER_DEFAULT {
            return Some(WasmtimeVariant::embedder_default());
        }
        let mut parts = name.split('-');
        let backend = match parts.next()? {
            "cranelift" => Backend::Cranelift,
            "winch" => Backend::Winch,
            "pulley" => Backend::Pulley,
            _ => return None,
        };
        let tail_calls = match parts.next()? {
            "tail" => true,
            "notail" => false,
            _ => return None,
        };
        let signals = match parts.next()? {
            "signals" => true,
            "explicit" => false,
            _ => return None,
        };
        parts.next().is_none().then_some(WasmtimeVariant {
            backend,
            tail_calls,
            signals,
            opt_none: false,
            single_pass: false,
            budget: Budget::Fuel,
            proposals: false,
            tuning: Tuning::default(),
        })
    }

    /// Wasmtime's `Config::new()` on the matrix's proposals
    /// ([`EMBEDDER_DEFAULT`]).
    pub fn embedder_default() -> WasmtimeVariant {
        WasmtimeVariant {
            backend: Backend::Cranelift,
            tail_calls: true,
            signals: true,
            opt_none: false,
            single_pass: false,
            budget: Budget::None,
            proposals: false,
            tuning: Tuning::default(),
        }
    }

    /// The proposals this variant accepts.
    pub fn features(&self) -> WasmFeatures {
        let mut features = comparable_features();
        if self.proposals {
            features |= proposal_features();
        }
        if !self.tail_calls {
            features.remove(WasmFeatures::TAIL_CALL);
        }
        if self.backend == Backend::Winch {
            // Winch refuses reference types in value positions (params,
            // results, locals, globals): "gc types are disallowed".
            features.remove(WasmFeatures::GC_TYPES);
        }
        features
    }

    /// The variant's canonical name.
    pub fn name(&self) -> String {
        let tuning: String = self
            .tuning
            .tokens()
            .iter()
            .map(|t| format!("+{t}"))
            .collect();
        let proposals = if self.proposals { "+proposals" } else { "" };
        let plain = WasmtimeVariant {
            proposals: false,
            tuning: Tuning::default(),
            ..*self
        };
        if plain == WasmtimeVariant::embedder_default() {
            return format!("{EMBEDDER_DEFAULT}{tuning}{proposals}");
        }
        let backend = match self.backend {
            Backend::Cranelift => "cranelift",
            Backend::Winch => "winch",
            Backend::Pulley => "pulley",
        };
        let tail = if self.tail_calls { "tail" } else { "notail" };
        let stack = if self.signals { "signals" } else { "explicit" };
        let mut name = format!("{backend}-{tail}-{stack}");
        if self.opt_none {
            name.push_str("+opt-none");
        }
        if self.single_pass {
            name.push_str("+single-pass");
        }
        match self.budget {
            Budget::Fuel => {}
            Budget::Epoch => name.push_str("+nofuel"),
            Budget::None => name.push_str("+nobudget"),
        }
        format!("{name}{tuning}{proposals}")
    }

    /// The variants one setting away (the stack strategy, tail calls, the
    /// budget, the opt level, the register allocator) and those without
    /// each set of the tuning's settings, with what changed and how many
    /// settings that is.
    pub fn neighbours(&self) -> Vec<(String, WasmtimeVariant, usize)> {
        let mut out: Vec<(String, WasmtimeVariant)> = vec![
            (
                if self.signals {
                    "signals-based traps -> explicit checks".to_string()
                } else {
                    "explicit checks -> signals-based traps".to_string()
                },
                WasmtimeVariant {
                    signals: !self.signals,
                    ..*self
                },
            ),
            (
                format!(
                    "tail calls {} -> {}",
                    on_off(self.tail_calls),
                    on_off(!self.tail_calls)
                ),
                WasmtimeVariant {
                    tail_calls: !self.tail_calls,
                    ..*self
                },
            ),
        ];
        // Fuel and epochs swap; a variant without either gains the lighter
        // one, the epoch check.
        let budget = match self.budget {
            Budget::Fuel => Budget::Epoch,
            Budget::Epoch => Budget::Fuel,
            Budget::None => Budget::Epoch,
        };
        out.push((
            format!("{} -> {}", self.budget.describe(), budget.describe()),
            WasmtimeVariant { budget, ..*self },
        ));
        if self.backend == Backend::Cranelift {
            out.push((
                format!(
                    "opt level {} -> {}",
                    if self.opt_none { "none" } else { "speed" },
                    if self.opt_none { "speed" } else { "none" }
                ),
                WasmtimeVariant {
                    opt_none: !self.opt_none,
                    ..*self
                },
            ));
            // Wasmtime 36 has only the backtracking allocator.
            #[cfg(wasmtime_single_pass_regalloc)]
            out.push((
                format!(
                    "register allocator {} -> {}",
                    if self.single_pass {
                        "single-pass"
                    } else {
                        "backtracking"
                    },
                    if self.single_pass {
                        "backtracking"
                    } else {
                        "single-pass"
                    }
                ),
                WasmtimeVariant {
                    single_pass: !self.single_pass,
                    ..*self
                },
            ));
        }
        let mut out: Vec<(String, WasmtimeVariant, usize)> =
            out.into_iter().map(|(c, v)| (c, v, 1)).collect();
        out.extend(
            self.tuning
                .without_subsets()
                .into_iter()
                .map(|(change, tuning, n)| (change, WasmtimeVariant { tuning, ..*self }, n)),
        );
        out
    }

    /// The equivalent `wasmtime run` flags, for reproduction commands.
    pub fn cli_flags(&self, limits: &ExecutionConfig) -> String {
        let mut flags = vec![format!(
            "-W tail-call={}",
            if self.tail_calls { "y" } else { "n" }
        )];
        flags.push(
            "-W multi-memory=y,memory64=y,extended-const=y,wide-arithmetic=y,custom-page-sizes=y"
                .into(),
        );
        if self.proposals {
            flags.push(
                "-W function-references=y,gc=y,exceptions=y,relaxed-simd=y,relaxed-simd-deterministic=y"
                    .into(),
            );
        }
        let opt_level = if self.opt_none {
            "0"
        } else if self.tuning.opt_size {
            "s"
        } else {
            "2"
        };
        match self.backend {
            Backend::Cranelift => {
                flags.push(format!("-C compiler=cranelift -O opt-level={opt_level}"))
            }
            Backend::Winch => flags.push("-C compiler=winch".into()),
            Backend::Pulley => flags.push(format!("--target pulley64 -O opt-level={opt_level}")),
        }
        if self.signals {
            flags.push("-O signals-based-traps=y".into());
        } else {
            flags.push("-O signals-based-traps=n,memory-reservation=0,memory-guard-size=0".into());
        }
        if self.single_pass {
            flags.push("-O regalloc-algorithm=single-pass".into());
        }
        // Fuel instrumentation changes the code; the run line says which.
        match self.budget {
            Budget::Fuel => flags.push(format!("-W fuel={}", limits.fuel)),
            Budget::Epoch => flags.push("-W epoch-interruption=y".into()),
            Budget::None => {}
        }
        flags.extend(self.tuning.cli_flags());
        flags.push(format!("-W max-wasm-stack={}", limits.max_wasm_stack));
        flags.join(" ")
    }

    /// The Wasmtime `Config` for this variant, with `max_wasm_stack` as
    /// Wasmtime's stack limit.
    fn config(&self, max_wasm_stack: usize, canaries: bool) -> Result<Config> {
        let mut config = Config::new();
        config
            .wasm_tail_call(self.tail_calls)
            .wasm_simd(true)
            .wasm_relaxed_simd(false)
            .wasm_multi_memory(true)
            .wasm_memory64(true)
            .wasm_extended_const(true)
            .wasm_reference_types(true)
            .wasm_bulk_memory(true)
            .wasm_multi_value(true)
            .wasm_function_references(false)
            .wasm_gc(false)
            .wasm_exceptions(false)
            .wasm_threads(false)
            .wasm_wide_arithmetic(true)
            .wasm_custom_page_sizes(true)
            .max_wasm_stack(max_wasm_stack)
            // Wasmtime refuses a wasm stack larger than its async stacks,
            // even with async support off.
            .async_stack_size(max_wasm_stack.max(DEFAULT_ASYNC_STACK))
            // Cases run in parallel already; one compile thread per case.
            .parallel_compilation(false)
            .cranelift_opt_level(if self.opt_none {
                OptLevel::None
            } else {
                OptLevel::Speed
            })
            .cranelift_regalloc_algorithm(regalloc(self.single_pass)?)
            .signals_based_traps(self.signals);
        match self.budget {
            Budget::Fuel => {
                config.consume_fuel(true);
                #[cfg(wasmtime_variable_operator_cost)]
                config.operator_cost(fuel_costs_without_variable_parts());
            }
            Budget::Epoch => {
                config.epoch_interruption(true);
            }
            Budget::None => {}
        }
        if self.proposals {
            config
                .wasm_function_references(true)
                .wasm_gc(true)
                .wasm_exceptions(true)
                .wasm_relaxed_simd(true)
                // The same results on every backend: comparable.
                .relaxed_simd_deterministic(true);
        }
        if !self.signals {
            explicit_checks(&mut config, canaries);
        }
        self.tuning.apply(&mut config);
        self.select_backend(&mut config)?;
        Ok(config)
    }

    /// The compiler: Cranelift, Winch, or Cranelift's Pulley backend.
    fn select_backend(&self, config: &mut Config) -> Result<()> {
        match self.backend {
            Backend::Cranelift => {
                config.strategy(Strategy::Cranelift);
            }
            Backend::Winch => {
                config.strategy(Strategy::Winch);
            }
            Backend::Pulley => {
                config
                    .target("pulley64")
                    .map_err(|e| wasmtime_error(e).context("selecting the pulley64 target"))?;
            }
        }
        Ok(())
    }
}

/// Explicit bounds checks: no reservation or guard pages to fault in;
/// with `canaries`, memories in canary-guarded host allocations.
fn explicit_checks(config: &mut Config, canaries: bool) {
    config
        .memory_reservation(0)
        .memory_guard_size(0)
        .memory_reservation_for_growth(0)
        .guard_before_linear_memory(false);
    if canaries {
        // Copy-on-write initialization maps images into Wasmtime's
        // own mmap memories only; data segments are copied instead.
        config
            .with_host_memory(std::sync::Arc::new(super::canary::CanaryCreator::default()))
            .memory_init_cow(false);
    }
}

/// A Wasmtime error as crosscheck's: `wasmtime::Error` is `anyhow::Error`
/// up to Wasmtime 47 and a type of its own from 48 on (convertible only
/// with Wasmtime's `anyhow` feature, which 36 lacks), so it is carried by
/// its message, causes included.
pub(crate) fn wasmtime_error(error: wasmtime::Error) -> anyhow::Error {
    anyhow::anyhow!("{error:#}")
}

/// Compiles `wasm` on `variant` and returns each function's final CLIF
/// (`Config::emit_clif`), for measuring what the optimizer did.
pub fn clif_of_variant(
    variant: &WasmtimeVariant,
    wasm: &[u8],
) -> Result<Vec<crate::observe::clif::ClifFile>> {
    let config = variant.config(ExecutionConfig::default().max_wasm_stack, false)?;
    crate::observe::clif::compile_for_clif(config, wasm)
}

fn on_off(on: bool) -> &'static str {
    if on {
        "on"
    } else {
        "off"
    }
}

/// Wasmtime charges fuel per byte or element of bulk operations before they
/// can fail, where wasmi may fail first: with those variable costs the two
/// engines would disagree about running out of fuel. Flat costs stay.
/// (Releases before 48 have flat costs only.)
#[cfg(wasmtime_variable_operator_cost)]
fn fuel_costs_without_variable_parts() -> wasmtime::OperatorCost {
    let mut cost = wasmtime::OperatorCost::new();
    cost.variable = wasmtime::VariableOperatorCost {
        memory_copy_per_byte: 0,
        memory_fill_per_byte: 0,
        memory_init_per_byte: 0,
        memory_grow_per_page: 0,
        table_copy_per_element: 0,
        table_fill_per_element: 0,
        table_init_per_element: 0,
        table_grow_per_element: 0,
        ..cost.variable
    };
    cost
}

/// [`fuel_costs_without_variable_parts`] with every bulk memory and table
/// operation costing twice as much.
#[cfg(wasmtime_variable_operator_cost)]
fn bulk_charged_twice() -> wasmtime::OperatorCost {
    let mut cost = fuel_costs_without_variable_parts();
    for op in [
        &mut cost.MemoryFill,
        &mut cost.MemoryCopy,
        &mut cost.MemoryInit,
        &mut cost.TableFill,
        &mut cost.TableCopy,
        &mut cost.TableInit,
    ] {
        *op = op.saturating_mul(2).max(2);
    }
    cost
}

/// The register allocator: backtracking, or the single-pass one (from
/// Wasmtime 37 on).
fn regalloc(single_pass: bool) -> Result<RegallocAlgorithm> {
    if !single_pass {
        return Ok(RegallocAlgorithm::Backtracking);
    }
    #[cfg(wasmtime_single_pass_regalloc)]
    return Ok(RegallocAlgorithm::SinglePass);
    #[cfg(not(wasmtime_single_pass_regalloc))]
    anyhow::bail!(
        "the single-pass register allocator (+single-pass) needs Wasmtime 37 or later; this build links {}",
        crate::versions::WASMTIME
    )
}

impl Budget {
    /// In words, for configuration flips.
    fn describe(self) -> &'static str {
        match self {
            Budget::Fuel => "fuel",
            Budget::Epoch => "epoch deadline",
            Budget::None => "no fuel or epochs",
        }
    }
}

/// A store's allowance for the next step, from its variant's [`Budget`]
/// (also the C API engine's, `engine::c_api`).
#[derive(Clone, Copy, Debug)]
pub(crate) enum StoreBudget {
    Fuel(u64),
    /// Epoch ticks per step.
    Epoch(u64),
    Unlimited,
}

impl StoreBudget {
    pub(crate) fn of(
        variant: &WasmtimeVariant,
        limits: &ExecutionConfig,
        plan: &Plan,
    ) -> StoreBudget {
        match variant.budget {
            Budget::Fuel => StoreBudget::Fuel(limits.step_fuel(plan)),
            Budget::Epoch => StoreBudget::Epoch(
                (limits.step_epoch_deadline_ms(plan) / EPOCH_TICK.as_millis() as u64).max(1),
            ),
            Budget::None => StoreBudget::Unlimited,
        }
    }

    /// The fuel the step since the last renewal consumed; `None` without
    /// fuel.
    fn fuel_used(self, store: &Store<HarnessLimiter>) -> Option<u64> {
        match self {
            StoreBudget::Fuel(fuel) => Some(fuel.saturating_sub(store.get_fuel().ok()?)),
            _ => None,
        }
    }

    /// A fresh budget for the next step (instantiation or a call).
    fn renew(self, store: &mut Store<HarnessLimiter>) {
        match self {
            StoreBudget::Fuel(fuel) => store.set_fuel(fuel).expect("fuel is enabled"),
            StoreBudget::Epoch(ticks) => {
                store.set_epoch_deadline(ticks);
                store.epoch_deadline_trap();
            }
            StoreBudget::Unlimited => {}
        }
    }
}

/// Advances the epoch of `engine` every [`EPOCH_TICK`] for as long as the
/// engine lives, on one thread for the whole process.
fn tick_epochs(engine: &wasmtime::Engine) {
    static ENGINES: std::sync::OnceLock<std::sync::Mutex<Vec<wasmtime::EngineWeak>>> =
        std::sync::OnceLock::new();
    let engines = ENGINES.get_or_init(|| {
        std::thread::Builder::new()
            .name("epoch-ticker".into())
            .spawn(|| loop {
                std::thread::sleep(EPOCH_TICK);
                if let Some(engines) = ENGINES.get() {
                    engines.lock().unwrap().retain(|weak| match weak.upgrade() {
                        Some(engine) => {
                            engine.increment_epoch();
                            true
                        }
                        None => false,
                    });
                }
            })
            .expect("starting the epoch ticker");
        std::sync::Mutex::new(Vec::new())
    });
    engines.lock().unwrap().push(engine.weak());
}

/// Wasmtime's default `async_stack_size`.
const DEFAULT_ASYNC_STACK: usize = 2 << 20;

/// Native stack beyond `max_wasm_stack` on the thread that runs wasm: room
/// for the host frames below the first wasm frame and for raising a trap.
/// Small, so that code whose stack check does not fire crashes (a `crash`
/// finding) instead of silently using a large native stack.
pub const NATIVE_STACK_RESERVE: usize = 2 << 20;

/// The `max_wasm_stack` of a variant whose stack check is made unable to
/// fire (`+fault-stack-check`): far beyond the native stack it runs on.
const UNCHECKED_WASM_STACK: usize = 1 << 30;

/// A Wasmtime engine built for one variant; created once and reused.
pub struct WasmtimeEngine {
    name: String,
    variant: WasmtimeVariant,
    engine: wasmtime::Engine,
    limits: ExecutionConfig,
    /// A deliberate access outside linear memory after every call
    /// (`<variant>+sabotage-...`, tests only).
    sabotage: Option<MemorySabotage>,
}

impl WasmtimeEngine {
    /// Creates the engine for `variant`.
    pub fn new(variant: WasmtimeVariant, limits: &ExecutionConfig) -> Result<Self> {
        Self::build(variant, limits, limits.max_wasm_stack, variant.name())
    }

    /// The engine for `variant` under another name (an injected fault that
    /// does not fire for this variant keeps its name).
    pub fn named(variant: WasmtimeVariant, limits: &ExecutionConfig, name: String) -> Result<Self> {
        Self::build(variant, limits, limits.max_wasm_stack, name)
    }

    /// A deliberately wrong engine for testing the harness
    /// (`<variant>+fault-stack-check`): its stack limit is far beyond the
    /// native stack its code runs on, so the stack check never fires and
    /// deep recursion runs off the native stack.
    pub fn without_stack_check(
        name: &str,
        variant: WasmtimeVariant,
        limits: &ExecutionConfig,
    ) -> Result<Self> {
        Self::build(variant, limits, UNCHECKED_WASM_STACK, name.to_string())
    }

    /// A deliberately wrong engine for testing the fuel oracle
    /// (`<variant>+fault-fuel-bulk-twice`): a fuel variant charging every
    /// bulk memory and table operation twice its cost, as a metering bug
    /// that counts one operation twice would; what the module computes is
    /// unchanged.
    pub fn charging_bulk_twice(
        name: &str,
        variant: WasmtimeVariant,
        limits: &ExecutionConfig,
    ) -> Result<Self> {
        if variant.budget != Budget::Fuel {
            anyhow::bail!(
                "the {BULK_FUEL_FAULT} fault needs a variant with fuel, not {:?}",
                variant.name()
            );
        }
        let name = name.to_string();
        let variant = variant.compiled_as(limits);
        #[allow(unused_mut)]
        let mut config = variant.config(limits.max_wasm_stack, limits.canaries)?;
        #[cfg(wasmtime_variable_operator_cost)]
        config.operator_cost(bulk_charged_twice());
        #[cfg(not(wasmtime_variable_operator_cost))]
        anyhow::bail!("the {BULK_FUEL_FAULT} fault needs Wasmtime 48's operator costs");
        #[allow(unreachable_code)]
        Self::from_config(&config, variant, limits, name)
    }

    /// A deliberately wrong engine for testing canaries
    /// (`<variant>+sabotage-<what>`): after every call it reaches past the
    /// end of the first exported memory (`engine::memory_sabotage`). Only
    /// variants with explicit bounds checks, whose memories have canaries.
    pub fn sabotaged(
        name: &str,
        variant: WasmtimeVariant,
        sabotage: MemorySabotage,
        limits: &ExecutionConfig,
    ) -> Result<Self> {
        if variant.signals || !limits.canaries {
            anyhow::bail!(
                "memory sabotage needs a variant with explicit bounds checks and [execution] canaries on, not {:?}",
                variant.name()
            );
        }
        let name = name.to_string();
        let variant = variant.compiled_as(limits);
        let mut config = variant.config(limits.max_wasm_stack, limits.canaries)?;
        if sabotage.overstated_by() > 0 {
            config.with_host_memory(std::sync::Arc::new(
                super::canary::CanaryCreator::overstating(sabotage.overstated_by()),
            ));
        }
        let mut engine = Self::from_config(&config, variant, limits, name)?;
        engine.sabotage = Some(sabotage);
        Ok(engine)
    }

    fn build(
        variant: WasmtimeVariant,
        limits: &ExecutionConfig,
        max_wasm_stack: usize,
        name: String,
    ) -> Result<Self> {
        let variant = variant.compiled_as(limits);
        let config = variant.config(max_wasm_stack, limits.canaries)?;
        Self::from_config(&config, variant, limits, name)
    }

    fn from_config(
        config: &Config,
        variant: WasmtimeVariant,
        limits: &ExecutionConfig,
        name: String,
    ) -> Result<Self> {
        let engine = wasmtime::Engine::new(config).map_err(|e| {
            wasmtime_error(e).context(format!(
                "Wasmtime refused the configuration of engine {name:?}"
            ))
        })?;
        if variant.budget == Budget::Epoch {
            tick_epochs(&engine);
        }
        Ok(WasmtimeEngine {
            name,
            variant,
            engine,
            limits: limits.clone(),
            sabotage: None,
        })
    }

    /// The variant this engine runs.
    pub fn variant(&self) -> WasmtimeVariant {
        self.variant
    }
}

impl GeneratesCode for WasmtimeEngine {
    fn machine_code(&self, wasm: &[u8]) -> Result<Vec<u8>, EngineError> {
        Module::new(&self.engine, wasm)
            .map(|module| module.text().to_vec())
            .map_err(|e| EngineError::Refused(format!("{e:#}")))
    }
}

impl Engine for WasmtimeEngine {
    fn name(&self) -> &str {
        &self.name
    }

    fn settings(&self) -> String {
        format!(
            "wasmtime {} {}",
            crate::versions::WASMTIME,
            self.variant.cli_flags(&self.limits)
        )
    }

    fn features(&self) -> WasmFeatures {
        self.variant.features()
    }

    fn compile(&self, wasm: &[u8]) -> Result<(), EngineError> {
        Module::new(&self.engine, wasm)
            .map(drop)
            .map_err(|e| EngineError::Refused(format!("{e:#}")))
    }

    fn capabilities(&self) -> Capabilities<'_> {
        Capabilities {
            machine_code: Some(self),
            ..Capabilities::default()
        }
    }

    fn execute_observed(&self, wasm: &[u8], plan: &Plan, compiled: &mut dyn FnMut()) -> EngineRun {
        let (module, mut compile) = Compiled::measure(|| Module::new(&self.engine, wasm));
        let module = match module {
            Ok(module) => module,
            Err(err) => return EngineRun::Rejected(format!("{err:#}")),
        };
        compile.code_bytes = Some(module.text().len() as u64);
        compiled();
        let native_stack = self.limits.max_wasm_stack + NATIVE_STACK_RESERVE;
        on_native_stack(native_stack, || {
            let run = drive(
                |host| {
                    let mut store = Store::new(&self.engine, HarnessLimiter::new(&self.limits));
                    if !self.variant.tuning.no_limiter {
                        store.limiter(|limiter| limiter as &mut dyn wasmtime::ResourceLimiter);
                    }
                    let budget = StoreBudget::of(&self.variant, &self.limits, plan);
                    budget.renew(&mut store);
                    let linked = super::wasmtime_imports::make(&mut store, &plan.imports, host)
                        .map_err(|err| outcome_of_error(&err, store.data().refused))?;
                    let externs: Vec<Extern> = linked.iter().map(|(_, e)| e.clone()).collect();
                    let instance = Instance::new(&mut store, &module, &externs);
                    canary::check(|| "instantiation".into());
                    let instance =
                        instance.map_err(|err| outcome_of_error(&err, store.data().refused))?;
                    let mut live =
                        WasmtimeInstance::new(store, module.clone(), instance, budget, linked);
                    live.sabotage = self.sabotage;
                    Ok(live)
                },
                plan,
                compile,
            );
            // Canaries are checked on this thread, where the store lived.
            match canary::take_breach() {
                Some(detail) => EngineRun::Died(Death {
                    kind: DeathKind::Breach,
                    how: "wrote outside linear memory (a canary changed)".into(),
                    detail,
                    compiling: false,
                    call: None,
                }),
                None => run,
            }
        })
    }
}

/// The suffix of the fault that disables Wasmtime's stack check.
pub const STACK_CHECK_FAULT: &str = "stack-check";

/// The suffix of the fault that charges bulk operations twice.
pub const BULK_FUEL_FAULT: &str = "fuel-bulk-twice";

/// Runs `f` on a new thread with `bytes` of native stack; a panic in `f`
/// continues on the calling thread.
pub(crate) fn on_native_stack<T: Send>(bytes: usize, f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("wasm".into())
            .stack_size(bytes)
            .spawn_scoped(scope, f)
            .expect("spawning a thread to run wasm on")
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

impl wasmtime::ResourceLimiter for HarnessLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(self.allow_memory(desired))
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(self.allow_table(desired))
    }
}

struct WasmtimeInstance {
    store: Store<HarnessLimiter>,
    module: Module,
    /// The first instance, whose exports are observed.
    instance: Instance,
    /// Further instances of the module over the same imports.
    others: Vec<Instance>,
    budget: StoreBudget,
    sabotage: Option<MemorySabotage>,
    /// A function's `VMFuncRef` address identifies it within the instance.
    exported_funcs: HashMap<usize, String>,
    /// What the harness linked for the imports, by label.
    linked: Vec<(String, Extern)>,
}

impl WasmtimeInstance {
    fn new(
        mut store: Store<HarnessLimiter>,
        module: Module,
        instance: Instance,
        budget: StoreBudget,
        linked: Vec<(String, Extern)>,
    ) -> Self {
        let funcs: Vec<(String, Func)> = instance
            .exports(&mut store)
            .filter_map(|e| {
                let name = e.name().to_string();
                Some((name, e.into_func()?))
            })
            .collect();
        let mut exported_funcs = HashMap::new();
        for (name, func) in funcs {
            exported_funcs
                .entry(func.to_raw(&mut store) as usize)
                .or_insert(name);
        }
        WasmtimeInstance {
            store,
            module,
            instance,
            others: Vec::new(),
            budget,
            sabotage: None,
            exported_funcs,
            linked,
        }
    }

    /// Instance `index`: the first, or one made by `instantiate_again`.
    fn nth(&self, index: usize) -> Instance {
        index
            .checked_sub(1)
            .map_or(self.instance, |other| self.others[other])
    }

    /// The export `name`, or else the linked import labelled `name`.
    fn item(&mut self, name: &str) -> Option<Extern> {
        self.instance.get_export(&mut self.store, name).or_else(|| {
            let linked = self.linked.iter().find(|(label, _)| label == name);
            linked.map(|(_, e)| e.clone())
        })
    }

    fn value(&mut self, val: &Val) -> Value {
        match val {
            Val::I32(v) => Value::I32(*v),
            Val::I64(v) => Value::I64(*v),
            Val::F32(bits) => Value::F32(*bits),
            Val::F64(bits) => Value::F64(*bits),
            Val::V128(v) => Value::V128(v.as_u128()),
            Val::FuncRef(func) => Value::FuncRef(func.map(|f| self.identity(&f))),
            Val::ExternRef(r) => Value::ExternRef { null: r.is_none() },
            other => Value::ExternRef {
                null: other.ref_().is_none_or(|r| r.is_null()),
            },
        }
    }

    fn identity(&mut self, func: &Func) -> FuncIdentity {
        let ty = func.ty(&self.store);
        FuncIdentity {
            export: self
                .exported_funcs
                .get(&(func.to_raw(&mut self.store) as usize))
                .cloned(),
            signature: Signature {
                params: ty.params().map(|t| value_type(&t)).collect(),
                results: ty.results().map(|t| value_type(&t)).collect(),
            }
            .to_string(),
        }
    }
}

impl WasmtimeInstance {
    /// The deliberate access outside the first exported memory of a
    /// sabotaged variant.
    fn reach_outside(&mut self, sabotage: MemorySabotage) {
        let memory = self
            .instance
            .exports(&mut self.store)
            .find_map(|e| e.into_memory());
        if let Some(memory) = memory {
            let (base, size) = (memory.data_ptr(&self.store), memory.data_size(&self.store));
            // SAFETY: sabotaged engines are canary variants: 4 KiB of
            // canary follow every memory.
            unsafe { sabotage.apply(base, size) }
        }
    }
}

impl LiveInstance for WasmtimeInstance {
    fn fuel_used(&mut self) -> Option<u64> {
        self.budget.fuel_used(&self.store)
    }

    fn instantiate_again(&mut self) -> Result<(), Outcome> {
        let externs: Vec<Extern> = self.linked.iter().map(|(_, e)| e.clone()).collect();
        let instance = Instance::new(&mut self.store, &self.module, &externs);
        canary::check(|| "instantiation".into());
        let instance = instance.map_err(|err| outcome_of_error(&err, self.store.data().refused))?;
        self.others.push(instance);
        Ok(())
    }

    fn call(&mut self, instance: usize, export: &str, args: &[Value]) -> Outcome {
        let Some(func) = self.nth(instance).get_func(&mut self.store, export) else {
            return Outcome::Error(format!("no exported function {export:?}"));
        };
        let params: Vec<Val> = args.iter().map(to_val).collect();
        let mut results: Vec<Val> = func
            .ty(&self.store)
            .results()
            .map(|ty| Val::default_for_ty(&ty).unwrap_or(Val::I32(0)))
            .collect();
        self.budget.renew(&mut self.store);
        let called = func.call(&mut self.store, &params, &mut results);
        if let Some(sabotage) = self.sabotage {
            self.reach_outside(sabotage);
        }
        canary::check(|| format!("call {export:?}{}", display_values(args)));
        match called {
            Ok(()) => Outcome::Returned(results.iter().map(|v| self.value(v)).collect()),
            Err(err) => outcome_of_error(&err, self.store.data().refused),
        }
    }

    fn memory(&mut self, name: &str) -> Option<Vec<u8>> {
        let memory = self.item(name)?.into_memory()?;
        Some(memory.data(&self.store).to_vec())
    }

    fn global(&mut self, name: &str) -> Option<Value> {
        let global = self.item(name)?.into_global()?;
        let val = global.get(&mut self.store);
        Some(self.value(&val))
    }

    fn set_global(&mut self, instance: usize, name: &str, value: &Value) -> bool {
        let Some(global) = self.nth(instance).get_global(&mut self.store, name) else {
            return false;
        };
        global.set(&mut self.store, to_val(value)).is_ok()
    }

    fn table(&mut self, name: &str) -> Option<Vec<Value>> {
        let table = self.item(name)?.into_table()?;
        let size = table.size(&self.store);
        let mut elements = Vec::with_capacity(size as usize);
        for i in 0..size {
            let element = match table.get(&mut self.store, i) {
                Some(Ref::Func(func)) => Value::FuncRef(func.map(|f| self.identity(&f))),
                Some(other) => Value::ExternRef {
                    null: other.is_null(),
                },
                None => unreachable!("index {i} is below the table size {size}"),
            };
            elements.push(element);
        }
        Some(elements)
    }
}

fn value_type(ty: &wasmtime::ValType) -> ValueType {
    match ty {
        wasmtime::ValType::I32 => ValueType::I32,
        wasmtime::ValType::I64 => ValueType::I64,
        wasmtime::ValType::F32 => ValueType::F32,
        wasmtime::ValType::F64 => ValueType::F64,
        wasmtime::ValType::V128 => ValueType::V128,
        wasmtime::ValType::Ref(r) if r.matches(&wasmtime::RefType::FUNCREF) && r.is_nullable() => {
            ValueType::FuncRef
        }
        wasmtime::ValType::Ref(r)
            if r.matches(&wasmtime::RefType::EXTERNREF) && r.is_nullable() =>
        {
            ValueType::ExternRef
        }
        wasmtime::ValType::Ref(_) => ValueType::Unsupported,
    }
}

/// Maps a Wasmtime error onto the shared outcome set.
fn outcome_of_error(err: &wasmtime::Error, limiter_refused: bool) -> Outcome {
    match err.downcast_ref::<Trap>() {
        Some(trap) => Outcome::Trap(trap_kind(*trap)),
        None if limiter_refused => Outcome::Limit(format!("{err:#}")),
        None => Outcome::Error(format!("{err:#}")),
    }
}

/// Wasmtime's traps in the shared set.
pub fn trap_kind(trap: Trap) -> TrapKind {
    match trap {
        Trap::UnreachableCodeReached => TrapKind::Unreachable,
        Trap::MemoryOutOfBounds => TrapKind::MemoryOutOfBounds,
        Trap::TableOutOfBounds => TrapKind::TableOutOfBounds,
        Trap::IndirectCallToNull => TrapKind::IndirectCallToNull,
        Trap::BadSignature => TrapKind::BadSignature,
        Trap::IntegerOverflow => TrapKind::IntegerOverflow,
        Trap::IntegerDivisionByZero => TrapKind::IntegerDivisionByZero,
        Trap::BadConversionToInteger => TrapKind::BadConversionToInteger,
        Trap::StackOverflow => TrapKind::StackOverflow,
        // The epoch deadline stands in for fuel in variants without it.
        Trap::OutOfFuel | Trap::Interrupt => TrapKind::OutOfFuel,
        Trap::NullReference => TrapKind::NullReference,
        Trap::HeapMisaligned => TrapKind::UnalignedAtomic,
        Trap::CastFailure => TrapKind::CastFailure,
        Trap::ArrayOutOfBounds => TrapKind::MemoryOutOfBounds,
        _ => TrapKind::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_winch_s_documented_gaps_are_expected_refusals() {
        let gap = "Compilation error: Unimplemented Wasm instruction";
        assert!(Backend::Winch.documents_refusal(gap));
        assert!(Backend::Winch
            .documents_refusal("Instruction not implemented for CPUs without AVX2 support"));
        assert!(!Backend::Winch
            .documents_refusal("Winch internal error: Expected register to be available"));
        assert!(!Backend::Cranelift.documents_refusal(gap));
        assert!(!Backend::Pulley.documents_refusal(gap));
    }

    #[test]
    fn variant_names_round_trip_and_reject_garbage() {
        for name in crate::engine::known_engine_names() {
            if let Some(v) = WasmtimeVariant::parse(&name) {
                assert_eq!(v.name(), name);
            }
        }
        for bad in [
            "cranelift",
            "cranelift-tail",
            "cranelift-tail-signals-x",
            "llvm-tail-signals",
        ] {
            assert!(WasmtimeVariant::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn every_wasmtime_trap_maps() {
        let expected = [
            (Trap::UnreachableCodeReached, TrapKind::Unreachable),
            (Trap::MemoryOutOfBounds, TrapKind::MemoryOutOfBounds),
            (Trap::TableOutOfBounds, TrapKind::TableOutOfBounds),
            (Trap::IndirectCallToNull, TrapKind::IndirectCallToNull),
            (Trap::BadSignature, TrapKind::BadSignature),
            (Trap::IntegerOverflow, TrapKind::IntegerOverflow),
            (Trap::IntegerDivisionByZero, TrapKind::IntegerDivisionByZero),
            (
                Trap::BadConversionToInteger,
                TrapKind::BadConversionToInteger,
            ),
            (Trap::StackOverflow, TrapKind::StackOverflow),
            (Trap::OutOfFuel, TrapKind::OutOfFuel),
            (Trap::NullReference, TrapKind::NullReference),
            (Trap::HeapMisaligned, TrapKind::UnalignedAtomic),
            (Trap::CastFailure, TrapKind::CastFailure),
            (Trap::Interrupt, TrapKind::OutOfFuel),
        ];
        for (trap, kind) in expected {
            assert_eq!(trap_kind(trap), kind, "{trap:?}");
        }
    }
}
