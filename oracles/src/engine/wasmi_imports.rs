//! wasmi's side of `case::imports`: the plan's linked memories, tables,
//! globals and host functions made in a store, in import order.

use crate::case::imports::{Host, Linked, LinkedItem};
use crate::case::module_info::ValueType;
use crate::case::value::{FuncIdentity, Value};
use wasmi::{
    AsContextMut, Extern, ExternType, Func, FuncType, Global, Memory, MemoryType, Mutability,
    Nullable, Ref, RefType, Table, TableType, Val, ValType,
};

/// The externs for `linked` in `store`, host functions answering through
/// `host`; an error where the store refuses one (the harness's limits).
pub(crate) fn make<T>(
    mut store: impl AsContextMut<Data = T>,
    linked: &[Linked],
    host: &Host,
) -> Result<Vec<(String, Extern)>, wasmi::Error> {
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
                    let ty =
                        FuncType::new(params.iter().map(val_type), results.iter().map(val_type));
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
                    let mut ty = MemoryType::builder();
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
                        ValueType::ExternRef => (RefType::Extern, Ref::Extern(Nullable::Null)),
                        _ => (RefType::Func, Ref::Func(Nullable::Null)),
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
                    Global::new(&mut store, to_val(value), mutability).into()
                }
            };
            Ok((l.label(), made))
        })
        .collect()
}

/// `linked` (in the module's import order) in the order wasmi's
/// `Instance::new` takes them: its own order of the imports, grouped by
/// kind, each kind in module order. Matched by position within a kind, not
/// by name: a module may import one name twice.
pub(crate) fn in_wasmi_order(module: &wasmi::Module, linked: &[(String, Extern)]) -> Vec<Extern> {
    let mut taken = vec![false; linked.len()];
    module
        .imports()
        .filter_map(|import| {
            let same_kind = |e: &Extern| {
                matches!(
                    (import.ty(), e),
                    (ExternType::Func(_), Extern::Func(_))
                        | (ExternType::Memory(_), Extern::Memory(_))
                        | (ExternType::Table(_), Extern::Table(_))
                        | (ExternType::Global(_), Extern::Global(_))
                )
            };
            let next = (0..linked.len()).find(|&i| !taken[i] && same_kind(&linked[i].1))?;
            taken[next] = true;
            Some(linked[next].1)
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
        ValueType::ExternRef => ValType::ExternRef,
        // `case::imports` links no other reference type.
        ValueType::FuncRef | ValueType::Unsupported => ValType::FuncRef,
    }
}

/// An argument as a host function sees it: references by null-ness only.
fn value_of(val: &Val) -> Value {
    match val {
        Val::I32(v) => Value::I32(*v),
        Val::I64(v) => Value::I64(*v),
        Val::F32(v) => Value::F32(v.to_bits()),
        Val::F64(v) => Value::F64(v.to_bits()),
        Val::V128(v) => Value::V128(v.as_u128()),
        Val::FuncRef(f) => Value::FuncRef((!f.is_null()).then(|| FuncIdentity {
            export: None,
            signature: "a function".into(),
        })),
        Val::ExternRef(r) => Value::ExternRef { null: r.is_null() },
    }
}

/// A harness value as wasmi's (references: null).
pub(crate) fn to_val(value: &Value) -> Val {
    match value {
        Value::I32(v) => Val::I32(*v),
        Value::I64(v) => Val::I64(*v),
        Value::F32(bits) => Val::F32(wasmi::F32::from_bits(*bits)),
        Value::F64(bits) => Val::F64(wasmi::F64::from_bits(*bits)),
        Value::V128(bits) => Val::V128(wasmi::V128::from(*bits)),
        Value::FuncRef(_) => Val::FuncRef(Nullable::Null),
        Value::ExternRef { .. } => Val::ExternRef(Nullable::Null),
    }
}
