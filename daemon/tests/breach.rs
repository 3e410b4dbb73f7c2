//! Sandbox breaches and isolation end to end: an engine that reaches
//! outside linear memory (a sabotaged Wasmtime variant whose host side
//! writes or reads just past the end of the memory) is caught as a
//! `breach` in `check`, `import` and `run`: by the inaccessible guard page
//! after a page-aligned memory (reads too, which change nothing), by the
//! canary zone after an unaligned one (custom page sizes); an engine that
//! takes its process down is a row of `check`'s table while the other
//! engines still run.

mod common;

use common::{config, counter, crosscheck, findings, module, status, temp_dir, text};
use std::path::Path;

const WRITE_PAST: &str = "cranelift-notail-explicit+sabotage-write-past-end";
const READ_PAST: &str = "cranelift-notail-explicit+sabotage-read-past-end";

/// A module with an exported one-page memory that stores and loads.
const MEMORY_MODULE: &str = r#"(module
  (memory (export "mem") 1)
  (data (i32.const 8) "hello")
  (func (export "store") (param i32 i32)
    (i32.store (local.get 0) (local.get 1)))
  (func (export "load") (param i32) (result i32)
    (i32.load (local.get 0))))"#;

/// The same with a memory of 100 bytes (a custom page size of 1), whose
/// end is not page-aligned: past it lies a canary zone, not a guard page.
const UNALIGNED_MEMORY_MODULE: &str = r#"(module
  (memory (export "mem") 100 (pagesize 1))
  (data (i32.const 8) "hello")
  (func (export "store") (param i32 i32)
    (i32.store (local.get 0) (local.get 1)))
  (func (export "load") (param i32) (result i32)
    (i32.load (local.get 0))))"#;

/// `crosscheck check FILE --invoke EXPORT --args ARGS`: its output and
/// exit status.
fn check_call(config: &Path, wat: &Path, export: &str, args: &str) -> (String, Option<i32>) {
    let out = crosscheck(
        config,
        &[
            "check",
            wat.to_str().unwrap(),
            "--invoke",
            export,
            "--args",
            args,
        ],
    );
    let shown = text(&out.stdout) + &text(&out.stderr);
    (shown, out.status.code())
}

/// Every engine of `engines` has a row in `shown` with one returned call.
fn assert_rows_returned(shown: &str, engines: &[&str]) {
    for engine in engines {
        assert!(
            shown
                .lines()
                .any(|l| l.starts_with(engine) && l.contains("1 returned")),
            "no row for {engine}: {shown}"
        );
    }
}

/// `engine`'s row of `check` is a breach in the guard page after a
/// one-page memory, and the fault reporter named the memory and offset.
fn assert_guard_breach(shown: &str, engine: &str) {
    assert!(
        shown.lines().any(|l| l.starts_with(engine)
            && l.contains(
                "BREACH while running: read or wrote outside linear memory (a guard page)"
            )),
        "{shown}"
    );
    assert!(
        shown.contains("memory fault in the inaccessible guard page at offset 65536 of a 65536-byte linear memory (0 byte(s) past its end)"),
        "{shown}"
    );
}

#[test]
fn check_catches_a_write_past_linear_memory_as_a_breach_and_shows_every_engine() {
    let dir = temp_dir("breach-check");
    let config = config(
        &dir,
        &[
            "cranelift-tail-signals",
            "cranelift-tail-explicit",
            WRITE_PAST,
        ],
        "",
        "",
    );
    let wat = module(&dir, "memory.wat", UNALIGNED_MEMORY_MODULE);
    let (shown, code) = check_call(&config, &wat, "store", "0,7");
    assert_eq!(code, Some(4), "{shown}");
    assert_rows_returned(
        &shown,
        &["wasmi", "cranelift-tail-signals", "cranelift-tail-explicit"],
    );
    assert!(
        shown.lines().any(|l| l.starts_with(WRITE_PAST)
            && l.contains("BREACH while running: wrote outside linear memory (a canary changed)")),
        "{shown}"
    );
    // The call, the offset and the bytes written.
    assert!(
        shown.contains("after call \"store\"[i32:0, i32:7]: 4 canary byte(s) changed around a 100-byte linear memory, from offset 102 (2 past its end) to offset 105 (5 past its end); bytes written: de c0 d0 ba"),
        "{shown}"
    );
    // The case's verdict is the breach, the survivors' agreement beside it.
    let verdict = shown
        .lines()
        .find(|l| l.starts_with("verdict: "))
        .unwrap_or_default();
    assert!(
        verdict.starts_with("verdict: breach wrote outside linear memory")
            && verdict.ends_with("(the engines that ran the case to the end: agree)"),
        "{shown}"
    );
}

#[test]
fn a_read_past_a_page_aligned_memory_faults_in_the_guard_page_and_is_a_breach() {
    let dir = temp_dir("breach-guard");
    let config = config(
        &dir,
        &[
            "cranelift-tail-signals",
            "cranelift-tail-explicit",
            READ_PAST,
        ],
        "",
        "",
    );
    let wat = module(&dir, "memory.wat", MEMORY_MODULE);
    let (shown, code) = check_call(&config, &wat, "load", "8");
    assert_eq!(code, Some(4), "{shown}");
    assert_rows_returned(
        &shown,
        &["wasmi", "cranelift-tail-signals", "cranelift-tail-explicit"],
    );
    assert_guard_breach(&shown, READ_PAST);
    // The same module imported: a breach finding naming the engine.
    let out = crosscheck(&config, &["import", "--no-shrink", wat.to_str().unwrap()]);
    let imported = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{imported}{}",
        text(&out.stderr)
    );
    assert!(
        imported.contains(&format!(
            "new finding 1: breach read or wrote outside linear memory (a guard page) (killed by SIGSEGV) in {READ_PAST}"
        )),
        "{imported}"
    );
}

/// A memory nobody exports (crosscheck's own snapshot never reads it), and
/// a load at the address its caller gives.
const HIDDEN_MEMORY_MODULE: &str = r#"(module
  (memory 1)
  (func (export "load") (param i32) (result i64)
    (i64.load (local.get 0))))"#;

const OFF_BY_WIDTH: &str = "cranelift-notail-explicit+sabotage-bounds-off-by-width";

#[test]
fn compiled_code_reading_past_the_end_is_a_breach_not_a_trap() {
    let dir = temp_dir("breach-compiled");
    let config = config(&dir, &["cranelift-tail-explicit", OFF_BY_WIDTH], "", "");
    let wat = module(&dir, "hidden.wat", HIDDEN_MEMORY_MODULE);
    // 8 bytes from 65532 end 4 bytes past the page: every correct engine
    // traps, and the engine whose bounds check is off by the access's
    // width lets its compiled load reach the guard page.
    let (shown, code) = check_call(&config, &wat, "load", "65532");
    assert_eq!(code, Some(4), "{shown}");
    assert_guard_breach(&shown, OFF_BY_WIDTH);
    // Within the memory the same engine is right: nothing is reported.
    let (shown, code) = check_call(&config, &wat, "load", "8");
    assert_eq!(code, Some(0), "{shown}");
}

#[test]
fn a_read_past_an_unaligned_memory_shows_the_canary_pattern() {
    let dir = temp_dir("breach-read");
    let config = config(&dir, &["cranelift-tail-explicit", READ_PAST], "", "");
    let wat = module(&dir, "memory.wat", UNALIGNED_MEMORY_MODULE);
    let (shown, code) = check_call(&config, &wat, "load", "8");
    assert_eq!(code, Some(1), "{shown}");
    assert!(shown.contains("MISMATCH at memory \"mem\""), "{shown}");
    assert!(
        shown.contains("[43, 41, 4e, 41, 52, 59, 21, 21, 68, 65, 6c, 6c, 6f, 00, 00, 00]"),
        "{shown}"
    );
    assert!(
        shown.contains("\"CANARY!!\": bytes of a canary zone"),
        "{shown}"
    );
}

#[test]
fn check_on_a_module_that_makes_an_engine_abort_prints_every_row_and_a_finding() {
    let dir = temp_dir("breach-abort");
    // wasmi-fault-abort aborts its process compiling a module with f64.mul.
    let config = config(
        &dir,
        &[
            "cranelift-tail-signals",
            "wasmi-fault-abort",
            "cranelift-tail-explicit",
        ],
        "",
        "",
    );
    let wat = module(
        &dir,
        "mul.wat",
        r#"(module (func (export "mul") (param f64 f64) (result f64)
             (f64.mul (local.get 0) (local.get 1))))"#,
    );
    let (shown, code) = check_call(&config, &wat, "mul", "1.5,4");
    assert_eq!(code, Some(1), "{shown}");
    assert_rows_returned(
        &shown,
        &["wasmi", "cranelift-tail-signals", "cranelift-tail-explicit"],
    );
    assert!(
        shown.lines().any(|l| l.starts_with("wasmi-fault-abort")
            && l.contains("CRASH while compiling: killed by SIGABRT")),
        "{shown}"
    );
    assert!(shown.contains("wasmi result: [f64:6 "), "{shown}");
    assert!(
        shown.contains(
            "ran the case to the end: wasmi, cranelift-tail-signals, cranelift-tail-explicit"
        ),
        "{shown}"
    );
    assert!(
        shown.contains("1 worker process(es) died running this case"),
        "{shown}"
    );
}

#[test]
fn import_records_a_breach_that_no_known_bug_rule_hides_and_the_gate_always_fails() {
    let dir = temp_dir("breach-import");
    let signature =
        format!("breach wrote outside linear memory (a canary changed) in {WRITE_PAST}");
    let config = config(&dir, &["cranelift-tail-explicit", WRITE_PAST], "", "");
    // A rule naming the breach's exact signature: it must not hide it.
    let mut text_of_config = std::fs::read_to_string(&config).unwrap();
    text_of_config += &format!(
        "[[triage.suppress]]\nsignature = {signature:?}\nreason = \"tries to hide a breach\"\n"
    );
    std::fs::write(&config, text_of_config).unwrap();
    let wat = module(&dir, "memory.wat", UNALIGNED_MEMORY_MODULE);
    let out = crosscheck(&config, &["import", "--no-shrink", wat.to_str().unwrap()]);
    let shown = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{shown}{}", text(&out.stderr));
    assert!(
        shown.contains(&format!("new finding 1: {signature}")),
        "{shown}"
    );

    let listed = text(&crosscheck(&config, &["findings"]).stdout);
    let first = listed.lines().nth(1).unwrap_or_default();
    assert!(first.contains("breach"), "{listed}");

    // The report goes to the security contact, not a public tracker.
    let report = text(&crosscheck(&config, &["report", "1"]).stdout);
    assert!(
        report.starts_with("> **Do not file this as a public issue.**"),
        "{report}"
    );
    assert!(report.contains("security/policy"), "{report}");

    // Even marked ignored, an unfixed breach fails the gate.
    let marked = crosscheck(&config, &["mark", "1", "ignored"]);
    assert_eq!(marked.status.code(), Some(0), "{}", text(&marked.stderr));
    let gate = crosscheck(&config, &["gate"]);
    let out = text(&gate.stdout);
    assert_eq!(gate.status.code(), Some(1), "{out}");
    assert!(
        out.contains("breach findings not fixed (always 0)"),
        "{out}"
    );
}

#[test]
fn the_daemon_records_breaches_with_the_highest_severity_and_counts_them() {
    let dir = temp_dir("breach-run");
    let config = config(
        &dir,
        &["cranelift-tail-signals", WRITE_PAST],
        "workers = 2",
        "",
    );
    let out = crosscheck(&config, &["run", "--cases", "40"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let status = status(&config);
    common::assert_consistent(&status);
    let breaches: Vec<_> = findings(&status)
        .into_iter()
        .filter(|f| f["kind"] == "breach")
        .collect();
    // Past a page-aligned end (most generated memories) the write faults
    // in the guard page; past an unaligned one (custom page sizes) it
    // changes the canary zone: one finding for each way it was seen.
    let seen_as = [
        format!("breach read or wrote outside linear memory (a guard page) (killed by SIGSEGV) in {WRITE_PAST}"),
        format!("breach wrote outside linear memory (a canary changed) in {WRITE_PAST}"),
    ];
    assert!(!breaches.is_empty(), "{status:#}");
    for breach in &breaches {
        let signature = breach["signature"].as_str().unwrap();
        assert!(seen_as.iter().any(|s| s == signature), "{signature}");
    }
    assert!(
        breaches
            .iter()
            .any(|b| b["signature"] == seen_as[0].as_str()),
        "the guard page caught it: {status:#}"
    );
    let hits: u64 = breaches.iter().map(|b| b["hits"].as_u64().unwrap()).sum();
    assert!(hits >= 1, "{status:#}");
    assert_eq!(counter(&status, WRITE_PAST, "breached"), hits, "{status:#}");
    assert_eq!(counter(&status, "*", "verdict:breach"), hits, "{status:#}");
    // Listed first, whatever the hits of the others.
    let listed = text(&crosscheck(&config, &["findings"]).stdout);
    assert!(
        listed.lines().nth(1).unwrap_or_default().contains("breach"),
        "{listed}"
    );
}

#[test]
fn import_records_a_crash_and_the_disagreement_of_the_engines_left() {
    let dir = temp_dir("breach-rest");
    // wasmi-fault-segv segfaults running a module with f32.mul; the add
    // fault disagrees with everyone on `add`: the death must not hide it.
    let config = config(
        &dir,
        &[
            "cranelift-tail-signals",
            "wasmi-fault-segv",
            "wasmi-fault-add",
        ],
        "",
        "",
    );
    let wat = module(
        &dir,
        "both.wat",
        r#"(module
             (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
             (func (export "mul") (param f32) (result f32) (f32.mul (local.get 0) (local.get 0))))"#,
    );
    let out = crosscheck(&config, &["import", "--no-shrink", wat.to_str().unwrap()]);
    let shown = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{shown}{}", text(&out.stderr));
    assert!(
        shown.contains("new finding 1: crash worker killed by SIGSEGV in wasmi-fault-segv"),
        "{shown}"
    );
    assert!(
        shown.contains("new finding 2: mismatch call {wasmi,cranelift-tail-signals}=value vs {wasmi-fault-add}=value"),
        "{shown}"
    );
    let crash = text(&crosscheck(&config, &["findings", "show", "1"]).stdout);
    assert!(
        crash.contains("ran the case to the end: wasmi, cranelift-tail-signals, wasmi-fault-add"),
        "{crash}"
    );
}
