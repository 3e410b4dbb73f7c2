//! Divergences between two Wasmtime releases in one matrix: an engine of
//! the linked release and the same engine on another release (`NAME@MAJOR`,
//! `engine::other_release`, `engine::c_api`) on different sides of a
//! mismatch. The newer release is the candidate, the older the reference. The oracle decides the label: a `regression` when the
//! candidate leaves the oracle's side, a `fix` when the candidate is on it
//! and the reference is not; the tie-breakers' sides are named too, since
//! the oracle can be the one that is wrong.

use crate::engine::id::{linked_major, EngineId};
use crate::judge::kind::FindingKind;
use crate::judge::verdict::Mismatch;

/// Two releases on different sides of one mismatch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionDivergence {
    /// The newer release.
    pub candidate: u64,
    /// The older release.
    pub reference: u64,
    /// [`FindingKind::Regression`] or [`FindingKind::Fix`].
    pub kind: FindingKind,
    /// Which release the oracle sides with, if with one of them.
    pub oracle_sides_with: Option<u64>,
    /// Which release each tie-breaker that ran sides with, if with one.
    pub tie_breakers: Vec<(String, Option<u64>)>,
}

/// The divergence between releases in `m`, if some engine and its
/// reference-release twin are on different sides.
pub fn divergence(m: &Mismatch) -> Option<VersionDivergence> {
    let side_of = |engine: &str| {
        m.sides
            .iter()
            .position(|g| g.engines.iter().any(|e| e == engine))
    };
    let linked = linked_major();
    let (linked_side, other_side, other) =
        m.sides.iter().flat_map(|g| &g.engines).find_map(|engine| {
            let id = EngineId::parse(engine);
            let other = id.release()?;
            let twin = m
                .sides
                .iter()
                .flat_map(|g| &g.engines)
                .find(|e| EngineId::parse(e).is_twin_of(&id))?;
            let (mine, theirs) = (side_of(twin)?, side_of(engine)?);
            (mine != theirs && other != linked).then_some((mine, theirs, other))
        })?;
    // The newer release is the candidate: the linked one against an older
    // reference, or a newer release (its C API library) against the linked.
    let (candidate, candidate_side, reference, reference_side) = if other > linked {
        (other, other_side, linked, linked_side)
    } else {
        (linked, linked_side, other, other_side)
    };
    let sides_with = |side: Option<usize>| match side {
        Some(s) if s == candidate_side => Some(candidate),
        Some(s) if s == reference_side => Some(reference),
        _ => None,
    };
    // The oracle's group comes first.
    let oracle_sides_with = sides_with(Some(0));
    Some(VersionDivergence {
        candidate,
        reference,
        kind: if candidate_side == 0 {
            FindingKind::Fix
        } else {
            FindingKind::Regression
        },
        oracle_sides_with,
        tie_breakers: m
            .tie_breakers
            .iter()
            .map(|t| (t.to_string(), sides_with(side_of(t))))
            .collect(),
    })
}

impl VersionDivergence {
    /// The signature's prefix: `regression 47->48`.
    pub fn label(&self) -> String {
        format!("{} {}->{}", self.kind, self.reference, self.candidate)
    }

    /// In words, for the attribution: who sides with which release.
    pub fn describe(&self) -> String {
        let what = if self.kind == FindingKind::Regression {
            format!(
                "regression from Wasmtime {} to {}",
                self.reference, self.candidate
            )
        } else {
            format!(
                "fixed from Wasmtime {} to {}",
                self.reference, self.candidate
            )
        };
        let with = |release: Option<u64>| match release {
            Some(r) => format!("Wasmtime {r}"),
            None => "neither release".into(),
        };
        let mut text = format!(
            "{what}: the oracle sides with {}",
            with(self.oracle_sides_with)
        );
        if !self.tie_breakers.is_empty() {
            let sides: Vec<String> = self
                .tie_breakers
                .iter()
                .map(|(t, r)| format!("{t} with {}", with(*r)))
                .collect();
            text += &format!(", the tie-breakers: {}", sides.join(", "));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::judge::verdict::{Phase, Side};

    fn mismatch(sides: &[&[String]], tie_breakers: &[&str]) -> Mismatch {
        Mismatch {
            phase: Phase::Instantiate,
            sides: sides
                .iter()
                .map(|s| Side {
                    engines: s.iter().map(|e| EngineId::parse(e)).collect(),
                    observed: String::new(),
                    class: "value".into(),
                })
                .collect(),
            detail: None,
            tie_breakers: tie_breakers.iter().map(|t| EngineId::parse(t)).collect(),
            blame: Vec::new(),
        }
    }

    fn names(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn the_oracle_decides_regression_or_fix_and_the_tie_breakers_are_named() {
        let reference = linked_major() - 1;
        let old = format!("cranelift-tail-signals@{reference}");
        let regression = mismatch(
            &[
                &names(&["wasmi", &old, "winch-notail-signals"]),
                &names(&["cranelift-tail-signals"]),
            ],
            &["winch-notail-signals"],
        );
        let d = divergence(&regression).unwrap();
        assert_eq!(d.kind, FindingKind::Regression);
        assert_eq!(
            d.label(),
            format!("regression {reference}->{}", linked_major())
        );
        assert_eq!(d.oracle_sides_with, Some(reference));
        assert_eq!(
            d.tie_breakers,
            [("winch-notail-signals".to_string(), Some(reference))]
        );
        assert!(
            d.describe().contains("the oracle sides with Wasmtime"),
            "{}",
            d.describe()
        );

        let fix = mismatch(
            &[
                &names(&["wasmi", "cranelift-tail-signals"]),
                &names(&[&old]),
            ],
            &[],
        );
        assert_eq!(divergence(&fix).unwrap().kind, FindingKind::Fix);

        // Both releases on one side: a mismatch, not a divergence of releases.
        let same = mismatch(
            &[
                &names(&["wasmi"]),
                &names(&["cranelift-tail-signals", &old]),
            ],
            &[],
        );
        assert_eq!(divergence(&same), None);
    }

    #[test]
    fn a_newer_release_than_the_linked_one_is_the_candidate() {
        let newer = linked_major() + 3;
        let new = format!("wasmtime-default@{newer}");
        let regression = mismatch(
            &[&names(&["wasmi", "wasmtime-default"]), &names(&[&new])],
            &[],
        );
        let d = divergence(&regression).unwrap();
        assert_eq!(d.kind, FindingKind::Regression);
        assert_eq!(d.label(), format!("regression {}->{newer}", linked_major()));
        assert_eq!(d.oracle_sides_with, Some(linked_major()));

        let fix = mismatch(
            &[&names(&["wasmi", &new]), &names(&["wasmtime-default"])],
            &[],
        );
        let d = divergence(&fix).unwrap();
        assert_eq!(d.kind, FindingKind::Fix);
        assert_eq!(d.label(), format!("fix {}->{newer}", linked_major()));
    }
}
