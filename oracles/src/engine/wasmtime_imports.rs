//! Wasmtime's side of `case::imports`: the plan's linked memories,
//! tables, globals and host functions made in a store, in import order.

use crate::case::imports::{Host, Linked, LinkedItem};
use crate::case::module_info::ValueType;
use crate::case::value::{FuncIdentity, Value};
use wasmtime::{
    AsContextMut, Extern, Func, FuncType, Global, GlobalType, Memory, MemoryTypeBuilder,
    Mutability, Ref, RefType, Table, TableType, Val, ValType,
};

/// The externs for `linked` in `store`, host functions answering through
/// `host`; an error where the store refuses one (the harness's limits).
pub(crate) fn make(
    mut store: impl AsContextMut,
    linked: &[Linked],
    host: &Host,
) -> wasmtime::Result<Vec<(String, Extern)>> {
    let mut store = store.as_context_mut();
    linked
        .iter()
        .map(|l| {
            let made: Extern = match &l.item {
                LinkedItem::Function {
                    function,
                    params,
                    results,
                } => {
                    let engine = store.engine().clone();
                    let ty = FuncType::new(
                        &engine,
                        params.iter().map(val_type),
                        results.iter().map(val_type),
                    );
                    let (host, function, types) = (host.clone(), *function, results.clone());
                    Func::new(&mut store, ty, move |_, args, out| {
                        let args = args.iter().map(value_of).collect();
                        for (slot, value) in out.iter_mut().zip(host.call(function, args, &types)) {
                            *slot = to_val(&value);
                        }
                        Ok(())
                    })
                    .into()
                }
                LinkedItem::Memory {
                    memory64,
                    pages,
                    maximum,
                    page_size_log2,
                } => {
                    let mut ty = MemoryTypeBuilder::new();
                    ty.memory64(*memory64).min(*pages).max(*maximum);
                    if let Some(log2) = page_size_log2 {
                        ty.page_size_log2(*log2 as u8);
                    }
                    Memory::new(&mut store, ty.build()?)?.into()
                }
                LinkedItem::Table {
                    element,
                    table64,
                    size,
                    maximum,
                } => {
                    let (element, null) = match element {
                        ValueType::ExternRef => (RefType::EXTERNREF, Ref::Extern(None)),
                        _ => (RefType::FUNCREF, Ref::Func(None)),
                    };
                    let ty = if *table64 {
                        TableType::new64(element, *size, *maximum)
                    } else {
                        let narrow = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
                        TableType::new(element, narrow(*size), maximum.map(narrow))
                    };
                    Table::new(&mut store, ty, null)?.into()
                }
                LinkedItem::Global { value, mutable } => {
                    let mutability = if *mutable {
                        Mutability::Var
                    } else {
                        Mutability::Const
                    };
                    let ty = GlobalType::new(val_type(&value_type_of(value)), mutability);
                    Global::new(&mut store, ty, to_val(value))?.into()
                }
            };
            Ok((l.label(), made))
        })
        .collect()
}

fn val_type(ty: &ValueType) -> ValType {
    match ty {
        ValueType::I32 => ValType::I32,
        ValueType::I64 => ValType::I64,
        ValueType::F32 => ValType::F32,
        ValueType::F64 => ValType::F64,
        ValueType::V128 => ValType::V128,
        ValueType::ExternRef => ValType::EXTERNREF,
        // `case::imports` links no other reference type.
        ValueType::FuncRef | ValueType::Unsupported => ValType::FUNCREF,
    }
}

/// The type of a value the harness made.
pub(crate) fn value_type_of(value: &Value) -> ValueType {
    match value {
        Value::I32(_) => ValueType::I32,
        Value::I64(_) => ValueType::I64,
        Value::F32(_) => ValueType::F32,
        Value::F64(_) => ValueType::F64,
        Value::V128(_) => ValueType::V128,
        Value::FuncRef(_) => ValueType::FuncRef,
        Value::ExternRef { .. } => ValueType::ExternRef,
    }
}

/// An argument as a host function sees it: references by null-ness only
/// (which function a reference names is no engine-neutral fact here).
fn value_of(val: &Val) -> Value {
    match val {
        Val::I32(v) => Value::I32(*v),
        Val::I64(v) => Value::I64(*v),
        Val::F32(bits) => Value::F32(*bits),
        Val::F64(bits) => Value::F64(*bits),
        Val::V128(v) => Value::V128(v.as_u128()),
        Val::FuncRef(f) => Value::FuncRef(f.map(|_| FuncIdentity {
            export: None,
            signature: "a function".into(),
        })),
        other => Value::ExternRef {
            null: other.ref_().is_none_or(|r| r.is_null()),
        },
    }
}

/// A harness value as Wasmtime's (references: null).
pub(crate) fn to_val(value: &Value) -> Val {
    match value {
        Value::I32(v) => Val::I32(*v),
        Value::I64(v) => Val::I64(*v),
        Value::F32(bits) => Val::F32(*bits),
        Value::F64(bits) => Val::F64(*bits),
        Value::V128(bits) => Val::V128((*bits).into()),
        Value::FuncRef(_) => Val::FuncRef(None),
        Value::ExternRef { .. } => Val::ExternRef(None),
    }
}
