//! `crosscheck bisect` end to end, with the builds of five "releases" put
//! in its cache by hand: releases 40 to 42 are this crosscheck with a
//! Cranelift fault (`i64.mul` compiled as `i64.add`), 43 and 44 the same
//! crosscheck without it, as if Wasmtime 43 had fixed the bug. Building
//! real releases takes minutes each; `releases::builds` has unit tests.

mod common;

use common::{config, crosscheck, finding_id, module, temp_dir, text};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

const MUL: &str = r#"(module
    (func (export "mul") (param i64 i64) (result i64)
        local.get 0 local.get 1 i64.mul))"#;

/// Puts a build of "Wasmtime `major`" into `cache` by hand: a script running this
/// crosscheck, with `config` instead of the one bisect passes when given.
fn fake_release(cache: &Path, major: u64, config: Option<&Path>) {
    let dir = cache.join(format!("wasmtime-{major}"));
    std::fs::create_dir_all(&dir).unwrap();
    let real = env!("CARGO_BIN_EXE_crosscheck");
    let script = match config {
        // bisect passes `--config FILE` first.
        Some(config) => format!(
            "#!/bin/sh\nshift 2\nexec {real} --config {} \"$@\"\n",
            config.display()
        ),
        None => format!("#!/bin/sh\nexec {real} \"$@\"\n"),
    };
    let binary = dir.join("crosscheck");
    std::fs::write(&binary, script).unwrap();
    std::fs::set_permissions(&binary, std::fs::Permissions::from_mode(0o755)).unwrap();
    // No stamp: a build put there by hand, used as it is.
    std::fs::write(dir.join("version"), format!("{major}.0.2")).unwrap();
}

#[test]
fn bisect_names_the_first_fixed_release_and_records_it() {
    let dir = temp_dir("bisect");
    let faulty = config(&dir, &["cranelift-tail-signals+fault-i64-mul"], "", "");
    let fixed_dir = dir.join("fixed");
    std::fs::create_dir_all(&fixed_dir).unwrap();
    let fixed = config(&fixed_dir, &["cranelift-tail-signals"], "", "");
    let wat = module(&dir, "mul.wat", MUL);
    let out = crosscheck(&faulty, &["import", "--no-shrink", wat.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let id = finding_id(&text(&out.stdout));

    let cache = dir.join("builds");
    for major in 40..=44 {
        fake_release(&cache, major, (major >= 43).then_some(fixed.as_path()));
    }
    let out = crosscheck(
        &faulty,
        &[
            "bisect",
            &id,
            "--versions",
            "40..44",
            "--cache",
            cache.to_str().unwrap(),
        ],
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("first fixed in Wasmtime 43 (43.0.2); shown by 42 (42.0.2)"),
        "{stdout}"
    );
    // Both ends and the releases the search needed, not every one.
    assert!(stdout.contains("Wasmtime 40 (40.0.2): shown"), "{stdout}");
    assert!(stdout.contains("Wasmtime 44 (44.0.2): absent"), "{stdout}");
    assert!(!stdout.contains("Wasmtime 41 (41.0.2)"), "{stdout}");

    // Recorded with the finding.
    let show = text(&crosscheck(&faulty, &["findings", "show", &id]).stdout);
    assert!(
        show.contains("releases: first fixed in Wasmtime 43 (43.0.2); shown by 42 (42.0.2) (bisected over Wasmtime 40..44)"),
        "{show}"
    );
    let report = text(&crosscheck(&faulty, &["report", &id]).stdout);
    assert!(
        report.contains("**Releases:** first fixed in Wasmtime 43"),
        "{report}"
    );

    // A release older than the oldest supported one, and a bad range, are
    // named; nothing is recorded for them.
    let out = crosscheck(
        &faulty,
        &[
            "bisect",
            &id,
            "--versions",
            "30..40",
            "--cache",
            cache.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("oldest release crosscheck supports (36)"),
        "{}",
        text(&out.stderr)
    );
    let out = crosscheck(&faulty, &["bisect", &id, "--versions", "44..40"]);
    assert!(text(&out.stderr).contains("must be older than the last"));
    let show = text(&crosscheck(&faulty, &["findings", "show", &id]).stdout);
    assert!(show.contains("first fixed in Wasmtime 43"), "{show}");
}

#[test]
fn check_expect_says_whether_a_module_gives_a_signature() {
    let dir = temp_dir("check-expect");
    let faulty = config(&dir, &["cranelift-tail-signals+fault-i64-mul"], "", "");
    let wat = module(&dir, "mul.wat", MUL);
    let file = wat.to_str().unwrap();
    let any = crosscheck(&faulty, &["check", file, "--expect", "no such signature"]);
    assert_eq!(any.status.code(), Some(0));
    let given = text(&any.stdout);
    let signature = given
        .strip_prefix("signature: ")
        .unwrap_or_else(|| panic!("{given}"))
        .trim();
    assert!(signature.starts_with("mismatch"), "{signature}");
    let same = crosscheck(&faulty, &["check", file, "--expect", signature]);
    assert_eq!(same.status.code(), Some(1), "{}", text(&same.stdout));
}
