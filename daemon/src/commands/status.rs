//! `crosscheck status`: the store at a glance, also while the daemon runs.

use crate::config::Config;
use crate::health::counter::Counter;
use crate::health::exercised::Exercised;
use crate::health::figures::FindingJson;
use crate::health::rule_coverage::RuleCoverage;
use crate::health::stats::ALL_ENGINES;
use crate::store::{unix_now, HostStatus, ScalingCheck, Store};
use anyhow::Result;
use clap::Args;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::process::ExitCode;
use std::time::{Duration, UNIX_EPOCH};

/// Arguments of `crosscheck status`.
#[derive(Args)]
pub struct StatusArgs {
    /// How many recent runs to list.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Print one JSON object instead of text, for scripts and monitoring.
    #[arg(long)]
    json: bool,
}

/// The store's state, as `--json` prints it.
#[derive(Serialize)]
struct Snapshot {
    data_dir: String,
    /// The store: its data directory, or its PostgreSQL URL without the
    /// password.
    store: String,
    /// Whether it is a fleet's PostgreSQL store.
    shared: bool,
    /// Each host's latest run (one host for an SQLite store).
    fleet: Vec<HostStatus>,
    daemon_pid: Option<u32>,
    next_seed: Option<u64>,
    unfinished_seeds: u64,
    /// `engine -> counter -> value`; engine `*` holds per-case totals.
    counters: BTreeMap<String, BTreeMap<String, u64>>,
    findings: Vec<FindingJson>,
    runs: Vec<RunRow>,
    /// The latest scaling check of every subject (shapes, blowups).
    scaling: Vec<ScalingCheck>,
    /// Rule coverage of rule-guided generation.
    rules: RuleCoverage,
}

#[derive(Serialize)]
struct RunRow {
    id: i64,
    started_at: i64,
    updated_at: i64,
    ended_at: Option<i64>,
    stop_reason: Option<String>,
    workers: i64,
    cases: i64,
    new_findings: i64,
    host: Option<String>,
}

/// Per-engine columns, in order; other counters (inconclusive reasons)
/// follow in a last column.
const ENGINE_COLUMNS: [&str; 10] = [
    "cases",
    "ran",
    "agree",
    "rejected-expected",
    "rejected-unexpected",
    "breached",
    "crashed",
    "hung",
    "oom",
    "inconclusive",
];

/// Runs the command.
pub fn run(config: &Config, args: StatusArgs) -> Result<ExitCode> {
    let store = Store::open_read_only(&config.store)?;
    let snapshot = snapshot(&store, config, args.runs)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&snapshot)?);
    } else {
        print!("{}", render(&snapshot)?);
    }
    Ok(ExitCode::SUCCESS)
}

fn snapshot(store: &Store, config: &Config, runs: usize) -> Result<Snapshot> {
    let mut counters: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    let flat = store.counters(None)?;
    let rules = RuleCoverage::from_counters(&flat);
    for ((engine, name), n) in flat {
        counters.entry(engine).or_default().insert(name, n);
    }
    Ok(Snapshot {
        data_dir: config.store.data_dir.display().to_string(),
        store: store.location().to_string(),
        shared: store.is_shared(),
        fleet: store.fleet(unix_now(), config.store.lease_seconds as i64)?,
        daemon_pid: store.running_daemon(),
        next_seed: store.next_seed()?,
        unfinished_seeds: store
            .pending_ranges()?
            .iter()
            .map(|r| r.end - r.start)
            .sum(),
        counters,
        scaling: store.latest_scaling()?,
        rules,
        findings: store
            .findings()?
            .into_iter()
            .map(|f| FindingJson::from(&f))
            .collect(),
        runs: store
            .runs(runs)?
            .into_iter()
            .map(|r| RunRow {
                id: r.id,
                started_at: r.started_at,
                updated_at: r.updated_at,
                ended_at: r.ended_at,
                stop_reason: r.stop_reason,
                workers: r.workers,
                cases: r.cases,
                new_findings: r.new_findings,
                host: r.host,
            })
            .collect(),
    })
}

/// The report, one section after another.
fn render(snapshot: &Snapshot) -> Result<String> {
    let mut out = String::new();
    for section in [
        daemon_and_fleet,
        seed_cursor,
        cases_and_blame,
        exercised_and_rules,
        engine_table,
        findings_by_kind,
        scaling_checks,
        runs,
    ] {
        section(&mut out, snapshot)?;
    }
    Ok(out)
}

/// Whether a daemon runs on the store, and a fleet's hosts.
fn daemon_and_fleet(out: &mut String, snapshot: &Snapshot) -> Result<()> {
    let dir = &snapshot.store;
    match snapshot.daemon_pid {
        Some(pid) => writeln!(out, "store {dir}: a daemon is running (pid {pid})")?,
        None if snapshot.shared => {
            let running = snapshot.fleet.iter().filter(|h| h.is_running()).count();
            writeln!(
                out,
                "store {dir}: a fleet of {} host(s), {running} running",
                snapshot.fleet.len()
            )?
        }
        None => writeln!(out, "store {dir}: no daemon running")?,
    }
    if !snapshot.fleet.is_empty() {
        writeln!(
            out,
            "  {:<20} {:>5} {:<22} {:>7} {:>10} {:>8}  last heartbeat",
            "host", "run", "state", "workers", "cases", "cases/s"
        )?;
        let now = unix_now();
        for host in &snapshot.fleet {
            writeln!(
                out,
                "  {:<20} {:>5} {:<22} {:>7} {:>10} {:>8.1}  {} s ago",
                host.host,
                host.run,
                host.state,
                host.workers,
                host.cases,
                host.cases_per_second,
                now - host.last_heartbeat
            )?;
        }
    }
    Ok(())
}

fn seed_cursor(out: &mut String, snapshot: &Snapshot) -> Result<()> {
    match snapshot.next_seed {
        Some(next) => writeln!(
            out,
            "seed cursor: next new seed {next}; {} handed-out seed(s) not finished yet",
            snapshot.unfinished_seeds
        )?,
        None => writeln!(out, "seed cursor: no seed handed out yet")?,
    }
    Ok(())
}

/// Cases by verdict, and disagreements by the party blamed.
fn cases_and_blame(out: &mut String, snapshot: &Snapshot) -> Result<()> {
    let empty = BTreeMap::new();
    let totals = snapshot.counters.get(ALL_ENGINES).unwrap_or(&empty);
    let cases = total_cases(snapshot);
    writeln!(out, "\ncases: {cases}")?;
    for (name, n) in totals {
        if let Counter::Verdict(label) = Counter::parse(name) {
            writeln!(
                out,
                "  {label:<36} {n:>10}  {:>6.2}%",
                100.0 * *n as f64 / cases.max(1) as f64
            )?;
        }
    }
    let blamed: Vec<(String, &u64)> = totals
        .iter()
        .filter_map(|(name, n)| match Counter::parse(name) {
            Counter::Blame(party) => Some((party, n)),
            _ => None,
        })
        .collect();
    if !blamed.is_empty() {
        let counted = |counter: Counter| totals.get(&counter.key()).copied().unwrap_or(0);
        writeln!(
            out,
            "
disagreements by blame (tie-breakers ran on {} case(s); {} later disagreement(s) blamed someone else):",
            counted(Counter::TieBroken),
            counted(Counter::Later("mismatch".into()))
        )?;
        for (party, n) in blamed {
            writeln!(out, "  {party:<52} {n:>8}")?;
        }
    }
    Ok(())
}

fn exercised_and_rules(out: &mut String, snapshot: &Snapshot) -> Result<()> {
    let flat: Vec<((String, String), u64)> = snapshot
        .counters
        .iter()
        .flat_map(|(engine, row)| {
            row.iter()
                .map(move |(name, n)| ((engine.clone(), name.clone()), *n))
        })
        .collect();
    out.push_str(
        &Exercised::from_counters(flat.iter().map(|(k, v)| (k, v))).render(total_cases(snapshot)),
    );
    out.push_str(&snapshot.rules.render());
    Ok(())
}

/// Each engine's events, one row per engine that ran something: the
/// swarm's draws are one row (`wasmtime-swarm`), their settings counted
/// in a table of their own; a tie-breaker only timed under a drawn name
/// has no row.
fn engine_table(out: &mut String, snapshot: &Snapshot) -> Result<()> {
    let rows: Vec<(&String, Vec<u64>)> = snapshot
        .counters
        .iter()
        .filter(|(engine, _)| *engine != ALL_ENGINES)
        .map(|(engine, row)| (engine, engine_row(row)))
        .filter(|(_, values)| values.iter().any(|v| *v > 0))
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    let width = rows.iter().map(|(e, _)| e.len()).max().unwrap_or(0).max(28);
    write!(out, "\n  {:<width$}", "engine")?;
    for column in ENGINE_COLUMNS {
        write!(out, " {:>10}", short(column))?;
    }
    writeln!(out)?;
    for (engine, values) in rows {
        write!(out, "  {engine:<width$}")?;
        for value in values {
            write!(out, " {value:>10}")?;
        }
        writeln!(out)?;
    }
    Ok(())
}

/// One engine's figure in each of [`ENGINE_COLUMNS`].
fn engine_row(row: &BTreeMap<String, u64>) -> Vec<u64> {
    ENGINE_COLUMNS
        .iter()
        .map(|column| {
            row.iter()
                .filter(|(name, _)| {
                    name == column
                        || (*column == "inconclusive"
                            && matches!(Counter::parse(name), Counter::Inconclusive(_)))
                })
                .map(|(_, n)| n)
                .sum()
        })
        .collect()
}

fn findings_by_kind(out: &mut String, snapshot: &Snapshot) -> Result<()> {
    let mut by_kind: BTreeMap<(&str, &str), (u64, i64)> = BTreeMap::new();
    for f in &snapshot.findings {
        let entry = by_kind
            .entry((f.kind.as_str(), f.status.as_str()))
            .or_default();
        entry.0 += 1;
        entry.1 += f.hits;
    }
    writeln!(
        out,
        "\nfindings: {} (`crosscheck findings` lists them)",
        snapshot.findings.len()
    )?;
    for ((kind, status), (n, hits)) in by_kind {
        writeln!(
            out,
            "  {kind:<24} {status:<8} {n:>6} finding(s) {hits:>10} hit(s)"
        )?;
    }
    Ok(())
}

fn scaling_checks(out: &mut String, snapshot: &Snapshot) -> Result<()> {
    if !snapshot.scaling.is_empty() {
        writeln!(
            out,
            "\nscaling checks (latest of each; the dashboard has the tables):"
        )?;
        for check in &snapshot.scaling {
            let when = humantime::format_rfc3339_seconds(
                UNIX_EPOCH + Duration::from_secs(check.at.max(0) as u64),
            );
            if check.superlinear.is_empty() {
                writeln!(out, "  {:<28} {when}  linear", check.subject)?;
            } else {
                writeln!(
                    out,
                    "  {:<28} {when}  SUPERLINEAR: {}",
                    check.subject,
                    check.superlinear.join("; ")
                )?;
            }
        }
    }
    Ok(())
}

fn runs(out: &mut String, snapshot: &Snapshot) -> Result<()> {
    writeln!(out, "\nruns (newest first):")?;
    for run in &snapshot.runs {
        let end = run.ended_at.unwrap_or(run.updated_at);
        let seconds = (end - run.started_at).max(0) as u64;
        let state = match &run.stop_reason {
            Some(reason) => format!("stopped: {reason}"),
            None => "running".to_string(),
        };
        writeln!(
            out,
            "  #{:<4} {}  {:>10}  {:>9} cases {:>7.1}/s  {:>3} new finding(s)  {} worker(s)  {state}",
            run.id,
            humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(run.started_at as u64)),
            humantime::format_duration(Duration::from_secs(seconds)).to_string(),
            run.cases,
            run.cases as f64 / seconds.max(1) as f64,
            run.new_findings,
            run.workers,
        )?;
    }
    Ok(())
}

/// Cases finished, over all engines.
fn total_cases(snapshot: &Snapshot) -> u64 {
    snapshot
        .counters
        .get(ALL_ENGINES)
        .and_then(|totals| totals.get(&Counter::Cases.key()))
        .copied()
        .unwrap_or(0)
}

fn short(column: &str) -> &str {
    match column {
        "rejected-expected" => "rej.expect",
        "rejected-unexpected" => "rej.UNEXP",
        "inconclusive" => "inconcl.",
        other => other,
    }
}
