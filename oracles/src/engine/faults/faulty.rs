//! Deliberately wrong engines: an engine running the module after every
//! occurrence of one instruction was rewritten into another of the same
//! type. On wasmi (`wasmi-fault-<x>`) they model an oracle bug; on a
//! Cranelift variant at opt level speed (`<variant>+fault-<x>`, listed for
//! every such variant of the matrix) they model a bug in code the whole
//! family shares, which opt-none, Winch and Pulley do not have. They exist
//! to prove that detection, attribution, deduplication and shrinking work,
//! and are never part of the default matrix.

pub use super::rule_faults::RuleFault;
use crate::case::plan::Plan;
use crate::engine::interface::{Capabilities, Engine, EngineError, ExecutionConfig, GeneratesCode};
use crate::engine::outcome::EngineRun;
use crate::engine::wasmi::WasmiEngine;
use anyhow::Result;
use wasmparser::{Operator, Parser, Payload, WasmFeatures};

/// One injected miscompilation: `from` is executed as `to`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// `i32.rem_s` runs as `i32.rem_u`.
    RemSignedAsUnsigned,
    /// `i32.add` runs as `i32.sub`.
    AddAsSub,
    /// `i32.shr_s` runs as `i32.shr_u`.
    ShrSignedAsUnsigned,
    /// `i32.lt_s` runs as `i32.lt_u`.
    LtSignedAsUnsigned,
    /// `i64.mul` runs as `i64.add`.
    I64MulAsAdd,
    /// `return_call` and `return_call_indirect` run as a call followed by
    /// `return`: a frame per tail call, as a tail-call lowering that
    /// forgot to reuse the caller's frame would leave.
    ReturnCallAsCall,
    /// A store directly before a `loop` is dropped (its operands popped),
    /// as a dead-store elimination that takes a later store for one that
    /// always follows would: a store that traps no longer does, and the
    /// loop after it runs. Only an engine without fuel or epochs shows it
    /// when that loop never ends: budgets stop the loop, inconclusively.
    StoreBeforeLoop,
    /// A store is dropped when a later store of the same width, offset and
    /// memory follows in its function (`engine::pass_faults`).
    StoreBeforeStore,
    /// A store is dropped when the same store follows a loop that has no
    /// exit through a trap: a dead-store elimination that ignores a path
    /// that never ends (`engine::pass_faults`).
    StoreAcrossEndlessLoop,
    /// An integer division of two locals inside a loop is also computed
    /// before the loop (`engine::pass_faults`).
    DivisionHoisted,
    /// A load after a call reads the value an earlier store before the
    /// call wrote (`engine::pass_faults`).
    LoadForwardedAcrossCall,
    /// A load with an offset at the default guard's edge reads 0 instead
    /// of trapping (`engine::pass_faults`).
    BoundsCheckDropped,
    /// A load from an imported memory takes its address modulo 64 KiB
    /// instead of trapping past the memory's end (`engine::pass_faults`).
    ImportedMemoryWrapped,
    /// Compiling a module whose function holds a non-nullable reference
    /// local panics, as a compiler that mishandles such locals in control
    /// flow would: a crash only the typed-reference catalogue's modules
    /// show (`case::passes::typed_refs`).
    NonNullableLocalPanic,
    /// Every loop iteration also copies 64 KiB of memory 0 onto itself:
    /// work fuel does not meter (`engine::pass_faults`), many times the CPU
    /// per unit of fuel, as Cranelift's loop-invariant code motion under
    /// fuel did in Wasmtime 48; nothing observable changes.
    UnmeteredCopy,
    /// A Cranelift rule wrong at the edge of its guard, only for edge
    /// constants and edge run-time values ([`RuleFault`]).
    Rule(RuleFault),
}

impl Fault {
    /// Every fault, for the engine registry.
    pub const ALL: [Fault; 19] = [
        Fault::RemSignedAsUnsigned,
        Fault::AddAsSub,
        Fault::ShrSignedAsUnsigned,
        Fault::LtSignedAsUnsigned,
        Fault::I64MulAsAdd,
        Fault::ReturnCallAsCall,
        Fault::StoreBeforeLoop,
        Fault::StoreBeforeStore,
        Fault::StoreAcrossEndlessLoop,
        Fault::DivisionHoisted,
        Fault::LoadForwardedAcrossCall,
        Fault::BoundsCheckDropped,
        Fault::ImportedMemoryWrapped,
        Fault::NonNullableLocalPanic,
        Fault::UnmeteredCopy,
        Fault::Rule(RuleFault::UdivPow2),
        Fault::Rule(RuleFault::SshrSign),
        Fault::Rule(RuleFault::SelectCompare),
        Fault::Rule(RuleFault::UextendShift),
    ];

    /// The fault's name in engine names.
    pub fn suffix(self) -> &'static str {
        match self {
            Fault::RemSignedAsUnsigned => "rem-s",
            Fault::AddAsSub => "add",
            Fault::ShrSignedAsUnsigned => "shr-s",
            Fault::LtSignedAsUnsigned => "lt-s",
            Fault::I64MulAsAdd => "i64-mul",
            Fault::ReturnCallAsCall => "return-call",
            Fault::StoreBeforeLoop => "store-before-loop",
            Fault::StoreBeforeStore => "store-before-store",
            Fault::StoreAcrossEndlessLoop => "store-across-endless-loop",
            Fault::DivisionHoisted => "division-hoisted",
            Fault::LoadForwardedAcrossCall => "load-forwarded",
            Fault::BoundsCheckDropped => "bounds-check-dropped",
            Fault::ImportedMemoryWrapped => "imported-memory-wrapped",
            Fault::NonNullableLocalPanic => "non-nullable-local-panic",
            Fault::UnmeteredCopy => "unmetered-copy",
            Fault::Rule(rule) => rule.suffix(),
        }
    }

    /// The fault named `suffix`, if any.
    pub fn from_suffix(suffix: &str) -> Option<Fault> {
        Fault::ALL.into_iter().find(|f| f.suffix() == suffix)
    }

    /// The engine name selecting this fault on wasmi in the config.
    pub fn engine_name(self) -> String {
        format!("wasmi-fault-{}", self.suffix())
    }

    /// `(from, to)` single-byte opcodes of the faults that swap one
    /// instruction for another; `None` for the others.
    fn opcodes(self) -> Option<(u8, u8)> {
        Some(match self {
            Fault::RemSignedAsUnsigned => (0x6f, 0x70),
            Fault::AddAsSub => (0x6a, 0x6b),
            Fault::ShrSignedAsUnsigned => (0x75, 0x76),
            Fault::LtSignedAsUnsigned => (0x48, 0x49),
            Fault::I64MulAsAdd => (0x7e, 0x7c),
            Fault::ReturnCallAsCall
            | Fault::StoreBeforeLoop
            | Fault::StoreBeforeStore
            | Fault::StoreAcrossEndlessLoop
            | Fault::DivisionHoisted
            | Fault::LoadForwardedAcrossCall
            | Fault::BoundsCheckDropped
            | Fault::ImportedMemoryWrapped
            | Fault::NonNullableLocalPanic
            | Fault::UnmeteredCopy
            | Fault::Rule(_) => return None,
        })
    }

    /// What the fault does, for reports.
    pub fn describe(self) -> &'static str {
        match self {
            Fault::RemSignedAsUnsigned => "i32.rem_s executed as i32.rem_u",
            Fault::AddAsSub => "i32.add executed as i32.sub",
            Fault::ShrSignedAsUnsigned => "i32.shr_s executed as i32.shr_u",
            Fault::LtSignedAsUnsigned => "i32.lt_s executed as i32.lt_u",
            Fault::I64MulAsAdd => "i64.mul executed as i64.add",
            Fault::ReturnCallAsCall => "return_call* executed as call* + return",
            Fault::StoreBeforeLoop => "a store directly before a loop is not executed",
            Fault::StoreBeforeStore => {
                "a store followed by another of the same width and offset is not executed"
            }
            Fault::StoreAcrossEndlessLoop => {
                "a store followed by the same store after a loop without a trap exit is not executed"
            }
            Fault::DivisionHoisted => {
                "an integer division of two locals in a loop also runs before the loop"
            }
            Fault::LoadForwardedAcrossCall => {
                "a load after a call reads what a store before the call wrote"
            }
            Fault::BoundsCheckDropped => {
                "a load with an offset at the default guard's edge reads 0 instead of trapping"
            }
            Fault::ImportedMemoryWrapped => {
                "a load from an imported memory wraps its address at 64 KiB instead of trapping"
            }
            Fault::NonNullableLocalPanic => {
                "compiling a function with a non-nullable reference local panics"
            }
            Fault::UnmeteredCopy => {
                "every loop iteration also copies 64 KiB of memory onto itself, unmetered"
            }
            Fault::Rule(rule) => rule.describe(),
        }
    }

    /// Panics where the fault is a compile panic and `wasm` triggers it.
    fn panic_compiling(self, wasm: &[u8]) {
        let non_nullable = "typed-ref:non-nullable-local";
        if self == Fault::NonNullableLocalPanic
            && crate::case::typed_flow::constructs(wasm).contains(&non_nullable)
        {
            panic!("injected fault: {}", self.describe());
        }
    }

    /// Rewrites every occurrence of the faulty instruction in function bodies.
    /// Returns the module unchanged if it is unparsable: the engine then
    /// rejects it exactly as wasmi would.
    pub fn apply(self, wasm: &[u8]) -> Vec<u8> {
        use super::pass_faults;
        let rewritten = match self {
            Fault::Rule(rule) => rule.apply(wasm),
            Fault::ReturnCallAsCall => tail_calls_as_calls(wasm),
            Fault::StoreBeforeLoop => stores_before_loops_dropped(wasm),
            Fault::StoreBeforeStore => pass_faults::store_before_store_dropped(wasm),
            Fault::StoreAcrossEndlessLoop => pass_faults::store_across_endless_loop_dropped(wasm),
            Fault::DivisionHoisted => pass_faults::division_hoisted_out_of_loop(wasm),
            Fault::LoadForwardedAcrossCall => pass_faults::load_forwarded_across_call(wasm),
            Fault::BoundsCheckDropped => pass_faults::bounds_check_dropped_at_guard_edge(wasm),
            Fault::ImportedMemoryWrapped => pass_faults::imported_memory_address_wrapped(wasm),
            Fault::UnmeteredCopy => pass_faults::unmetered_copy_in_loops(wasm),
            _ => return self.swap_opcodes(wasm),
        };
        rewritten.unwrap_or_else(|_| wasm.to_vec())
    }

    /// The module with the fault's instruction swapped for another of the
    /// same size, in place.
    fn swap_opcodes(self, wasm: &[u8]) -> Vec<u8> {
        let Some((from, to)) = self.opcodes() else {
            return wasm.to_vec();
        };
        let mut out = wasm.to_vec();
        for payload in Parser::new(0).parse_all(wasm) {
            let Ok(Payload::CodeSectionEntry(body)) = payload else {
                continue;
            };
            let Ok(mut ops) = body.get_operators_reader() else {
                continue;
            };
            while !ops.eof() {
                let Ok((op, offset)) = ops.read_with_offset() else {
                    break;
                };
                if opcode_byte(&op) == Some(from) && wasm[offset as usize] == from {
                    out[offset as usize] = to;
                }
            }
        }
        out
    }
}

/// `wasm` with every `return_call f` replaced by `call f; return` (and
/// `return_call_indirect` and `return_call_ref` likewise): re-encoded,
/// since the bodies grow.
fn tail_calls_as_calls(wasm: &[u8]) -> Result<Vec<u8>> {
    use wasm_encoder::Instruction;
    super::body_rewrite::rewrite_bodies(wasm, &|window| {
        let call = match window.first()? {
            Operator::ReturnCall { function_index } => Instruction::Call(*function_index),
            Operator::ReturnCallIndirect {
                type_index,
                table_index,
            } => Instruction::CallIndirect {
                type_index: *type_index,
                table_index: *table_index,
            },
            Operator::ReturnCallRef { type_index } => Instruction::CallRef(*type_index),
            _ => return None,
        };
        Some((vec![call, Instruction::Return], 1))
    })
}

/// `wasm` with every store directly followed by `loop` replaced by two
/// `drop`s (address and value).
fn stores_before_loops_dropped(wasm: &[u8]) -> Result<Vec<u8>> {
    use wasm_encoder::Instruction;
    super::body_rewrite::rewrite_bodies(wasm, &|window| {
        let is_store = matches!(
            window.first()?,
            Operator::I32Store { .. }
                | Operator::I64Store { .. }
                | Operator::F32Store { .. }
                | Operator::F64Store { .. }
                | Operator::I32Store8 { .. }
                | Operator::I32Store16 { .. }
                | Operator::I64Store8 { .. }
                | Operator::I64Store16 { .. }
                | Operator::I64Store32 { .. }
        );
        let before_loop = matches!(window.get(1), Some(Operator::Loop { .. }));
        (is_store && before_loop).then(|| (vec![Instruction::Drop, Instruction::Drop], 1))
    })
}

/// The single-byte opcode of the instructions faults rewrite.
fn opcode_byte(op: &Operator<'_>) -> Option<u8> {
    Some(match op {
        Operator::I32RemS => 0x6f,
        Operator::I32Add => 0x6a,
        Operator::I32ShrS => 0x75,
        Operator::I32LtS => 0x48,
        Operator::I64Mul => 0x7e,
        _ => return None,
    })
}

/// An engine with a [`Fault`] injected.
pub struct FaultyEngine {
    fault: Fault,
    name: String,
    inner: Box<dyn Engine>,
}

impl FaultyEngine {
    /// wasmi with the fault (`wasmi-fault-<x>`).
    pub fn new(fault: Fault, limits: &ExecutionConfig) -> Result<Self> {
        let name = fault.engine_name();
        Ok(FaultyEngine {
            fault,
            inner: Box::new(WasmiEngine::named(&name, limits)?),
            name,
        })
    }

    /// `inner` with the fault, under `name`.
    pub fn named(fault: Fault, inner: Box<dyn Engine>, name: String) -> Self {
        FaultyEngine { fault, name, inner }
    }
}

impl GeneratesCode for FaultyEngine {
    fn machine_code(&self, wasm: &[u8]) -> Result<Vec<u8>, EngineError> {
        let inner = self.inner.capabilities().machine_code.ok_or_else(|| {
            EngineError::Unavailable(format!("{} generates no machine code", self.inner.name()))
        })?;
        inner.machine_code(&self.fault.apply(wasm))
    }
}

impl Engine for FaultyEngine {
    fn name(&self) -> &str {
        &self.name
    }

    fn settings(&self) -> String {
        format!(
            "{} with injected fault: {}",
            self.inner.settings(),
            self.fault.describe()
        )
    }

    fn features(&self) -> WasmFeatures {
        self.inner.features()
    }

    fn compile(&self, wasm: &[u8]) -> Result<(), EngineError> {
        self.fault.panic_compiling(wasm);
        self.inner.compile(&self.fault.apply(wasm))
    }

    fn capabilities(&self) -> Capabilities<'_> {
        Capabilities {
            machine_code: self
                .inner
                .capabilities()
                .machine_code
                .map(|_| self as &dyn GeneratesCode),
            ..Capabilities::default()
        }
    }

    fn links_imports(&self, imports: &[crate::case::imports::Linked]) -> bool {
        self.inner.links_imports(imports)
    }

    fn execute_observed(&self, wasm: &[u8], plan: &Plan, compiled: &mut dyn FnMut()) -> EngineRun {
        self.fault.panic_compiling(wasm);
        self.inner
            .execute_observed(&self.fault.apply(wasm), plan, compiled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_only_the_target_instruction() {
        let wasm = wat::parse_str(
            r#"(module (func (export "f") (param i32 i32) (result i32)
                  local.get 0 local.get 1 i32.rem_s
                  i32.const 0x6f i32.add))"#,
        )
        .unwrap();
        let faulty = Fault::RemSignedAsUnsigned.apply(&wasm);
        let text = wasmprinter::print_bytes(&faulty).unwrap();
        assert!(text.contains("i32.rem_u"), "{text}");
        assert!(!text.contains("i32.rem_s"), "{text}");
        // The immediate 0x6f (111) is data, not an opcode: untouched.
        assert!(text.contains("i32.const 111"), "{text}");
        assert!(text.contains("i32.add"), "{text}");
    }

    #[test]
    fn tail_calls_become_calls_followed_by_return() {
        let wasm = wat::parse_str(
            r#"(module
                 (type $t (func (param i32) (result i32)))
                 (table 1 1 funcref) (elem (i32.const 0) $g)
                 (func $f (export "f") (param i32) (result i32)
                   local.get 0 return_call $g)
                 (func $g (param i32) (result i32)
                   local.get 0 i32.const 0 return_call_indirect (type $t)))"#,
        )
        .unwrap();
        let faulty = Fault::ReturnCallAsCall.apply(&wasm);
        wasmparser::Validator::new().validate_all(&faulty).unwrap();
        let text = wasmprinter::print_bytes(&faulty).unwrap();
        assert!(!text.contains("return_call"), "{text}");
        assert!(
            text.contains("call $g\n    return") || text.contains("call 1"),
            "{text}"
        );
        assert!(text.contains("call_indirect"), "{text}");
    }
}
