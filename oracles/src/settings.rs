//! The sections of `config.toml` that decide what a case is and how it runs
//! (`[matrix]`, `[generator]`, `[execution]`, `[cost]`), for programs that run cases
//! without the daemon: the libFuzzer targets read them from the file named
//! by `CROSSCHECK_CONFIG`, or from the defaults compiled in.

use crate::compile_cost::CostLimits;
use crate::engine::ExecutionConfig;
use crate::generate::GeneratorConfig;
use crate::matrix::Matrix;
use crate::suppress::Suppression;
use anyhow::{Context, Result};
use serde::Deserialize;

/// The default configuration file of the workspace, compiled in.
pub const DEFAULT_CONFIG: &str = include_str!("../../config.toml");

/// The environment variable naming a configuration file for the fuzz targets.
pub const CONFIG_VARIABLE: &str = "CROSSCHECK_CONFIG";

/// Which engines make up the matrix (`[matrix]`).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatrixConfig {
    /// The reference engine.
    pub oracle: String,
    /// The engines compared with the oracle.
    pub engines: Vec<String>,
}

/// `[matrix]`, `[generator]`, `[execution]` and `[cost]`; other sections are the
/// daemon's and are ignored here.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct CaseSettings {
    /// `[matrix]`.
    pub matrix: MatrixConfig,
    /// `[generator]`.
    #[serde(default)]
    pub generator: GeneratorConfig,
    /// `[execution]`.
    #[serde(default)]
    pub execution: ExecutionConfig,
    /// `[cost]`.
    #[serde(default)]
    pub cost: CostLimits,
    /// The suppression rules of `[triage]`; its other keys are the daemon's.
    #[serde(default)]
    pub triage: KnownFindings,
}

/// `[[triage.suppress]]`: findings the fuzz targets do not stop for.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct KnownFindings {
    /// The rules.
    #[serde(default)]
    pub suppress: Vec<Suppression>,
}

impl KnownFindings {
    /// The first rule covering a finding, if any.
    pub fn rule_for(
        &self,
        signature: &str,
        suspect: Option<&str>,
        wasm: &[u8],
    ) -> Option<&Suppression> {
        crate::suppress::rule_for(&self.suppress, signature, suspect, wasm)
    }
}

impl CaseSettings {
    /// Parses configuration text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<CaseSettings> {
        let settings: CaseSettings =
            toml::from_str(text).with_context(|| format!("invalid configuration in {origin}"))?;
        for (index, rule) in settings.triage.suppress.iter().enumerate() {
            rule.validate(index)
                .with_context(|| format!("invalid configuration in {origin}"))?;
        }
        Ok(settings)
    }

    /// The file `CROSSCHECK_CONFIG` names, or the compiled-in defaults.
    pub fn from_environment() -> Result<CaseSettings> {
        match std::env::var_os(CONFIG_VARIABLE) {
            None => CaseSettings::parse(DEFAULT_CONFIG, "the embedded default config.toml"),
            Some(path) => {
                let path = std::path::PathBuf::from(path);
                let text = std::fs::read_to_string(&path).with_context(|| {
                    format!(
                        "cannot read {} (named by {CONFIG_VARIABLE})",
                        path.display()
                    )
                })?;
                CaseSettings::parse(&text, &path.display().to_string())
            }
        }
    }

    /// Builds the engine matrix.
    pub fn matrix(&self) -> Result<Matrix> {
        Matrix::new(&self.matrix.oracle, &self.matrix.engines, &self.execution)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_parse_and_the_daemons_sections_are_ignored() {
        let settings = CaseSettings::parse(DEFAULT_CONFIG, "default").unwrap();
        assert_eq!(settings.generator, GeneratorConfig::default());
        assert_eq!(settings.execution, ExecutionConfig::default());
        assert_eq!(settings.cost, CostLimits::default());
        assert_eq!(settings.matrix.oracle, "wasmi");
        assert_eq!(settings.matrix().unwrap().names().len(), 5);
        let err =
            CaseSettings::parse("[matrix]\noracle = 1\nengines = []\n", "x.toml").unwrap_err();
        assert!(format!("{err:#}").contains("x.toml"), "{err:#}");
    }
}
