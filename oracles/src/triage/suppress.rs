//! Suppression rules (`[[triage.suppress]]`): known findings that should be
//! counted but no longer reported as new by the daemon, and that the fuzz
//! targets do not stop for.

use anyhow::{bail, Result};
use serde::Deserialize;

/// One rule; every condition given must hold.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Suppression {
    /// The exact finding signature.
    pub signature: Option<String>,
    /// The engine the attribution suspects (`... suspect wasmi`).
    pub engine: Option<String>,
    /// An instruction the module contains, as WAT spells it (`select`).
    pub instruction: Option<String>,
    /// Instructions the module contains one right after the other, in this
    /// order (`["i32.eqz", "select"]`).
    pub sequence: Option<Vec<String>>,
    /// Rewrites of a trigger fingerprint (`oracles::triage::trigger`, as
    /// `crosscheck group show` keys it: `select-as-if:select`): covers a
    /// finding once triage has found its trigger, whatever its signature,
    /// when each of them makes it vanish.
    pub trigger: Option<String>,
    /// Why, for whoever reads the store later.
    pub reason: String,
}

impl Suppression {
    /// Checks that the rule says something.
    pub fn validate(&self, index: usize) -> Result<()> {
        if self.signature.is_none() && self.engine.is_none() && self.trigger.is_none() {
            bail!(
                "triage.suppress[{index}] needs a `signature`, an `engine` or a `trigger` (an `instruction` alone would hide every engine's bugs)"
            );
        }
        Ok(())
    }

    /// Whether a finding with this signature, attribution and module is
    /// covered by the rule.
    pub fn matches(&self, signature: &str, suspect: Option<&str>, wasm: &[u8]) -> bool {
        // A trigger is known only once the finding is triaged
        // (`matches_trigger`).
        self.trigger.is_none()
            && self.signature.as_deref().is_none_or(|s| s == signature)
            && self.engine.as_deref().is_none_or(|engine| {
                suspect.is_some_and(|s| s.ends_with(&format!("suspect {engine}")))
            })
            && self
                .instruction
                .as_deref()
                .is_none_or(|instruction| contains_sequence(wasm, &[instruction.to_string()]))
            && self
                .sequence
                .as_deref()
                .is_none_or(|sequence| contains_sequence(wasm, sequence))
    }

    /// Whether a triaged finding whose trigger fingerprint key is `trigger`
    /// is covered by this rule: a rule with a `trigger`, every rewrite of
    /// which is in the key (its `engine`, if given, must be the suspect
    /// too).
    pub fn matches_trigger(&self, trigger: &str, suspect: Option<&str>) -> bool {
        // Every rewrite the rule names must be in the finding's key.
        let found: Vec<&str> = trigger.split_whitespace().collect();
        self.trigger
            .as_deref()
            .is_some_and(|wanted| wanted.split_whitespace().all(|w| found.contains(&w)))
            && self.engine.as_deref().is_none_or(|engine| {
                suspect.is_some_and(|s| s.ends_with(&format!("suspect {engine}")))
            })
    }
}

/// The first of `rules` covering a finding, if any.
pub fn rule_for<'a>(
    rules: &'a [Suppression],
    signature: &str,
    suspect: Option<&str>,
    wasm: &[u8],
) -> Option<&'a Suppression> {
    rules
        .iter()
        .find(|rule| rule.matches(signature, suspect, wasm))
}

/// Whether the module's text has these instructions on consecutive lines.
fn contains_sequence(wasm: &[u8], sequence: &[String]) -> bool {
    let Ok(text) = wasmprinter::print_bytes(wasm) else {
        return false;
    };
    let names: Vec<&str> = text
        .lines()
        .map(|line| line.split_whitespace().next().unwrap_or(""))
        .collect();
    !sequence.is_empty()
        && names
            .windows(sequence.len())
            .any(|window| window.iter().zip(sequence).all(|(a, b)| a == b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(
        signature: Option<&str>,
        engine: Option<&str>,
        instruction: Option<&str>,
    ) -> Suppression {
        Suppression {
            signature: signature.map(String::from),
            engine: engine.map(String::from),
            instruction: instruction.map(String::from),
            sequence: None,
            trigger: None,
            reason: "known".into(),
        }
    }

    #[test]
    fn every_given_condition_must_hold() {
        let wasm = wat::parse_str(
            "(module (func (param i32) (result i32) i32.const 1 local.get 0 local.get 0 select))",
        )
        .unwrap();
        let suspect = Some("wasmi alone disagrees with four Wasmtime variants: suspect wasmi");
        assert!(rule(Some("mismatch x"), None, None).matches("mismatch x", None, &wasm));
        assert!(!rule(Some("mismatch x"), None, None).matches("mismatch y", None, &wasm));
        assert!(rule(None, Some("wasmi"), Some("select")).matches("any", suspect, &wasm));
        assert!(!rule(None, Some("wasmi"), Some("i64.mul")).matches("any", suspect, &wasm));
        assert!(!rule(None, Some("cranelift-tail-signals"), None).matches("any", suspect, &wasm));
        assert!(!rule(None, Some("wasmi"), None).matches("any", None, &wasm));
        let mut eqz_select = rule(None, Some("wasmi"), None);
        eqz_select.sequence = Some(vec!["i32.eqz".into(), "select".into()]);
        assert!(!eqz_select.matches("any", suspect, &wasm));
        let fused = wat::parse_str(
            "(module (func (param i32) (result i32) i32.const 1 local.get 0 local.get 0 i32.eqz select))",
        )
        .unwrap();
        assert!(eqz_select.matches("any", suspect, &fused));
        assert!(rule(None, None, Some("select")).validate(0).is_err());
        // A trigger rule covers triaged findings by their fingerprint only.
        let mut by_trigger = rule(None, Some("wasmi"), None);
        by_trigger.trigger = Some("select-as-if:select".into());
        assert!(by_trigger.validate(0).is_ok());
        assert!(!by_trigger.matches("any", suspect, &fused));
        assert!(by_trigger.matches_trigger("select-as-if:select", suspect));
        assert!(!by_trigger.matches_trigger("eqz-as-eq-zero:i32.eqz", suspect));
        assert!(by_trigger.matches_trigger("eqz-as-eq-zero:i32.eqz select-as-if:select", suspect));
        assert!(!by_trigger.matches_trigger("select-as-if:select", None));
        assert!(rule(None, Some("wasmi"), None).validate(0).is_ok());
    }
}
