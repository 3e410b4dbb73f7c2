//! The vocabulary of CLIF instructions core Wasm can produce: their
//! operands in ISLE patterns, the types and conditions they take, and the
//! steps a realization is made of. How each is written in Wasm is
//! [`super::forms`].

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
