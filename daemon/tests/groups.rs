//! Minimal modules, trigger fingerprints and groups end to end, on real
//! engines: a fault-injected wasmi wrong in two unrelated ways
//! (`i32.add` run as `i32.sub`, `i32.rem_s` as `i32.rem_u`) gives one
//! signature for two bugs, and one bug gives two signatures; triage must
//! tell them apart. And wasmi's own `select` bug, buried in unrelated code,
//! shrinks to a module a person would write.

mod common;

use common::{config, crosscheck, module, temp_dir, text};
use std::path::Path;

const TWO_FAULTS: &str = "wasmi-fault-add+fault-rem-s";

fn import(config: &Path, file: &Path) -> String {
    let out = crosscheck(config, &["import", file.to_str().unwrap()]);
    let shown = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{shown}{}", text(&out.stderr));
    shown
}

/// `config` with a `[triage]` section: short budgets, and `extra` lines.
fn with_triage(config: &Path, extra: &str) {
    let mut text = std::fs::read_to_string(config).unwrap();
    text += &format!("[triage]\nshrink_attempts = 100\nreduce_seconds = 60\n{extra}\n");
    std::fs::write(config, text).unwrap();
}

#[test]
fn two_bugs_with_one_signature_are_two_groups_and_one_bug_with_two_signatures_is_one() {
    let dir = temp_dir("groups");
    let config = config(&dir, &["cranelift-tail-signals", TWO_FAULTS], "", "");
    with_triage(&config, "");
    // The add bug seen through a call's result ...
    let add_call = module(
        &dir,
        "add-call.wat",
        r#"(module (func (export "f") (param i32) (result i32)
             (i32.add (local.get 0) (i32.const 1))))"#,
    );
    let shown = import(&config, &add_call);
    let signature =
        format!("mismatch call {{wasmi,cranelift-tail-signals}}=value vs {{{TWO_FAULTS}}}=value blame {TWO_FAULTS}");
    assert!(
        shown.contains(&format!("new finding 1: {signature}")),
        "{shown}"
    );
    // ... and through a global: another signature, the same trigger.
    let add_global = module(
        &dir,
        "add-global.wat",
        r#"(module
             (global (export "g") (mut i32) (i32.const 0))
             (func (export "f") (param i32)
               (global.set 0 (i32.add (local.get 0) (i32.const 1)))))"#,
    );
    let shown = import(&config, &add_global);
    assert!(shown.contains("new finding 2: mismatch global"), "{shown}");
    // The rem bug gives the add bug's signature, but its module lacks the
    // add group's trigger: a finding and a group of its own.
    let rem_call = module(
        &dir,
        "rem-call.wat",
        r#"(module (func (export "f") (param i32) (result i32)
             (i32.rem_s (i32.const -7) (i32.const 2))))"#,
    );
    let shown = import(&config, &rem_call);
    assert!(
        shown.contains(&format!(
            "new finding 3: {signature} [outside the trigger of group 1]"
        )),
        "{shown}"
    );

    let groups = text(&crosscheck(&config, &["group"]).stdout);
    assert!(groups.starts_with("2 group(s), 2 open"), "{groups}");
    assert!(
        groups.contains(&format!(
            "group 1: 2 signature(s), 2 hits, suspect {TWO_FAULTS}, trigger: vanishes when rewritten: i32.add (as a subtraction of the negation)"
        )),
        "{groups}"
    );
    assert!(
        groups.contains(&format!("group 2: 1 signature(s), 1 hits, suspect {TWO_FAULTS}, trigger: no rewrite makes it vanish")),
        "{groups}"
    );
    // The triage listing puts a group's findings under it.
    let triage = text(&crosscheck(&config, &["triage"]).stdout);
    assert!(triage.contains("group 1: 2 signature(s)"), "{triage}");
    assert!(triage.contains("\n  #1 "), "{triage}");
    assert!(triage.contains("\n  #2 "), "{triage}");

    // A person's decision sticks: split finding 2 off, shrink it again.
    let split = crosscheck(&config, &["group", "split", "2"]);
    assert_eq!(split.status.code(), Some(0), "{}", text(&split.stderr));
    let shrink = crosscheck(&config, &["shrink", "2"]);
    assert_eq!(shrink.status.code(), Some(0), "{}", text(&shrink.stderr));
    let groups = text(&crosscheck(&config, &["group"]).stdout);
    assert!(groups.starts_with("3 group(s)"), "{groups}");
    let shown = text(&crosscheck(&config, &["group", "show", "1"]).stdout);
    assert!(shown.contains("#1 ") && !shown.contains("#2 "), "{shown}");
    // Joined back by hand.
    let join = crosscheck(&config, &["group", "join", "1", "3"]);
    assert_eq!(join.status.code(), Some(0), "{}", text(&join.stderr));
    let shown = text(&crosscheck(&config, &["group", "show", "1"]).stdout);
    assert!(shown.contains("#1 ") && shown.contains("#2 "), "{shown}");
    // The gate counts the open groups: 2 bugs, not 3 findings.
    let gate = text(&crosscheck(&config, &["gate"]).stdout);
    let line = gate
        .lines()
        .find(|l| l.contains("open mismatch findings"))
        .unwrap_or_default();
    assert!(line.contains(" 2 "), "{gate}");
}

#[test]
fn a_known_bug_rule_can_name_a_groups_trigger() {
    let dir = temp_dir("groups-suppress");
    let config = config(&dir, &["cranelift-tail-signals", TWO_FAULTS], "", "");
    with_triage(
        &config,
        &format!(
            "[[triage.suppress]]\nengine = {TWO_FAULTS:?}\ntrigger = \"add-as-sub-of-negation:i32.add\"\nreason = \"the add fault\""
        ),
    );
    let add_call = module(
        &dir,
        "add-call.wat",
        r#"(module (func (export "f") (param i32) (result i32)
             (i32.add (local.get 0) (i32.const 1))))"#,
    );
    import(&config, &add_call);
    let listed = text(&crosscheck(&config, &["findings", "show", "1"]).stdout);
    assert!(listed.contains("suppressed"), "{listed}");
}

#[test]
fn wasmis_select_bug_shrinks_to_at_most_60_bytes() {
    let dir = temp_dir("groups-select");
    let config = config(
        &dir,
        &[
            "wasmtime-default",
            "cranelift-tail-explicit",
            "cranelift-notail-signals",
            "cranelift-notail-explicit+nofuel",
        ],
        "",
        "",
    );
    with_triage(&config, "");
    // The bug (corpus/wasmi-select-eqz.wat) among code that has nothing to
    // do with it.
    let buried = module(
        &dir,
        "buried.wat",
        r#"(module
             (memory (export "m") 1)
             (global $g (mut i32) (i32.const 7))
             (data (i32.const 0) "unrelated bytes")
             (func $noise (export "noise") (param i32) (result i32)
               (global.set $g (i32.mul (local.get 0) (i32.const 3)))
               (i32.store (i32.const 8) (global.get $g))
               (global.get $g))
             (func (export "f") (param i32 i32) (result i32)
               (select (i32.const 1) (local.get 1) (i32.eqz (local.get 0)))))"#,
    );
    let shown = import(&config, &buried);
    assert!(shown.contains("new finding 1: mismatch"), "{shown}");
    let finding = text(&crosscheck(&config, &["findings", "show", "1"]).stdout);
    let path = finding
        .lines()
        .find_map(|l| l.strip_prefix("shrunk module: "))
        .unwrap_or_else(|| panic!("no shrunk module: {finding}"));
    let wasm = std::fs::read(path.split_whitespace().next().unwrap()).unwrap();
    let wat = wasmprinter::print_bytes(&wasm).unwrap();
    assert!(wasm.len() <= 60, "{} bytes:\n{wat}", wasm.len());
    assert!(wat.contains("select") && wat.contains("i32.eqz"), "{wat}");
    let groups = text(&crosscheck(&config, &["group"]).stdout);
    assert!(groups.contains("suspect wasmi"), "{groups}");
    assert!(groups.contains("select (as if/else)"), "{groups}");
}
