#!/usr/bin/env bash
# The fuzz targets in CI: build both on stable without a sanitizer, run each
# for a bounded time on the default matrix (known wasmi bugs suppressed by
# fuzz/known-bugs.toml), then the round trip with the fault-injected engine
# switched on: `differential` must find it, and `crosscheck import` must
# turn the artifact into a finding with the signature the target printed,
# the same text the daemon records.
#
#   FUZZ_SECONDS   seconds per target on the default matrix (default 60)
#   CROSSCHECK     the crosscheck binary (default target/release/crosscheck)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
crosscheck=${CROSSCHECK:-target/release/crosscheck}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cargo fuzz build -s none differential
cargo fuzz build -s none compile_cost

# corpus/ is the seed corpus: its files are inputs like any other (a module
# file's bytes become wasm-smith entropy); new inputs go to $work.
for target in differential compile_cost; do
    mkdir -p "$work/$target" "$work/artifacts-$target"
    echo "== $target: ${seconds}s on the default matrix"
    CROSSCHECK_CONFIG=fuzz/known-bugs.toml cargo fuzz run -s none "$target" \
        "$work/$target" corpus -- \
        -max_total_time="$seconds" -timeout=60 -rss_limit_mb=4096 \
        -artifact_prefix="$work/artifacts-$target/" 2>&1 | tail -n 5
done

echo "== differential with wasmi-fault-i64-mul switched on"
fault="$work/fault.toml"
sed 's/^    "cranelift-notail-explicit+nofuel",$/    "cranelift-notail-explicit+nofuel",\n    "wasmi-fault-i64-mul",/' \
    fuzz/known-bugs.toml > "$fault"
printf '[store]\ndata_dir = "%s"\n' "$work/store" >> "$fault"
grep -q wasmi-fault-i64-mul "$fault"
mkdir -p "$work/fault" "$work/artifacts-fault"
# Seeded with the daemon's first 64 inputs (`crosscheck seed-corpus`: full-
# size entropy, so the target starts from the daemon's distribution instead
# of growing inputs from a few bytes, which on a slow machine may take longer
# than the limit) and with what the default run found.
"$crosscheck" seed-corpus --seeds 0..64 "$work/daemon-seeds"
if CROSSCHECK_CONFIG="$fault" cargo fuzz run -s none differential "$work/fault" \
    "$work/daemon-seeds" "$work/differential" corpus -- -len_control=0 \
    -max_total_time=300 -timeout=60 -rss_limit_mb=4096 \
    -artifact_prefix="$work/artifacts-fault/" > "$work/fault.log" 2>&1; then
    echo "differential did not find the injected fault in 300 s" >&2
    tail -n 20 "$work/fault.log" >&2
    exit 1
fi
found=$(sed -n 's/^.*crosscheck finding: //p' "$work/fault.log" | head -n 1)
artifact=$(ls "$work"/artifacts-fault/crash-* | head -n 1)
echo "the target found: $found"
echo "artifact: $artifact"
case "$found" in
*wasmi-fault-i64-mul*) ;;
*) echo "the finding does not involve the injected fault" >&2; exit 1 ;;
esac

# The daemon on the same configuration, then the artifact imported into its
# store: the import's signature is the target's, and a signature the daemon
# already has is a hit of its finding, not a new one.
"$crosscheck" --config "$fault" run --cases 200 2> "$work/run.log"
"$crosscheck" --config "$fault" import --no-shrink "$artifact" | tee "$work/import.log"
# Import records every finding of the case (a known wasmi bug before the
# fault, say); the target stopped at the first no rule covers.
imported=$(sed -n -E 's/^[^:]*: (new |suppressed )?finding [0-9]+( again \([0-9]+ hits\))?: //p' "$work/import.log")
echo "imported as: $imported"
if ! printf '%s\n' "$imported" | grep -qxF -- "$found"; then
    echo "crosscheck import recorded '$imported', the target found '$found'" >&2
    exit 1
fi
if "$crosscheck" --config "$fault" findings | grep -qF -- "$found"; then
    echo "the store holds it: $("$crosscheck" --config "$fault" findings | grep -F -- "$found")"
fi
echo "fuzz targets: ok"
