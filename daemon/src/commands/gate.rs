//! `crosscheck gate`: the release gate over the store (`[gate]` policy).

use crate::config::Config;
use crate::health::figures::Health;
use crate::health::gate::{evaluate, junit, RuleResult};
use crate::store::{unix_now, Store, Window};
use anyhow::{Context, Result};
use clap::Args;
use serde::Serialize;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `crosscheck gate`.
#[derive(Args)]
pub struct GateArgs {
    /// Judge only runs from this run id on, or the last DURATION
    /// (`24h`, `90min`); default: the whole store.
    #[arg(long, value_name = "RUN|DURATION")]
    since: Option<String>,
    /// A store from an earlier release: findings it has never seen fail the
    /// `max_new_vs_baseline` rule. A data directory or a postgres:// URL.
    #[arg(long, value_name = "STORE")]
    baseline: Option<String>,
    /// Also write the rules as JUnit XML here.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Also write the rules and figures as JSON here.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

/// What `--json` writes.
#[derive(Serialize)]
struct GateJson<'a> {
    pass: bool,
    window: &'a str,
    store: String,
    cases: u64,
    cases_per_second: f64,
    /// Each host's latest run: on a fleet's store, whose figures these are.
    hosts: &'a [crate::store::HostStatus],
    rules: &'a [RuleResult],
}

/// Runs the command: exit 0 when every rule passes, 1 when one fails.
pub fn run(config: &Config, args: GateArgs) -> Result<ExitCode> {
    let store = Store::open_read_only(&config.store)?;
    let (window, window_text) = match &args.since {
        None => (Window::All, "the whole store".to_string()),
        Some(text) => (Window::parse(text, unix_now())?, format!("since {text}")),
    };
    let baseline = match &args.baseline {
        None => None,
        Some(dir) => Some(
            Store::open_read_only(&config.store.named(dir))
                .and_then(|b| b.signatures())
                .with_context(|| format!("reading the baseline store {dir}"))?,
        ),
    };
    let health = Health::load(&store, config, window)?;
    let mut engines = vec![config.library.matrix.oracle.clone()];
    engines.extend(config.library.matrix.compared_engines());
    let rules = evaluate(&config.gate, &health, &engines, baseline.as_ref());
    let pass = rules.iter().all(|r| r.pass);
    let hosts = store.fleet(unix_now(), config.store.lease_seconds as i64)?;

    print!("{}", table(&rules));
    println!(
        "gate {}: {} of {} rules pass ({}, {} cases, {} run(s))",
        if pass { "PASSED" } else { "FAILED" },
        rules.iter().filter(|r| r.pass).count(),
        rules.len(),
        window_text,
        health.cases,
        health.runs.len()
    );
    // Whose figures these are: a fleet's gate names its hosts.
    if store.is_shared() {
        let described: Vec<String> = hosts
            .iter()
            .map(|h| {
                format!(
                    "{} ({}, {:.1} cases/s)",
                    h.host, h.state, h.cases_per_second
                )
            })
            .collect();
        println!("hosts: {}", described.join(", "));
    }
    if let Some(path) = &args.junit {
        std::fs::write(path, junit(&rules, &window_text)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = &args.json {
        let json = GateJson {
            pass,
            window: &window_text,
            store: store.location().to_string(),
            cases: health.cases,
            cases_per_second: health.cases_per_second,
            hosts: &hosts,
            rules: &rules,
        };
        std::fs::write(path, serde_json::to_string_pretty(&json)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(if pass {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(super::EXIT_FINDING)
    })
}

/// The rules as an aligned table, each failure's detail indented below it.
fn table(rules: &[RuleResult]) -> String {
    let width = rules.iter().map(|r| r.rule.len()).max().unwrap_or(4).max(4);
    let figure = rules
        .iter()
        .map(|r| r.figure.len())
        .max()
        .unwrap_or(6)
        .max(6);
    let mut out = format!(
        "{:<width$}  {:>figure$}  {:<14}  result\n",
        "rule", "figure", "limit"
    );
    for r in rules {
        out += &format!(
            "{:<width$}  {:>figure$}  {:<14}  {}\n",
            r.rule,
            r.figure,
            r.limit,
            if r.pass { "pass" } else { "FAIL" }
        );
        for line in r.detail.iter().flat_map(|d| d.lines()) {
            out += &format!("    {line}\n");
        }
    }
    out
}
