//! The fleet as the store sees it: each host's latest run, whether it is
//! running, stopped, or has stopped reporting (a daemon that died without
//! ending its run), its workers, cases and speed.

use super::database::Store;
use anyhow::{Context, Result};
use serde::Serialize;

/// One host's latest run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HostStatus {
    /// The host (`[daemon] host`); `-` for runs from before fleets.
    pub host: String,
    /// Its latest run.
    pub run: i64,
    /// `running`, `not reporting` (no heartbeat for longer than a lease),
    /// or `stopped (<reason>)`.
    pub state: String,
    /// Worker processes.
    pub workers: i64,
    /// Cases the run finished.
    pub cases: i64,
    /// Its cases per second, from start to last heartbeat.
    pub cases_per_second: f64,
    /// Unix seconds of its last heartbeat (checkpoint or lease renewal).
    pub last_heartbeat: i64,
}

impl HostStatus {
    /// Whether the host's daemon is fuzzing now.
    pub fn is_running(&self) -> bool {
        self.state == "running"
    }
}

impl Store {
    /// The latest run of every host, by host name. A run without an end
    /// whose heartbeat is older than `stale_after` seconds at `now` is
    /// `not reporting`.
    pub fn fleet(&self, now: i64, stale_after: i64) -> Result<Vec<HostStatus>> {
        let latest = self
            .runs_where(
                "WHERE id IN (SELECT max(id) FROM runs GROUP BY coalesce(host, '-'))",
                &[],
            )
            .context("reading the fleet's hosts")?;
        let mut hosts: Vec<HostStatus> = latest
            .into_iter()
            .map(|run| {
                let state = match (&run.ended_at, &run.stop_reason) {
                    (Some(_), reason) => {
                        format!("stopped ({})", reason.as_deref().unwrap_or("?"))
                    }
                    (None, _) if now - run.updated_at > stale_after => "not reporting".to_string(),
                    (None, _) => "running".to_string(),
                };
                let seconds = (run.updated_at - run.started_at).max(1) as f64;
                HostStatus {
                    host: run.host.unwrap_or_else(|| "-".to_string()),
                    run: run.id,
                    state,
                    workers: run.workers,
                    cases: run.cases,
                    cases_per_second: run.cases as f64 / seconds,
                    last_heartbeat: run.updated_at,
                }
            })
            .collect();
        hosts.sort_by(|a, b| a.host.cmp(&b.host));
        Ok(hosts)
    }
}
