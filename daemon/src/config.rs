//! Loading `config.toml`: the embedded defaults or a user's file.

use anyhow::{Context, Result};
use oracles::{ExecutionConfig, GeneratorConfig, Matrix};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The default configuration, compiled in so the binary runs anywhere.
pub const DEFAULT_CONFIG: &str = include_str!("../../config.toml");

/// Which engines make up the matrix (`[matrix]`).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatrixConfig {
    /// The reference engine.
    pub oracle: String,
    /// The engines compared with the oracle.
    pub engines: Vec<String>,
}

/// Where findings are kept (`[store]`).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// The data directory.
    pub data_dir: PathBuf,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            data_dir: PathBuf::from("crosscheck-data"),
        }
    }
}

/// The whole configuration file.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[matrix]`.
    pub matrix: MatrixConfig,
    /// `[generator]`.
    #[serde(default)]
    pub generator: GeneratorConfig,
    /// `[execution]`.
    #[serde(default)]
    pub execution: ExecutionConfig,
    /// `[store]`.
    #[serde(default)]
    pub store: StoreConfig,
}

impl Config {
    /// Loads `path`, or the embedded defaults when `path` is `None`.
    pub fn load(path: Option<&Path>) -> Result<Config> {
        match path {
            None => Config::parse(DEFAULT_CONFIG, "the embedded default config.toml"),
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read config file {}", path.display()))?;
                Config::parse(&text, &path.display().to_string())
            }
        }
    }

    /// Parses configuration text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Config> {
        let config: Config =
            toml::from_str(text).with_context(|| format!("invalid configuration in {origin}"))?;
        Ok(config)
    }

    /// Builds the engine matrix this configuration names.
    pub fn matrix(&self) -> Result<Matrix> {
        Matrix::new(&self.matrix.oracle, &self.matrix.engines, &self.execution)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_defaults_match_the_library_defaults() {
        let config = Config::load(None).unwrap();
        // config.toml documents the defaults: it must not drift from the code.
        assert_eq!(config.generator, GeneratorConfig::default());
        assert_eq!(config.execution, ExecutionConfig::default());
        assert_eq!(config.store, StoreConfig::default());
        assert_eq!(config.matrix.oracle, "wasmi");
        assert_eq!(
            config.matrix.engines,
            [
                "cranelift-tail-signals",
                "cranelift-tail-explicit",
                "cranelift-notail-signals",
                "cranelift-notail-explicit"
            ]
        );
    }

    #[test]
    fn unknown_keys_and_wrong_types_are_named() {
        let err = Config::parse(
            "[matrix]\noracle = \"wasmi\"\nengines = []\n[generator]\nmax_fncs = 3\n",
            "test.toml",
        )
        .unwrap_err();
        let text = format!("{err:#}");
        assert!(
            text.contains("test.toml") && text.contains("max_fncs"),
            "{text}"
        );

        let err = Config::parse(
            "[matrix]\noracle = \"wasmi\"\nengines = []\n[execution]\nfuel = \"lots\"\n",
            "t.toml",
        )
        .unwrap_err();
        let text = format!("{err:#}");
        assert!(text.contains("fuel"), "{text}");
    }

    #[test]
    fn unknown_engine_names_fail_when_building_the_matrix() {
        let config = Config::parse(
            "[matrix]\noracle = \"wasmi\"\nengines = [\"cranelift-tail-signal\"]\n",
            "t.toml",
        )
        .unwrap();
        let err = config.matrix().err().unwrap();
        assert!(
            format!("{err:#}").contains("unknown engine \"cranelift-tail-signal\""),
            "{err:#}"
        );
    }
}
