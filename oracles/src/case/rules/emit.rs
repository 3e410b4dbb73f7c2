//! A rule's shape as a Wasm module: functions realizing the pattern with
//! constants at its edges, operands delivered through parameters, mutable
//! globals or memory (so the constant folder cannot see them), one fully
//! constant copy per set of values, and exported drivers that call them
//! and store every result in memory.

use super::edges::{self, ConstantGuards, Role};
use super::forms;
use super::op_tree::OpTree;
use super::wasm_ops::{memarg, Immediates, IntCc, Step, WTy};
use arbitrary::Unstructured;
use std::collections::BTreeMap;
use wasm_encoder::{
    CodeSection, ConstExpr, CustomSection, ExportKind, ExportSection, Function, FunctionSection,
    GlobalSection, GlobalType, Ieee32, Ieee64, Instruction, MemorySection, MemoryType, Module,
    TypeSection, ValType,
};

/// How a run-time operand reaches the pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Delivery {
    /// A parameter of the pattern's function.
    Param(u32),
    /// A mutable global, set by the driver before the call.
    Global(u32),
    /// A slot of the operand area, stored by the driver before the call.
    Memory(u32),
    /// A constant in the code, the same for every call: a pattern's
    /// variable matches constants too, and the lowering fuses them as
    /// immediates.
    Inline(u128),
}

/// One run-time operand of an instance.
#[derive(Clone, Debug)]
struct Leaf {
    ty: WTy,
    role: Role,
    delivery: Delivery,
}

/// A piece of a function body: an instruction, or a place the emitter
/// resolves per function (operands, scratch locals).
#[derive(Clone, Debug)]
enum Piece {
    I(Instruction<'static>),
    Leaf(usize),
    LocalGet(usize),
    LocalSet(usize),
}

/// One realization of the pattern: its types, constants and deliveries.
struct Instance {
    result: Option<WTy>,
    body: Vec<Piece>,
    leaves: Vec<Leaf>,
    scratch: Vec<ValType>,
    /// The integer constants chosen, for run-time values around them.
    constants: Vec<i128>,
}

impl Instance {
    /// The leaves passed as parameters, with their leaf numbers, in
    /// parameter order (parameters are numbered as leaves are made).
    fn params(&self) -> impl Iterator<Item = (usize, &Leaf)> {
        self.leaves
            .iter()
            .enumerate()
            .filter(|(_, l)| matches!(l.delivery, Delivery::Param(_)))
    }

    /// Its result types, for its function type.
    fn results(&self) -> Vec<ValType> {
        self.result.map(|r| vec![r.val_type()]).unwrap_or_default()
    }
}

/// Bytes of the operand area at the start of memory (16 per operand).
const OPERAND_AREA: u32 = 1024;
/// Float instructions whose NaN results have unspecified bits.
const NAN_PRODUCING: &[&str] = &[
    "fadd", "fsub", "fmul", "fdiv", "fmin", "fmax", "sqrt", "ceil", "floor", "trunc", "nearest",
    "fpromote", "fdemote",
];

/// What one module holds.
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    /// Realizations of the pattern, each with its own constants.
    pub instances: usize,
    /// Sets of run-time values each realization is called with.
    pub tuples: usize,
}

/// The module aiming at a rule with pattern `shape`, its custom section
/// (`section`: name and text) recording which rule. Fails when Wasm cannot
/// type the pattern.
pub fn module(
    u: &mut Unstructured<'_>,
    shape: &OpTree,
    guards: (&[i128], &[String]),
    sizes: Sizes,
    section: (&str, &str),
) -> Result<Vec<u8>, String> {
    let mut instances = Vec::new();
    let mut operand_slots = 0u32;
    let mut globals: Vec<ValType> = Vec::new();
    for _ in 0..sizes.instances.max(1) {
        let mut emitter = Emitter {
            u: &mut *u,
            guards,
            leaves: Vec::new(),
            by_id: BTreeMap::new(),
            scratch: Vec::new(),
            constants: Vec::new(),
            bound: BTreeMap::new(),
            params: 0,
            operand_slots: &mut operand_slots,
            globals: &mut globals,
        };
        instances.push(emitter.instance(shape)?);
    }
    // Values per tuple, per instance, per leaf.
    let tuples: Vec<Vec<Vec<u128>>> = (0..sizes.tuples.max(1))
        .map(|_| {
            instances
                .iter()
                .map(|inst| {
                    inst.leaves
                        .iter()
                        .map(|leaf| runtime_value(u, leaf.ty, &inst.constants, leaf.role))
                        .collect()
                })
                .collect()
        })
        .collect();
    Ok(assemble(&instances, &tuples, &globals, section))
}

struct Emitter<'a, 'u> {
    u: &'a mut Unstructured<'u>,
    guards: (&'a [i128], &'a [String]),
    leaves: Vec<Leaf>,
    by_id: BTreeMap<(usize, WTy), usize>,
    scratch: Vec<ValType>,
    constants: Vec<i128>,
    /// Constants bound to a pattern variable, per type.
    bound: BTreeMap<(String, WTy), u128>,
    params: u32,
    operand_slots: &'a mut u32,
    globals: &'a mut Vec<ValType>,
}

impl Emitter<'_, '_> {
    fn instance(&mut self, shape: &OpTree) -> Result<Instance, String> {
        let OpTree::Op { name, ty, .. } = shape else {
            return Err("the pattern is not an instruction".into());
        };
        let results: Vec<Option<WTy>> = if forms::operand_types(name, None).is_empty() {
            ty.members()
                .into_iter()
                .filter(|t| !matches!(t, WTy::N8 | WTy::N16))
                .map(Some)
                .collect()
        } else {
            vec![None]
        };
        let mut last = format!("`{name}` exists at none of the types the pattern allows");
        // Try the types in a seed-drawn order; the first that types wins.
        let mut order = results;
        for i in (1..order.len()).rev() {
            let j = self.u.int_in_range(0..=i).unwrap_or(0);
            order.swap(i, j);
        }
        // A failed attempt leaves no globals or operand slots behind.
        let (globals, slots) = (self.globals.len(), *self.operand_slots);
        for result in order {
            self.globals.truncate(globals);
            *self.operand_slots = slots;
            self.leaves.clear();
            self.by_id.clear();
            self.scratch.clear();
            self.constants.clear();
            self.bound.clear();
            self.params = 0;
            match self.op(shape, result) {
                Ok(body) => {
                    return Ok(Instance {
                        result,
                        body,
                        leaves: std::mem::take(&mut self.leaves),
                        scratch: std::mem::take(&mut self.scratch),
                        constants: std::mem::take(&mut self.constants),
                    })
                }
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// Code leaving the value of `shape` (of type `want`) on the stack.
    fn value(&mut self, shape: &OpTree, want: WTy, role: Role) -> Result<Vec<Piece>, String> {
        match shape {
            OpTree::Leaf { id, ty } => {
                if !ty.contains(want) {
                    return Err(format!(
                        "an operand of type {} where {:?} is allowed",
                        want.clif_name(),
                        ty.members()
                    ));
                }
                Ok(vec![Piece::Leaf(self.leaf(*id, want, role))])
            }
            OpTree::Const {
                ty,
                literals,
                guards,
                binding,
            } => {
                if !ty.contains(want) {
                    return Err(format!("a constant of type {}", want.clif_name()));
                }
                if let Some(bits) = binding
                    .as_ref()
                    .and_then(|b| self.bound.get(&(b.clone(), want)))
                {
                    return Ok(vec![Piece::I(const_instruction(want, *bits))]);
                }
                let mut names = guards.clone();
                names.extend(self.guards.1.iter().cloned());
                let g = ConstantGuards {
                    literals,
                    names: &names,
                    rule_literals: self.guards.0,
                };
                let bits = self.constant(want, g, role);
                if let Some(b) = binding {
                    self.bound.insert((b.clone(), want), bits);
                }
                Ok(vec![Piece::I(const_instruction(want, bits))])
            }
            OpTree::Op { name, .. } => {
                if is_comparison(name) && want == WTy::I32 {
                    return self.op(shape, Some(WTy::I32));
                }
                if matches!(want, WTy::N8 | WTy::N16)
                    && forms::operand_types(name, Some(want)).is_empty()
                {
                    // Narrow arithmetic is done at i32 and narrowed by the
                    // extend above it, as Wasm code does.
                    return self.op(shape, Some(WTy::I32));
                }
                self.op(shape, Some(want))
            }
        }
    }

    fn op(&mut self, shape: &OpTree, result: Option<WTy>) -> Result<Vec<Piece>, String> {
        let OpTree::Op {
            name,
            ty,
            int_cc,
            float_cc,
            offset,
            args,
        } = shape
        else {
            unreachable!("op() is called on instructions");
        };
        if let Some(r) = result {
            // Comparisons give Wasm's i32 for CLIF's i8; narrow arithmetic
            // is done at i32.
            let as_i32 = r == WTy::I32
                && (is_comparison(name) || ty.contains(WTy::N8) || ty.contains(WTy::N16));
            if !ty.contains(r) && !as_i32 {
                return Err(format!("`{name}` at {}", r.clif_name()));
            }
        }
        // An extend of a comparison: Wasm's comparisons already give 0 or 1.
        if matches!(*name, "uextend") {
            if let [OpTree::Op { name: inner, .. }] = args.as_slice() {
                if is_comparison(inner) && matches!(result, Some(WTy::I32 | WTy::I64)) {
                    let mut code = self.op(&args[0], Some(WTy::I32))?;
                    if result == Some(WTy::I64) {
                        code.push(Piece::I(Instruction::I64ExtendI32U));
                    }
                    return Ok(code);
                }
            }
        }
        let alternatives: Vec<Vec<WTy>> = forms::operand_types(name, result)
            .into_iter()
            .filter(|tys| {
                tys.len() == args.len() && args.iter().zip(tys).all(|(a, t)| admits(a, *t))
            })
            .collect();
        if alternatives.is_empty() {
            return Err(format!(
                "`{name}` has no Wasm form at {}",
                result.map_or("no result", |r| r.clif_name())
            ));
        }
        let arg_tys = alternatives[self.u.choose_index(alternatives.len()).unwrap_or(0)].clone();
        let imm = Immediates {
            int_cc: pick(self.u, int_cc),
            float_cc: pick(self.u, float_cc),
            offset: offset.unwrap_or_else(|| self.offset()),
            lane: self.u.int_in_range(0u8..=15).unwrap_or(0),
        };
        let steps = forms::realize(name, result, &arg_tys, imm).ok_or_else(|| {
            format!(
                "`{name}` has no Wasm instruction at {}",
                result.map_or("no result", |r| r.clif_name())
            )
        })?;
        let mut operands = Vec::new();
        for (i, (arg, ty)) in args.iter().zip(&arg_tys).enumerate() {
            let mut code = self.value(arg, *ty, role_of(name, i))?;
            if exposes_nan_bits(name, i) && ty.is_float() && contains_nan_producer(arg) {
                code.extend(self.canonicalize(*ty));
            }
            operands.push(code);
        }
        Ok(self.interleave(steps, operands, &arg_tys))
    }

    /// The instruction's steps with its operands' code in place.
    fn interleave(
        &mut self,
        steps: Vec<Step>,
        operands: Vec<Vec<Piece>>,
        arg_tys: &[WTy],
    ) -> Vec<Piece> {
        // Each operand used once is computed where the instruction wants
        // it (Wasm's order, not CLIF's: the pattern is pure, and every
        // engine sees the same order). Operands used twice go through
        // locals, which Cranelift's SSA construction makes disappear.
        let mut uses = vec![0usize; arg_tys.len()];
        for step in &steps {
            if let Step::Arg(n) = step {
                uses[*n] += 1;
            }
        }
        let mut code = Vec::new();
        let mut locals = vec![None; arg_tys.len()];
        let mut operands: Vec<Option<Vec<Piece>>> = operands.into_iter().map(Some).collect();
        for (n, ty) in arg_tys.iter().enumerate() {
            if uses[n] != 1 {
                let local = self.scratch_local(ty.val_type());
                code.extend(operands[n].take().expect("not yet used"));
                code.push(Piece::LocalSet(local));
                locals[n] = Some(local);
            }
        }
        for step in steps {
            match step {
                Step::Arg(n) => match locals[n] {
                    Some(local) => code.push(Piece::LocalGet(local)),
                    None => code.extend(operands[n].take().expect("used once")),
                },
                Step::I(i) => code.push(Piece::I(i)),
            }
        }
        code
    }

    fn leaf(&mut self, id: usize, ty: WTy, role: Role) -> usize {
        if let Some(&index) = self.by_id.get(&(id, ty)) {
            return index;
        }
        let delivery = match self.u.int_in_range(0u8..=3).unwrap_or(0) {
            3 => {
                let value = self.constant(
                    ty,
                    ConstantGuards {
                        literals: &[],
                        names: self.guards.1,
                        rule_literals: self.guards.0,
                    },
                    role,
                );
                Delivery::Inline(value)
            }
            0 => {
                self.params += 1;
                Delivery::Param(self.params - 1)
            }
            1 => {
                self.globals.push(ty.val_type());
                Delivery::Global(self.globals.len() as u32 - 1)
            }
            _ if *self.operand_slots < OPERAND_AREA / 16 => {
                *self.operand_slots += 1;
                Delivery::Memory((*self.operand_slots - 1) * 16)
            }
            _ => {
                self.params += 1;
                Delivery::Param(self.params - 1)
            }
        };
        self.leaves.push(Leaf { ty, role, delivery });
        self.by_id.insert((id, ty), self.leaves.len() - 1);
        self.leaves.len() - 1
    }

    fn constant(&mut self, ty: WTy, guards: ConstantGuards<'_>, role: Role) -> u128 {
        let lane = ty.lane();
        let lane_value = |s: &mut Self| -> u128 {
            if lane.is_float() {
                let bits = edges::float_value(s.u, lane, guards.literals);
                s.constants.push(bits as i128);
                u128::from(bits)
            } else {
                let v = edges::int_constant(s.u, lane, guards, role);
                s.constants.push(v);
                v as u128
            }
        };
        if !ty.is_vector() {
            return lane_value(self);
        }
        // A vector constant: a splat (what most vector rules match) or
        // lanes of their own.
        let bits = lane.lane_bits();
        let splat = self.u.ratio(2u8, 3).unwrap_or(true);
        let first = lane_value(self);
        let mut v = 0u128;
        for i in 0..ty.lanes() {
            let lane_bits = if splat || i == 0 {
                first
            } else {
                lane_value(self)
            };
            v |= (lane_bits & mask(bits)) << (i * bits);
        }
        v
    }

    fn offset(&mut self) -> u64 {
        const OFFSETS: [u64; 12] = [0, 0, 0, 1, 4, 8, 127, 128, 255, 4096, 65520, 0x7fff_ffff];
        OFFSETS[self.u.choose_index(OFFSETS.len()).unwrap_or(0)]
    }

    fn scratch_local(&mut self, ty: ValType) -> usize {
        self.scratch.push(ty);
        self.scratch.len() - 1
    }

    /// Replaces a float (or float vector) on the stack by the canonical NaN
    /// if it is a NaN, so bits Wasm leaves unspecified are not compared.
    fn canonicalize(&mut self, ty: WTy) -> Vec<Piece> {
        let local = self.scratch_local(ty.val_type());
        canonicalize_with(ty, local)
    }
}

/// Whether `shape` may produce a value of type `ty`.
fn admits(shape: &OpTree, ty: WTy) -> bool {
    match shape {
        OpTree::Leaf { ty: set, .. } | OpTree::Const { ty: set, .. } => set.contains(ty),
        OpTree::Op { name, ty: set, .. } => {
            if is_comparison(name) && matches!(ty, WTy::I32 | WTy::N8) {
                return true;
            }
            if matches!(ty, WTy::N8 | WTy::N16) {
                return set.contains(WTy::I32) || set.contains(ty);
            }
            set.contains(ty) && !forms::operand_types(name, Some(ty)).is_empty()
        }
    }
}

fn is_comparison(name: &str) -> bool {
    name == "fcmp" || IntCc::from_name(name).is_some() || name == "icmp"
}

fn pick<T: Copy>(u: &mut Unstructured<'_>, options: &[T]) -> Option<T> {
    if options.is_empty() {
        return None;
    }
    Some(options[u.choose_index(options.len()).unwrap_or(0)])
}

fn role_of(op: &str, arg: usize) -> Role {
    match (op, arg) {
        ("ishl" | "sshr" | "ushr" | "rotl" | "rotr", 1) => Role::ShiftAmount,
        ("sdiv" | "udiv" | "srem" | "urem", 1) => Role::Divisor,
        ("load" | "uload8" | "sload8" | "uload16" | "sload16" | "uload32" | "sload32", 0) => {
            Role::Address
        }
        ("store" | "istore8" | "istore16" | "istore32", 1) => Role::Address,
        _ => Role::Operand,
    }
}

/// Whether operand `arg` of `op` lets a NaN's unspecified bits reach a
/// result: a bitcast, a stored float, copysign's sign, a bitselect.
fn exposes_nan_bits(op: &str, arg: usize) -> bool {
    matches!(
        (op, arg),
        ("bitcast", _) | ("store", 0) | ("fcopysign", 1) | ("bitselect", _)
    )
}

fn contains_nan_producer(shape: &OpTree) -> bool {
    shape.ops().iter().any(|op| NAN_PRODUCING.contains(op))
}

fn mask(bits: u32) -> u128 {
    if bits == 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    }
}

/// The run-time value of an operand of `ty`, as bits.
fn runtime_value(u: &mut Unstructured<'_>, ty: WTy, constants: &[i128], role: Role) -> u128 {
    let lane = ty.lane();
    let one = |u: &mut Unstructured<'_>| -> u128 {
        if lane.is_float() {
            u128::from(edges::float_value(u, lane, constants))
        } else {
            edges::int_runtime(u, lane, constants, role) as u128
        }
    };
    if !ty.is_vector() {
        return one(u);
    }
    let bits = lane.lane_bits();
    let splat = u.ratio(1u8, 2).unwrap_or(true);
    let first = one(u);
    let mut v = 0u128;
    for i in 0..ty.lanes() {
        let lane_bits = if splat || i == 0 { first } else { one(u) };
        v |= (lane_bits & mask(bits)) << (i * bits);
    }
    v
}

fn const_instruction(ty: WTy, bits: u128) -> Instruction<'static> {
    match ty {
        WTy::I32 | WTy::N8 | WTy::N16 => Instruction::I32Const(bits as u32 as i32),
        WTy::I64 => Instruction::I64Const(bits as u64 as i64),
        WTy::F32 => Instruction::F32Const(Ieee32::new(bits as u32)),
        WTy::F64 => Instruction::F64Const(Ieee64::new(bits as u64)),
        _ => Instruction::V128Const(bits as i128),
    }
}

fn canonicalize_with(ty: WTy, local: usize) -> Vec<Piece> {
    use Instruction as W;
    let (nan, ne) = match ty {
        WTy::F32 => (W::F32Const(Ieee32::new(0x7fc0_0000)), W::F32Ne),
        WTy::F64 => (W::F64Const(Ieee64::new(0x7ff8_0000_0000_0000)), W::F64Ne),
        WTy::F32x4 => (
            W::V128Const(0x7fc0_0000_7fc0_0000_7fc0_0000_7fc0_0000),
            W::F32x4Ne,
        ),
        WTy::F64x2 => (
            W::V128Const(0x7ff8_0000_0000_0000_7ff8_0000_0000_0000),
            W::F64x2Ne,
        ),
        _ => return Vec::new(),
    };
    let pick = if ty.is_vector() {
        W::V128Bitselect
    } else {
        W::Select
    };
    vec![
        Piece::LocalSet(local),
        Piece::I(nan),
        Piece::LocalGet(local),
        Piece::LocalGet(local),
        Piece::LocalGet(local),
        Piece::I(ne),
        Piece::I(pick),
    ]
}

/// How a function's leaves and scratch locals are written.
enum Render<'a> {
    /// Leaves read from their delivery; params come first in the locals.
    Runtime { params: u32 },
    /// Leaves are these constants.
    Constant(&'a [u128]),
}

fn render(inst: &Instance, how: &Render<'_>) -> Function {
    let params = match how {
        Render::Runtime { params } => *params,
        Render::Constant(_) => 0,
    };
    let mut f = Function::new(inst.scratch.iter().map(|t| (1, *t)));
    for piece in &inst.body {
        match piece {
            Piece::I(i) => {
                f.instruction(i);
            }
            Piece::LocalGet(n) => {
                f.instruction(&Instruction::LocalGet(params + *n as u32));
            }
            Piece::LocalSet(n) => {
                f.instruction(&Instruction::LocalSet(params + *n as u32));
            }
            Piece::Leaf(n) => {
                let leaf = &inst.leaves[*n];
                match how {
                    Render::Constant(values) => {
                        f.instruction(&const_instruction(leaf.ty, values[*n]));
                    }
                    Render::Runtime { .. } => match leaf.delivery {
                        Delivery::Param(p) => {
                            f.instruction(&Instruction::LocalGet(p));
                        }
                        Delivery::Global(g) => {
                            f.instruction(&Instruction::GlobalGet(g));
                        }
                        Delivery::Memory(addr) => {
                            f.instruction(&Instruction::I32Const(addr as i32));
                            f.instruction(&load_instruction(leaf.ty));
                        }
                        Delivery::Inline(bits) => {
                            f.instruction(&const_instruction(leaf.ty, bits));
                        }
                    },
                }
            }
        }
    }
    f.instruction(&Instruction::End);
    f
}

fn load_instruction(ty: WTy) -> Instruction<'static> {
    match ty.val_type() {
        ValType::I32 => Instruction::I32Load(memarg(0, 2)),
        ValType::I64 => Instruction::I64Load(memarg(0, 3)),
        ValType::F32 => Instruction::F32Load(memarg(0, 2)),
        ValType::F64 => Instruction::F64Load(memarg(0, 3)),
        _ => Instruction::V128Load(memarg(0, 4)),
    }
}

fn store_instruction(ty: ValType, offset: u64) -> Instruction<'static> {
    let m = |align| memarg(offset, align);
    match ty {
        ValType::I32 => Instruction::I32Store(m(2)),
        ValType::I64 => Instruction::I64Store(m(3)),
        ValType::F32 => Instruction::F32Store(m(2)),
        ValType::F64 => Instruction::F64Store(m(3)),
        _ => Instruction::V128Store(m(4)),
    }
}

/// The whole module: per instance a run-time function and one constant
/// function per tuple; per tuple an exported driver `t<j>`.
fn assemble(
    instances: &[Instance],
    tuples: &[Vec<Vec<u128>>],
    globals: &[ValType],
    section: (&str, &str),
) -> Vec<u8> {
    let mut types = TypeSection::new();
    let mut type_index: BTreeMap<(Vec<ValType>, Vec<ValType>), u32> = BTreeMap::new();
    let mut intern =
        |params: Vec<ValType>, results: Vec<ValType>, types: &mut TypeSection| -> u32 {
            let next = type_index.len() as u32;
            *type_index
                .entry((params.clone(), results.clone()))
                .or_insert_with(|| {
                    types.ty().function(params, results);
                    next
                })
        };
    let mut functions = FunctionSection::new();
    let mut code = CodeSection::new();
    // Function indices: run-time functions, then constant ones, then drivers.
    for inst in instances {
        let params: Vec<ValType> = inst.params().map(|(_, l)| l.ty.val_type()).collect();
        let count = params.len() as u32;
        functions.function(intern(params, inst.results(), &mut types));
        code.function(&render(inst, &Render::Runtime { params: count }));
    }
    for tuple in tuples {
        for (inst, values) in instances.iter().zip(tuple) {
            functions.function(intern(Vec::new(), inst.results(), &mut types));
            code.function(&render(inst, &Render::Constant(values)));
        }
    }
    let driver_type = intern(Vec::new(), Vec::new(), &mut types);
    let constant_base = instances.len() as u32;
    let driver_base = constant_base + (tuples.len() * instances.len()) as u32;
    let mut exports = ExportSection::new();
    for (j, tuple) in tuples.iter().enumerate() {
        functions.function(driver_type);
        code.function(&driver(instances, tuple, j, constant_base));
        exports.export(&format!("t{j}"), ExportKind::Func, driver_base + j as u32);
    }
    exports.export("memory", ExportKind::Memory, 0);
    let mut memories = MemorySection::new();
    memories.memory(MemoryType {
        minimum: 1,
        maximum: Some(1),
        memory64: false,
        shared: false,
        page_size_log2: None,
    });
    let global_section = zeroed_globals(globals);
    let mut module = Module::new();
    module.section(&types);
    module.section(&functions);
    module.section(&memories);
    if !globals.is_empty() {
        module.section(&global_section);
    }
    module.section(&exports);
    module.section(&code);
    module.section(&CustomSection {
        name: section.0.into(),
        data: section.1.as_bytes().into(),
    });
    module.finish()
}

/// The pattern's mutable globals, each starting at zero.
fn zeroed_globals(globals: &[ValType]) -> GlobalSection {
    let mut global_section = GlobalSection::new();
    for ty in globals {
        let init = match ty {
            ValType::I32 => ConstExpr::i32_const(0),
            ValType::I64 => ConstExpr::i64_const(0),
            ValType::F32 => ConstExpr::f32_const(Ieee32::new(0)),
            ValType::F64 => ConstExpr::f64_const(Ieee64::new(0)),
            _ => ConstExpr::v128_const(0),
        };
        global_section.global(
            GlobalType {
                val_type: *ty,
                mutable: true,
                shared: false,
            },
            &init,
        );
    }
    global_section
}

/// Driver `t<j>`: for each instance, set its operands to tuple `j`'s
/// values, call it and its constant copy, and store both results.
fn driver(instances: &[Instance], tuple: &[Vec<u128>], j: usize, constant_base: u32) -> Function {
    use Instruction as W;
    // One scratch local per float type, for canonicalizing NaNs.
    let scratch = [ValType::F32, ValType::F64, ValType::V128];
    let mut f = Function::new(scratch.iter().map(|t| (1, *t)));
    for (i, (inst, values)) in instances.iter().zip(tuple).enumerate() {
        let slot = OPERAND_AREA + ((j * instances.len() + i) * 32) as u32;
        for (leaf, value) in inst.leaves.iter().zip(values) {
            match leaf.delivery {
                Delivery::Param(_) | Delivery::Inline(_) => {}
                Delivery::Global(g) => {
                    f.instruction(&const_instruction(leaf.ty, *value));
                    f.instruction(&W::GlobalSet(g));
                }
                Delivery::Memory(addr) => {
                    f.instruction(&W::I32Const(addr as i32));
                    f.instruction(&const_instruction(leaf.ty, *value));
                    f.instruction(&store_instruction(leaf.ty.val_type(), 0));
                }
            }
        }
        let constant_copy = constant_base + (j * instances.len() + i) as u32;
        for (call, offset) in [(i as u32, 0), (constant_copy, 16)] {
            if inst.result.is_some() {
                f.instruction(&W::I32Const(slot as i32));
            }
            if call == i as u32 {
                for (n, leaf) in inst.params() {
                    f.instruction(&const_instruction(leaf.ty, values[n]));
                }
            }
            f.instruction(&W::Call(call));
            if let Some(r) = inst.result {
                if let Some(local) = scratch.iter().position(|s| *s == r.val_type()) {
                    for piece in canonicalize_with(r, local) {
                        match piece {
                            Piece::I(ins) => f.instruction(&ins),
                            Piece::LocalGet(n) => f.instruction(&W::LocalGet(n as u32)),
                            Piece::LocalSet(n) => f.instruction(&W::LocalSet(n as u32)),
                            Piece::Leaf(_) => unreachable!("no leaves in canonicalization"),
                        };
                    }
                }
                f.instruction(&store_instruction(r.val_type(), offset));
            }
        }
    }
    f.instruction(&W::End);
    f
}
