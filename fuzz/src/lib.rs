//! What the fuzz targets share: the case settings and the matrix, built
//! once per process from `CROSSCHECK_CONFIG` (default: the workspace's
//! config.toml), and the panic hook that keeps engine panics the matrix
//! catches from aborting the process.

use oracles::settings::CaseSettings;
use oracles::Matrix;
use std::sync::LazyLock;

static SETUP: LazyLock<(CaseSettings, Matrix)> = LazyLock::new(|| {
    let settings = CaseSettings::from_environment().unwrap_or_else(|e| panic!("{e:#}"));
    let matrix = settings.matrix().unwrap_or_else(|e| panic!("{e:#}"));
    (settings, matrix)
});

/// For the targets' `init`: libfuzzer-sys aborts on every panic, even one
/// the matrix catches and reports as a crash verdict of its engine;
/// oracles' hook keeps those quiet (known engine panics can then be
/// suppressed) and passes every other panic on to libfuzzer's abort. The
/// settings and the matrix are built here, before the first input.
pub fn init() {
    oracles::panics::install_hook();
    LazyLock::force(&SETUP);
}

/// The settings and the matrix of this process.
pub fn setup() -> &'static (CaseSettings, Matrix) {
    &SETUP
}
