//! The JSON API (`/api/...`) and the data the HTML pages share with it.

use super::state::{with_store, Failure, State};
use crate::config::Config;
use crate::health::figures::{FindingJson, Health, RunFigures};
use crate::store::{HitRow, Store, StoredFinding, Window};
use crate::triage::bundle::{wasmtime_commands, wat_of, ReportModule};
use axum::extract::{Path, Query};
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Most hits a finding page lists.
const HIT_HISTORY: usize = 200;

/// The overview: the whole store's health and where the daemon is.
#[derive(Serialize)]
pub struct Overview {
    /// Figures over every run.
    pub health: Health,
    /// Cases/s per run and minute: `(Unix seconds, cases/s)`.
    pub throughput: Vec<(i64, f64)>,
    /// The running daemon's pid, if one runs on this SQLite store.
    pub daemon_pid: Option<u32>,
    /// Each host's latest run: a fleet's hosts on a PostgreSQL store.
    pub fleet: Vec<crate::store::HostStatus>,
    /// Every finding (merged ones too) by kind, then status.
    pub findings_by_kind: BTreeMap<String, BTreeMap<String, u64>>,
    /// Each engine's compile cost per instruction that outlier blowups are
    /// judged against (`oracles::cost::baseline`).
    pub baseline: oracles::cost::baseline::Baseline,
    /// The latest scaling check of every subject.
    pub scaling: Vec<crate::store::ScalingCheck>,
}

impl Overview {
    /// Reads the overview of the whole store.
    pub(super) fn load(store: &Store, config: &Config) -> anyhow::Result<Overview> {
        let health = Health::load(store, config, Window::All)?;
        let runs: Vec<i64> = health.runs.iter().map(|r| r.id).collect();
        let mut findings_by_kind: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
        for f in store.findings()? {
            *findings_by_kind
                .entry(f.kind.to_string())
                .or_default()
                .entry(f.status.to_string())
                .or_default() += 1;
        }
        Ok(Overview {
            throughput: rates(&health.runs, &store.throughput(&runs)?),
            daemon_pid: store.running_daemon(),
            fleet: store.fleet(crate::store::unix_now(), config.store.lease_seconds as i64)?,
            health,
            findings_by_kind,
            baseline: store.baseline()?,
            scaling: store.latest_scaling()?,
        })
    }
}

/// Cases/s of each `(run, minute, cases)`: a run's first and last minutes
/// count only the seconds it ran in them.
fn rates(runs: &[RunFigures], minutes: &[(i64, i64, u64)]) -> Vec<(i64, f64)> {
    minutes
        .iter()
        .map(|&(run, minute, cases)| {
            let (start, end) = runs
                .iter()
                .find(|r| r.id == run)
                .map_or((minute, minute + 60), |r| {
                    (r.started_at, r.started_at + r.seconds)
                });
            let active = (end.min(minute + 60) - start.max(minute)).clamp(1, 60);
            (minute, cases as f64 / active as f64)
        })
        .collect()
}

/// Filters of the findings list (`?kind=mismatch&status=open&q=wasmi`);
/// empty values filter nothing.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Filter {
    /// Exact kind.
    #[serde(default)]
    pub kind: String,
    /// Exact status.
    #[serde(default)]
    pub status: String,
    /// Text the signature or the suspect contains.
    #[serde(default)]
    pub q: String,
}

impl Filter {
    fn keeps(&self, f: &StoredFinding) -> bool {
        (self.kind.is_empty() || f.kind.as_str() == self.kind)
            && (self.status.is_empty() || f.status.as_str() == self.status)
            && (self.q.is_empty()
                || f.signature.contains(&self.q)
                || f.suspect.as_deref().is_some_and(|s| s.contains(&self.q)))
    }
}

/// The store's findings the filter keeps, most hit first.
pub(super) fn filtered(store: &Store, filter: &Filter) -> anyhow::Result<Vec<StoredFinding>> {
    Ok(store
        .findings()?
        .into_iter()
        .filter(|f| filter.keeps(f))
        .collect())
}

/// Everything a finding page shows.
#[derive(Serialize)]
pub struct FindingDetail {
    /// The finding.
    #[serde(flatten)]
    pub finding: FindingJson,
    /// The first case's verdict as text.
    pub summary: String,
    /// The module shown: the shrunk one when there is one.
    pub shrunk: bool,
    /// Its size in bytes.
    pub module_bytes: usize,
    /// It as WAT.
    pub wat: String,
    /// One-setting changes of the suspected engines and their outcome.
    pub flips: Vec<String>,
    /// Its newest bisection across Wasmtime releases.
    pub bisection: Option<crate::store::StoredBisection>,
    /// Findings merged into it: `(id, signature)`.
    pub merged_from: Vec<(i64, String)>,
    /// Commands that reproduce it: crosscheck's, then each Wasmtime
    /// variant's `wasmtime run` line.
    pub commands: Vec<(String, String)>,
    /// Its latest hits, newest first.
    pub hit_history: Vec<HitRow>,
    /// How its shrunk module's compile grows with size, for a blowup.
    pub scaling: Option<crate::store::ScalingCheck>,
}

impl FindingDetail {
    pub(super) fn load(store: &Store, config: &Config, id: i64) -> Result<Self, Failure> {
        let f = store
            .finding(id)?
            .ok_or_else(|| Failure::NotFound(format!("no finding {id}")))?;
        let module = ReportModule::of(store, &f)?;
        let file = format!("finding-{id}.wasm");
        let mut commands = vec![
            ("crosscheck".to_string(), format!("crosscheck repro {id}")),
            ("report".to_string(), format!("crosscheck report {id}")),
        ];
        commands.extend(wasmtime_commands(config, &f, &file, &module.wasm));
        Ok(FindingDetail {
            summary: f.summary.clone(),
            shrunk: module.shrunk_from.is_some(),
            module_bytes: module.wasm.len(),
            wat: wat_of(&module.wasm),
            flips: f
                .flips
                .as_deref()
                .map(|t| t.lines().map(str::to_string).collect())
                .unwrap_or_default(),
            bisection: module.bisection.clone(),
            merged_from: store
                .merged_from(id)?
                .into_iter()
                .map(|m| (m.id, m.signature))
                .collect(),
            commands,
            hit_history: store.hits(id, HIT_HISTORY)?,
            scaling: store.scaling_of_finding(id)?,
            finding: FindingJson::from(&f),
        })
    }
}

/// `GET /api/overview`.
pub async fn overview(state: axum::extract::State<State>) -> Result<Json<Overview>, Failure> {
    with_store(&state, |store, config| Ok(Overview::load(store, config)?))
        .await
        .map(Json)
}

/// `GET /api/findings`.
pub async fn findings(
    state: axum::extract::State<State>,
    Query(filter): Query<Filter>,
) -> Result<Json<Vec<FindingJson>>, Failure> {
    with_store(&state, move |store, _| {
        Ok(filtered(store, &filter)?
            .iter()
            .map(FindingJson::from)
            .collect())
    })
    .await
    .map(Json)
}

/// `GET /api/findings/{id}`.
pub async fn finding(
    state: axum::extract::State<State>,
    Path(id): Path<i64>,
) -> Result<Json<FindingDetail>, Failure> {
    with_store(&state, move |store, config| {
        FindingDetail::load(store, config, id)
    })
    .await
    .map(Json)
}

/// `GET /api/runs`.
pub async fn runs(state: axum::extract::State<State>) -> Result<Json<Vec<RunFigures>>, Failure> {
    with_store(&state, |store, _| Ok(all_runs(store)?))
        .await
        .map(Json)
}

/// Every run, newest first.
pub(super) fn all_runs(store: &Store) -> anyhow::Result<Vec<RunFigures>> {
    Ok(store
        .window_runs(Window::All)?
        .iter()
        .map(RunFigures::from)
        .collect())
}

/// `GET /findings/{id}/module.wasm`: the module the finding page shows.
pub async fn module(
    state: axum::extract::State<State>,
    Path(id): Path<i64>,
) -> Result<impl IntoResponse, Failure> {
    let wasm = with_store(&state, move |store, _| {
        let f = store
            .finding(id)?
            .ok_or_else(|| Failure::NotFound(format!("no finding {id}")))?;
        Ok(ReportModule::of(store, &f)?.wasm)
    })
    .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/wasm".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"finding-{id}.wasm\""),
            ),
        ],
        wasm,
    ))
}
