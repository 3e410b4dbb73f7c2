//! The command line, one module per subcommand: each parses its arguments,
//! calls the stages (the library, `process`, `store`, `triage`, `health`,
//! `dashboard`) and prints. Nothing below this layer uses it.
//!
//! In: parsed arguments and the [`Config`](crate::config::Config). Out:
//! what the command prints, and its exit status.

pub mod bench;
pub mod bundle;
pub mod case;
pub mod check;
pub mod findings;
pub mod gate;
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

/// The exit status a verdict maps to.
pub fn exit_status(verdict: &oracles::Verdict) -> u8 {
    match verdict {
        oracles::Verdict::Agree => EXIT_AGREE,
        v if v.is_finding() => EXIT_FINDING,
        _ => EXIT_UNDECIDED,
    }
}
