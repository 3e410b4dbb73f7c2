//! Stack programs: modules built for what wasm-smith's swarm hardly
//! reaches (its termination fuel keeps calls under ~1,000 frames and its
//! signatures rarely pass arguments on the stack). Three shapes:
//!
//! - **tail loops**: a cycle of functions calling each other with
//!   `return_call`, `return_call_indirect` or (a sixth of them, which only
//!   the Wasmtime-only sub-matrix runs: wasmi lacks typed function
//!   references) `return_call_ref` 10^5 to 10^6 times, with
//!   signatures of 0 to 20 mixed-type parameters (many passed on the
//!   stack, callers with more or fewer than their callees) and several
//!   results. A correct engine runs them in constant stack; a tail call
//!   compiled as call-plus-return overflows.
//! - **recursion that must overflow**, with small frames and frames over
//!   4 KiB (which need stack probes): every correct engine traps with stack
//!   overflow; one that returns or crashes is wrong.
//! - **recursion that fits** on every engine (a few hundred frames of at
//!   most a few hundred bytes): every engine returns, and the values agree.
//!
//! Each module states what every correct engine must do in a custom
//! section ([`SECTION`]), so the expectation travels with the module
//! through the store, shrinking and reproduction. Everything is drawn from
//! the case's entropy: one seed, one module.

use anyhow::{Context, Result};
use arbitrary::Unstructured;
use serde::{Deserialize, Serialize};
use std::fmt;
use wasm_encoder::{
    BlockType, CodeSection, ConstExpr, CustomSection, DataSection, ElementSection, Elements,
    ExportKind, ExportSection, Function, FunctionSection, Ieee32, Ieee64, Instruction, MemArg,
    MemArgTarget, MemorySection, MemoryType, Module, RefType, TableSection, TableType, TypeSection,
    ValType,
};

/// The custom section naming a stack program's shape and expectation.
pub const SECTION: &str = "crosscheck-stack";

/// Settings of stack programs (`[generator.stack]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StackProgramConfig {
    /// Share of cases that are stack programs instead of wasm-smith
    /// modules (0 turns them off).
    pub share: f64,
    /// Fewest iterations of a tail loop.
    pub min_tail_iterations: u32,
    /// Most iterations of a tail loop (drawn log-uniformly in between).
    pub max_tail_iterations: u32,
    /// Instructions one call of a tail loop may execute at most: fewer
    /// iterations are drawn for loops with many parameters, so that the
    /// loop ends well within `[execution] fuel`.
    pub max_tail_instructions: u64,
    /// Most parameters of a function (besides the loop counter or depth).
    pub max_params: u32,
    /// Native stack a recursion that must fit may use at most, by an upper
    /// estimate of its frames, in bytes: far below `max_wasm_stack`.
    pub fit_stack_bytes: u32,
}

impl Default for StackProgramConfig {
    fn default() -> Self {
        StackProgramConfig {
            share: 0.1,
            min_tail_iterations: 100_000,
            max_tail_iterations: 1_000_000,
            max_tail_instructions: 20_000_000,
            max_params: 20,
            fit_stack_bytes: 256 << 10,
        }
    }
}

/// The three shapes of stack programs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StackShape {
    /// A cycle of tail calls that must complete.
    TailLoop,
    /// Unbounded recursion that must overflow.
    MustOverflow,
    /// Bounded recursion that must complete.
    Fits,
}

impl StackShape {
    /// Stable name, used in the custom section and in counters.
    pub fn as_str(self) -> &'static str {
        match self {
            StackShape::TailLoop => "tail-loop",
            StackShape::MustOverflow => "must-overflow",
            StackShape::Fits => "fits",
        }
    }

    /// What every correct engine does with a program of this shape.
    pub fn expectation(self) -> StackExpectation {
        match self {
            StackShape::TailLoop | StackShape::Fits => StackExpectation::Completes,
            StackShape::MustOverflow => StackExpectation::Overflows,
        }
    }

    fn parse(text: &str) -> Option<StackShape> {
        [
            StackShape::TailLoop,
            StackShape::MustOverflow,
            StackShape::Fits,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// What a correct engine does with a module's calls, as far as the stack
/// goes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum StackExpectation {
    /// Not known (a wasm-smith module): engines may overflow at different
    /// depths, and a partial overflow is re-run with a larger stack.
    #[default]
    Unknown,
    /// Every call returns or traps for another reason: an overflow is wrong.
    Completes,
    /// Every call overflows: anything else is wrong.
    Overflows,
    /// The case runs again with much larger stacks after some engines
    /// overflowed where others did not: an engine still overflowing where
    /// the others complete is wrong.
    LargerStacks,
}

/// How a stack program's functions call each other.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CallKind {
    /// `call`, `return_call`.
    Direct,
    /// Through the table: `call_indirect`, `return_call_indirect`.
    Indirect,
    /// Through a typed function reference: `return_call_ref` (typed
    /// function references, so only on the Wasmtime-only sub-matrix).
    Ref,
}

impl CallKind {
    const ALL: [CallKind; 3] = [CallKind::Direct, CallKind::Indirect, CallKind::Ref];

    /// Stable name, used in the custom section.
    pub fn as_str(self) -> &'static str {
        match self {
            CallKind::Direct => "direct",
            CallKind::Indirect => "indirect",
            CallKind::Ref => "ref",
        }
    }

    fn parse(text: &str) -> Option<CallKind> {
        CallKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// What a stack program is, as its custom section records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackProgram {
    /// The shape.
    pub shape: StackShape,
    /// Tail calls per call of `run` (tail loops), recursion depth (fits);
    /// 0 for a recursion that must overflow.
    pub iterations: u32,
    /// Functions in the cycle of calls.
    pub functions: u32,
    /// How the functions call each other.
    pub call: CallKind,
    /// Whether some call passes arguments on the stack on x86-64 (more than
    /// four integer or eight float/vector parameters).
    pub stack_args: bool,
    /// Bytes of values live across each recursive call (an estimate of the
    /// frame's spill area).
    pub frame_bytes: u32,
}

impl fmt::Display for StackProgram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "shape={} iterations={} functions={} call={} stack-args={} frame-bytes={}",
            self.shape.as_str(),
            self.iterations,
            self.functions,
            self.call.as_str(),
            u8::from(self.stack_args),
            self.frame_bytes
        )
    }
}

impl StackProgram {
    /// Reads the custom section's text; `None` if it is not one.
    pub fn parse(text: &str) -> Option<StackProgram> {
        let mut program = StackProgram {
            shape: StackShape::Fits,
            iterations: 0,
            functions: 0,
            call: CallKind::Direct,
            stack_args: false,
            frame_bytes: 0,
        };
        let mut shape = None;
        for field in text.split_whitespace() {
            let (key, value) = field.split_once('=')?;
            match key {
                "shape" => shape = StackShape::parse(value),
                "iterations" => program.iterations = value.parse().ok()?,
                "functions" => program.functions = value.parse().ok()?,
                "call" => program.call = CallKind::parse(value)?,
                "stack-args" => program.stack_args = value == "1",
                "frame-bytes" => program.frame_bytes = value.parse().ok()?,
                _ => {}
            }
        }
        program.shape = shape?;
        Some(program)
    }
}

/// A value type of stack programs' parameters and results.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ty {
    I32,
    I64,
    F32,
    F64,
    V128,
}

impl Ty {
    fn val(self) -> ValType {
        match self {
            Ty::I32 => ValType::I32,
            Ty::I64 => ValType::I64,
            Ty::F32 => ValType::F32,
            Ty::F64 => ValType::F64,
            Ty::V128 => ValType::V128,
        }
    }

    fn is_integer(self) -> bool {
        matches!(self, Ty::I32 | Ty::I64)
    }

    /// A constant of this type made from `k`.
    fn constant(self, k: i32) -> Instruction<'static> {
        match self {
            Ty::I32 => Instruction::I32Const(k),
            Ty::I64 => Instruction::I64Const(i64::from(k) * 0x1_0000_0001),
            Ty::F32 => Instruction::F32Const(Ieee32::from(k as f32 * 0.5)),
            Ty::F64 => Instruction::F64Const(Ieee64::from(f64::from(k) * 0.25)),
            Ty::V128 => Instruction::V128Const(i128::from(k) * 0x1_0000_0001_0000_0001),
        }
    }

    /// Adds the two values on top of the stack.
    fn add(self) -> Instruction<'static> {
        match self {
            Ty::I32 => Instruction::I32Add,
            Ty::I64 => Instruction::I64Add,
            Ty::F32 => Instruction::F32Add,
            Ty::F64 => Instruction::F64Add,
            Ty::V128 => Instruction::I32x4Add,
        }
    }

    /// Turns the i32 on top of the stack into a value of this type.
    fn converted_from_i32(self) -> Option<Instruction<'static>> {
        match self {
            Ty::I32 => None,
            Ty::I64 => Some(Instruction::I64ExtendI32U),
            Ty::F32 => Some(Instruction::F32ConvertI32S),
            Ty::F64 => Some(Instruction::F64ConvertI32U),
            Ty::V128 => Some(Instruction::I32x4Splat),
        }
    }
}

/// Whether a function with these parameters gets some on the stack.
fn passes_on_stack(params: &[Ty]) -> bool {
    let integers = params.iter().filter(|t| t.is_integer()).count();
    some_on_stack(integers, params.len() - integers)
}

/// Builds the stack program the entropy in `u` draws: its bytes and what
/// its section says.
pub fn build(
    u: &mut Unstructured<'_>,
    config: &StackProgramConfig,
) -> Result<(Vec<u8>, StackProgram)> {
    let shape = match u.int_in_range(0u8..=3).context("drawing the shape")? {
        0 | 1 => StackShape::TailLoop,
        2 => StackShape::MustOverflow,
        _ => StackShape::Fits,
    };
    let program = match shape {
        StackShape::TailLoop => tail_loop(u, config)?,
        StackShape::MustOverflow | StackShape::Fits => recursion(u, config, shape)?,
    };
    Ok(program)
}

/// Draws `count` parameter types.
fn draw_types(u: &mut Unstructured<'_>, count: u32) -> Result<Vec<Ty>> {
    (0..count)
        .map(|_| {
            // Vectors rarely: they are wide and one of five kinds is plenty.
            let pick = u.int_in_range(0u8..=8)?;
            Ok(match pick {
                0 | 1 => Ty::I32,
                2 | 3 => Ty::I64,
                4 | 5 => Ty::F32,
                6 | 7 => Ty::F64,
                _ => Ty::V128,
            })
        })
        .collect::<arbitrary::Result<Vec<_>>>()
        .context("drawing parameter types")
}

/// Draws a parameter count: half the time up to four (all in registers),
/// otherwise up to the maximum (mostly on the stack).
fn draw_param_count(u: &mut Unstructured<'_>, max: u32) -> Result<u32> {
    let few = u.arbitrary::<bool>()?;
    let count = if few {
        u.int_in_range(0..=max.min(4))?
    } else {
        u.int_in_range(max.min(5)..=max)?
    };
    Ok(count)
}

/// Pushes a value of type `ty` derived from the function's locals:
/// one of the same type (chosen by `pick`) plus a constant, or the i32
/// local `counter` converted. Every value changes from call to call, so
/// an argument passed wrong shows in the result.
fn derived(f: &mut Function, ty: Ty, locals: &[(u32, Ty)], counter: u32, pick: usize, k: i32) {
    let same: Vec<u32> = locals
        .iter()
        .filter(|(_, t)| *t == ty)
        .map(|(i, _)| *i)
        .collect();
    match same.get(pick % same.len().max(1)) {
        Some(local) => {
            f.instruction(&Instruction::LocalGet(*local));
            f.instruction(&ty.constant(k));
            f.instruction(&ty.add());
        }
        None => {
            f.instruction(&Instruction::LocalGet(counter));
            if let Some(convert) = ty.converted_from_i32() {
                f.instruction(&convert);
            }
        }
    }
}

/// `params` with their local indices, the first being `first`.
fn numbered(params: &[Ty], first: u32) -> Vec<(u32, Ty)> {
    (first..).zip(params.iter().copied()).collect()
}

/// Pushes the sum of every local of type `ty`, or a constant if there is
/// none.
fn folded(f: &mut Function, ty: Ty, locals: &[(u32, Ty)], k: i32) {
    let same: Vec<u32> = locals
        .iter()
        .filter(|(_, t)| *t == ty)
        .map(|(i, _)| *i)
        .collect();
    f.instruction(&ty.constant(k));
    for local in same {
        f.instruction(&Instruction::LocalGet(local));
        f.instruction(&ty.add());
    }
}

/// The parts every stack program has: types, functions, a table of the
/// cycle's functions, a memory with random data, the `run` export.
struct Parts {
    types: TypeSection,
    type_count: u32,
    functions: FunctionSection,
    code: CodeSection,
}

impl Parts {
    /// The cycle's functions, `function(i)` of type `func_types[i]`, then
    /// `run` of type `run_type`, which starts it.
    fn add_cycle(
        &mut self,
        func_types: &[u32],
        function: impl Fn(usize) -> Function,
        (run_type, run): (u32, Function),
    ) {
        for (i, ty) in func_types.iter().enumerate() {
            self.functions.function(*ty);
            self.code.function(&function(i));
        }
        self.functions.function(run_type);
        self.code.function(&run);
    }

    fn new() -> Parts {
        Parts {
            types: TypeSection::new(),
            type_count: 0,
            functions: FunctionSection::new(),
            code: CodeSection::new(),
        }
    }

    fn ty(&mut self, params: &[ValType], results: &[ValType]) -> u32 {
        self.types
            .ty()
            .function(params.iter().copied(), results.iter().copied());
        self.type_count += 1;
        self.type_count - 1
    }

    /// Assembles the module: `cycle` functions in the table, `run` (the
    /// last function) exported, `data` in a one-page memory.
    fn finish(self, cycle: u32, data: &[u8], program: &StackProgram) -> Vec<u8> {
        let mut module = Module::new();
        module.section(&self.types);
        module.section(&self.functions);
        let mut tables = TableSection::new();
        tables.table(TableType {
            element_type: RefType::FUNCREF,
            table64: false,
            minimum: u64::from(cycle),
            maximum: Some(u64::from(cycle)),
            shared: false,
        });
        module.section(&tables);
        let mut memories = MemorySection::new();
        memories.memory(MemoryType {
            minimum: 1,
            maximum: Some(1),
            memory64: false,
            shared: false,
            page_size_log2: None,
        });
        module.section(&memories);
        let mut exports = ExportSection::new();
        exports.export("run", ExportKind::Func, cycle);
        module.section(&exports);
        let mut elements = ElementSection::new();
        let indices: Vec<u32> = (0..cycle).collect();
        elements.active(
            None,
            &ConstExpr::i32_const(0),
            Elements::Functions(indices.into()),
        );
        module.section(&elements);
        module.section(&self.code);
        let mut datas = DataSection::new();
        datas.active(0, &ConstExpr::i32_const(0), data.iter().copied());
        module.section(&datas);
        module.section(&CustomSection {
            name: SECTION.into(),
            data: program.to_string().into_bytes().into(),
        });
        module.finish()
    }
}

/// The functions of a tail-call cycle.
struct TailCycle<'a> {
    params: &'a [Vec<Ty>],
    func_types: &'a [u32],
    results: &'a [Ty],
    block_type: u32,
    call: CallKind,
}

impl TailCycle<'_> {
    /// Function `i`: its results folded from its parameters when the
    /// counter is zero, else a tail call of the next function with the
    /// counter decremented and parameters derived from its own.
    fn function(&self, i: usize) -> Function {
        let next = (i + 1) % self.params.len();
        // The counter is local 0.
        let locals = numbered(&self.params[i], 1);
        let mut f = Function::new([]);
        f.instruction(&Instruction::LocalGet(0));
        f.instruction(&Instruction::I32Eqz);
        f.instruction(&Instruction::If(BlockType::FunctionType(self.block_type)));
        for (r, ty) in self.results.iter().enumerate() {
            folded(&mut f, *ty, &locals, r as i32 + 3);
        }
        f.instruction(&Instruction::Else);
        f.instruction(&Instruction::LocalGet(0));
        f.instruction(&Instruction::I32Const(1));
        f.instruction(&Instruction::I32Sub);
        for (j, ty) in self.params[next].iter().enumerate() {
            derived(&mut f, *ty, &locals, 0, j + i + 1, 2 * j as i32 + 1);
        }
        match self.call {
            CallKind::Direct => {
                f.instruction(&Instruction::ReturnCall(next as u32));
            }
            CallKind::Indirect => {
                f.instruction(&Instruction::I32Const(next as i32));
                f.instruction(&Instruction::ReturnCallIndirect {
                    type_index: self.func_types[next],
                    table_index: 0,
                });
            }
            CallKind::Ref => {
                // Declared by the table's element segment.
                f.instruction(&Instruction::RefFunc(next as u32));
                f.instruction(&Instruction::ReturnCallRef(self.func_types[next]));
            }
        }
        f.instruction(&Instruction::End);
        f.instruction(&Instruction::End);
        f
    }
}

/// `run`: calls function 0 with `first` and its own `params` parameters.
fn run_function(first: i32, params: u32) -> Function {
    let mut run = Function::new([]);
    run.instruction(&Instruction::I32Const(first));
    for j in 0..params {
        run.instruction(&Instruction::LocalGet(j));
    }
    run.instruction(&Instruction::Call(0));
    run.instruction(&Instruction::End);
    run
}

/// A cycle of 1 to 4 functions, each `(counter i32, params...) -> results`
/// tail-calling the next until the counter reaches zero, and `run`
/// starting it with the drawn iteration count.
fn tail_loop(
    u: &mut Unstructured<'_>,
    config: &StackProgramConfig,
) -> Result<(Vec<u8>, StackProgram)> {
    let cycle = u.int_in_range(1u32..=4)?;
    let call = match u.int_in_range(0u8..=5)? {
        0..=2 => CallKind::Direct,
        3 | 4 => CallKind::Indirect,
        _ => CallKind::Ref,
    };
    let params: Vec<Vec<Ty>> = (0..cycle)
        .map(|_| {
            let count = draw_param_count(u, config.max_params)?;
            draw_types(u, count)
        })
        .collect::<Result<_>>()?;
    let result_count = u.int_in_range(1u32..=3)?;
    let results = draw_types(u, result_count)?;
    let result_vals: Vec<ValType> = results.iter().map(|t| t.val()).collect();
    let mut parts = Parts::new();
    let func_types: Vec<u32> = params
        .iter()
        .map(|p| {
            let mut all = vec![ValType::I32];
            all.extend(p.iter().map(|t| t.val()));
            parts.ty(&all, &result_vals)
        })
        .collect();
    let run_params: Vec<ValType> = params[0].iter().map(|t| t.val()).collect();
    let run_type = parts.ty(&run_params, &result_vals);
    let block_type = parts.ty(&[], &result_vals);
    // Instructions per trip around the cycle, to keep the loop within the
    // instruction budget.
    let per_trip: u64 = params.iter().map(|p| 8 + 3 * p.len() as u64).sum();
    let budget = (config.max_tail_instructions / per_trip.max(1)) * u64::from(cycle);
    let wanted = log_uniform(u, config.min_tail_iterations, config.max_tail_iterations)?;
    let iterations = u64::from(wanted).min(budget).max(1) as u32;
    let tail = TailCycle {
        params: &params,
        func_types: &func_types,
        results: &results,
        block_type,
        call,
    };
    let run = run_function(iterations as i32, params[0].len() as u32);
    parts.add_cycle(&func_types, |i| tail.function(i), (run_type, run));
    let program = StackProgram {
        shape: StackShape::TailLoop,
        iterations,
        functions: cycle,
        call,
        stack_args: params.iter().any(|p| passes_on_stack(p)),
        frame_bytes: 0,
    };
    let data = draw_data(u, 64)?;
    Ok((parts.finish(cycle, &data, &program), program))
}

/// The functions of a recursive cycle.
struct Recursion<'a> {
    params: &'a [Vec<Ty>],
    func_types: &'a [u32],
    call: CallKind,
    /// Values loaded before the call and used after it.
    live: u32,
    must_overflow: bool,
}

impl Recursion<'_> {
    /// Function `i`: at depth zero (unless it must overflow) its
    /// parameters folded into `x`; else `live` values loaded, a call of
    /// the next function one level deeper, and the live values added to
    /// its result.
    fn function(&self, i: usize) -> Function {
        let next = (i + 1) % self.params.len();
        let live = self.live;
        // The depth and `x` are locals 0 and 1.
        let locals = numbered(&self.params[i], 2);
        let first_live = 2 + self.params[i].len() as u32;
        let mut f = Function::new([(live, ValType::I64)]);
        let after_call = |f: &mut Function| {
            for j in 0..live {
                f.instruction(&Instruction::LocalGet(first_live + j));
                f.instruction(&Instruction::I64Add);
            }
        };
        let load_live = |f: &mut Function| {
            for j in 0..live {
                f.instruction(&Instruction::I32Const(0));
                f.instruction(&Instruction::I64Load(MemArg {
                    offset: u64::from(j) * 8,
                    align: 3,
                    target: MemArgTarget::Memory(0),
                    ordering: None,
                }));
                f.instruction(&Instruction::LocalGet(1));
                f.instruction(&Instruction::I64Xor);
                f.instruction(&Instruction::LocalSet(first_live + j));
            }
        };
        let recurse = |f: &mut Function| {
            f.instruction(&Instruction::LocalGet(0));
            f.instruction(&Instruction::I32Const(1));
            f.instruction(&Instruction::I32Sub);
            f.instruction(&Instruction::LocalGet(1));
            f.instruction(&Instruction::I64Const(0x9e37_79b9));
            f.instruction(&Instruction::I64Add);
            for (j, ty) in self.params[next].iter().enumerate() {
                derived(f, *ty, &locals, 0, j + i + 1, 2 * j as i32 + 1);
            }
            if self.call == CallKind::Indirect {
                f.instruction(&Instruction::I32Const(next as i32));
                f.instruction(&Instruction::CallIndirect {
                    type_index: self.func_types[next],
                    table_index: 0,
                });
            } else {
                f.instruction(&Instruction::Call(next as u32));
            }
        };
        if self.must_overflow {
            load_live(&mut f);
            recurse(&mut f);
            after_call(&mut f);
        } else {
            f.instruction(&Instruction::LocalGet(0));
            f.instruction(&Instruction::I32Eqz);
            f.instruction(&Instruction::If(BlockType::Result(ValType::I64)));
            f.instruction(&Instruction::LocalGet(1));
            // The parameters feed the result, so each must arrive intact.
            for (local, ty) in &locals {
                f.instruction(&Instruction::LocalGet(*local));
                for op in fold_to_i64(*ty) {
                    f.instruction(&op);
                }
                f.instruction(&Instruction::I64Add);
            }
            f.instruction(&Instruction::Else);
            load_live(&mut f);
            recurse(&mut f);
            after_call(&mut f);
            f.instruction(&Instruction::End);
        }
        f.instruction(&Instruction::End);
        f
    }
}

/// A recursion depth that fits on every engine's stack: frames of
/// functions with `params` and `live` values kept across the call.
fn draw_fitting_depth(
    u: &mut Unstructured<'_>,
    config: &StackProgramConfig,
    params: &[Vec<Ty>],
    live: u32,
) -> Result<u32> {
    // An upper estimate of a frame: live values, parameters (16 bytes for
    // vectors), return address, saved registers and alignment.
    let frame_estimate = |p: &[Ty]| -> u32 {
        let param_bytes: u32 = p.iter().map(|t| if *t == Ty::V128 { 16 } else { 8 }).sum();
        8 * live + 2 * param_bytes + 128
    };
    let largest_frame = params
        .iter()
        .map(|p| frame_estimate(p))
        .max()
        .unwrap_or(128);
    let fits = (config.fit_stack_bytes / largest_frame).max(2);
    Ok(u.int_in_range(fits.min(100)..=fits.min(2000))?)
}

/// A cycle of 1 or 2 functions recursing with plain calls (or
/// `call_indirect`), each keeping `live` values loaded from memory alive
/// across its call so that its frame holds them. `Fits` stops at a drawn
/// depth that fits on every engine; `MustOverflow` never stops.
fn recursion(
    u: &mut Unstructured<'_>,
    config: &StackProgramConfig,
    shape: StackShape,
) -> Result<(Vec<u8>, StackProgram)> {
    let cycle = u.int_in_range(1u32..=2)?;
    let call = if u.arbitrary::<bool>()? {
        CallKind::Indirect
    } else {
        CallKind::Direct
    };
    let must_overflow = shape == StackShape::MustOverflow;
    // Large frames (over 4 KiB, probed page by page) only where the
    // recursion must overflow anyway; fitting ones stay small.
    let live: u32 = if must_overflow && u.arbitrary::<bool>()? {
        u.int_in_range(520..=1000)?
    } else {
        u.int_in_range(0..=16)?
    };
    let params: Vec<Vec<Ty>> = (0..cycle)
        .map(|_| {
            let count = draw_param_count(u, config.max_params)?;
            draw_types(u, count)
        })
        .collect::<Result<_>>()?;
    // (depth i32, x i64, params...) -> i64
    let mut parts = Parts::new();
    let func_types: Vec<u32> = params
        .iter()
        .map(|p| {
            let mut all = vec![ValType::I32, ValType::I64];
            all.extend(p.iter().map(|t| t.val()));
            parts.ty(&all, &[ValType::I64])
        })
        .collect();
    let mut run_params = vec![ValType::I64];
    run_params.extend(params[0].iter().map(|t| t.val()));
    let run_type = parts.ty(&run_params, &[ValType::I64]);
    let depth = if must_overflow {
        0
    } else {
        draw_fitting_depth(u, config, &params, live)?
    };
    let data = draw_data(u, (live as usize + 1) * 8)?;
    let recursion = Recursion {
        params: &params,
        func_types: &func_types,
        call,
        live,
        must_overflow,
    };
    let run = run_function(depth as i32, run_params.len() as u32);
    parts.add_cycle(&func_types, |i| recursion.function(i), (run_type, run));
    let program = StackProgram {
        shape,
        iterations: depth,
        functions: cycle,
        call,
        stack_args: params.iter().any(|p| {
            let mut all = vec![Ty::I32, Ty::I64];
            all.extend(p);
            passes_on_stack(&all)
        }),
        frame_bytes: 8 * live,
    };
    Ok((parts.finish(cycle, &data, &program), program))
}

/// Instructions turning a value of `ty` into an i64 without traps and
/// without NaN payloads (which engines may choose differently): floats
/// by saturating truncation, vectors by a lane.
fn fold_to_i64(ty: Ty) -> Vec<Instruction<'static>> {
    match ty {
        Ty::I32 => vec![Instruction::I64ExtendI32U],
        Ty::I64 => vec![],
        Ty::F32 => vec![Instruction::I64TruncSatF32S],
        Ty::F64 => vec![Instruction::I64TruncSatF64S],
        Ty::V128 => vec![Instruction::I64x2ExtractLane(1)],
    }
}

/// `len` bytes of memory contents.
fn draw_data(u: &mut Unstructured<'_>, len: usize) -> Result<Vec<u8>> {
    let mut data = vec![0u8; len];
    u.fill_buffer(&mut data)
        .context("drawing memory contents")?;
    Ok(data)
}

/// An integer between `min` and `max`, uniform on the log scale.
fn log_uniform(u: &mut Unstructured<'_>, min: u32, max: u32) -> Result<u32> {
    let (min, max) = (min.max(1), max.max(min.max(1)));
    let step: u16 = u.arbitrary()?;
    let t = f64::from(step) / f64::from(u16::MAX);
    let value = (f64::from(min).ln() + t * (f64::from(max).ln() - f64::from(min).ln())).exp();
    Ok((value.round() as u32).clamp(min, max))
}

/// Whether a function with `integers` integer or reference parameters and
/// `vectors` float or vector parameters gets some of them on the stack:
/// Cranelift's x86-64 calling conventions have six integer registers, two
/// of them taken by the VM context, and eight vector registers for floats
/// and vectors. Arguments beyond them go on the stack, where a tail call
/// must rewrite the caller's frame.
pub fn some_on_stack(integers: usize, vectors: usize) -> bool {
    integers > 4 || vectors > 8
}

#[cfg(test)]
mod tests {
    use super::*;

    fn program(seed: u8, config: &StackProgramConfig) -> (Vec<u8>, StackProgram) {
        let entropy: Vec<u8> = (0..4096u32)
            .map(|i| {
                (i.wrapping_mul(2_654_435_761)
                    .wrapping_add(u32::from(seed) * 97)
                    >> 13) as u8
            })
            .collect();
        build(&mut Unstructured::new(&entropy), config).unwrap()
    }

    #[test]
    fn every_shape_validates_and_records_itself() {
        let config = StackProgramConfig::default();
        let mut shapes = std::collections::HashSet::new();
        let mut calls = std::collections::HashSet::new();
        for seed in 0..=255u8 {
            let (wasm, program) = program(seed, &config);
            let features =
                crate::engine::comparable_features() | crate::engine::proposal_features();
            wasmparser::Validator::new_with_features(features)
                .validate_all(&wasm)
                .unwrap_or_else(|e| panic!("seed {seed} ({program}): {e}"));
            let info = crate::case::module_info::ModuleInfo::parse(&wasm).unwrap();
            assert_eq!(info.stack_program.as_ref(), Some(&program), "seed {seed}");
            shapes.insert(program.shape);
            if program.shape == StackShape::TailLoop {
                assert!(info.uses_tail_calls);
                assert!(program.iterations >= 1);
            }
            // Only calls through references need a proposal wasmi lacks.
            let plain =
                wasmparser::Validator::new_with_features(crate::engine::comparable_features())
                    .validate_all(&wasm)
                    .is_ok();
            assert_eq!(plain, program.call != CallKind::Ref, "seed {seed}");
            calls.insert(program.call);
        }
        assert_eq!(shapes.len(), 3, "{shapes:?}");
        assert_eq!(calls.len(), 3, "{calls:?}");
    }

    #[test]
    fn the_section_round_trips() {
        let p = StackProgram {
            shape: StackShape::TailLoop,
            iterations: 123_456,
            functions: 3,
            call: CallKind::Ref,
            stack_args: true,
            frame_bytes: 0,
        };
        assert_eq!(StackProgram::parse(&p.to_string()), Some(p));
        assert_eq!(StackProgram::parse("shape=spiral"), None);
    }
}
