//! Several daemons, one PostgreSQL store, on a real server: seeds leased
//! once across the fleet, findings and hits shared, a killed daemon's
//! seeds taken over, the store moved from SQLite and back, every command
//! on the fleet's store, and bad URLs, credentials and schemas refused.

mod common;

use common::postgres::Postgres;
use common::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The first seed of the tests' stores: the fault's first exposure is
/// seed 118.
const FIRST_SEED: u64 = 100;

/// A complete config for one daemon of a fleet: `url` empty for SQLite.
fn fleet_config(dir: &Path, name: &str, url: &str, host: &str, extra: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let text = format!(
        "[matrix]\noracle = \"wasmi\"\nengines = [\"wasmi-fault-i64-mul\"]\n\
         [store]\ndata_dir = {:?}\nurl = {url:?}\nlease_seconds = 3\nreconnect_seconds = 60\n\
         [daemon]\nworkers = 1\nfirst_seed = {FIRST_SEED}\nhost = {host:?}\n{extra}\n\
         [log]\nlevel = \"warn,crosscheck::process::supervisor=debug,crosscheck::process::write_behind=info,crosscheck::triage=info\"\nformat = \"json\"\n\
         [dashboard]\naddress = \"\"\n[triage]\ndrain_seconds = 0\n",
        dir.join(format!("data-{name}")).display().to_string(),
    );
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

/// The seed ranges a daemon's log says it took, `(start, end)`.
fn taken_ranges(stderr: &str) -> Vec<(u64, u64)> {
    stderr
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|event| event["message"] == "seeds taken")
        .map(|event| {
            (
                event["start"].as_u64().unwrap(),
                event["end"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// What a daemon's log says its background triage did:
/// `(finding, timestamp, took on)`, taking on or giving up a finding.
fn triage_events(stderr: &str) -> Vec<(u64, String, bool)> {
    stderr
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter_map(|event| {
            let message = event["message"].as_str()?;
            let took = message.starts_with("triaging finding");
            let gave_up = message.starts_with("gave up triaging finding");
            (took || gave_up).then(|| {
                (
                    event["finding"].as_u64().unwrap(),
                    event["timestamp"].as_str().unwrap().to_string(),
                    took,
                )
            })
        })
        .collect()
}

/// Checks that two daemons never triaged one finding at once: a finding
/// both took on was given up by the first before the second took it.
/// Returns the findings each took on.
fn triaged_once(a: &str, b: &str) -> (BTreeSet<u64>, BTreeSet<u64>) {
    let (a, b) = (triage_events(a), triage_events(b));
    let took = |events: &[(u64, String, bool)]| -> BTreeSet<u64> {
        events.iter().filter(|e| e.2).map(|e| e.0).collect()
    };
    for finding in took(&a).intersection(&took(&b)) {
        let mut all: Vec<&(u64, String, bool)> =
            a.iter().chain(&b).filter(|e| e.0 == *finding).collect();
        all.sort_by(|x, y| x.1.cmp(&y.1));
        // Taken, given up, taken, ...: never taken twice in a row.
        for pair in all.windows(2) {
            assert!(
                !(pair[0].2 && pair[1].2),
                "finding {finding} was taken on by both daemons at once: {all:?}"
            );
        }
    }
    (took(&a), took(&b))
}

/// Signature -> hits of a status's verdict findings (measured costs vary
/// with the machine's load from one run to the next).
fn hits_by_signature(status: &Value) -> BTreeMap<String, u64> {
    findings(status)
        .iter()
        .filter(|f| {
            ![
                "compile-time",
                "compile-memory",
                "perf",
                "compile-regression",
            ]
            .contains(&f["kind"].as_str().unwrap())
        })
        .map(|f| {
            (
                f["signature"].as_str().unwrap().to_string(),
                f["hits"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// A test's directory, a fresh server in it, and the URL of an empty
/// database `db` there.
fn fleet_store(test: &str, db: &str) -> (PathBuf, Postgres, String) {
    let dir = temp_dir(test);
    let server = Postgres::start(&dir.join("pg"));
    server.create_db(db);
    let url = server.url(db);
    (dir, server, url)
}

/// Runs `args` on two daemons' configs at once; both must succeed.
fn run_both(a: &Path, b: &Path, args: &[&str]) -> (std::process::Output, std::process::Output) {
    let (first, second) = (spawn(a, args), spawn(b, args));
    let (first, second) = (
        first.wait_with_output().unwrap(),
        second.wait_with_output().unwrap(),
    );
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    assert_eq!(second.status.code(), Some(0), "{}", text(&second.stderr));
    (first, second)
}

/// The one number a query of the test's database gives.
fn one_number(client: &mut ::postgres::Client, sql: &str) -> i64 {
    client.query_one(sql, &[]).unwrap().get(0)
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn two_daemons_share_one_store_each_seed_once_and_agree_with_one_daemon_on_sqlite() {
    let (dir, server, url) = fleet_store("fleet-two", "fleet");
    let a = fleet_config(&dir, "a", &url, "host-a", "");
    let b = fleet_config(&dir, "b", &url, "host-b", "");
    // Both start together: the schema is made once, under a lock.
    let (first, second) = run_both(&a, &b, &["run", "--cases", "200"]);
    // Background triage claims each finding in the store: no finding is
    // triaged by both daemons at once.
    triaged_once(&text(&first.stderr), &text(&second.stderr));
    let mut ranges = taken_ranges(&text(&first.stderr));
    let from_b = taken_ranges(&text(&second.stderr));
    assert!(
        !ranges.is_empty() && !from_b.is_empty(),
        "both daemons fuzzed"
    );
    ranges.extend(from_b);
    ranges.sort();
    // The union of their seeds is exactly the cursor's range, each once.
    let mut next = FIRST_SEED;
    for (start, end) in &ranges {
        assert_eq!(*start, next, "a gap or an overlap at {start}: {ranges:?}");
        next = *end;
    }
    assert_eq!(next, FIRST_SEED + 400);
    let fleet = status(&a);
    assert_eq!(fleet["next_seed"], FIRST_SEED + 400);
    assert_eq!(fleet["unfinished_seeds"], 0);
    assert_eq!(counter(&fleet, "*", "cases"), 400);
    assert_consistent_from(&fleet, FIRST_SEED);
    let hosts: Vec<&str> = fleet["fleet"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["host"].as_str().unwrap())
        .collect();
    assert_eq!(hosts, ["host-a", "host-b"]);
    // Every hit once: the same findings and hits as one daemon with two
    // workers on SQLite over the same seeds.
    let alone = fleet_config(&dir, "alone", "", "solo", "");
    let mut text_two_workers = std::fs::read_to_string(&alone).unwrap();
    text_two_workers = text_two_workers.replace("workers = 1", "workers = 2");
    std::fs::write(&alone, text_two_workers).unwrap();
    let run = crosscheck(&alone, &["run", "--cases", "400"]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    let single = status(&alone);
    assert!(!hits_by_signature(&single).is_empty(), "{single:#}");
    assert_eq!(hits_by_signature(&fleet), hits_by_signature(&single));
    let mut client = server.client("fleet");
    let hit_rows: i64 = one_number(&mut client, "SELECT count(*) FROM hits");
    let distinct: i64 = one_number(
        &mut client,
        "SELECT count(*) FROM (SELECT DISTINCT finding, seed FROM hits) h",
    );
    assert_eq!(hit_rows, distinct);
    assert_eq!(
        hit_rows as u64,
        hits_by_signature(&fleet).values().sum::<u64>()
    );
    // Every finding's module is in the database.
    let missing: i64 = one_number(
        &mut client,
        "SELECT count(*) FROM findings WHERE artifact NOT IN (SELECT hash FROM modules)",
    );
    assert_eq!(missing, 0);
    let still_claimed: i64 = one_number(
        &mut client,
        "SELECT count(*) FROM findings WHERE claimed_by IS NOT NULL AND reproducible IS NULL",
    );
    assert_eq!(still_claimed, 0);
    // Both daemons again, for a while, on the findings they left
    // untriaged: background triage claims each finding in the store, so
    // each daemon takes on its own.
    let untriaged: i64 = one_number(
        &mut client,
        "SELECT count(*) FROM findings WHERE status = 'open' AND reproducible IS NULL",
    );
    assert!(untriaged >= 2, "{untriaged} findings to triage");
    let (first, second) = run_both(&a, &b, &["run", "--duration", "40s"]);
    let (by_a, by_b) = triaged_once(&text(&first.stderr), &text(&second.stderr));
    assert!(
        !by_a.is_empty() && !by_b.is_empty(),
        "each daemon takes on its own: {by_a:?} and {by_b:?}"
    );
}

#[test]
fn a_daemon_killed_mid_run_loses_nothing_and_its_seeds_are_finished_by_the_other() {
    let (dir, server, url) = fleet_store("fleet-kill", "fleet");
    let a = fleet_config(&dir, "a", &url, "host-a", "batch_size = 64");
    let b = fleet_config(&dir, "b", &url, "host-b", "batch_size = 16");
    let mut victim = spawn(&a, &["run"]);
    // Until the victim has committed a finding and holds seeds.
    let mut client = server.client("fleet");
    wait_for("a finding of host-a", Duration::from_secs(120), || {
        client
            .query_one(
                "SELECT count(*) FROM findings f JOIN hits h ON h.finding = f.id
                 JOIN runs r ON r.id = h.run WHERE r.host = 'host-a'",
                &[],
            )
            .map(|row| row.get::<_, i64>(0) > 0)
            .unwrap_or(false)
    });
    victim.kill().unwrap();
    victim.wait().unwrap();
    let committed: Vec<(String, i64)> = client
        .query("SELECT signature, hits FROM findings", &[])
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    let held: i64 = one_number(&mut client, "SELECT count(*) FROM pending");
    assert!(held > 0, "the killed daemon held seeds");
    let cursor: i64 = one_number(
        &mut client,
        "SELECT value FROM state WHERE key = 'next_seed'",
    );
    // Once its lease has run out, the killed daemon shows as not reporting.
    std::thread::sleep(Duration::from_secs(4));
    let silent = status(&b);
    let state_of_a = |status: &Value| {
        status["fleet"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["host"] == "host-a")
            .map(|h| h["state"].clone())
    };
    assert_eq!(state_of_a(&silent).unwrap(), "not reporting", "{silent:#}");
    let shown = text(&crosscheck(&b, &["status"]).stdout);
    assert!(
        shown.contains("host-a") && shown.contains("not reporting"),
        "{shown}"
    );
    // The survivor fuzzes until the killed daemon's seeds are finished: its
    // lease of 3 s runs out, and the survivor takes them over.
    let mut taken = Vec::new();
    let started = Instant::now();
    loop {
        let out = crosscheck(&b, &["run", "--cases", "48"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        taken.extend(taken_ranges(&text(&out.stderr)));
        let left: i64 = client
            .query_one("SELECT count(*) FROM pending WHERE start < $1", &[&cursor])
            .unwrap()
            .get(0);
        if left == 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "never taken over"
        );
    }
    assert!(
        taken.iter().any(|(start, _)| (*start as i64) < cursor),
        "the survivor took over the killed daemon's seeds: {taken:?}"
    );
    let fleet = status(&b);
    assert_eq!(fleet["unfinished_seeds"], 0, "{fleet:#}");
    assert_eq!(
        counter(&fleet, "*", "cases") + FIRST_SEED,
        fleet["next_seed"].as_u64().unwrap()
    );
    assert_consistent_from(&fleet, FIRST_SEED);
    let now: BTreeMap<String, u64> = findings(&fleet)
        .iter()
        .map(|f| {
            (
                f["signature"].as_str().unwrap().to_string(),
                f["hits"].as_u64().unwrap(),
            )
        })
        .collect();
    for (signature, hits) in committed {
        assert!(
            now.get(&signature).copied().unwrap_or(0) >= hits as u64,
            "{signature} lost hits"
        );
    }
    // The next daemon to start closed the silent run as killed.
    assert_eq!(state_of_a(&fleet).unwrap(), "stopped (killed)", "{fleet:#}");
}

#[test]
fn a_store_copied_to_postgres_and_back_reads_the_same() {
    let (dir, _server, url) = fleet_store("fleet-copy", "copy");
    let sqlite = fleet_config(&dir, "sqlite", "", "solo", "");
    let run = crosscheck(&sqlite, &["run", "--cases", "150"]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    let shrink = crosscheck(&sqlite, &["triage", "--pending"]);
    assert_eq!(shrink.status.code(), Some(0), "{}", text(&shrink.stderr));
    let before = status(&sqlite);
    assert!(!findings(&before).is_empty());
    let data = dir.join("data-sqlite");
    let copy_to_fleet = || {
        crosscheck(
            &sqlite,
            &[
                "store",
                "copy",
                "--from",
                data.to_str().unwrap(),
                "--to",
                &url,
            ],
        )
    };
    let copy = copy_to_fleet();
    assert_eq!(copy.status.code(), Some(0), "{}", text(&copy.stderr));
    assert!(
        text(&copy.stdout).contains("findings"),
        "{}",
        text(&copy.stdout)
    );
    // A second copy into the same store is refused: nothing is doubled.
    let again = copy_to_fleet();
    assert_eq!(again.status.code(), Some(2));
    assert!(text(&again.stderr).contains("already holds findings"));
    let pg = fleet_config(&dir, "pg", &url, "solo", "");
    let moved = status(&pg);
    let comparable = |s: &Value| {
        (
            s["findings"].clone(),
            s["counters"].clone(),
            s["next_seed"].clone(),
            s["runs"].clone(),
        )
    };
    assert_eq!(comparable(&moved), comparable(&before));
    // The shrunk modules came along: the fleet's store serves them.
    let shrunk = findings(&moved)
        .into_iter()
        .find(|f| !f["shrunk_size"].is_null())
        .expect("a shrunk finding");
    let id = shrunk["id"].to_string();
    let repro = crosscheck(&pg, &["repro", &id]);
    assert_eq!(repro.status.code(), Some(1), "{}", text(&repro.stdout));
    // And back into a new SQLite store.
    let home = dir.join("home");
    let back = crosscheck(
        &pg,
        &[
            "store",
            "copy",
            "--from",
            &url,
            "--to",
            home.to_str().unwrap(),
        ],
    );
    assert_eq!(back.status.code(), Some(0), "{}", text(&back.stderr));
    let home_config = fleet_config(&dir, "home", "", "solo", "");
    let mut home_text = std::fs::read_to_string(&home_config).unwrap();
    home_text = home_text.replace(
        &format!("{:?}", dir.join("data-home").display().to_string()),
        &format!("{:?}", home.display().to_string()),
    );
    std::fs::write(&home_config, home_text).unwrap();
    assert_eq!(comparable(&status(&home_config)), comparable(&before));
}

#[test]
fn every_command_works_on_the_fleet_store() {
    let (dir, _server, url) = fleet_store("fleet-commands", "commands");
    let config = fleet_config(&dir, "pg", &url, "solo", "");
    let run = crosscheck(&config, &["run", "--cases", "100"]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    let first = findings(&status(&config))[0]["id"].to_string();
    let ok = |args: &[&str], code: i32| -> String {
        let out = crosscheck(&config, args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{args:?}: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        text(&out.stdout)
    };
    assert!(ok(&["status"], 0).contains("store postgres://crosscheck:***@127.0.0.1"));
    assert!(ok(&["findings"], 0).contains("wasmi-fault-i64-mul"));
    assert!(ok(&["findings", "show", &first], 0).contains("signature:"));
    ok(&["triage", "--pending"], 0);
    assert!(ok(&["shrink", &first, "--attempts", "20"], 0).contains("bytes ->"));
    ok(&["repro", &first], 1);
    assert!(ok(&["replay"], 0).contains("reproduce"));
    assert!(ok(&["report", &first], 0).contains("wasmtime"));
    ok(
        &[
            "bundle",
            &first,
            "--out",
            dir.join("bundle").to_str().unwrap(),
        ],
        0,
    );
    assert!(dir.join("bundle").join("repro.sh").exists());
    ok(&["group"], 0);
    ok(&["mark", &first, "ignored"], 0);
    assert!(ok(&["findings", "show", &first], 0).contains("ignored"));
    // The gate judges the fleet's store: the open finding fails it.
    let verdict = dir.join("gate.json");
    let gate = crosscheck(&config, &["gate", "--json", verdict.to_str().unwrap()]);
    assert_eq!(gate.status.code(), Some(1), "{}", text(&gate.stderr));
    assert!(
        text(&gate.stdout).contains("hosts: solo (stopped (cases)"),
        "{}",
        text(&gate.stdout)
    );
    let judged: Value = serde_json::from_slice(&std::fs::read(&verdict).unwrap()).unwrap();
    assert!(judged.to_string().contains("open"), "{judged:#}");
    assert_eq!(judged["hosts"][0]["host"], "solo");
    let imported = dir.join("imported.wat");
    std::fs::write(
        &imported,
        "(module (func (export \"f\") (result i64) i64.const 3 i64.const 5 i64.mul))",
    )
    .unwrap();
    assert!(ok(&["import", imported.to_str().unwrap()], 0).contains("finding"));
    // The dashboard and /metrics read the fleet's store.
    let serve = spawn(&config, &["serve", "--address", "127.0.0.1:0"]);
    let mut serve = KillOnDrop(serve);
    let address = dashboard_address(&mut serve.0);
    let metrics = ureq::get(format!("http://{address}/metrics"))
        .call()
        .unwrap()
        .into_body()
        .read_to_string()
        .unwrap();
    assert!(
        metrics.contains("crosscheck_host_up{host=\"solo\"} 0"),
        "{metrics}"
    );
    assert!(metrics.contains("crosscheck_cases_total 100"), "{metrics}");
    let page = ureq::get(format!("http://{address}/"))
        .call()
        .unwrap()
        .into_body()
        .read_to_string()
        .unwrap();
    assert!(page.contains("solo"), "{page}");
}

#[test]
fn bad_urls_credentials_and_newer_schemas_are_refused_by_name() {
    let (dir, server, _) = fleet_store("fleet-bad", "bad");
    let refused = |url: &str| -> String {
        let config = fleet_config(&dir, "bad", url, "solo", "");
        let out = crosscheck(&config, &["status"]);
        assert_eq!(out.status.code(), Some(2), "{url}");
        text(&out.stderr)
    };
    let wrong_password = server
        .url("bad")
        .replace(common::postgres::PASSWORD, "nope");
    let err = refused(&wrong_password);
    assert!(err.contains("password authentication failed"), "{err}");
    assert!(!err.contains("nope"), "the password is not printed: {err}");
    let err = refused("mysql://crosscheck@127.0.0.1/bad");
    assert!(err.contains("not a PostgreSQL URL"), "{err}");
    let err = refused(&format!(
        "postgres://crosscheck:x@127.0.0.1:{}/bad",
        common::postgres::free_port()
    ));
    assert!(err.contains("cannot connect to the store"), "{err}");
    let err = refused(&server.url("missing"));
    assert!(err.contains("missing"), "{err}");
    // A store that does not exist yet is not made by a reader.
    let err = refused(&server.url("bad"));
    assert!(err.contains("no crosscheck store"), "{err}");
    // One made by a newer crosscheck is refused, and left as it is.
    let config = fleet_config(&dir, "good", &server.url("bad"), "solo", "");
    let run = crosscheck(&config, &["run", "--cases", "5"]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    server
        .client("bad")
        .batch_execute("UPDATE crosscheck_schema SET version = 99")
        .unwrap();
    let err = refused(&server.url("bad"));
    assert!(err.contains("schema version 99, newer"), "{err}");
    let version: i64 = server
        .client("bad")
        .query_one("SELECT version FROM crosscheck_schema", &[])
        .unwrap()
        .get(0);
    assert_eq!(version, 99);
    // The environment variable names the store too.
    let sqlite = fleet_config(&dir, "env", "", "solo", "");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_crosscheck"))
        .arg("--config")
        .arg(&sqlite)
        .arg("status")
        .env("CROSSCHECK_STORE_URL", &wrong_password)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("password authentication failed"));
}

#[test]
fn passwords_appear_in_no_output_whatever_form_the_url_takes() {
    use common::postgres::PASSWORD;
    const WRONG: &str = "other-pw-77";
    let (dir, server, url) = fleet_store("fleet-password", "pwtest");
    let port = server.port;
    let keyword =
        format!("host=127.0.0.1 port={port} user=crosscheck password={PASSWORD} dbname=pwtest");
    let query = format!("postgresql://crosscheck@127.0.0.1:{port}/pwtest?password={PASSWORD}");
    // Every output of every command, the daemon's log lines included.
    let seen = std::cell::RefCell::new(String::new());
    let run = |config: &Path, args: &[&str]| -> std::process::Output {
        let out = crosscheck(config, args);
        *seen.borrow_mut() += &(text(&out.stdout) + &text(&out.stderr));
        out
    };
    for (name, form) in [
        ("url", url.as_str()),
        ("keyword", &keyword),
        ("query", &query),
    ] {
        let config = fleet_config(&dir, name, form, "solo", "");
        let daemon = run(&config, &["run", "--cases", "20"]);
        assert_eq!(daemon.status.code(), Some(0), "{name}: {}", seen.borrow());
        let status = text(&run(&config, &["status"]).stdout);
        assert!(
            status.contains(&format!(
                "store postgres://crosscheck:***@127.0.0.1:{port}/pwtest"
            )),
            "{name}: {status}"
        );
        run(&config, &["status", "--json"]);
        run(&config, &["findings"]);
        run(&config, &["gate"]);
        let mut serve = KillOnDrop(spawn(&config, &["serve", "--address", "127.0.0.1:0"]));
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(serve.0.stdout.as_mut().unwrap()),
            &mut line,
        )
        .unwrap();
        assert!(
            line.starts_with("serving postgres://crosscheck:***@"),
            "{line}"
        );
        *seen.borrow_mut() += &line;
        // A connection the server refuses.
        let refused_config = fleet_config(
            &dir,
            &format!("{name}-bad"),
            &form.replace(PASSWORD, WRONG),
            "solo",
            "",
        );
        let refused = run(&refused_config, &["status"]);
        assert_eq!(refused.status.code(), Some(2), "{name}: {}", seen.borrow());
    }
    // One that does not parse is not shown at all.
    let broken = format!("postgres://crosscheck:{PASSWORD}@127.0.0.1:notaport/pwtest");
    let config = fleet_config(&dir, "broken", &broken, "solo", "");
    assert_eq!(run(&config, &["status"]).status.code(), Some(2));
    let seen = seen.into_inner();
    assert!(seen.contains("password authentication failed"), "{seen}");
    for secret in [PASSWORD, WRONG] {
        assert!(!seen.contains(secret), "{secret} was printed: {seen}");
    }
}

#[test]
fn a_server_gone_for_a_while_and_restarted_loses_nothing() {
    let (dir, server, url) = fleet_store("fleet-restart", "restart");
    let config = fleet_config(&dir, "a", &url, "host-a", "");
    // The daemon's log goes to a file, read while it runs.
    let log_path = dir.join("daemon.log");
    let mut daemon = std::process::Command::new(env!("CARGO_BIN_EXE_crosscheck"))
        .arg("--config")
        .arg(&config)
        .args(["run", "--cases", "400"])
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let log = || std::fs::read_to_string(&log_path).unwrap_or_default();
    let mut client = server.client("restart");
    let cases = |client: &mut ::postgres::Client| {
        client
            .query_one("SELECT coalesce(sum(cases), 0)::BIGINT FROM runs", &[])
            .map(|row| row.get::<_, i64>(0))
            .unwrap_or(0)
    };
    wait_for("100 cases", Duration::from_secs(120), || {
        cases(&mut client) >= 100
    });
    // Gone until the daemon has had to keep a write: it goes on meanwhile.
    server.stop();
    wait_for("the daemon to notice", Duration::from_secs(120), || {
        log().contains("the store is unreachable")
    });
    std::thread::sleep(Duration::from_secs(2));
    server.resume();
    wait_for("the kept writes", Duration::from_secs(120), || {
        log().contains("the store answers again")
    });
    // And a quick restart, as a package upgrade does.
    server.restart();
    let status_code = daemon.wait().unwrap();
    assert_eq!(status_code.code(), Some(0), "{}", log());
    let after = status(&config);
    assert_eq!(after["next_seed"], FIRST_SEED + 400);
    assert_eq!(after["unfinished_seeds"], 0);
    assert_eq!(counter(&after, "*", "cases"), 400);
    assert_consistent_from(&after, FIRST_SEED);
}
