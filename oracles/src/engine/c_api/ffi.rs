//! The part of Wasmtime's C API (`wasm.h`, `wasmtime.h`) that the C-API
//! engine calls, loaded at run time from a release's published
//! `libwasmtime.so`: the layouts of the values it passes, and its functions
//! as one table of pointers.
//!
//! Loaded rather than linked so that one crosscheck binary runs any
//! release whose library it is given; a symbol a release lacks is an error
//! naming it when the library is opened, not a crash when it is called.

use anyhow::{Context, Result};
use libloading::Library;
use std::ffi::{c_char, c_void};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// `wasm_config_t`, `wasm_engine_t`, ...: only ever behind pointers.
#[repr(C)]
pub struct Opaque {
    _private: [u8; 0],
}

/// `wasm_byte_vec_t` (also `wasm_name_t`, `wasm_message_t`).
#[repr(C)]
pub struct ByteVec {
    pub size: usize,
    pub data: *mut u8,
}

/// `wasm_valtype_vec_t`.
#[repr(C)]
pub struct ValTypeVec {
    pub size: usize,
    pub data: *const *const Opaque,
}

/// `wasmtime_func_t`: a null funcref has `store_id` 0.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Func {
    pub store_id: u64,
    pub private: *mut c_void,
}

/// The leading part of `wasmtime_table_t` and `wasmtime_memory_t`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct StoreIndex {
    pub store_id: u64,
    pub private1: u32,
}

/// `wasmtime_table_t` and `wasmtime_memory_t`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Handle {
    pub index: StoreIndex,
    pub private2: u32,
}

/// `wasmtime_global_t`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Global {
    pub store_id: u64,
    pub private1: u32,
    pub private2: u32,
    pub private3: u32,
}

/// `wasmtime_anyref_t`, `wasmtime_externref_t`, `wasmtime_exnref_t`: null
/// has `store_id` 0.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct GcRef {
    pub store_id: u64,
    pub private1: u32,
    pub private2: u32,
    pub private3: *mut c_void,
}

/// `wasmtime_valunion_t`.
#[repr(C)]
#[derive(Clone, Copy)]
pub union ValUnion {
    pub i32: i32,
    pub i64: i64,
    pub f32: u32,
    pub f64: u64,
    pub gc: GcRef,
    pub funcref: Func,
    pub v128: [u8; 16],
}

/// `wasmtime_val_t`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Val {
    pub kind: u8,
    pub of: ValUnion,
}

/// `wasmtime_valkind_t` values.
pub mod kind {
    pub const I32: u8 = 0;
    pub const I64: u8 = 1;
    pub const F32: u8 = 2;
    pub const F64: u8 = 3;
    pub const V128: u8 = 4;
    pub const FUNCREF: u8 = 5;
    pub const EXTERNREF: u8 = 6;
}

/// `wasm_valkind_t` values of `wasm_valtype_new` (`wasm_valtype_kind`
/// panics on `v128`: types are told apart by equality instead).
pub mod valtype {
    pub const I32: u8 = 0;
    pub const I64: u8 = 1;
    pub const F32: u8 = 2;
    pub const F64: u8 = 3;
    pub const EXTERNREF: u8 = 128;
    pub const FUNCREF: u8 = 129;
}

/// `wasm_limits_t`: `max` is `u32::MAX` for none.
#[repr(C)]
pub struct Limits {
    pub min: u32,
    pub max: u32,
}

/// `wasmtime_func_callback_t`: a host function's body.
pub type Callback = unsafe extern "C" fn(
    *mut c_void,
    *mut Opaque,
    *const Val,
    usize,
    *mut Val,
    usize,
) -> *mut Opaque;

/// `wasm_mutability_t` values.
pub mod mutability {
    pub const CONST: u8 = 0;
    pub const VAR: u8 = 1;
}

/// `wasmtime_extern_union_t`.
#[repr(C)]
#[derive(Clone, Copy)]
pub union ExternUnion {
    pub func: Func,
    pub global: Global,
    pub handle: Handle,
    pub pointer: *mut c_void,
}

/// `wasmtime_extern_t`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Extern {
    pub kind: u8,
    pub of: ExternUnion,
}

/// `wasmtime_extern_kind_t` values.
pub mod extern_kind {
    pub const FUNC: u8 = 0;
    pub const GLOBAL: u8 = 1;
    pub const TABLE: u8 = 2;
    pub const MEMORY: u8 = 3;
}

/// `wasmtime_instance_t`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Instance {
    pub store_id: u64,
    pub private: usize,
}

impl Extern {
    /// An empty slot for the C API to fill.
    pub fn empty() -> Extern {
        Extern {
            kind: u8::MAX,
            of: ExternUnion {
                pointer: std::ptr::null_mut(),
            },
        }
    }
}

impl Val {
    /// A zero of kind `i32`, for the C API to overwrite.
    pub fn empty() -> Val {
        Val {
            kind: kind::I32,
            of: ValUnion { v128: [0; 16] },
        }
    }
}

type P = *mut Opaque;
type Error = *mut Opaque;

macro_rules! api {
    ($($name:ident: fn($($arg:ty),*) $(-> $ret:ty)?;)*) => {
        /// The C API's functions crosscheck calls, from one loaded library.
        #[allow(non_snake_case)]
        pub struct Api {
            $(pub $name: unsafe extern "C" fn($($arg),*) $(-> $ret)?,)*
            _library: &'static Library,
        }

        impl Api {
            /// Loads `path`, Wasmtime `version`'s library, for the rest
            /// of the process and looks every function up. Nothing of it
            /// runs before its bytes are found to be the pinned ones.
            fn load(path: &Path, version: &str) -> Result<Api> {
                let pin = super::pinned::of_version(version)?;
                let verified = super::pinned::open_verified(path, pin)?;
                // The descriptor, not the path: the bytes loaded are the
                // bytes hashed, whatever happens to the path meanwhile.
                let by_descriptor = format!("/proc/self/fd/{}", verified.as_raw_fd());
                // SAFETY: loading a library runs its initializers; the
                // pinned libwasmtime has none beyond Rust's runtime.
                let library = unsafe { Library::new(&by_descriptor) }
                    .with_context(|| format!("loading Wasmtime's C API from {}", path.display()))?;
                drop(verified);
                // Never unloaded: the library installs signal handlers and
                // thread-local destructors that must outlive its engines.
                let library: &'static Library = Box::leak(Box::new(library));
                Ok(Api {
                    $($name: {
                        // SAFETY: the signature is the C API's (wasmtime.h).
                        let symbol = unsafe {
                            library.get::<unsafe extern "C" fn($($arg),*) $(-> $ret)?>(
                                concat!(stringify!($name), "\0").as_bytes(),
                            )
                        }
                        .with_context(|| format!("{} lacks {}", path.display(), stringify!($name)))?;
                        *symbol
                    },)*
                    _library: library,
                })
            }
        }
    };
}

api! {
    wasm_config_new: fn() -> P;
    wasm_engine_new_with_config: fn(P) -> P;
    wasm_engine_delete: fn(P);
    wasmtime_engine_increment_epoch: fn(P);
    wasmtime_config_wasm_tail_call_set: fn(P, bool);
    wasmtime_config_wasm_simd_set: fn(P, bool);
    wasmtime_config_wasm_relaxed_simd_set: fn(P, bool);
    wasmtime_config_wasm_relaxed_simd_deterministic_set: fn(P, bool);
    wasmtime_config_wasm_multi_memory_set: fn(P, bool);
    wasmtime_config_wasm_memory64_set: fn(P, bool);
    wasmtime_config_wasm_reference_types_set: fn(P, bool);
    wasmtime_config_wasm_bulk_memory_set: fn(P, bool);
    wasmtime_config_wasm_multi_value_set: fn(P, bool);
    wasmtime_config_wasm_function_references_set: fn(P, bool);
    wasmtime_config_wasm_gc_set: fn(P, bool);
    wasmtime_config_wasm_exceptions_set: fn(P, bool);
    wasmtime_config_wasm_threads_set: fn(P, bool);
    wasmtime_config_wasm_wide_arithmetic_set: fn(P, bool);
    wasmtime_config_wasm_custom_page_sizes_set: fn(P, bool);
    wasmtime_config_consume_fuel_set: fn(P, bool);
    wasmtime_config_epoch_interruption_set: fn(P, bool);
    wasmtime_config_parallel_compilation_set: fn(P, bool);
    wasmtime_config_signals_based_traps_set: fn(P, bool);
    wasmtime_config_max_wasm_stack_set: fn(P, usize);
    wasmtime_config_memory_reservation_set: fn(P, u64);
    wasmtime_config_memory_guard_size_set: fn(P, u64);
    wasmtime_config_memory_reservation_for_growth_set: fn(P, u64);
    wasmtime_config_strategy_set: fn(P, u8);
    wasmtime_config_cranelift_opt_level_set: fn(P, u8);
    wasmtime_config_cranelift_regalloc_algorithm_set: fn(P, u8);
    wasmtime_config_target_set: fn(P, *const c_char) -> Error;
    wasmtime_store_new: fn(P, *mut c_void, Option<unsafe extern "C" fn(*mut c_void)>) -> P;
    wasmtime_store_context: fn(P) -> P;
    wasmtime_store_limiter: fn(P, i64, i64, i64, i64, i64);
    wasmtime_store_delete: fn(P);
    wasmtime_context_set_fuel: fn(P, u64) -> Error;
    wasmtime_context_set_epoch_deadline: fn(P, u64);
    wasmtime_module_new: fn(P, *const u8, usize, *mut P) -> Error;
    wasmtime_module_delete: fn(P);
    wasmtime_instance_new: fn(P, P, *const Extern, usize, *mut Instance, *mut P) -> Error;
    wasmtime_instance_export_get: fn(P, *const Instance, *const c_char, usize, *mut Extern) -> bool;
    wasmtime_instance_export_nth: fn(P, *const Instance, usize, *mut *mut c_char, *mut usize, *mut Extern) -> bool;
    wasmtime_func_type: fn(P, *const Func) -> P;
    wasmtime_func_call: fn(P, *const Func, *const Val, usize, *mut Val, usize, *mut P) -> Error;
    wasmtime_func_to_raw: fn(P, *const Func) -> *mut c_void;
    wasm_functype_params: fn(P) -> *const ValTypeVec;
    wasm_functype_results: fn(P) -> *const ValTypeVec;
    wasm_functype_delete: fn(P);
    wasm_valtype_new: fn(u8) -> P;
    wasm_valtype_vec_new: fn(*mut ValTypeVec, usize, *const P);
    wasm_functype_new: fn(*mut ValTypeVec, *mut ValTypeVec) -> P;
    wasmtime_func_new: fn(P, *const Opaque, Callback, *mut c_void, Option<unsafe extern "C" fn(*mut c_void)>, *mut Func);
    wasmtime_memorytype_new: fn(u64, bool, u64, bool, bool, u8, *mut P) -> Error;
    wasm_memorytype_delete: fn(P);
    wasmtime_memory_new: fn(P, *const Opaque, *mut Handle) -> Error;
    wasm_tabletype_new: fn(P, *const Limits) -> P;
    wasm_tabletype_delete: fn(P);
    wasmtime_table_new: fn(P, *const Opaque, *const Val, *mut Handle) -> Error;
    wasm_globaltype_new: fn(P, u8) -> P;
    wasm_globaltype_delete: fn(P);
    wasmtime_global_new: fn(P, *const Opaque, *const Val, *mut Global) -> Error;
    wasm_valtype_delete: fn(P);
    wasmtime_wasm_valtype_v128: fn() -> P;
    wasmtime_wasm_valtype_equal: fn(*const Opaque, *const Opaque) -> bool;
    wasmtime_memory_data: fn(P, *const Handle) -> *mut u8;
    wasmtime_memory_data_size: fn(P, *const Handle) -> usize;
    wasmtime_global_get: fn(P, *const Global, *mut Val);
    wasmtime_global_set: fn(P, *const Global, *const Val) -> Error;
    wasmtime_table_size: fn(P, *const Handle) -> u64;
    wasmtime_table_get: fn(P, *const Handle, u64, *mut Val) -> bool;
    wasmtime_val_unroot: fn(*mut Val);
    wasmtime_trap_code: fn(P, *mut u8) -> bool;
    wasm_trap_message: fn(P, *mut ByteVec);
    wasm_trap_delete: fn(P);
    wasmtime_error_message: fn(P, *mut ByteVec);
    wasmtime_error_delete: fn(P);
    wasm_byte_vec_delete: fn(*mut ByteVec);
}

impl Api {
    /// The functions of the library at `path`, loaded once per process.
    pub fn open(path: &Path, version: &str) -> Result<Arc<Api>> {
        static LOADED: Mutex<Vec<(PathBuf, Arc<Api>)>> = Mutex::new(Vec::new());
        let mut loaded = LOADED.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, api)) = loaded.iter().find(|(p, _)| p == path) {
            return Ok(Arc::clone(api));
        }
        let api = Arc::new(Api::load(path, version)?);
        loaded.push((path.to_path_buf(), Arc::clone(&api)));
        Ok(api)
    }

    /// The text of `message` (a `wasm_byte_vec_t` the C API filled), which
    /// is then freed.
    pub fn take_text(&self, mut message: ByteVec) -> String {
        let text = if message.data.is_null() {
            String::new()
        } else {
            // SAFETY: the C API filled `size` bytes at `data`.
            let bytes = unsafe { std::slice::from_raw_parts(message.data, message.size) };
            String::from_utf8_lossy(bytes)
                .trim_end_matches('\0')
                .to_string()
        };
        // SAFETY: a vector the C API allocated, freed once.
        unsafe { (self.wasm_byte_vec_delete)(&mut message) };
        text
    }

    /// The message of a `wasmtime_error_t`, which is then deleted.
    pub fn take_error(&self, error: P) -> String {
        let mut message = ByteVec {
            size: 0,
            data: std::ptr::null_mut(),
        };
        // SAFETY: `error` is a live error the C API returned; deleted once.
        unsafe {
            (self.wasmtime_error_message)(error, &mut message);
            (self.wasmtime_error_delete)(error);
        }
        self.take_text(message)
    }

    /// The code (if it has one) and message of a `wasm_trap_t`, which is
    /// then deleted.
    pub fn take_trap(&self, trap: P) -> (Option<u8>, String) {
        let mut code = 0u8;
        let mut message = ByteVec {
            size: 0,
            data: std::ptr::null_mut(),
        };
        // SAFETY: `trap` is a live trap the C API returned; deleted once.
        let has_code = unsafe {
            let has = (self.wasmtime_trap_code)(trap, &mut code);
            (self.wasm_trap_message)(trap, &mut message);
            (self.wasm_trap_delete)(trap);
            has
        };
        (has_code.then_some(code), self.take_text(message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_library_that_is_not_there_not_pinned_or_not_the_pinned_one_is_named() {
        let version = super::super::pinned::PINNED[0].version;
        let missing = Path::new("/nonexistent/libwasmtime.so");
        let err = format!("{:#}", Api::open(missing, version).err().unwrap());
        assert!(err.contains("/nonexistent/libwasmtime.so"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("libwasmtime.so");
        std::fs::write(&junk, b"not a shared object").unwrap();
        let err = format!("{:#}", Api::open(&junk, version).err().unwrap());
        assert!(
            err.contains(&junk.display().to_string()) && err.contains("SHA-256"),
            "{err}"
        );
        let err = format!("{:#}", Api::open(&junk, "49.0.0").err().unwrap());
        assert!(
            err.contains("Wasmtime 49.0.0's C API library is not pinned"),
            "{err}"
        );
    }

    #[test]
    fn layouts_are_those_of_wasmtime_h() {
        // Sizes of the C structs on x86-64 (wasmtime.h, as its Python
        // bindings declare them).
        assert_eq!(std::mem::size_of::<Func>(), 16);
        assert_eq!(std::mem::size_of::<Handle>(), 24);
        assert_eq!(std::mem::size_of::<Global>(), 24);
        assert_eq!(std::mem::size_of::<ValUnion>(), 24);
        assert_eq!(std::mem::size_of::<Val>(), 32);
        assert_eq!(std::mem::offset_of!(Val, of), 8);
        assert_eq!(std::mem::size_of::<Extern>(), 32);
        assert_eq!(std::mem::offset_of!(Extern, of), 8);
        assert_eq!(std::mem::size_of::<Instance>(), 16);
    }
}
