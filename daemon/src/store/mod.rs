//! The persistent store under the data directory: findings deduplicated by
//! signature (with every seeded hit), the module of each finding on disk by
//! content hash, daemon runs, per-engine counters and the seed cursor.
//! SQLite in WAL mode with full synchronous commits: what is reported is on
//! disk, and readers (`crosscheck status`) never block the daemon.
//!
//! In: hits, runs, counters, shrunk modules and baselines from the
//! supervisor, triage and the commands. Out: findings, health windows and
//! progress for `status`, triage, the gate and the dashboard.

mod baseline;
mod bisections;
mod database;
mod findings;
mod groups;
mod health;
mod progress;
mod scaling;

pub use bisections::StoredBisection;
pub use database::{unix_now, Store};
pub use findings::{Finding, Hit, Status};
pub use groups::{Group, GroupKey};
pub use health::{HitRow, Window};
pub use progress::{Counters, Run, SeedRange};
pub use scaling::ScalingCheck;
