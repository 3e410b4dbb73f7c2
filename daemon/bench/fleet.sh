#!/usr/bin/env bash
# The fleet benchmark of docs/benchmarks.md: two daemons with one worker
# each on one PostgreSQL store against one daemon with two workers on the
# SQLite store, each for SECONDS from the same first seed of the default
# matrix (so both run the same seeds, as far as each gets); cases/s of
# each as the daemons count them (finished ranges), their ratio, and what
# the fleet wrote to PostgreSQL per case (transactions, rows, WAL bytes).
# A run for a duration, not a case count: overnight a fleet never waits
# for its slowest daemon to finish a quota. It makes its own server with
# Debian's postgresql (initdb in a temporary directory, 127.0.0.1, a free
# port) and stops it at the end.
#
#   CROSSCHECK=target/debug/crosscheck SECONDS_EACH=120 daemon/bench/fleet.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$(realpath "${CROSSCHECK:-target/release/crosscheck}")
seconds=${SECONDS_EACH:-120}
work=$(mktemp -d /tmp/crosscheck-bench-fleet.XXXXXX)
chmod 755 "$work"
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
as_server() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
mkdir "$work/pg"
echo bench-secret >"$work/pg/password"
if [ "$(id -u)" -eq 0 ]; then chown -R postgres:postgres "$work/pg"; fi
as_server "$pgbin/initdb" -D "$work/pg/cluster" -U crosscheck --auth=scram-sha-256 \
    --pwfile="$work/pg/password" -E UTF8 >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
as_server "$pgbin/pg_ctl" -D "$work/pg/cluster" -l "$work/pg/server.log" \
    -o "-p $port -k $work/pg -c listen_addresses=127.0.0.1" -w start >/dev/null
stop() { as_server "$pgbin/pg_ctl" -D "$work/pg/cluster" -m fast stop >/dev/null || true; }
trap stop EXIT
export PGPASSWORD=bench-secret
sql() { psql -h 127.0.0.1 -p "$port" -U crosscheck -d "$1" -At -c "$2"; }
sql postgres "CREATE DATABASE bench" >/dev/null
url="postgres://crosscheck:bench-secret@127.0.0.1:$port/bench"

# The default configuration, with its own data directory, no dashboard,
# and no background triage: on one machine, two daemons would shrink two
# findings at once where one daemon shrinks one, which measures the CPU of
# triage, not the store.
configure() { # name url host
    sed -e "s|^data_dir = .*|data_dir = \"$work/$1\"|" \
        -e "s|^background = .*|background = false|" \
        -e "s|^url = .*|url = \"$2\"|" \
        -e "s|^host = .*|host = \"$3\"|" \
        -e "s|^address = .*|address = \"\"|" config.toml >"$work/$1.toml"
}
now() { date +%s.%N; }
calc() { awk "BEGIN { print $* }"; }

configure sqlite "" solo
"$bin" --config "$work/sqlite.toml" run --duration "${seconds}s" --workers 2 >/dev/null 2>"$work/sqlite.log"
sqlite_cases=$("$bin" --config "$work/sqlite.toml" status --json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["counters"]["*"]["cases"])')

configure a "$url" host-a
configure b "$url" host-b
# The schema first, so that both daemons start fuzzing at once.
"$bin" --config "$work/a.toml" run --cases 1 --workers 1 >/dev/null 2>&1
read -r commits_before rows_before wal_before < <(sql bench \
    "SELECT xact_commit, tup_inserted + tup_updated + tup_deleted, pg_current_wal_lsn() - '0/0'
     FROM pg_stat_database WHERE datname = 'bench'" | tr '|' ' ')
"$bin" --config "$work/a.toml" run --duration "${seconds}s" --workers 1 >/dev/null 2>"$work/a.log" &
first=$!
"$bin" --config "$work/b.toml" run --duration "${seconds}s" --workers 1 >/dev/null 2>"$work/b.log" &
second=$!
wait $first
wait $second
sleep 2 # the statistics of the daemons' sessions are flushed when they end
read -r commits_after rows_after wal_after < <(sql bench \
    "SELECT xact_commit, tup_inserted + tup_updated + tup_deleted, pg_current_wal_lsn() - '0/0'
     FROM pg_stat_database WHERE datname = 'bench'" | tr '|' ' ')
fleet_cases=$(sql bench "SELECT coalesce(sum(cases), 0) FROM runs WHERE id > 1")
findings_pg=$(sql bench "SELECT count(*) FROM findings")

sqlite_rate=$(calc "$sqlite_cases / $seconds")
fleet_rate=$(calc "$fleet_cases / $seconds")
printf '%d s each, from seed 0, the default matrix, no background triage\n' "$seconds"
printf '1 daemon x 2 workers, SQLite:     %6d cases  %6.1f cases/s\n' "$sqlite_cases" "$sqlite_rate"
printf '2 daemons x 1 worker, PostgreSQL: %6d cases  %6.1f cases/s  (%d findings)\n' \
    "$fleet_cases" "$fleet_rate" "$findings_pg"
printf 'ratio fleet/SQLite: %.1f%%\n' "$(calc "100 * $fleet_rate / $sqlite_rate")"
printf 'PostgreSQL writes per case: %.3f transactions, %.2f rows, %.0f WAL bytes\n' \
    "$(calc "($commits_after - $commits_before) / $fleet_cases")" \
    "$(calc "($rows_after - $rows_before) / $fleet_cases")" \
    "$(calc "($wal_after - $wal_before) / $fleet_cases")"
stop
trap - EXIT
rm -rf "$work"
