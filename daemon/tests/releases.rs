//! Two Wasmtime releases in one matrix, end to end: a "reference release"
//! put into the builds cache by hand (this crosscheck behind a script,
//! as `bisect`'s tests do; a real one takes minutes to build), its engines
//! named `NAME@47`, and faults injected on one side. A divergence between
//! the releases must be a `regression` or a `fix` finding naming both,
//! a compile far costlier than on the reference a `compile-regression`,
//! and the gate must fail on the first and the last only.

mod common;

use common::{crosscheck, finding_id, findings, module, status, temp_dir, text};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The reference release's major: any but the linked one works.
const REFERENCE: u64 = 35;

const MUL: &str = r#"(module
    (func (export "mul") (param i64 i64) (result i64)
        local.get 0 local.get 1 i64.mul))"#;

/// "Wasmtime `major`" in the builds cache `builds`: this crosscheck behind
/// a script, serving engines after `rewrite` (a sed expression on the
/// request that names the engine) when given.
fn fake_build(builds: &Path, major: u64, rewrite: Option<&str>) {
    let build = builds.join(format!("wasmtime-{major}"));
    std::fs::create_dir_all(&build).unwrap();
    let real = env!("CARGO_BIN_EXE_crosscheck");
    // A process substitution, not a pipeline: the served engine must be
    // the only writer of the client's pipe, so that its death is an end
    // of file there (a shell waiting on a pipeline would hold it open).
    let serve = match rewrite {
        Some(expression) => format!(
            "if [ \"$1\" = serve-engine ]; then exec {real} serve-engine < <(sed -u '{expression}'); fi\n"
        ),
        None => String::new(),
    };
    let script = build.join("crosscheck");
    std::fs::write(&script, format!("#!/bin/bash\n{serve}exec {real} \"$@\"\n")).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(build.join("version"), format!("{major}.0.1")).unwrap();
}

/// A store in `dir` whose builds cache holds "Wasmtime 35"
/// ([`fake_build`], serving engines after `rewrite`).
fn setup(dir: &Path, matrix: &str, extra: &str, rewrite: Option<&str>) -> PathBuf {
    let data = dir.join("data");
    fake_build(&data.join("builds"), REFERENCE, rewrite);
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[matrix]\noracle = \"wasmi\"\n{matrix}\n[store]\ndata_dir = {:?}\n[daemon]\nworkers = 2\n[dashboard]\naddress = \"\"\n[triage]\nshrink_attempts = 100\nreduce_seconds = 30\n{extra}\n",
            data.display().to_string()
        ),
    )
    .unwrap();
    config
}

fn import(config: &Path, file: &Path) -> String {
    let out = crosscheck(config, &["import", "--no-shrink", file.to_str().unwrap()]);
    let shown = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{shown}{}", text(&out.stderr));
    shown
}

fn gate_line(config: &Path, rule: &str) -> String {
    let gate = text(&crosscheck(config, &["gate"]).stdout);
    gate.lines()
        .find(|l| l.contains(rule))
        .unwrap_or_else(|| panic!("no rule {rule:?} in {gate}"))
        .to_string()
}

#[test]
fn a_divergence_between_releases_is_a_regression_or_a_fix_and_the_gate_fails_on_a_regression() {
    // The candidate (the linked release) is wrong, the reference right.
    let dir = temp_dir("releases-regression");
    let config = setup(
        &dir,
        &format!(
            "engines = [\"cranelift-tail-signals+fault-i64-mul\", \"cranelift-tail-explicit+fault-i64-mul\"]\nreference_release = {REFERENCE}"
        ),
        "",
        None,
    );
    let mul = module(&dir, "mul.wat", MUL);
    // `check` shows the other release's engines beside the linked ones.
    let checked = crosscheck(&config, &["check", mul.to_str().unwrap()]);
    let shown = text(&checked.stdout);
    assert_eq!(
        checked.status.code(),
        Some(1),
        "{shown}{}",
        text(&checked.stderr)
    );
    assert!(
        shown.contains(&format!("cranelift-tail-signals@{REFERENCE} ")),
        "{shown}"
    );
    let imported = import(&config, &mul);
    assert!(
        imported.contains(&format!("new finding 1: regression {REFERENCE}->")),
        "{imported}"
    );
    let status = status(&config);
    let found = findings(&status);
    let regression = found
        .iter()
        .find(|f| f["kind"] == "regression")
        .unwrap_or_else(|| panic!("{status:#}"));
    let attribution = regression["suspect"].as_str().unwrap();
    assert!(
        attribution.starts_with(&format!("regression from Wasmtime {REFERENCE} to ")),
        "{attribution}"
    );
    assert!(
        attribution.contains(&format!("the oracle sides with Wasmtime {REFERENCE}")),
        "{attribution}"
    );
    // The tie-breakers (all on the linked release) side with the reference.
    assert!(
        attribution.contains(&format!("winch-notail-signals with Wasmtime {REFERENCE}")),
        "{attribution}"
    );
    assert!(
        attribution.contains("suspect Cranelift at opt level speed on x64 in Wasmtime ")
            && attribution.ends_with(&format!(", a change since {REFERENCE}")),
        "{attribution}"
    );
    let line = gate_line(&config, "open regression findings");
    assert!(line.contains("FAIL") && line.contains(" 1 "), "{line}");
    // The report names the reference release's exact version.
    let id = regression["id"].to_string();
    let report = text(&crosscheck(&config, &["report", &id]).stdout);
    assert!(
        report.contains(&format!(
            "| wasmtime (engines `@{REFERENCE}`) | {REFERENCE}.0.1 |"
        )),
        "{report}"
    );

    // The candidate right, the reference wrong: a fix, which the gate
    // does not hold against the candidate.
    let dir = temp_dir("releases-fix");
    let config = setup(
        &dir,
        &format!("engines = [\"cranelift-tail-signals\"]\nreference_release = {REFERENCE}"),
        "",
        Some(r#"s/"engine":"\([^"]*\)"/"engine":"\1+fault-i64-mul"/"#),
    );
    let mul = module(&dir, "mul.wat", MUL);
    let imported = import(&config, &mul);
    assert!(
        imported.contains(&format!("new finding 1: fix {REFERENCE}->")),
        "{imported}"
    );
    assert!(
        imported.contains(&format!(
            "blame Cranelift at opt level speed on x64 in Wasmtime {REFERENCE}, fixed in "
        )),
        "{imported}"
    );
    let line = gate_line(&config, "open regression findings");
    assert!(line.contains("pass") && line.contains(" 0 "), "{line}");
}

#[test]
fn a_crash_of_the_reference_release_is_its_engines_death_and_the_case_goes_on() {
    // The reference's `cranelift-tail-signals` segfaults on `f32.mul`.
    let dir = temp_dir("releases-crash");
    let config = setup(
        &dir,
        &format!("engines = [\"cranelift-tail-signals\"]\nreference_release = {REFERENCE}"),
        "",
        Some(r#"s/"engine":"cranelift-tail-signals"/"engine":"wasmi-fault-segv"/"#),
    );
    let wat = module(
        &dir,
        "segv.wat",
        r#"(module (func (export "f") (param f32) (result f32)
             local.get 0 f32.const 2 f32.mul))"#,
    );
    let out = crosscheck(&config, &["check", wat.to_str().unwrap()]);
    let shown = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{shown}{}", text(&out.stderr));
    let row = shown
        .lines()
        .find(|l| l.starts_with(&format!("cranelift-tail-signals@{REFERENCE} ")))
        .unwrap_or_else(|| panic!("no row of the reference's engine: {shown}"));
    assert!(
        row.contains("CRASH while running: killed by SIGSEGV"),
        "{row}"
    );
    // The other engines ran to the end, in the same worker.
    assert!(
        shown.contains("ran the case to the end: wasmi, cranelift-tail-signals"),
        "{shown}"
    );
    assert!(!shown.contains("worker process(es) died"), "{shown}");
}

#[test]
fn a_missing_reference_build_is_named_with_the_command_that_makes_it() {
    let dir = temp_dir("releases-missing");
    let config = setup(
        &dir,
        "engines = [\"cranelift-tail-signals\"]\nreference_release = 34",
        "",
        None,
    );
    let mul = module(&dir, "mul.wat", MUL);
    let out = crosscheck(&config, &["check", mul.to_str().unwrap()]);
    let error = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{error}");
    assert!(error.contains("crosscheck build-release 34"), "{error}");
}

/// A store in `dir` whose candidate engine compiles in time quadratic in
/// a module's selects, and whose reference release runs the same engine
/// as wasmi, linear.
fn quadratic_candidate(dir: &Path) -> PathBuf {
    setup(
        dir,
        &format!("engines = [\"wasmi-fault-quadratic\", \"wasmi-fault-quadratic@{REFERENCE}\"]"),
        "[cost.releases]\ntime_floor_ms = 2\nmemory_floor_mib = 0",
        Some(r#"s/"engine":"wasmi-fault-quadratic"/"engine":"wasmi"/"#),
    )
}

#[test]
fn the_daemon_finds_a_compile_far_costlier_than_on_the_reference_release() {
    // The candidate's engine compiles in time quadratic in its selects;
    // the same engine on the reference release is wasmi, linear.
    let dir = temp_dir("releases-compile");
    let config = quadratic_candidate(&dir);
    let run = crosscheck(&config, &["run", "--cases", "60"]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    let status = status(&config);
    let found = findings(&status);
    let regression = found
        .iter()
        .find(|f| f["kind"] == "compile-regression")
        .unwrap_or_else(|| panic!("no compile-regression in {status:#}"));
    assert_eq!(
        regression["signature"].as_str().unwrap(),
        format!(
            "compile-regression {REFERENCE}->{} wasmi-fault-quadratic",
            regression["signature"]
                .as_str()
                .unwrap()
                .split("->")
                .nth(1)
                .and_then(|r| r.split(' ').next())
                .unwrap()
        )
    );
    // No engine is over the absolute or oracle-relative limits: only the
    // comparison with the reference release makes it a finding.
    assert!(
        found.iter().all(|f| f["kind"] != "compile-time"),
        "{status:#}"
    );
    let id = regression["id"].to_string();
    let show = text(&crosscheck(&config, &["findings", "show", &id]).stdout);
    assert!(
        show.contains(&format!(
            "wasmi-fault-quadratic@{REFERENCE} on the reference release"
        )),
        "{show}"
    );
    assert!(show.contains("times the reference release's"), "{show}");
    // Re-run, the finding is judged against the same reference release
    // and reproduces; a module with many selects makes it far over. In a
    // store of its own: imported beside the run's finding, it would be a
    // hit of that finding (one signature), whose module is only just over
    // and would not reproduce on a busy machine.
    let selects = "(drop (select (i32.const 1) (i32.const 2) (local.get 0)))\n".repeat(800);
    let wat = module(
        &dir,
        "selects.wat",
        &format!("(module (func (export \"f\") (param i32)\n{selects}))"),
    );
    let dir = temp_dir("releases-compile-import");
    let config = quadratic_candidate(&dir);
    let id = finding_id(&import(&config, &wat));
    let repro = crosscheck(&config, &["repro", &id]);
    let shown = text(&repro.stdout);
    assert!(shown.contains("now:      compile-regression"), "{shown}");
    assert_eq!(repro.status.code(), Some(1), "{shown}");
    let line = gate_line(&config, "open compile-regression findings");
    assert!(line.contains("FAIL"), "{line}");
}

#[test]
fn a_newer_release_built_through_the_version_switch_tells_whether_its_optimizer_rewrote_a_rule() {
    use oracles::case::rules::catalog::Catalog;
    use oracles::engine::other_release::{
        add_rules_of_release, candidate_rewrites, rewrote_on_release, use_builds, CandidateRewrites,
    };
    // "Wasmtime 99": this crosscheck behind a script, newer than the
    // linked release, so it is the candidate; its rules are read from it
    // before the catalog is (this is the only test of this file that
    // reads the catalog in its own process).
    let dir = temp_dir("releases-rewrites");
    fake_build(&dir.join("builds"), 99, None);
    use_builds(&dir.join("builds"));
    add_rules_of_release(99).unwrap();
    assert_eq!(candidate_rewrites(), Some(CandidateRewrites::Build(99)));
    // Its optimizer turns a division by eight into a shift, and leaves a
    // division by a parameter; a lowering rule is not claimed.
    let udiv = Catalog::get()
        .rules
        .iter()
        .find(|r| {
            r.text
                .contains("(udiv x (iconst_u ty (u64_extract_power_of_two d)))")
        })
        .unwrap()
        .id_in_its_release();
    let by_eight = wat::parse_str(
        "(module (func (param i32) (result i32) local.get 0 i32.const 8 i32.div_u))",
    )
    .unwrap();
    let by_param = wat::parse_str(
        "(module (func (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_u))",
    )
    .unwrap();
    assert_eq!(
        rewrote_on_release(99, &by_eight, 1, &udiv).unwrap(),
        Some(true)
    );
    assert_eq!(
        rewrote_on_release(99, &by_param, 1, &udiv).unwrap(),
        Some(false)
    );
    let lowering = Catalog::get()
        .rules
        .iter()
        .find(|r| r.text.contains("(rule iadd_base_case_32_or_64_lea"))
        .unwrap()
        .id_in_its_release();
    assert_eq!(
        rewrote_on_release(99, &by_param, 1, &lowering).unwrap(),
        None
    );
    // A release with no build (here: none at all) cannot be asked, and
    // the error says which.
    let error = rewrote_on_release(98, &by_eight, 1, &udiv).unwrap_err();
    assert!(format!("{error:#}").contains("98"), "{error:#}");
}
