//! The key of counters that count per case rather than per engine.

/// The engine name under which per-case totals are counted.
pub const ALL_ENGINES: &str = "*";
