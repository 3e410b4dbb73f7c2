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
            "--steps must be at least 2",
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
        printed.contains("ack(2, 3): 3 calls per round, 3 rounds"),
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
