//! A Wasmtime bug is not hidden behind the oracle's: with wasmi 2.0.0 (and
//! its real `select` bug) as the oracle and an injected fault shared by all
//! four default Cranelift variants, a daemon run on the default matrix and
//! tie-breakers records the Cranelift fault as findings of their own,
//! blamed on Cranelift, never merged into or suppressed with wasmi's; and
//! the release gate fails on them with the known wasmi bugs suppressed.

mod common;

use common::{counter, crosscheck, findings, status, temp_dir, text};

/// The default variants, each with `i64.mul` compiled as `i64.add`.
const FAULTY: [&str; 4] = [
    "cranelift-tail-signals+fault-i64-mul",
    "cranelift-tail-explicit+fault-i64-mul",
    "cranelift-notail-signals+fault-i64-mul",
    "cranelift-notail-explicit+fault-i64-mul",
];

const CRANELIFT: &str = "Cranelift at opt level speed on x64";

#[test]
fn a_cranelift_family_fault_is_blamed_on_cranelift_apart_from_wasmis_bugs() {
    let dir = temp_dir("attribution");
    let config = common::config(&dir, &FAULTY, "workers = 2", "");
    // fuzz/known-bugs.toml's rules for wasmi's bugs, and a gate a short
    // run can pass but for findings.
    let known = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/known-bugs.toml"),
    )
    .unwrap();
    let rules: String = known
        .split("\n[[")
        .skip(1)
        .map(|rule| format!("\n[[{rule}"))
        .collect();
    let text_with_rules = std::fs::read_to_string(&config).unwrap()
        + "[gate]\nmin_cases = 1\nmin_cases_per_variant = 1\nmin_instruction_count = 0\n"
        + "[triage]\nbackground = false\n"
        + &rules;
    std::fs::write(&config, text_with_rules).unwrap();

    let run = crosscheck(&config, &["run", "--cases", "400"]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    let status = status(&config);
    let all = findings(&status);
    let mismatches: Vec<_> = all.iter().filter(|f| f["kind"] == "mismatch").collect();
    let blamed_on = |party: &str| -> Vec<_> {
        mismatches
            .iter()
            .filter(|f| {
                f["suspect"]
                    .as_str()
                    .unwrap()
                    .ends_with(&format!("suspect {party}"))
            })
            .collect()
    };
    let cranelift = blamed_on(CRANELIFT);
    let wasmi = blamed_on("wasmi");
    assert!(!cranelift.is_empty(), "no Cranelift finding: {status:#}");
    assert!(!wasmi.is_empty(), "wasmi's real bugs vanished: {status:#}");
    // No finding is both: signatures carry the blame.
    for f in &cranelift {
        let signature = f["signature"].as_str().unwrap();
        assert!(
            signature.ends_with(&format!("blame {CRANELIFT}")),
            "{signature}"
        );
        assert_eq!(f["status"], "open", "a wasmi rule hid {f:#}");
        assert!(f["merged_into"].is_null(), "{f:#}");
    }
    for f in &wasmi {
        assert!(f["signature"].as_str().unwrap().ends_with("blame wasmi"));
    }
    // Some of the Cranelift findings came from cases whose first
    // disagreement was wasmi's own bug: the comparison went on.
    assert!(
        counter(&status, "*", &format!("blame:{CRANELIFT}")) > 0,
        "{status:#}"
    );
    assert!(counter(&status, "*", "tie-broken") > 0, "{status:#}");
    common::assert_consistent(&status);

    let shown = text(&crosscheck(&config, &["status"]).stdout);
    assert!(shown.contains("disagreements by blame"), "{shown}");
    assert!(shown.contains(CRANELIFT), "{shown}");

    let gate = crosscheck(&config, &["gate"]);
    let out = text(&gate.stdout);
    assert_eq!(gate.status.code(), Some(1), "{out}{}", text(&gate.stderr));
    assert!(out.contains(CRANELIFT), "{out}");
}
