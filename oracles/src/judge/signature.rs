//! The text of a disagreement's signature, on which the store
//! deduplicates: `mismatch <phase> {a,b}=x vs {c}=y blame <party>`, or,
//! for two Wasmtime releases that disagree, the same under the
//! divergence's label (`regression 48->51 call {...}=value vs ... blame
//! ...`). Written by [`MismatchSignature`]'s `Display` and read back by
//! its `FromStr`, and nowhere else: a signature written one way and read
//! another would split one bug into several findings, or merge two.

use std::fmt;
use std::str::FromStr;

/// The label of a disagreement that is not between releases.
pub const MISMATCH: &str = "mismatch";

/// A disagreement's signature, in parts.
///
/// ```
/// use oracles::judge::signature::MismatchSignature;
/// let text = "mismatch call {wasmi}=trap:unreachable vs {wasmtime-default,pulley-tail-signals}=value blame wasmi";
/// let signature: MismatchSignature = text.parse().unwrap();
/// assert_eq!(signature.phase, "call");
/// assert_eq!(signature.sides[1].engines, ["wasmtime-default", "pulley-tail-signals"]);
/// assert_eq!(signature.blame, "wasmi");
/// assert_eq!(signature.to_string(), text);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MismatchSignature {
    /// What it is: [`MISMATCH`], or a divergence between releases
    /// (`regression 48->51`, `fix 48->51`).
    pub label: String,
    /// The kind of point where the engines disagree (`call`, `memory`,
    /// `run` for an engine that ran on, `host-calls`, `fuel`, ...).
    pub phase: String,
    /// Who observed what, one side per class of observation.
    pub sides: Vec<SignatureSide>,
    /// Whom the families' sides blame (`undecided` when they cannot tell).
    pub blame: String,
}

/// The engines (or families) that observed one class of outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureSide {
    /// Engine or family names, in matrix order.
    pub engines: Vec<String>,
    /// The class of what they observed (`value`, `trap:<kind>`, `hang`).
    pub class: String,
}

impl MismatchSignature {
    /// Whether `candidate` is this finding with more witnesses: the same
    /// label, phase, classes and blame, each class holding at least the
    /// engines it held here.
    pub fn is_covered_by(&self, candidate: &MismatchSignature) -> bool {
        self.label == candidate.label
            && self.phase == candidate.phase
            && self.blame == candidate.blame
            && self.sides.len() == candidate.sides.len()
            && self.sides.iter().all(|side| {
                candidate.sides.iter().any(|more| {
                    more.class == side.class
                        && side.engines.iter().all(|e| more.engines.contains(e))
                })
            })
    }
}

/// Whether `candidate` is the finding `original` with more witnesses: the
/// same signature, or a disagreement of the same phase, outcome classes
/// and blame in which each class holds at least the engines it held.
/// Engines that refused the original module (a tail call the notail
/// variants refuse) may run a smaller one and side with the others;
/// requiring the exact signature would keep whatever made them refuse in
/// every shrunk module.
pub fn covers(original: &str, candidate: &str) -> bool {
    if original == candidate {
        return true;
    }
    match (
        original.parse::<MismatchSignature>(),
        candidate.parse::<MismatchSignature>(),
    ) {
        (Ok(original), Ok(candidate)) => original.is_covered_by(&candidate),
        _ => false,
    }
}

impl fmt::Display for SignatureSide {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{{}}}={}", self.engines.join(","), self.class)
    }
}

impl fmt::Display for MismatchSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} ", self.label, self.phase)?;
        for (i, side) in self.sides.iter().enumerate() {
            if i > 0 {
                f.write_str(SIDE_SEPARATOR)?;
            }
            write!(f, "{side}")?;
        }
        write!(f, "{BLAME}{}", self.blame)
    }
}

const SIDE_SEPARATOR: &str = " vs ";
const BLAME: &str = " blame ";

/// Why a text is not a disagreement's signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotAMismatchSignature(String);

impl fmt::Display for NotAMismatchSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not a disagreement's signature: {}", self.0)
    }
}

impl std::error::Error for NotAMismatchSignature {}

impl FromStr for MismatchSignature {
    type Err = NotAMismatchSignature;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let fail = |why: &str| NotAMismatchSignature(format!("{why} in {text:?}"));
        let (rest, blame) = text.rsplit_once(BLAME).ok_or_else(|| fail("no blame"))?;
        let first_side = rest.find(" {").ok_or_else(|| fail("no side"))?;
        let (head, sides) = (&rest[..first_side], &rest[first_side + 1..]);
        let (label, phase) = head.rsplit_once(' ').ok_or_else(|| fail("no phase"))?;
        let sides = sides
            .split(SIDE_SEPARATOR)
            .map(|side| {
                let (engines, class) = side.split_once("}=")?;
                let engines = engines.strip_prefix('{')?;
                Some(SignatureSide {
                    engines: engines.split(',').map(String::from).collect(),
                    class: class.to_string(),
                })
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| fail("a side is not {engines}=class"))?;
        let is_label =
            label == MISMATCH || label.starts_with("regression ") || label.starts_with("fix ");
        if !is_label {
            return Err(fail("an unknown label"));
        }
        Ok(MismatchSignature {
            label: label.to_string(),
            phase: phase.to_string(),
            sides,
            blame: blame.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Signatures as the defaults and the tests produce them.
    const SIGNATURES: [&str; 6] = [
        "mismatch run {cranelift-opt,pulley}=hang blame Cranelift's optimizer (mid-end) in Wasmtime 48, fixed in 51",
        "mismatch call {wasmi}=trap:integer-division-by-zero vs {wasmtime-default,cranelift-tail-explicit,wasmtime-default@51}=value blame wasmi",
        "regression 47->48 call {wasmi,a@47,b@47}=value vs {a}=value blame a",
        "fix 48->51 memory {wasmtime-default@51,wasmi}=value vs {wasmtime-default}=value blame undecided",
        "mismatch fuel {cranelift-tail-signals}=fuel vs {cranelift-notail-signals+fault-fuel-bulk-twice}=fuel blame cranelift-notail-signals+fault-fuel-bulk-twice",
        "mismatch host-calls {wasmi}=calls vs {cranelift-tail-signals+fault-add}=calls blame one or more of: linear memory that never moves, a memory reservation of 1m",
    ];

    #[test]
    fn every_signature_reads_back_as_written() {
        for text in SIGNATURES {
            let signature: MismatchSignature = text.parse().unwrap();
            assert_eq!(signature.to_string(), text);
            assert_eq!(text.parse::<MismatchSignature>().unwrap(), signature);
        }
        let regression: MismatchSignature = SIGNATURES[2].parse().unwrap();
        assert_eq!(
            (regression.label.as_str(), regression.phase.as_str()),
            ("regression 47->48", "call")
        );
    }

    #[test]
    fn what_is_not_a_disagreement_is_refused_naming_why() {
        for (text, why) in [
            ("crash wasmi: boom", "no blame"),
            ("mismatch call blame wasmi", "no side"),
            ("mismatch call {a}value blame b", "a side is not"),
            ("oom call {a}=value blame b", "an unknown label"),
        ] {
            let error = text.parse::<MismatchSignature>().unwrap_err().to_string();
            assert!(error.contains(why), "{text}: {error}");
        }
    }

    #[test]
    fn more_engines_on_the_same_sides_cover_a_signature_and_nothing_else_does() {
        const ORIGINAL: &str = "mismatch call {wasmi}=trap:integer-division-by-zero vs {wasmtime-default,cranelift-tail-explicit}=value blame wasmi";
        assert!(covers(ORIGINAL, ORIGINAL));
        // The notail variants run the smaller module and side with Wasmtime.
        assert!(covers(
            ORIGINAL,
            "mismatch call {wasmi}=trap:integer-division-by-zero vs {wasmtime-default,cranelift-tail-explicit,cranelift-notail-signals}=value blame wasmi"
        ));
        for other in [
            // An engine gone from a side: less evidence.
            "mismatch call {wasmi}=trap:integer-division-by-zero vs {wasmtime-default}=value blame wasmi",
            // Another class, phase, blame or label: another finding.
            "mismatch call {wasmi}=trap:unreachable vs {wasmtime-default,cranelift-tail-explicit}=value blame wasmi",
            "mismatch instantiate {wasmi}=trap:integer-division-by-zero vs {wasmtime-default,cranelift-tail-explicit}=value blame wasmi",
            "mismatch call {wasmi}=trap:integer-division-by-zero vs {wasmtime-default,cranelift-tail-explicit}=value blame undecided",
            "regression 48->51 call {wasmi}=trap:integer-division-by-zero vs {wasmtime-default,cranelift-tail-explicit}=value blame wasmi",
            // A third side.
            "mismatch call {wasmi}=trap:integer-division-by-zero vs {wasmtime-default,cranelift-tail-explicit}=value vs {winch-notail-signals}=trap:unreachable blame wasmi",
            "crash wasmi: boom",
        ] {
            assert!(!covers(ORIGINAL, other), "{other}");
        }
        assert!(!covers("crash wasmi: boom", "crash wasmi: bang"));
    }
}
