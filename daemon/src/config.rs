//! Loading `config.toml`: the embedded defaults or a user's file, parsed
//! once by the library's schema (`oracles::config::LibraryConfig`, which types
//! the sections that decide cases); the daemon types its own sections
//! (`[store]`, `[daemon]`, `[log]`, `[gate]`, `[dashboard]`) here.

use crate::health::policy::GatePolicy;
use anyhow::{bail, Context, Result};
use oracles::config::{LibraryConfig, DEFAULT_CONFIG, DEFAULT_ORIGIN};
use oracles::config_ranges::within;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The environment variable through which the supervisor hands its
/// configuration text to worker processes.
pub const WORKER_CONFIG_ENV: &str = "CROSSCHECK_WORKER_CONFIG";

/// Where findings are kept (`[store]`).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// The data directory: the SQLite store, or with `url` the cache of
    /// the PostgreSQL store's modules; builds and bundles either way.
    pub data_dir: PathBuf,
    /// A fleet's PostgreSQL store (`postgres://user:password@host/db`);
    /// empty for the SQLite store of `data_dir`. `CROSSCHECK_STORE_URL`
    /// overrides it.
    pub url: String,
    /// How long a daemon holds seeds it took without renewing the lease;
    /// a daemon that died loses its seeds to the others after this.
    pub lease_seconds: u64,
    /// How long a lost connection to PostgreSQL is tried again before the
    /// command (or the daemon) fails.
    pub reconnect_seconds: u64,
}

/// The environment variable that names a PostgreSQL store, over `[store] url`.
pub const STORE_URL_VARIABLE: &str = "CROSSCHECK_STORE_URL";

impl StoreConfig {
    /// The store `place` names on the command line: a `postgres://` URL
    /// (its module cache in this config's data directory), or a data
    /// directory; other settings as this config's.
    pub fn named(&self, place: &str) -> StoreConfig {
        let is_url = place.starts_with("postgres://") || place.starts_with("postgresql://");
        StoreConfig {
            data_dir: if is_url {
                self.data_dir.clone()
            } else {
                PathBuf::from(place)
            },
            url: if is_url {
                place.to_string()
            } else {
                String::new()
            },
            ..self.clone()
        }
    }

    /// The PostgreSQL store's URL, if the store is one (`CROSSCHECK_STORE_URL`
    /// is applied when the config is loaded).
    pub fn url(&self) -> Option<String> {
        (!self.url.trim().is_empty()).then(|| self.url.trim().to_string())
    }
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            data_dir: PathBuf::from("crosscheck-data"),
            url: String::new(),
            lease_seconds: 120,
            reconnect_seconds: 600,
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
    /// One engine compiling, or running a module (instantiation and
    /// calls), longer than this is a `compile-time` or `hang` finding.
    pub phase_timeout_secs: u64,
    /// The phase limit of an engine after it hung in that phase once in
    /// this run: later hits of a known hang cost this, not the full limit.
    pub known_hang_secs: u64,
    /// A whole case running longer than this (the harness's backstop) is
    /// a `hang` finding.
    pub case_timeout_secs: u64,
    /// A worker whose resident memory exceeds this is an `oom` finding.
    pub worker_memory_limit_mib: u64,
    /// Seconds between status lines.
    pub status_interval_secs: u64,
    /// The name this daemon's runs carry in a fleet's store; empty for the
    /// machine's host name.
    pub host: String,
}

impl DaemonConfig {
    /// The host name the runs carry.
    pub fn host_name(&self) -> String {
        if !self.host.trim().is_empty() {
            return self.host.trim().to_string();
        }
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|name| name.trim().to_string())
            .ok()
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| "localhost".to_string())
    }
}

impl Default for DaemonConfig {
    fn default() -> Self {
        DaemonConfig {
            workers: 0,
            batch_size: 16,
            first_seed: 0,
            phase_timeout_secs: 30,
            known_hang_secs: 3,
            case_timeout_secs: 600,
            worker_memory_limit_mib: 4096,
            status_interval_secs: 10,
            host: String::new(),
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
    /// Host names requests may name besides the loopback names and the
    /// address served on (the `Host` header; `serve --allow-host` adds).
    pub allow_hosts: Vec<String>,
}

impl Default for DashboardConfig {
    fn default() -> Self {
        DashboardConfig {
            address: "127.0.0.1:8420".into(),
            allow_hosts: Vec::new(),
        }
    }
}

/// The whole configuration file.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// The sections that decide what a case is, how it runs and how its
    /// findings are judged and triaged.
    pub library: LibraryConfig,
    /// `[store]`.
    pub store: StoreConfig,
    /// `[daemon]`.
    pub daemon: DaemonConfig,
    /// `[log]`.
    pub log: LogConfig,
    /// `[gate]`: the release gate's policy.
    pub gate: GatePolicy,
    /// `[dashboard]`: the HTTP dashboard.
    pub dashboard: DashboardConfig,
    /// The text this was parsed from, handed to worker processes so they
    /// run exactly the supervisor's configuration.
    pub text: String,
}

impl Config {
    /// Loads `path`, or the embedded defaults when `path` is `None`.
    pub fn load(path: Option<&Path>) -> Result<Config> {
        let mut config = match path {
            None => Config::parse(DEFAULT_CONFIG, DEFAULT_ORIGIN),
            Some(path) => {
                let text = oracles::config::read_config_file(path)?;
                Config::parse(&text, &path.display().to_string())
            }
        }?;
        // The store's password belongs in the environment of a service,
        // not in a config file others read.
        if let Some(url) = std::env::var(STORE_URL_VARIABLE)
            .ok()
            .filter(|url| !url.trim().is_empty())
        {
            config.store.url = url;
        }
        Ok(config)
    }

    /// This configuration with smaller budgets per step (`[execution]
    /// fuel` and `epoch_deadline_ms`). The text changes too: worker
    /// processes run the text.
    pub fn with_budgets(&self, fuel: u64, epoch_deadline_ms: u64) -> Result<Config> {
        let mut table: toml::Table = self
            .text
            .parse()
            .context("re-reading the configuration's text")?;
        let execution = table
            .entry("execution")
            .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            .as_table_mut()
            .context("[execution] is not a table")?;
        let integer = |n: u64| toml::Value::Integer(i64::try_from(n).unwrap_or(i64::MAX));
        execution.insert("fuel".into(), integer(fuel));
        execution.insert("epoch_deadline_ms".into(), integer(epoch_deadline_ms));
        execution.insert("majority_horizon".into(), toml::Value::Boolean(true));
        let text = toml::to_string(&table).context("writing the configuration")?;
        let mut config = Config::parse(&text, "the configuration with smaller budgets")?;
        config.store = self.store.clone();
        Ok(config)
    }

    /// Parses configuration text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Config> {
        let settings = LibraryConfig::parse(text, origin)?;
        let invalid = || format!("invalid configuration in {origin}");
        let config = Config {
            store: section("store", &settings.store).with_context(invalid)?,
            daemon: section("daemon", &settings.daemon).with_context(invalid)?,
            log: section("log", &settings.log).with_context(invalid)?,
            gate: section("gate", &settings.gate).with_context(invalid)?,
            dashboard: section("dashboard", &settings.dashboard).with_context(invalid)?,
            library: settings,
            text: text.to_string(),
        };
        config.validate().with_context(invalid)?;
        Ok(config)
    }

    /// Checks values the types alone do not constrain.
    fn validate(&self) -> Result<()> {
        let d = &self.daemon;
        check_workers("daemon.workers", d.workers)?;
        within("daemon.batch_size", d.batch_size, 1..=100_000)?;
        within(
            "daemon.phase_timeout_secs",
            d.phase_timeout_secs,
            1..=86_400,
        )?;
        within(
            "daemon.known_hang_secs",
            d.known_hang_secs,
            1..=d.phase_timeout_secs.max(1),
        )?;
        within(
            "daemon.case_timeout_secs",
            d.case_timeout_secs,
            d.phase_timeout_secs.min(86_400)..=86_400,
        )?;
        within(
            "daemon.worker_memory_limit_mib",
            d.worker_memory_limit_mib,
            64..=(1 << 20),
        )?;
        within(
            "daemon.status_interval_secs",
            d.status_interval_secs,
            1..=86_400,
        )?;
        within("store.lease_seconds", self.store.lease_seconds, 1..=86_400)?;
        within(
            "store.reconnect_seconds",
            self.store.reconnect_seconds,
            0..=7 * 86_400,
        )?;
        let gate = &self.gate;
        for (key, share) in [
            ("gate.max_inconclusive_share", gate.max_inconclusive_share),
            ("gate.max_rejected_share", gate.max_rejected_share),
            ("gate.max_flaky_share", gate.max_flaky_share),
        ] {
            if !(0.0..=1.0).contains(&share) {
                bail!("{key} is a share between 0 and 1, got {share}");
            }
        }
        let known: std::collections::BTreeSet<&str> = oracles::case::instructions::catalogue()
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

    /// The cache of crosscheck builds against other Wasmtime releases
    /// (`build-release`, `bisect`, engines named `BASE@MAJOR`).
    pub fn builds_dir(&self) -> PathBuf {
        self.store.data_dir.join("builds")
    }

    /// Readies engines of other Wasmtime releases (`NAME@MAJOR`) for this
    /// process: where their builds are, the C API library of each release
    /// newer than the linked one that has neither (fetched once per user:
    /// `releases::c_api_release`), and their Cranelift rules in the rule
    /// catalogue before any case is generated. A library that cannot be
    /// fetched is a warning here, naming why; building the matrix then
    /// fails naming the command that fetches it.
    pub fn ready_other_releases(&self) {
        use oracles::engine::other_release::{build_of, c_api_library_of, linked_major};
        oracles::engine::other_release::use_builds(&self.builds_dir());
        let newer: std::collections::BTreeSet<u64> = self
            .library
            .matrix
            .compared_engines()
            .iter()
            .chain(&self.library.matrix.tie_breakers)
            .chain(&self.library.matrix.proposal_engines)
            .filter_map(|name| oracles::engine::id::EngineId::parse(name).release())
            .filter(|&major| major > linked_major())
            .collect();
        for major in newer {
            if build_of(major).is_ok() {
                continue;
            }
            if c_api_library_of(major).is_none() {
                tracing::info!("fetching Wasmtime {major}'s C API library (once per user)");
                if let Err(e) = crate::releases::c_api_release::fetch(major, false) {
                    tracing::warn!("Wasmtime {major}'s C API library could not be fetched: {e:#}");
                }
            }
            // Its Cranelift's rules, for generation aimed at what changed.
            if let Some((_, version)) = c_api_library_of(major) {
                match crate::releases::release_sources::ensure_cranelift(&version) {
                    Ok(candidate) if self.library.generator.passes.weigh_by_change => {
                        weigh_shapes_by_change(&candidate)
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(
                        "the Cranelift rules of Wasmtime {version} are not aimed at: {e:#}"
                    ),
                }
            }
        }
        self.library.add_rules_of_other_releases();
    }

    /// The configuration's text as a file meant to be shared or kept
    /// beside findings holds it (bundles, bisection): the store's URL,
    /// which may carry a password, is left out, and so is any other
    /// `password` key. A bundle reproduces a finding without the store.
    pub fn shareable_text(&self) -> String {
        let Ok(mut table) = self.text.parse::<toml::Table>() else {
            // Parsed when the configuration loaded; never reached.
            return "# the configuration could not be written out\n".into();
        };
        let mut left_out = Vec::new();
        strip_secrets(&mut table, "", &mut left_out);
        let mut text = String::new();
        if !left_out.is_empty() {
            text += &format!(
                "# Left out, as they may hold a password: {}.\n\n",
                left_out.join(", ")
            );
        }
        text + &toml::to_string(&table).unwrap_or_default()
    }

    /// The number of worker processes to run.
    pub fn workers(&self) -> usize {
        // Bounded by `validate` (`check_workers`).
        match self.daemon.workers {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        }
    }
}

/// Workers per core a daemon may run at most: more only contend for the
/// cores while each holds its own engines in memory (a mistyped 100000
/// started 671 processes and 5.5 GB in 3 seconds).
pub const WORKERS_PER_CORE: usize = 4;

/// The cores this process may run on.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Fails naming `key` unless `workers` is 0 (one per core) or at most
/// [`WORKERS_PER_CORE`] per core.
pub fn check_workers(key: &str, workers: usize) -> Result<()> {
    let cores = cores();
    let most = WORKERS_PER_CORE * cores;
    if workers > most {
        bail!(
            "{key} must be between 0 (one per core) and {most} ({WORKERS_PER_CORE} per core on this {cores}-core machine), got {workers}"
        );
    }
    Ok(())
}

/// Types one of the daemon's sections, which the library's schema keeps as a
/// table.
/// Removes the store's URL and every key naming a password from `table`
/// (`path` is its place), listing what it removed.
fn strip_secrets(table: &mut toml::Table, path: &str, left_out: &mut Vec<String>) {
    let keys: Vec<String> = table.keys().cloned().collect();
    for key in keys {
        let place = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        let secret = place == "store.url" || key.to_ascii_lowercase().contains("password");
        if secret {
            let empty = table.get(&key).and_then(|v| v.as_str()) == Some("");
            table.remove(&key);
            if !empty {
                left_out.push(format!("[{path}] {key}"));
            }
        } else if let Some(toml::Value::Table(inner)) = table.get_mut(&key) {
            strip_secrets(inner, &place, left_out);
        }
    }
}

fn section<T: DeserializeOwned>(name: &str, table: &toml::Table) -> Result<T> {
    toml::Value::Table(table.clone())
        .try_into()
        .with_context(|| format!("in [{name}]"))
}

/// Weighs the pass-aimed shapes by how much their pass changed between the
/// linked release and `candidate` (`oracles::case::passes::weigh_by_change`);
/// where the linked release's sources cannot be read, the shapes stay
/// weighed alike, said in the log.
fn weigh_shapes_by_change(candidate: &oracles::case::release_sources::ReleaseSources) {
    let linked = oracles::case::release_sources::locate(oracles::versions::WASMTIME);
    let changes =
        linked.and_then(|linked| oracles::case::release_diff::diff_passes(&linked, candidate));
    match changes {
        Ok(changes) => oracles::case::passes::weigh_by_change(&changes),
        Err(e) => tracing::warn!(
            "the pass-aimed shapes are not weighed by what changed in Wasmtime {}: {e:#}",
            candidate.wasmtime
        ),
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smaller_budgets_reach_the_text_workers_run_and_nothing_else_changes() {
        let config = Config::load(None).unwrap();
        let tight = config.with_budgets(5_000_000, 100).unwrap();
        assert_eq!(tight.library.execution.fuel, 5_000_000);
        assert_eq!(tight.library.execution.epoch_deadline_ms, 100);
        // A worker parses the text: it must say the same.
        let reparsed = Config::parse(&tight.text, "a worker's view").unwrap();
        assert_eq!(reparsed.library, tight.library);
        let mut expected = config.library.clone();
        expected.execution.fuel = 5_000_000;
        expected.execution.epoch_deadline_ms = 100;
        expected.execution.majority_horizon = true;
        assert_eq!(tight.library, expected);
        assert_eq!(tight.store, config.store);
    }

    #[test]
    fn embedded_defaults_match_the_code_defaults() {
        let config = Config::load(None).unwrap();
        // config.toml documents the defaults: it must not drift from the code
        // (the library's sections are checked by oracles::config).
        assert_eq!(config.library, LibraryConfig::defaults());
        assert_eq!(config.store, StoreConfig::default());
        assert_eq!(config.daemon, DaemonConfig::default());
        assert_eq!(config.log, LogConfig::default());
        assert_eq!(config.gate, GatePolicy::default());
        assert_eq!(config.dashboard, DashboardConfig::default());
        assert_eq!(
            config.library.matrix.engines,
            [
                "wasmtime-default",
                "cranelift-tail-explicit",
                "cranelift-notail-signals",
                "cranelift-notail-explicit+nofuel",
                "wasmtime-swarm",
                "wasmtime-default@51"
            ]
        );
    }

    #[test]
    fn unknown_keys_and_wrong_types_are_named() {
        // Library sections, then one of the daemon's own.
        for (section, named) in [
            ("[generator]\nmax_fncs = 3\n", vec!["max_fncs"]),
            ("[execution]\nfuel = \"lots\"\n", vec!["fuel"]),
            ("[daemon]\nworker = 3\n", vec!["[daemon]", "worker"]),
        ] {
            let text = format!("[matrix]\noracle = \"wasmi\"\nengines = []\n{section}");
            let err = format!("{:#}", Config::parse(&text, "t.toml").unwrap_err());
            assert!(err.contains("t.toml"), "{err}");
            for name in named {
                assert!(err.contains(name), "{name}: {err}");
            }
        }
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
        let err = config.library.matrix().err().unwrap();
        assert!(
            format!("{err:#}").contains("unknown engine \"cranelift-tail-signal\""),
            "{err:#}"
        );
    }
}
