//! The configuration schema: `config.toml` parsed once, each section typed
//! by the stage it configures (`[matrix]` and `[execution]` the engines,
//! `[generator]` the case, `[cost]` the cost checks, `[triage]` triage).
//! The sections of the program running the library (the daemon's
//! `[store]`, `[daemon]`, `[log]`, `[gate]`, `[dashboard]`) are kept as
//! tables for it to type; the fuzz targets ignore them.

use crate::case::generate::GeneratorConfig;
use crate::cost::limits::{refuse_moved_keys, CostLimits};
use crate::engine::matrix::{Matrix, MatrixConfig};
use crate::engine::other_version::add_rules_of_release;
use crate::engine::versioned_name::{split_version, without_fault};
use crate::engine::{Backend, ExecutionConfig, WasmtimeVariant};
use crate::triage::config::TriageConfig;
use anyhow::{Context, Result};
use serde::Deserialize;
use std::collections::BTreeSet;

/// The default configuration file of the workspace, compiled in.
pub const DEFAULT_CONFIG: &str = include_str!("../../config.toml");

/// The environment variable naming a configuration file for the fuzz targets.
pub const CONFIG_VARIABLE: &str = "CROSSCHECK_CONFIG";

/// Where the default configuration comes from, in error messages.
pub const DEFAULT_ORIGIN: &str = "the embedded default config.toml";

/// The whole configuration file.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
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
    /// `[triage]`.
    #[serde(default)]
    pub triage: TriageConfig,
    /// `[store]`, typed by the daemon.
    #[serde(default)]
    pub store: toml::Table,
    /// `[daemon]`, typed by the daemon.
    #[serde(default)]
    pub daemon: toml::Table,
    /// `[log]`, typed by the daemon.
    #[serde(default)]
    pub log: toml::Table,
    /// `[gate]`, typed by the daemon.
    #[serde(default)]
    pub gate: toml::Table,
    /// `[dashboard]`, typed by the daemon.
    #[serde(default)]
    pub dashboard: toml::Table,
}

impl Settings {
    /// Parses configuration text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Settings> {
        let invalid = || format!("invalid configuration in {origin}");
        let settings: Settings = match toml::from_str(text) {
            Ok(settings) => settings,
            Err(err) => {
                // A key of the flat `[cost]` of earlier versions gets its
                // new home named rather than "unknown field".
                if let Ok(table) = toml::from_str::<toml::Table>(text) {
                    if let Some(toml::Value::Table(cost)) = table.get("cost") {
                        refuse_moved_keys(cost).with_context(invalid)?;
                    }
                }
                return Err(err).with_context(invalid);
            }
        };
        settings.triage.validate().with_context(invalid)?;
        crate::bounds::check_settings(&settings).with_context(invalid)?;
        Ok(settings)
    }

    /// The embedded defaults.
    pub fn defaults() -> Settings {
        Settings::parse(DEFAULT_CONFIG, DEFAULT_ORIGIN).expect("the embedded config.toml is valid")
    }

    /// The file `CROSSCHECK_CONFIG` names, or the compiled-in defaults.
    pub fn from_environment() -> Result<Settings> {
        match std::env::var_os(CONFIG_VARIABLE) {
            None => Settings::parse(DEFAULT_CONFIG, DEFAULT_ORIGIN),
            Some(path) => {
                let path = std::path::PathBuf::from(path);
                let text = std::fs::read_to_string(&path).with_context(|| {
                    format!(
                        "cannot read {} (named by {CONFIG_VARIABLE})",
                        path.display()
                    )
                })?;
                Settings::parse(&text, &path.display().to_string())
            }
        }
    }

    /// Adds the Cranelift rules of every other Wasmtime release the matrix
    /// names (`NAME@MAJOR`) to the rule catalogue
    /// (`engine::other_version::add_rules_of_release`), before any case is
    /// generated or rule coverage counted. A release that cannot answer is
    /// left out with a debug line: building the matrix names the problem.
    pub fn add_rules_of_other_releases(&self) {
        // Engines that run Cranelift's mid-end, on another release.
        let majors: BTreeSet<u64> = self
            .matrix
            .compared_engines()
            .iter()
            .filter_map(|name| {
                let (base, major) = split_version(name);
                let runs_cranelift = WasmtimeVariant::parse(without_fault(base))
                    .is_some_and(|v| v.backend != Backend::Winch);
                major.filter(|_| runs_cranelift)
            })
            .collect();
        for major in majors {
            if let Err(e) = add_rules_of_release(major) {
                tracing::debug!("the rules of Wasmtime {major} are not aimed at: {e:#}");
            }
        }
    }

    /// Builds the engine matrix.
    pub fn matrix(&self) -> Result<Matrix> {
        Matrix::new(
            &self.matrix.oracle,
            &self.matrix.compared_engines(),
            &self.execution,
        )?
        .with_tie_breakers(&self.matrix.tie_breakers, &self.execution)?
        .with_proposal_engines(&self.matrix.proposal_engines, &self.execution)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_parse_into_the_library_defaults() {
        let settings = Settings::defaults();
        // config.toml documents the defaults: it must not drift from the code.
        assert_eq!(settings.generator, GeneratorConfig::default());
        assert_eq!(settings.execution, ExecutionConfig::default());
        assert_eq!(settings.cost, CostLimits::default());
        assert_eq!(settings.triage, TriageConfig::default());
        assert_eq!(settings.matrix.oracle, "wasmi");
        assert_eq!(settings.matrix().unwrap().names().len(), 5);
        assert!(settings.daemon.contains_key("workers"));
        let err = Settings::parse("[matrix]\noracle = 1\nengines = []\n", "x.toml").unwrap_err();
        assert!(format!("{err:#}").contains("x.toml"), "{err:#}");
    }

    #[test]
    fn unknown_sections_and_moved_cost_keys_are_named() {
        let base = "[matrix]\noracle = \"wasmi\"\nengines = []\n";
        let err =
            Settings::parse(&format!("{base}[stor]\ndata_dir = \"x\"\n"), "t.toml").unwrap_err();
        assert!(format!("{err:#}").contains("stor"), "{err:#}");
        let err = Settings::parse(&format!("{base}[cost]\ncompile_seconds = 1.0\n"), "t.toml")
            .unwrap_err();
        let text = format!("{err:#}");
        assert!(
            text.contains("t.toml") && text.contains("[cost.compile] seconds"),
            "{text}"
        );
        let err =
            Settings::parse(&format!("{base}[triage]\nniceness = 40\n"), "t.toml").unwrap_err();
        assert!(format!("{err:#}").contains("triage.niceness"), "{err:#}");
    }
}
