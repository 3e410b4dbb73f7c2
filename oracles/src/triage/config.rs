//! The `[triage]` section of `config.toml`: how findings are re-run,
//! shrunk and suppressed.

use super::suppress::Suppression;
use anyhow::{bail, Result};
use serde::Deserialize;

/// `[triage]`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TriageConfig {
    /// Failed shrinking candidates in a row after which a module counts as
    /// minimal.
    pub shrink_attempts: u32,
    /// Wall-clock budget for shrinking one finding.
    pub shrink_seconds: u64,
    /// Wall-clock budget for reducing a shrunk module further
    /// (`triage::reduce`), then fingerprinting its trigger; 0 skips both.
    pub reduce_seconds: u64,
    /// Times a finding's module is re-run to tell deterministic from flaky;
    /// only deterministic findings are shrunk.
    pub reproduce_runs: u32,
    /// Whether the daemon shrinks new findings in the background (one
    /// extra worker process).
    pub background: bool,
    /// The `nice` value of that process (0 to 19): its share of the CPU
    /// against the fuzzing workers.
    pub niceness: i32,
    /// When a run ends by its `--duration` or `--cases`, how long it goes on
    /// triaging the findings not triaged yet (the fuzzing workers stopped,
    /// so triage has every core), so that a morning's findings are all
    /// reproduced and shrunk. 0 ends at once.
    pub drain_seconds: u64,
    /// Known findings: counted, not reported as new; the fuzz targets do
    /// not stop for them.
    pub suppress: Vec<Suppression>,
}

impl Default for TriageConfig {
    fn default() -> Self {
        TriageConfig {
            shrink_attempts: 500,
            shrink_seconds: 300,
            reduce_seconds: 120,
            reproduce_runs: 3,
            background: true,
            niceness: 5,
            drain_seconds: 900,
            suppress: Vec::new(),
        }
    }
}

impl TriageConfig {
    /// Checks values the types alone do not constrain.
    pub fn validate(&self) -> Result<()> {
        for (index, rule) in self.suppress.iter().enumerate() {
            rule.validate(index)?;
        }
        if !(0..=19).contains(&self.niceness) {
            bail!(
                "triage.niceness must be between 0 and 19, got {}",
                self.niceness
            );
        }
        Ok(())
    }

    /// The first suppression rule covering a finding, if any.
    pub fn suppression_for(
        &self,
        signature: &str,
        suspect: Option<&str>,
        wasm: &[u8],
    ) -> Option<&Suppression> {
        super::suppress::rule_for(&self.suppress, signature, suspect, wasm)
    }

    /// The first suppression rule covering a triaged finding by its trigger
    /// fingerprint key, if any.
    pub fn suppression_by_trigger(
        &self,
        trigger: &str,
        suspect: Option<&str>,
    ) -> Option<&Suppression> {
        self.suppress
            .iter()
            .find(|rule| rule.matches_trigger(trigger, suspect))
    }
}
