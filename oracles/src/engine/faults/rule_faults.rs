//! Injected faults that model a wrong Cranelift rule: each rewrites one
//! instruction sequence with a constant operand into code that is wrong
//! only when the constant sits at an edge of a guard and the run-time
//! operand sits at an edge too, as a rule whose guard accepts one constant
//! too many would be. Applied by [`super::faulty::Fault`] before Cranelift
//! compiles the module, on `<cranelift variant>+fault-rule-<x>`.

use super::body_rewrite::rewrite_bodies;
use anyhow::Result;
use wasm_encoder::Instruction;
use wasmparser::Operator;

/// One modelled rule bug.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleFault {
    /// `x udiv 2^k` (k >= 1) lowered as an arithmetic shift: wrong when
    /// `x` has its top bit set.
    UdivPow2,
    /// `x sshr c` with `c` = width - 1 (mod width) lowered as a logical
    /// shift: wrong when `x` is negative.
    SshrSign,
    /// `select (x <s c) a b` or `select (x >s c) a b` with `c` = 1 or -1,
    /// the neighbours of the 0 that the `iabs` rules of `opts/selects.isle`
    /// demand, as if their guard accepted them: the comparison runs as
    /// `<=` / `>=`, wrong when `x == c`.
    SelectCompare,
    /// `((uextend x) << c) >>s c` from i32 to i64 with `c` = 32, the width
    /// difference, folded to `uextend x` as if the guard of
    /// `opts/shifts.isle`'s rule for a `uextend` (`c` below the difference)
    /// accepted its edge: wrong when `x` is negative.
    UextendShift,
}

impl RuleFault {
    /// Every rule fault.
    pub const ALL: [RuleFault; 4] = [
        RuleFault::UdivPow2,
        RuleFault::SshrSign,
        RuleFault::SelectCompare,
        RuleFault::UextendShift,
    ];

    /// Its name in engine names, after `fault-`.
    pub fn suffix(self) -> &'static str {
        match self {
            RuleFault::UdivPow2 => "rule-udiv-pow2",
            RuleFault::SshrSign => "rule-sshr-sign",
            RuleFault::SelectCompare => "rule-select-cmp",
            RuleFault::UextendShift => "rule-uext-shift",
        }
    }

    /// What it does, for reports.
    pub fn describe(self) -> &'static str {
        match self {
            RuleFault::UdivPow2 => {
                "x udiv 2^k executed as x sshr k (wrong when x's top bit is set)"
            }
            RuleFault::SshrSign => {
                "x sshr (width-1) executed as x ushr (width-1) (wrong when x < 0)"
            }
            RuleFault::SelectCompare => {
                "select(x <s c) / select(x >s c) with c = 1 or -1 executed with <= / >= (wrong when x == c)"
            }
            RuleFault::UextendShift => {
                "((x uextend i64) << 32) >>s 32 executed as x uextend i64 (wrong when x < 0)"
            }
        }
    }

    /// `wasm` with the fault applied to every function body.
    pub fn apply(self, wasm: &[u8]) -> Result<Vec<u8>> {
        rewrite_bodies(wasm, &|window| self.rewrite(window))
    }

    /// The replacement of `window` (the operators from the current one on),
    /// and how many operators it consumes.
    fn rewrite(self, window: &[Operator<'_>]) -> Option<(Vec<Instruction<'static>>, usize)> {
        use Instruction as W;
        use Operator as O;
        match (self, window) {
            (RuleFault::UdivPow2, [O::I32Const { value }, O::I32DivU, ..]) => {
                let c = *value as u32;
                (c.is_power_of_two() && c >= 2)
                    .then(|| (vec![W::I32Const(c.trailing_zeros() as i32), W::I32ShrS], 2))
            }
            (RuleFault::UdivPow2, [O::I64Const { value }, O::I64DivU, ..]) => {
                let c = *value as u64;
                (c.is_power_of_two() && c >= 2).then(|| {
                    (
                        vec![W::I64Const(i64::from(c.trailing_zeros())), W::I64ShrS],
                        2,
                    )
                })
            }
            (RuleFault::SshrSign, [O::I32Const { value }, O::I32ShrS, ..]) => {
                (value & 31 == 31).then(|| (vec![W::I32Const(*value), W::I32ShrU], 2))
            }
            (RuleFault::SshrSign, [O::I64Const { value }, O::I64ShrS, ..]) => {
                (value & 63 == 63).then(|| (vec![W::I64Const(*value), W::I64ShrU], 2))
            }
            (RuleFault::SelectCompare, [O::I32Const { value }, cmp, O::Select, ..])
                if matches!(value, 1 | -1) =>
            {
                let fused = match cmp {
                    O::I32LtS => W::I32LeS,
                    O::I32GtS => W::I32GeS,
                    _ => return None,
                };
                Some((vec![W::I32Const(*value), fused, W::Select], 3))
            }
            (RuleFault::SelectCompare, [O::I64Const { value }, cmp, O::Select, ..])
                if matches!(value, 1 | -1) =>
            {
                let fused = match cmp {
                    O::I64LtS => W::I64LeS,
                    O::I64GtS => W::I64GeS,
                    _ => return None,
                };
                Some((vec![W::I64Const(*value), fused, W::Select], 3))
            }
            (
                RuleFault::UextendShift,
                [O::I64ExtendI32U, O::I64Const { value: 32 }, O::I64Shl, O::I64Const { value: 32 }, O::I64ShrS, ..],
            ) => Some((vec![W::I64ExtendI32U], 5)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(fault: RuleFault, body: &str) -> String {
        let wasm = wat::parse_str(format!(
            "(module (func (export \"f\") (param i32 i64) (result i64) {body}))"
        ))
        .unwrap();
        let out = fault.apply(&wasm).unwrap();
        wasmparser::Validator::new().validate_all(&out).unwrap();
        wasmprinter::print_bytes(&out).unwrap()
    }

    #[test]
    fn each_fault_rewrites_only_at_its_edge_constant() {
        let t = rewritten(
            RuleFault::UdivPow2,
            "local.get 0 i32.const 8 i32.div_u i64.extend_i32_u",
        );
        assert!(t.contains("i32.const 3") && t.contains("i32.shr_s"), "{t}");
        let t = rewritten(
            RuleFault::UdivPow2,
            "local.get 0 i32.const 6 i32.div_u i64.extend_i32_u",
        );
        assert!(t.contains("i32.div_u"), "{t}");
        let t = rewritten(RuleFault::SshrSign, "local.get 1 i64.const 63 i64.shr_s");
        assert!(t.contains("i64.shr_u"), "{t}");
        let t = rewritten(RuleFault::SshrSign, "local.get 1 i64.const 62 i64.shr_s");
        assert!(t.contains("i64.shr_s"), "{t}");
        let t = rewritten(
            RuleFault::SelectCompare,
            "local.get 1 i64.const 5 local.get 0 i32.const -1 i32.gt_s select",
        );
        assert!(t.contains("i32.ge_s"), "{t}");
        let t = rewritten(
            RuleFault::SelectCompare,
            "local.get 1 i64.const 5 local.get 0 i32.const 2 i32.gt_s select",
        );
        assert!(t.contains("i32.gt_s"), "{t}");
        let shifted = "local.get 0 i64.extend_i32_u i64.const 32 i64.shl i64.const 32 i64.shr_s";
        let t = rewritten(RuleFault::UextendShift, shifted);
        assert!(!t.contains("i64.shl") && !t.contains("i64.shr_s"), "{t}");
        let t = rewritten(
            RuleFault::UextendShift,
            &shifted.replace("const 32", "const 31"),
        );
        assert!(t.contains("i64.shl") && t.contains("i64.shr_s"), "{t}");
    }
}
