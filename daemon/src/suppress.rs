//! Suppression rules (`[[triage.suppress]]`): known findings that should be
//! counted but no longer reported as new.

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
    /// Why, for whoever reads the store later.
    pub reason: String,
}

impl Suppression {
    /// Checks that the rule says something.
    pub fn validate(&self, index: usize) -> Result<()> {
        if self.signature.is_none() && self.engine.is_none() {
            bail!(
                "triage.suppress[{index}] needs a `signature` or an `engine` (an `instruction` alone would hide every engine's bugs)"
            );
        }
        Ok(())
    }

    /// Whether a finding with this signature, attribution and module is
    /// covered by the rule.
    pub fn matches(&self, signature: &str, suspect: Option<&str>, wasm: &[u8]) -> bool {
        self.signature.as_deref().is_none_or(|s| s == signature)
            && self.engine.as_deref().is_none_or(|engine| {
                suspect.is_some_and(|s| s.ends_with(&format!("suspect {engine}")))
            })
            && self
                .instruction
                .as_deref()
                .is_none_or(|instruction| contains_instruction(wasm, instruction))
    }
}

/// Whether the module's text has an instruction with this name.
fn contains_instruction(wasm: &[u8], instruction: &str) -> bool {
    wasmprinter::print_bytes(wasm).is_ok_and(|text| {
        text.lines()
            .any(|line| line.split_whitespace().next() == Some(instruction))
    })
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
        assert!(rule(None, None, Some("select")).validate(0).is_err());
        assert!(rule(None, Some("wasmi"), None).validate(0).is_ok());
    }
}
