//! The real `crosscheck` binary on real engines.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn crosscheck(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_crosscheck"))
        .args(args)
        .current_dir(workspace())
        .output()
        .expect("running crosscheck")
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("crosscheck-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn ackermann_agrees_across_the_default_matrix() {
    let out = crosscheck(&[
        "check",
        "corpus/ackermann.wat",
        "--invoke",
        "ack",
        "--args",
        "3,8",
    ]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(text.contains("wasmi result: [i32:2045]"), "{text}");
    assert!(text.contains("verdict: agree"), "{text}");
    for variant in [
        "wasmtime-default",
        "cranelift-tail-explicit",
        "cranelift-notail-signals",
        "cranelift-notail-explicit",
    ] {
        assert!(text.contains(variant), "{variant} missing: {text}");
    }
}

#[test]
fn known_wasmi_select_divergence_is_reported_with_who_disagrees() {
    let out = crosscheck(&[
        "check",
        "corpus/wasmi-select-eqz.wat",
        "--invoke",
        "f",
        "--args",
        "3,5",
    ]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert!(
        text.contains("MISMATCH at call #0 \"f\"(i32:3, i32:5)"),
        "{text}"
    );
    assert!(text.contains("{wasmi}: [i32:1]"), "{text}");
    // The tie-breakers of other families side with the four Cranelift
    // variants: wasmi is blamed.
    assert!(
        text.contains(
            "{wasmtime-default, cranelift-tail-explicit, cranelift-notail-signals, cranelift-notail-explicit+nofuel, wasmtime-default@51, cranelift-tail-signals+opt-none, pulley-tail-signals, winch-notail-signals}: [i32:5]"
        ),
        "{text}"
    );
    assert!(
        text.contains("blame: wasmi (tie-breakers: cranelift-tail-signals+opt-none, pulley-tail-signals, winch-notail-signals)"),
        "{text}"
    );
}

#[test]
fn a_case_is_reproducible_from_its_seed() {
    let dir = temp_dir("case");
    let (a, b, wat) = (dir.join("a.wasm"), dir.join("b.wasm"), dir.join("a.wat"));
    let first = crosscheck(&[
        "case",
        "--seed",
        "11",
        "--emit-wasm",
        a.to_str().unwrap(),
        "--emit-wat",
        wat.to_str().unwrap(),
    ]);
    let second = crosscheck(&["case", "--seed", "11", "--emit-wasm", b.to_str().unwrap()]);
    assert!(
        matches!(first.status.code(), Some(0 | 1 | 3)),
        "{}",
        stderr(&first)
    );
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    assert!(std::fs::read_to_string(&wat)
        .unwrap()
        .starts_with("(module"));
    let verdict = |o: &Output| {
        stdout(o)
            .lines()
            .find(|l| l.starts_with("verdict:"))
            .map(String::from)
    };
    assert!(verdict(&first).is_some(), "{}", stdout(&first));
    assert_eq!(verdict(&first), verdict(&second));
    assert!(stdout(&first).contains("reproduce: crosscheck case --seed 11"));
    // The emitted module checks the same way as the seed did.
    let check = crosscheck(&["check", a.to_str().unwrap(), "--seed", "11"]);
    assert_eq!(
        check.status.code(),
        first.status.code(),
        "{}",
        stdout(&check)
    );
}

#[test]
fn sweep_counts_every_verdict_and_names_a_fault_injected_engine() {
    let dir = temp_dir("sweep");
    let config = dir.join("faulty.toml");
    std::fs::write(
        &config,
        "[matrix]\noracle = \"wasmi\"\nengines = [\"cranelift-tail-signals\", \"wasmi-fault-i64-mul\"]\n",
    )
    .unwrap();
    let json = dir.join("totals.json");
    let out = crosscheck(&[
        "--config",
        config.to_str().unwrap(),
        "sweep",
        "--seeds",
        "0..200",
        "--json",
        json.to_str().unwrap(),
    ]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert!(text.starts_with("200 cases in"), "{text}");
    assert!(
        text.contains("{wasmi-fault-i64-mul}="),
        "fault not named alone: {text}"
    );
    let totals: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let counted: u64 = totals["verdicts"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(
        counted, 200,
        "every case has exactly one verdict: {}",
        totals["verdicts"]
    );
}

#[test]
fn bad_input_gets_a_clear_error_and_exit_status_2() {
    let dir = temp_dir("bad");
    let truncated = dir.join("truncated.wasm");
    let mut bytes =
        wat::parse_str("(module (func (export \"f\") (result i32) i32.const 1))").unwrap();
    bytes.truncate(bytes.len() - 3);
    std::fs::write(&truncated, &bytes).unwrap();
    let garbage = dir.join("garbage.bin");
    std::fs::write(&garbage, [0xde, 0xad, 0xbe, 0xef]).unwrap();
    let bad_wat = dir.join("bad.wat");
    std::fs::write(&bad_wat, "(module (func (export \"f\") i32.frobnicate))").unwrap();
    let bad_config = dir.join("bad.toml");
    std::fs::write(
        &bad_config,
        "[matrix]\noracle = \"wasmi\"\nengines = [\"cranelift-tail-sginals\"]\n",
    )
    .unwrap();
    let bad_key = dir.join("badkey.toml");
    std::fs::write(
        &bad_key,
        "[matrix]\noracle = \"wasmi\"\nengines = []\n[execution]\ncalls_per_exprt = 3\n",
    )
    .unwrap();

    let t = truncated.to_str().unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["check", t], "not valid WebAssembly"),
        (
            vec!["check", garbage.to_str().unwrap()],
            "neither a WebAssembly binary",
        ),
        (
            vec!["check", bad_wat.to_str().unwrap()],
            "is not a valid .wat module",
        ),
        (
            vec!["check", "/nonexistent/x.wasm"],
            "cannot read /nonexistent/x.wasm",
        ),
        (
            vec!["check", "corpus/ackermann.wat", "--invoke", "nope"],
            "no exported function named \"nope\"",
        ),
        (
            vec![
                "check",
                "corpus/ackermann.wat",
                "--invoke",
                "ack",
                "--args",
                "1",
            ],
            "takes 2 argument(s)",
        ),
        (
            vec!["sweep", "--seeds", "10..5"],
            "bad seed range \"10..5\"",
        ),
        (
            vec![
                "--config",
                bad_config.to_str().unwrap(),
                "case",
                "--seed",
                "1",
            ],
            "unknown engine \"cranelift-tail-sginals\"",
        ),
        (
            vec!["--config", bad_key.to_str().unwrap(), "case", "--seed", "1"],
            "calls_per_exprt",
        ),
        (
            vec!["--config", "/nonexistent.toml", "case", "--seed", "1"],
            "cannot read config file /nonexistent.toml",
        ),
        (vec!["case", "--seed", "-4"], "--seed"),
    ];
    for (args, says) in cases {
        let out = crosscheck(&args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}{}",
            stdout(&out),
            stderr(&out)
        );
        assert!(
            stderr(&out).contains(says),
            "{args:?}: expected {says:?} in {}",
            stderr(&out)
        );
    }
}

#[test]
fn known_wasmi_global_divergence_after_a_select_is_reported() {
    let out = crosscheck(&["check", "corpus/wasmi-select-ref-is-null.wat"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert!(text.contains("verdict: MISMATCH at global \"\""), "{text}");
    assert!(text.contains("{wasmi}: i32:0"), "{text}");
    assert!(
        text.contains(
            "{wasmtime-default, cranelift-tail-explicit, cranelift-notail-signals, cranelift-notail-explicit+nofuel, wasmtime-default@51, cranelift-tail-signals+opt-none, pulley-tail-signals, winch-notail-signals}: i32:1"
        ),
        "{text}"
    );
    assert!(text.contains("blame: wasmi"), "{text}");
}

#[test]
fn an_engine_panic_is_a_crash_attributed_to_that_engine() {
    let out = crosscheck(&["check", "corpus/wasmi-store-translate-panic.wat"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert!(text.contains("verdict: CRASH"), "{text}");
    assert!(
        text.contains("wasmi panicked: internal error: entered unreachable code (at "),
        "{text}"
    );
    // Located in wasmi's sources, without this machine's registry path.
    assert!(
        text.contains("(at wasmi-2.0.0/src/engine/translator/func/mod.rs:"),
        "{text}"
    );
    // The panic is reported once, in the verdict, not dumped by the panic hook.
    assert!(!stderr(&out).contains("panicked at"), "{}", stderr(&out));
    // Wasmtime ran the module regardless.
    assert!(text.contains("wasmtime-default"), "{text}");
}

#[test]
fn recorded_findings_are_deduplicated_and_persist_across_runs() {
    let dir = temp_dir("record");
    let data = dir.join("data");
    let _ = std::fs::remove_dir_all(&data);
    let config = dir.join("record.toml");
    std::fs::write(
        &config,
        format!(
            "[matrix]\noracle = \"wasmi\"\nengines = [\"cranelift-tail-signals\", \"wasmi-fault-i64-mul\"]\n\
             [store]\ndata_dir = {:?}\n",
            data.to_str().unwrap()
        ),
    )
    .unwrap();
    let cfg = config.to_str().unwrap();
    let sweep = |seeds: &str| crosscheck(&["--config", cfg, "sweep", "--seeds", seeds, "--record"]);
    let first = sweep("0..120");
    assert_eq!(
        first.status.code(),
        Some(1),
        "{}{}",
        stdout(&first),
        stderr(&first)
    );
    assert!(
        stdout(&first).contains("new finding(s)"),
        "{}",
        stdout(&first)
    );

    let listed = crosscheck(&["--config", cfg, "findings"]);
    let list = stdout(&listed);
    assert_eq!(listed.status.code(), Some(0), "{list}{}", stderr(&listed));
    let faulty: Vec<&str> = list
        .lines()
        .filter(|l| l.contains("{wasmi-fault-i64-mul}="))
        .collect();
    assert!(
        !faulty.is_empty(),
        "the injected fault was not recorded: {list}"
    );
    let hits = |text: &str| -> u64 {
        text.lines()
            .filter_map(|l| {
                l.split(" hits")
                    .next()?
                    .split_whitespace()
                    .last()?
                    .parse::<u64>()
                    .ok()
            })
            .sum()
    };
    let total_first = hits(&list);
    let count_first = list.lines().next().unwrap().to_string();

    // The same seeds again: the same findings, and a seed is one hit
    // however often it is run.
    let second = sweep("0..120");
    assert!(
        stdout(&second).contains(": 0 new finding(s)"),
        "{}",
        stdout(&second)
    );
    let list_again = stdout(&crosscheck(&["--config", cfg, "findings"]));
    assert_eq!(
        list_again.lines().next().unwrap(),
        count_first,
        "{list_again}"
    );
    assert_eq!(hits(&list_again), total_first, "{list_again}");
    // New seeds hitting the same bugs add hits.
    sweep("120..400");
    let list_more = stdout(&crosscheck(&["--config", cfg, "findings"]));
    assert!(hits(&list_more) > total_first, "{list_more}");

    let id = faulty[0].split_whitespace().next().unwrap();
    let shown = crosscheck(&["--config", cfg, "findings", "show", id]);
    let text = stdout(&shown);
    assert!(
        text.contains("reproduce: crosscheck case --seed "),
        "{text}"
    );
    let module = text
        .lines()
        .find_map(|l| l.strip_prefix("module: "))
        .unwrap();
    assert!(
        std::fs::read(module).unwrap().starts_with(b"\0asm"),
        "{module}"
    );

    // A damaged store is refused and left as it was.
    let db = data.join("crosscheck.sqlite");
    for side in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(data.join(format!("crosscheck.sqlite{side}")));
    }
    std::fs::write(&db, b"garbage").unwrap();
    let refused = crosscheck(&["--config", cfg, "findings"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains("left untouched"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(std::fs::read(&db).unwrap(), b"garbage");
}

#[test]
fn seed_corpus_writes_each_seeds_generation_entropy() {
    let dir = temp_dir("seed-corpus");
    let out_dir = dir.join("inputs");
    let out = crosscheck(&[
        "seed-corpus",
        "--seeds",
        "40..44",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("4 input(s) of 32768 bytes"),
        "{}",
        stdout(&out)
    );
    let read = |seed: u64| std::fs::read(out_dir.join(format!("seed-{seed}"))).unwrap();
    let inputs: Vec<Vec<u8>> = (40..44).map(read).collect();
    assert!(inputs.iter().all(|bytes| bytes.len() == 32768));
    assert!(
        inputs.windows(2).all(|pair| pair[0] != pair[1]),
        "seeds differ"
    );
    // The same seed always gives the same input (it is the daemon's stream).
    let again = dir.join("again");
    let out = crosscheck(&["seed-corpus", "--seeds", "42..43", again.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(std::fs::read(again.join("seed-42")).unwrap(), inputs[2]);

    let out = crosscheck(&["seed-corpus", "--seeds", "5..5", out_dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("empty"), "{}", stderr(&out));
}

/// Wasmtime 38's `sdiv` by INT_MIN (corpus/cranelift-sdiv-int-min.wat): the
/// releases with the bug give a mismatch blamed on Cranelift's mid-end,
/// the fixed ones agree. A regression test of the fix on the default build,
/// and of the attribution on a build against 36 to 38.
#[test]
fn cranelift_sdiv_by_int_min_is_fixed_from_39_and_blamed_on_the_mid_end_before() {
    let out = crosscheck(&[
        "check",
        "corpus/cranelift-sdiv-int-min.wat",
        "--invoke",
        "f",
        "--args",
        "-2147483648",
    ]);
    let text = stdout(&out);
    let major: u64 = oracles::versions::WASMTIME
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .expect("the linked Wasmtime version");
    if major >= 39 {
        assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
        assert!(text.contains("wasmi result: [i32:1]"), "{text}");
        assert!(text.contains("verdict: agree"), "{text}");
    } else {
        assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
        assert!(
            text.contains("blame: Cranelift's optimizer (mid-end)"),
            "{text}"
        );
        assert!(text.contains("[i32:-1]"), "{text}");
    }
}

#[test]
fn bench_profile_accounts_for_every_stage_engine_and_mode_of_the_cases_it_ran() {
    let out = crosscheck(&["bench", "--profile", "--seeds", "0..40"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("40 seeds (0..40)"), "{text}");
    // The stage table: each row's share of the wall time, summing to the
    // whole (the rest is its own row).
    let shares: Vec<f64> = text
        .lines()
        .skip_while(|l| !l.starts_with("stage"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .map(|l| {
            let share = l.split_whitespace().rev().nth(1).unwrap();
            share.trim_end_matches('%').parse().unwrap()
        })
        .collect();
    let total: f64 = shares.iter().sum();
    assert!((total - 100.0).abs() < 1.0, "shares sum to {total}: {text}");
    for stage in ["generation", "comparison", "engines", "worker messages"] {
        assert!(
            text.lines().any(|l| l.starts_with(stage)),
            "no {stage} row: {text}"
        );
    }
    // Each engine of the default matrix compiled every case it ran.
    let compile_ms = |engine: &str| -> f64 {
        let row = text
            .lines()
            .find(|l| l.split_whitespace().next() == Some(engine))
            .unwrap_or_else(|| panic!("no {engine} row: {text}"));
        row.split_whitespace().nth(1).unwrap().parse().unwrap()
    };
    for engine in ["wasmi", "wasmtime-default", "cranelift-tail-explicit"] {
        assert!(compile_ms(engine) > 0.0, "{engine}: {text}");
    }
    // 40 default seeds draw wasm-smith, rule-guided and stack cases.
    for mode in ["wasm-smith ", "rule-guided", "stack program"] {
        assert!(
            text.lines().any(|l| l.starts_with(mode)),
            "no {mode} row: {text}"
        );
    }
    assert!(text.contains("daemon, 2 workers:"), "{text}");
}
