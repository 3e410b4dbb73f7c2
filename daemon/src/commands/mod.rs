//! The command line, one module per subcommand: each parses its arguments,
//! calls the stages (the library, `process`, `store`, `triage`, `health`,
//! `dashboard`) and prints. Nothing below this layer uses it.
//!
//! In: parsed arguments and the [`Config`](crate::config::Config). Out:
//! what the command prints, and its exit status.

pub mod bench;
pub mod bench_profile;
pub mod bisect;
pub mod build_release;
pub mod bundle;
pub mod c_api_pin;
pub mod case;
pub mod check;
pub mod config;
pub mod diff_release;
pub mod findings;
pub mod gate;
pub mod group;
pub mod import;
pub mod mark;
pub mod perf;
pub mod replay;
pub mod report;
pub mod repro;
pub mod run;
pub mod scale;
pub mod seed_corpus;
pub mod serve;
pub mod shrink;
pub mod status;
pub mod store;
pub mod sweep;
pub mod triage;
pub mod worker;

/// Exit status: the engines agree.
pub const EXIT_AGREE: u8 = 0;
/// Exit status: a finding (mismatch or unexpected rejection).
pub const EXIT_FINDING: u8 = 1;
/// Exit status: bad input or an internal error.
pub const EXIT_ERROR: u8 = 2;
/// Exit status: inconclusive, or too few engines accepted the module.
pub const EXIT_UNDECIDED: u8 = 3;
/// Exit status: a possible sandbox breach (`breach` finding); outranks
/// every other finding.
pub const EXIT_BREACH: u8 = 4;

/// The exit status of a case run in a worker (`check`, `case`): a breach,
/// else any finding (a mismatch, a crash, a hang, an exhausted memory, a
/// compile blowup), else the verdict of the engines that ran it.
pub fn exit_status_of(probed: &crate::process::probe::Probed) -> u8 {
    if probed
        .findings
        .iter()
        .any(|f| f.kind == oracles::judge::kind::FindingKind::Breach)
    {
        return EXIT_BREACH;
    }
    if !probed.findings.is_empty() {
        return EXIT_FINDING;
    }
    match probed.shown.as_ref().map(|s| s.verdict.as_str()) {
        Some("agree") => EXIT_AGREE,
        _ => EXIT_UNDECIDED,
    }
}

/// What `check` and `case` print of a case run in a worker: the worker's
/// table and verdict, then the findings of what the verdict does not
/// judge (the costs measured again: compile blowups, slow runs, unmetered
/// work), or, when no worker finished the case, all its findings.
pub fn probed_text(probed: &crate::process::probe::Probed) -> String {
    let described = |f: &&oracles::Finding| match &f.suspect {
        Some(suspect) => format!("{}  {suspect}\n", f.summary),
        None => f.summary.clone(),
    };
    let mut text = match &probed.shown {
        Some(shown) => {
            let costs: Vec<String> = probed
                .findings
                .iter()
                .filter(|f| f.kind.is_cost())
                .map(|f| described(&f))
                .collect();
            match costs.as_slice() {
                [] => shown.text.clone(),
                _ => format!("{}\n{}", shown.text, costs.join("")),
            }
        }
        None => probed.findings.iter().map(|f| described(&f)).collect(),
    };
    if probed.restarts > 0 {
        text += &format!(
            "\n{} worker process(es) died running this case; each time it went on in a fresh one without the engine that died\n",
            probed.restarts
        );
    }
    text
}
