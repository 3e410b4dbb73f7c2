//! How each CLIF instruction that core Wasm produces is written in Wasm:
//! one row per form (instruction, result type, value operand types), and
//! the Wasm that builds it. The operand types a pattern may take and the
//! code emitted for it come from the same row, so they cannot disagree.

use super::wasm_ops::{memarg, FloatCc, Immediates, IntCc, Step, WTy};
use std::collections::BTreeMap;
use std::sync::LazyLock;
use wasm_encoder::{BlockType, Instruction as W, ValType};
use Step::{Arg, I};
use WTy::*;

/// What builds one form from the immediates an emitter chose; `None` when
/// Wasm has no instruction for those immediates (`ult` on `i64x2`).
type Builder = Box<dyn Fn(Immediates) -> Option<Vec<Step>> + Send + Sync>;

/// One way Wasm writes a CLIF instruction.
pub struct Form {
    /// The CLIF instruction (or opts' shorthand, `slt`).
    pub name: &'static str,
    /// Its result type; `None` for a store or a branch.
    pub result: Option<WTy>,
    /// The types of its value operands, in CLIF's order.
    pub operands: Vec<WTy>,
    build: Builder,
}

/// Every form, by instruction name, alternatives in declaration order
/// (seeds choose among them by index).
static FORMS: LazyLock<BTreeMap<&'static str, Vec<Form>>> = LazyLock::new(|| {
    let mut table = Table::default();
    integer_arithmetic(&mut table);
    integer_min_max_and_saturation(&mut table);
    integer_bits(&mut table);
    shifts(&mut table);
    selects(&mut table);
    comparisons(&mut table);
    float_arithmetic(&mut table);
    extends_and_reductions(&mut table);
    float_conversions(&mut table);
    lane_widths(&mut table);
    memory(&mut table);
    lanes(&mut table);
    vector_arithmetic(&mut table);
    table.0
});

/// Every declared form.
pub fn all() -> impl Iterator<Item = &'static Form> {
    FORMS.values().flatten()
}

/// The operand types op `name` can take when its result is `result`, each
/// alternative a list of value operand types; empty when the op does not
/// exist at that type in Wasm. `None` as a result (a store, a branch) is
/// written as `result == None`.
pub fn operand_types(name: &str, result: Option<WTy>) -> Vec<Vec<WTy>> {
    forms_of(name)
        .filter(|f| f.result == result)
        .map(|f| f.operands.clone())
        .collect()
}

/// The Wasm steps realizing op `name` with result `result` (`None`: no
/// result) and value operands of types `args`; `None` if Wasm has no
/// instruction for that combination.
pub fn realize(
    name: &str,
    result: Option<WTy>,
    args: &[WTy],
    imm: Immediates,
) -> Option<Vec<Step>> {
    let form = forms_of(name).find(|f| f.result == result && f.operands == args)?;
    (form.build)(imm)
}

fn forms_of(name: &str) -> impl Iterator<Item = &'static Form> {
    FORMS.get(name).into_iter().flatten()
}

/// The forms being declared.
#[derive(Default)]
struct Table(BTreeMap<&'static str, Vec<Form>>);

impl Table {
    fn form(
        &mut self,
        name: &'static str,
        result: Option<WTy>,
        operands: &[WTy],
        build: impl Fn(Immediates) -> Option<Vec<Step>> + Send + Sync + 'static,
    ) {
        self.0.entry(name).or_default().push(Form {
            name,
            result,
            operands: operands.to_vec(),
            build: Box::new(build),
        });
    }

    /// The operands in order, then the instruction the immediates make.
    fn with_imm(
        &mut self,
        name: &'static str,
        result: Option<WTy>,
        operands: &[WTy],
        ins: impl Fn(Immediates) -> Option<W<'static>> + Send + Sync + 'static,
    ) {
        let n = operands.len();
        self.form(name, result, operands, move |imm| {
            let mut steps: Vec<Step> = (0..n).map(Arg).collect();
            steps.push(I(ins(imm)?));
            Some(steps)
        });
    }

    /// The operands in order, then `ins`.
    fn plain(&mut self, name: &'static str, result: WTy, operands: &[WTy], ins: W<'static>) {
        self.with_imm(name, Some(result), operands, move |_| Some(ins.clone()));
    }

    /// Fixed steps.
    fn steps(
        &mut self,
        name: &'static str,
        result: Option<WTy>,
        operands: &[WTy],
        steps: Vec<Step>,
    ) {
        self.form(name, result, operands, move |_| Some(steps.clone()));
    }

    /// `ty op ty -> ty`, for each `(ty, instruction)`.
    fn binary(&mut self, name: &'static str, forms: Vec<(WTy, W<'static>)>) {
        for (ty, ins) in forms {
            self.plain(name, ty, &[ty, ty], ins);
        }
    }

    /// `op ty -> ty`, for each `(ty, instruction)`.
    fn unary(&mut self, name: &'static str, forms: Vec<(WTy, W<'static>)>) {
        for (ty, ins) in forms {
            self.plain(name, ty, &[ty], ins);
        }
    }

    /// `op from -> to`, for each `(to, from, instruction)`.
    fn conversion(&mut self, name: &'static str, forms: Vec<(WTy, WTy, W<'static>)>) {
        for (to, from, ins) in forms {
            self.plain(name, to, &[from], ins);
        }
    }
}

fn integer_arithmetic(t: &mut Table) {
    t.binary(
        "iadd",
        vec![
            (I32, W::I32Add),
            (I64, W::I64Add),
            (I8x16, W::I8x16Add),
            (I16x8, W::I16x8Add),
            (I32x4, W::I32x4Add),
            (I64x2, W::I64x2Add),
        ],
    );
    t.binary(
        "isub",
        vec![
            (I32, W::I32Sub),
            (I64, W::I64Sub),
            (I8x16, W::I8x16Sub),
            (I16x8, W::I16x8Sub),
            (I32x4, W::I32x4Sub),
            (I64x2, W::I64x2Sub),
        ],
    );
    t.binary(
        "imul",
        vec![
            (I32, W::I32Mul),
            (I64, W::I64Mul),
            (I16x8, W::I16x8Mul),
            (I32x4, W::I32x4Mul),
            (I64x2, W::I64x2Mul),
        ],
    );
    t.binary("sdiv", vec![(I32, W::I32DivS), (I64, W::I64DivS)]);
    t.binary("udiv", vec![(I32, W::I32DivU), (I64, W::I64DivU)]);
    t.binary("srem", vec![(I32, W::I32RemS), (I64, W::I64RemS)]);
    t.binary("urem", vec![(I32, W::I32RemU), (I64, W::I64RemU)]);
    t.steps(
        "ineg",
        Some(I32),
        &[I32],
        vec![I(W::I32Const(0)), Arg(0), I(W::I32Sub)],
    );
    t.steps(
        "ineg",
        Some(I64),
        &[I64],
        vec![I(W::I64Const(0)), Arg(0), I(W::I64Sub)],
    );
    t.unary(
        "ineg",
        vec![
            (I8x16, W::I8x16Neg),
            (I16x8, W::I16x8Neg),
            (I32x4, W::I32x4Neg),
            (I64x2, W::I64x2Neg),
        ],
    );
    t.unary(
        "iabs",
        vec![
            (I8x16, W::I8x16Abs),
            (I16x8, W::I16x8Abs),
            (I32x4, W::I32x4Abs),
            (I64x2, W::I64x2Abs),
        ],
    );
}

fn integer_min_max_and_saturation(t: &mut Table) {
    // Scalars have no min/max in Wasm: a select of a comparison, which
    // Cranelift's selects.isle turns into the op.
    for (name, [on_i32, on_i64], [on_i8x16, on_i16x8, on_i32x4]) in [
        (
            "smin",
            [W::I32LtS, W::I64LtS],
            [W::I8x16MinS, W::I16x8MinS, W::I32x4MinS],
        ),
        (
            "smax",
            [W::I32GtS, W::I64GtS],
            [W::I8x16MaxS, W::I16x8MaxS, W::I32x4MaxS],
        ),
        (
            "umin",
            [W::I32LtU, W::I64LtU],
            [W::I8x16MinU, W::I16x8MinU, W::I32x4MinU],
        ),
        (
            "umax",
            [W::I32GtU, W::I64GtU],
            [W::I8x16MaxU, W::I16x8MaxU, W::I32x4MaxU],
        ),
    ] {
        for (ty, compare) in [(I32, on_i32), (I64, on_i64)] {
            let steps = vec![Arg(0), Arg(1), Arg(0), Arg(1), I(compare), I(W::Select)];
            t.steps(name, Some(ty), &[ty, ty], steps);
        }
        t.binary(
            name,
            vec![(I8x16, on_i8x16), (I16x8, on_i16x8), (I32x4, on_i32x4)],
        );
    }
    for name in ["avg_round", "sadd_sat", "uadd_sat", "ssub_sat", "usub_sat"] {
        let [on_i8x16, on_i16x8] = match name {
            "avg_round" => [W::I8x16AvgrU, W::I16x8AvgrU],
            "sadd_sat" => [W::I8x16AddSatS, W::I16x8AddSatS],
            "uadd_sat" => [W::I8x16AddSatU, W::I16x8AddSatU],
            "ssub_sat" => [W::I8x16SubSatS, W::I16x8SubSatS],
            _ => [W::I8x16SubSatU, W::I16x8SubSatU],
        };
        t.binary(name, vec![(I8x16, on_i8x16), (I16x8, on_i16x8)]);
    }
    t.binary("sqmul_round_sat", vec![(I16x8, W::I16x8Q15MulrSatS)]);
}

fn integer_bits(t: &mut Table) {
    for (name, on_i32, on_i64, on_vector) in [
        ("band", W::I32And, W::I64And, W::V128And),
        ("bor", W::I32Or, W::I64Or, W::V128Or),
        ("bxor", W::I32Xor, W::I64Xor, W::V128Xor),
    ] {
        let mut forms = vec![(I32, on_i32), (I64, on_i64)];
        forms.extend(INT_VECTORS.map(|v| (v, on_vector.clone())));
        t.binary(name, forms);
    }
    t.steps(
        "bnot",
        Some(I32),
        &[I32],
        vec![Arg(0), I(W::I32Const(-1)), I(W::I32Xor)],
    );
    t.steps(
        "bnot",
        Some(I64),
        &[I64],
        vec![Arg(0), I(W::I64Const(-1)), I(W::I64Xor)],
    );
    t.unary("bnot", INT_VECTORS.map(|v| (v, W::V128Not)).to_vec());
    t.binary("rotl", vec![(I32, W::I32Rotl), (I64, W::I64Rotl)]);
    t.binary("rotr", vec![(I32, W::I32Rotr), (I64, W::I64Rotr)]);
    t.unary("clz", vec![(I32, W::I32Clz), (I64, W::I64Clz)]);
    t.unary("ctz", vec![(I32, W::I32Ctz), (I64, W::I64Ctz)]);
    t.unary(
        "popcnt",
        vec![
            (I32, W::I32Popcnt),
            (I64, W::I64Popcnt),
            (I8x16, W::I8x16Popcnt),
        ],
    );
}

fn shifts(t: &mut Table) {
    // Vector shifts take their amount as an i32.
    for (name, [on_i32, on_i64, on_i8x16, on_i16x8, on_i32x4, on_i64x2]) in [
        (
            "ishl",
            [
                W::I32Shl,
                W::I64Shl,
                W::I8x16Shl,
                W::I16x8Shl,
                W::I32x4Shl,
                W::I64x2Shl,
            ],
        ),
        (
            "sshr",
            [
                W::I32ShrS,
                W::I64ShrS,
                W::I8x16ShrS,
                W::I16x8ShrS,
                W::I32x4ShrS,
                W::I64x2ShrS,
            ],
        ),
        (
            "ushr",
            [
                W::I32ShrU,
                W::I64ShrU,
                W::I8x16ShrU,
                W::I16x8ShrU,
                W::I32x4ShrU,
                W::I64x2ShrU,
            ],
        ),
    ] {
        t.binary(name, vec![(I32, on_i32), (I64, on_i64)]);
        for (v, ins) in [
            (I8x16, on_i8x16),
            (I16x8, on_i16x8),
            (I32x4, on_i32x4),
            (I64x2, on_i64x2),
        ] {
            t.plain(name, v, &[v, I32], ins);
        }
    }
}

fn selects(t: &mut Table) {
    for ty in [I32, I64, F32, F64, I8x16, I16x8, I32x4, I64x2, F32x4, F64x2] {
        t.steps(
            "select",
            Some(ty),
            &[I32, ty, ty],
            vec![Arg(1), Arg(2), Arg(0), I(W::Select)],
        );
    }
    for v in VECTORS {
        let steps = vec![Arg(1), Arg(2), Arg(0), I(W::V128Bitselect)];
        t.steps("bitselect", Some(v), &[v, v, v], steps);
    }
}

/// Integer comparisons under every name CLIF and opts give them; the
/// condition is an immediate.
const INT_COMPARISONS: [&str; 11] = [
    "icmp", "eq", "ne", "slt", "sle", "sgt", "sge", "ult", "ule", "ugt", "uge",
];

fn comparisons(t: &mut Table) {
    for name in INT_COMPARISONS {
        let mut forms = vec![(I32, I32), (I32, I64)];
        forms.extend(INT_VECTORS.map(|v| (v, v)));
        for (result, operand) in forms {
            t.with_imm(name, Some(result), &[operand, operand], move |imm| {
                int_compare(imm.int_cc?, operand)
            });
        }
    }
    for (result, operand) in [(I32, F32), (I32, F64), (I32x4, F32x4), (I64x2, F64x2)] {
        t.with_imm("fcmp", Some(result), &[operand, operand], move |imm| {
            float_compare(imm.float_cc?, operand)
        });
    }
    for name in ["vany_true", "vall_true", "vhigh_bits"] {
        for v in INT_VECTORS {
            let ins = match (name, v) {
                ("vany_true", _) => W::V128AnyTrue,
                ("vall_true", I8x16) => W::I8x16AllTrue,
                ("vall_true", I16x8) => W::I16x8AllTrue,
                ("vall_true", I32x4) => W::I32x4AllTrue,
                ("vall_true", _) => W::I64x2AllTrue,
                (_, I8x16) => W::I8x16Bitmask,
                (_, I16x8) => W::I16x8Bitmask,
                (_, I32x4) => W::I32x4Bitmask,
                _ => W::I64x2Bitmask,
            };
            t.plain(name, I32, &[v], ins);
        }
    }
}

fn float_arithmetic(t: &mut Table) {
    for (name, [on_f32, on_f64, on_f32x4, on_f64x2]) in [
        ("fadd", [W::F32Add, W::F64Add, W::F32x4Add, W::F64x2Add]),
        ("fsub", [W::F32Sub, W::F64Sub, W::F32x4Sub, W::F64x2Sub]),
        ("fmul", [W::F32Mul, W::F64Mul, W::F32x4Mul, W::F64x2Mul]),
        ("fdiv", [W::F32Div, W::F64Div, W::F32x4Div, W::F64x2Div]),
        ("fmin", [W::F32Min, W::F64Min, W::F32x4Min, W::F64x2Min]),
        ("fmax", [W::F32Max, W::F64Max, W::F32x4Max, W::F64x2Max]),
    ] {
        t.binary(
            name,
            vec![
                (F32, on_f32),
                (F64, on_f64),
                (F32x4, on_f32x4),
                (F64x2, on_f64x2),
            ],
        );
    }
    t.binary(
        "fcopysign",
        vec![(F32, W::F32Copysign), (F64, W::F64Copysign)],
    );
    for (name, [on_f32, on_f64, on_f32x4, on_f64x2]) in [
        ("fneg", [W::F32Neg, W::F64Neg, W::F32x4Neg, W::F64x2Neg]),
        ("fabs", [W::F32Abs, W::F64Abs, W::F32x4Abs, W::F64x2Abs]),
        ("sqrt", [W::F32Sqrt, W::F64Sqrt, W::F32x4Sqrt, W::F64x2Sqrt]),
        ("ceil", [W::F32Ceil, W::F64Ceil, W::F32x4Ceil, W::F64x2Ceil]),
        (
            "floor",
            [W::F32Floor, W::F64Floor, W::F32x4Floor, W::F64x2Floor],
        ),
        (
            "trunc",
            [W::F32Trunc, W::F64Trunc, W::F32x4Trunc, W::F64x2Trunc],
        ),
        (
            "nearest",
            [
                W::F32Nearest,
                W::F64Nearest,
                W::F32x4Nearest,
                W::F64x2Nearest,
            ],
        ),
    ] {
        t.unary(
            name,
            vec![
                (F32, on_f32),
                (F64, on_f64),
                (F32x4, on_f32x4),
                (F64x2, on_f64x2),
            ],
        );
    }
}

fn extends_and_reductions(t: &mut Table) {
    for (name, signed) in [("uextend", false), ("sextend", true)] {
        let to_i64 = if signed {
            W::I64ExtendI32S
        } else {
            W::I64ExtendI32U
        };
        t.plain(name, I64, &[I32], to_i64);
        // CLIF's narrow integers live in an i32 whose high bits are not
        // the extension's: extend from the low bits.
        let (narrow_to_i32, narrow_to_i64) = if signed {
            (
                [
                    vec![Arg(0), I(W::I32Extend8S)],
                    vec![Arg(0), I(W::I32Extend16S)],
                ],
                [
                    vec![Arg(0), I(W::I64ExtendI32U), I(W::I64Extend8S)],
                    vec![Arg(0), I(W::I64ExtendI32U), I(W::I64Extend16S)],
                ],
            )
        } else {
            let mask32 = |m| vec![Arg(0), I(W::I32Const(m)), I(W::I32And)];
            let mask64 = |m| vec![Arg(0), I(W::I64ExtendI32U), I(W::I64Const(m)), I(W::I64And)];
            (
                [mask32(0xff), mask32(0xffff)],
                [mask64(0xff), mask64(0xffff)],
            )
        };
        let [n8_to_i64, n16_to_i64] = narrow_to_i64;
        t.steps(name, Some(I64), &[N8], n8_to_i64);
        t.steps(name, Some(I64), &[N16], n16_to_i64);
        let [n8_to_i32, n16_to_i32] = narrow_to_i32;
        t.steps(name, Some(I32), &[N8], n8_to_i32);
        t.steps(name, Some(I32), &[N16], n16_to_i32);
    }
    t.conversion("ireduce", vec![(I32, I64, W::I32WrapI64)]);
    for narrow in [N8, N16] {
        t.steps("ireduce", Some(narrow), &[I32], vec![Arg(0)]);
        t.plain("ireduce", narrow, &[I64], W::I32WrapI64);
    }
}

fn float_conversions(t: &mut Table) {
    t.conversion(
        "fcvt_from_sint",
        vec![
            (F32, I32, W::F32ConvertI32S),
            (F32, I64, W::F32ConvertI64S),
            (F64, I32, W::F64ConvertI32S),
            (F64, I64, W::F64ConvertI64S),
            (F32x4, I32x4, W::F32x4ConvertI32x4S),
        ],
    );
    t.conversion(
        "fcvt_from_uint",
        vec![
            (F32, I32, W::F32ConvertI32U),
            (F32, I64, W::F32ConvertI64U),
            (F64, I32, W::F64ConvertI32U),
            (F64, I64, W::F64ConvertI64U),
            (F32x4, I32x4, W::F32x4ConvertI32x4U),
        ],
    );
    t.conversion(
        "fcvt_to_sint",
        vec![
            (I32, F32, W::I32TruncF32S),
            (I32, F64, W::I32TruncF64S),
            (I64, F32, W::I64TruncF32S),
            (I64, F64, W::I64TruncF64S),
        ],
    );
    t.conversion(
        "fcvt_to_uint",
        vec![
            (I32, F32, W::I32TruncF32U),
            (I32, F64, W::I32TruncF64U),
            (I64, F32, W::I64TruncF32U),
            (I64, F64, W::I64TruncF64U),
        ],
    );
    t.conversion(
        "fcvt_to_sint_sat",
        vec![
            (I32, F32, W::I32TruncSatF32S),
            (I32, F64, W::I32TruncSatF64S),
            (I64, F32, W::I64TruncSatF32S),
            (I64, F64, W::I64TruncSatF64S),
            (I32x4, F32x4, W::I32x4TruncSatF32x4S),
        ],
    );
    t.conversion(
        "fcvt_to_uint_sat",
        vec![
            (I32, F32, W::I32TruncSatF32U),
            (I32, F64, W::I32TruncSatF64U),
            (I64, F32, W::I64TruncSatF32U),
            (I64, F64, W::I64TruncSatF64U),
            (I32x4, F32x4, W::I32x4TruncSatF32x4U),
        ],
    );
    t.conversion("fpromote", vec![(F64, F32, W::F64PromoteF32)]);
    t.conversion("fdemote", vec![(F32, F64, W::F32DemoteF64)]);
    t.conversion(
        "bitcast",
        vec![
            (I32, F32, W::I32ReinterpretF32),
            (F32, I32, W::F32ReinterpretI32),
            (I64, F64, W::I64ReinterpretF64),
            (F64, I64, W::F64ReinterpretI64),
        ],
    );
}

fn lane_widths(t: &mut Table) {
    t.conversion(
        "swiden_low",
        vec![
            (I16x8, I8x16, W::I16x8ExtendLowI8x16S),
            (I32x4, I16x8, W::I32x4ExtendLowI16x8S),
            (I64x2, I32x4, W::I64x2ExtendLowI32x4S),
        ],
    );
    t.conversion(
        "swiden_high",
        vec![
            (I16x8, I8x16, W::I16x8ExtendHighI8x16S),
            (I32x4, I16x8, W::I32x4ExtendHighI16x8S),
            (I64x2, I32x4, W::I64x2ExtendHighI32x4S),
        ],
    );
    t.conversion(
        "uwiden_low",
        vec![
            (I16x8, I8x16, W::I16x8ExtendLowI8x16U),
            (I32x4, I16x8, W::I32x4ExtendLowI16x8U),
            (I64x2, I32x4, W::I64x2ExtendLowI32x4U),
        ],
    );
    t.conversion(
        "uwiden_high",
        vec![
            (I16x8, I8x16, W::I16x8ExtendHighI8x16U),
            (I32x4, I16x8, W::I32x4ExtendHighI16x8U),
            (I64x2, I32x4, W::I64x2ExtendHighI32x4U),
        ],
    );
    for (name, on_i8x16, on_i16x8) in [
        ("snarrow", W::I8x16NarrowI16x8S, W::I16x8NarrowI32x4S),
        ("unarrow", W::I8x16NarrowI16x8U, W::I16x8NarrowI32x4U),
    ] {
        t.plain(name, I8x16, &[I16x8, I16x8], on_i8x16);
        t.plain(name, I16x8, &[I32x4, I32x4], on_i16x8);
    }
}

/// A load or store at the emitter's offset, aligned as `align` (log2).
type MemoryOp = fn(wasm_encoder::MemArg) -> W<'static>;

fn memory(t: &mut Table) {
    let mut load = |name, ty, align: u32, ins: MemoryOp| {
        t.with_imm(name, Some(ty), &[I32], move |imm| {
            Some(ins(memarg(imm.offset, align)))
        });
    };
    let full: [(WTy, u32, MemoryOp); 4] = [
        (I32, 2, W::I32Load),
        (I64, 3, W::I64Load),
        (F32, 2, W::F32Load),
        (F64, 3, W::F64Load),
    ];
    for (ty, align, ins) in full {
        load("load", ty, align, ins);
    }
    for v in VECTORS {
        load("load", v, 4, W::V128Load);
    }
    let narrow: [(&'static str, WTy, u32, MemoryOp); 10] = [
        ("uload8", I32, 0, W::I32Load8U),
        ("uload8", I64, 0, W::I64Load8U),
        ("sload8", I32, 0, W::I32Load8S),
        ("sload8", I64, 0, W::I64Load8S),
        ("uload16", I32, 1, W::I32Load16U),
        ("uload16", I64, 1, W::I64Load16U),
        ("sload16", I32, 1, W::I32Load16S),
        ("sload16", I64, 1, W::I64Load16S),
        ("uload32", I64, 2, W::I64Load32U),
        ("sload32", I64, 2, W::I64Load32S),
    ];
    for (name, ty, align, ins) in narrow {
        load(name, ty, align, ins);
    }
    // CLIF's store takes the value first; Wasm's the address.
    let mut store = |name, value, align: u32, ins: MemoryOp| {
        t.form(name, None, &[value, I32], move |imm| {
            Some(vec![Arg(1), Arg(0), I(ins(memarg(imm.offset, align)))])
        });
    };
    let full: [(WTy, u32, MemoryOp); 4] = [
        (I32, 2, W::I32Store),
        (I64, 3, W::I64Store),
        (F32, 2, W::F32Store),
        (F64, 3, W::F64Store),
    ];
    for (ty, align, ins) in full {
        store("store", ty, align, ins);
    }
    for v in VECTORS {
        store("store", v, 4, W::V128Store);
    }
    let narrow: [(&'static str, WTy, u32, MemoryOp); 5] = [
        ("istore8", I32, 0, W::I32Store8),
        ("istore8", I64, 0, W::I64Store8),
        ("istore16", I32, 1, W::I32Store16),
        ("istore16", I64, 1, W::I64Store16),
        ("istore32", I64, 2, W::I64Store32),
    ];
    for (name, ty, align, ins) in narrow {
        store(name, ty, align, ins);
    }
    // A branch on the operand that leaves nothing behind.
    let brif = vec![
        Arg(0),
        I(W::If(BlockType::Result(ValType::I32))),
        I(W::I32Const(1)),
        I(W::Else),
        I(W::I32Const(2)),
        I(W::End),
        I(W::Drop),
    ];
    t.steps("brif", None, &[I32], brif);
}

fn lanes(t: &mut Table) {
    t.conversion(
        "splat",
        vec![
            (I8x16, I32, W::I8x16Splat),
            (I16x8, I32, W::I16x8Splat),
            (I32x4, I32, W::I32x4Splat),
            (I64x2, I64, W::I64x2Splat),
            (F32x4, F32, W::F32x4Splat),
            (F64x2, F64, W::F64x2Splat),
        ],
    );
    type LaneOp = fn(u8) -> W<'static>;
    let extract: [(WTy, WTy, LaneOp); 6] = [
        (I32, I32x4, W::I32x4ExtractLane),
        (I32, I8x16, W::I8x16ExtractLaneS),
        (I32, I16x8, W::I16x8ExtractLaneS),
        (I64, I64x2, W::I64x2ExtractLane),
        (F32, F32x4, W::F32x4ExtractLane),
        (F64, F64x2, W::F64x2ExtractLane),
    ];
    for (result, vector, ins) in extract {
        t.with_imm("extractlane", Some(result), &[vector], move |imm| {
            Some(ins(imm.lane % vector.lanes() as u8))
        });
    }
    let replace: [(WTy, WTy, LaneOp); 6] = [
        (I8x16, I32, W::I8x16ReplaceLane),
        (I16x8, I32, W::I16x8ReplaceLane),
        (I32x4, I32, W::I32x4ReplaceLane),
        (I64x2, I64, W::I64x2ReplaceLane),
        (F32x4, F32, W::F32x4ReplaceLane),
        (F64x2, F64, W::F64x2ReplaceLane),
    ];
    for (vector, lane, ins) in replace {
        t.with_imm("insertlane", Some(vector), &[vector, lane], move |imm| {
            Some(ins(imm.lane % vector.lanes() as u8))
        });
    }
}

fn vector_arithmetic(t: &mut Table) {
    t.binary("swizzle", vec![(I8x16, W::I8x16Swizzle)]);
}

/// The integer vector types.
const INT_VECTORS: [WTy; 4] = [I8x16, I16x8, I32x4, I64x2];
/// Every vector type.
const VECTORS: [WTy; 6] = [I8x16, I16x8, I32x4, I64x2, F32x4, F64x2];

/// The comparison of `cc` on operands of type `ty`.
fn int_compare(cc: IntCc, ty: WTy) -> Option<W<'static>> {
    use IntCc::*;
    Some(match (ty, cc) {
        (I32, Eq) => W::I32Eq,
        (I32, Ne) => W::I32Ne,
        (I32, Slt) => W::I32LtS,
        (I32, Sle) => W::I32LeS,
        (I32, Sgt) => W::I32GtS,
        (I32, Sge) => W::I32GeS,
        (I32, Ult) => W::I32LtU,
        (I32, Ule) => W::I32LeU,
        (I32, Ugt) => W::I32GtU,
        (I32, Uge) => W::I32GeU,
        (I64, Eq) => W::I64Eq,
        (I64, Ne) => W::I64Ne,
        (I64, Slt) => W::I64LtS,
        (I64, Sle) => W::I64LeS,
        (I64, Sgt) => W::I64GtS,
        (I64, Sge) => W::I64GeS,
        (I64, Ult) => W::I64LtU,
        (I64, Ule) => W::I64LeU,
        (I64, Ugt) => W::I64GtU,
        (I64, Uge) => W::I64GeU,
        (I8x16, Eq) => W::I8x16Eq,
        (I8x16, Ne) => W::I8x16Ne,
        (I8x16, Slt) => W::I8x16LtS,
        (I8x16, Sle) => W::I8x16LeS,
        (I8x16, Sgt) => W::I8x16GtS,
        (I8x16, Sge) => W::I8x16GeS,
        (I8x16, Ult) => W::I8x16LtU,
        (I8x16, Ule) => W::I8x16LeU,
        (I8x16, Ugt) => W::I8x16GtU,
        (I8x16, Uge) => W::I8x16GeU,
        (I16x8, Eq) => W::I16x8Eq,
        (I16x8, Ne) => W::I16x8Ne,
        (I16x8, Slt) => W::I16x8LtS,
        (I16x8, Sle) => W::I16x8LeS,
        (I16x8, Sgt) => W::I16x8GtS,
        (I16x8, Sge) => W::I16x8GeS,
        (I16x8, Ult) => W::I16x8LtU,
        (I16x8, Ule) => W::I16x8LeU,
        (I16x8, Ugt) => W::I16x8GtU,
        (I16x8, Uge) => W::I16x8GeU,
        (I32x4, Eq) => W::I32x4Eq,
        (I32x4, Ne) => W::I32x4Ne,
        (I32x4, Slt) => W::I32x4LtS,
        (I32x4, Sle) => W::I32x4LeS,
        (I32x4, Sgt) => W::I32x4GtS,
        (I32x4, Sge) => W::I32x4GeS,
        (I32x4, Ult) => W::I32x4LtU,
        (I32x4, Ule) => W::I32x4LeU,
        (I32x4, Ugt) => W::I32x4GtU,
        (I32x4, Uge) => W::I32x4GeU,
        (I64x2, Eq) => W::I64x2Eq,
        (I64x2, Ne) => W::I64x2Ne,
        (I64x2, Slt) => W::I64x2LtS,
        (I64x2, Sle) => W::I64x2LeS,
        (I64x2, Sgt) => W::I64x2GtS,
        (I64x2, Sge) => W::I64x2GeS,
        _ => return None,
    })
}

/// The float comparison of `cc` on operands of type `ty`.
fn float_compare(cc: FloatCc, ty: WTy) -> Option<W<'static>> {
    use FloatCc::*;
    Some(match (ty, cc) {
        (F32, Eq) => W::F32Eq,
        (F32, Ne) => W::F32Ne,
        (F32, Lt) => W::F32Lt,
        (F32, Le) => W::F32Le,
        (F32, Gt) => W::F32Gt,
        (F32, Ge) => W::F32Ge,
        (F64, Eq) => W::F64Eq,
        (F64, Ne) => W::F64Ne,
        (F64, Lt) => W::F64Lt,
        (F64, Le) => W::F64Le,
        (F64, Gt) => W::F64Gt,
        (F64, Ge) => W::F64Ge,
        (F32x4, Eq) => W::F32x4Eq,
        (F32x4, Ne) => W::F32x4Ne,
        (F32x4, Lt) => W::F32x4Lt,
        (F32x4, Le) => W::F32x4Le,
        (F32x4, Gt) => W::F32x4Gt,
        (F32x4, Ge) => W::F32x4Ge,
        (F64x2, Eq) => W::F64x2Eq,
        (F64x2, Ne) => W::F64x2Ne,
        (F64x2, Lt) => W::F64x2Lt,
        (F64x2, Le) => W::F64x2Le,
        (F64x2, Gt) => W::F64x2Gt,
        (F64x2, Ge) => W::F64x2Ge,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::rules::wasm_ops::{NO_WASM_FORM, OPS};

    /// Immediates that every form accepts: a condition every type has.
    fn accepted() -> Immediates {
        Immediates {
            int_cc: Some(IntCc::Eq),
            float_cc: Some(FloatCc::Eq),
            offset: 8,
            lane: 17,
        }
    }

    #[test]
    fn every_declared_form_is_realized_as_valid_wasm() {
        for form in all() {
            let steps = realize(form.name, form.result, &form.operands, accepted())
                .unwrap_or_else(|| panic!("{} {:?} {:?}", form.name, form.result, form.operands));
            let body = module_of(form, &steps);
            wasmparser::validate(&body).unwrap_or_else(|e| {
                panic!("{} {:?} {:?}: {e}", form.name, form.result, form.operands)
            });
        }
    }

    #[test]
    fn every_instruction_wasm_produces_has_a_form_and_none_other_does() {
        for (name, _) in OPS {
            assert!(all().any(|f| f.name == *name), "{name} has no form");
        }
        for form in all() {
            assert!(
                OPS.iter().any(|(n, _)| *n == form.name),
                "{} is not in OPS",
                form.name
            );
            assert!(!NO_WASM_FORM.contains(&form.name), "{}", form.name);
        }
    }

    #[test]
    fn conditions_wasm_lacks_are_not_realized() {
        let imm = Immediates {
            int_cc: Some(IntCc::Ult),
            ..accepted()
        };
        assert!(realize("icmp", Some(I64x2), &[I64x2, I64x2], imm).is_none());
        assert!(realize("icmp", Some(I32x4), &[I32x4, I32x4], imm).is_some());
        assert!(realize("icmp", Some(I32), &[I32, I32], Immediates::default()).is_none());
        assert!(operand_types("fcopysign", Some(F32x4)).is_empty());
    }

    /// A module whose one function pushes each operand from a parameter,
    /// runs `steps` and returns the result: valid only if the form's types
    /// are Wasm's.
    fn module_of(form: &Form, steps: &[Step]) -> Vec<u8> {
        use wasm_encoder::{
            CodeSection, Function, FunctionSection, MemorySection, MemoryType, Module, TypeSection,
        };
        let params: Vec<ValType> = form.operands.iter().map(|t| t.val_type()).collect();
        let results: Vec<ValType> = form.result.iter().map(|t| t.val_type()).collect();
        let mut types = TypeSection::new();
        types.ty().function(params, results);
        let mut functions = FunctionSection::new();
        functions.function(0);
        let mut memories = MemorySection::new();
        memories.memory(MemoryType {
            minimum: 1,
            maximum: None,
            memory64: false,
            shared: false,
            page_size_log2: None,
        });
        let mut body = Function::new([]);
        for step in steps {
            match step {
                Arg(n) => body.instruction(&W::LocalGet(*n as u32)),
                I(ins) => body.instruction(ins),
            };
        }
        body.instruction(&W::End);
        let mut code = CodeSection::new();
        code.function(&body);
        let mut module = Module::new();
        module
            .section(&types)
            .section(&functions)
            .section(&memories)
            .section(&code);
        module.finish()
    }
}
