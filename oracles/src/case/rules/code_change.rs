//! Whether Cranelift's optimizer rewrote the instruction a rule-guided
//! module aimed at: the pattern's functions compiled at opt level none and
//! speed, otherwise alike (`observe::opt_levels`), and the aimed rule's
//! root instruction counted in both. A different count shows that the mid-end
//! rewrote it (by the aimed rule or another). Lowering rules act after the
//! CLIF is final, so for them nothing is claimed.

use anyhow::Result;

use super::catalog::Catalog;
use super::wasm_ops::IntCc;
use super::RuleTarget;
use crate::observe::opt_levels::{clif_of, count_opcode};

/// The CLIF opcode at the root of the rule `target` aims at, if it is a
/// mid-end rule of this build's catalog (opts' shorthands such as `slt`
/// are `icmp`).
pub fn aimed_opcode(target: &RuleTarget) -> Option<&'static str> {
    if !target.id.starts_with("opts/") {
        return None;
    }
    let rule = Catalog::get().find(&target.id)?;
    // The linked optimizer's rewrites say nothing of another release's rule.
    if rule.release.is_some() {
        return None;
    }
    let root = *rule.shape.as_ref().ok()?.ops().first()?;
    Some(if IntCc::from_name(root).is_some() {
        "icmp"
    } else {
        root
    })
}

/// Whether the optimizer changed how often the first `functions` defined
/// functions of `wasm` contain `opcode`: `None` when the rule is not a
/// mid-end rule, or the engines could not be built.
pub fn optimizer_rewrote(
    wasm: &[u8],
    functions: usize,
    target: &RuleTarget,
) -> Result<Option<bool>> {
    let Some(opcode) = aimed_opcode(target) else {
        return Ok(None);
    };
    let Some((none, speed)) = clif_of(wasm, functions)? else {
        return Ok(None);
    };
    let count = |clif: &[String]| -> usize { clif.iter().map(|f| count_opcode(f, opcode)).sum() };
    Ok(Some(count(&none) != count(&speed)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(needle: &str) -> RuleTarget {
        let rule = Catalog::get()
            .rules
            .iter()
            .find(|r| r.text.contains(needle))
            .unwrap();
        RuleTarget {
            id: rule.id(),
            cranelift: String::new(),
            instances: 1,
            text: rule.text.to_string(),
        }
    }

    #[test]
    fn a_rewritten_division_is_seen_and_a_lowering_rule_is_not_claimed() {
        let udiv = target("(udiv x (iconst_u ty (u64_extract_power_of_two d)))");
        assert_eq!(aimed_opcode(&udiv), Some("udiv"));
        let by_eight = wat::parse_str(
            r#"(module (func (param i32) (result i32)
                 local.get 0 i32.const 8 i32.div_u))"#,
        )
        .unwrap();
        assert_eq!(optimizer_rewrote(&by_eight, 1, &udiv).unwrap(), Some(true));
        let by_param = wat::parse_str(
            r#"(module (func (param i32 i32) (result i32)
                 local.get 0 local.get 1 i32.div_u))"#,
        )
        .unwrap();
        assert_eq!(optimizer_rewrote(&by_param, 1, &udiv).unwrap(), Some(false));
        let lowering = target("(rule iadd_base_case_32_or_64_lea");
        assert_eq!(optimizer_rewrote(&by_param, 1, &lowering).unwrap(), None);
    }
}
