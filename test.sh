#!/usr/bin/env bash
# The test suite, the README's second command; CI (.ci/run) runs it too. On
# a fresh machine it first installs what the tests need beyond Rust and
# crates.io: Debian's headless Chromium, for the dashboard's browser test
# (skipped here when $CHROMIUM names another one).
set -euo pipefail
cd "$(dirname "$0")"
if [ -z "${CHROMIUM:-}" ] && ! command -v chromium >/dev/null; then
    echo "== installing chromium (Debian package) for the dashboard's browser test"
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get install -y -q chromium >/dev/null ||
        { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q chromium >/dev/null; }
fi
# The fuzz crate has no tests, and building it would switch wasmi to its
# portable dispatch for everything (fuzz/Cargo.toml says why it needs it).
exec cargo test --workspace --exclude crosscheck-fuzz --locked "$@"
