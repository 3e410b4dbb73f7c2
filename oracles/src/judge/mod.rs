//! Judging a case: each engine of the matrix runs it ([`case`]), what they
//! observed is compared point by point into a verdict with a signature,
//! the tie-breakers decide a disagreement, and who is probably wrong is
//! named.
//!
//! In: the matrix of engines (`engine::matrix`), a module and its plan.
//! Out: every engine's run in a [`CaseReport`](case::CaseReport), a
//! [`Verdict`](verdict::Verdict) (agree, a mismatch, a crash, an expected
//! or unexpected rejection, inconclusive) and its attribution, labelled a
//! regression or a fix when two Wasmtime releases disagree; the
//! [`FindingKind`](kind::FindingKind) of each finding.

pub mod attribution;
pub mod case;
pub mod compare;
pub mod kind;
pub mod releases;
pub mod signature;
pub mod verdict;
