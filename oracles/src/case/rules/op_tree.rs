//! A rule's left-hand side, read from cranelift-isle's AST into the tree
//! of CLIF instructions, constants and free operands it matches; or the
//! reason core Wasm cannot produce it.

use super::wasm_ops::{self, ArgKind, FloatCc, IntCc, TySet, WTy};
use cranelift_isle::ast::Pattern;
use std::collections::BTreeMap;

/// What a rule's pattern matches, as a tree Wasm can build.
#[derive(Clone, Debug, PartialEq)]
pub enum OpTree {
    /// A CLIF instruction.
    Op {
        /// Its name (`iadd`, `icmp`, `uload8`, ...).
        name: &'static str,
        /// The types its result may have.
        ty: TySet,
        /// The conditions an icmp may have.
        int_cc: Vec<IntCc>,
        /// The conditions an fcmp may have.
        float_cc: Vec<FloatCc>,
        /// A load's or store's offset, when the pattern fixes it.
        offset: Option<u64>,
        /// Its value operands, in CLIF order.
        args: Vec<OpTree>,
    },
    /// A constant: what its extractors and literals say about it.
    Const {
        /// The types it may have.
        ty: TySet,
        /// Literal values in the pattern (`(iconst_u ty 1)`).
        literals: Vec<i128>,
        /// Names of the extractors and guards around it
        /// (`u64_extract_power_of_two`, `simm32_from_value`): the edges.
        guards: Vec<String>,
        /// The pattern variable its value is bound to (`k` in
        /// `(iconst_u _ k)`): constants bound to one variable are equal.
        binding: Option<String>,
    },
    /// An operand whose value only arrives at run time. Leaves with the
    /// same `id` are one variable of the pattern.
    Leaf {
        /// The variable's number within the rule.
        id: usize,
        /// The types it may have.
        ty: TySet,
    },
}

impl OpTree {
    /// How many constants it has: rules with one are weighed more.
    pub fn constants(&self) -> usize {
        match self {
            OpTree::Op { args, .. } => args.iter().map(OpTree::constants).sum(),
            OpTree::Const { .. } => 1,
            OpTree::Leaf { .. } => 0,
        }
    }

    /// Names of the instructions in it, outermost first.
    pub fn ops(&self) -> Vec<&'static str> {
        let mut names = Vec::new();
        self.visit_ops(&mut |n| names.push(n));
        names
    }

    fn visit_ops(&self, f: &mut dyn FnMut(&'static str)) {
        if let OpTree::Op { name, args, .. } = self {
            f(name);
            for a in args {
                a.visit_ops(f);
            }
        }
    }
}

/// Reads the pattern under a rule's root term (`simplify`, `lower`, ...).
pub fn from_root(root: &Pattern) -> Result<OpTree, String> {
    let Pattern::Term { sym, args, .. } = root else {
        return Err("the rule's pattern is not a term".into());
    };
    // `lower_branch` also names the branch's targets.
    let Some(inner) = args.first() else {
        return Err(format!("`{}` without arguments", sym.0));
    };
    let mut reader = Reader::default();
    let shape = reader.value(inner, TySet::ALL)?;
    match shape {
        OpTree::Op { .. } => Ok(shape),
        _ => Err("the pattern matches no instruction".into()),
    }
}

/// Extractors that constrain a type, and what they allow.
fn type_extractor(name: &str) -> Option<TySet> {
    let int = TySet::INT.or(TySet::NARROW);
    Some(match name {
        "fits_in_64" | "is_gpr_type" | "is_single_register_gpr_type" => {
            TySet::SCALAR.or(TySet::FLOAT)
        }
        "fits_in_32" => TySet::of(WTy::I32)
            .or(TySet::of(WTy::F32))
            .or(TySet::NARROW),
        "fits_in_16" | "ty_8_or_16" => TySet::NARROW,
        "ty_16" => TySet::of(WTy::N16),
        "ty_32" => TySet::of(WTy::I32).or(TySet::of(WTy::F32)),
        "ty_64" => TySet::of(WTy::I64).or(TySet::of(WTy::F64)),
        "ty_32_or_64" => TySet::INT.or(TySet::FLOAT),
        "ty_int" | "ty_scalar_int" | "ty_int_ref_scalar_64" | "ty_int_ref_scalar_64_extract" => int,
        "ty_int_ref_16_to_64" => TySet::INT.or(TySet::of(WTy::N16)),
        "ty_int_ref_64" => TySet::of(WTy::I64),
        "ty_scalar_float" => TySet::FLOAT,
        "ty_vec128" | "ty_128" | "is_xmm_type" => TySet::VECTOR.or(TySet::FLOAT),
        "ty_vec128_int" | "ty_int_vec128" => TySet::INT_VECTOR,
        "ty_vec64" | "ty_vec64_ctor" => TySet::NONE,
        _ => return None,
    })
}

/// Extractors that match a constant operand.
const CONSTANT_EXTRACTORS: &[&str] = &[
    "iconst",
    "iconst_u",
    "iconst_s",
    "u64_from_iconst",
    "i64_from_iconst",
    "i32_from_iconst",
    "u32_from_iconst",
    "u8_from_iconst",
    "simm32_from_value",
    "f32const",
    "f64const",
    "vconst",
];

/// Extractors that match a value loaded from memory, sunk into the
/// instruction using it.
const LOAD_EXTRACTORS: &[&str] = &[
    "sinkable_load",
    "sinkable_load_exact",
    "sinkable_load_8",
    "sinkable_load_16",
    "sinkable_load_32",
    "sinkable_load_64",
    "sinkable_load_128",
];

/// Extractors that pass their operand through (maybe behind an extend).
const TRANSPARENT: &[&str] = &["maybe_uextend", "uextend_maybe", "has_type"];

#[derive(Default)]
struct Reader {
    /// Pattern variables bound to values, and their leaves or subtrees.
    vars: BTreeMap<String, OpTree>,
    /// Variables bound to types (`ty` in `(iadd ty x y)`), and what the
    /// pattern allows for them.
    types: BTreeMap<String, TySet>,
    leaves: usize,
}

impl Reader {
    fn leaf(&mut self, ty: TySet) -> OpTree {
        self.leaves += 1;
        OpTree::Leaf {
            id: self.leaves - 1,
            ty,
        }
    }

    /// A type position: what it allows, binding its variable.
    fn ty(&mut self, p: &Pattern) -> Result<TySet, String> {
        Ok(match p {
            Pattern::Wildcard { .. } => TySet::ALL,
            Pattern::Var { var, .. } => *self.types.entry(var.0.clone()).or_insert(TySet::ALL),
            Pattern::BindPattern { var, subpat, .. } => {
                let set = self.ty(subpat)?;
                self.types.insert(var.0.clone(), set);
                set
            }
            Pattern::ConstPrim { val, .. } => match val.0.trim_start_matches('$') {
                "I8" => TySet::of(WTy::N8),
                "I16" => TySet::of(WTy::N16),
                "I32" => TySet::of(WTy::I32),
                "I64" => TySet::of(WTy::I64),
                "F32" => TySet::of(WTy::F32),
                "F64" => TySet::of(WTy::F64),
                "I8X16" => TySet::of(WTy::I8x16),
                "I16X8" => TySet::of(WTy::I16x8),
                "I32X4" => TySet::of(WTy::I32x4),
                "I64X2" => TySet::of(WTy::I64x2),
                "F32X4" => TySet::of(WTy::F32x4),
                "F64X2" => TySet::of(WTy::F64x2),
                other => return Err(format!("type {other} has no Wasm form")),
            },
            Pattern::And { subpats, .. } => {
                let mut set = TySet::ALL;
                for s in subpats {
                    set = set.and(self.ty(s)?);
                }
                set
            }
            Pattern::Term { sym, args, .. } if sym.0 == "multi_lane" => match args.as_slice() {
                [Pattern::ConstInt { val: bits, .. }, Pattern::ConstInt { val: lanes, .. }] => {
                    match (bits, lanes) {
                        (8, 16) => TySet::of(WTy::I8x16),
                        (16, 8) => TySet::of(WTy::I16x8),
                        (32, 4) => TySet::of(WTy::I32x4).or(TySet::of(WTy::F32x4)),
                        (64, 2) => TySet::of(WTy::I64x2).or(TySet::of(WTy::F64x2)),
                        _ => return Err(format!("vector type of {lanes} x {bits} bits")),
                    }
                }
                _ => TySet::VECTOR,
            },
            Pattern::Term { sym, args, .. } => {
                let set = type_extractor(&sym.0)
                    .ok_or_else(|| format!("type extractor `{}` is not modelled", sym.0))?;
                // `(fits_in_64 ty)` binds `ty` to what it allows.
                for arg in args {
                    if let Pattern::Var { var, .. } = arg {
                        self.types.insert(var.0.clone(), set);
                    }
                }
                set
            }
            _ => TySet::ALL,
        })
    }

    /// A value position whose type must be in `want`.
    fn value(&mut self, p: &Pattern, want: TySet) -> Result<OpTree, String> {
        match p {
            Pattern::Wildcard { .. } => Ok(self.leaf(want)),
            Pattern::Var { var, .. } => {
                if let Some(bound) = self.vars.get(&var.0) {
                    return Ok(bound.clone());
                }
                let leaf = self.leaf(want);
                self.vars.insert(var.0.clone(), leaf.clone());
                Ok(leaf)
            }
            Pattern::BindPattern { var, subpat, .. } => {
                let shape = self.value(subpat, want)?;
                self.vars.insert(var.0.clone(), shape.clone());
                Ok(shape)
            }
            Pattern::And { subpats, .. } => {
                // The most specific part: an instruction or constant over a
                // type test (`x @ (value_type ty)`).
                let mut best: Option<OpTree> = None;
                let mut want = want;
                for s in subpats {
                    if let Pattern::Term { sym, args, .. } = s {
                        if sym.0 == "value_type" {
                            if let Some(t) = args.first() {
                                want = want.and(self.ty(t)?);
                            }
                            continue;
                        }
                    }
                    let shape = self.value(s, want)?;
                    if best.is_none() || matches!(shape, OpTree::Op { .. } | OpTree::Const { .. }) {
                        best = Some(shape);
                    }
                }
                Ok(best.unwrap_or_else(|| self.leaf(want)))
            }
            Pattern::ConstInt { .. } | Pattern::ConstPrim { .. } | Pattern::ConstBool { .. } => {
                Err("a literal in a value position".into())
            }
            Pattern::MacroArg { .. } => Err("a macro argument".into()),
            Pattern::Term { sym, args, .. } => self.term(&sym.0, args, want),
        }
    }

    fn term(&mut self, name: &str, args: &[Pattern], want: TySet) -> Result<OpTree, String> {
        if name == "value_type" {
            let set = match args.first() {
                Some(t) => self.ty(t)?,
                None => TySet::ALL,
            };
            return Ok(self.leaf(want.and(set)));
        }
        if CONSTANT_EXTRACTORS.contains(&name) {
            return self.constant(name, args, want);
        }
        if LOAD_EXTRACTORS.contains(&name) {
            let addr = self.leaf(TySet::of(WTy::I32));
            return Ok(OpTree::Op {
                name: "load",
                ty: want,
                int_cc: Vec::new(),
                float_cc: Vec::new(),
                offset: None,
                args: vec![addr],
            });
        }
        if TRANSPARENT.contains(&name) {
            let mut want = want;
            let mut inner = None;
            for a in args {
                match a {
                    Pattern::Term { .. } | Pattern::BindPattern { .. } if inner.is_none() => {
                        inner = Some(a)
                    }
                    _ => want = want.and(self.ty(a).unwrap_or(TySet::ALL)),
                }
            }
            return match inner {
                Some(inner) => self.value(inner, want),
                None => Ok(self.leaf(want)),
            };
        }
        if let Some((name, kinds)) = wasm_ops::op_args(name) {
            return self.instruction(name, kinds, args, want);
        }
        if wasm_ops::NO_WASM_FORM.contains(&name) {
            return Err(format!("no core-Wasm instruction becomes `{name}`"));
        }
        Err(format!("extractor `{name}` is not modelled"))
    }

    fn instruction(
        &mut self,
        name: &'static str,
        kinds: &[ArgKind],
        args: &[Pattern],
        want: TySet,
    ) -> Result<OpTree, String> {
        // In `simplify_skeleton`, instructions that may trap are matched
        // without their type.
        let kinds = if kinds.len() == args.len() + 1 && kinds[0] == ArgKind::Ty {
            &kinds[1..]
        } else {
            kinds
        };
        if kinds.len() != args.len() {
            return Err(format!(
                "`{name}` with {} arguments (expected {})",
                args.len(),
                kinds.len()
            ));
        }
        // Opts' shorthands (`eq`, `slt`, ...) are icmp with a fixed condition.
        let mut int_cc = IntCc::from_name(name)
            .map(|cc| vec![cc])
            .unwrap_or_default();
        let mut float_cc = Vec::new();
        let mut ty = want;
        let mut offset = None;
        let mut values = Vec::new();
        for (kind, arg) in kinds.iter().zip(args) {
            match kind {
                ArgKind::Ty => ty = ty.and(self.ty(arg)?),
                ArgKind::IntCc => int_cc = conditions(arg, IntCc::from_name, &IntCc::ALL)?,
                ArgKind::FloatCc => float_cc = conditions(arg, FloatCc::from_name, &FloatCc::ALL)?,
                ArgKind::Offset => {
                    if let Some(v) = literal(arg) {
                        offset = Some(v as u64);
                    }
                }
                ArgKind::Val => values.push(arg),
                ArgKind::Flags | ArgKind::Lane | ArgKind::Other => {}
            }
        }
        if ty.is_empty() {
            return Err(format!("`{name}` at a type Wasm does not have"));
        }
        // Operands of the same type as the result share its constraint
        // where the pattern says so through one type variable; others are
        // left open and typed when emitted.
        let mut shapes = Vec::new();
        for v in values {
            shapes.push(self.value(v, TySet::ALL)?);
        }
        Ok(OpTree::Op {
            name,
            ty,
            int_cc,
            float_cc,
            offset,
            args: shapes,
        })
    }

    fn constant(&mut self, name: &str, args: &[Pattern], want: TySet) -> Result<OpTree, String> {
        let mut ty = match name {
            "f32const" => TySet::of(WTy::F32),
            "f64const" => TySet::of(WTy::F64),
            "vconst" => TySet::VECTOR,
            "u8_from_iconst" | "i32_from_iconst" | "u32_from_iconst" => TySet::INT,
            _ => TySet::INT.or(TySet::NARROW),
        };
        ty = ty.and(want);
        let mut literals = Vec::new();
        let mut guards = vec![name.to_string()];
        let mut binding = None;
        for (i, arg) in args.iter().enumerate() {
            // The first argument of iconst and friends is the type.
            if i == 0
                && matches!(
                    name,
                    "iconst" | "iconst_u" | "iconst_s" | "f32const" | "f64const" | "vconst"
                )
            {
                ty = ty.and(self.ty(arg).unwrap_or(TySet::ALL));
                continue;
            }
            collect_guards(arg, &mut literals, &mut guards);
            if binding.is_none() {
                binding = first_variable(arg);
            }
        }
        if ty.is_empty() {
            return Err(format!("a `{name}` constant at a type Wasm does not have"));
        }
        Ok(OpTree::Const {
            ty,
            literals,
            guards,
            binding,
        })
    }
}

/// The literal integers and term names inside a pattern (a constant's, or
/// a rule's guards).
pub(super) fn collect_guards(p: &Pattern, literals: &mut Vec<i128>, guards: &mut Vec<String>) {
    match p {
        Pattern::ConstInt { val, .. } => literals.push(*val),
        Pattern::Term { sym, args, .. } => {
            guards.push(sym.0.clone());
            for a in args {
                collect_guards(a, literals, guards);
            }
        }
        Pattern::BindPattern { subpat, .. } => collect_guards(subpat, literals, guards),
        Pattern::And { subpats, .. } => {
            for s in subpats {
                collect_guards(s, literals, guards);
            }
        }
        _ => {}
    }
}

/// The first variable a constant's pattern binds.
fn first_variable(p: &Pattern) -> Option<String> {
    match p {
        Pattern::Var { var, .. } | Pattern::BindPattern { var, .. } => Some(var.0.clone()),
        Pattern::Term { args, .. } => args.iter().find_map(first_variable),
        Pattern::And { subpats, .. } => subpats.iter().find_map(first_variable),
        _ => None,
    }
}

fn literal(p: &Pattern) -> Option<i128> {
    match p {
        Pattern::ConstInt { val, .. } => Some(*val),
        Pattern::BindPattern { subpat, .. } => literal(subpat),
        Pattern::Term { args, .. } => args.iter().find_map(literal),
        _ => None,
    }
}

/// The conditions a condition-code position allows.
fn conditions<T: Copy>(
    p: &Pattern,
    from_name: fn(&str) -> Option<T>,
    all: &[T],
) -> Result<Vec<T>, String> {
    match p {
        Pattern::Term { sym, args, .. } if args.is_empty() => from_name(&sym.0)
            .map(|cc| vec![cc])
            .ok_or_else(|| format!("condition {} has no Wasm comparison", sym.0)),
        Pattern::BindPattern { subpat, .. } => conditions(subpat, from_name, all),
        // A variable, or an extractor over the condition (`intcc_unsigned`):
        // any condition; the emitter draws one.
        _ => Ok(all.to_vec()),
    }
}
