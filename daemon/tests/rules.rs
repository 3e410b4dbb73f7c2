//! Rule-guided generation end to end on the daemon: a bug injected into a
//! Cranelift rule's pattern on every Cranelift variant is found by the
//! rule-guided cases, blamed on Cranelift (not wasmi), and its finding
//! names the rule the module aimed at in `findings show`, the report and
//! the bundle; `status` (text and JSON), the dashboard's API and
//! `/metrics` report rule coverage.

mod common;

use common::{crosscheck, findings, status, temp_dir, text};

fn append(config: &std::path::Path, text: &str) {
    let mut all = std::fs::read_to_string(config).unwrap();
    all.push_str(text);
    std::fs::write(config, all).unwrap();
}

#[test]
fn a_rule_bug_is_found_blamed_on_cranelift_and_names_its_rule() {
    // `x sshr (width-1)` executed as a logical shift, in every variant at
    // opt level speed: a bug of the family, which opt-none, Pulley and
    // Winch (the tie-breakers) do not share.
    let engines = [
        "cranelift-tail-signals+nofuel+fault-rule-sshr-sign",
        "cranelift-tail-explicit+fault-rule-sshr-sign",
        "cranelift-notail-signals+fault-rule-sshr-sign",
        "cranelift-notail-explicit+nofuel+fault-rule-sshr-sign",
    ];
    let dir = temp_dir("rule-fault");
    let config = common::config(&dir, &engines, "workers = 2", "");
    append(
        &config,
        "[triage]\nbackground = false\n[generator.stack]\nshare = 0.0\n[generator.rules]\nshare = 1.0\n[generator.passes]\nshare = 0.0\n",
    );
    let run = crosscheck(&config, &["run", "--cases", "300"]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    let status = status(&config);

    // Rule coverage: rules were targeted by cases that ran.
    let rules = &status["rules"];
    assert!(rules["aimable"].as_u64().unwrap() > 1000, "{rules:#}");
    let targeted = rules["targeted"].as_u64().unwrap();
    assert!(targeted > 100, "{rules:#}");
    assert_eq!(
        rules["never_reached"].as_u64().unwrap(),
        rules["aimable"].as_u64().unwrap() - targeted
    );
    assert!(rules["cases"].as_u64().unwrap() >= 250, "{rules:#}");
    let shown = text(&crosscheck(&config, &["status"]).stdout);
    assert!(
        shown.contains("rule coverage (Cranelift rules of cranelift-codegen"),
        "{shown}"
    );
    assert!(shown.contains("opts/shifts.isle"), "{shown}");

    // The injected bug: found, blamed on Cranelift's optimizer family.
    let found: Vec<_> = findings(&status)
        .into_iter()
        .filter(|f| {
            f["signature"]
                .as_str()
                .unwrap()
                .contains("fault-rule-sshr-sign")
        })
        .collect();
    assert!(!found.is_empty(), "{status:#}");
    let finding = &found[0];
    let signature = finding["signature"].as_str().unwrap();
    assert!(
        signature.contains("blame Cranelift"),
        "a Cranelift-wide rule bug is Cranelift's: {signature}"
    );
    assert!(!signature.ends_with("blame wasmi"), "{signature}");

    // Its finding names the rule it aimed at, with the rule's text.
    let id = finding["id"].as_i64().unwrap().to_string();
    let show = text(&crosscheck(&config, &["findings", "show", &id]).stdout);
    assert!(show.contains("aimed at Cranelift rule "), "{show}");
    assert!(show.contains("(rule"), "{show}");
    let report = text(&crosscheck(&config, &["report", &id]).stdout);
    assert!(report.contains("#### The rule it aimed at"), "{report}");
    let bundle = dir.join("bundle");
    let out = crosscheck(&config, &["bundle", &id, "--out", bundle.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(bundle.join("finding.json")).unwrap())
            .unwrap();
    assert!(
        json["aimed_rule"]["id"]
            .as_str()
            .unwrap()
            .contains(".isle:"),
        "{json:#}"
    );
}
