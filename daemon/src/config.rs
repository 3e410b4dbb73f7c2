//! Loading `config.toml`: the embedded defaults or a user's file.

use anyhow::{bail, Context, Result};
use oracles::suppress::Suppression;
use oracles::{ExecutionConfig, GeneratorConfig, Matrix};
use serde::Deserialize;
use std::path::{Path, PathBuf};

pub use oracles::settings::MatrixConfig;
/// The default configuration, compiled in so the binary runs anywhere.
pub use oracles::settings::DEFAULT_CONFIG;

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

/// The long-running daemon (`[daemon]`).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DaemonConfig {
    /// Worker processes; 0 means one per core.
    pub workers: usize,
    /// Seeds handed to a worker at a time.
    pub batch_size: u64,
    /// The first seed of a new store; later runs continue from the cursor.
    pub first_seed: u64,
    /// A case running longer than this is a `hang` finding.
    pub case_timeout_secs: u64,
    /// A worker whose resident memory exceeds this is an `oom` finding.
    pub worker_memory_limit_mib: u64,
    /// Seconds between status lines.
    pub status_interval_secs: u64,
}

impl Default for DaemonConfig {
    fn default() -> Self {
        DaemonConfig {
            workers: 0,
            batch_size: 16,
            first_seed: 0,
            case_timeout_secs: 30,
            worker_memory_limit_mib: 4096,
            status_interval_secs: 10,
        }
    }
}

/// Triage of findings (`[triage]`).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TriageConfig {
    /// Failed shrinking candidates in a row after which a module counts as
    /// minimal.
    pub shrink_attempts: u32,
    /// Wall-clock budget for shrinking one finding.
    pub shrink_seconds: u64,
    /// Times a finding's module is re-run to tell deterministic from flaky;
    /// only deterministic findings are shrunk.
    pub reproduce_runs: u32,
    /// Whether the daemon shrinks new findings in the background (one
    /// extra worker process).
    pub background: bool,
    /// The `nice` value of that process (0 to 19): its share of the CPU
    /// against the fuzzing workers.
    pub niceness: i32,
    /// Known findings: counted, not reported as new.
    pub suppress: Vec<Suppression>,
}

impl Default for TriageConfig {
    fn default() -> Self {
        TriageConfig {
            shrink_attempts: 500,
            shrink_seconds: 300,
            reproduce_runs: 3,
            background: true,
            niceness: 5,
            suppress: Vec::new(),
        }
    }
}

/// How logs are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One readable line per event.
    Human,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Logging (`[log]`).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// A `tracing` filter such as `info` or `crosscheck=debug`; `RUST_LOG`
    /// overrides it.
    pub level: String,
    /// `human` or `json`.
    pub format: LogFormat,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            level: "warn,crosscheck=info,oracles=info,wasm_mutate=error".into(),
            format: LogFormat::Human,
        }
    }
}

/// The HTTP dashboard (`[dashboard]`).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DashboardConfig {
    /// Where `crosscheck run` serves it (`host:port`); empty: not at all.
    /// `crosscheck serve --address` overrides it.
    pub address: String,
}

impl Default for DashboardConfig {
    fn default() -> Self {
        DashboardConfig {
            address: "127.0.0.1:8420".into(),
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
    /// `[cost]`: compile blowup limits.
    #[serde(default)]
    pub cost: oracles::compile_cost::CostLimits,
    /// `[store]`.
    #[serde(default)]
    pub store: StoreConfig,
    /// `[daemon]`.
    #[serde(default)]
    pub daemon: DaemonConfig,
    /// `[triage]`.
    #[serde(default)]
    pub triage: TriageConfig,
    /// `[log]`.
    #[serde(default)]
    pub log: LogConfig,
    /// `[gate]`: the release gate's policy.
    #[serde(default)]
    pub gate: crate::gate::GatePolicy,
    /// `[dashboard]`: the HTTP dashboard.
    #[serde(default)]
    pub dashboard: DashboardConfig,
    /// The text this was parsed from, handed to worker processes so they
    /// run exactly the supervisor's configuration.
    #[serde(skip)]
    pub text: String,
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
        let mut config: Config =
            toml::from_str(text).with_context(|| format!("invalid configuration in {origin}"))?;
        config
            .validate()
            .with_context(|| format!("invalid configuration in {origin}"))?;
        config.text = text.to_string();
        Ok(config)
    }

    /// Checks values the types alone do not constrain.
    fn validate(&self) -> Result<()> {
        let positive = [
            ("daemon.batch_size", self.daemon.batch_size),
            ("daemon.case_timeout_secs", self.daemon.case_timeout_secs),
            (
                "daemon.worker_memory_limit_mib",
                self.daemon.worker_memory_limit_mib,
            ),
            (
                "daemon.status_interval_secs",
                self.daemon.status_interval_secs,
            ),
        ];
        for (key, value) in positive {
            if value == 0 {
                bail!("{key} must be at least 1, got 0");
            }
        }
        for (index, rule) in self.triage.suppress.iter().enumerate() {
            rule.validate(index)?;
        }
        if !(0..=19).contains(&self.triage.niceness) {
            bail!(
                "triage.niceness must be between 0 and 19, got {}",
                self.triage.niceness
            );
        }
        let gate = &self.gate;
        for (key, share) in [
            ("gate.max_inconclusive_share", gate.max_inconclusive_share),
            ("gate.max_rejected_share", gate.max_rejected_share),
        ] {
            if !(0.0..=1.0).contains(&share) {
                bail!("{key} is a share between 0 and 1, got {share}");
            }
        }
        let known: std::collections::BTreeSet<&str> = oracles::instructions::catalogue()
            .iter()
            .map(|i| i.proposal)
            .collect();
        for proposal in &gate.instruction_proposals {
            if !known.contains(proposal.as_str()) {
                bail!(
                    "gate.instruction_proposals: unknown proposal {proposal:?} (known: {})",
                    known.into_iter().collect::<Vec<_>>().join(", ")
                );
            }
        }
        if !self.dashboard.address.is_empty() {
            self.dashboard
                .address
                .parse::<std::net::SocketAddr>()
                .map_err(|e| {
                    anyhow::anyhow!(
                        "dashboard.address {:?} is not host:port (e.g. 127.0.0.1:8420): {e}",
                        self.dashboard.address
                    )
                })?;
        }
        tracing_subscriber::EnvFilter::try_new(&self.log.level).map_err(|e| {
            anyhow::anyhow!("log.level {:?} is not a log filter: {e}", self.log.level)
        })?;
        Ok(())
    }

    /// The number of worker processes to run.
    pub fn workers(&self) -> usize {
        match self.daemon.workers {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        }
    }

    /// The first suppression rule covering a finding, if any.
    pub fn suppression_for(
        &self,
        signature: &str,
        suspect: Option<&str>,
        wasm: &[u8],
    ) -> Option<&Suppression> {
        oracles::suppress::rule_for(&self.triage.suppress, signature, suspect, wasm)
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
        assert_eq!(config.cost, oracles::compile_cost::CostLimits::default());
        assert_eq!(config.daemon, DaemonConfig::default());
        assert_eq!(config.log, LogConfig::default());
        assert_eq!(config.triage, TriageConfig::default());
        assert_eq!(config.gate, crate::gate::GatePolicy::default());
        assert_eq!(config.dashboard, DashboardConfig::default());
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
    fn out_of_range_values_are_named() {
        for (text, key) in [
            ("[daemon]\nbatch_size = 0\n", "daemon.batch_size"),
            (
                "[daemon]\ncase_timeout_secs = 0\n",
                "daemon.case_timeout_secs",
            ),
            ("[log]\nlevel = \"loud=[\"\n", "log.level"),
            ("[log]\nformat = \"xml\"\n", "format"),
            ("[daemon]\nworkers = -1\n", "workers"),
            (
                "[gate]\nmax_rejected_share = 5\n",
                "gate.max_rejected_share",
            ),
            (
                "[gate]\ninstruction_proposals = [\"mvp\", \"smid\"]\n",
                "unknown proposal \"smid\"",
            ),
            (
                "[dashboard]\naddress = \"localhost\"\n",
                "dashboard.address",
            ),
        ] {
            let text = format!("[matrix]\noracle = \"wasmi\"\nengines = []\n{text}");
            let err = format!("{:#}", Config::parse(&text, "t.toml").unwrap_err());
            assert!(err.contains(key) && err.contains("t.toml"), "{err}");
        }
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
