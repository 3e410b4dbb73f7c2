//! The stages put together: one case end to end (seed → module → plan →
//! matrix → verdict), the findings a case gives (its verdict's and its
//! costs'), the native stack cases run on, and one engine served to a
//! crosscheck of another Wasmtime release.
//!
//! In: a seed or a module, the [`LibraryConfig`](crate::config::LibraryConfig) and
//! a [`Matrix`](crate::engine::matrix::Matrix). Out: a
//! [`SeedReport`](run::SeedReport) and its findings, which the daemon's
//! workers, `sweep --record`, `import` and the fuzz targets all record or
//! report the same way.

pub mod findings;
pub mod run;
pub mod serve_engine;
pub mod stack;
