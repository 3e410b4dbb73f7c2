//! The HTML pages. maud escapes every spliced value, so a signature or an
//! export name holding markup is shown as text.

use super::api::{all_runs, filtered, Filter, FindingDetail, Overview};
use super::chart::{self, when};
use super::state::{with_store, Failure, State};
use crate::health::counter::Counter as Named;
use crate::health::figures::{FindingJson, Health, RunFigures};
use axum::extract::{Path, Query};
use maud::{html, Markup, PreEscaped, DOCTYPE};
use oracles::cost::baseline::Metric;

/// Instructions the coverage table lists, most frequent first.
const TOP_INSTRUCTIONS: usize = 40;

const STYLE: &str = "
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1f2328}
header{background:#24292f;color:#fff;padding:8px 20px;display:flex;gap:18px;align-items:baseline}
header a{color:#fff;text-decoration:none}header strong{font-size:16px}
main{padding:12px 20px;max-width:1200px}
table{border-collapse:collapse;margin:8px 0 18px}
th,td{border-bottom:1px solid #d0d7de;padding:3px 10px;text-align:left;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
pre{background:#f6f8fa;padding:10px;overflow:auto;max-height:600px}
.cards{display:flex;gap:14px;flex-wrap:wrap}
.card{border:1px solid #d0d7de;border-radius:6px;padding:8px 14px;min-width:120px}
.card b{display:block;font-size:20px}
.muted{color:#656d76}.bad{color:#cf222e}.good{color:#1a7f37}
div.breach{border:2px solid #cf222e;background:#ffebe9;padding:.5em 1em;margin:1em 0}tr.breach td{background:#ffebe9;font-weight:bold}
.bar{background:#2563eb;height:10px;display:inline-block}
code{background:#f6f8fa;padding:1px 4px}
";

fn layout(title: &str, refresh: bool, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                @if refresh { meta http-equiv="refresh" content="30"; }
                title { (title) " · crosscheck" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header {
                    strong { "crosscheck" }
                    a href="/" { "Overview" }
                    a href="/findings" { "Findings" }
                    a href="/runs" { "Runs" }
                    a href="/api/overview" { "JSON" }
                    a href="/metrics" { "Metrics" }
                }
                main { h1 { (title) } (body) }
            }
        }
    }
}

fn share(part: u64, whole: u64) -> String {
    if whole == 0 {
        "-".into()
    } else {
        format!("{:.2}%", part as f64 * 100.0 / whole as f64)
    }
}

/// `GET /`.
pub async fn overview(state: axum::extract::State<State>) -> Result<Markup, Failure> {
    let (overview, coverage, config_ratio) = with_store(&state, |store, config| {
        Ok((
            Overview::load(store, config)?,
            CoverageGoal {
                proposals: config.gate.instruction_proposals.clone(),
                min: config.gate.min_instruction_count.max(1),
            },
            config.library.cost.outliers.ratio,
        ))
    })
    .await?;
    let h = &overview.health;
    let body = html! {
        (breaches(h))
        (cards(&overview))
        (hosts(&overview))
        h2 { "Cases/s over time" }
        (chart::throughput(&overview.throughput))
        (findings_by_kind(&overview))
        (verdicts(h))
        (variants(h))
        (exercised(h))
        (passes_and_swarm(h))
        (rule_coverage(h))
        (costs(h))
        (baseline(&overview, config_ratio))
        (scaling(&overview))
        (instructions(h, &coverage))
    };
    Ok(layout("Overview", true, body))
}

/// Which instructions the overview expects to see, and how often.
struct CoverageGoal {
    proposals: Vec<String>,
    min: u64,
}

/// Unfixed possible sandbox breaches, above everything else.
fn breaches(h: &Health) -> Markup {
    let breaches: Vec<&FindingJson> = h
        .findings
        .iter()
        .map(|f| &f.finding)
        .filter(|f| crate::health::gate::is_unfixed_breach(f.kind, f.status))
        .collect();
    html! {
    @if !breaches.is_empty() {
        div.breach #breaches {
            b { (breaches.len()) " possible sandbox breach(es)" }
            " (compiled code touched memory outside its sandbox; report privately, see the finding's report):"
            ul {
                @for f in &breaches {
                    li { a href=(format!("/findings/{}", f.id)) { "#" (f.id) } " " (f.signature) }
                }
            }
        }
    }
    }
}

/// The daemon's state and the headline figures.
fn cards(overview: &Overview) -> Markup {
    let h = &overview.health;
    let open: usize = h.findings.iter().filter(|f| f.needs_attention).count();
    html! {
    div.cards {
        @if let Some(pid) = overview.daemon_pid {
            div.card { "daemon" b { "running (pid " (pid) ")" } }
        } @else if overview.fleet.iter().any(|h| h.is_running()) {
            div.card { "daemons" b { (overview.fleet.iter().filter(|h| h.is_running()).count()) " of " (overview.fleet.len()) " host(s) running" } }
        } @else {
            div.card { "daemon" b { "stopped" } }
        }
        div.card { "cases" b #cases { (h.cases) } }
        div.card { "cases/s" b { (format!("{:.1}", h.cases_per_second)) } }
        div.card { "runs" b { (h.runs.len()) } }
        div.card { "need attention" b.bad[open > 0].good[open == 0] { (open) } }
    }
    }
}

/// A fleet's hosts, when there is more than this one.
fn hosts(overview: &Overview) -> Markup {
    html! {
    @if overview.fleet.len() > 1 || overview.daemon_pid.is_none() && !overview.fleet.is_empty() {
        h2 { "Hosts" }
        table #fleet {
            tr { th { "host" } th.n { "run" } th { "state" } th.n { "workers" } th.n { "cases" } th.n { "cases/s" } th { "last heartbeat" } }
            @for host in &overview.fleet {
                tr.bad[host.state == "not reporting"] {
                    td { (host.host) }
                    td.n { (host.run) }
                    td { (host.state) }
                    td.n { (host.workers) }
                    td.n { (host.cases) }
                    td.n { (format!("{:.1}", host.cases_per_second)) }
                    td { (format!("{} s ago", crate::store::unix_now() - host.last_heartbeat)) }
                }
            }
        }
    }
    }
}

fn findings_by_kind(overview: &Overview) -> Markup {
    html! {
    h2 { "Findings by kind and status" }
    table #findings-by-kind {
        tr { th { "kind" } th { "status" } th.n { "findings" } }
        @for (kind, statuses) in &overview.findings_by_kind {
            @for (status, n) in statuses {
                tr {
                    td { a href=(format!("/findings?{}", form_urlencoded::Serializer::new(String::new()).append_pair("kind", kind).finish())) { (kind) } }
                    td { (status) }
                    td.n { (n) }
                }
            }
        }
    }
    }
}

fn verdicts(h: &Health) -> Markup {
    html! {
    h2 { "Verdicts" }
    table #verdicts {
        tr { th { "verdict" } th.n { "cases" } th.n { "share" } }
        @for (label, n) in &h.verdicts {
            tr { td { (label) } td.n { (n) } td.n { (share(*n, h.cases)) } }
        }
    }
    }
}

fn variants(h: &Health) -> Markup {
    html! {
    h2 { "Per variant" }
    table #variants {
        tr { th { "engine" } th.n { "ran" } th.n { "rejected (expected)" } th.n { "rejected (unexpected)" } th.n { "crashed" } th.n { "hung" } th.n { "inconclusive" } }
        @for (engine, c) in &h.engines {
            @let get = |k: &str| c.get(k).copied().unwrap_or(0);
            @let inconclusive: u64 = c.iter().filter(|(k, _)| matches!(Named::parse(k), Named::Inconclusive(_))).map(|(_, v)| v).sum();
            tr {
                td { (engine) }
                td.n { (get("ran")) }
                td.n { (get("rejected-expected")) }
                td.n { (get("rejected-unexpected")) }
                td.n { (get("crashed")) }
                td.n { (get("hung")) }
                td.n { (inconclusive) }
            }
        }
    }
    }
}

fn exercised(h: &Health) -> Markup {
    html! {
    h2 { "Exercised" }
    p.muted { "What really ran, not what was generated: stack programs' deep tail-call loops completed on every engine, calls passing arguments on the stack that returned, calls every engine overflowed on, cases re-run with larger stacks after a partial overflow, cases that called both of two instances sharing an imported memory, and the cases that reached each engine's stack check." }
    table #exercised {
        tr { th { "what" } th.n { "count" } }
        @for (_, label, n) in &h.exercised.totals {
            tr { td { (label) } td.n { (n) } }
        }
        @for e in &h.exercised.overflows {
            tr { td { "cases " (e.engine) " overflowed its stack in" } td.n { (e.overflowed) " (" (share(e.overflowed, e.ran)) ")" } }
        }
    }
    table #features {
        tr { th { "feature (proposal, stack program)" } th.n { "cases" } th.n { "share" } }
        @for (feature, n) in &h.exercised.features {
            tr { td { (feature) } td.n { (n) } td.n { (share(*n, h.cases)) } }
        }
    }
    }
}

fn passes_and_swarm(h: &Health) -> Markup {
    html! {
    @if !h.exercised.passes.is_empty() {
        h2 { "Pass-aimed cases" }
        p.muted { "Cases shaped for one of Cranelift's optimizer passes or Wasmtime's bounds checks, per shape, and those in which the pass acted: the optimizer changed the shape's instructions between opt level none and speed (for bounds shapes: Wasmtime emitted an explicit check). Register allocation around calls is not in the CLIF." }
        table #passes {
            tr { th { "shape" } th.n { "aimed" } th.n { "acted" } th.n { "share" } }
            @for (shape, aimed, acted) in &h.exercised.passes {
                tr { td { (shape) } td.n { (aimed) } td.n { (acted) } td.n { (share(*acted, *aimed)) } }
            }
        }
    }
    @if !h.exercised.swarm.is_empty() {
        h2 { "Configuration swarm" }
        p.muted { "Cases the configuration drawn from each case's seed ran on, per setting it drew (docs/matrix.md)." }
        table #swarm {
            tr { th { "setting" } th.n { "cases" } th.n { "share" } }
            @for (setting, n) in &h.exercised.swarm {
                tr { td { (setting) } td.n { (n) } td.n { (share(*n, h.cases)) } }
            }
        }
    }
    }
}

fn rule_coverage(h: &Health) -> Markup {
    html! {
    h2 { "Rule coverage" }
    p.muted { "Rule-guided cases aim at one rule of the linked Cranelift (cranelift-codegen " (h.rules.cranelift) "): its mid-end simplifications and its x64 lowering. Targeted: rules some case aimed at and ran. Rewrote: mid-end rules whose root instruction the optimizer rewrote (its count in the optimized CLIF differs between opt level none and speed); lowering rules act after the CLIF is final and are not counted." }
    @if let Some(problem) = &h.rules.problem {
        p.warning { "Rule-guided generation is off: " (problem) }
    }
    table #rules {
        tr { th { "rules" } th.n { "count" } }
        tr { td { "in scope" } td.n { (h.rules.in_scope) } }
        tr { td { "expressible in Wasm" } td.n { (h.rules.expressible) } }
        tr { td { "aimed at by generation" } td.n { (h.rules.aimable) } }
        tr { td { "targeted by a case that ran" } td.n { (h.rules.targeted) } }
        tr { td { "never reached" } td.n { (h.rules.never_reached) } }
        tr { td { "mid-end rules whose aimed instruction the optimizer rewrote" } td.n { (h.rules.code_changed) " of " (h.rules.targeted_mid_end) } }
        tr { td { "cases aimed at a rule" } td.n { (h.rules.cases) } }
        tr { td { "cases per targeted rule (fewest / median / most)" } td.n { (h.rules.cases_per_rule.0) " / " (h.rules.cases_per_rule.1) " / " (h.rules.cases_per_rule.2) } }
    }
    table #rule-files {
        tr { th { "file" } th.n { "in scope" } th.n { "aimable" } th.n { "targeted" } th.n { "rewrote" } }
        @for (file, in_scope, aimable, targeted, changed) in &h.rules.files {
            tr { td { (file) } td.n { (in_scope) } td.n { (aimable) } td.n { (targeted) } td.n { (changed) } }
        }
    }
    @if let Some(change) = &h.rules.change {
        h3 { "The change between the releases" }
        p.muted { "Rules in scope that one release in the matrix has and the other lacks (new, changed or removed: crosscheck diff-release), and how far the cases reached them: aimed at, run on the candidate (the newer release), and disagreeing between the releases." }
        table #change-coverage {
            tr { th { "what" } th.n { "rules" } }
            tr { td { "new, changed or removed, in scope" } td.n { (change.changed) } }
            tr { td { "of which generation can aim at" } td.n { (change.aimable) } }
            tr { td { "aimed at by a case that ran" } td.n { (change.aimed) } }
            tr { td { "run on the candidate" } td.n { (change.candidate_runs.values().filter(|n| **n > 0).count()) } }
            tr { td { "disagreeing between the releases" } td.n { (change.disagreeing.len()) } }
            tr { td { "cases aimed at them" } td.n { (change.cases) } }
            @match &change.rewrites_unknown {
                Some(why) => { tr { td { "rewritten on the candidate" } td { "unknown: " (why) } } }
                None => { tr { td { "rewritten on the candidate (changed mid-end rules, of " (change.candidate_mid_end) ")" } td.n { (change.candidate_rewrote.len()) } } }
            }
        }
    }
    }
}

fn costs(h: &Health) -> Markup {
    html! {
    h2 { "Cost per variant" }
    p.muted { "Upper bounds of power-of-two buckets: the figure is at most the bound and above half of it. Times in microseconds, compile heap (peak allocated while compiling) and generated code in KiB." }
    table #costs {
        tr {
            th { "engine" }
            th.n { "compile p50" } th.n { "compile p99" } th.n { "compile CPU p50" } th.n { "compile CPU p99" } th.n { "run p50" } th.n { "run p99" }
            th.n { "compile heap p50" } th.n { "compile heap p99" } th.n { "code p50" } th.n { "code p99" }
        }
        @for (engine, c) in &h.costs {
            tr {
                td { (engine) }
                @for figure in [c.compile_p50_us, c.compile_p99_us, c.compile_cpu_p50_us, c.compile_cpu_p99_us, c.run_p50_us, c.run_p99_us] {
                    td.n { @if let Some(us) = figure { "≤ " (us) } @else { "-" } }
                }
                @for figure in [c.compile_heap_p50, c.compile_heap_p99, c.code_bytes_p50, c.code_bytes_p99] {
                    td.n { @if let Some(bytes) = figure { "≤ " (bytes.div_ceil(1024)) } @else { "-" } }
                }
            }
        }
    }
    }
}

/// The reference compile costs that outlier blowups are judged by.
fn baseline(overview: &Overview, config_ratio: f64) -> Markup {
    html! {
    h2 { "Compile cost per instruction" }
    p.muted {
        "The reference a compile is judged by for outlier blowups: each engine's median over its most recent compiles of modules with enough instructions, and the spread (one MAD, as a factor). A compile " (config_ratio) " times its engine's median or more, and far out in the spread, is re-measured and may become a finding."
    }
    @if overview.baseline.is_empty() {
        p.muted { "No reference yet: it needs a few hundred cases per engine." }
    } @else {
        table #baseline {
            tr { th { "engine" } th.n { "time per instruction" } th.n { "spread" } th.n { "heap per instruction" } th.n { "spread" } th.n { "compiles" } }
            @for (engine, references) in &overview.baseline.references {
                @let time = references.get(&Metric::CompileTime);
                @let heap = references.get(&Metric::CompileHeap);
                tr {
                    td { (engine) }
                    td.n { @if let Some(r) = time { (format!("{:.0} ns", r.median())) } @else { "-" } }
                    td.n { @if let Some(r) = time { (format!("×{:.1}", r.log2_mad.exp2())) } @else { "-" } }
                    td.n { @if let Some(r) = heap { (format!("{:.0} B", r.median())) } @else { "-" } }
                    td.n { @if let Some(r) = heap { (format!("×{:.1}", r.log2_mad.exp2())) } @else { "-" } }
                    td.n { (time.or(heap).map_or(0, |r| r.samples)) }
                }
            }
        }
    }
    }
}

fn scaling(overview: &Overview) -> Markup {
    html! {
    h2 { "Scaling checks" }
    p.muted { "Built-in compiler stress shapes grown to doubling sizes in the background, one every [cost.scaling] every_secs, and the shrunk module of every compile blowup; compile CPU time and peak heap fitted per engine. The latest check of each:" }
    @if overview.scaling.is_empty() {
        p.muted { "No scaling check yet." }
    } @else {
        @for check in &overview.scaling {
            details.scaling {
                summary {
                    code { (check.subject) } " " (when(check.at)) ": "
                    @if check.superlinear.is_empty() { "linear" } @else { span.bad { "SUPERLINEAR: " (check.superlinear.join("; ")) } }
                }
                pre { (check.report) }
            }
        }
    }
    }
}

/// The most frequent instructions, and those of the gate's proposals seen
/// too rarely.
fn instructions(h: &Health, coverage: &CoverageGoal) -> Markup {
    let (proposals, min) = (&coverage.proposals, coverage.min);
    let mut top: Vec<(&String, &u64)> = h.instructions.iter().collect();
    top.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let most = top.first().map_or(1, |t| *t.1).max(1);
    let unseen: Vec<&str> = oracles::case::instructions::of_proposals(proposals)
        .filter(|i| h.instructions.get(&i.name).copied().unwrap_or(0) < min)
        .map(|i| i.name.as_str())
        .collect();
    html! {
    h2 { "Instruction coverage" }
    p.muted {
        "Instructions in the generated modules' code (static counts; executed counts are not measured). "
        (h.instructions.len()) " distinct instructions, " (h.instructions.values().sum::<u64>()) " in all."
    }
    @if h.instructions.is_empty() {
        p.muted { "No instruction counts recorded yet (stores written before crosscheck counted them have none)." }
    } @else if !unseen.is_empty() {
        p #unseen {
            span.bad { (unseen.len()) " instruction(s) of " (proposals.join(", ")) " seen fewer than " (min) " time(s): " }
            code { (unseen.join(" ")) }
        }
    }
    table #instructions {
        tr { th { "instruction" } th.n { "count" } th { "" } }
        @for (name, n) in top.iter().take(TOP_INSTRUCTIONS) {
            tr {
                td { code { (name) } }
                td.n { (n) }
                td { span.bar style=(format!("width:{}px", (**n * 300 / most).max(1))) {} }
            }
        }
    }
    }
}

/// `GET /findings`.
pub async fn findings(
    state: axum::extract::State<State>,
    Query(filter): Query<Filter>,
) -> Result<Markup, Failure> {
    let shown = filter.clone();
    let (list, kinds, groups) = with_store(&state, move |store, _| {
        let mut kinds: Vec<String> = store
            .findings()?
            .into_iter()
            .map(|f| f.kind.to_string())
            .collect();
        kinds.sort();
        kinds.dedup();
        Ok((filtered(store, &shown)?, kinds, store.groups()?))
    })
    .await?;
    let body = html! {
        h2 { "Groups (one trigger, one bug)" }
        table #groups {
            tr { th.n { "group" } th.n { "signatures" } th.n { "hits" } th { "open" } th { "trigger" } th { "findings" } }
            @for g in &groups {
                tr {
                    td.n { (g.id) }
                    td.n { (g.findings.len()) }
                    td.n { (g.hits()) }
                    td { @if g.is_open() { "open" } @else { "-" } }
                    td { (g.trigger) }
                    td { @for f in &g.findings { a href=(format!("/findings/{}", f.id)) { "#" (f.id) } " " } }
                }
            }
        }
        h2 { "Findings" }
        form method="get" action="/findings" {
            "kind " select name="kind" {
                option value="" { "any" }
                @for kind in &kinds { option value=(kind) selected[*kind == filter.kind] { (kind) } }
            }
            " status " select name="status" {
                option value="" { "any" }
                @for status in crate::store::Status::ALL.map(|s| s.as_str()) {
                    option value=(status) selected[status == filter.status] { (status) }
                }
            }
            " text " input type="search" name="q" value=(filter.q);
            " " button type="submit" { "Filter" }
        }
        p.muted { (list.len()) " finding(s)" }
        table #findings {
            tr { th.n { "#" } th { "kind" } th { "status" } th.n { "hits" } th { "suspect" } th.n { "shrunk" } th { "signature" } }
            @for f in &list {
                tr.breach[f.kind == oracles::judge::kind::FindingKind::Breach] {
                    td.n { a href=(format!("/findings/{}", f.id)) { (f.id) } }
                    td { (f.kind) }
                    td { (f.status) }
                    td.n { (f.hits) }
                    td { (f.suspect.as_deref().unwrap_or("-")) }
                    td.n { @if let Some(n) = f.shrunk_size { (n) " B" } @else { "-" } }
                    td { (f.signature) }
                }
            }
        }
    };
    Ok(layout("Findings", false, body))
}

/// `GET /findings/{id}`.
pub async fn finding(
    state: axum::extract::State<State>,
    Path(id): Path<i64>,
) -> Result<Markup, Failure> {
    let (d, config_superlinear) = with_store(&state, move |store, config| {
        Ok((
            FindingDetail::load(store, config, id)?,
            config.library.cost.scaling.superlinear,
        ))
    })
    .await?;
    let f: &FindingJson = &d.finding;
    let body = html! {
        table #facts {
            tr { th { "signature" } td #signature { code { (f.signature) } } }
            tr { th { "kind" } td { (f.kind) } }
            tr { th { "status" } td { (f.status) } }
            tr { th { "attribution" } td #suspect { (f.suspect.as_deref().unwrap_or("not attributed yet")) } }
            tr { th { "reproducible" } td { (f.reproducible.as_deref().unwrap_or("not re-run yet")) } }
            tr { th { "hits" } td { (f.hits) } }
            tr { th { "first seen" } td { (when(f.first_seen)) @if let Some(seed) = f.first_seed { " (seed " (seed) ")" } } }
            tr { th { "last seen" } td { (when(f.last_seen)) } }
            @if let Some(source) = &f.source { tr { th { "source" } td { (source) } } }
            @if let Some(into) = f.merged_into {
                tr { th { "merged into" } td { a href=(format!("/findings/{into}")) { "#" (into) } } }
            }
            @for (other, signature) in &d.merged_from {
                tr { th { "also seen as" } td { a href=(format!("/findings/{other}")) { "#" (other) } " " code { (signature) } } }
            }
        }
        h2 { "Reproduce" }
        table #commands {
            @for (who, command) in &d.commands { tr { td { (who) } td { code { (command) } } } }
        }
        @if let Some(bisection) = &d.bisection {
            h2 { "Releases" }
            p #bisection { (bisection.answer) " (bisected over Wasmtime " (bisection.range) ")" }
            ul { @for line in &bisection.tested { li { (line) } } }
        }
        @if !d.flips.is_empty() {
            h2 { "One setting changed" }
            ul #flips { @for flip in &d.flips { li { (flip) } } }
        }
        h2 { "What happened" }
        pre #summary { (d.summary) }
        @if let Some(check) = &d.scaling {
            h2 { "Scaling of the shrunk module" }
            @if check.superlinear.is_empty() {
                p { "No growth above size^" (config_superlinear) "." }
            } @else {
                p.bad { "Superlinear: " (check.superlinear.join("; ")) }
            }
            pre #scaling { (check.report) }
        }
        h2 {
            @if d.shrunk { "Shrunk module" } @else { "Module (not shrunk)" }
            " (" (d.module_bytes) " bytes, " a href=(format!("/findings/{}/module.wasm", f.id)) { "download" } ")"
        }
        pre #wat { (d.wat) }
        h2 { "Hit history" }
        p.muted { "Latest " (d.hit_history.len()) " of " (f.hits) "." }
        table #hits {
            tr { th { "when" } th.n { "seed" } th.n { "run" } }
            @for hit in &d.hit_history {
                tr {
                    td { (when(hit.at)) }
                    td.n { @if let Some(seed) = hit.seed { (seed) } @else { "-" } }
                    td.n { @if let Some(run) = hit.run { (run) } @else { "-" } }
                }
            }
        }
    };
    Ok(layout(&format!("Finding {}", f.id), false, body))
}

/// `GET /runs`.
pub async fn runs(state: axum::extract::State<State>) -> Result<Markup, Failure> {
    let runs: Vec<RunFigures> = with_store(&state, |store, _| Ok(all_runs(store)?)).await?;
    let body = html! {
        table #runs {
            tr { th.n { "run" } th { "started" } th { "ended" } th { "stopped by" } th.n { "cases" } th.n { "cases/s" } th.n { "new findings" } th.n { "workers" } th { "engines" } }
            @for r in &runs {
                tr {
                    td.n { (r.id) }
                    td { (when(r.started_at)) }
                    td { @if let Some(t) = r.ended_at { (when(t)) } @else { "running" } }
                    td { (r.stop_reason.as_deref().unwrap_or("-")) }
                    td.n { (r.cases) }
                    td.n { (format!("{:.1}", r.cases as f64 / r.seconds.max(1) as f64)) }
                    td.n { (r.new_findings) }
                    td.n { (r.workers) }
                    td { (r.engines) }
                }
            }
        }
    };
    Ok(layout("Runs", false, body))
}
