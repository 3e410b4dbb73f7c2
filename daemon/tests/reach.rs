//! What the generator reaches: programs of the classes real bugs of the
//! shipped release need, each proven by a fault only that class reveals,
//! found by the default mix (seeds are deterministic) through the real
//! daemon, whose workers are killed when an engine runs on.

mod common;

use common::{config, crosscheck, findings, module, status, temp_dir, text};

/// A dead-store elimination that ignores a path that never ends (Wasmtime
/// 48.0.0 to 50's): only a loop with no counter and no trap exit between a
/// store that traps and the same store after it shows it, and only on an
/// engine without fuel or epochs (`wasmtime-default`), which runs on in
/// the loop where every other engine traps. Budgeted loops (wasm-smith's
/// counters, the other shapes' counted loops) never give the fault a store
/// to drop: `engine::pass_faults`' unit test checks every module of 1,500
/// seeds of the default mix.
#[test]
fn a_dead_store_elimination_across_an_endless_loop_is_found_by_the_default_mix() {
    let dir = temp_dir("reach-endless-loop");
    let faulty = "wasmtime-default+fault-store-across-endless-loop";
    let config = config(
        &dir,
        &[faulty, "cranelift-tail-signals"],
        "workers = 2\nphase_timeout_secs = 2\nknown_hang_secs = 1",
        "",
    );
    let out = crosscheck(&config, &["run", "--cases", "1500"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let found = findings(&status(&config));
    // Every hang of the faulty engine; on a loaded machine a call of
    // another class may outlast its time limit too (it does not
    // reproduce), so the diverge case is looked for among them.
    let hangs: Vec<&serde_json::Value> = found
        .iter()
        .filter(|f| {
            // With the hang witnesses that ran on too, if any.
            f["suspect"]
                .as_str()
                .is_some_and(|s| s.starts_with(faulty) && s.contains(" ran on without end"))
        })
        .collect();
    assert!(
        !hangs.is_empty(),
        "1,500 cases of the default mix missed it: {found:#?}"
    );
    let shown: Vec<String> = hangs
        .iter()
        .map(|hit| text(&crosscheck(&config, &["findings", "show", &hit["id"].to_string()]).stdout))
        .collect();
    assert!(
        shown.iter().any(|s| s.contains("pass shape diverge")),
        "found by another class of case only: {shown:#?}"
    );
}

/// The findings of an in-process `sweep` of `seeds` with `config`, one
/// `seed<TAB>label<TAB>signature` line each.
fn sweep_findings(config: &std::path::Path, seeds: &str) -> String {
    let list = config.with_file_name(format!("findings-{seeds}.txt"));
    let out = crosscheck(
        config,
        &[
            "sweep",
            "--seeds",
            seeds,
            "--findings",
            list.to_str().unwrap(),
        ],
    );
    // 1: findings (wasmi's known ones, at least).
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        text(&out.stderr)
    );
    std::fs::read_to_string(&list).unwrap()
}

/// A module with an imported memory, table, global and function runs on
/// every engine that links imports, which link the same items; one whose
/// import the harness cannot make is refused, naming the import.
#[test]
fn check_links_an_imported_memory_table_global_and_function() {
    let dir = temp_dir("reach-imports-check");
    let config = config(
        &dir,
        &[
            "wasmtime-default",
            "cranelift-tail-explicit",
            "wasmtime-default@51",
        ],
        "",
        "",
    );
    let wat = module(
        &dir,
        "imports.wat",
        r#"(module
             (import "env" "log" (func $log (param i32 i64) (result i32)))
             (import "env" "mem" (memory 1 4))
             (import "env" "tab" (table 2 funcref))
             (import "env" "g" (global $g (mut i64)))
             (import "env" "c" (global $c i32))
             (func (export "run") (param i32) (result i32)
               (i32.store (local.get 0) (call $log (local.get 0) (global.get $g)))
               (global.set $g (i64.add (global.get $g) (i64.const 1)))
               (i32.add (global.get $c) (i32.load (local.get 0))))
             (func (export "grow") (result i32) (memory.grow (i32.const 1))))"#,
    );
    let out = crosscheck(&config, &["check", wat.to_str().unwrap(), "--seed", "3"]);
    let shown = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{shown}{}", text(&out.stderr));
    for linked in [
        "linked: \"env\" \"log\": host function (i32 i64) -> (i32)",
        "linked: \"env\" \"mem\": memory of",
        "linked: \"env\" \"tab\": table of",
        "linked: \"env\" \"g\": mutable global i64:",
        "linked: \"env\" \"c\": immutable global i32:",
    ] {
        assert!(shown.contains(linked), "{linked} missing: {shown}");
    }
    assert!(shown.contains("verdict: agree"), "{shown}");
    let release = shown
        .lines()
        .find(|l| l.starts_with("wasmtime-default@51"))
        .unwrap_or_else(|| panic!("no row of the C API release: {shown}"));
    assert!(
        release.contains(" ok ") && release.contains(" returned"),
        "the C API release links the imports too: {release}"
    );
    // A 64-bit table its table types cannot make: it sits that out.
    let table64 = module(
        &dir,
        "table64.wat",
        r#"(module (import "env" "t" (table i64 1 funcref))
             (func (export "size") (result i64) (table.size 0)))"#,
    );
    let out = crosscheck(&config, &["check", table64.to_str().unwrap()]);
    let shown = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{shown}{}", text(&out.stderr));
    assert!(
        shown.contains("rejected (expected): the C API cannot make the 64-bit table"),
        "{shown}"
    );
    let tag = module(
        &dir,
        "tag.wat",
        r#"(module (import "env" "shared" (memory 1 2 shared)) (func (export "f")))"#,
    );
    let out = crosscheck(&config, &["check", tag.to_str().unwrap()]);
    let error = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{error}");
    assert!(
        error.contains("import \"env\" \"shared\" cannot be linked: a shared memory"),
        "{error}"
    );
}

/// The host functions' call log is an observation point of its own: a
/// fault whose only effect is an argument passed to the host is a
/// mismatch at the host calls of the step, blamed on the faulty engine.
#[test]
fn a_wrong_argument_to_a_host_function_is_a_mismatch_of_its_own() {
    let dir = temp_dir("reach-host-calls");
    let config = config(
        &dir,
        &["cranelift-tail-signals", "cranelift-tail-signals+fault-add"],
        "",
        "",
    );
    let wat = module(
        &dir,
        "host.wat",
        r#"(module
             (import "env" "see" (func $see (param i32)))
             (func (export "f") (param i32 i32)
               (call $see (i32.add (local.get 0) (local.get 1)))))"#,
    );
    let out = crosscheck(&config, &["check", wat.to_str().unwrap(), "--seed", "1"]);
    let shown = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{shown}{}", text(&out.stderr));
    assert!(
        shown.contains("MISMATCH at host calls during call #0 \"f\""),
        "{shown}"
    );
    assert!(
        shown.contains("1 host call(s); imported#0:env.see[i32:"),
        "{shown}"
    );
    assert!(
        shown.contains("blame: cranelift-tail-signals+fault-add"),
        "{shown}"
    );
}

/// A bounds check of imported memories that lets an access past the end
/// through (its address wrapped into the first page): only a module that
/// imports a memory shows it, so the default mix finds it within 1,000
/// seeds and the mix without imports does not.
#[test]
fn a_bounds_check_of_imported_memories_is_found_only_with_imports() {
    let dir = temp_dir("reach-imported-memory");
    let faulty = "cranelift-tail-signals+fault-imported-memory-wrapped";
    let found = |imports_share: &str| {
        let config = config(&dir, &["cranelift-tail-signals", faulty], "", "");
        let mut text_of = std::fs::read_to_string(&config).unwrap();
        text_of.push_str(&format!("[generator]\nimports_share = {imports_share}\n"));
        std::fs::write(&config, text_of).unwrap();
        sweep_findings(&config, "0..1000")
            .lines()
            .filter(|l| l.ends_with(&format!("blame {faulty}")))
            .count()
    };
    assert!(found("0.4") > 0, "the default mix missed it in 1,000 seeds");
    assert_eq!(found("0.0"), 0, "found without imports");
}

/// Fuel is an oracle, not only a stop: every Wasmtime engine counting
/// fuel must count the same for a step, so a bulk operation charged twice
/// (what the module computes unchanged) is a mismatch of the fuel that
/// call consumed, blamed on the engine that charged it.
#[test]
fn fuel_charged_twice_for_a_bulk_operation_is_a_finding_of_its_own() {
    let dir = temp_dir("reach-fuel");
    let faulty = "cranelift-notail-signals+fault-fuel-bulk-twice";
    let config = config(&dir, &["cranelift-tail-signals", faulty], "", "");
    let wat = module(
        &dir,
        "fill.wat",
        r#"(module
             (memory (export "m") 1)
             (func (export "f") (param i32)
               (memory.fill (i32.const 0) (i32.const 7)
                            (i32.and (local.get 0) (i32.const 255)))))"#,
    );
    let out = crosscheck(
        &config,
        &[
            "check",
            wat.to_str().unwrap(),
            "--invoke",
            "f",
            "--args",
            "17",
        ],
    );
    let shown = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{shown}{}", text(&out.stderr));
    assert!(
        shown.contains("MISMATCH at fuel consumed by call #0 \"f\"(i32:17)"),
        "{shown}"
    );
    assert!(shown.contains(&format!("blame: {faulty}")), "{shown}");
    // The signature: a phase kind of its own.
    let out = crosscheck(&config, &["check", wat.to_str().unwrap(), "--expect", "x"]);
    assert!(
        text(&out.stdout).contains(&format!(
            "signature: mismatch fuel {{cranelift-tail-signals}}=fuel vs {{{faulty}}}=fuel"
        )),
        "{}",
        text(&out.stdout)
    );
}

/// A compile panic on a construct of the typed-reference catalogue (a
/// function holding a non-nullable reference local), on the Wasmtime-only
/// sub-matrix: the default mix writes such functions (the `typed-refs`
/// pass shape) and finds it within 400 seeds; wasm-smith's own proposal
/// cases never wrote one in 2,000.
#[test]
fn a_compile_panic_on_typed_references_in_control_flow_is_found_only_by_the_catalogue() {
    let dir = temp_dir("reach-typed-refs");
    let faulty = "cranelift-tail-explicit+proposals+fault-non-nullable-local-panic";
    let crashes = |extra: &str, seeds: &str| {
        let config = config(&dir, &["cranelift-tail-signals"], "", "");
        let mut text_of = std::fs::read_to_string(&config).unwrap();
        text_of = text_of.replace(
            "[store]",
            &format!(
                "proposal_engines = [\"cranelift-tail-signals+opt-none+proposals\", {faulty:?}]\n[store]"
            ),
        );
        text_of.push_str(extra);
        std::fs::write(&config, text_of).unwrap();
        let list = dir.join("findings.txt");
        let out = crosscheck(
            &config,
            &[
                "sweep",
                "--seeds",
                seeds,
                "--findings",
                list.to_str().unwrap(),
            ],
        );
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{}",
            text(&out.stderr)
        );
        std::fs::read_to_string(&list)
            .unwrap()
            .lines()
            .filter(|l| l.contains(&format!("crash {faulty}: injected fault")))
            .count()
    };
    assert!(
        crashes("", "0..400") > 0,
        "the default mix missed it in 400 seeds"
    );
    assert_eq!(
        crashes("[generator.passes]\nshare = 0.0\n", "0..2000"),
        0,
        "wasm-smith's proposal cases wrote a non-nullable local"
    );
}

/// A bug that needs two settings at once (a memory reservation and
/// memories that never move, as a published Wasmtime 48 bounds-check bug
/// does): the swarm's draws of several settings reach it, first at seed
/// 4,690 of the default mix (about one draw in 260 has the pair), and the
/// finding names both settings. A draw of one setting cannot show it, as
/// the swarm drew before this class; triage's flips name either setting
/// as a smallest change that makes it vanish (`triage::flip`'s unit test).
#[test]
fn a_fault_that_needs_two_drawn_settings_is_found_and_both_are_named() {
    let dir = temp_dir("reach-two-settings");
    let config = config(
        &dir,
        &["wasmtime-default", "wasmtime-swarm+fault-layout-add"],
        "",
        "",
    );
    let found = sweep_findings(&config, "4680..4700");
    let line = found
        .lines()
        .find(|l| l.contains("fault-layout-add"))
        .unwrap_or_else(|| panic!("seed 4690 did not show it: {found}"));
    assert!(line.starts_with("4690\t"), "{line}");
    assert!(
        line.contains(
            "blame one or more of: linear memory that never moves, a memory reservation of 1m"
        ),
        "{line}"
    );
}
