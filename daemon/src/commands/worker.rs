//! `crosscheck worker` (hidden): the process the daemon's supervisor and the
//! prober start; its loop is `process::worker`.

use crate::config::Config;
use anyhow::Result;
use std::process::ExitCode;

/// Runs orders from stdin until stdin closes.
pub fn run(config: &Config) -> Result<ExitCode> {
    crate::process::worker::run(config)
}
