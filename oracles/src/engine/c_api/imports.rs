//! The C API's side of `case::imports`: the plan's linked memories,
//! tables, globals and host functions made in a store of a release's
//! library, in import order.

use super::ffi::{
    self, extern_kind, kind, mutability, Api, Extern, ExternUnion, Opaque, Val, ValUnion,
};
use crate::case::imports::{Host, Linked, LinkedItem};
use crate::case::module_info::ValueType;
use crate::case::value::{FuncIdentity, Value};
use std::ffi::c_void;

/// Whether the C API can make every item of `linked`: its table types
/// (`wasm_tabletype_new`) have 32-bit limits only.
pub(super) fn can_link(linked: &[Linked]) -> bool {
    !linked
        .iter()
        .any(|l| matches!(l.item, LinkedItem::Table { table64: true, .. }))
}

/// The externs for `linked` in the store of `context`, host functions
/// answering through `host`; the C API's error where it refuses one.
pub(super) fn make(
    api: &Api,
    context: *mut Opaque,
    linked: &[Linked],
    host: &Host,
) -> Result<Vec<(String, Extern)>, *mut Opaque> {
    linked
        .iter()
        .map(|l| {
            let made = match &l.item {
                LinkedItem::Function {
                    function,
                    params,
                    results,
                } => function_of(api, context, host, *function, params, results),
                LinkedItem::Memory {
                    memory64,
                    pages,
                    maximum,
                    page_size_log2,
                } => memory_of(api, context, *memory64, *pages, *maximum, *page_size_log2)?,
                LinkedItem::Table {
                    element,
                    size,
                    maximum,
                    ..
                } => table_of(api, context, *element, *size, *maximum)?,
                LinkedItem::Global { value, mutable } => global_of(api, context, value, *mutable)?,
            };
            Ok((l.label(), made))
        })
        .collect()
}

/// What a host function's callback needs: freed by the store.
struct HostFunction {
    host: Host,
    function: usize,
    results: Vec<ValueType>,
}

fn function_of(
    api: &Api,
    context: *mut Opaque,
    host: &Host,
    function: usize,
    params: &[ValueType],
    results: &[ValueType],
) -> Extern {
    let env = Box::into_raw(Box::new(HostFunction {
        host: host.clone(),
        function,
        results: results.to_vec(),
    }));
    let mut func = ffi::Func {
        store_id: 0,
        private: std::ptr::null_mut(),
    };
    // SAFETY: the function type is built from fresh value types, which the
    // vectors and then the type own; the store calls `free_host_function`
    // once on `env` when it is deleted.
    unsafe {
        let mut params = valtype_vec(api, params);
        let mut results = valtype_vec(api, results);
        let ty = (api.wasm_functype_new)(&mut params, &mut results);
        (api.wasmtime_func_new)(
            context,
            ty,
            call_host,
            env.cast(),
            Some(free_host_function),
            &mut func,
        );
        (api.wasm_functype_delete)(ty);
    }
    Extern {
        kind: extern_kind::FUNC,
        of: ExternUnion { func },
    }
}

/// A vector of fresh value types, owned by the vector.
unsafe fn valtype_vec(api: &Api, types: &[ValueType]) -> ffi::ValTypeVec {
    let fresh: Vec<*mut Opaque> = types.iter().map(|t| unsafe { valtype(api, *t) }).collect();
    let mut vec = ffi::ValTypeVec {
        size: 0,
        data: std::ptr::null(),
    };
    // SAFETY: `fresh` holds `len` live value types, which the vector takes.
    unsafe { (api.wasm_valtype_vec_new)(&mut vec, fresh.len(), fresh.as_ptr()) };
    vec
}

/// A fresh `wasm_valtype_t` of `ty`.
unsafe fn valtype(api: &Api, ty: ValueType) -> *mut Opaque {
    use ffi::valtype as v;
    // SAFETY: constructors without preconditions.
    unsafe {
        match ty {
            ValueType::I32 => (api.wasm_valtype_new)(v::I32),
            ValueType::I64 => (api.wasm_valtype_new)(v::I64),
            ValueType::F32 => (api.wasm_valtype_new)(v::F32),
            ValueType::F64 => (api.wasm_valtype_new)(v::F64),
            ValueType::V128 => (api.wasmtime_wasm_valtype_v128)(),
            ValueType::ExternRef => (api.wasm_valtype_new)(v::EXTERNREF),
            // `case::imports` links no other reference type.
            ValueType::FuncRef | ValueType::Unsupported => (api.wasm_valtype_new)(v::FUNCREF),
        }
    }
}

/// The body of every host function: the harness's results for the call.
unsafe extern "C" fn call_host(
    env: *mut c_void,
    _caller: *mut Opaque,
    args: *const Val,
    nargs: usize,
    results: *mut Val,
    nresults: usize,
) -> *mut Opaque {
    // SAFETY: `env` is the `HostFunction` this function was made with; the
    // C API passes `nargs` arguments and room for `nresults` results.
    unsafe {
        let env = &*(env as *const HostFunction);
        let args = if nargs == 0 {
            Vec::new()
        } else {
            std::slice::from_raw_parts(args, nargs)
                .iter()
                .map(value_of)
                .collect()
        };
        let values = env.host.call(env.function, args, &env.results);
        for (i, value) in values.iter().take(nresults).enumerate() {
            *results.add(i) = to_val(value);
        }
    }
    std::ptr::null_mut()
}

/// Frees a host function's `env` when its store is deleted.
unsafe extern "C" fn free_host_function(env: *mut c_void) {
    // SAFETY: made by `Box::into_raw` in `function_of`, freed once.
    drop(unsafe { Box::from_raw(env as *mut HostFunction) });
}

fn memory_of(
    api: &Api,
    context: *mut Opaque,
    memory64: bool,
    pages: u64,
    maximum: Option<u64>,
    page_size_log2: Option<u32>,
) -> Result<Extern, *mut Opaque> {
    let mut ty = std::ptr::null_mut();
    let log2 = page_size_log2.unwrap_or(16) as u8;
    // SAFETY: the type is deleted after the memory is made from it.
    unsafe {
        let error = (api.wasmtime_memorytype_new)(
            pages,
            maximum.is_some(),
            maximum.unwrap_or(0),
            memory64,
            false,
            log2,
            &mut ty,
        );
        if !error.is_null() {
            return Err(error);
        }
        let mut handle = empty_handle();
        let error = (api.wasmtime_memory_new)(context, ty, &mut handle);
        (api.wasm_memorytype_delete)(ty);
        if !error.is_null() {
            return Err(error);
        }
        Ok(Extern {
            kind: extern_kind::MEMORY,
            of: ExternUnion { handle },
        })
    }
}

fn table_of(
    api: &Api,
    context: *mut Opaque,
    element: ValueType,
    size: u64,
    maximum: Option<u64>,
) -> Result<Extern, *mut Opaque> {
    let narrow = |n: u64| u32::try_from(n).unwrap_or(u32::MAX - 1);
    let limits = ffi::Limits {
        min: narrow(size),
        max: maximum.map_or(u32::MAX, narrow),
    };
    let null = to_val(&match element {
        ValueType::ExternRef => Value::ExternRef { null: true },
        _ => Value::FuncRef(None),
    });
    // SAFETY: the table type takes the value type; it is deleted after the
    // table is made from it.
    unsafe {
        let ty = (api.wasm_tabletype_new)(valtype(api, element), &limits);
        let mut handle = empty_handle();
        let error = (api.wasmtime_table_new)(context, ty, &null, &mut handle);
        (api.wasm_tabletype_delete)(ty);
        if !error.is_null() {
            return Err(error);
        }
        Ok(Extern {
            kind: extern_kind::TABLE,
            of: ExternUnion { handle },
        })
    }
}

fn global_of(
    api: &Api,
    context: *mut Opaque,
    value: &Value,
    mutable: bool,
) -> Result<Extern, *mut Opaque> {
    let ty = crate::engine::wasmtime_imports::value_type_of(value);
    let mutability = if mutable {
        mutability::VAR
    } else {
        mutability::CONST
    };
    let val = to_val(value);
    let mut global = ffi::Global {
        store_id: 0,
        private1: 0,
        private2: 0,
        private3: 0,
    };
    // SAFETY: the global type takes the value type; it is deleted after the
    // global is made from it.
    unsafe {
        let ty = (api.wasm_globaltype_new)(valtype(api, ty), mutability);
        let error = (api.wasmtime_global_new)(context, ty, &val, &mut global);
        (api.wasm_globaltype_delete)(ty);
        if !error.is_null() {
            return Err(error);
        }
    }
    Ok(Extern {
        kind: extern_kind::GLOBAL,
        of: ExternUnion { global },
    })
}

fn empty_handle() -> ffi::Handle {
    ffi::Handle {
        index: ffi::StoreIndex {
            store_id: 0,
            private1: 0,
        },
        private2: 0,
    }
}

/// An argument as a host function sees it: references by null-ness only.
fn value_of(val: &Val) -> Value {
    // SAFETY: the union is read as the kind the C API set.
    unsafe {
        match val.kind {
            kind::I32 => Value::I32(val.of.i32),
            kind::I64 => Value::I64(val.of.i64),
            kind::F32 => Value::F32(val.of.f32),
            kind::F64 => Value::F64(val.of.f64),
            kind::V128 => Value::V128(u128::from_le_bytes(val.of.v128)),
            kind::FUNCREF => Value::FuncRef((val.of.funcref.store_id != 0).then(|| FuncIdentity {
                export: None,
                signature: "a function".into(),
            })),
            _ => Value::ExternRef {
                null: val.of.gc.store_id == 0,
            },
        }
    }
}

/// A harness value as the C API's (references: null).
pub(super) fn to_val(value: &Value) -> Val {
    let (kind, of) = match value {
        Value::I32(v) => (kind::I32, ValUnion { i32: *v }),
        Value::I64(v) => (kind::I64, ValUnion { i64: *v }),
        Value::F32(bits) => (kind::F32, ValUnion { f32: *bits }),
        Value::F64(bits) => (kind::F64, ValUnion { f64: *bits }),
        Value::V128(bits) => (
            kind::V128,
            ValUnion {
                v128: bits.to_le_bytes(),
            },
        ),
        // Plans pass null references only.
        Value::FuncRef(_) => (kind::FUNCREF, ValUnion { v128: [0; 16] }),
        Value::ExternRef { .. } => (kind::EXTERNREF, ValUnion { v128: [0; 16] }),
    };
    Val { kind, of }
}
