//! `crosscheck config --show`: the configuration in force, every key with
//! where its value comes from (the file given with `--config`, the
//! environment, or the embedded defaults), secrets left out. A file needs
//! only the keys it changes: the rest keep their defaults, as Cargo merges
//! its configuration files over its own.

use crate::config::{Config, STORE_URL_VARIABLE};
use crate::store::redact;
use anyhow::{bail, Result};
use clap::Args;
use oracles::config::{read_config_file, DEFAULT_CONFIG};
use std::fmt::Write;
use std::path::Path;
use std::process::ExitCode;

/// Arguments of `crosscheck config`.
#[derive(Args)]
pub struct ConfigArgs {
    /// Print the merged configuration with the origin of every key.
    #[arg(long)]
    show: bool,
}

/// Runs the command.
pub fn run(config: &Config, file: Option<&Path>, args: ConfigArgs) -> Result<ExitCode> {
    if !args.show {
        bail!("say what to do: `crosscheck config --show` prints the configuration in force");
    }
    let defaults: toml::Table = DEFAULT_CONFIG.parse()?;
    let user: toml::Table = match file {
        Some(path) => read_config_file(path)?.parse()?,
        None => toml::Table::new(),
    };
    let origin = file.map_or("the embedded defaults".to_string(), |p| {
        p.display().to_string()
    });
    let mut out = String::new();
    writeln!(
        out,
        "# The configuration in force: {origin} over the embedded defaults.\n"
    )?;
    let mut sections: Vec<&String> = defaults.keys().chain(user.keys()).collect();
    sections.sort();
    sections.dedup();
    for section in sections {
        let empty = toml::Table::new();
        let table = |t: &toml::Table| -> toml::Table {
            t.get(section)
                .and_then(|v| v.as_table())
                .cloned()
                .unwrap_or_else(|| empty.clone())
        };
        show_table(
            &mut out,
            section,
            &table(&defaults),
            &table(&user),
            &origin,
            config,
        )?;
    }
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}

/// One table (and its sub-tables) of the merged configuration.
fn show_table(
    out: &mut String,
    path: &str,
    defaults: &toml::Table,
    user: &toml::Table,
    origin: &str,
    config: &Config,
) -> Result<()> {
    writeln!(out, "[{path}]")?;
    let mut keys: Vec<&String> = defaults.keys().chain(user.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut inner = Vec::new();
    for key in keys {
        let (value, from) = match (user.get(key), defaults.get(key)) {
            (Some(value), _) => (value, origin),
            (None, Some(value)) => (value, "default"),
            (None, None) => continue,
        };
        if value.is_table() && !is_inline(path, key) {
            inner.push(key);
            continue;
        }
        let place = format!("{path}.{key}");
        let (shown, from) = shown_value(&place, value, from, config);
        writeln!(out, "{key} = {shown}  # {from}")?;
    }
    writeln!(out)?;
    for key in inner {
        let sub = |t: &toml::Table| -> toml::Table {
            t.get(key)
                .and_then(|v| v.as_table())
                .cloned()
                .unwrap_or_default()
        };
        show_table(
            out,
            &format!("{path}.{key}"),
            &sub(defaults),
            &sub(user),
            origin,
            config,
        )?;
    }
    Ok(())
}

/// Tables written inline in config.toml (`max_open = { ... }`): maps, not
/// sections.
fn is_inline(path: &str, key: &str) -> bool {
    path == "gate" && matches!(key, "max_open" | "min_exercised")
}

/// A value as shown, and its origin: the store's URL from the environment
/// when it is set there, and without its password wherever it comes from.
fn shown_value(place: &str, value: &toml::Value, from: &str, config: &Config) -> (String, String) {
    if place == "store.url" {
        let from_environment = std::env::var(STORE_URL_VARIABLE)
            .ok()
            .is_some_and(|url| !url.trim().is_empty());
        let url = &config.store.url;
        let shown = if url.is_empty() {
            "\"\"".to_string()
        } else {
            format!("{:?}", redact(url))
        };
        let from = if from_environment {
            format!("environment {STORE_URL_VARIABLE}")
        } else {
            from.to_string()
        };
        return (shown, from);
    }
    (value.to_string(), from.to_string())
}
