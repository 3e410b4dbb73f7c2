//! Judging a case: what each engine observed, compared point by point into
//! a verdict with a signature, and who is probably wrong.
//!
//! In: every engine's run of one case (`engine::matrix`). Out: a
//! [`Verdict`](verdict::Verdict) (agree, a mismatch, a crash, an expected
//! or unexpected rejection, inconclusive) and its attribution, labelled a
//! regression or a fix when two Wasmtime releases disagree; the
//! [`FindingKind`](kind::FindingKind) of each finding.

pub mod attribution;
pub mod compare;
pub mod kind;
pub mod verdict;
pub mod versions;
