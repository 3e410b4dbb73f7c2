//! The execution loop shared by the real engines: a plan's calls in order,
//! then the exported state, timed and limited the same way on each.

use super::interface::ExecutionConfig;
use crate::case::imports::Host;
use crate::case::plan::{Horizon, Plan};
use crate::case::value::Value;
use crate::engine::outcome::{EngineRun, Execution, Outcome, Snapshot};
use anyhow::Result;
use std::time::{Duration, Instant};

/// An instantiated module inside one engine's store, as the plan driver
/// sees it. Each engine adapts its own API to this.
pub(crate) trait LiveInstance {
    /// Calls an exported function of instance `instance` (0: the first).
    fn call(&mut self, instance: usize, export: &str, args: &[Value]) -> Outcome;
    /// Makes one more instance of the module in the same store, linking
    /// the same imports (`Plan::instances`).
    fn instantiate_again(&mut self) -> Result<(), Outcome>;
    /// Reads an exported memory.
    fn memory(&mut self, name: &str) -> Option<Vec<u8>>;
    /// Reads an exported global.
    fn global(&mut self, name: &str) -> Option<Value>;
    /// Writes an exported mutable global of instance `instance`; false if
    /// that is not possible.
    fn set_global(&mut self, instance: usize, name: &str, value: &Value) -> bool;
    /// Reads every element of an exported table.
    fn table(&mut self, name: &str) -> Option<Vec<Value>>;
    /// The fuel the last step (instantiation or call) consumed, for an
    /// engine whose fuel counts Wasmtime's way; `None` for the others.
    fn fuel_used(&mut self) -> Option<u64> {
        None
    }
}

/// Runs `plan` the same way on every engine: instantiation outcome, calls in
/// order, then the exported state. `instantiate` links the plan's imports,
/// its host functions answering through the given [`Host`], which logs
/// each step.
pub(crate) fn drive<I: LiveInstance>(
    instantiate: impl FnOnce(&Host) -> Result<I, Outcome>,
    plan: &Plan,
    compiled: Compiled,
) -> EngineRun {
    let host = Host::new(&plan.imports, plan.seed);
    host.begin_step();
    let Compiled {
        time: compile_time,
        cpu: compile_cpu,
        code_bytes,
    } = compiled;
    let start = Instant::now();
    let cpu_start = crate::engine::clock::thread_cpu_time();
    let run_cpu = || crate::engine::clock::cpu_since(cpu_start);
    // An engine without a budget does not instantiate a module whose start
    // function no engine with one ended.
    let instantiated = if plan.horizon == Some(Horizon::Instantiation) {
        Err(Outcome::Withheld)
    } else {
        instantiate(&host).and_then(|mut first| {
            for _ in 1..plan.instances {
                first.instantiate_again()?;
            }
            Ok(first)
        })
    };
    let instantiate_time = start.elapsed();
    let mut fuel_used = Vec::new();
    let (instantiation, (calls, call_times), state) = match instantiated {
        Ok(mut instance) => {
            fuel_used.push(instance.fuel_used());
            let calls = call_all(&mut instance, plan, &host, &mut fuel_used);
            let state = snapshot(&mut instance, plan);
            (Outcome::Returned(Vec::new()), calls, Some(state))
        }
        Err(outcome) => (outcome, (Vec::new(), Vec::new()), None),
    };
    // Only engines that count fuel report it.
    if fuel_used.iter().all(Option::is_none) {
        fuel_used.clear();
    }
    EngineRun::Ran(Execution {
        instantiation,
        calls,
        state,
        compile_time,
        compile_cpu,
        code_bytes,
        instantiate_time,
        run_time: start.elapsed(),
        run_cpu: run_cpu(),
        call_times,
        host_calls: host.logs(),
        fuel_used,
    })
}

/// The plan's calls in order, up to its horizon, each after refuelling
/// the module's counter when the plan says so; and each call's time.
fn call_all<I: LiveInstance>(
    instance: &mut I,
    plan: &Plan,
    host: &Host,
    fuel_used: &mut Vec<Option<u64>>,
) -> (Vec<Outcome>, Vec<Duration>) {
    plan.calls
        .iter()
        .enumerate()
        .map(|(index, call)| {
            host.begin_step();
            if matches!(plan.horizon, Some(Horizon::Call(h)) if index >= h) {
                fuel_used.push(None);
                return (Outcome::Withheld, Duration::ZERO);
            }
            if let Some((global, value)) = &plan.refuel {
                if !instance.set_global(call.instance, global, value) {
                    missing::<()>("mutable global", global);
                }
            }
            super::run_steps::note(super::run_steps::CallStep {
                index,
                export: &call.export,
                budgeted: plan.budgeted_time(index),
            });
            let start = Instant::now();
            let outcome = instance.call(call.instance, &call.export, &call.args);
            let took = start.elapsed();
            fuel_used.push(instance.fuel_used());
            (outcome, took)
        })
        .unzip()
}

/// The exported memories, globals and tables the plan compares.
fn snapshot<I: LiveInstance>(instance: &mut I, plan: &Plan) -> Snapshot {
    Snapshot {
        memories: read_all(&plan.memories, "memory", |n| instance.memory(n)),
        globals: read_all(&plan.globals, "global", |n| instance.global(n)),
        tables: read_all(&plan.tables, "table", |n| instance.table(n)),
    }
}

/// Each export of `names` read with `read`, by name.
fn read_all<T>(
    names: &[String],
    kind: &str,
    mut read: impl FnMut(&str) -> Option<T>,
) -> Vec<(String, T)> {
    names
        .iter()
        .map(|n| (n.clone(), read(n).unwrap_or_else(|| missing(kind, n))))
        .collect()
}

impl Compiled {
    /// Measures `compile` (on the calling thread): wall and CPU time.
    pub(crate) fn measure<T>(compile: impl FnOnce() -> T) -> (T, Compiled) {
        let (result, time, cpu) = crate::engine::clock::timed(compile);
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
