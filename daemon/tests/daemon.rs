//! `crosscheck run`, the daemon, as users run it: the real binary, real
//! engines, real worker processes, and engines that deliberately crash,
//! hang or exhaust memory.

mod common;

use common::*;
use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn a_fault_injected_engine_gives_findings_whose_counts_grow_across_runs() {
    let dir = temp_dir("grow");
    let config = config(&dir, &["wasmi-fault-i64-mul"], "workers = 2", "");
    let first = crosscheck(&config, &["run", "--cases", "1000"]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    assert!(
        text(&first.stdout).contains("1000 cases"),
        "{}",
        text(&first.stdout)
    );
    let before = status(&config);
    assert_consistent(&before);
    let top = findings(&before)
        .into_iter()
        .max_by_key(|f| f["hits"].as_u64())
        .expect("the fault is found within 1000 seeds");
    assert!(top["signature"]
        .as_str()
        .unwrap()
        .contains("wasmi-fault-i64-mul"));

    let second = crosscheck(&config, &["run", "--cases", "1000"]);
    assert_eq!(second.status.code(), Some(0), "{}", text(&second.stderr));
    let after = status(&config);
    assert_consistent(&after);
    assert_eq!(after["next_seed"], 2000);
    let same: Vec<Value> = findings(&after)
        .into_iter()
        .filter(|f| f["signature"] == top["signature"])
        .collect();
    assert_eq!(same.len(), 1, "one finding per signature");
    assert_eq!(same[0]["id"], top["id"]);
    assert!(
        same[0]["hits"].as_u64() > top["hits"].as_u64(),
        "{} then {}",
        top["hits"],
        same[0]["hits"]
    );
    let signatures: std::collections::BTreeSet<String> = findings(&after)
        .iter()
        .map(|f| f["signature"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(signatures.len(), findings(&after).len());
}

#[test]
fn workers_that_segfault_abort_hang_or_exhaust_memory_become_findings_and_fuzzing_goes_on() {
    let dir = temp_dir("sabotage");
    // The earlier an engine is in the matrix, the more cases it gets to
    // sabotage: the endless loop costs a timeout each, so it comes last.
    let config = config(
        &dir,
        &[
            "wasmi-fault-oom",
            "wasmi-fault-abort",
            "wasmi-fault-segv",
            "wasmi-fault-hang",
        ],
        "workers = 2\nphase_timeout_secs = 3\nworker_memory_limit_mib = 512",
        "",
    );
    let out = crosscheck(&config, &["run", "--cases", "200"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let status = status(&config);
    assert_consistent(&status);
    assert_eq!(counter(&status, "*", "cases"), 200, "{status:#}");
    let has = |kind: &str, signature: &str| {
        findings(&status)
            .iter()
            .any(|f| f["kind"] == kind && f["signature"] == signature)
    };
    for (kind, signature) in [
        (
            "crash",
            "crash worker killed by SIGSEGV in wasmi-fault-segv",
        ),
        (
            "crash",
            "crash worker killed by SIGABRT in wasmi-fault-abort",
        ),
        // wasmi has fuel: running on until killed is an escape from it.
        (
            "limit-escape",
            "limit-escape wasmi ran on past its fuel or epoch deadline",
        ),
        // Killed for its memory while still compiling: the compiler's
        // blowup, signed like a measured one.
        ("compile-memory", "compile-memory wasmi-fault-oom"),
    ] {
        assert!(has(kind, signature), "no {signature:?} in {status:#}");
    }
    // Most cases trigger nothing and were compared normally.
    assert!(counter(&status, "*", "verdict:agree") > 100, "{status:#}");
    assert!(counter(&status, "wasmi-fault-segv", "crashed") >= 1);
    assert!(counter(&status, "wasmi-fault-hang", "hung") >= 1);
    assert!(counter(&status, "wasmi-fault-oom", "oom") >= 1);
    assert!(counter(&status, "*", "blowup:compile-memory") >= 1);
    let oom = findings(&status)
        .into_iter()
        .find(|f| f["kind"] == "compile-memory")
        .unwrap();
    assert_eq!(
        oom["suspect"],
        "compiling takes memory far over the limits: suspect wasmi-fault-oom"
    );

    // The module of each finding is kept and is the one that triggers it.
    let segv = findings(&status)
        .into_iter()
        .find(|f| f["kind"] == "crash" && f["signature"].as_str().unwrap().contains("SIGSEGV"))
        .unwrap();
    let show = crosscheck(&config, &["findings", "show", &segv["id"].to_string()]);
    let shown = text(&show.stdout);
    assert!(
        shown.contains("reproduce: crosscheck case --seed"),
        "{shown}"
    );
    let module = shown
        .lines()
        .find_map(|l| l.strip_prefix("module: "))
        .expect("the artifact path");
    let wat = wasmprinter::print_bytes(std::fs::read(module).unwrap()).unwrap();
    assert!(wat.contains("f32.mul"), "{wat}");
}

#[test]
fn a_killed_daemon_resumes_where_it_stopped_and_loses_nothing() {
    let dir = temp_dir("kill");
    let config = config(
        &dir,
        &["cranelift-tail-signals", "wasmi-fault-i64-mul"],
        "workers = 2\nstatus_interval_secs = 1",
        "format = \"json\"",
    );
    let mut daemon = spawn(&config, &["run"]);
    // `status` reads the store while the daemon writes it.
    let mut before = Value::Null;
    let db = dir.join("data/crosscheck.sqlite");
    wait_for("findings and cases", Duration::from_secs(300), || {
        if !db.exists() {
            return false;
        }
        before = status(&config);
        before["daemon_pid"].as_u64() == Some(daemon.id() as u64)
            && !findings(&before).is_empty()
            && counter(&before, "*", "cases") >= 100
    });
    daemon.kill().unwrap(); // SIGKILL: no chance to clean up
    let killed = daemon.wait_with_output().unwrap();
    // Every log line is one JSON object.
    let logs = text(&killed.stderr);
    for line in logs.lines() {
        let event: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(event["level"].is_string() && event["message"].is_string());
    }
    assert!(logs.contains("new finding #1"), "{logs}");

    let after_kill = status(&config);
    assert_eq!(after_kill["daemon_pid"], Value::Null);
    assert_consistent(&after_kill);
    let cursor = after_kill["next_seed"].as_u64().unwrap();

    let resumed = crosscheck(&config, &["run", "--cases", "100"]);
    assert_eq!(resumed.status.code(), Some(0), "{}", text(&resumed.stderr));
    assert!(
        text(&resumed.stderr).contains(&format!("\"next_seed\":{cursor}")),
        "{}",
        text(&resumed.stderr)
    );
    let after = status(&config);
    assert_consistent(&after);
    // The seeds the killed run had handed out are finished now.
    assert_eq!(after["unfinished_seeds"], 0, "{after:#}");
    for old in findings(&before) {
        let now = findings(&after)
            .into_iter()
            .find(|f| f["id"] == old["id"])
            .unwrap_or_else(|| panic!("finding {} lost", old["id"]));
        assert_eq!(now["signature"], old["signature"]);
        assert!(now["hits"].as_u64() >= old["hits"].as_u64());
    }
    let runs = after["runs"].as_array().unwrap();
    assert_eq!(runs[0]["stop_reason"], "cases");
    assert_eq!(runs[1]["stop_reason"], "killed");
}

#[test]
fn sigterm_stops_the_daemon_cleanly_within_ten_seconds() {
    let dir = temp_dir("sigterm");
    // The default configuration, as the README starts it, in an empty
    // directory: the store is created under ./crosscheck-data.
    let mut daemon = Command::new(env!("CARGO_BIN_EXE_crosscheck"))
        .arg("run")
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let store = dir.join("crosscheck-data");
    let config_path = dir.join("read.toml");
    std::fs::write(
        &config_path,
        format!(
            "[matrix]\noracle = \"wasmi\"\nengines = [\"cranelift-tail-signals\"]\n[store]\ndata_dir = {:?}\n",
            store.display().to_string()
        ),
    )
    .unwrap();
    wait_for("cases", Duration::from_secs(120), || {
        store.join("crosscheck.sqlite").exists() && counter(&status(&config_path), "*", "cases") > 0
    });
    // SAFETY: sending a signal to our own child.
    assert_eq!(unsafe { libc::kill(daemon.id() as i32, libc::SIGTERM) }, 0);
    let start = Instant::now();
    let exit = loop {
        if let Some(exit) = daemon.try_wait().unwrap() {
            break exit;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "still running 10 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = daemon.wait_with_output().unwrap();
    assert_eq!(exit.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("stopped (signal)"),
        "{}",
        text(&out.stdout)
    );
    let after = status(&config_path);
    assert_eq!(after["runs"][0]["stop_reason"], "signal");
    assert_consistent(&after);
}

#[test]
fn the_daemon_refuses_bad_input_and_leaves_the_store_untouched() {
    let dir = temp_dir("bad");
    let config = config(&dir, &["cranelift-tail-signals"], "workers = 1", "");
    let bad = |args: &[&str], expected: &str| {
        let out = crosscheck(&config, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = text(&out.stderr);
        assert!(err.contains(expected), "{args:?}: {err}");
    };
    bad(&["run", "--duration", "soon"], "soon");
    bad(&["run", "--workers", "0"], "--workers must be at least 1");
    bad(&["status"], "no crosscheck store in");

    // A second daemon on the same store would hand out the same seeds.
    let mut first = spawn(&config, &["run"]);
    wait_for("the first daemon", Duration::from_secs(60), || {
        dir.join("data/crosscheck.sqlite").exists()
            && status(&config)["daemon_pid"].as_u64() == Some(first.id() as u64)
    });
    bad(&["run"], "another crosscheck daemon");
    first.kill().unwrap();
    first.wait().unwrap();

    let db = dir.join("data/crosscheck.sqlite");
    let _ = std::fs::remove_file(dir.join("data/crosscheck.sqlite-wal"));
    let _ = std::fs::remove_file(dir.join("data/crosscheck.sqlite-shm"));
    let mut bytes = std::fs::read(&db).unwrap();
    bytes[..16].copy_from_slice(b"garbage garbage!");
    std::fs::write(&db, &bytes).unwrap();
    bad(
        &["run", "--cases", "1"],
        "is not a readable crosscheck store",
    );
    bad(&["status"], "is not a readable crosscheck store");
    assert_eq!(std::fs::read(&db).unwrap(), bytes, "the store was modified");
}

/// A store that traps, then a loop that never ends: a fault that drops the
/// store (as a wrong dead-store elimination would) makes the loop run.
const STORE_THEN_SPIN: &str = r#"(module (memory 1)
    (func (export "f") (result i32)
        i32.const 65536
        i32.const 7
        i32.store
        (loop $spin (br $spin))
        i32.const 0))"#;

#[test]
fn a_fault_only_an_engine_without_fuel_or_epochs_shows_is_a_mismatch_blamed_on_it() {
    let dir = temp_dir("unbudgeted");
    let module = module(&dir, "store-then-spin.wat", STORE_THEN_SPIN);
    let module = module.to_str().unwrap();
    let fault = "+fault-store-before-loop";
    let budgeted = [
        format!("cranelift-tail-signals{fault}"),
        format!("cranelift-notail-explicit+nofuel{fault}"),
    ];
    let findings_of = |name: &str, engines: &[String]| {
        let engines: Vec<&str> = engines.iter().map(String::as_str).collect();
        std::fs::create_dir_all(dir.join(name)).unwrap();
        let config = config(&dir.join(name), &engines, "phase_timeout_secs = 3", "");
        let out = crosscheck(&config, &["import", "--no-shrink", module]);
        assert_ne!(out.status.code(), Some(2), "{}", text(&out.stderr));
        findings(&status(&config))
    };
    // With fuel the loop is stopped, but not undecided: the fuel ran out
    // where the interpreter trapped at once, far sooner than 50 million
    // units could be spent (`judge::compare`, budgets as oracles). The
    // epoch deadline's stop alone would be undecided.
    let found = findings_of("budgeted", &budgeted);
    assert_eq!(found.len(), 1, "{found:#?}");
    let signature = found[0]["signature"].as_str().unwrap();
    assert!(
        signature.starts_with(&format!(
            "mismatch call {{cranelift-tail-signals{fault}}}=trap:out-of-fuel vs {{wasmi}}=trap:memory-out-of-bounds"
        )),
        "{signature}"
    );
    // Without either, the engine runs the call (wasmi ended it with a
    // trap) and runs on until its worker is killed.
    let mut engines = budgeted.to_vec();
    engines.insert(0, format!("wasmtime-default{fault}"));
    let found = findings_of("unbudgeted", &engines);
    let hang = found
        .iter()
        .find(|f| {
            f["signature"]
                .as_str()
                .unwrap()
                .starts_with("mismatch run {cranelift-opt}=hang blame ")
        })
        .unwrap_or_else(|| panic!("no hang: {found:#?}"));
    assert!(
        hang["suspect"]
            .as_str()
            .unwrap()
            .contains("wasmtime-default+fault-store-before-loop ran on without end"),
        "{found:#?}"
    );
    // Engines without the fault trap like wasmi: no finding.
    let correct: Vec<String> = engines
        .iter()
        .map(|e| e.trim_end_matches(fault).to_string())
        .collect();
    assert_eq!(findings_of("correct", &correct), Vec::<Value>::new());
}
