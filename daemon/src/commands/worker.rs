//! `crosscheck worker` (hidden): the process the daemon's supervisor and the
//! prober start; its loop is `process::worker_loop`.

use crate::config::Config;
use anyhow::Result;
use std::process::ExitCode;

/// Runs orders from stdin until stdin closes.
pub fn run(config: &Config) -> Result<ExitCode> {
    crate::process::worker_loop::run(config)
}
