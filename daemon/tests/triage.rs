//! Triage on the real binary: shrinking a finding in worker processes and
//! marking findings.

mod common;

use common::*;

/// Runs `crosscheck shrink`, checks it kept `signature`, returns its output.
fn shrink(config: &std::path::Path, id: &str, attempts: u32, signature: &str) -> String {
    let attempts = attempts.to_string();
    let run = crosscheck(config, &["shrink", id, "--attempts", &attempts]);
    let out = text(&run.stdout);
    assert_eq!(run.status.code(), Some(0), "{out}{}", text(&run.stderr));
    assert!(out.contains(&format!("still `{signature}`")), "{out}");
    out
}

#[test]
fn a_fault_injected_mismatch_shrinks_to_a_small_module_with_the_same_signature() {
    let dir = temp_dir("shrink");
    let config = config(&dir, &["wasmi-fault-i64-mul"], "workers = 2", "");
    let run = crosscheck(&config, &["run", "--cases", "300"]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    let status = status(&config);
    // A wrong result of a call: the fault is on the side of the result.
    let finding = findings(&status)
        .into_iter()
        .find(|f| {
            let s = f["signature"].as_str().unwrap();
            s.starts_with("mismatch call") && s.contains("{wasmi-fault-i64-mul}=")
        })
        .unwrap_or_else(|| panic!("no call mismatch of the fault in {status:#}"));
    let id = finding["id"].to_string();

    let out = shrink(&config, &id, 300, finding["signature"].as_str().unwrap());
    let shrunk = out
        .lines()
        .find_map(|l| l.strip_prefix("shrunk module: "))
        .expect("the shrunk module's path");
    let bytes = std::fs::read(shrunk).unwrap();
    assert!(bytes.len() <= 200, "{} bytes:\n{out}", bytes.len());
    let wat = wasmprinter::print_bytes(&bytes).unwrap();
    assert!(wat.contains("i64.mul"), "{wat}");

    // Independently of the shrinker: the shrunk module, run with the
    // finding's seed, is still that mismatch, the fault alone on one side.
    let seed = finding["first_seed"].to_string();
    let check = crosscheck(&config, &["check", shrunk, "--seed", &seed]);
    let checked = text(&check.stdout);
    assert_eq!(check.status.code(), Some(1), "{checked}");
    assert!(checked.contains("MISMATCH at call"), "{checked}");
    assert!(checked.contains("{wasmi-fault-i64-mul}:"), "{checked}");

    let show = crosscheck(&config, &["findings", "show", &id]);
    assert!(text(&show.stdout).contains(&format!("shrunk module: {shrunk}")));
    let after = findings(&common::status(&config))
        .into_iter()
        .find(|f| f["id"] == finding["id"])
        .unwrap();
    assert_eq!(after["shrunk_size"].as_u64(), Some(bytes.len() as u64));
    // Attribution names the injected fault: two engines only, so the
    // faulty one is the odd one out of wasmi's side only by name.
    assert!(
        after["suspect"]
            .as_str()
            .unwrap()
            .contains("wasmi-fault-i64-mul"),
        "{after:#}"
    );

    // It reproduces with the fault, and not once the fault is switched off
    // (the same store, a matrix without the faulty engine).
    let repro = crosscheck(&config, &["repro", &id]);
    assert_eq!(repro.status.code(), Some(1), "{}", text(&repro.stdout));
    assert!(text(&repro.stdout).contains("reproduces"));
    let fixed = dir.join("fixed.toml");
    std::fs::write(
        &fixed,
        std::fs::read_to_string(&config)
            .unwrap()
            .replace("\"wasmi-fault-i64-mul\"", "\"wasmi-fault-rem-s\""),
    )
    .unwrap();
    let repro = crosscheck(&fixed, &["repro", &id]);
    assert_eq!(repro.status.code(), Some(0), "{}", text(&repro.stdout));
    assert!(text(&repro.stdout).contains("does not reproduce"));

    // Replaying the whole store: with the fault every finding reproduces,
    // without it every one is fixed.
    let replay = crosscheck(&config, &["replay", "--jobs", "2"]);
    let replayed = text(&replay.stdout);
    let total = findings(&common::status(&config)).len();
    assert!(
        replayed.contains(&format!("{total} finding(s): {total} reproduce, 0 fixed")),
        "{replayed}"
    );
    let replay = crosscheck(&fixed, &["replay"]);
    let replayed = text(&replay.stdout);
    assert!(
        replayed.contains(&format!("{total} finding(s): 0 reproduce, {total} fixed")),
        "{replayed}"
    );
    assert!(
        replayed.contains(&format!("FIXED (`crosscheck mark {id} fixed`)")),
        "{replayed}"
    );
}

#[test]
fn triage_lists_crashes_before_mismatches_and_names_the_suspects() {
    let dir = temp_dir("triage");
    let config = config(
        &dir,
        &[
            "cranelift-tail-signals",
            "cranelift-tail-explicit",
            "wasmi-fault-segv",
            "wasmi-fault-i64-mul",
        ],
        "workers = 2",
        "",
    );
    let run = crosscheck(&config, &["run", "--cases", "300"]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    let out = crosscheck(&config, &["triage"]);
    let listed = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{listed}");
    let lines: Vec<&str> = listed.lines().skip(1).collect();
    assert!(lines.len() >= 2, "{listed}");
    assert!(lines[0].contains("crash"), "{listed}");
    assert!(
        lines[0].contains("the worker died in wasmi-fault-segv: suspect wasmi-fault-segv"),
        "{listed}"
    );
    assert!(lines.iter().all(|l| l.contains(" NEW ")), "{listed}");
    // A wrong result of the injected fault: it alone leaves its family
    // (wasmi and the segfaulting variant), the Cranelift variants and the
    // tie-breakers agree with them.
    assert!(
        lines.iter().any(|l| l.contains(
            "wasmi-fault-i64-mul disagrees with two wasmi engines and two Cranelift variants at opt level speed"
        ) && l.contains("suspect wasmi-fault-i64-mul --")),
        "{listed}"
    );
    let kinds: Vec<&str> = lines
        .iter()
        .map(|l| l.split_whitespace().nth(2).unwrap())
        .collect();
    let first_mismatch = kinds.iter().position(|k| *k == "mismatch").unwrap();
    assert!(
        kinds[..first_mismatch].iter().all(|k| *k == "crash"),
        "{listed}"
    );
}

#[test]
fn a_finding_that_kills_its_worker_shrinks_in_worker_processes() {
    let dir = temp_dir("shrink-segv");
    let config = config(&dir, &["wasmi-fault-segv"], "workers = 1", "");
    let run = crosscheck(&config, &["run", "--cases", "60"]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    let finding = findings(&status(&config))
        .into_iter()
        .find(|f| f["kind"] == "crash")
        .expect("a segfault within 60 seeds");
    let out = shrink(
        &config,
        &finding["id"].to_string(),
        40,
        "crash worker killed by SIGSEGV in wasmi-fault-segv",
    );
    assert!(out.contains("f32.mul"), "{out}");
}

#[test]
fn findings_are_marked_and_bad_ids_are_errors() {
    let dir = temp_dir("mark");
    let config = config(&dir, &["wasmi-fault-i64-mul"], "workers = 1", "");
    // The fault's first exposure is seed 118.
    crosscheck(&config, &["run", "--cases", "200"]);
    let id = findings(&status(&config))[0]["id"].to_string();
    let mark = crosscheck(&config, &["mark", &id, "ignored"]);
    assert_eq!(mark.status.code(), Some(0), "{}", text(&mark.stderr));
    let marked = findings(&status(&config))
        .into_iter()
        .find(|f| f["id"].as_i64() == id.parse().ok())
        .unwrap();
    assert_eq!(marked["status"], "ignored");
    for (args, expected) in [
        (vec!["mark", "9999", "fixed"], "no finding 9999"),
        (vec!["mark", &id, "solved"], "solved"),
        (vec!["shrink", "9999"], "no finding 9999"),
    ] {
        let out = crosscheck(&config, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            text(&out.stderr).contains(expected),
            "{}",
            text(&out.stderr)
        );
    }
}

#[test]
fn the_daemon_triages_new_findings_in_the_background_while_it_fuzzes() {
    let dir = temp_dir("background");
    let config = config(&dir, &["wasmi-fault-i64-mul"], "workers = 1", "");
    let text_with_triage = std::fs::read_to_string(&config).unwrap()
        + "[triage]\nshrink_attempts = 100\nshrink_seconds = 20\ndrain_seconds = 0\n";
    std::fs::write(&config, text_with_triage).unwrap();
    // Long enough for the first findings (seeds 118 and 369, a few seconds
    // in) to be reproduced and shrunk while fuzzing goes on.
    let run = crosscheck(&config, &["run", "--duration", "40s"]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    let logs = text(&run.stderr);
    let status = common::status(&config);
    let triaged: Vec<_> = findings(&status)
        .into_iter()
        .filter(|f| f["reproducible"] == "3/3")
        .collect();
    assert!(!triaged.is_empty(), "nothing triaged: {status:#}\n{logs}");
    for f in &triaged {
        let size = f["shrunk_size"]
            .as_u64()
            .expect("deterministic findings are shrunk");
        assert!(
            logs.contains(&format!("shrunk finding #{}", f["id"])),
            "{logs}"
        );
        assert!(size > 0);
    }
    // Fuzzing went on meanwhile.
    assert!(counter(&status, "*", "cases") > 1000, "{status:#}");
    let listed = text(&crosscheck(&config, &["triage"]).stdout);
    assert!(listed.contains(" B  "), "{listed}");
}

#[test]
fn a_run_that_ends_by_its_duration_triages_every_finding_before_it_ends() {
    let dir = temp_dir("drain");
    let config = config(&dir, &["wasmi-fault-i64-mul"], "workers = 1", "");
    let text_with_triage = std::fs::read_to_string(&config).unwrap()
        + "[triage]\nshrink_attempts = 50\nshrink_seconds = 5\nreduce_seconds = 5\ndrain_seconds = 600\n";
    std::fs::write(&config, text_with_triage).unwrap();
    // The fault's first exposures are seconds in: found while fuzzing,
    // triaged before the run ends, however little time fuzzing left.
    let run = crosscheck(&config, &["run", "--duration", "10s"]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    let logs = text(&run.stderr);
    assert!(logs.contains("every finding is triaged"), "{logs}");
    let all = findings(&common::status(&config));
    assert!(!all.is_empty(), "{logs}");
    for f in &all {
        assert!(f["reproducible"].is_string(), "not triaged: {f:#}\n{logs}");
    }
}

#[test]
fn suppressed_findings_are_counted_but_not_reported_as_new() {
    let dir = temp_dir("suppress");
    let config = config(&dir, &["wasmi-fault-i64-mul"], "workers = 2", "");
    // Without tie-breakers: they would also bring out wasmi's own bugs,
    // which no rule here covers.
    let without_tie_breakers = std::fs::read_to_string(&config)
        .unwrap()
        .replace("engines = [", "tie_breakers = []\nengines = [");
    std::fs::write(&config, without_tie_breakers).unwrap();
    let with_rule = std::fs::read_to_string(&config).unwrap()
        + "[triage]\nbackground = false\n[[triage.suppress]]\nengine = \"wasmi-fault-i64-mul\"\ninstruction = \"i64.mul\"\nreason = \"injected on purpose\"\n";
    std::fs::write(&config, with_rule).unwrap();
    let run = crosscheck(&config, &["run", "--cases", "1000"]);
    let out = text(&run.stdout);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    assert!(out.contains(", 0 new finding(s)"), "{out}");
    let all = findings(&common::status(&config));
    assert!(!all.is_empty());
    for f in &all {
        assert_eq!(f["status"], "suppressed", "{f:#}");
        assert!(f["hits"].as_u64().unwrap() >= 1);
    }
    let listed = text(&crosscheck(&config, &["triage"]).stdout);
    assert!(listed.starts_with("0 open finding(s)"), "{listed}");

    // A rule that says nothing is refused.
    std::fs::write(
        &config,
        std::fs::read_to_string(&config)
            .unwrap()
            .replace("engine = \"wasmi-fault-i64-mul\"\n", ""),
    )
    .unwrap();
    let refused = crosscheck(&config, &["status"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(text(&refused.stderr)
        .contains("triage.suppress[0] needs a `signature`, an `engine` or a `trigger`"));
}

/// `1 / (x * y)`: with 0 and 5 the right answer is a division by zero and
/// i64.mul-as-add gives a value; with 1 and -1 the right answer is a value
/// and the fault divides by zero. Two signatures, one bug, and both modules
/// are as small as they get (shrinking may only change the constants).
fn division_by_product(export: &str, x: i64, y: i64) -> String {
    format!(
        r#"(module (func (export "{export}") (result i32)
            i32.const 1
            i64.const {x} i64.const {y} i64.mul i32.wrap_i64
            i32.div_s))"#
    )
}

#[test]
fn findings_of_one_bug_merge_once_shrunk_and_each_gets_a_bundle() {
    let dir = temp_dir("merge");
    let config = config(
        &dir,
        &["wasmi-fault-i64-mul", "cranelift-tail-signals"],
        "",
        "",
    );
    let (a, b) = (dir.join("a.wat"), dir.join("b.wat"));
    std::fs::write(&a, division_by_product("f", 0, 5)).unwrap();
    std::fs::write(&b, division_by_product("g", 1, -1)).unwrap();
    let import = crosscheck(
        &config,
        &["import", a.to_str().unwrap(), b.to_str().unwrap()],
    );
    let out = text(&import.stdout);
    assert_eq!(
        import.status.code(),
        Some(0),
        "{out}{}",
        text(&import.stderr)
    );
    assert!(out.contains("new finding 1: mismatch call"), "{out}");
    assert!(out.contains("new finding 2: mismatch call"), "{out}");
    assert!(
        out.contains("finding 2 merged into finding 1 (same code and suspect)"),
        "{out}"
    );

    // The older finding keeps both signatures' hits; the other is history.
    let all = findings(&status(&config));
    let (first, second) = (&all[0], &all[1]);
    assert_eq!(
        (first["id"].as_i64(), first["hits"].as_i64()),
        (Some(1), Some(2))
    );
    assert_eq!(first["status"], "open");
    assert_eq!(second["status"], "merged");
    assert_eq!(second["merged_into"].as_i64(), Some(1));
    assert_ne!(first["signature"], second["signature"]);
    let show = text(&crosscheck(&config, &["findings", "show", "1"]).stdout);
    assert!(
        show.contains(&format!(
            "also seen as finding 2 (1 hits): {}",
            second["signature"].as_str().unwrap()
        )),
        "{show}"
    );
    assert!(show.contains("source: imported module a.wat"), "{show}");
    let triage = text(&crosscheck(&config, &["triage"]).stdout);
    assert!(triage.starts_with("1 open finding(s)"), "{triage}");

    // Importing a file again counts no new hit; a hit of the merged
    // signature counts for the survivor.
    let again = text(&crosscheck(&config, &["import", b.to_str().unwrap()]).stdout);
    assert!(again.contains("finding 1 again (2 hits)"), "{again}");

    // The bundle the triage wrote: modules, WAT, settings, versions, the
    // two sides, and commands that reproduce it.
    let bundle = dir.join("data/bundles/finding-1");
    for file in [
        "original.wasm",
        "original.wat",
        "shrunk.wasm",
        "shrunk.wat",
        "report.md",
        "repro.sh",
        "config.toml",
    ] {
        assert!(bundle.join(file).is_file(), "{file} missing");
    }
    assert!(std::fs::read_to_string(bundle.join("shrunk.wat"))
        .unwrap()
        .contains("i64.mul"));
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(bundle.join("finding.json")).unwrap()).unwrap();
    assert_eq!(
        json["versions"]["wasmtime"].as_str().map(|v| v.is_empty()),
        Some(false)
    );
    assert_eq!(json["reproducible"], "3/3");
    assert_eq!(json["outcome"]["expected"][0]["engines"][0], "wasmi");
    assert_eq!(
        json["outcome"]["expected"][0]["observed"],
        "trap integer-division-by-zero"
    );
    assert_eq!(
        json["outcome"]["actual"][0]["engines"][0],
        "wasmi-fault-i64-mul"
    );
    assert_eq!(json["also_seen_as"][0]["id"], 2);
    assert_eq!(json["engines"].as_array().unwrap().len(), 3);
    let wasmtime = json["commands"]["wasmtime"][0]["command"].as_str().unwrap();
    assert!(
        wasmtime.contains("-W tail-call=y") && wasmtime.ends_with("--invoke='' shrunk.wasm"),
        "{wasmtime}"
    );
    assert_eq!(json["commands"]["repro"], "crosscheck repro 1");
    // repro.sh runs every engine on the bundle's own files: exit 1, the
    // finding reproduces.
    let repro = std::process::Command::new(bundle.join("repro.sh"))
        .env("CROSSCHECK", env!("CARGO_BIN_EXE_crosscheck"))
        .output()
        .unwrap();
    assert_eq!(repro.status.code(), Some(1), "{}", text(&repro.stdout));
    assert!(text(&repro.stdout).contains("{wasmi-fault-i64-mul}: [i32:0]"));
    // `bundle --out` writes the same anywhere.
    let out_dir = dir.join("elsewhere");
    let written = crosscheck(
        &config,
        &["bundle", "1", "--out", out_dir.to_str().unwrap()],
    );
    assert_eq!(written.status.code(), Some(0), "{}", text(&written.stderr));
    assert_eq!(
        std::fs::read(out_dir.join("shrunk.wasm")).unwrap(),
        std::fs::read(bundle.join("shrunk.wasm")).unwrap()
    );

    // A truncated module is refused by name; nothing recorded is lost.
    let truncated = dir.join("truncated.wasm");
    std::fs::write(&truncated, b"\0asm\x01\0\0\0\x01").unwrap();
    let bad = crosscheck(&config, &["import", truncated.to_str().unwrap()]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        text(&bad.stderr).contains("truncated.wasm is not a valid WebAssembly module"),
        "{}",
        text(&bad.stderr)
    );
    assert_eq!(findings(&status(&config)).len(), 2);
}

#[test]
fn triage_says_which_single_setting_change_makes_a_finding_go_away() {
    // wasmi's translator panics on a function nobody calls (bug B of
    // docs/findings.md): with lazy translation it is never translated.
    let dir = temp_dir("flips");
    let config = config(
        &dir,
        &["cranelift-tail-signals", "cranelift-notail-explicit"],
        "",
        "",
    );
    let corpus = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../corpus/wasmi-store-translate-panic.wat"
    );
    let import = crosscheck(&config, &["import", corpus]);
    let out = text(&import.stdout);
    assert_eq!(
        import.status.code(),
        Some(0),
        "{out}{}",
        text(&import.stderr)
    );
    assert!(
        out.contains("new finding 1: crash wasmi: internal error: entered unreachable code"),
        "{out}"
    );
    let show = text(&crosscheck(&config, &["findings", "show", "1"]).stdout);
    assert!(
        show.contains(
            "one setting changed (shrunk module):\n  wasmi with translation eager -> lazy: agrees"
        ),
        "{show}"
    );
    let report = text(&crosscheck(&config, &["report", "1"]).stdout);
    assert!(
        report.contains("#### One setting changed")
            && report.contains("- wasmi with translation eager -> lazy: agrees"),
        "{report}"
    );
}
