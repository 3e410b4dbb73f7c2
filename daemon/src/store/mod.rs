//! The persistent store: findings deduplicated by signature (with every
//! seeded hit), the module of each finding by content hash, daemon runs,
//! per-engine counters and the seed cursor with its leased ranges. SQLite
//! in the data directory (WAL mode, full synchronous commits: what is
//! reported is on disk, and readers never block the daemon), or a fleet's
//! PostgreSQL database (`[store] url`), through one SQL interface (`sql`).
//!
//! In: hits, runs, counters, shrunk modules and baselines from the
//! supervisor, triage and the commands. Out: findings, health windows and
//! progress for `status`, triage, the gate and the dashboard.

mod baseline;
mod bisections;
mod copy;
mod database;
mod findings;
mod fleet;
mod groups;
mod health;
mod progress;
mod scaling;
mod sql;

pub use bisections::StoredBisection;
pub use database::{unix_now, Store};
pub use findings::{is_flaky, is_suppressed, Hit, Recorded, Status, StoredFinding};
pub use fleet::HostStatus;
pub use groups::{Group, GroupKey};
pub use health::{HitRow, Window};
pub use progress::{Counters, Run, SeedRange};
pub use scaling::ScalingCheck;
pub use sql::redact;
