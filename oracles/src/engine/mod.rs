//! Engines behind one trait: the wasmi oracle, Wasmtime variants, and
//! deliberately faulty variants for testing the harness itself.

mod faulty;
mod sabotage;
mod wasmi;
mod wasmtime;

pub use self::faulty::{Fault, FaultyEngine};
pub use self::sabotage::{Sabotage, SabotagedEngine};
pub use self::wasmi::{WasmiEngine, WASMI_LAZY};
pub use self::wasmtime::{Backend, WasmtimeEngine, WasmtimeVariant};

use crate::outcome::{EngineRun, Execution, Outcome, Snapshot};
use crate::plan::Plan;
use crate::value::Value;
use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};
use wasmparser::WasmFeatures;

/// A WebAssembly engine the matrix can run a case on.
pub trait Engine: Send + Sync {
    /// The name used in the config and in every report.
    fn name(&self) -> &str;

    /// Human-readable settings, e.g. the Wasmtime flags, for reproduction.
    fn settings(&self) -> String;

    /// The proposals this engine accepts: a module that is invalid under
    /// these and rejected by the engine is an *expected* rejection.
    fn features(&self) -> WasmFeatures;

    /// Only compiles (or translates) the module; for benchmarks.
    fn compile(&self, wasm: &[u8]) -> Result<(), String>;

    /// Compiles, instantiates and runs the plan on one fresh instance.
    fn execute(&self, wasm: &[u8], plan: &Plan) -> EngineRun {
        self.execute_observed(wasm, plan, &mut || {})
    }

    /// Like [`Engine::execute`], calling `compiled` when compiling is over
    /// and running begins: a watcher of a process that hangs or runs out of
    /// memory inside the engine can tell a compile blowup from a runaway
    /// run.
    fn execute_observed(&self, wasm: &[u8], plan: &Plan, compiled: &mut dyn FnMut()) -> EngineRun;
}

/// Per-case execution limits shared by every engine (`[execution]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExecutionConfig {
    /// Backstop engine fuel per call; generated modules terminate through
    /// `ensure_termination` long before. Running out is inconclusive.
    pub fuel: u64,
    /// How many times each exported function is called.
    pub calls_per_export: usize,
    /// Largest linear memory an instance may have or grow to, in bytes.
    pub max_memory_bytes: usize,
    /// Largest table an instance may have or grow to, in elements.
    pub max_table_elements: usize,
    /// Wasmtime's `max_wasm_stack`, in bytes.
    pub max_wasm_stack: usize,
    /// wasmi's maximum call depth.
    pub wasmi_max_recursion_depth: usize,
}

impl Default for ExecutionConfig {
    fn default() -> Self {
        ExecutionConfig {
            fuel: 50_000_000,
            calls_per_export: 2,
            max_memory_bytes: 64 << 20,
            max_table_elements: 100_000,
            max_wasm_stack: 512 << 10,
            wasmi_max_recursion_depth: 16384,
        }
    }
}

/// The proposals the generator may use and every default engine supports:
/// Wasm 2.0 plus tail calls, extended-const, multi-memory and memory64.
pub fn comparable_features() -> WasmFeatures {
    WasmFeatures::WASM2
        | WasmFeatures::TAIL_CALL
        | WasmFeatures::EXTENDED_CONST
        | WasmFeatures::MULTI_MEMORY
        | WasmFeatures::MEMORY64
}

/// The engine names `build_engine` understands, for help and error texts.
pub fn known_engine_names() -> Vec<String> {
    let mut names = vec!["wasmi".to_string(), WASMI_LAZY.to_string()];
    for backend in ["cranelift", "pulley"] {
        for tail in ["tail", "notail"] {
            for stack in ["signals", "explicit"] {
                names.push(format!("{backend}-{tail}-{stack}"));
            }
        }
    }
    // Winch supports neither the tail-call proposal nor explicit checks.
    names.push("winch-notail-signals".to_string());
    names.extend(Fault::ALL.iter().map(|f| f.engine_name()));
    names.extend(Sabotage::ALL.iter().map(|s| s.engine_name()));
    names
}

/// Builds the engine called `name` (see [`known_engine_names`]).
pub fn build_engine(name: &str, limits: &ExecutionConfig) -> Result<Box<dyn Engine>> {
    if name == "wasmi" || name == WASMI_LAZY {
        return Ok(Box::new(WasmiEngine::named(name, limits)?));
    }
    if let Some(fault) = Fault::ALL.iter().find(|f| f.engine_name() == name) {
        return Ok(Box::new(FaultyEngine::new(*fault, limits)?));
    }
    if let Some(sabotage) = Sabotage::ALL.iter().find(|s| s.engine_name() == name) {
        return Ok(Box::new(SabotagedEngine::new(*sabotage, limits)?));
    }
    if let Some(variant) = WasmtimeVariant::parse(name) {
        return Ok(Box::new(WasmtimeEngine::new(variant, limits)?));
    }
    bail!(
        "unknown engine {name:?}; known engines: {} (a Cranelift variant may add +opt-none and +single-pass)",
        known_engine_names().join(", ")
    )
}

/// An instantiated module inside one engine's store, as the plan driver
/// sees it. Each engine adapts its own API to this.
pub(crate) trait LiveInstance {
    /// Calls an exported function.
    fn call(&mut self, export: &str, args: &[Value]) -> Outcome;
    /// Reads an exported memory.
    fn memory(&mut self, name: &str) -> Option<Vec<u8>>;
    /// Reads an exported global.
    fn global(&mut self, name: &str) -> Option<Value>;
    /// Writes an exported mutable global; false if that is not possible.
    fn set_global(&mut self, name: &str, value: &Value) -> bool;
    /// Reads every element of an exported table.
    fn table(&mut self, name: &str) -> Option<Vec<Value>>;
}

/// Runs `plan` the same way on every engine: instantiation outcome, calls in
/// order, then the exported state.
pub(crate) fn drive<I: LiveInstance>(
    instantiate: impl FnOnce() -> Result<I, Outcome>,
    plan: &Plan,
    compiled: Compiled,
) -> EngineRun {
    let Compiled {
        time: compile_time,
        cpu: compile_cpu,
        code_bytes,
    } = compiled;
    let start = Instant::now();
    let cpu_start = crate::compile_cost::thread_cpu_time();
    let run_cpu = || crate::compile_cost::cpu_since(cpu_start);
    let mut instance = match instantiate() {
        Ok(instance) => instance,
        Err(outcome) => {
            return EngineRun::Ran(Execution {
                instantiation: outcome,
                calls: Vec::new(),
                state: None,
                compile_time,
                compile_cpu,
                code_bytes,
                run_time: start.elapsed(),
                run_cpu: run_cpu(),
            })
        }
    };
    let calls = plan
        .calls
        .iter()
        .map(|call| {
            if let Some((global, value)) = &plan.refuel {
                if !instance.set_global(global, value) {
                    missing::<()>("mutable global", global);
                }
            }
            instance.call(&call.export, &call.args)
        })
        .collect();
    let state = Snapshot {
        memories: plan
            .memories
            .iter()
            .map(|n| {
                (
                    n.clone(),
                    instance.memory(n).unwrap_or_else(|| missing("memory", n)),
                )
            })
            .collect(),
        globals: plan
            .globals
            .iter()
            .map(|n| {
                (
                    n.clone(),
                    instance.global(n).unwrap_or_else(|| missing("global", n)),
                )
            })
            .collect(),
        tables: plan
            .tables
            .iter()
            .map(|n| {
                (
                    n.clone(),
                    instance.table(n).unwrap_or_else(|| missing("table", n)),
                )
            })
            .collect(),
    };
    EngineRun::Ran(Execution {
        instantiation: Outcome::Returned(Vec::new()),
        calls,
        state: Some(state),
        compile_time,
        compile_cpu,
        code_bytes,
        run_time: start.elapsed(),
        run_cpu: run_cpu(),
    })
}

impl Compiled {
    /// Measures `compile` (on the calling thread): wall and CPU time.
    pub(crate) fn measure<T>(compile: impl FnOnce() -> T) -> (T, Compiled) {
        let (result, time, cpu) = crate::compile_cost::timed(compile);
        (
            result,
            Compiled {
                time,
                cpu,
                code_bytes: None,
            },
        )
    }
}

/// What an engine's compile of a module measured.
pub(crate) struct Compiled {
    /// Wall time.
    pub(crate) time: Duration,
    /// CPU time of the compiling thread, when measured.
    pub(crate) cpu: Option<Duration>,
    /// Size of the generated machine code, for engines that generate it.
    pub(crate) code_bytes: Option<u64>,
}

/// The plan is derived from the module's exports, so every name it observes
/// exists in every engine's instance.
fn missing<T>(kind: &str, name: &str) -> T {
    panic!("plan names {kind} {name:?} that the instance does not export")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_engine_names_are_refused_with_the_list() {
        let err = build_engine("cranelift-fast", &ExecutionConfig::default())
            .err()
            .unwrap();
        let text = err.to_string();
        assert!(text.contains("unknown engine \"cranelift-fast\""), "{text}");
        assert!(text.contains("cranelift-tail-signals"), "{text}");
    }

    #[test]
    fn every_known_name_builds() {
        for name in known_engine_names() {
            let engine = build_engine(&name, &ExecutionConfig::default())
                .unwrap_or_else(|e| panic!("{name}: {e:#}"));
            assert_eq!(engine.name(), name);
        }
    }
}

/// Store data enforcing `[execution]` memory and table limits the same way in
/// every engine, and remembering whether it refused anything so that a
/// resulting failure is reported as a limit, not as engine behaviour.
#[derive(Debug)]
pub(crate) struct HarnessLimiter {
    pub(crate) max_memory_bytes: usize,
    pub(crate) max_table_elements: usize,
    pub(crate) refused: bool,
}

impl HarnessLimiter {
    pub(crate) fn new(limits: &ExecutionConfig) -> Self {
        HarnessLimiter {
            max_memory_bytes: limits.max_memory_bytes,
            max_table_elements: limits.max_table_elements,
            refused: false,
        }
    }

    pub(crate) fn allow_memory(&mut self, desired: usize) -> bool {
        let ok = desired <= self.max_memory_bytes;
        self.refused |= !ok;
        ok
    }

    pub(crate) fn allow_table(&mut self, desired: usize) -> bool {
        let ok = desired <= self.max_table_elements;
        self.refused |= !ok;
        ok
    }
}
