#!/usr/bin/env bash
# The test suite, the README's second command; CI (.ci/run) runs it too. On
# a fresh machine it first installs what the tests need beyond Rust and
# crates.io: Debian's headless Chromium, for the dashboard's browser test
# (skipped here when $CHROMIUM names another one), and Debian's PostgreSQL
# server, which the fleet tests start in temporary directories (the
# package's own cluster service is not needed and not started).
set -euo pipefail
cd "$(dirname "$0")"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
install_package() {
    $sudo apt-get install -y -q "$@" >/dev/null ||
        { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q "$@" >/dev/null; }
}
if [ -z "${CHROMIUM:-}" ] && ! command -v chromium >/dev/null; then
    echo "== installing chromium (Debian package) for the dashboard's browser test"
    install_package chromium
fi
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    echo "== installing postgresql (Debian package) for the fleet store's tests"
    install_package postgresql
fi
if ! python3 -m pip --version >/dev/null 2>&1; then
    echo "== installing python3-pip (Debian package): the newest Wasmtime release's C API library comes from its wheel"
    install_package python3-pip
fi
# The fuzz crate has no tests, and building it would switch wasmi to its
# portable dispatch for everything (fuzz/Cargo.toml says why it needs it).
exec cargo test --workspace --exclude crosscheck-fuzz --locked "$@"
