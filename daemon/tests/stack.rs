//! Stacks end to end on the daemon: a Wasmtime variant whose stack check
//! cannot fire becomes a `crash` finding of a default-mix run (its code
//! runs off a native stack only a little larger than `max_wasm_stack`);
//! a default run counts what really ran (deep tail loops, stack overflows
//! per engine, stack-passed arguments, proposals), `status` shows it and
//! the gate judges it.

mod common;

use common::{counter, crosscheck, findings, status, temp_dir, text};

fn append(config: &std::path::Path, text: &str) {
    let mut all = std::fs::read_to_string(config).unwrap();
    all.push_str(text);
    std::fs::write(config, all).unwrap();
}

#[test]
fn a_stack_check_that_cannot_fire_is_a_crash_finding() {
    const FAULTY: &str = "cranelift-tail-signals+fault-stack-check";
    let dir = temp_dir("stack-check");
    let engines = [
        FAULTY,
        "cranelift-tail-explicit",
        "cranelift-notail-signals",
        "cranelift-notail-explicit+nofuel",
    ];
    let config = common::config(&dir, &engines, "workers = 2", "");
    append(&config, "[triage]\nbackground = false\n");
    // Recursion that must overflow is ~2.5% of default cases.
    let run = crosscheck(&config, &["run", "--cases", "300"]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    let status = status(&config);
    let crashes: Vec<_> = findings(&status)
        .into_iter()
        .filter(|f| f["kind"] == "crash")
        .collect();
    assert!(
        crashes
            .iter()
            .any(|f| f["signature"].as_str().unwrap().contains(FAULTY)),
        "no crash finding names {FAULTY}: {status:#}"
    );
    // Only the faulty variant's cases died: the others ran their share.
    assert!(counter(&status, "cranelift-tail-explicit", "ran") > 200);
}

#[test]
fn a_default_run_counts_what_really_ran_and_the_gate_judges_it() {
    let dir = temp_dir("exercised");
    let engines = [
        "wasmtime-default",
        "cranelift-tail-explicit",
        "cranelift-notail-signals",
        "cranelift-notail-explicit+nofuel",
    ];
    let config = common::config(&dir, &engines, "workers = 2", "");
    append(
        &config,
        "[triage]\nbackground = false\n[gate]\nmin_cases = 1\nmin_cases_per_variant = 1\n\
         min_instruction_count = 0\nmax_open = {}\nmin_cases_per_second = 0.0\n\
         max_inconclusive_share = 1.0\nmax_rejected_share = 1.0\n\
         min_overflows_per_engine = 1\n\
         min_exercised = { tail-loop-completed = 1, stack-args-called = 1, all-overflowed = 1, \
         \"feature:custom-page-sizes\" = 1, \"feature:stack:must-overflow\" = 1000000 }\n",
    );
    let run = crosscheck(&config, &["run", "--cases", "300"]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    let status = status(&config);
    for what in [
        "tail-loop-completed",
        "stack-args-called",
        "all-overflowed",
        "feature:wide-arithmetic",
        "feature:custom-page-sizes",
        "feature:stack:tail-loop",
    ] {
        assert!(
            counter(&status, "*", &format!("exercised:{what}")) > 0,
            "{what}: {status:#}"
        );
    }
    // Every engine of the matrix reached its stack limit in some case.
    for engine in std::iter::once("wasmi").chain(engines) {
        assert!(
            counter(&status, engine, "exercised:stack-overflow") > 0,
            "{engine}: {status:#}"
        );
    }
    let shown = text(&crosscheck(&config, &["status"]).stdout);
    assert!(shown.contains("exercised (what really ran"), "{shown}");
    assert!(shown.contains("deep tail-call loops completed"), "{shown}");

    // The gate judges the counts: all pass but the impossible one.
    let gate = crosscheck(&config, &["gate"]);
    let out = text(&gate.stdout);
    assert_eq!(gate.status.code(), Some(1), "{out}{}", text(&gate.stderr));
    let failed: Vec<&str> = out
        .lines()
        .filter(|l| l.trim_end().ends_with("FAIL"))
        .collect();
    assert_eq!(failed.len(), 1, "{out}");
    assert!(
        failed[0].contains("exercised feature:stack:must-overflow"),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.contains("cases wasmi overflowed its stack in") && l.contains("pass")),
        "{out}"
    );
}
