//! Which CLIF instructions core Wasm can produce, and how: for each one
//! its operands in ISLE patterns, the Wasm types it exists at, and the
//! Wasm instructions that Wasmtime translates into it.

use wasm_encoder::{Instruction, MemArg, ValType};

/// A Wasm value type, plus the narrow integer types CLIF has and Wasm only
/// reaches through extends, narrow loads and stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WTy {
    /// i32.
    I32,
    /// i64.
    I64,
    /// f32.
    F32,
    /// f64.
    F64,
    /// v128 as 16 x i8.
    I8x16,
    /// v128 as 8 x i16.
    I16x8,
    /// v128 as 4 x i32.
    I32x4,
    /// v128 as 2 x i64.
    I64x2,
    /// v128 as 4 x f32.
    F32x4,
    /// v128 as 2 x f64.
    F64x2,
    /// CLIF's i8, carried in an i32.
    N8,
    /// CLIF's i16, carried in an i32.
    N16,
}

impl WTy {
    /// Every type, in the bit order of [`TySet`].
    pub const ALL: [WTy; 12] = [
        WTy::I32,
        WTy::I64,
        WTy::F32,
        WTy::F64,
        WTy::I8x16,
        WTy::I16x8,
        WTy::I32x4,
        WTy::I64x2,
        WTy::F32x4,
        WTy::F64x2,
        WTy::N8,
        WTy::N16,
    ];

    /// The Wasm type carrying it.
    pub fn val_type(self) -> ValType {
        match self {
            WTy::I32 | WTy::N8 | WTy::N16 => ValType::I32,
            WTy::I64 => ValType::I64,
            WTy::F32 => ValType::F32,
            WTy::F64 => ValType::F64,
            _ => ValType::V128,
        }
    }

    /// Bits of an integer scalar or of one lane.
    pub fn lane_bits(self) -> u32 {
        match self {
            WTy::N8 | WTy::I8x16 => 8,
            WTy::N16 | WTy::I16x8 => 16,
            WTy::I32 | WTy::F32 | WTy::I32x4 | WTy::F32x4 => 32,
            WTy::I64 | WTy::F64 | WTy::I64x2 | WTy::F64x2 => 64,
        }
    }

    /// Whether it is a vector.
    pub fn is_vector(self) -> bool {
        TySet::VECTOR.contains(self)
    }

    /// Whether its scalar or lanes are floats.
    pub fn is_float(self) -> bool {
        matches!(self, WTy::F32 | WTy::F64 | WTy::F32x4 | WTy::F64x2)
    }

    /// The scalar type of one lane (itself for scalars).
    pub fn lane(self) -> WTy {
        match self {
            WTy::I8x16 => WTy::N8,
            WTy::I16x8 => WTy::N16,
            WTy::I32x4 => WTy::I32,
            WTy::I64x2 => WTy::I64,
            WTy::F32x4 => WTy::F32,
            WTy::F64x2 => WTy::F64,
            scalar => scalar,
        }
    }

    /// Lanes of a vector (1 for scalars).
    pub fn lanes(self) -> u32 {
        if self.is_vector() {
            128 / self.lane_bits()
        } else {
            1
        }
    }

    /// CLIF's name, for reports.
    pub fn clif_name(self) -> &'static str {
        match self {
            WTy::I32 => "i32",
            WTy::I64 => "i64",
            WTy::F32 => "f32",
            WTy::F64 => "f64",
            WTy::I8x16 => "i8x16",
            WTy::I16x8 => "i16x8",
            WTy::I32x4 => "i32x4",
            WTy::I64x2 => "i64x2",
            WTy::F32x4 => "f32x4",
            WTy::F64x2 => "f64x2",
            WTy::N8 => "i8",
            WTy::N16 => "i16",
        }
    }
}

/// A set of [`WTy`]: what a pattern allows at one place.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TySet(u16);

impl TySet {
    /// Nothing: the pattern needs a type Wasm cannot produce (i128, f16).
    pub const NONE: TySet = TySet(0);
    /// Every type.
    pub const ALL: TySet = TySet((1 << 12) - 1);
    /// i32 and i64.
    pub const INT: TySet = TySet(0b11);
    /// f32 and f64.
    pub const FLOAT: TySet = TySet(0b1100);
    /// Integer vectors.
    pub const INT_VECTOR: TySet = TySet(0b1111_0000);
    /// Float vectors.
    pub const FLOAT_VECTOR: TySet = TySet(0b11_0000_0000);
    /// All vectors.
    pub const VECTOR: TySet = TySet(0b11_1111_0000);
    /// CLIF's i8 and i16.
    pub const NARROW: TySet = TySet(0b1100_0000_0000);
    /// Scalars, narrow ones included.
    pub const SCALAR: TySet = TySet(0b1100_0000_1111);

    /// The set of one type.
    pub const fn of(ty: WTy) -> TySet {
        TySet(1 << ty as u16)
    }

    /// Union.
    pub const fn or(self, other: TySet) -> TySet {
        TySet(self.0 | other.0)
    }

    /// Intersection.
    pub const fn and(self, other: TySet) -> TySet {
        TySet(self.0 & other.0)
    }

    /// Whether `ty` is in it.
    pub fn contains(self, ty: WTy) -> bool {
        self.0 & (1 << ty as u16) != 0
    }

    /// Whether it is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Its members, in [`WTy::ALL`] order.
    pub fn members(self) -> Vec<WTy> {
        WTy::ALL.into_iter().filter(|t| self.contains(*t)).collect()
    }
}

/// What one argument of a CLIF instruction's extractor is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgKind {
    /// The controlling type.
    Ty,
    /// A value operand.
    Val,
    /// An integer condition code.
    IntCc,
    /// A float condition code.
    FloatCc,
    /// Memory flags (endianness, trapping): not modelled.
    Flags,
    /// A load's or store's constant offset.
    Offset,
    /// A lane index.
    Lane,
    /// Anything else (block calls, shuffle masks): not modelled.
    Other,
}

use ArgKind::{Flags, Lane, Offset, Other, Ty, Val};

/// The CLIF instructions (and opts' shorthand extractors for them) that
/// Wasm can produce, with their ISLE argument lists.
pub const OPS: &[(&str, &[ArgKind])] = &[
    ("iadd", &[Ty, Val, Val]),
    ("isub", &[Ty, Val, Val]),
    ("imul", &[Ty, Val, Val]),
    ("sdiv", &[Ty, Val, Val]),
    ("udiv", &[Ty, Val, Val]),
    ("srem", &[Ty, Val, Val]),
    ("urem", &[Ty, Val, Val]),
    ("band", &[Ty, Val, Val]),
    ("bor", &[Ty, Val, Val]),
    ("bxor", &[Ty, Val, Val]),
    ("bnot", &[Ty, Val]),
    ("ineg", &[Ty, Val]),
    ("iabs", &[Ty, Val]),
    ("smin", &[Ty, Val, Val]),
    ("smax", &[Ty, Val, Val]),
    ("umin", &[Ty, Val, Val]),
    ("umax", &[Ty, Val, Val]),
    ("ishl", &[Ty, Val, Val]),
    ("sshr", &[Ty, Val, Val]),
    ("ushr", &[Ty, Val, Val]),
    ("rotl", &[Ty, Val, Val]),
    ("rotr", &[Ty, Val, Val]),
    ("clz", &[Ty, Val]),
    ("ctz", &[Ty, Val]),
    ("popcnt", &[Ty, Val]),
    ("icmp", &[Ty, ArgKind::IntCc, Val, Val]),
    ("eq", &[Ty, Val, Val]),
    ("ne", &[Ty, Val, Val]),
    ("slt", &[Ty, Val, Val]),
    ("sle", &[Ty, Val, Val]),
    ("sgt", &[Ty, Val, Val]),
    ("sge", &[Ty, Val, Val]),
    ("ult", &[Ty, Val, Val]),
    ("ule", &[Ty, Val, Val]),
    ("ugt", &[Ty, Val, Val]),
    ("uge", &[Ty, Val, Val]),
    ("select", &[Ty, Val, Val, Val]),
    ("bitselect", &[Ty, Val, Val, Val]),
    ("uextend", &[Ty, Val]),
    ("sextend", &[Ty, Val]),
    ("ireduce", &[Ty, Val]),
    ("fadd", &[Ty, Val, Val]),
    ("fsub", &[Ty, Val, Val]),
    ("fmul", &[Ty, Val, Val]),
    ("fdiv", &[Ty, Val, Val]),
    ("fmin", &[Ty, Val, Val]),
    ("fmax", &[Ty, Val, Val]),
    ("fcopysign", &[Ty, Val, Val]),
    ("fneg", &[Ty, Val]),
    ("fabs", &[Ty, Val]),
    ("sqrt", &[Ty, Val]),
    ("ceil", &[Ty, Val]),
    ("floor", &[Ty, Val]),
    ("trunc", &[Ty, Val]),
    ("nearest", &[Ty, Val]),
    ("fcmp", &[Ty, ArgKind::FloatCc, Val, Val]),
    ("fcvt_from_sint", &[Ty, Val]),
    ("fcvt_from_uint", &[Ty, Val]),
    ("fcvt_to_sint", &[Ty, Val]),
    ("fcvt_to_uint", &[Ty, Val]),
    ("fcvt_to_sint_sat", &[Ty, Val]),
    ("fcvt_to_uint_sat", &[Ty, Val]),
    ("fpromote", &[Ty, Val]),
    ("fdemote", &[Ty, Val]),
    ("bitcast", &[Ty, Flags, Val]),
    ("load", &[Ty, Flags, Val, Offset]),
    ("uload8", &[Ty, Flags, Val, Offset]),
    ("sload8", &[Ty, Flags, Val, Offset]),
    ("uload16", &[Ty, Flags, Val, Offset]),
    ("sload16", &[Ty, Flags, Val, Offset]),
    ("uload32", &[Ty, Flags, Val, Offset]),
    ("sload32", &[Ty, Flags, Val, Offset]),
    ("store", &[Flags, Val, Val, Offset]),
    ("istore8", &[Flags, Val, Val, Offset]),
    ("istore16", &[Flags, Val, Val, Offset]),
    ("istore32", &[Flags, Val, Val, Offset]),
    ("splat", &[Ty, Val]),
    ("extractlane", &[Ty, Val, Lane]),
    ("insertlane", &[Ty, Val, Val, Lane]),
    ("swiden_low", &[Ty, Val]),
    ("swiden_high", &[Ty, Val]),
    ("uwiden_low", &[Ty, Val]),
    ("uwiden_high", &[Ty, Val]),
    ("snarrow", &[Ty, Val, Val]),
    ("unarrow", &[Ty, Val, Val]),
    ("avg_round", &[Ty, Val, Val]),
    ("sadd_sat", &[Ty, Val, Val]),
    ("uadd_sat", &[Ty, Val, Val]),
    ("ssub_sat", &[Ty, Val, Val]),
    ("usub_sat", &[Ty, Val, Val]),
    ("sqmul_round_sat", &[Ty, Val, Val]),
    ("swizzle", &[Ty, Val, Val]),
    ("vany_true", &[Ty, Val]),
    ("vall_true", &[Ty, Val]),
    ("vhigh_bits", &[Ty, Val]),
    ("brif", &[Val, Other, Other]),
];

/// CLIF instructions that occur in rules but that no core-Wasm instruction
/// of the enabled proposals translates into.
pub const NO_WASM_FORM: &[&str] = &[
    "iconcat",
    "isplit",
    "bmask",
    "bswap",
    "bitrev",
    "cls",
    "smulhi",
    "umulhi",
    "fma",
    "iadd_pairwise",
    "shuffle",
    "scalar_to_vector",
    "uadd_overflow",
    "sadd_overflow",
    "usub_overflow",
    "ssub_overflow",
    "umul_overflow",
    "smul_overflow",
    "uadd_overflow_trap",
    "select_spectre_guard",
    "spaceship_s",
    "spaceship_u",
    "atomic_rmw",
    "atomic_load",
    "atomic_store",
    "atomic_cas",
    "fence",
    "f16const",
    "f128const",
    "blendv",
    "x86_cvtt2dq",
    "x86_pmaddubsw",
    "x86_pshufb",
    "x86_pmulhrsw",
    "uunarrow",
    "fvpromote_low",
    "fvdemote",
    "sload8x8",
    "uload8x8",
    "sload16x4",
    "uload16x4",
    "sload32x2",
    "uload32x2",
    "call",
    "call_indirect",
    "return_call",
    "return_call_indirect",
    "try_call",
    "try_call_indirect",
    "stack_switch",
    "get_frame_pointer",
    "get_stack_pointer",
    "get_return_address",
    "get_pinned_reg",
    "set_pinned_reg",
    "get_exception_handler_address",
    "stack_addr",
    "func_addr",
    "symbol_value",
    "tls_value",
    "trap",
    "trapz",
    "trapnz",
    "debugtrap",
    "return",
    "jump",
    "br_table",
    "nop",
    "sequence_point",
];

/// The instruction `name` (as a `'static` name) and its argument list, if
/// Wasm can produce it.
pub fn op_args(name: &str) -> Option<(&'static str, &'static [ArgKind])> {
    OPS.iter().find(|(n, _)| *n == name).copied()
}

/// A memory immediate on memory 0.
pub fn memarg(offset: u64, align: u32) -> MemArg {
    MemArg {
        offset,
        align,
        target: wasm_encoder::MemArgTarget::Memory(0),
        ordering: None,
    }
}

/// An integer condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntCc {
    /// ==
    Eq,
    /// !=
    Ne,
    /// signed <
    Slt,
    /// signed <=
    Sle,
    /// signed >
    Sgt,
    /// signed >=
    Sge,
    /// unsigned <
    Ult,
    /// unsigned <=
    Ule,
    /// unsigned >
    Ugt,
    /// unsigned >=
    Uge,
}

impl IntCc {
    /// Every condition.
    pub const ALL: [IntCc; 10] = [
        IntCc::Eq,
        IntCc::Ne,
        IntCc::Slt,
        IntCc::Sle,
        IntCc::Sgt,
        IntCc::Sge,
        IntCc::Ult,
        IntCc::Ule,
        IntCc::Ugt,
        IntCc::Uge,
    ];

    /// The condition of an ISLE name: `IntCC.SignedLessThan` or opts'
    /// shorthand `slt`.
    pub fn from_name(name: &str) -> Option<IntCc> {
        Some(match name.trim_start_matches("IntCC.") {
            "Equal" | "eq" => IntCc::Eq,
            "NotEqual" | "ne" => IntCc::Ne,
            "SignedLessThan" | "slt" => IntCc::Slt,
            "SignedLessThanOrEqual" | "sle" => IntCc::Sle,
            "SignedGreaterThan" | "sgt" => IntCc::Sgt,
            "SignedGreaterThanOrEqual" | "sge" => IntCc::Sge,
            "UnsignedLessThan" | "ult" => IntCc::Ult,
            "UnsignedLessThanOrEqual" | "ule" => IntCc::Ule,
            "UnsignedGreaterThan" | "ugt" => IntCc::Ugt,
            "UnsignedGreaterThanOrEqual" | "uge" => IntCc::Uge,
            _ => return None,
        })
    }
}

/// A float condition Wasm has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FloatCc {
    /// ==
    Eq,
    /// !=
    Ne,
    /// <
    Lt,
    /// <=
    Le,
    /// >
    Gt,
    /// >=
    Ge,
}

impl FloatCc {
    /// Every condition Wasm has.
    pub const ALL: [FloatCc; 6] = [
        FloatCc::Eq,
        FloatCc::Ne,
        FloatCc::Lt,
        FloatCc::Le,
        FloatCc::Gt,
        FloatCc::Ge,
    ];

    /// The condition of `FloatCC.LessThan`; `None` for the ones Wasm has no
    /// comparison for (`Unordered`, `UnorderedOrLessThan`, ...).
    pub fn from_name(name: &str) -> Option<FloatCc> {
        Some(match name.trim_start_matches("FloatCC.") {
            "Equal" => FloatCc::Eq,
            "NotEqual" => FloatCc::Ne,
            "LessThan" => FloatCc::Lt,
            "LessThanOrEqual" => FloatCc::Le,
            "GreaterThan" => FloatCc::Gt,
            "GreaterThanOrEqual" => FloatCc::Ge,
            _ => return None,
        })
    }
}

/// One step of an instruction's realization: push operand `n`, or emit a
/// Wasm instruction.
#[derive(Clone, Debug)]
pub enum Step {
    /// The n-th value operand.
    Arg(usize),
    /// A Wasm instruction.
    I(Instruction<'static>),
}

/// The immediates an emitter chose for one instruction.
#[derive(Clone, Copy, Debug, Default)]
pub struct Immediates {
    /// The integer condition, for icmp.
    pub int_cc: Option<IntCc>,
    /// The float condition, for fcmp.
    pub float_cc: Option<FloatCc>,
    /// The constant offset of a load or store.
    pub offset: u64,
    /// The lane of extractlane / insertlane.
    pub lane: u8,
}

/// The operand types op `name` can take when its result is `result`, each
/// alternative a list of value operand types; empty when the op does not
/// exist at that type in Wasm. `None` as a result (a store, a branch) is
/// written as `result == None`.
pub fn operand_types(name: &str, result: Option<WTy>) -> Vec<Vec<WTy>> {
    use WTy::*;
    let Some(r) = result else {
        return match name {
            "store" => [I32, I64, F32, F64, I8x16, I16x8, I32x4, I64x2, F32x4, F64x2]
                .into_iter()
                .map(|v| vec![v, I32])
                .collect(),
            "istore8" | "istore16" => vec![vec![I32, I32], vec![I64, I32]],
            "istore32" => vec![vec![I64, I32]],
            "brif" => vec![vec![I32]],
            _ => Vec::new(),
        };
    };
    let same2 = |set: TySet| {
        if set.contains(r) {
            vec![vec![r, r]]
        } else {
            Vec::new()
        }
    };
    let same1 = |set: TySet| {
        if set.contains(r) {
            vec![vec![r]]
        } else {
            Vec::new()
        }
    };
    let int_vec = TySet::INT_VECTOR;
    match name {
        "iadd" | "isub" | "band" | "bor" | "bxor" => same2(TySet::INT.or(int_vec)),
        "imul" => same2(
            TySet::INT
                .or(TySet::of(I16x8))
                .or(TySet::of(I32x4))
                .or(TySet::of(I64x2)),
        ),
        "sdiv" | "udiv" | "srem" | "urem" | "rotl" | "rotr" => same2(TySet::INT),
        "bnot" | "ineg" => same1(TySet::INT.or(int_vec)),
        "iabs" => same1(int_vec),
        "smin" | "smax" | "umin" | "umax" => same2(
            TySet::INT
                .or(TySet::of(I8x16))
                .or(TySet::of(I16x8))
                .or(TySet::of(I32x4)),
        ),
        "ishl" | "sshr" | "ushr" => {
            if TySet::INT.contains(r) {
                vec![vec![r, r]]
            } else if int_vec.contains(r) {
                vec![vec![r, I32]]
            } else {
                Vec::new()
            }
        }
        "clz" | "ctz" => same1(TySet::INT),
        "popcnt" => same1(TySet::INT.or(TySet::of(I8x16))),
        "icmp" | "eq" | "ne" | "slt" | "sle" | "sgt" | "sge" | "ult" | "ule" | "ugt" | "uge" => {
            match r {
                I32 => vec![vec![I32, I32], vec![I64, I64]],
                v if int_vec.contains(v) => vec![vec![v, v]],
                _ => Vec::new(),
            }
        }
        "select" => {
            if TySet::INT.or(TySet::FLOAT).or(TySet::VECTOR).contains(r) {
                vec![vec![I32, r, r]]
            } else {
                Vec::new()
            }
        }
        "bitselect" => {
            if r.is_vector() {
                vec![vec![r, r, r]]
            } else {
                Vec::new()
            }
        }
        "uextend" | "sextend" => match r {
            I64 => vec![vec![I32], vec![N8], vec![N16]],
            I32 => vec![vec![N8], vec![N16]],
            _ => Vec::new(),
        },
        "ireduce" => match r {
            I32 => vec![vec![I64]],
            N8 | N16 => vec![vec![I32], vec![I64]],
            _ => Vec::new(),
        },
        "fadd" | "fsub" | "fmul" | "fdiv" | "fmin" | "fmax" => {
            same2(TySet::FLOAT.or(TySet::FLOAT_VECTOR))
        }
        "fcopysign" => same2(TySet::FLOAT),
        "fneg" | "fabs" | "sqrt" | "ceil" | "floor" | "trunc" | "nearest" => {
            same1(TySet::FLOAT.or(TySet::FLOAT_VECTOR))
        }
        "fcmp" => match r {
            I32 => vec![vec![F32, F32], vec![F64, F64]],
            I32x4 => vec![vec![F32x4, F32x4]],
            I64x2 => vec![vec![F64x2, F64x2]],
            _ => Vec::new(),
        },
        "fcvt_from_sint" | "fcvt_from_uint" => match r {
            F32 | F64 => vec![vec![I32], vec![I64]],
            F32x4 => vec![vec![I32x4]],
            _ => Vec::new(),
        },
        "fcvt_to_sint" | "fcvt_to_uint" => match r {
            I32 | I64 => vec![vec![F32], vec![F64]],
            _ => Vec::new(),
        },
        "fcvt_to_sint_sat" | "fcvt_to_uint_sat" => match r {
            I32 | I64 => vec![vec![F32], vec![F64]],
            I32x4 => vec![vec![F32x4]],
            _ => Vec::new(),
        },
        "fpromote" if r == F64 => vec![vec![F32]],
        "fdemote" if r == F32 => vec![vec![F64]],
        "bitcast" => match r {
            I32 => vec![vec![F32]],
            F32 => vec![vec![I32]],
            I64 => vec![vec![F64]],
            F64 => vec![vec![I64]],
            _ => Vec::new(),
        },
        "load" if !matches!(r, N8 | N16) => vec![vec![I32]],
        "uload8" | "sload8" | "uload16" | "sload16" if matches!(r, I32 | I64) => vec![vec![I32]],
        "uload32" | "sload32" if r == I64 => vec![vec![I32]],
        "splat" => match r {
            I8x16 | I16x8 | I32x4 => vec![vec![I32]],
            I64x2 => vec![vec![I64]],
            F32x4 => vec![vec![F32]],
            F64x2 => vec![vec![F64]],
            _ => Vec::new(),
        },
        "extractlane" => match r {
            I32 => vec![vec![I32x4], vec![I8x16], vec![I16x8]],
            I64 => vec![vec![I64x2]],
            F32 => vec![vec![F32x4]],
            F64 => vec![vec![F64x2]],
            _ => Vec::new(),
        },
        "insertlane" => match r {
            I8x16 | I16x8 | I32x4 => vec![vec![r, I32]],
            I64x2 => vec![vec![r, I64]],
            F32x4 => vec![vec![r, F32]],
            F64x2 => vec![vec![r, F64]],
            _ => Vec::new(),
        },
        "swiden_low" | "swiden_high" | "uwiden_low" | "uwiden_high" => match r {
            I16x8 => vec![vec![I8x16]],
            I32x4 => vec![vec![I16x8]],
            I64x2 => vec![vec![I32x4]],
            _ => Vec::new(),
        },
        "snarrow" | "unarrow" => match r {
            I8x16 => vec![vec![I16x8, I16x8]],
            I16x8 => vec![vec![I32x4, I32x4]],
            _ => Vec::new(),
        },
        "avg_round" | "sadd_sat" | "uadd_sat" | "ssub_sat" | "usub_sat" => {
            same2(TySet::of(I8x16).or(TySet::of(I16x8)))
        }
        "sqmul_round_sat" => same2(TySet::of(I16x8)),
        "swizzle" => same2(TySet::of(I8x16)),
        "vany_true" | "vall_true" | "vhigh_bits" if r == I32 => {
            VECTOR_INT_OPERANDS.iter().map(|v| vec![*v]).collect()
        }
        _ => Vec::new(),
    }
}

const VECTOR_INT_OPERANDS: [WTy; 4] = [WTy::I8x16, WTy::I16x8, WTy::I32x4, WTy::I64x2];

/// The Wasm steps realizing op `name` with result `result` (`None`: no
/// result) and value operands of types `args`; `None` if Wasm has no
/// instruction for that combination.
pub fn realize(
    name: &str,
    result: Option<WTy>,
    args: &[WTy],
    imm: Immediates,
) -> Option<Vec<Step>> {
    use Instruction as W;
    use Step::{Arg, I};
    use WTy::*;
    let a0 = args.first().copied();
    let bin = |i: W<'static>| Some(vec![Arg(0), Arg(1), I(i)]);
    let un = |i: W<'static>| Some(vec![Arg(0), I(i)]);
    let memarg = |align: u32| memarg(imm.offset, align);
    let Some(r) = result else {
        let value = a0?;
        let store = match (name, value) {
            ("store", I32) => W::I32Store(memarg(2)),
            ("store", I64) => W::I64Store(memarg(3)),
            ("store", F32) => W::F32Store(memarg(2)),
            ("store", F64) => W::F64Store(memarg(3)),
            ("store", v) if v.is_vector() => W::V128Store(memarg(4)),
            ("istore8", I32) => W::I32Store8(memarg(0)),
            ("istore8", I64) => W::I64Store8(memarg(0)),
            ("istore16", I32) => W::I32Store16(memarg(1)),
            ("istore16", I64) => W::I64Store16(memarg(1)),
            ("istore32", I64) => W::I64Store32(memarg(2)),
            ("brif", I32) => {
                return Some(vec![
                    Arg(0),
                    I(W::If(wasm_encoder::BlockType::Result(ValType::I32))),
                    I(W::I32Const(1)),
                    I(W::Else),
                    I(W::I32Const(2)),
                    I(W::End),
                    I(W::Drop),
                ])
            }
            _ => return None,
        };
        return Some(vec![Arg(1), Arg(0), I(store)]);
    };
    macro_rules! by_type {
        ($($ty:ident => $ins:expr),* $(,)?) => {
            match r { $($ty => $ins,)* _ => return None }
        };
    }
    let steps = match name {
        "iadd" => bin(
            by_type!(I32 => W::I32Add, I64 => W::I64Add, I8x16 => W::I8x16Add,
            I16x8 => W::I16x8Add, I32x4 => W::I32x4Add, I64x2 => W::I64x2Add),
        ),
        "isub" => bin(
            by_type!(I32 => W::I32Sub, I64 => W::I64Sub, I8x16 => W::I8x16Sub,
            I16x8 => W::I16x8Sub, I32x4 => W::I32x4Sub, I64x2 => W::I64x2Sub),
        ),
        "imul" => bin(
            by_type!(I32 => W::I32Mul, I64 => W::I64Mul, I16x8 => W::I16x8Mul,
            I32x4 => W::I32x4Mul, I64x2 => W::I64x2Mul),
        ),
        "sdiv" => bin(by_type!(I32 => W::I32DivS, I64 => W::I64DivS)),
        "udiv" => bin(by_type!(I32 => W::I32DivU, I64 => W::I64DivU)),
        "srem" => bin(by_type!(I32 => W::I32RemS, I64 => W::I64RemS)),
        "urem" => bin(by_type!(I32 => W::I32RemU, I64 => W::I64RemU)),
        "band" => bin(if r.is_vector() {
            W::V128And
        } else {
            by_type!(I32 => W::I32And, I64 => W::I64And)
        }),
        "bor" => bin(if r.is_vector() {
            W::V128Or
        } else {
            by_type!(I32 => W::I32Or, I64 => W::I64Or)
        }),
        "bxor" => bin(if r.is_vector() {
            W::V128Xor
        } else {
            by_type!(I32 => W::I32Xor, I64 => W::I64Xor)
        }),
        "bnot" => match r {
            I32 => Some(vec![Arg(0), I(W::I32Const(-1)), I(W::I32Xor)]),
            I64 => Some(vec![Arg(0), I(W::I64Const(-1)), I(W::I64Xor)]),
            v if v.is_vector() => un(W::V128Not),
            _ => None,
        },
        "ineg" => match r {
            I32 => Some(vec![I(W::I32Const(0)), Arg(0), I(W::I32Sub)]),
            I64 => Some(vec![I(W::I64Const(0)), Arg(0), I(W::I64Sub)]),
            _ => un(
                by_type!(I8x16 => W::I8x16Neg, I16x8 => W::I16x8Neg, I32x4 => W::I32x4Neg,
                I64x2 => W::I64x2Neg),
            ),
        },
        "iabs" => un(
            by_type!(I8x16 => W::I8x16Abs, I16x8 => W::I16x8Abs, I32x4 => W::I32x4Abs,
            I64x2 => W::I64x2Abs),
        ),
        "smin" | "smax" | "umin" | "umax" => match r {
            // Scalars have no min/max in Wasm: a select of a comparison,
            // which Cranelift's selects.isle turns into the op.
            I32 | I64 => {
                let cmp = match (name, r) {
                    ("smin", I32) => W::I32LtS,
                    ("smax", I32) => W::I32GtS,
                    ("umin", I32) => W::I32LtU,
                    ("umax", I32) => W::I32GtU,
                    ("smin", _) => W::I64LtS,
                    ("smax", _) => W::I64GtS,
                    ("umin", _) => W::I64LtU,
                    _ => W::I64GtU,
                };
                Some(vec![Arg(0), Arg(1), Arg(0), Arg(1), I(cmp), I(W::Select)])
            }
            _ => bin(match (name, r) {
                ("smin", I8x16) => W::I8x16MinS,
                ("smax", I8x16) => W::I8x16MaxS,
                ("umin", I8x16) => W::I8x16MinU,
                ("umax", I8x16) => W::I8x16MaxU,
                ("smin", I16x8) => W::I16x8MinS,
                ("smax", I16x8) => W::I16x8MaxS,
                ("umin", I16x8) => W::I16x8MinU,
                ("umax", I16x8) => W::I16x8MaxU,
                ("smin", I32x4) => W::I32x4MinS,
                ("smax", I32x4) => W::I32x4MaxS,
                ("umin", I32x4) => W::I32x4MinU,
                ("umax", I32x4) => W::I32x4MaxU,
                _ => return None,
            }),
        },
        "ishl" => bin(
            by_type!(I32 => W::I32Shl, I64 => W::I64Shl, I8x16 => W::I8x16Shl,
            I16x8 => W::I16x8Shl, I32x4 => W::I32x4Shl, I64x2 => W::I64x2Shl),
        ),
        "sshr" => bin(
            by_type!(I32 => W::I32ShrS, I64 => W::I64ShrS, I8x16 => W::I8x16ShrS,
            I16x8 => W::I16x8ShrS, I32x4 => W::I32x4ShrS, I64x2 => W::I64x2ShrS),
        ),
        "ushr" => bin(
            by_type!(I32 => W::I32ShrU, I64 => W::I64ShrU, I8x16 => W::I8x16ShrU,
            I16x8 => W::I16x8ShrU, I32x4 => W::I32x4ShrU, I64x2 => W::I64x2ShrU),
        ),
        "rotl" => bin(by_type!(I32 => W::I32Rotl, I64 => W::I64Rotl)),
        "rotr" => bin(by_type!(I32 => W::I32Rotr, I64 => W::I64Rotr)),
        "clz" => un(by_type!(I32 => W::I32Clz, I64 => W::I64Clz)),
        "ctz" => un(by_type!(I32 => W::I32Ctz, I64 => W::I64Ctz)),
        "popcnt" => un(by_type!(I32 => W::I32Popcnt, I64 => W::I64Popcnt, I8x16 => W::I8x16Popcnt)),
        "icmp" | "eq" | "ne" | "slt" | "sle" | "sgt" | "sge" | "ult" | "ule" | "ugt" | "uge" => {
            bin(int_compare(imm.int_cc?, a0?)?)
        }
        "select" => Some(vec![Arg(1), Arg(2), Arg(0), I(W::Select)]),
        "bitselect" => Some(vec![Arg(1), Arg(2), Arg(0), I(W::V128Bitselect)]),
        "uextend" | "sextend" => {
            let signed = name == "sextend";
            match (r, a0?) {
                (I64, I32) => un(if signed {
                    W::I64ExtendI32S
                } else {
                    W::I64ExtendI32U
                }),
                (I32, N8) if signed => un(W::I32Extend8S),
                (I32, N16) if signed => un(W::I32Extend16S),
                (I64, N8) if signed => Some(vec![Arg(0), I(W::I64ExtendI32U), I(W::I64Extend8S)]),
                (I64, N16) if signed => Some(vec![Arg(0), I(W::I64ExtendI32U), I(W::I64Extend16S)]),
                (I32, N8) => Some(vec![Arg(0), I(W::I32Const(0xff)), I(W::I32And)]),
                (I32, N16) => Some(vec![Arg(0), I(W::I32Const(0xffff)), I(W::I32And)]),
                (I64, N8) => Some(vec![
                    Arg(0),
                    I(W::I64ExtendI32U),
                    I(W::I64Const(0xff)),
                    I(W::I64And),
                ]),
                (I64, N16) => Some(vec![
                    Arg(0),
                    I(W::I64ExtendI32U),
                    I(W::I64Const(0xffff)),
                    I(W::I64And),
                ]),
                _ => None,
            }
        }
        "ireduce" => match (r, a0?) {
            (I32, I64) | (N8 | N16, I64) => un(W::I32WrapI64),
            (N8 | N16, I32) => Some(vec![Arg(0)]),
            _ => None,
        },
        "fadd" => bin(
            by_type!(F32 => W::F32Add, F64 => W::F64Add, F32x4 => W::F32x4Add, F64x2 => W::F64x2Add),
        ),
        "fsub" => bin(
            by_type!(F32 => W::F32Sub, F64 => W::F64Sub, F32x4 => W::F32x4Sub, F64x2 => W::F64x2Sub),
        ),
        "fmul" => bin(
            by_type!(F32 => W::F32Mul, F64 => W::F64Mul, F32x4 => W::F32x4Mul, F64x2 => W::F64x2Mul),
        ),
        "fdiv" => bin(
            by_type!(F32 => W::F32Div, F64 => W::F64Div, F32x4 => W::F32x4Div, F64x2 => W::F64x2Div),
        ),
        "fmin" => bin(
            by_type!(F32 => W::F32Min, F64 => W::F64Min, F32x4 => W::F32x4Min, F64x2 => W::F64x2Min),
        ),
        "fmax" => bin(
            by_type!(F32 => W::F32Max, F64 => W::F64Max, F32x4 => W::F32x4Max, F64x2 => W::F64x2Max),
        ),
        "fcopysign" => bin(by_type!(F32 => W::F32Copysign, F64 => W::F64Copysign)),
        "fneg" => un(
            by_type!(F32 => W::F32Neg, F64 => W::F64Neg, F32x4 => W::F32x4Neg, F64x2 => W::F64x2Neg),
        ),
        "fabs" => un(
            by_type!(F32 => W::F32Abs, F64 => W::F64Abs, F32x4 => W::F32x4Abs, F64x2 => W::F64x2Abs),
        ),
        "sqrt" => un(
            by_type!(F32 => W::F32Sqrt, F64 => W::F64Sqrt, F32x4 => W::F32x4Sqrt, F64x2 => W::F64x2Sqrt),
        ),
        "ceil" => un(
            by_type!(F32 => W::F32Ceil, F64 => W::F64Ceil, F32x4 => W::F32x4Ceil, F64x2 => W::F64x2Ceil),
        ),
        "floor" => un(
            by_type!(F32 => W::F32Floor, F64 => W::F64Floor, F32x4 => W::F32x4Floor, F64x2 => W::F64x2Floor),
        ),
        "trunc" => un(
            by_type!(F32 => W::F32Trunc, F64 => W::F64Trunc, F32x4 => W::F32x4Trunc, F64x2 => W::F64x2Trunc),
        ),
        "nearest" => un(
            by_type!(F32 => W::F32Nearest, F64 => W::F64Nearest, F32x4 => W::F32x4Nearest, F64x2 => W::F64x2Nearest),
        ),
        "fcmp" => bin(float_compare(imm.float_cc?, a0?)?),
        "fcvt_from_sint" | "fcvt_from_uint" => {
            let s = name == "fcvt_from_sint";
            un(match (r, a0?) {
                (F32, I32) => {
                    if s {
                        W::F32ConvertI32S
                    } else {
                        W::F32ConvertI32U
                    }
                }
                (F32, I64) => {
                    if s {
                        W::F32ConvertI64S
                    } else {
                        W::F32ConvertI64U
                    }
                }
                (F64, I32) => {
                    if s {
                        W::F64ConvertI32S
                    } else {
                        W::F64ConvertI32U
                    }
                }
                (F64, I64) => {
                    if s {
                        W::F64ConvertI64S
                    } else {
                        W::F64ConvertI64U
                    }
                }
                (F32x4, I32x4) => {
                    if s {
                        W::F32x4ConvertI32x4S
                    } else {
                        W::F32x4ConvertI32x4U
                    }
                }
                _ => return None,
            })
        }
        "fcvt_to_sint" | "fcvt_to_uint" => {
            let s = name == "fcvt_to_sint";
            un(match (r, a0?) {
                (I32, F32) => {
                    if s {
                        W::I32TruncF32S
                    } else {
                        W::I32TruncF32U
                    }
                }
                (I32, F64) => {
                    if s {
                        W::I32TruncF64S
                    } else {
                        W::I32TruncF64U
                    }
                }
                (I64, F32) => {
                    if s {
                        W::I64TruncF32S
                    } else {
                        W::I64TruncF32U
                    }
                }
                (I64, F64) => {
                    if s {
                        W::I64TruncF64S
                    } else {
                        W::I64TruncF64U
                    }
                }
                _ => return None,
            })
        }
        "fcvt_to_sint_sat" | "fcvt_to_uint_sat" => {
            let s = name == "fcvt_to_sint_sat";
            un(match (r, a0?) {
                (I32, F32) => {
                    if s {
                        W::I32TruncSatF32S
                    } else {
                        W::I32TruncSatF32U
                    }
                }
                (I32, F64) => {
                    if s {
                        W::I32TruncSatF64S
                    } else {
                        W::I32TruncSatF64U
                    }
                }
                (I64, F32) => {
                    if s {
                        W::I64TruncSatF32S
                    } else {
                        W::I64TruncSatF32U
                    }
                }
                (I64, F64) => {
                    if s {
                        W::I64TruncSatF64S
                    } else {
                        W::I64TruncSatF64U
                    }
                }
                (I32x4, F32x4) => {
                    if s {
                        W::I32x4TruncSatF32x4S
                    } else {
                        W::I32x4TruncSatF32x4U
                    }
                }
                _ => return None,
            })
        }
        "fpromote" => un(W::F64PromoteF32),
        "fdemote" => un(W::F32DemoteF64),
        "bitcast" => un(
            by_type!(I32 => W::I32ReinterpretF32, F32 => W::F32ReinterpretI32,
            I64 => W::I64ReinterpretF64, F64 => W::F64ReinterpretI64),
        ),
        "load" => un(
            by_type!(I32 => W::I32Load(memarg(2)), I64 => W::I64Load(memarg(3)),
            F32 => W::F32Load(memarg(2)), F64 => W::F64Load(memarg(3)),
            I8x16 => W::V128Load(memarg(4)), I16x8 => W::V128Load(memarg(4)),
            I32x4 => W::V128Load(memarg(4)), I64x2 => W::V128Load(memarg(4)),
            F32x4 => W::V128Load(memarg(4)), F64x2 => W::V128Load(memarg(4))),
        ),
        "uload8" => un(by_type!(I32 => W::I32Load8U(memarg(0)), I64 => W::I64Load8U(memarg(0)))),
        "sload8" => un(by_type!(I32 => W::I32Load8S(memarg(0)), I64 => W::I64Load8S(memarg(0)))),
        "uload16" => un(by_type!(I32 => W::I32Load16U(memarg(1)), I64 => W::I64Load16U(memarg(1)))),
        "sload16" => un(by_type!(I32 => W::I32Load16S(memarg(1)), I64 => W::I64Load16S(memarg(1)))),
        "uload32" => un(W::I64Load32U(memarg(2))),
        "sload32" => un(W::I64Load32S(memarg(2))),
        "splat" => un(
            by_type!(I8x16 => W::I8x16Splat, I16x8 => W::I16x8Splat, I32x4 => W::I32x4Splat,
            I64x2 => W::I64x2Splat, F32x4 => W::F32x4Splat, F64x2 => W::F64x2Splat),
        ),
        "extractlane" => {
            let lane = imm.lane % a0?.lanes() as u8;
            un(match a0? {
                I8x16 => W::I8x16ExtractLaneS(lane),
                I16x8 => W::I16x8ExtractLaneS(lane),
                I32x4 => W::I32x4ExtractLane(lane),
                I64x2 => W::I64x2ExtractLane(lane),
                F32x4 => W::F32x4ExtractLane(lane),
                F64x2 => W::F64x2ExtractLane(lane),
                _ => return None,
            })
        }
        "insertlane" => {
            let lane = imm.lane % r.lanes() as u8;
            bin(
                by_type!(I8x16 => W::I8x16ReplaceLane(lane), I16x8 => W::I16x8ReplaceLane(lane),
                I32x4 => W::I32x4ReplaceLane(lane), I64x2 => W::I64x2ReplaceLane(lane),
                F32x4 => W::F32x4ReplaceLane(lane), F64x2 => W::F64x2ReplaceLane(lane)),
            )
        }
        "swiden_low" => un(
            by_type!(I16x8 => W::I16x8ExtendLowI8x16S, I32x4 => W::I32x4ExtendLowI16x8S, I64x2 => W::I64x2ExtendLowI32x4S),
        ),
        "swiden_high" => un(
            by_type!(I16x8 => W::I16x8ExtendHighI8x16S, I32x4 => W::I32x4ExtendHighI16x8S, I64x2 => W::I64x2ExtendHighI32x4S),
        ),
        "uwiden_low" => un(
            by_type!(I16x8 => W::I16x8ExtendLowI8x16U, I32x4 => W::I32x4ExtendLowI16x8U, I64x2 => W::I64x2ExtendLowI32x4U),
        ),
        "uwiden_high" => un(
            by_type!(I16x8 => W::I16x8ExtendHighI8x16U, I32x4 => W::I32x4ExtendHighI16x8U, I64x2 => W::I64x2ExtendHighI32x4U),
        ),
        "snarrow" => bin(by_type!(I8x16 => W::I8x16NarrowI16x8S, I16x8 => W::I16x8NarrowI32x4S)),
        "unarrow" => bin(by_type!(I8x16 => W::I8x16NarrowI16x8U, I16x8 => W::I16x8NarrowI32x4U)),
        "avg_round" => bin(by_type!(I8x16 => W::I8x16AvgrU, I16x8 => W::I16x8AvgrU)),
        "sadd_sat" => bin(by_type!(I8x16 => W::I8x16AddSatS, I16x8 => W::I16x8AddSatS)),
        "uadd_sat" => bin(by_type!(I8x16 => W::I8x16AddSatU, I16x8 => W::I16x8AddSatU)),
        "ssub_sat" => bin(by_type!(I8x16 => W::I8x16SubSatS, I16x8 => W::I16x8SubSatS)),
        "usub_sat" => bin(by_type!(I8x16 => W::I8x16SubSatU, I16x8 => W::I16x8SubSatU)),
        "sqmul_round_sat" => bin(W::I16x8Q15MulrSatS),
        "swizzle" => bin(W::I8x16Swizzle),
        "vany_true" => un(W::V128AnyTrue),
        "vall_true" => un(match a0? {
            I8x16 => W::I8x16AllTrue,
            I16x8 => W::I16x8AllTrue,
            I32x4 => W::I32x4AllTrue,
            I64x2 => W::I64x2AllTrue,
            _ => return None,
        }),
        "vhigh_bits" => un(match a0? {
            I8x16 => W::I8x16Bitmask,
            I16x8 => W::I16x8Bitmask,
            I32x4 => W::I32x4Bitmask,
            I64x2 => W::I64x2Bitmask,
            _ => return None,
        }),
        _ => None,
    };
    steps
}

/// The comparison of `cc` on operands of type `ty`.
fn int_compare(cc: IntCc, ty: WTy) -> Option<Instruction<'static>> {
    use Instruction as W;
    use IntCc::*;
    Some(match (ty, cc) {
        (WTy::I32, Eq) => W::I32Eq,
        (WTy::I32, Ne) => W::I32Ne,
        (WTy::I32, Slt) => W::I32LtS,
        (WTy::I32, Sle) => W::I32LeS,
        (WTy::I32, Sgt) => W::I32GtS,
        (WTy::I32, Sge) => W::I32GeS,
        (WTy::I32, Ult) => W::I32LtU,
        (WTy::I32, Ule) => W::I32LeU,
        (WTy::I32, Ugt) => W::I32GtU,
        (WTy::I32, Uge) => W::I32GeU,
        (WTy::I64, Eq) => W::I64Eq,
        (WTy::I64, Ne) => W::I64Ne,
        (WTy::I64, Slt) => W::I64LtS,
        (WTy::I64, Sle) => W::I64LeS,
        (WTy::I64, Sgt) => W::I64GtS,
        (WTy::I64, Sge) => W::I64GeS,
        (WTy::I64, Ult) => W::I64LtU,
        (WTy::I64, Ule) => W::I64LeU,
        (WTy::I64, Ugt) => W::I64GtU,
        (WTy::I64, Uge) => W::I64GeU,
        (WTy::I8x16, Eq) => W::I8x16Eq,
        (WTy::I8x16, Ne) => W::I8x16Ne,
        (WTy::I8x16, Slt) => W::I8x16LtS,
        (WTy::I8x16, Sle) => W::I8x16LeS,
        (WTy::I8x16, Sgt) => W::I8x16GtS,
        (WTy::I8x16, Sge) => W::I8x16GeS,
        (WTy::I8x16, Ult) => W::I8x16LtU,
        (WTy::I8x16, Ule) => W::I8x16LeU,
        (WTy::I8x16, Ugt) => W::I8x16GtU,
        (WTy::I8x16, Uge) => W::I8x16GeU,
        (WTy::I16x8, Eq) => W::I16x8Eq,
        (WTy::I16x8, Ne) => W::I16x8Ne,
        (WTy::I16x8, Slt) => W::I16x8LtS,
        (WTy::I16x8, Sle) => W::I16x8LeS,
        (WTy::I16x8, Sgt) => W::I16x8GtS,
        (WTy::I16x8, Sge) => W::I16x8GeS,
        (WTy::I16x8, Ult) => W::I16x8LtU,
        (WTy::I16x8, Ule) => W::I16x8LeU,
        (WTy::I16x8, Ugt) => W::I16x8GtU,
        (WTy::I16x8, Uge) => W::I16x8GeU,
        (WTy::I32x4, Eq) => W::I32x4Eq,
        (WTy::I32x4, Ne) => W::I32x4Ne,
        (WTy::I32x4, Slt) => W::I32x4LtS,
        (WTy::I32x4, Sle) => W::I32x4LeS,
        (WTy::I32x4, Sgt) => W::I32x4GtS,
        (WTy::I32x4, Sge) => W::I32x4GeS,
        (WTy::I32x4, Ult) => W::I32x4LtU,
        (WTy::I32x4, Ule) => W::I32x4LeU,
        (WTy::I32x4, Ugt) => W::I32x4GtU,
        (WTy::I32x4, Uge) => W::I32x4GeU,
        (WTy::I64x2, Eq) => W::I64x2Eq,
        (WTy::I64x2, Ne) => W::I64x2Ne,
        (WTy::I64x2, Slt) => W::I64x2LtS,
        (WTy::I64x2, Sle) => W::I64x2LeS,
        (WTy::I64x2, Sgt) => W::I64x2GtS,
        (WTy::I64x2, Sge) => W::I64x2GeS,
        _ => return None,
    })
}

/// The float comparison of `cc` on operands of type `ty`.
fn float_compare(cc: FloatCc, ty: WTy) -> Option<Instruction<'static>> {
    use FloatCc::*;
    use Instruction as W;
    Some(match (ty, cc) {
        (WTy::F32, Eq) => W::F32Eq,
        (WTy::F32, Ne) => W::F32Ne,
        (WTy::F32, Lt) => W::F32Lt,
        (WTy::F32, Le) => W::F32Le,
        (WTy::F32, Gt) => W::F32Gt,
        (WTy::F32, Ge) => W::F32Ge,
        (WTy::F64, Eq) => W::F64Eq,
        (WTy::F64, Ne) => W::F64Ne,
        (WTy::F64, Lt) => W::F64Lt,
        (WTy::F64, Le) => W::F64Le,
        (WTy::F64, Gt) => W::F64Gt,
        (WTy::F64, Ge) => W::F64Ge,
        (WTy::F32x4, Eq) => W::F32x4Eq,
        (WTy::F32x4, Ne) => W::F32x4Ne,
        (WTy::F32x4, Lt) => W::F32x4Lt,
        (WTy::F32x4, Le) => W::F32x4Le,
        (WTy::F32x4, Gt) => W::F32x4Gt,
        (WTy::F32x4, Ge) => W::F32x4Ge,
        (WTy::F64x2, Eq) => W::F64x2Eq,
        (WTy::F64x2, Ne) => W::F64x2Ne,
        (WTy::F64x2, Lt) => W::F64x2Lt,
        (WTy::F64x2, Le) => W::F64x2Le,
        (WTy::F64x2, Gt) => W::F64x2Gt,
        (WTy::F64x2, Ge) => W::F64x2Ge,
        _ => return None,
    })
}
