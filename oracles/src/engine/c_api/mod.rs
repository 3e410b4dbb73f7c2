//! Engines of a Wasmtime release run through its C API: the
//! `libwasmtime.so` Wasmtime publishes for a release (the one inside the
//! release's `wasmtime` wheel on PyPI, `engine::c_api::wheel`), loaded at
//! run time in the child process that serves the engine
//! (`crosscheck serve-engine --library`).
//!
//! This is how crosscheck runs releases it cannot build: Wasmtime 48.0.11
//! and 49 to 51 need crates the registry here lacks. The library is
//! Wasmtime's own release build (Cranelift, Winch and Pulley included), so
//! the code under test is the code embedders load. A variant is configured
//! through the C API exactly as [`WasmtimeVariant`] configures the linked
//! crate; what the C API cannot set (the swarm's settings, canary memories,
//! injected faults) is refused by name.
//!
//! In: a release's `libwasmtime.so` and version, a variant's name, a
//! module's bytes and its call plan. Out: the engine's
//! [`EngineRun`], like every engine's.

mod ffi;
mod imports;
pub mod pinned;

use self::ffi::{extern_kind, kind, valtype, Api, Extern, Func, Opaque, Val};
use self::imports::to_val;
use super::drive::{drive, Compiled, LiveInstance};
use super::interface::{Capabilities, Engine, EngineError, ExecutionConfig, MeasuresCompiles};
use super::tuning::Tuning;
use super::wasmtime::NATIVE_STACK_RESERVE;
use super::wasmtime::{on_native_stack, Backend, Budget, StoreBudget, WasmtimeVariant, EPOCH_TICK};
use crate::case::imports::{Host, Linked};
use crate::case::module_info::{Signature, ValueType};
use crate::case::plan::Plan;
use crate::case::value::{FuncIdentity, Value};
use crate::engine::clock::CompileCost;
use crate::engine::outcome::{EngineRun, Outcome, TrapKind};
use anyhow::{bail, Result};
use std::collections::HashMap;
use std::ffi::CString;
use std::path::Path;
use std::sync::Arc;
use wasmparser::WasmFeatures;

/// A pointer the C API documents as usable from any thread
/// (`wasm_engine_t`, `wasmtime_module_t`).
#[derive(Clone, Copy)]
struct Shared(*mut Opaque);
// SAFETY: Wasmtime's engines and modules are `Send + Sync`; the C API
// hands out pointers to them.
unsafe impl Send for Shared {}
// SAFETY: as above.
unsafe impl Sync for Shared {}

impl Shared {
    /// The pointer (a method, so that closures capture the `Send` whole).
    fn get(self) -> *mut Opaque {
        self.0
    }
}

/// One variant on a release's C API library.
pub struct CApiEngine {
    name: String,
    variant: WasmtimeVariant,
    api: Arc<Api>,
    /// Deleted when the engine is dropped.
    engine: Shared,
    version: String,
    limits: ExecutionConfig,
    /// One `wasm_valtype_t` of each type a plan's values have.
    types: Vec<(ValueType, Shared)>,
}

impl CApiEngine {
    /// Loads `library` (Wasmtime `version`'s C API) and builds `variant`
    /// (without the swarm's settings or a fault), called `name`.
    pub fn open(
        library: &Path,
        version: &str,
        variant: &str,
        limits: &ExecutionConfig,
        name: &str,
    ) -> Result<CApiEngine> {
        let Some(variant) = WasmtimeVariant::parse(variant) else {
            bail!(
                "engine {variant:?} is not a Wasmtime variant that the C API of Wasmtime {version} can run (faults and sabotage act on the linked release only)"
            );
        };
        let variant = variant.compiled_as(limits);
        if variant.tuning != Tuning::default() {
            bail!(
                "engine {name:?}: the configuration swarm's settings are applied to the linked release only, not through the C API of Wasmtime {version}"
            );
        }
        let api = Api::open(library, version)?;
        let engine = configure(&api, &variant, limits)?;
        if variant.budget == Budget::Epoch {
            tick_epochs(Arc::clone(&api), engine);
        }
        let types = value_types(&api);
        Ok(CApiEngine {
            name: name.to_string(),
            variant,
            api,
            engine,
            version: version.to_string(),
            limits: limits.clone(),
            types,
        })
    }

    fn new_module(&self, wasm: &[u8]) -> Result<Module<'_>, String> {
        let mut module = std::ptr::null_mut();
        // SAFETY: `wasm` outlives the call; `module` is written on success.
        let error = unsafe {
            (self.api.wasmtime_module_new)(self.engine.0, wasm.as_ptr(), wasm.len(), &mut module)
        };
        if !error.is_null() {
            return Err(self.api.take_error(error));
        }
        Ok(Module {
            api: &self.api,
            module: Shared(module),
        })
    }

    /// A store with the harness's limits and a module instantiated in it.
    fn instantiate(
        &self,
        module: &Module<'_>,
        plan: &Plan,
        host: &Host,
    ) -> Result<CApiInstance<'_>, Outcome> {
        let linked = &plan.imports;
        let api = &*self.api;
        // SAFETY: a live engine; the store is deleted by `CApiInstance`.
        let store = unsafe { (api.wasmtime_store_new)(self.engine.0, std::ptr::null_mut(), None) };
        // SAFETY: a live store.
        let context = unsafe { (api.wasmtime_store_context)(store) };
        let limited = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        // SAFETY: a live store; negative counts keep Wasmtime's defaults.
        unsafe {
            (api.wasmtime_store_limiter)(
                store,
                limited(self.limits.max_memory_bytes),
                limited(self.limits.max_table_elements),
                -1,
                -1,
                -1,
            )
        };
        let mut live = CApiInstance {
            api,
            types: &self.types,
            store,
            context,
            module: module.module.0,
            instance: ffi::Instance {
                store_id: 0,
                private: 0,
            },
            others: Vec::new(),
            budget: StoreBudget::of(&self.variant, &self.limits, plan),
            exported_funcs: HashMap::new(),
            linked: Vec::new(),
        };
        live.renew_budget();
        live.linked = imports::make(api, context, linked, host).map_err(|error| {
            live.failure(error, std::ptr::null_mut())
                .expect("an error is a failure")
        })?;
        live.instance = live.new_instance()?;
        live.index_exported_funcs();
        Ok(live)
    }
}

/// Why a release run through its C API refuses a module importing a 64-bit
/// table: the C API's table types have 32-bit limits, so it sits out such
/// cases (an expected refusal).
const NO_TABLE64_IMPORTS: &str =
    "the C API cannot make the 64-bit table the module imports (its table types have 32-bit limits)";

/// Builds the engine of `variant` through the C API's configuration.
fn configure(api: &Api, variant: &WasmtimeVariant, limits: &ExecutionConfig) -> Result<Shared> {
    // SAFETY: every setter takes the config this call created; the engine
    // takes it over.
    unsafe {
        let config = (api.wasm_config_new)();
        let on = |set: unsafe extern "C" fn(*mut Opaque, bool), value: bool| set(config, value);
        on(api.wasmtime_config_wasm_tail_call_set, variant.tail_calls);
        on(api.wasmtime_config_wasm_simd_set, true);
        on(api.wasmtime_config_wasm_multi_memory_set, true);
        on(api.wasmtime_config_wasm_memory64_set, true);
        on(api.wasmtime_config_wasm_reference_types_set, true);
        on(api.wasmtime_config_wasm_bulk_memory_set, true);
        on(api.wasmtime_config_wasm_multi_value_set, true);
        on(api.wasmtime_config_wasm_threads_set, false);
        on(api.wasmtime_config_wasm_wide_arithmetic_set, true);
        on(api.wasmtime_config_wasm_custom_page_sizes_set, true);
        on(
            api.wasmtime_config_wasm_function_references_set,
            variant.proposals,
        );
        on(api.wasmtime_config_wasm_gc_set, variant.proposals);
        on(api.wasmtime_config_wasm_exceptions_set, variant.proposals);
        on(api.wasmtime_config_wasm_relaxed_simd_set, variant.proposals);
        on(
            api.wasmtime_config_wasm_relaxed_simd_deterministic_set,
            variant.proposals,
        );
        on(api.wasmtime_config_parallel_compilation_set, false);
        on(api.wasmtime_config_signals_based_traps_set, variant.signals);
        on(
            api.wasmtime_config_consume_fuel_set,
            variant.budget == Budget::Fuel,
        );
        on(
            api.wasmtime_config_epoch_interruption_set,
            variant.budget == Budget::Epoch,
        );
        (api.wasmtime_config_max_wasm_stack_set)(config, limits.max_wasm_stack);
        if !variant.signals {
            (api.wasmtime_config_memory_reservation_set)(config, 0);
            (api.wasmtime_config_memory_guard_size_set)(config, 0);
            (api.wasmtime_config_memory_reservation_for_growth_set)(config, 0);
        }
        // wasmtime_opt_level_t: none 0, speed 1; wasmtime_regalloc_algorithm_t:
        // backtracking 0, single pass 1.
        (api.wasmtime_config_cranelift_opt_level_set)(config, u8::from(!variant.opt_none));
        (api.wasmtime_config_cranelift_regalloc_algorithm_set)(
            config,
            u8::from(variant.single_pass),
        );
        match variant.backend {
            // wasmtime_strategy_t: cranelift 1, winch 2.
            Backend::Cranelift => (api.wasmtime_config_strategy_set)(config, 1),
            Backend::Winch => (api.wasmtime_config_strategy_set)(config, 2),
            Backend::Pulley => {
                let target = CString::new("pulley64").expect("no NUL");
                let error = (api.wasmtime_config_target_set)(config, target.as_ptr());
                if !error.is_null() {
                    bail!("selecting the pulley64 target: {}", api.take_error(error));
                }
            }
        }
        let engine = (api.wasm_engine_new_with_config)(config);
        if engine.is_null() {
            bail!(
                "Wasmtime's C API refused the configuration of {:?}",
                variant.name()
            );
        }
        Ok(Shared(engine))
    }
}

/// A `wasm_valtype_t` of each value type, deleted with the engine.
fn value_types(api: &Api) -> Vec<(ValueType, Shared)> {
    // SAFETY: constructors without preconditions.
    unsafe {
        vec![
            (ValueType::I32, Shared((api.wasm_valtype_new)(valtype::I32))),
            (ValueType::I64, Shared((api.wasm_valtype_new)(valtype::I64))),
            (ValueType::F32, Shared((api.wasm_valtype_new)(valtype::F32))),
            (ValueType::F64, Shared((api.wasm_valtype_new)(valtype::F64))),
            (ValueType::V128, Shared((api.wasmtime_wasm_valtype_v128)())),
            (
                ValueType::FuncRef,
                Shared((api.wasm_valtype_new)(valtype::FUNCREF)),
            ),
            (
                ValueType::ExternRef,
                Shared((api.wasm_valtype_new)(valtype::EXTERNREF)),
            ),
        ]
    }
}

/// The engines whose epoch advances, each with the library it belongs to.
type Ticking = Vec<(Arc<Api>, Shared)>;

/// Advances `engine`'s epoch every [`EPOCH_TICK`] until it is dropped, on
/// one thread for the whole process.
fn tick_epochs(api: Arc<Api>, engine: Shared) {
    ticking()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((api, engine));
}

/// The engines the ticker advances, the ticker started on first use.
fn ticking() -> &'static std::sync::Mutex<Ticking> {
    static TICKING: std::sync::OnceLock<std::sync::Mutex<Ticking>> = std::sync::OnceLock::new();
    TICKING.get_or_init(|| {
        std::thread::Builder::new()
            .name("c-api-epoch-ticker".into())
            .spawn(|| loop {
                std::thread::sleep(EPOCH_TICK);
                let engines = ticking().lock().unwrap_or_else(|e| e.into_inner());
                for (api, engine) in engines.iter() {
                    // SAFETY: an engine is taken off this list before it
                    // is deleted, under the same lock.
                    unsafe { (api.wasmtime_engine_increment_epoch)(engine.get()) };
                }
            })
            .expect("starting the epoch ticker");
        std::sync::Mutex::new(Vec::new())
    })
}

impl Drop for CApiEngine {
    fn drop(&mut self) {
        ticking()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(_, engine)| engine.get() != self.engine.get());
        // SAFETY: created by `wasm_engine_new_with_config` and
        // `wasm_valtype_new`; modules and stores live only within one call
        // of this engine, and the ticker let go of it above.
        unsafe {
            for (_, ty) in &self.types {
                (self.api.wasm_valtype_delete)(ty.get());
            }
            (self.api.wasm_engine_delete)(self.engine.get());
        }
    }
}

/// A compiled module, deleted when dropped.
struct Module<'a> {
    api: &'a Api,
    module: Shared,
}

impl Drop for Module<'_> {
    fn drop(&mut self) {
        // SAFETY: created by `wasmtime_module_new`, deleted once.
        unsafe { (self.api.wasmtime_module_delete)(self.module.0) };
    }
}

/// An instance in its own store.
struct CApiInstance<'a> {
    api: &'a Api,
    types: &'a [(ValueType, Shared)],
    store: *mut Opaque,
    context: *mut Opaque,
    /// The module instantiated: the engine's `Module`, which outlives
    /// this store's run (`CApiEngine::execute_observed`).
    module: *mut Opaque,
    /// The first instance, whose exports are observed.
    instance: ffi::Instance,
    /// Further instances of the module over the same imports.
    others: Vec<ffi::Instance>,
    budget: StoreBudget,
    /// A function's raw pointer identifies it within the instance.
    exported_funcs: HashMap<usize, String>,
    /// What the harness linked for the imports, by label.
    linked: Vec<(String, Extern)>,
}

impl Drop for CApiInstance<'_> {
    fn drop(&mut self) {
        // SAFETY: created by `wasmtime_store_new`, deleted once.
        unsafe { (self.api.wasmtime_store_delete)(self.store) };
    }
}

impl CApiInstance<'_> {
    fn renew_budget(&mut self) {
        match self.budget {
            StoreBudget::Fuel(fuel) => {
                // SAFETY: a live context of an engine with fuel on.
                let error = unsafe { (self.api.wasmtime_context_set_fuel)(self.context, fuel) };
                if !error.is_null() {
                    panic!("setting fuel: {}", self.api.take_error(error));
                }
            }
            // SAFETY: a live context; the C API's stores trap at the deadline.
            StoreBudget::Epoch(ticks) => unsafe {
                (self.api.wasmtime_context_set_epoch_deadline)(self.context, ticks)
            },
            StoreBudget::Unlimited => {}
        }
    }

    /// The outcome of a failed instantiation or call, if it failed.
    fn failure(&self, error: *mut Opaque, trap: *mut Opaque) -> Option<Outcome> {
        if !trap.is_null() {
            return Some(match self.api.take_trap(trap) {
                (Some(code), _) => Outcome::Trap(trap_kind(code)),
                (None, message) => Outcome::Error(message),
            });
        }
        if error.is_null() {
            return None;
        }
        let message = self.api.take_error(error);
        // What Wasmtime's `StoreLimits` says when it refuses a memory or
        // table the module asks for.
        Some(
            if message.contains("exceeds memory limits") || message.contains("exceeds table limits")
            {
                Outcome::Limit(message)
            } else {
                Outcome::Error(message)
            },
        )
    }

    /// A new instance of the module in this store, linking the imports.
    fn new_instance(&mut self) -> Result<ffi::Instance, Outcome> {
        let externs: Vec<Extern> = self.linked.iter().map(|(_, e)| *e).collect();
        let mut instance = ffi::Instance {
            store_id: 0,
            private: 0,
        };
        let mut trap = std::ptr::null_mut();
        // SAFETY: a live context and module; the externs, in import
        // order, live in this store.
        let error = unsafe {
            (self.api.wasmtime_instance_new)(
                self.context,
                self.module,
                externs.as_ptr(),
                externs.len(),
                &mut instance,
                &mut trap,
            )
        };
        match self.failure(error, trap) {
            Some(outcome) => Err(outcome),
            None => Ok(instance),
        }
    }

    /// Instance `index`: the first, or one made by `instantiate_again`.
    fn nth(&self, index: usize) -> ffi::Instance {
        index
            .checked_sub(1)
            .map_or(self.instance, |other| self.others[other])
    }

    /// The export `name` of the first instance, or else the linked import
    /// labelled `name`.
    fn export(&self, name: &str, kind: u8) -> Option<Extern> {
        self.export_of(0, name, kind)
    }

    /// The export `name` of instance `index`, or else the linked import
    /// labelled `name`.
    fn export_of(&self, index: usize, name: &str, kind: u8) -> Option<Extern> {
        let mut item = Extern::empty();
        let instance = self.nth(index);
        // SAFETY: a live context and instance; `name` is passed with its length.
        let found = unsafe {
            (self.api.wasmtime_instance_export_get)(
                self.context,
                &instance,
                name.as_ptr().cast(),
                name.len(),
                &mut item,
            )
        };
        if found && item.kind == kind {
            return Some(item);
        }
        let linked = self.linked.iter().find(|(label, _)| label == name);
        linked.map(|(_, e)| *e).filter(|e| e.kind == kind)
    }

    fn index_exported_funcs(&mut self) {
        for index in 0.. {
            let mut name = std::ptr::null_mut();
            let mut length = 0usize;
            let mut item = Extern::empty();
            // SAFETY: a live context and instance; the name is borrowed from it.
            let found = unsafe {
                (self.api.wasmtime_instance_export_nth)(
                    self.context,
                    &self.instance,
                    index,
                    &mut name,
                    &mut length,
                    &mut item,
                )
            };
            if !found {
                break;
            }
            if item.kind != extern_kind::FUNC {
                continue;
            }
            // SAFETY: `length` bytes of the export's name.
            let name = unsafe { std::slice::from_raw_parts(name.cast::<u8>(), length) };
            // SAFETY: a function of this store.
            let raw = unsafe { (self.api.wasmtime_func_to_raw)(self.context, &item.of.func) };
            self.exported_funcs
                .entry(raw as usize)
                .or_insert_with(|| String::from_utf8_lossy(name).into_owned());
        }
    }

    /// The parameter and result types of `func`.
    fn signature(&self, func: &Func) -> (Vec<ValueType>, Vec<ValueType>) {
        // SAFETY: a function of this store; its type is deleted below.
        unsafe {
            let ty = (self.api.wasmtime_func_type)(self.context, func);
            let types = |vec: *const ffi::ValTypeVec| -> Vec<ValueType> {
                let vec = &*vec;
                (0..vec.size)
                    .map(|i| self.value_type(*vec.data.add(i)))
                    .collect()
            };
            let params = types((self.api.wasm_functype_params)(ty));
            let results = types((self.api.wasm_functype_results)(ty));
            (self.api.wasm_functype_delete)(ty);
            (params, results)
        }
    }

    fn value_type(&self, ty: *const Opaque) -> ValueType {
        self.types
            .iter()
            // SAFETY: two live value types.
            .find(|(_, known)| unsafe { (self.api.wasmtime_wasm_valtype_equal)(ty, known.get()) })
            .map_or(ValueType::Unsupported, |(ty, _)| *ty)
    }

    fn value(&mut self, mut val: Val) -> Value {
        // SAFETY: the union is read as the kind the C API set.
        let value = unsafe {
            match val.kind {
                kind::I32 => Value::I32(val.of.i32),
                kind::I64 => Value::I64(val.of.i64),
                kind::F32 => Value::F32(val.of.f32),
                kind::F64 => Value::F64(val.of.f64),
                kind::V128 => Value::V128(u128::from_le_bytes(val.of.v128)),
                kind::FUNCREF if val.of.funcref.store_id == 0 => Value::FuncRef(None),
                kind::FUNCREF => Value::FuncRef(Some(self.identity(&val.of.funcref))),
                _ => Value::ExternRef {
                    null: val.of.gc.store_id == 0,
                },
            }
        };
        if val.kind > kind::FUNCREF {
            // SAFETY: a GC reference the C API rooted for us, released once.
            unsafe { (self.api.wasmtime_val_unroot)(&mut val) };
        }
        value
    }

    fn identity(&self, func: &Func) -> FuncIdentity {
        let (params, results) = self.signature(func);
        // SAFETY: a function of this store.
        let raw = unsafe { (self.api.wasmtime_func_to_raw)(self.context, func) };
        FuncIdentity {
            export: self.exported_funcs.get(&(raw as usize)).cloned(),
            signature: Signature { params, results }.to_string(),
        }
    }
}

impl LiveInstance for CApiInstance<'_> {
    fn instantiate_again(&mut self) -> Result<(), Outcome> {
        let instance = self.new_instance()?;
        self.others.push(instance);
        Ok(())
    }

    fn call(&mut self, instance: usize, export: &str, args: &[Value]) -> Outcome {
        let Some(item) = self.export_of(instance, export, extern_kind::FUNC) else {
            return Outcome::Error(format!("no exported function {export:?}"));
        };
        // SAFETY: the kind is FUNC.
        let func = unsafe { item.of.func };
        let (_, results) = self.signature(&func);
        let params: Vec<Val> = args.iter().map(to_val).collect();
        let mut returned = vec![Val::empty(); results.len()];
        self.renew_budget();
        let mut trap = std::ptr::null_mut();
        // SAFETY: argument and result buffers of the function's arity.
        let error = unsafe {
            (self.api.wasmtime_func_call)(
                self.context,
                &func,
                params.as_ptr(),
                params.len(),
                returned.as_mut_ptr(),
                returned.len(),
                &mut trap,
            )
        };
        match self.failure(error, trap) {
            Some(outcome) => outcome,
            None => Outcome::Returned(returned.into_iter().map(|v| self.value(v)).collect()),
        }
    }

    fn memory(&mut self, name: &str) -> Option<Vec<u8>> {
        let item = self.export(name, extern_kind::MEMORY)?;
        // SAFETY: the kind is MEMORY; `size` bytes at `data` while the store lives.
        unsafe {
            let data = (self.api.wasmtime_memory_data)(self.context, &item.of.handle);
            let size = (self.api.wasmtime_memory_data_size)(self.context, &item.of.handle);
            Some(if size == 0 {
                Vec::new()
            } else {
                std::slice::from_raw_parts(data, size).to_vec()
            })
        }
    }

    fn global(&mut self, name: &str) -> Option<Value> {
        let item = self.export(name, extern_kind::GLOBAL)?;
        let mut val = Val::empty();
        // SAFETY: the kind is GLOBAL.
        unsafe { (self.api.wasmtime_global_get)(self.context, &item.of.global, &mut val) };
        Some(self.value(val))
    }

    fn set_global(&mut self, instance: usize, name: &str, value: &Value) -> bool {
        let Some(item) = self.export_of(instance, name, extern_kind::GLOBAL) else {
            return false;
        };
        let val = to_val(value);
        // SAFETY: the kind is GLOBAL.
        let error = unsafe { (self.api.wasmtime_global_set)(self.context, &item.of.global, &val) };
        if error.is_null() {
            true
        } else {
            self.api.take_error(error);
            false
        }
    }

    fn table(&mut self, name: &str) -> Option<Vec<Value>> {
        let item = self.export(name, extern_kind::TABLE)?;
        // SAFETY: the kind is TABLE.
        let size = unsafe { (self.api.wasmtime_table_size)(self.context, &item.of.handle) };
        let mut elements = Vec::with_capacity(size as usize);
        for index in 0..size {
            let mut val = Val::empty();
            // SAFETY: the kind is TABLE and `index` is below its size.
            let found = unsafe {
                (self.api.wasmtime_table_get)(self.context, &item.of.handle, index, &mut val)
            };
            assert!(found, "index {index} is below the table size {size}");
            elements.push(self.value(val));
        }
        Some(elements)
    }
}

/// `wasmtime_trap_code_t` in the shared set.
fn trap_kind(code: u8) -> TrapKind {
    match code {
        0 => TrapKind::StackOverflow,
        1 => TrapKind::MemoryOutOfBounds,
        2 => TrapKind::UnalignedAtomic,
        3 => TrapKind::TableOutOfBounds,
        4 => TrapKind::IndirectCallToNull,
        5 => TrapKind::BadSignature,
        6 => TrapKind::IntegerOverflow,
        7 => TrapKind::IntegerDivisionByZero,
        8 => TrapKind::BadConversionToInteger,
        9 => TrapKind::Unreachable,
        // The epoch deadline stands in for fuel, as in the linked engine.
        10 | 11 => TrapKind::OutOfFuel,
        13 => TrapKind::NullReference,
        14 => TrapKind::MemoryOutOfBounds,
        16 => TrapKind::CastFailure,
        _ => TrapKind::Unknown,
    }
}

impl MeasuresCompiles for CApiEngine {
    fn measured_compile(&self, wasm: &[u8]) -> Result<CompileCost, EngineError> {
        // The library allocates with its own allocator, which the counting
        // one of this process does not see: no peak heap, rather than a
        // peak of nearly nothing.
        let (compiled, wall, cpu) = crate::engine::clock::timed(|| self.compile(wasm));
        compiled.map(|()| CompileCost {
            wall,
            cpu,
            peak_heap: None,
        })
    }
}

impl Engine for CApiEngine {
    fn name(&self) -> &str {
        &self.name
    }

    fn settings(&self) -> String {
        format!(
            "wasmtime {} (its C API library) {}",
            self.version,
            self.variant.cli_flags(&self.limits)
        )
    }

    fn features(&self) -> WasmFeatures {
        self.variant.features()
    }

    fn compile(&self, wasm: &[u8]) -> Result<(), EngineError> {
        self.new_module(wasm)
            .map(drop)
            .map_err(EngineError::Refused)
    }

    fn capabilities(&self) -> Capabilities<'_> {
        Capabilities {
            measures_compiles: Some(self),
            ..Capabilities::default()
        }
    }

    fn links_imports(&self, imports: &[Linked]) -> bool {
        imports::can_link(imports)
    }

    fn execute_observed(&self, wasm: &[u8], plan: &Plan, compiled: &mut dyn FnMut()) -> EngineRun {
        let (module, compile) = Compiled::measure(|| self.new_module(wasm));
        let module = match module {
            Ok(module) => module,
            Err(error) => return EngineRun::Rejected(error),
        };
        compiled();
        if !imports::can_link(&plan.imports) {
            return EngineRun::Rejected(NO_TABLE64_IMPORTS.into());
        }
        let native_stack = self.limits.max_wasm_stack + NATIVE_STACK_RESERVE;
        let module = &module;
        on_native_stack(native_stack, || {
            drive(|host| self.instantiate(module, plan, host), plan, compile)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_trap_code_of_wasmtime_h_maps_and_fuel_and_epochs_alike() {
        assert_eq!(trap_kind(11), TrapKind::OutOfFuel);
        assert_eq!(trap_kind(10), TrapKind::OutOfFuel);
        assert_eq!(trap_kind(9), TrapKind::Unreachable);
        assert_eq!(trap_kind(200), TrapKind::Unknown);
    }
}
