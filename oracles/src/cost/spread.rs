//! Which engines a compile blowup spans. Engines that share a compiler
//! share its blowups: when one crosses a limit, its siblings are measured
//! against half the limits, and every engine found slow is named in one
//! finding per kind, by family when the whole family is slow. So a
//! regression on all four Cranelift variants is one finding that says so,
//! not the one variant that crossed the limit first, and a blowup of only
//! the explicit-checks variants is another.

use super::compile::Blowup;
use super::limits::CostLimits;
use crate::engine::id::EngineId;
use crate::engine::matrix::Matrix;
use crate::judge::kind::FindingKind;

/// How far below the limits a sibling still counts as slow with the engine
/// that crossed them.
pub const SIBLING_FACTOR: f64 = 0.5;

/// Merges `over` (engines over the limits) with `near` (engines over
/// [`SIBLING_FACTOR`] times the limits, the same measurements judged
/// against the lower limits) into one blowup per kind, naming every slow
/// engine of that kind. `near` counts only for kinds in `over`.
pub fn spread(matrix: &Matrix, over: Vec<Blowup>, near: Vec<Blowup>) -> Vec<Blowup> {
    let mut kinds: Vec<FindingKind> = over.iter().map(|b| b.kind).collect();
    // In the order of their words, as the signatures sort.
    kinds.sort_unstable_by_key(|k| k.as_str());
    kinds.dedup();
    let order = matrix.names();
    let position = |engine: &str| {
        order
            .iter()
            .position(|n| *n == engine)
            .unwrap_or(usize::MAX)
    };
    kinds
        .into_iter()
        .map(|kind| {
            let mut engines: Vec<(String, String, bool)> = Vec::new();
            for (blowup, crossed) in over
                .iter()
                .map(|b| (b, true))
                .chain(near.iter().map(|b| (b, false)))
                .filter(|(b, _)| b.kind == kind)
            {
                if engines.iter().all(|(e, _, _)| *e != blowup.engine) {
                    engines.push((blowup.engine.clone(), blowup.detail.clone(), crossed));
                }
            }
            engines.sort_by_key(|(e, _, _)| position(e));
            let names: Vec<&str> = engines.iter().map(|(e, _, _)| e.as_str()).collect();
            let who = slow_group(matrix, &names);
            let detail = engines
                .iter()
                .map(|(_, detail, crossed)| {
                    if *crossed {
                        detail.clone()
                    } else {
                        format!("{detail} (over half the limits, with its siblings)")
                    }
                })
                .collect::<Vec<_>>()
                .join("\n");
            Blowup {
                kind,
                engine: names.join(", "),
                signature: format!("{kind} {who}"),
                detail,
            }
        })
        .collect()
}

/// The blowups `find` reports at `limits` (its second argument: whether
/// this is the first search), each naming every engine it spans: when
/// there are any, the siblings are found again at [`SIBLING_FACTOR`] of
/// the limits and [`spread`] merges them.
pub fn spanning(
    matrix: &Matrix,
    limits: &CostLimits,
    find: impl Fn(&CostLimits, bool) -> Vec<Blowup>,
) -> Vec<Blowup> {
    let over = find(limits, true);
    if over.is_empty() {
        return Vec::new();
    }
    let near = find(&limits.scaled(SIBLING_FACTOR), false);
    spread(matrix, over, near)
}

/// The slow engines as a signature names them: a family when every engine
/// of it in the matrix (the oracle aside) is slow and it has more than one,
/// else the engines themselves; comma-separated, in matrix order.
pub fn slow_group(matrix: &Matrix, slow: &[&str]) -> String {
    let candidates: Vec<&str> = matrix.names().into_iter().skip(1).collect();
    let mut parts: Vec<String> = Vec::new();
    let mut named: Vec<&str> = Vec::new();
    for engine in slow {
        if named.contains(engine) {
            continue;
        }
        let id = EngineId::parse(engine);
        let kin = id.family();
        // A family of one release: the other release's engines are not
        // its siblings here.
        let members: Vec<&str> = candidates
            .iter()
            .copied()
            .filter(|c| {
                let c = EngineId::parse(c);
                c.family() == kin && c.release_or_linked() == id.release_or_linked()
            })
            .collect();
        if members.len() > 1 && members.iter().all(|m| slow.contains(m)) {
            parts.push(kin);
            named.extend(members);
        } else {
            parts.push(engine.to_string());
            named.push(engine);
        }
    }
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ExecutionConfig;

    fn matrix() -> Matrix {
        let engines: Vec<String> = [
            "cranelift-tail-signals",
            "cranelift-tail-explicit",
            "cranelift-notail-signals",
            "cranelift-notail-explicit",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        Matrix::new("wasmi", &engines, &ExecutionConfig::default()).unwrap()
    }

    fn blowup(kind: FindingKind, engine: &str) -> Blowup {
        Blowup {
            kind,
            engine: engine.into(),
            signature: format!("{kind} {engine}"),
            detail: format!("{engine}: slow"),
        }
    }

    #[test]
    fn a_whole_family_slow_is_one_finding_named_by_the_family() {
        let over = vec![blowup(FindingKind::CompileTime, "cranelift-notail-signals")];
        let near = vec![
            blowup(FindingKind::CompileTime, "cranelift-tail-signals"),
            blowup(FindingKind::CompileTime, "cranelift-tail-explicit"),
            blowup(FindingKind::CompileTime, "cranelift-notail-explicit"),
            // A kind nothing crossed is not a finding.
            blowup(FindingKind::CompileMemory, "cranelift-tail-signals"),
        ];
        let merged = spread(&matrix(), over, near);
        assert_eq!(merged.len(), 1);
        assert_eq!(merged[0].signature, "compile-time cranelift-opt");
        assert!(merged[0].engine.starts_with("cranelift-tail-signals, "));
        assert_eq!(merged[0].detail.lines().count(), 4);
        assert!(merged[0]
            .detail
            .contains("cranelift-notail-signals: slow\n"));
        assert!(merged[0].detail.contains("over half the limits"));
    }

    #[test]
    fn part_of_a_family_is_named_engine_by_engine() {
        let over = vec![
            blowup(FindingKind::CompileTime, "cranelift-notail-explicit"),
            blowup(FindingKind::CompileMemory, "cranelift-tail-explicit"),
        ];
        let near = vec![blowup(FindingKind::CompileTime, "cranelift-tail-explicit")];
        let merged = spread(&matrix(), over, near);
        let signatures: Vec<&str> = merged.iter().map(|b| b.signature.as_str()).collect();
        assert_eq!(
            signatures,
            [
                "compile-memory cranelift-tail-explicit",
                "compile-time cranelift-tail-explicit,cranelift-notail-explicit"
            ]
        );
    }
}
