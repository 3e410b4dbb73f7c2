//! Per-call termination fuel, and loops that count in locals.
//!
//! wasm-smith's `ensure_termination` keeps one fuel counter per instance, so
//! a first call that recurses or loops drains it and every later call traps
//! at once, observing nothing. crosscheck exports the counter under a
//! reserved name and refills it before every call, identically on every
//! engine: each call may run as long as the first.

use anyhow::{anyhow, Result};
use wasm_encoder::reencode::{utils, Error, Reencode, RoundtripReencoder};
use wasm_encoder::{ExportKind, ExportSection, SectionId};

/// The reserved export name of the termination-fuel global.
pub const FUEL_EXPORT: &str = "__crosscheck_termination_fuel";

/// The custom section of a module whose loops carry no counter: its text
/// is the number every budget of its steps is divided by (fuel and epoch
/// deadline), so that a call that never ends costs little on every
/// engine. The module carries it, so a stored, shrunk or checked case
/// keeps its budgets.
pub const BUDGET_SECTION: &str = "crosscheck-budget-divisor";

/// The divisor a [`BUDGET_SECTION`]'s `data` asks for.
pub fn budget_divisor_in(data: &[u8]) -> Result<u64> {
    std::str::from_utf8(data)
        .ok()
        .and_then(|text| text.parse::<u64>().ok())
        .filter(|divisor| *divisor > 0)
        .ok_or_else(|| anyhow!("the {BUDGET_SECTION} section must hold a positive integer"))
}

/// `wasm` with a [`BUDGET_SECTION`] asking for budgets divided by
/// `divisor`.
pub fn with_budget_divisor(mut wasm: Vec<u8>, divisor: u64) -> Vec<u8> {
    use wasm_encoder::{Encode, Section};
    let section = wasm_encoder::CustomSection {
        name: BUDGET_SECTION.into(),
        data: divisor.to_string().into_bytes().into(),
    };
    wasm.push(section.id());
    section.encode(&mut wasm);
    wasm
}

/// Adds the export `FUEL_EXPORT` for global `global`, creating the export
/// section if the module has none.
pub fn export_fuel_global(wasm: &[u8], global: u32) -> Result<Vec<u8>> {
    struct AddExport {
        global: u32,
        added: bool,
    }
    impl Reencode for AddExport {
        type Error = std::convert::Infallible;

        fn parse_export_section(
            &mut self,
            exports: &mut ExportSection,
            section: wasmparser::ExportSectionReader<'_>,
        ) -> Result<(), Error<Self::Error>> {
            utils::parse_export_section(self, exports, section)?;
            exports.export(FUEL_EXPORT, ExportKind::Global, self.global);
            self.added = true;
            Ok(())
        }

        fn intersperse_section_hook(
            &mut self,
            module: &mut wasm_encoder::Module,
            _after: Option<SectionId>,
            before: Option<SectionId>,
        ) -> Result<(), Error<Self::Error>> {
            // Without an export section of its own, the module gets one just
            // before the first section that must follow exports.
            let past_exports = match before {
                None => true,
                Some(id) => matches!(
                    id,
                    SectionId::Start
                        | SectionId::Element
                        | SectionId::DataCount
                        | SectionId::Code
                        | SectionId::Data
                ),
            };
            if past_exports && !self.added {
                let mut exports = ExportSection::new();
                exports.export(FUEL_EXPORT, ExportKind::Global, self.global);
                module.section(&exports);
                self.added = true;
            }
            Ok(())
        }
    }
    let mut reencoder = AddExport {
        global,
        added: false,
    };
    let mut module = wasm_encoder::Module::new();
    reencoder
        .parse_core_module(&mut module, wasmparser::Parser::new(0), wasm)
        .map_err(|e| anyhow!("re-encoding the module to export its fuel global: {e:?}"))?;
    Ok(module.finish())
}

/// `wasm` (after wasm-smith's `ensure_termination` with `fuel_global`) with
/// every loop counting its iterations in a local of its function instead
/// of in the global: the function's entry still draws on the global (so
/// calls and recursion stay bounded), but inside loops the counter is a
/// plain value the optimizer sees, not a store to instance state in every
/// iteration, which keeps memory optimizations (load and store
/// elimination, code motion out of loops) from firing. Each call of a
/// function may run `loop_fuel` loop iterations, over all its loops.
pub fn count_loops_locally(wasm: &[u8], fuel_global: u32, loop_fuel: u32) -> Result<Vec<u8>> {
    let params = defined_function_params(wasm)?;
    let mut reencoder = LocalLoopCounter {
        fuel_global,
        loop_fuel,
        params,
        next_function: 0,
    };
    let mut module = wasm_encoder::Module::new();
    reencoder
        .parse_core_module(&mut module, wasmparser::Parser::new(0), wasm)
        .map_err(|e| anyhow!("re-encoding the module to count loops in locals: {e:?}"))?;
    Ok(module.finish())
}

/// The number of parameters of each function the module defines, in order.
fn defined_function_params(wasm: &[u8]) -> Result<Vec<u32>> {
    let mut type_params: Vec<Option<u32>> = Vec::new();
    let mut params = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        match payload? {
            wasmparser::Payload::TypeSection(types) => {
                for group in types {
                    for sub in group?.into_types() {
                        type_params.push(match &sub.composite_type.inner {
                            wasmparser::CompositeInnerType::Func(f) => {
                                Some(f.params().len() as u32)
                            }
                            _ => None,
                        });
                    }
                }
            }
            wasmparser::Payload::FunctionSection(functions) => {
                for ty in functions {
                    let ty = ty?;
                    let count = type_params
                        .get(ty as usize)
                        .copied()
                        .flatten()
                        .ok_or_else(|| anyhow!("function of type {ty}, not a function type"))?;
                    params.push(count);
                }
            }
            _ => {}
        }
    }
    Ok(params)
}

struct LocalLoopCounter {
    fuel_global: u32,
    loop_fuel: u32,
    params: Vec<u32>,
    next_function: usize,
}

impl LocalLoopCounter {
    /// Whether `ops` open with `ensure_termination`'s loop-head check:
    /// trap when the global is zero, then decrement it.
    fn is_global_check(&self, ops: &[wasmparser::Operator<'_>]) -> bool {
        use wasmparser::{BlockType, Operator as O};
        let g = self.fuel_global;
        matches!(
            ops,
            [
                O::GlobalGet { global_index: a },
                O::I32Eqz,
                O::If { blockty: BlockType::Empty },
                O::Unreachable,
                O::End,
                O::GlobalGet { global_index: b },
                O::I32Const { value: 1 },
                O::I32Sub,
                O::GlobalSet { global_index: c },
                ..
            ] if *a == g && *b == g && *c == g
        )
    }
}

impl Reencode for LocalLoopCounter {
    type Error = std::convert::Infallible;

    fn parse_function_body(
        &mut self,
        code: &mut wasm_encoder::CodeSection,
        func: wasmparser::FunctionBody<'_>,
    ) -> Result<(), Error<Self::Error>> {
        use wasm_encoder::{BlockType, Instruction as I};
        let params = self.params.get(self.next_function).copied().unwrap_or(0);
        self.next_function += 1;
        let mut locals = Vec::new();
        let mut counter = params;
        for pair in func.get_locals_reader()? {
            let (count, ty) = pair?;
            counter += count;
            locals.push((count, self.val_type(ty)?));
        }
        locals.push((1, wasm_encoder::ValType::I32));
        let mut f = wasm_encoder::Function::new(locals);
        let mut reader = func.get_operators_reader()?;
        let mut ops = Vec::new();
        while !reader.eof() {
            ops.push(reader.read()?);
        }
        f.instruction(&I::I32Const(self.loop_fuel as i32));
        f.instruction(&I::LocalSet(counter));
        let mut i = 0;
        while i < ops.len() {
            let at_loop_head = matches!(ops[i], wasmparser::Operator::Loop { .. });
            f.instruction(&RoundtripReencoder.instruction(ops[i].clone())?);
            i += 1;
            if at_loop_head && self.is_global_check(&ops[i..]) {
                for instruction in [
                    I::LocalGet(counter),
                    I::I32Eqz,
                    I::If(BlockType::Empty),
                    I::Unreachable,
                    I::End,
                    I::LocalGet(counter),
                    I::I32Const(1),
                    I::I32Sub,
                    I::LocalSet(counter),
                ] {
                    f.instruction(&instruction);
                }
                i += 9;
            }
        }
        code.function(&f);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::module_info::ModuleInfo;

    #[test]
    fn a_module_carries_its_budget_divisor_and_a_bad_one_is_named() {
        let wasm = wat::parse_str(r#"(module (func (export "f") (loop (br 0))))"#).unwrap();
        assert_eq!(ModuleInfo::parse(&wasm).unwrap().budget_divisor, 1);
        let marked = with_budget_divisor(wasm.clone(), 50);
        let info = ModuleInfo::parse(&marked).unwrap();
        assert_eq!(info.budget_divisor, 50);
        let plan = crate::case::plan::Plan::from_seed(&info, 1, 1);
        let limits = crate::engine::ExecutionConfig::default();
        assert_eq!(limits.step_fuel(&plan), limits.fuel / 50);
        assert_eq!(
            limits.step_epoch_deadline_ms(&plan),
            limits.epoch_deadline_ms / 50
        );
        for bad in [&b"0"[..], b"fifty", b""] {
            let mut module = wasm.clone();
            let section = wasm_encoder::CustomSection {
                name: BUDGET_SECTION.into(),
                data: bad.into(),
            };
            use wasm_encoder::{Encode, Section};
            module.push(section.id());
            section.encode(&mut module);
            let error = format!("{:#}", ModuleInfo::parse(&module).unwrap_err());
            assert!(error.contains(BUDGET_SECTION), "{error}");
        }
    }

    #[test]
    fn the_fuel_global_is_exported_and_recognized() {
        let wasm = wat::parse_str(
            r#"(module (global (mut i32) (i32.const 77)) (global (mut i32) (i32.const 1000))
                 (func (export "f")))"#,
        )
        .unwrap();
        let with_export = export_fuel_global(&wasm, 1).unwrap();
        let info = ModuleInfo::parse(&with_export).unwrap();
        assert_eq!(info.termination_fuel, Some(1000));
        assert!(ModuleInfo::parse(&wasm).unwrap().termination_fuel.is_none());
    }

    /// `ensure_termination`'s check on global 0, as wasm-smith emits it.
    const GLOBAL_CHECK: &str =
        "global.get 0 i32.eqz if unreachable end global.get 0 i32.const 1 i32.sub global.set 0";

    #[test]
    fn loops_count_in_a_local_and_function_entries_in_the_global() {
        let wat = format!(
            r#"(module (global (mut i32) (i32.const 1000))
                 (func (export "spin") (param i32) (local i64)
                   {GLOBAL_CHECK}
                   (loop $outer {GLOBAL_CHECK}
                     (loop $inner {GLOBAL_CHECK} local.get 0 br_if $inner)
                     br $outer)))"#
        );
        let wasm = count_loops_locally(&wat::parse_str(&wat).unwrap(), 0, 5).unwrap();
        wasmparser::validate(&wasm).unwrap();
        let text = wasmprinter::print_bytes(&wasm).unwrap();
        // The entry's check stays; both loop heads count in local 2 (after
        // the parameter and the i64), set to 5 on entry.
        assert_eq!(text.matches("global.set 0").count(), 1, "{text}");
        assert_eq!(text.matches("local.set 2").count(), 3, "{text}");
        assert!(text.contains("(local i64 i32)"), "{text}");
        assert!(text.contains("i32.const 5\n    local.set 2"), "{text}");
        // It ends, with `unreachable`, after 5 iterations in all.
        let engine = crate::engine::build_engine("wasmi", &Default::default()).unwrap();
        let info = ModuleInfo::parse(&wasm).unwrap();
        let plan = crate::case::plan::Plan::single_call(&info, "spin", &["1".to_string()]).unwrap();
        let crate::engine::outcome::EngineRun::Ran(run) = engine.execute(&wasm, &plan) else {
            panic!("wasmi ran it");
        };
        assert_eq!(
            run.calls,
            [crate::engine::outcome::Outcome::Trap(
                crate::engine::outcome::TrapKind::Unreachable
            )]
        );
    }

    #[test]
    fn an_export_section_is_created_in_order_when_missing() {
        for wat in [
            "(module (global (mut i32) (i32.const 5)))",
            "(module (global (mut i32) (i32.const 5)) (func) (start 0))",
            "(module (memory 1) (global (mut i32) (i32.const 5)) (func) (data (i32.const 0) \"x\"))",
        ] {
            let wasm = export_fuel_global(&wat::parse_str(wat).unwrap(), 0).unwrap();
            let info = ModuleInfo::parse(&wasm).unwrap_or_else(|e| panic!("{wat}: {e:#}"));
            assert_eq!(info.termination_fuel, Some(5), "{wat}");
        }
    }
}
