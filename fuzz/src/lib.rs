//! What the fuzz targets share: the settings and the matrix, built once per
//! process from `CROSSCHECK_CONFIG` (default: the workspace's config.toml),
//! the panic hook that keeps engine panics the matrix catches from aborting
//! the process, and how a finding stops the fuzzer.

use oracles::config::LibraryConfig;
use oracles::{Finding, Matrix};
use std::sync::LazyLock;

static SETUP: LazyLock<(LibraryConfig, Matrix)> = LazyLock::new(|| {
    let settings = LibraryConfig::from_environment().unwrap_or_else(|e| panic!("{e:#}"));
    let matrix = settings.matrix().unwrap_or_else(|e| panic!("{e:#}"));
    (settings, matrix)
});

/// For the targets' `init`: libfuzzer-sys aborts on every panic, even one
/// the matrix catches and reports as a crash verdict of its engine;
/// oracles' hook keeps those quiet (known engine panics can then be
/// suppressed) and passes every other panic on to libfuzzer's abort. The
/// settings and the matrix are built here, before the first input.
pub fn init() {
    oracles::engine::panics::install_hook();
    LazyLock::force(&SETUP);
}

/// The settings and the matrix of this process.
pub fn setup() -> &'static (LibraryConfig, Matrix) {
    &SETUP
}

/// Stops the fuzzer (a panic libFuzzer saves the input for) on the first
/// of `findings` that no suppression rule of the settings covers, with the
/// signature the daemon would record (a breach always): `crosscheck
/// import` takes the input into the store as that same finding, running it
/// in worker processes. An engine that takes this process down kills the
/// fuzzer; libFuzzer saves the input, and `crosscheck import` reproduces
/// it with every engine's outcome.
pub fn stop_on_new(findings: &[Finding], wasm: &[u8]) {
    let (settings, _) = setup();
    for finding in findings {
        // A possible sandbox escape is never a known bug.
        let known = finding.kind != oracles::judge::kind::FindingKind::Breach
            && settings
                .triage
                .suppression_for(&finding.signature, finding.suspect.as_deref(), wasm)
                .is_some();
        if !known {
            panic!(
                "crosscheck finding: {}\n{}\nreproduce it in worker processes, every engine's outcome kept: \
                 crosscheck import <the input libFuzzer saves below>",
                finding.signature, finding.summary
            );
        }
    }
}
