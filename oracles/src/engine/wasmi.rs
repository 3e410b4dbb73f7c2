//! The wasmi interpreter: the oracle.

use super::drive::{drive, Compiled, HarnessLimiter, LiveInstance};
use super::interface::{comparable_features, Engine, EngineError, ExecutionConfig};
use super::wasmi_imports::to_val;
use crate::case::module_info::{Signature, ValueType};
use crate::case::plan::Plan;
use crate::case::value::{FuncIdentity, Value};
use crate::engine::outcome::{EngineRun, Outcome, TrapKind};
use anyhow::Result;
use std::collections::HashMap;
use wasmi::errors::{ErrorKind, InstantiationError};
use wasmi::{Extern, Func, Instance, Module, Nullable, Ref, Store, TrapCode, Val};
use wasmparser::WasmFeatures;

/// wasmi 2 with every proposal the generator uses, eager translation (so
/// translation errors surface at compile time) and fuel as a backstop.
pub struct WasmiEngine {
    name: String,
    config: wasmi::Config,
    limits: ExecutionConfig,
    lazy: bool,
}

/// wasmi with lazy translation (each function translated at its first
/// call): one setting away from the oracle, for triage.
pub const WASMI_LAZY: &str = "wasmi+lazy";

impl WasmiEngine {
    /// Creates the engine.
    pub fn new(limits: &ExecutionConfig) -> Result<Self> {
        Self::named("wasmi", limits)
    }

    pub(crate) fn named(name: &str, limits: &ExecutionConfig) -> Result<Self> {
        let mut config = wasmi::Config::default();
        config
            .wasm_tail_call(true)
            .wasm_simd(true)
            .wasm_multi_memory(true)
            .wasm_memory64(true)
            .wasm_extended_const(true)
            .wasm_reference_types(true)
            .wasm_bulk_memory(true)
            .wasm_multi_value(true)
            .wasm_relaxed_simd(false)
            .wasm_wide_arithmetic(true)
            .wasm_custom_page_sizes(true)
            .consume_fuel(true)
            .compilation_mode(if name == WASMI_LAZY {
                wasmi::CompilationMode::Lazy
            } else {
                wasmi::CompilationMode::Eager
            })
            .set_max_recursion_depth(limits.wasmi_max_recursion_depth)
            // wasmi panics below its minimum height of 1,000 values.
            .set_max_stack_height(limits.wasmi_max_stack_values.max(1000));
        Ok(WasmiEngine {
            name: name.to_string(),
            config,
            limits: limits.clone(),
            lazy: name == WASMI_LAZY,
        })
    }

    /// A fresh wasmi engine for one case. A wasmi `Engine` keeps the code of
    /// every function it ever translated in an append-only arena until the
    /// engine itself is dropped, so one shared engine grows by ~17 KB per
    /// case, without bound in a long-running worker. A new engine costs
    /// microseconds next to translating the module.
    fn fresh_engine(&self) -> wasmi::Engine {
        wasmi::Engine::new(&self.config)
    }
}

impl Engine for WasmiEngine {
    fn name(&self) -> &str {
        &self.name
    }

    fn settings(&self) -> String {
        format!(
            "wasmi {} ({} translation, max recursion depth {}, max stack height {} values, fuel {})",
            crate::versions::WASMI,
            if self.lazy { "lazy" } else { "eager" },
            self.limits.wasmi_max_recursion_depth,
            self.limits.wasmi_max_stack_values,
            self.limits.fuel
        )
    }

    fn features(&self) -> WasmFeatures {
        comparable_features()
    }

    fn compile(&self, wasm: &[u8]) -> Result<(), EngineError> {
        Module::new(&self.fresh_engine(), wasm)
            .map(drop)
            .map_err(|e| EngineError::Refused(e.to_string()))
    }

    fn execute_observed(&self, wasm: &[u8], plan: &Plan, compiled: &mut dyn FnMut()) -> EngineRun {
        let ((engine, module), compile) = Compiled::measure(|| {
            let engine = self.fresh_engine();
            let module = Module::new(&engine, wasm);
            (engine, module)
        });
        let module = match module {
            Ok(module) => module,
            Err(err) => return EngineRun::Rejected(err.to_string()),
        };
        compiled();
        drive(
            |host| {
                let mut store = Store::new(&engine, HarnessLimiter::new(&self.limits));
                store.limiter(|limiter| limiter as &mut dyn wasmi::ResourceLimiter);
                let fuel = self.limits.step_fuel(plan);
                store.set_fuel(fuel).expect("fuel is enabled");
                let linked = super::wasmi_imports::make(&mut store, &plan.imports, host)
                    .map_err(|err| outcome_of_error(&err, store.data().refused))?;
                let externs = super::wasmi_imports::in_wasmi_order(&module, &linked);
                let instance = Instance::new(&mut store, &module, &externs)
                    .map_err(|err| outcome_of_error(&err, store.data().refused))?;
                Ok(WasmiInstance::new(
                    store,
                    module.clone(),
                    instance,
                    fuel,
                    linked,
                ))
            },
            plan,
            compile,
        )
    }
}

impl wasmi::ResourceLimiter for HarnessLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> Result<bool, wasmi_core::LimiterError> {
        Ok(self.allow_memory(desired))
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> Result<bool, wasmi_core::LimiterError> {
        Ok(self.allow_table(desired))
    }

    fn instances(&self) -> usize {
        // A plan may make two instances over the same imports.
        2
    }

    fn tables(&self) -> usize {
        usize::MAX
    }

    fn memories(&self) -> usize {
        usize::MAX
    }
}

struct WasmiInstance {
    store: Store<HarnessLimiter>,
    module: Module,
    /// The first instance, whose exports are observed.
    instance: Instance,
    /// Further instances of the module over the same imports.
    others: Vec<Instance>,
    fuel: u64,
    /// wasmi's `Func` has no public identity, but its `Debug` form names
    /// its store slot: that is how table entries are matched to exports.
    exported_funcs: HashMap<String, String>,
    /// What the harness linked for the imports, by label.
    linked: Vec<(String, Extern)>,
}

impl WasmiInstance {
    fn new(
        store: Store<HarnessLimiter>,
        module: Module,
        instance: Instance,
        fuel: u64,
        linked: Vec<(String, Extern)>,
    ) -> Self {
        let mut exported_funcs = HashMap::new();
        let exports: Vec<(String, Func)> = instance
            .exports(&store)
            .filter_map(|e| Some((e.name().to_string(), e.into_func()?)))
            .collect();
        for (name, func) in exports {
            exported_funcs.entry(format!("{func:?}")).or_insert(name);
        }
        WasmiInstance {
            store,
            module,
            instance,
            others: Vec::new(),
            fuel,
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
    fn item(&self, name: &str) -> Option<Extern> {
        self.instance.get_export(&self.store, name).or_else(|| {
            let linked = self.linked.iter().find(|(label, _)| label == name);
            linked.map(|(_, e)| *e)
        })
    }

    fn value(&self, val: &Val) -> Value {
        match val {
            Val::I32(v) => Value::I32(*v),
            Val::I64(v) => Value::I64(*v),
            Val::F32(v) => Value::F32(v.to_bits()),
            Val::F64(v) => Value::F64(v.to_bits()),
            Val::V128(v) => Value::V128(v.as_u128()),
            Val::FuncRef(Nullable::Null) => Value::FuncRef(None),
            Val::FuncRef(Nullable::Val(func)) => Value::FuncRef(Some(self.identity(func))),
            Val::ExternRef(r) => Value::ExternRef { null: r.is_null() },
        }
    }

    fn identity(&self, func: &Func) -> FuncIdentity {
        let ty = func.ty(&self.store);
        FuncIdentity {
            export: self.exported_funcs.get(&format!("{func:?}")).cloned(),
            signature: Signature {
                params: ty.params().iter().map(value_type).collect(),
                results: ty.results().iter().map(value_type).collect(),
            }
            .to_string(),
        }
    }
}

impl LiveInstance for WasmiInstance {
    fn instantiate_again(&mut self) -> Result<(), Outcome> {
        let externs = super::wasmi_imports::in_wasmi_order(&self.module, &self.linked);
        let instance = Instance::new(&mut self.store, &self.module, &externs)
            .map_err(|err| outcome_of_error(&err, self.store.data().refused))?;
        self.others.push(instance);
        Ok(())
    }

    fn call(&mut self, instance: usize, export: &str, args: &[Value]) -> Outcome {
        let Some(func) = self.nth(instance).get_func(&self.store, export) else {
            return Outcome::Error(format!("no exported function {export:?}"));
        };
        let params: Vec<Val> = args.iter().map(to_val).collect();
        let mut results: Vec<Val> = func
            .ty(&self.store)
            .results()
            .iter()
            .map(|ty| Val::default_for_ty(*ty))
            .collect();
        self.store.set_fuel(self.fuel).expect("fuel is enabled");
        match func.call(&mut self.store, &params, &mut results) {
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
        Some(self.value(&global.get(&self.store)))
    }

    fn set_global(&mut self, instance: usize, name: &str, value: &Value) -> bool {
        let Some(global) = self.nth(instance).get_global(&self.store, name) else {
            return false;
        };
        global.set(&mut self.store, to_val(value)).is_ok()
    }

    fn table(&mut self, name: &str) -> Option<Vec<Value>> {
        let table = self.item(name)?.into_table()?;
        let size = table.size(&self.store);
        Some(
            (0..size)
                .map(|i| match table.get(&self.store, i) {
                    Some(Ref::Func(Nullable::Val(f))) => Value::FuncRef(Some(self.identity(&f))),
                    Some(Ref::Func(Nullable::Null)) => Value::FuncRef(None),
                    Some(Ref::Extern(r)) => Value::ExternRef { null: r.is_null() },
                    None => unreachable!("index {i} is below the table size {size}"),
                })
                .collect(),
        )
    }
}

fn value_type(ty: &wasmi::ValType) -> ValueType {
    match ty {
        wasmi::ValType::I32 => ValueType::I32,
        wasmi::ValType::I64 => ValueType::I64,
        wasmi::ValType::F32 => ValueType::F32,
        wasmi::ValType::F64 => ValueType::F64,
        wasmi::ValType::V128 => ValueType::V128,
        wasmi::ValType::FuncRef => ValueType::FuncRef,
        wasmi::ValType::ExternRef => ValueType::ExternRef,
    }
}

/// Maps a wasmi error onto the shared outcome set. wasmi reports some
/// instantiation failures as errors that Wasmtime reports as traps.
pub(crate) fn outcome_of_error(err: &wasmi::Error, limiter_refused: bool) -> Outcome {
    if let Some(code) = err.as_trap_code() {
        return match code {
            TrapCode::GrowthOperationLimited | TrapCode::OutOfSystemMemory => {
                Outcome::Limit(err.to_string())
            }
            code => Outcome::Trap(trap_kind(code)),
        };
    }
    match err.kind() {
        ErrorKind::Instantiation(InstantiationError::ElementSegmentDoesNotFit { .. }) => {
            Outcome::Trap(TrapKind::TableOutOfBounds)
        }
        _ if limiter_refused => Outcome::Limit(err.to_string()),
        _ => Outcome::Error(err.to_string()),
    }
}

/// wasmi's trap codes in the shared set.
pub fn trap_kind(code: TrapCode) -> TrapKind {
    match code {
        TrapCode::UnreachableCodeReached => TrapKind::Unreachable,
        TrapCode::MemoryOutOfBounds => TrapKind::MemoryOutOfBounds,
        TrapCode::TableOutOfBounds => TrapKind::TableOutOfBounds,
        TrapCode::IndirectCallToNull => TrapKind::IndirectCallToNull,
        TrapCode::IntegerDivisionByZero => TrapKind::IntegerDivisionByZero,
        TrapCode::IntegerOverflow => TrapKind::IntegerOverflow,
        TrapCode::BadConversionToInteger => TrapKind::BadConversionToInteger,
        TrapCode::StackOverflow => TrapKind::StackOverflow,
        TrapCode::BadSignature => TrapKind::BadSignature,
        TrapCode::OutOfFuel => TrapKind::OutOfFuel,
        TrapCode::GrowthOperationLimited | TrapCode::OutOfSystemMemory => TrapKind::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_wasmi_trap_code_maps() {
        let expected = [
            (TrapCode::UnreachableCodeReached, TrapKind::Unreachable),
            (TrapCode::MemoryOutOfBounds, TrapKind::MemoryOutOfBounds),
            (TrapCode::TableOutOfBounds, TrapKind::TableOutOfBounds),
            (TrapCode::IndirectCallToNull, TrapKind::IndirectCallToNull),
            (
                TrapCode::IntegerDivisionByZero,
                TrapKind::IntegerDivisionByZero,
            ),
            (TrapCode::IntegerOverflow, TrapKind::IntegerOverflow),
            (
                TrapCode::BadConversionToInteger,
                TrapKind::BadConversionToInteger,
            ),
            (TrapCode::StackOverflow, TrapKind::StackOverflow),
            (TrapCode::BadSignature, TrapKind::BadSignature),
            (TrapCode::OutOfFuel, TrapKind::OutOfFuel),
        ];
        for (code, kind) in expected {
            assert_eq!(trap_kind(code), kind, "{code:?}");
        }
        // Growth refusals are harness limits, not traps to compare.
        let err = wasmi::Error::from(TrapCode::GrowthOperationLimited);
        assert!(matches!(outcome_of_error(&err, false), Outcome::Limit(_)));
    }
}
