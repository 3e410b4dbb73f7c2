//! `GET /metrics`: Prometheus text exposition. Every counter is read from
//! the store, summed over all runs, so values persist across daemon
//! restarts and never go backwards.

use super::state::{with_store, Failure, State};
use crate::health::counter::Counter as Named;
use crate::health::distribution::{is_bucket, Distribution};
use crate::health::stats::ALL_ENGINES;
use axum::http::header;
use axum::response::IntoResponse;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

type Labels = Vec<(String, String)>;

/// The exposition of the store's counters.
pub async fn metrics(state: axum::extract::State<State>) -> Result<impl IntoResponse, Failure> {
    let text = with_store(&state, |store, config| {
        let counters = store.counters(None)?;
        let fleet = store.fleet(crate::store::unix_now(), config.store.lease_seconds as i64)?;
        let mut registry = Registry::with_prefix("crosscheck");
        register_host_metrics(&mut registry, &fleet);
        register_case_counters(&mut registry, &counters);
        register_rule_coverage(&mut registry, &counters);
        register_engine_events(&mut registry, &counters);
        register_distributions(&mut registry, &counters);
        register_findings(&mut registry, &store.findings()?);
        register_runs(&mut registry, store, &fleet)?;
        let mut text = String::new();
        encode(&mut text, &registry).map_err(|e| anyhow::anyhow!("encoding metrics: {e}"))?;
        Ok(text)
    })
    .await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    ))
}

/// Each host's latest run: a fleet's hosts on a PostgreSQL store.
fn register_host_metrics(registry: &mut Registry, fleet: &[crate::store::HostStatus]) {
    let host_up = Family::<Labels, Gauge>::default();
    let host_rate = Family::<Labels, Gauge<f64, std::sync::atomic::AtomicU64>>::default();
    let host_workers = Family::<Labels, Gauge>::default();
    let host_heartbeat = Family::<Labels, Gauge>::default();
    for host in fleet {
        let labels = vec![("host".to_string(), host.host.clone())];
        host_up
            .get_or_create(&labels)
            .set(i64::from(host.is_running()));
        host_rate.get_or_create(&labels).set(host.cases_per_second);
        host_workers.get_or_create(&labels).set(host.workers);
        host_heartbeat
            .get_or_create(&labels)
            .set(host.last_heartbeat);
    }
    registry.register(
        "host_up",
        "Whether the host's daemon is running (0: stopped or not reporting)",
        host_up,
    );
    registry.register(
        "host_cases_per_second",
        "The host's latest run's cases per second",
        host_rate,
    );
    registry.register(
        "host_workers",
        "The host's latest run's worker processes",
        host_workers,
    );
    registry.register(
        "host_last_heartbeat_seconds",
        "Unix time of the host's last heartbeat",
        host_heartbeat,
    );
}

/// The counters of all engines together: cases, verdicts, blame, what was
/// exercised, instructions.
fn register_case_counters(registry: &mut Registry, counters: &crate::store::Counters) {
    let cases = Counter::<u64>::default();
    let verdicts = Family::<Labels, Counter<u64>>::default();
    let instructions = Family::<Labels, Counter<u64>>::default();
    let blamed = Family::<Labels, Counter<u64>>::default();
    let tie_broken = Counter::<u64>::default();
    let exercised = Family::<Labels, Counter<u64>>::default();
    for ((engine, name), value) in counters {
        if engine != ALL_ENGINES {
            continue;
        }
        let add = |family: &Family<Labels, Counter<u64>>, label: &str, text: String| {
            family
                .get_or_create(&vec![(label.into(), text)])
                .inc_by(*value);
        };
        match Named::parse(name) {
            Named::Cases => {
                cases.inc_by(*value);
            }
            Named::Verdict(label) => add(&verdicts, "verdict", label),
            Named::Op(op) => add(&instructions, "instruction", op),
            Named::Blame(party) => add(&blamed, "party", party),
            Named::TieBroken => {
                tie_broken.inc_by(*value);
            }
            Named::Exercised(what) => add(&exercised, "what", what.to_string()),
            _ => {}
        }
    }
    registry.register("cases", "Cases finished", cases);
    registry.register("verdicts", "Cases by verdict", verdicts);
    registry.register(
        "disagreements",
        "Disagreements by the party the implementation families blame",
        blamed,
    );
    registry.register(
        "tie_broken_cases",
        "Cases the tie-breakers of other families ran on",
        tie_broken,
    );
    registry.register(
        "exercised",
        "What the cases really ran: tail-loop-completed, stack-args-called, all-overflowed, stack-rerun, two-instances-called, feature:<name> (per engine: engine_events exercised:stack-overflow)",
        exercised,
    );
    registry.register(
        "instructions",
        "Instructions in the generated modules' code, by name",
        instructions,
    );
}

fn register_rule_coverage(registry: &mut Registry, counters: &crate::store::Counters) {
    let coverage = crate::health::rule_coverage::RuleCoverage::from_counters(counters);
    let rules = Family::<Labels, Gauge>::default();
    for (state, n) in [
        ("in_scope", coverage.in_scope),
        ("expressible", coverage.expressible),
        ("aimable", coverage.aimable),
        ("targeted", coverage.targeted),
        ("never_reached", coverage.never_reached),
        ("code_changed", coverage.code_changed),
    ] {
        rules
            .get_or_create(&vec![("state".into(), state.into())])
            .set(n as i64);
    }
    registry.register(
        "rules",
        "Cranelift rules of rule-guided generation: in_scope, expressible (in Wasm), aimable, targeted (by a case that ran), never_reached, code_changed (mid-end rules whose root instruction the optimizer rewrote)",
        rules,
    );
    if let Some(change) = &coverage.change {
        let changed = Family::<Labels, Gauge>::default();
        let ran = change.candidate_runs.values().filter(|n| **n > 0).count();
        let mut states = vec![
            ("in_scope", change.changed),
            ("aimable", change.aimable),
            ("aimed", change.aimed),
            ("run_on_candidate", ran),
            ("disagreeing", change.disagreeing.len()),
        ];
        // A candidate that cannot show its rewrites has no such series:
        // absent, not zero.
        if change.rewrites_unknown.is_none() {
            states.push(("candidate_mid_end", change.candidate_mid_end));
            states.push(("rewritten_on_candidate", change.candidate_rewrote.len()));
        }
        for (state, n) in states {
            changed
                .get_or_create(&vec![("state".into(), state.into())])
                .set(n as i64);
        }
        registry.register(
            "changed_rules",
            "Cranelift rules that changed between the reference and the candidate release: in_scope, aimable, aimed (by a case that ran), run_on_candidate, disagreeing; where the candidate can show its optimizer's rewrites, candidate_mid_end (its changed mid-end rules) and rewritten_on_candidate",
            changed,
        );
    }
    let rule_cases = Counter::<u64>::default();
    rule_cases.inc_by(coverage.cases);
    registry.register(
        "rule_cases",
        "Rule-guided cases that ran, over all rules",
        rule_cases,
    );
}

/// Each engine's own counters, distribution buckets aside.
fn register_engine_events(registry: &mut Registry, counters: &crate::store::Counters) {
    let engine_events = Family::<Labels, Counter<u64>>::default();
    for ((engine, name), value) in counters {
        if engine != ALL_ENGINES && !is_bucket(name) {
            engine_events
                .get_or_create(&vec![
                    ("engine".into(), engine.clone()),
                    ("event".into(), name.clone()),
                ])
                .inc_by(*value);
        }
    }
    registry.register(
        "engine_events",
        "Per-engine events: ran, rejected-expected, crashed, inconclusive:<reason>, ...",
        engine_events,
    );
}

fn register_distributions(registry: &mut Registry, counters: &crate::store::Counters) {
    for (name, help, which) in [
        (
            "compile_cases",
            "Compiles per engine whose time was at most le_us microseconds (powers of two)",
            Distribution::CompileMicros,
        ),
        (
            "compile_cpu_cases",
            "Compiles per engine whose CPU time was at most le_us microseconds",
            Distribution::CompileCpuMicros,
        ),
        (
            "run_cases",
            "Runs (instantiation and calls) per engine that took at most le_us microseconds",
            Distribution::RunMicros,
        ),
        (
            "compile_heap_cases",
            "Compiles per engine whose peak heap was at most le_bytes (powers of two)",
            Distribution::CompileHeap,
        ),
        (
            "code_size_cases",
            "Compiles per engine that generated at most le_bytes of machine code",
            Distribution::CodeBytes,
        ),
        (
            "module_instructions",
            "Generated modules with at most le instructions in their code",
            Distribution::Instructions,
        ),
    ] {
        registry.register(name, help, buckets(counters, which));
    }
}

fn register_findings(registry: &mut Registry, findings: &[crate::store::StoredFinding]) {
    let by_kind = Family::<Labels, Gauge>::default();
    let hits = Family::<Labels, Counter<u64>>::default();
    for f in findings {
        by_kind
            .get_or_create(&vec![
                ("kind".into(), f.kind.to_string()),
                ("status".into(), f.status.to_string()),
            ])
            .inc();
        hits.get_or_create(&vec![("kind".into(), f.kind.to_string())])
            .inc_by(f.hits as u64);
    }
    // Alerting keys on this one: a possible sandbox escape not fixed.
    let breaches = Gauge::<i64>::default();
    breaches.set(
        findings
            .iter()
            .filter(|f| crate::health::gate::is_unfixed_breach(f.kind, f.status))
            .count() as i64,
    );
    registry.register("findings", "Findings by kind and status", by_kind);
    registry.register("finding_hits", "Hits of findings by kind", hits);
    registry.register(
        "breach_findings",
        "Possible sandbox breaches not marked fixed (0 is the only healthy value)",
        breaches,
    );
}

/// Runs started, and the daemons running now.
fn register_runs(
    registry: &mut Registry,
    store: &crate::store::Store,
    fleet: &[crate::store::HostStatus],
) -> anyhow::Result<()> {
    let run_count = Counter::<u64>::default();
    run_count.inc_by(store.runs(usize::MAX >> 1)?.len() as u64);
    let running = Gauge::<i64>::default();
    // An SQLite store's daemon holds its lock; a fleet's report runs.
    running.set(match store.running_daemon() {
        Some(_) => 1,
        None if store.is_shared() => fleet.iter().filter(|h| h.is_running()).count() as i64,
        None => 0,
    });
    registry.register("runs", "Daemon runs started", run_count);
    registry.register(
        "daemon_running",
        "Daemons running on the store: 0 or 1 on SQLite, one per running host on a fleet's PostgreSQL store",
        running,
    );
    Ok(())
}

/// A distribution's counters as cumulative counts per engine and bound,
/// like a histogram's buckets.
fn buckets(counters: &crate::store::Counters, which: Distribution) -> Family<Labels, Counter<u64>> {
    let family = Family::<Labels, Counter<u64>>::default();
    let bound = which.bound_label();
    for (engine, buckets) in which.per_engine(counters) {
        let mut cumulative = 0;
        for (k, n) in buckets {
            cumulative += n;
            family
                .get_or_create(&vec![
                    ("engine".into(), engine.clone()),
                    (bound.into(), (1u64 << k.min(63)).to_string()),
                ])
                .inc_by(cumulative);
        }
    }
    family
}
