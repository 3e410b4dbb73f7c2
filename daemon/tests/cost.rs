//! `crosscheck scale` and `crosscheck perf` on the real binary: growth
//! exponents per engine, a compiler whose cost grows quadratically flagged
//! as superlinear, and run time per engine relative to the fastest.

mod common;

use common::*;

#[test]
fn a_quadratic_compiler_is_flagged_and_a_linear_one_is_not() {
    let dir = temp_dir("scale");
    let config = config(&dir, &["wasmi-fault-quadratic"], "", "");
    let out = crosscheck(
        &config,
        &[
            "scale",
            "--shape",
            "select-chain",
            "--start",
            "100",
            "--steps",
            "4",
            "--runs",
            "2",
        ],
    );
    let printed = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{printed}{}", text(&out.stderr));
    assert!(
        printed.starts_with("shape select-chain, compile time (ms) and peak compile heap (MiB)"),
        "{printed}"
    );
    // n² steps and n²/16 bytes: both exponents near 2 (noise on a shared
    // machine moves the time a little; the heap is exact).
    let line = printed
        .lines()
        .find(|l| l.starts_with("wasmi-fault-quadratic "))
        .unwrap();
    let figures: Vec<f64> = line
        .split_whitespace()
        .rev()
        .take(2)
        .map(|f| f.parse().unwrap())
        .collect();
    let (heap, time) = (figures[0], figures[1]);
    assert!((1.8..2.2).contains(&heap), "{line}");
    assert!(time > 1.5, "{line}");
    assert!(
        printed
            .contains("SUPERLINEAR (above size^1.3):\n  wasmi-fault-quadratic time grows as size^"),
        "{printed}"
    );
    assert!(
        printed.contains("wasmi-fault-quadratic heap grows as size^"),
        "{printed}"
    );
    // wasmi's own translation is linear in memory.
    assert!(!printed.contains("  wasmi heap"), "{printed}");
}

#[test]
fn a_file_grows_by_its_largest_function_and_bad_arguments_are_named() {
    let dir = temp_dir("scale-file");
    let config = config(&dir, &["cranelift-tail-signals"], "", "");
    let ackermann = concat!(env!("CARGO_MANIFEST_DIR"), "/../corpus/ackermann.wat");
    let out = crosscheck(
        &config,
        &["scale", ackermann, "--steps", "3", "--runs", "1"],
    );
    let printed = text(&out.stdout);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{printed}{}",
        text(&out.stderr)
    );
    assert!(printed.contains("(largest function repeated)"), "{printed}");
    assert!(
        printed
            .lines()
            .any(|l| l.starts_with("cranelift-tail-signals ")),
        "{printed}"
    );
    for (args, says) in [
        (
            vec!["scale", "--shape", "spaghetti"],
            "unknown shape \"spaghetti\"; shapes: call-alternating",
        ),
        (
            vec!["scale", "--shape", "br-table", "--steps", "1"],
            "invalid value '1' for '--steps <STEPS>': 1 is not in 2..=16",
        ),
        (vec!["scale"], "required"),
    ] {
        let out = crosscheck(&config, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            text(&out.stderr).contains(says),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn perf_times_an_export_on_every_engine_relative_to_the_fastest() {
    let dir = temp_dir("perf");
    let config = config(
        &dir,
        &["cranelift-tail-signals", "cranelift-notail-explicit"],
        "",
        "",
    );
    let ackermann = concat!(env!("CARGO_MANIFEST_DIR"), "/../corpus/ackermann.wat");
    let out = crosscheck(
        &config,
        &[
            "perf", ackermann, "--invoke", "ack", "--args", "2,3", "--calls", "3", "--rounds", "3",
        ],
    );
    let printed = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{printed}{}", text(&out.stderr));
    assert!(
        printed.contains("\"ack\"(2, 3): 3 calls per round, 3 rounds"),
        "{printed}"
    );
    let rows: Vec<&str> = printed.lines().filter(|l| l.ends_with("[i32:9]")).collect();
    assert_eq!(rows.len(), 3, "{printed}");
    // The fastest is 1.00x; every other is at least that.
    let relatives: Vec<f64> = rows
        .iter()
        .map(|r| {
            let field = r.split_whitespace().find(|f| f.ends_with('x')).unwrap();
            field.trim_end_matches('x').parse().unwrap()
        })
        .collect();
    assert!(relatives.contains(&1.0), "{printed}");
    assert!(relatives.iter().all(|r| *r >= 1.0), "{printed}");

    let out = crosscheck(&config, &["perf", ackermann, "--invoke", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("nope"), "{}", text(&out.stderr));
}

#[test]
fn the_daemon_records_confirmed_compile_blowups_and_shrinks_them() {
    let dir = temp_dir("blowup");
    // A compiler quadratic in the instruction count, and limits low enough
    // for generated modules to cross them.
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[matrix]\noracle = \"wasmi\"\nengines = [\"wasmi-fault-quadratic\"]\n\
             [store]\ndata_dir = {:?}\n[daemon]\nworkers = 2\n[triage]\nbackground = false\n\
             [cost]\nremeasure = 2\n[cost.compile]\ntime_ratio = 5.0\ntime_floor_ms = 2\nmemory_ratio = 5.0\nmemory_floor_mib = 0\n",
            dir.join("data").display().to_string()
        ),
    )
    .unwrap();
    let run = crosscheck(&config, &["run", "--cases", "60"]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    let status = status(&config);
    let all = findings(&status);
    let by_kind = |kind: &str| {
        all.iter()
            .find(|f| f["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind} finding in {status:#}"))
            .clone()
    };
    let time = by_kind("compile-time");
    assert_eq!(time["signature"], "compile-time wasmi-fault-quadratic");
    assert!(time["suspect"]
        .as_str()
        .unwrap()
        .ends_with("suspect wasmi-fault-quadratic"));
    assert_eq!(
        by_kind("compile-memory")["signature"],
        "compile-memory wasmi-fault-quadratic"
    );
    // Every blowup is counted, and compile times are kept as a distribution.
    let blowups = counter(&status, "*", "blowup:compile-time")
        + counter(&status, "*", "blowup:compile-memory");
    let hits: u64 = all
        .iter()
        .filter(|f| f["kind"].as_str().unwrap().starts_with("compile-"))
        .map(|f| f["hits"].as_u64().unwrap())
        .sum();
    assert_eq!(blowups, hits, "{status:#}");
    let buckets = status["counters"]["wasmi-fault-quadratic"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(name, _)| name.starts_with("compile-us<=2^"))
        .map(|(_, n)| n.as_u64().unwrap())
        .sum::<u64>();
    // Every case the engine compiled (the proposal sub-matrix's are not
    // its) is in the distribution.
    let compiled = counter(&status, "wasmi-fault-quadratic", "ran");
    assert!(compiled >= 50 && buckets >= compiled, "{status:#}");
    // The report names the figures, and each finding shrinks to a module
    // that is still over the limits.
    let id = time["id"].to_string();
    let show = text(&crosscheck(&config, &["findings", "show", &id]).stdout);
    assert!(show.contains("times the reference, over 5"), "{show}");
    let shrink = crosscheck(&config, &["shrink", &id, "--attempts", "50"]);
    assert_eq!(shrink.status.code(), Some(0), "{}", text(&shrink.stderr));
    assert!(text(&shrink.stdout).contains("still `compile-time wasmi-fault-quadratic`"));
    // Re-running is asserted on the memory finding: a peak heap is the
    // same on every run, while CPU time on a shared machine is not (this
    // one's varies twofold with what the other hardware thread runs).
    let id = by_kind("compile-memory")["id"].to_string();
    let shrink = crosscheck(&config, &["shrink", &id, "--attempts", "50"]);
    assert_eq!(shrink.status.code(), Some(0), "{}", text(&shrink.stderr));
    assert!(text(&shrink.stdout).contains("still `compile-memory wasmi-fault-quadratic`"));
    let repro = crosscheck(&config, &["repro", &id]);
    assert_eq!(repro.status.code(), Some(1), "{}", text(&repro.stdout));
    // The re-run shows its figures.
    assert!(
        text(&repro.stdout).contains("times the reference, over 5"),
        "{}",
        text(&repro.stdout)
    );
}

#[test]
fn the_daemon_records_an_engine_much_slower_than_its_siblings_as_perf() {
    let dir = temp_dir("perf-finding");
    // wasmi-fault-slow runs every module with a call 50 ms slower; wasmi
    // is its sibling, the two Wasmtime variants each other's.
    let config = config(
        &dir,
        &[
            "wasmi-fault-slow",
            "cranelift-tail-signals",
            "cranelift-tail-explicit",
        ],
        "workers = 2",
        "",
    );
    // wasm-smith modules only: wasmi itself runs a stack program for tens
    // of milliseconds, so the fault's 50 ms makes such a case at most a few
    // times slower, or only just over the limit of 10 times, and its shrunk
    // module would not reliably reproduce.
    let mut text_without_stack = std::fs::read_to_string(&config).unwrap();
    text_without_stack.push_str("[generator.stack]\nshare = 0.0\n");
    std::fs::write(&config, text_without_stack).unwrap();
    let run = crosscheck(&config, &["run", "--cases", "30"]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    let status = status(&config);
    let all = findings(&status);
    let perf: Vec<_> = all.iter().filter(|f| f["kind"] == "perf").collect();
    assert_eq!(perf.len(), 1, "{status:#}");
    assert_eq!(perf[0]["signature"], "perf wasmi-fault-slow");
    assert_eq!(
        perf[0]["suspect"],
        "runs far slower than its sibling wasmi: suspect wasmi-fault-slow"
    );
    assert_eq!(
        counter(&status, "*", "blowup:perf"),
        perf[0]["hits"].as_u64().unwrap()
    );
    let id = perf[0]["id"].to_string();
    let show = text(&crosscheck(&config, &["findings", "show", &id]).stdout);
    assert!(show.contains("times wasmi's"), "{show}");
    // The shrunk module is still slow (twice over the limits while
    // shrinking) and reproduces.
    let shrink = crosscheck(&config, &["shrink", &id, "--attempts", "30"]);
    assert_eq!(shrink.status.code(), Some(0), "{}", text(&shrink.stderr));
    assert!(
        text(&shrink.stdout).contains("still `perf wasmi-fault-slow`"),
        "{}",
        text(&shrink.stdout)
    );
    let repro = crosscheck(&config, &["repro", &id]);
    assert_eq!(repro.status.code(), Some(1), "{}", text(&repro.stdout));
}

#[test]
fn the_daemon_flags_a_compile_far_above_its_engines_own_distribution() {
    let dir = temp_dir("outlier");
    // wasmi-fault-spike compiles most modules as fast as wasmi, and the
    // few with an `f32.copysign` about a hundred times slower per
    // instruction: far above its own median, though nowhere near the
    // absolute or wasmi-relative limits (left at their defaults).
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[matrix]\noracle = \"wasmi\"\nengines = [\"wasmi-fault-spike\"]\n\
             [store]\ndata_dir = {:?}\n[daemon]\nworkers = 2\nbatch_size = 8\n\
             [triage]\nbackground = false\n[dashboard]\naddress = \"\"\n\
             [cost]\nremeasure = 2\n\
             [cost.outliers]\nratio = 10.0\ndeviations = 4.0\nfloor_ms = 2\n\
             floor_mib = 100000\nmin_samples = 40\n",
            dir.join("data").display().to_string()
        ),
    )
    .unwrap();
    let run = crosscheck(&config, &["run", "--cases", "300"]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    let status = status(&config);
    let all = findings(&status);
    assert!(
        all.iter().all(|f| f["kind"] != "compile-memory"),
        "{status:#}"
    );
    let time = all
        .iter()
        .find(|f| f["kind"] == "compile-time")
        .unwrap_or_else(|| panic!("no compile-time finding in {status:#}"));
    assert_eq!(time["signature"], "compile-time wasmi-fault-spike");
    let id = time["id"].to_string();
    let show = text(&crosscheck(&config, &["findings", "show", &id]).stdout);
    assert!(show.contains("times this run's median of"), "{show}");
    assert!(show.contains("ns per instruction"), "{show}");
    // The oracle translates every module in linear time: never flagged.
    assert!(all
        .iter()
        .all(|f| !f["signature"].as_str().unwrap().ends_with(" wasmi")));
    // Distributions of every engine's compile heap, and of the generated
    // code size of a JIT (none here: both engines interpret).
    let names: Vec<String> = status["counters"]["wasmi-fault-spike"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert!(
        names.iter().any(|n| n.starts_with("compile-heap<=2^")),
        "{names:?}"
    );
    // The stored reference lets the shrinker judge candidates by the same
    // figures: the shrunk module is still an outlier and reproduces.
    let shrink = crosscheck(&config, &["shrink", &id, "--attempts", "20"]);
    assert_eq!(shrink.status.code(), Some(0), "{}", text(&shrink.stderr));
    assert!(
        text(&shrink.stdout).contains("still `compile-time wasmi-fault-spike`"),
        "{}",
        text(&shrink.stdout)
    );
    let repro = crosscheck(&config, &["repro", &id]);
    assert_eq!(repro.status.code(), Some(1), "{}", text(&repro.stdout));
}

#[test]
fn the_daemon_runs_scaling_checks_on_the_shapes_and_on_blowups_in_the_background() {
    let dir = temp_dir("daemon-scaling");
    // A quadratic compiler, limits low enough for generated modules to be
    // blowups, and a shape check due every second; no reduction after
    // shrinking, which would hold the background process for minutes on a
    // busy machine and leave the shapes unchecked within the run.
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[matrix]\noracle = \"wasmi\"\nengines = [\"wasmi-fault-quadratic\"]\n\
             [store]\ndata_dir = {:?}\n[daemon]\nworkers = 1\n[dashboard]\naddress = \"\"\n\
             [triage]\nshrink_seconds = 5\nreduce_seconds = 0\n\
             [cost]\nremeasure = 1\n\
             [cost.compile]\ntime_ratio = 5.0\ntime_floor_ms = 2\n\
             [cost.scaling]\nevery_secs = 1\nsteps = 3\nruns = 2\n",
            dir.join("data").display().to_string()
        ),
    )
    .unwrap();
    // Until the shapes that matter and a blowup's module are checked: how
    // long that takes depends on what else the machine runs.
    let mut daemon = KillOnDrop(spawn(&config, &["run"]));
    let checked = |status: &serde_json::Value, subject: &str| {
        status["scaling"]
            .as_array()
            .is_some_and(|checks| checks.iter().any(|c| c["subject"] == subject))
    };
    wait_for(
        "the select-chain and call-alternating shapes and a blowup checked",
        std::time::Duration::from_secs(300),
        || {
            let out = crosscheck(&config, &["status", "--json"]);
            let Ok(status) = serde_json::from_slice::<serde_json::Value>(&out.stdout) else {
                return false;
            };
            ["shape:select-chain", "shape:call-alternating"]
                .iter()
                .all(|s| checked(&status, s))
                && status["scaling"]
                    .as_array()
                    .is_some_and(|c| c.iter().any(|c| c["finding"].is_i64()))
        },
    );
    // SAFETY: signalling our own child.
    unsafe { libc::kill(daemon.0.id() as i32, libc::SIGTERM) };
    assert_eq!(daemon.0.wait().unwrap().code(), Some(0));
    let status = status(&config);
    let checks = status["scaling"].as_array().unwrap();
    let check = |subject: &str| checks.iter().find(|c| c["subject"] == subject);
    // select-chain is all selects: quadratic for the sabotaged engine only.
    let select = check("shape:select-chain").unwrap_or_else(|| panic!("{status:#}"));
    let lines: Vec<&str> = select["superlinear"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert!(!lines.is_empty(), "{select:#}");
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with("wasmi-fault-quadratic ")),
        "{lines:?}"
    );
    assert!(select["report"]
        .as_str()
        .unwrap()
        .starts_with("shape select-chain, compile CPU time (ms)"));
    // A shape without the trigger grows linearly on both engines.
    let calls = check("shape:call-alternating").unwrap_or_else(|| panic!("{status:#}"));
    assert_eq!(
        calls["superlinear"].as_array().unwrap().len(),
        0,
        "{calls:#}"
    );
    let printed = text(&crosscheck(&config, &["status"]).stdout);
    assert!(printed.contains("shape:select-chain"), "{printed}");
    assert!(
        printed.contains("SUPERLINEAR: wasmi-fault-quadratic"),
        "{printed}"
    );

    // The shrunk module of a blowup is scaled too.
    let blowup = findings(&status)
        .into_iter()
        .find(|f| f["kind"] == "compile-time" && f["shrunk_size"].is_u64())
        .unwrap_or_else(|| panic!("no shrunk compile-time finding in {status:#}"));
    let id = blowup["id"].to_string();
    let subject = format!("finding:{id}");
    assert!(check(&subject).is_some(), "{status:#}");
    let show = text(&crosscheck(&config, &["findings", "show", &id]).stdout);
    assert!(
        show.contains("scaling check of the shrunk module"),
        "{show}"
    );
    assert!(show.contains("largest function repeated"), "{show}");
}

/// Fuel is a bound on a guest's CPU: an engine whose loops do work fuel
/// does not meter (`+fault-unmetered-copy`: every iteration moves 64 KiB,
/// for a few units) is a `perf` finding of its own, "unmetered work",
/// against its twin at opt level none; the same module on a correct
/// engine is none. `check` prints it under the case's table.
#[test]
fn work_fuel_does_not_meter_is_a_perf_finding_of_its_own() {
    let dir = temp_dir("unmetered");
    let wat = module(
        &dir,
        "spin.wat",
        r#"(module
             (memory 1)
             (func (export "spin") (param i32) (result i32) (local i32)
               (loop
                 (local.set 1 (i32.add (local.get 1) (i32.const 1)))
                 (br_if 0 (i32.lt_u (local.get 1) (i32.const 30000))))
               (local.get 1)))"#,
    );
    let faulty = "cranelift-tail-signals+fault-unmetered-copy";
    let config_of = |engine: &str| config(&dir, &[engine], "", "");
    let out = crosscheck(&config_of(faulty), &["check", wat.to_str().unwrap()]);
    let shown = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{shown}{}", text(&out.stderr));
    assert!(
        shown.contains(&format!("unmetered work: {faulty} spends"))
            && shown.contains("cranelift-tail-signals+opt-none"),
        "{shown}"
    );
    let out = crosscheck(
        &config_of("cranelift-tail-signals"),
        &["check", wat.to_str().unwrap()],
    );
    let shown = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{shown}{}", text(&out.stderr));
    assert!(!shown.contains("PERF"), "{shown}");
}
