//! What the harness needs to know about a module before running it: its
//! exports in module order, their types, and which proposals it relies on.

use crate::case::rules::{self, RuleTarget};
use crate::case::stack_program::{self, StackProgram};
use anyhow::{Context, Result};
use std::fmt;
use wasmparser::{
    ExternalKind, Operator, Parser, Payload, RefType, ValType, Validator, WasmFeatures,
};

/// A parameter or result type the harness can produce and observe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum ValueType {
    /// `i32`.
    I32,
    /// `i64`.
    I64,
    /// `f32`.
    F32,
    /// `f64`.
    F64,
    /// `v128`.
    V128,
    /// Nullable `funcref`.
    FuncRef,
    /// Nullable `externref`.
    ExternRef,
    /// Any other type (typed or non-nullable references): the harness cannot
    /// make arguments of it, so exports taking one are not called.
    Unsupported,
}

impl ValueType {
    fn from_wasmparser(ty: ValType) -> ValueType {
        match ty {
            ValType::I32 => ValueType::I32,
            ValType::I64 => ValueType::I64,
            ValType::F32 => ValueType::F32,
            ValType::F64 => ValueType::F64,
            ValType::V128 => ValueType::V128,
            ValType::Ref(r) if r == RefType::FUNCREF => ValueType::FuncRef,
            ValType::Ref(r) if r == RefType::EXTERNREF => ValueType::ExternRef,
            ValType::Ref(_) => ValueType::Unsupported,
        }
    }
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ValueType::I32 => "i32",
            ValueType::I64 => "i64",
            ValueType::F32 => "f32",
            ValueType::F64 => "f64",
            ValueType::V128 => "v128",
            ValueType::FuncRef => "funcref",
            ValueType::ExternRef => "externref",
            ValueType::Unsupported => "unsupported-ref",
        })
    }
}

/// A function signature.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Signature {
    /// Parameter types.
    pub params: Vec<ValueType>,
    /// Result types.
    pub results: Vec<ValueType>,
}

impl Signature {
    /// Whether Cranelift's x86-64 calling conventions pass some of these
    /// parameters on the stack (`case::stack_program::some_on_stack`).
    pub fn passes_arguments_on_stack(&self) -> bool {
        let vectors = self
            .params
            .iter()
            .filter(|t| matches!(t, ValueType::F32 | ValueType::F64 | ValueType::V128))
            .count();
        stack_program::some_on_stack(self.params.len() - vectors, vectors)
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |tys: &[ValueType]| {
            tys.iter()
                .map(|t| t.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        };
        write!(f, "({}) -> ({})", list(&self.params), list(&self.results))
    }
}

/// What kind of item an export is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExportKind {
    /// A function, with its signature and function index.
    Func {
        /// The function's signature.
        signature: Signature,
        /// Its index in the function index space.
        index: u32,
    },
    /// A linear memory.
    Memory,
    /// A global.
    Global,
    /// A table.
    Table,
    /// A tag or anything else the harness does not observe.
    Other,
}

/// One export, in module order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Export {
    /// The export name.
    pub name: String,
    /// What it exports.
    pub kind: ExportKind,
}

/// A validated module's observable surface.
#[derive(Clone, Debug)]
pub struct ModuleInfo {
    /// Exports in module order (engines may enumerate them in any order).
    pub exports: Vec<Export>,
    /// Whether any function body uses `return_call*`.
    pub uses_tail_calls: bool,
    /// Defined plus imported function count.
    pub function_count: u32,
    /// Number of imports.
    pub import_count: u32,
    /// The imports in module order, with what the harness must link
    /// for each (`case::imports`).
    pub imports: Vec<Import>,
    /// The initial value of the exported termination-fuel global
    /// ([`crate::case::termination::FUEL_EXPORT`]), if the module has one.
    pub termination_fuel: Option<i32>,
    /// What the budgets of every step are divided by
    /// ([`crate::case::termination::BUDGET_SECTION`]): 1 for a module
    /// without the section.
    pub budget_divisor: u64,
    /// What a stack program's custom section says it is
    /// ([`crate::case::stack_program`]); `None` for other modules.
    pub stack_program: Option<StackProgram>,
    /// The Cranelift rule a rule-guided module aims at
    /// ([`crate::case::rules`]); `None` for other modules.
    pub rule_target: Option<RuleTarget>,
}

/// One import of a module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Import {
    /// The module name.
    pub module: String,
    /// The field name.
    pub name: String,
    /// What it imports.
    pub ty: ImportType,
    /// Whether it is a global (of any type: imported globals come first in
    /// the global index space).
    pub global: bool,
}

/// The imports of an import section, with their types.
fn read_imports(
    types: wasmparser::types::TypesRef<'_>,
    reader: wasmparser::ImportSectionReader<'_>,
) -> Result<Vec<Import>> {
    let mut imports = Vec::new();
    let mut functions = 0;
    for import in reader.into_imports() {
        let import = import.context("reading an import")?;
        imports.push(Import {
            module: import.module.to_string(),
            name: import.name.to_string(),
            ty: import_type(types, import.ty, functions),
            global: matches!(import.ty, wasmparser::TypeRef::Global(_)),
        });
        if matches!(
            import.ty,
            wasmparser::TypeRef::Func(_) | wasmparser::TypeRef::FuncExact(_)
        ) {
            functions += 1;
        }
    }
    Ok(imports)
}

/// An import's type, as far as the harness can link it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImportType {
    /// A function.
    Function {
        /// Parameter types.
        params: Vec<ValueType>,
        /// Result types.
        results: Vec<ValueType>,
    },
    /// A linear memory.
    Memory {
        /// A 64-bit memory.
        memory64: bool,
        /// Minimum size, in pages.
        minimum: u64,
        /// Maximum size, in pages.
        maximum: Option<u64>,
        /// Custom page size.
        page_size_log2: Option<u32>,
    },
    /// A table of `funcref` or `externref`.
    Table {
        /// Element type.
        element: ValueType,
        /// A 64-bit table.
        table64: bool,
        /// Minimum size.
        minimum: u64,
        /// Maximum size.
        maximum: Option<u64>,
    },
    /// A global.
    Global {
        /// Its type.
        ty: ValueType,
        /// Whether the module may set it.
        mutable: bool,
    },
    /// Something the harness cannot make, and why (a tag, a shared
    /// memory, a typed reference).
    Unlinkable(String),
}

/// What the harness must link for an import of type `ty`.
fn import_type(
    types: wasmparser::types::TypesRef<'_>,
    ty: wasmparser::TypeRef,
    function: u32,
) -> ImportType {
    use wasmparser::TypeRef;
    let linkable = |t: ValueType| t != ValueType::Unsupported;
    match ty {
        TypeRef::Func(_) | TypeRef::FuncExact(_) => {
            let func = types[types.core_function_at(function)].unwrap_func();
            let values = |types: &[ValType]| -> Vec<ValueType> {
                types
                    .iter()
                    .map(|t| ValueType::from_wasmparser(*t))
                    .collect()
            };
            let (params, results) = (values(func.params()), values(func.results()));
            if params.iter().chain(&results).all(|t| linkable(*t)) {
                ImportType::Function { params, results }
            } else {
                ImportType::Unlinkable("a function over typed references".into())
            }
        }
        TypeRef::Memory(m) if m.shared => ImportType::Unlinkable("a shared memory".into()),
        TypeRef::Memory(m) => ImportType::Memory {
            memory64: m.memory64,
            minimum: m.initial,
            maximum: m.maximum,
            page_size_log2: m.page_size_log2,
        },
        TypeRef::Table(t) => match ValueType::from_wasmparser(ValType::Ref(t.element_type)) {
            element @ (ValueType::FuncRef | ValueType::ExternRef) if !t.shared => {
                ImportType::Table {
                    element,
                    table64: t.table64,
                    minimum: t.initial,
                    maximum: t.maximum,
                }
            }
            _ => ImportType::Unlinkable("a table of typed references".into()),
        },
        TypeRef::Global(g) => match ValueType::from_wasmparser(g.content_type) {
            ty if linkable(ty) && !g.shared => ImportType::Global {
                ty,
                mutable: g.mutable,
            },
            _ => ImportType::Unlinkable("a global of a typed reference".into()),
        },
        TypeRef::Tag(_) => ImportType::Unlinkable("a tag".into()),
    }
}

/// What an export is, with a function's signature.
fn export_kind(
    types: wasmparser::types::TypesRef<'_>,
    export: &wasmparser::Export<'_>,
) -> ExportKind {
    match export.kind {
        ExternalKind::Func => {
            let func = types[types.core_function_at(export.index)].unwrap_func();
            let values = |types: &[ValType]| -> Vec<ValueType> {
                types
                    .iter()
                    .map(|t| ValueType::from_wasmparser(*t))
                    .collect()
            };
            ExportKind::Func {
                signature: Signature {
                    params: values(func.params()),
                    results: values(func.results()),
                },
                index: export.index,
            }
        }
        ExternalKind::Memory => ExportKind::Memory,
        ExternalKind::Global => ExportKind::Global,
        ExternalKind::Table => ExportKind::Table,
        _ => ExportKind::Other,
    }
}

/// The initial value of a mutable i32 global set by a constant (the
/// termination counter's kind of global); `None` for any other.
fn mutable_i32_init(global: &wasmparser::Global<'_>) -> Option<i32> {
    let mut ops = global.init_expr.get_operators_reader();
    match (global.ty.mutable, global.ty.content_type, ops.read()) {
        (true, ValType::I32, Ok(Operator::I32Const { value })) => Some(value),
        _ => None,
    }
}

/// Whether a function body makes a tail call.
fn has_tail_call(body: &wasmparser::FunctionBody<'_>) -> Result<bool> {
    let mut ops = body
        .get_operators_reader()
        .context("reading a function body")?;
    while !ops.eof() {
        if matches!(
            ops.read().context("reading an instruction")?,
            Operator::ReturnCall { .. }
                | Operator::ReturnCallIndirect { .. }
                | Operator::ReturnCallRef { .. }
        ) {
            return Ok(true);
        }
    }
    Ok(false)
}

impl ModuleInfo {
    /// Validates `wasm` with every proposal wasmparser knows and collects its
    /// exports. Fails with the validator's message on an invalid module.
    pub fn parse(wasm: &[u8]) -> Result<ModuleInfo> {
        let types = Validator::new_with_features(WasmFeatures::all())
            .validate_all(wasm)
            .context("the module is not valid WebAssembly")?;
        let types = types.as_ref();
        let mut exports = Vec::new();
        let mut uses_tail_calls = false;
        let mut import_count = 0;
        let mut imported_globals = 0;
        let mut imports: Vec<Import> = Vec::new();
        let mut global_inits: Vec<Option<i32>> = Vec::new();
        let mut fuel_global = None;
        let mut stack_program = None;
        let mut rule_target = None;
        let mut budget_divisor = 1;
        for payload in Parser::new(0).parse_all(wasm) {
            match payload.context("parsing the module")? {
                Payload::ImportSection(reader) => {
                    import_count += reader.count();
                    imports = read_imports(types, reader)?;
                    imported_globals = imports.iter().filter(|i| i.global).count() as u32;
                }
                Payload::GlobalSection(reader) => {
                    for global in reader {
                        global_inits.push(mutable_i32_init(&global.context("reading a global")?));
                    }
                }
                Payload::ExportSection(reader) => {
                    for export in reader {
                        let export = export.context("reading an export")?;
                        if export.name == crate::case::termination::FUEL_EXPORT
                            && export.kind == ExternalKind::Global
                        {
                            fuel_global = Some(export.index);
                        }
                        exports.push(Export {
                            name: export.name.to_string(),
                            kind: export_kind(types, &export),
                        });
                    }
                }
                Payload::CustomSection(section) if section.name() == stack_program::SECTION => {
                    stack_program = std::str::from_utf8(section.data())
                        .ok()
                        .and_then(StackProgram::parse);
                }
                Payload::CustomSection(section)
                    if section.name() == crate::case::termination::BUDGET_SECTION =>
                {
                    budget_divisor = crate::case::termination::budget_divisor_in(section.data())?;
                }
                Payload::CustomSection(section) if section.name() == rules::SECTION => {
                    rule_target = std::str::from_utf8(section.data())
                        .ok()
                        .and_then(RuleTarget::parse);
                }
                Payload::CodeSectionEntry(body) if !uses_tail_calls => {
                    uses_tail_calls = has_tail_call(&body)?;
                }
                _ => {}
            }
        }
        let termination_fuel = fuel_global
            .and_then(|index| index.checked_sub(imported_globals))
            .and_then(|defined| global_inits.get(defined as usize).copied().flatten());
        Ok(ModuleInfo {
            exports,
            uses_tail_calls,
            function_count: types.function_count(),
            import_count,
            imports,
            termination_fuel,
            budget_divisor,
            stack_program,
            rule_target,
        })
    }

    /// Exported functions in module order.
    pub fn functions(&self) -> impl Iterator<Item = (&str, &Signature)> {
        self.exports.iter().filter_map(|e| match &e.kind {
            ExportKind::Func { signature, .. } => Some((e.name.as_str(), signature)),
            _ => None,
        })
    }

    /// Names of exports of one kind, in module order.
    pub fn names_of(&self, wanted: fn(&ExportKind) -> bool) -> Vec<String> {
        self.exports
            .iter()
            .filter(|e| wanted(&e.kind))
            .map(|e| e.name.clone())
            .collect()
    }
}

/// Whether `wasm` is valid when only `features` are enabled: a module that is
/// not, rejected by an engine supporting just those features, is an expected
/// rejection.
pub fn validates_with(wasm: &[u8], features: WasmFeatures) -> bool {
    Validator::new_with_features(features)
        .validate_all(wasm)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exports_keep_module_order_and_types() {
        let wasm = wat::parse_str(
            r#"(module
                (memory (export "z_mem") 1 1)
                (func (export "b") (param i32 f64) (result i64) i64.const 0)
                (global (export "a") (mut i32) (i32.const 1))
                (table (export "t") 1 1 funcref)
                (func (export "a_func")))"#,
        )
        .unwrap();
        let info = ModuleInfo::parse(&wasm).unwrap();
        let names: Vec<_> = info.exports.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["z_mem", "b", "a", "t", "a_func"]);
        let (_, sig) = info.functions().next().unwrap();
        assert_eq!(sig.to_string(), "(i32 f64) -> (i64)");
        assert!(!info.uses_tail_calls);
    }

    #[test]
    fn detects_tail_calls_and_feature_requirements() {
        let wasm = wat::parse_str(
            r#"(module (func $f (export "f") (result i32) return_call $g) (func $g (result i32) i32.const 1))"#,
        )
        .unwrap();
        let info = ModuleInfo::parse(&wasm).unwrap();
        assert!(info.uses_tail_calls);
        let mut without_tail = WasmFeatures::all();
        without_tail.remove(WasmFeatures::TAIL_CALL);
        assert!(!validates_with(&wasm, without_tail));
        assert!(validates_with(&wasm, WasmFeatures::all()));
    }

    #[test]
    fn stack_passing_follows_the_x64_register_counts() {
        let passes = |params: Vec<ValueType>| {
            Signature {
                params,
                results: vec![],
            }
            .passes_arguments_on_stack()
        };
        assert!(!passes(vec![ValueType::I64; 4]));
        assert!(passes(vec![ValueType::I32; 5]));
        assert!(!passes(vec![ValueType::F64; 8]));
        assert!(passes(vec![ValueType::V128; 9]));
        assert!(!passes(
            [vec![ValueType::I32; 4], vec![ValueType::F32; 8]].concat()
        ));
    }

    #[test]
    fn invalid_module_is_an_error_with_context() {
        let err = ModuleInfo::parse(b"\0asm\x01\0\0\0\x01").unwrap_err();
        assert!(
            format!("{err:#}").contains("not valid WebAssembly"),
            "{err:#}"
        );
    }
}
