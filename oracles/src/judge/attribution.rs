//! Saying who is probably wrong. Engines that share code are one witness:
//! a disagreement is weighed by implementation family
//! (`engine::family`), the side holding the most families is taken as
//! right, and the families on the other side name the party (wasmi,
//! Cranelift's optimizer, its x64 lowering, ...). Within one family, the
//! configuration property the disagreeing variants share and the others
//! lack is named instead (explicit checks, tail calls, ...). When the
//! families split evenly (wasmi against Cranelift with no tie-breaker),
//! nobody is blamed.

use crate::engine::family::{parties, CRANELIFT_OPT, CRANELIFT_OPT_NONE, PULLEY, WINCH};
use crate::engine::id::EngineId;
use crate::engine::tuning::Tuning;
use crate::engine::{Backend, Budget, WasmtimeVariant};
use crate::judge::releases::divergence;
use crate::judge::verdict::{Side, Verdict};
use std::collections::BTreeSet;

/// Who an attribution text suspects: what follows its last `suspect `
/// (`wasmi`, `Cranelift's explicit bounds and stack checks`), without the
/// reasoning before it, which counts the engines that took part.
pub fn suspected_party(attribution: &str) -> &str {
    attribution
        .rsplit_once("suspect ")
        .map_or(attribution, |(_, who)| who)
}

/// A one-line attribution of a finding verdict; `None` for non-findings.
pub fn suspect(verdict: &Verdict) -> Option<String> {
    match verdict {
        Verdict::Crash { engines } => {
            let names: Vec<&str> = engines.iter().map(|(e, _)| e.as_str()).collect();
            Some(format!(
                "{} panicked: suspect {}",
                names.join(", "),
                names.join(" and ")
            ))
        }
        Verdict::UnexpectedRejection { engines } => Some(format!(
            "{} refused a module valid under its proposals: suspect {}",
            engines.join(", "),
            engines.join(" and ")
        )),
        Verdict::Mismatch(m) => Some(match divergence(m) {
            Some(versions) => format!("{}; {}", versions.describe(), split(&m.sides)),
            None => split(&m.sides),
        }),
        _ => None,
    }
}

/// Who a disagreement between `groups` blames, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Blame {
    /// The parties blamed; empty when the families split evenly.
    pub parties: Vec<String>,
    /// The reasoning, for people.
    pub reasoning: String,
}

/// Weighs a disagreement by implementation family (see the module docs).
pub fn blame(groups: &[Side]) -> Blame {
    let families: Vec<BTreeSet<String>> = groups
        .iter()
        .map(|g| g.engines.iter().map(EngineId::family).collect())
        .collect();
    let ran: BTreeSet<String> = families.iter().flatten().cloned().collect();
    let most = families.iter().map(BTreeSet::len).max().unwrap_or(0);
    let widest: Vec<usize> = (0..groups.len())
        .filter(|i| families[*i].len() == most)
        .collect();
    let reference = if ran.len() == 1 {
        // One family split by configuration: the oracle's side is the
        // reference configuration.
        0
    } else if let [only] = widest.as_slice() {
        *only
    } else {
        let sides: Vec<String> = widest
            .iter()
            .map(|i| describe(&groups[*i].engines))
            .collect();
        return Blame {
            parties: Vec::new(),
            reasoning: format!(
                "{} disagree and as many implementation families stand on each side (run tie-breakers from other families: [matrix] tie_breakers)",
                sides.join(" and ")
            ),
        };
    };
    let right = &groups[reference].engines;
    let wrong: Vec<&EngineId> = groups
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != reference)
        .flat_map(|(_, g)| &g.engines)
        .collect();
    let ran: Vec<String> = ran.into_iter().collect();
    let blamed = parties_of(&wrong, right, &ran);
    Blame {
        reasoning: format!(
            "{} {} with {}",
            names(&wrong).join(", "),
            if wrong.len() == 1 {
                "disagrees"
            } else {
                "disagree"
            },
            describe(right)
        ),
        parties: blamed,
    }
}

/// The parties `wrong` blames against `right` (`ran`: every family that
/// ran): families wrong as a whole (in one release, where another
/// release of the family is right, said after them), then families split
/// by configuration, each party once.
fn parties_of(wrong: &[&EngineId], right: &[EngineId], ran: &[String]) -> Vec<String> {
    let mut whole = Vec::new();
    let mut releases = BTreeSet::new();
    let mut split_parties = Vec::new();
    let wrong_families: BTreeSet<String> = wrong.iter().map(|e| e.family()).collect();
    for f in &wrong_families {
        let odd: Vec<&EngineId> = wrong.iter().copied().filter(|e| e.family() == *f).collect();
        let rest: Vec<&EngineId> = right.iter().filter(|e| e.family() == *f).collect();
        if rest.is_empty() {
            whole.push(f.clone());
        } else if let Some(release) = release_split(&odd, &rest) {
            whole.push(f.clone());
            releases.insert(release);
        } else {
            split_parties.push(split_party(&odd, &rest));
        }
    }
    let mut blamed = parties(&whole, ran);
    if !releases.is_empty() && !blamed.is_empty() {
        // The release adds to the family blame: what is wrong, and where.
        let releases: Vec<String> = releases.into_iter().collect();
        blamed = vec![format!("{}{}", blamed.join(" and "), releases.join(";"))];
    }
    for party in split_parties {
        // Families split by the same property are one party.
        if !blamed.contains(&party) {
            blamed.push(party);
        }
    }
    blamed
}

/// Attribution of a disagreement between groups of engines.
fn split(groups: &[Side]) -> String {
    let Blame { parties, reasoning } = blame(groups);
    if parties.is_empty() {
        format!("{reasoning}: suspect undecided")
    } else {
        format!("{reasoning}: suspect {}", parties.join(" and "))
    }
}

fn names<'a>(engines: &[&'a EngineId]) -> Vec<&'a str> {
    engines.iter().map(|e| e.as_str()).collect()
}

/// "wasmi and four Cranelift variants at opt level speed", by family.
fn describe(engines: &[EngineId]) -> String {
    let mut by_family: Vec<(String, usize)> = Vec::new();
    for e in engines {
        let f = e.family();
        match by_family.iter_mut().find(|(name, _)| *name == f) {
            Some((_, n)) => *n += 1,
            None => by_family.push((f, 1)),
        }
    }
    let parts: Vec<String> = by_family
        .into_iter()
        .map(|(f, n)| {
            let what = match f.as_str() {
                CRANELIFT_OPT => "Cranelift variant at opt level speed",
                CRANELIFT_OPT_NONE => "Cranelift variant at opt level none",
                PULLEY => "Pulley variant",
                WINCH => "Winch variant",
                _ => {
                    return if n == 1 {
                        f
                    } else {
                        format!("{} {f} engines", number(n))
                    }
                }
            };
            match n {
                1 => format!("one {what}"),
                n => format!("{} {}", number(n), what.replacen("variant", "variants", 1)),
            }
        })
        .collect();
    parts.join(" and ")
}

fn number(n: usize) -> String {
    match n {
        2 => "two".into(),
        3 => "three".into(),
        4 => "four".into(),
        5 => "five".into(),
        6 => "six".into(),
        n => n.to_string(),
    }
}

/// Where `odd` of one family, all of one Wasmtime release, disagree with
/// `rest` of it, all of other releases (two releases in the matrix,
/// `engine::other_release`): the release, said after the family's blame
/// (` in Wasmtime 48, fixed in 51`, ` in Wasmtime 51, a change since 48`).
/// `None` when the family is split inside a release.
fn release_split(odd: &[&EngineId], rest: &[&EngineId]) -> Option<String> {
    let odd_releases: BTreeSet<u64> = odd.iter().map(|e| e.release_or_linked()).collect();
    let rest_releases: BTreeSet<u64> = rest.iter().map(|e| e.release_or_linked()).collect();
    let [release] = odd_releases.into_iter().collect::<Vec<_>>()[..] else {
        return None;
    };
    if rest_releases.contains(&release) {
        return None;
    }
    let join = |releases: Vec<u64>| {
        releases
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(" and ")
    };
    let newer: Vec<u64> = rest_releases
        .iter()
        .copied()
        .filter(|r| *r > release)
        .collect();
    Some(if newer.is_empty() {
        format!(
            " in Wasmtime {release}, a change since {}",
            join(rest_releases.into_iter().collect())
        )
    } else {
        format!(" in Wasmtime {release}, fixed in {}", join(newer))
    })
}

/// Who is wrong when `odd` of one family disagree with `rest` of it,
/// inside a release ([`release_split`] takes the rest): a configuration
/// property they share (within their release, fixed in a newer one where
/// the same configuration is right there), else the engines.
fn split_party(odd: &[&EngineId], rest: &[&EngineId]) -> String {
    let odd_releases: BTreeSet<u64> = odd.iter().map(|e| e.release_or_linked()).collect();
    let rest_releases: BTreeSet<u64> = rest.iter().map(|e| e.release_or_linked()).collect();
    if let [release] = odd_releases.iter().copied().collect::<Vec<_>>()[..] {
        let others = rest_releases.iter().any(|r| *r != release);
        if others {
            let same: Vec<&EngineId> = rest
                .iter()
                .copied()
                .filter(|e| e.release_or_linked() == release)
                .collect();
            if let Some(property) = shared_property(odd, &same) {
                return format!("{property} in Wasmtime {release}{}", fixed_in(odd, rest));
            }
        }
    }
    shared_property(odd, rest).unwrap_or_else(|| names(odd).join(" and "))
}

/// `, fixed in R` for the newer releases R on which every engine of `odd`
/// (its configuration, without the swarm's drawn settings) is among
/// `rest`: the same configuration is right there.
fn fixed_in(odd: &[&EngineId], rest: &[&EngineId]) -> String {
    let base = |id: &EngineId| {
        id.variant().map(|v| WasmtimeVariant {
            tuning: Tuning::default(),
            ..v
        })
    };
    let releases: BTreeSet<u64> = rest
        .iter()
        .map(|e| e.release_or_linked())
        .filter(|r| odd.iter().all(|o| o.release_or_linked() < *r))
        .filter(|r| {
            odd.iter().all(|o| {
                base(o).is_some()
                    && rest
                        .iter()
                        .any(|e| e.release_or_linked() == *r && base(e) == base(o))
            })
        })
        .collect();
    if releases.is_empty() {
        return String::new();
    }
    let releases: Vec<String> = releases.iter().map(u64::to_string).collect();
    format!(", fixed in {}", releases.join(" and "))
}

/// [`shared_property`] for engines by value: what `odd` share in their
/// configuration and `rest` lacks (`no-budget`, `+no-sse41`, ...), if
/// anything.
pub fn shared_configuration(odd: &[EngineId], rest: &[EngineId]) -> Option<String> {
    let odd: Vec<&EngineId> = odd.iter().collect();
    let rest: Vec<&EngineId> = rest.iter().collect();
    shared_property(&odd, &rest)
}

/// A configuration property every engine of `odd` has and no engine of
/// `rest` has, if there is one: a matrix axis, or a setting the swarm
/// draws (`+no-sse41`, `+verifier`, ...).
fn shared_property(odd: &[&EngineId], rest: &[&EngineId]) -> Option<String> {
    // Other injected faults are no configuration property.
    let parse = |id: &EngineId| {
        (id.fault().is_none() || id.has_setting_tied_fault())
            .then(|| id.variant())
            .flatten()
    };
    let odd: Vec<WasmtimeVariant> = odd.iter().map(|e| parse(e)).collect::<Option<_>>()?;
    let rest: Vec<Option<WasmtimeVariant>> = rest.iter().map(|e| parse(e)).collect();
    type Test = fn(&WasmtimeVariant) -> bool;
    let properties: [(&str, Test); 9] = [
        ("explicit-checks", |v| !v.signals),
        ("signals-based", |v| v.signals),
        ("tail-call", |v| v.tail_calls),
        ("no-tail-call", |v| !v.tail_calls),
        ("Cranelift", |v| v.backend == Backend::Cranelift),
        ("Winch", |v| v.backend == Backend::Winch),
        ("Pulley", |v| v.backend == Backend::Pulley),
        ("single-pass", |v| v.single_pass),
        ("no-budget", |v| v.budget == Budget::None),
    ];
    let axis = properties.into_iter().find_map(|(name, has)| {
        let all_odd = odd.iter().all(has);
        let none_rest = rest.iter().all(|v| !v.as_ref().is_some_and(has));
        (all_odd && none_rest).then(|| culprit(name).to_string())
    });
    axis.or_else(|| {
        let has = |v: &WasmtimeVariant, token: &String| v.tuning.tokens().contains(token);
        // A swarm draw of several settings: every setting the odd side
        // alone has is a suspect, and which one (or which pair) it is,
        // triage's flips tell (`triage::flip::smallest_vanishing`).
        let suspects: Vec<String> = odd
            .first()?
            .tuning
            .tokens()
            .into_iter()
            .filter(|token| {
                odd.iter().all(|v| has(v, token))
                    && rest
                        .iter()
                        .all(|v| !v.as_ref().is_some_and(|v| has(v, token)))
            })
            .map(|token| Tuning::describe(&token))
            .collect();
        match suspects.as_slice() {
            [] => None,
            [one] => Some(one.clone()),
            several => Some(format!("one or more of: {}", several.join(", "))),
        }
    })
}

fn culprit(property: &str) -> &'static str {
    match property {
        "explicit-checks" => "Cranelift's explicit bounds and stack checks",
        "signals-based" => "signal-based trap handling (guard pages, stack probes)",
        "tail-call" => "the tail-call proposal's code paths",
        "no-tail-call" => "the configuration without tail calls",
        "Cranelift" => "Cranelift",
        "Winch" => "Winch",
        "single-pass" => "the single-pass register allocator",
        "no-budget" => {
            "code compiled without fuel or epoch checks (which give every loop a trap exit)"
        }
        _ => "Pulley",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::other_release::linked_major;
    use crate::judge::verdict::{Mismatch, Phase};

    fn groups(groups: &[&[&str]]) -> Vec<Side> {
        groups
            .iter()
            .map(|g| Side {
                engines: g.iter().map(|e| EngineId::parse(e)).collect(),
                observed: String::new(),
                class: "value".into(),
            })
            .collect()
    }

    fn mismatch(sides: &[&[&str]]) -> Verdict {
        let groups = groups(sides);
        Verdict::Mismatch(Mismatch {
            phase: Phase::Instantiate,
            blame: blame(&groups).parties,
            sides: groups,
            detail: None,
            tie_breakers: Vec::new(),
        })
    }

    const ALL: [&str; 4] = [
        "cranelift-tail-signals",
        "cranelift-tail-explicit",
        "cranelift-notail-signals",
        "cranelift-notail-explicit",
    ];
    const NONE: &str = "cranelift-tail-signals+opt-none";
    const PULLEY: &str = "pulley-tail-signals";
    const WINCH: &str = "winch-notail-signals";

    fn with(engines: &[&'static str], more: &[&'static str]) -> Vec<&'static str> {
        engines.iter().chain(more).copied().collect()
    }

    #[test]
    fn four_variants_of_one_family_do_not_outvote_the_oracle() {
        let text = suspect(&mismatch(&[&["wasmi"], &ALL])).unwrap();
        assert!(text.ends_with("suspect undecided"), "{text}");
        assert_eq!(suspected_party(&text), "undecided");
    }

    #[test]
    fn tie_breakers_decide_between_wasmi_and_cranelift() {
        let cranelift = with(&ALL, &[NONE, PULLEY, WINCH]);
        assert_eq!(
            suspect(&mismatch(&[&["wasmi"], &cranelift])).unwrap(),
            "wasmi disagrees with four Cranelift variants at opt level speed and one Cranelift \
             variant at opt level none and one Pulley variant and one Winch variant: suspect wasmi"
        );
        let oracle_side = ["wasmi", NONE, PULLEY, WINCH];
        let text = suspect(&mismatch(&[&oracle_side, &ALL])).unwrap();
        assert!(
            text.ends_with("suspect Cranelift at opt level speed on x64"),
            "{text}"
        );
        let text = suspect(&mismatch(&[
            &["wasmi", NONE, WINCH],
            &with(&ALL, &[PULLEY]),
        ]))
        .unwrap();
        assert!(
            text.ends_with("suspect Cranelift's optimizer (mid-end)"),
            "{text}"
        );
        let text = suspect(&mismatch(&[
            &["wasmi", PULLEY, WINCH],
            &with(&ALL, &[NONE]),
        ]))
        .unwrap();
        assert!(text.ends_with("suspect Cranelift's x64 lowering"), "{text}");
    }

    #[test]
    fn a_configuration_split_inside_a_family_names_the_property() {
        let text = suspect(&mismatch(&[&["wasmi", ALL[0], ALL[2]], &[ALL[1], ALL[3]]])).unwrap();
        assert!(
            text.ends_with("suspect Cranelift's explicit bounds and stack checks"),
            "{text}"
        );
        let text = suspect(&mismatch(&[&["wasmi", ALL[2], ALL[3]], &[ALL[0], ALL[1]]])).unwrap();
        assert!(
            text.ends_with("suspect the tail-call proposal's code paths"),
            "{text}"
        );
        // A fault engine is wasmi: no witness of its own, named when it
        // alone leaves its family.
        let text = suspect(&mismatch(&[&["wasmi", PULLEY], &["wasmi-fault-add"]])).unwrap();
        assert!(text.ends_with("suspect wasmi-fault-add"), "{text}");
        let text = suspect(&mismatch(&[&["wasmi"], &["wasmi-fault-add"]])).unwrap();
        assert!(text.ends_with("suspect wasmi-fault-add"), "{text}");
        let text = suspect(&mismatch(&[
            &["wasmi", "wasmi-fault-add"],
            &[ALL[0], ALL[1]],
        ]))
        .unwrap();
        assert!(text.ends_with("suspect undecided"), "{text}");
    }

    #[test]
    fn a_drawn_engine_alone_against_its_family_is_blamed_on_its_setting() {
        let fixed = ["wasmtime-default", ALL[1], ALL[2]];
        for (drawn, culprit) in [
            ("wasmtime-default+no-sse41", "code without sse41"),
            ("wasmtime-default+x86-64-v2", "code for x86-64-v2 CPUs"),
            ("wasmtime-default+verifier", "Cranelift's debug verifier"),
            ("wasmtime-default+guard-64k", "a guard region of 64k"),
            (
                "cranelift-tail-signals+single-pass+nobudget",
                "the single-pass register allocator",
            ),
        ] {
            let text = suspect(&mismatch(&[&with(&["wasmi"], &fixed), &[drawn]])).unwrap();
            assert!(text.ends_with(&format!("suspect {culprit}")), "{text}");
        }
    }

    #[test]
    fn an_unbudgeted_hang_fixed_in_a_newer_release_says_both_whatever_the_swarm_drew() {
        let linked = linked_major();
        let newer = linked + 3;
        let newer_default = format!("wasmtime-default@{newer}");
        let right = [
            "wasmi",
            ALL[1],
            ALL[2],
            "cranelift-notail-explicit+nofuel",
            NONE,
            newer_default.as_str(),
        ];
        let mut blamed = BTreeSet::new();
        for drawn in [
            "wasmtime-default+nan-canon",
            "wasmtime-default+eager-tables",
        ] {
            let text = suspect(&mismatch(&[&right, &["wasmtime-default", drawn]])).unwrap();
            blamed.insert(suspected_party(&text).to_string());
        }
        assert_eq!(
            blamed.into_iter().collect::<Vec<_>>(),
            [format!(
                "code compiled without fuel or epoch checks (which give every loop a trap exit) in Wasmtime {linked}, fixed in {newer}"
            )]
        );
    }

    #[test]
    fn a_cranelift_fault_is_one_family_with_its_variants() {
        let faulty = [
            "cranelift-tail-signals+fault-i64-mul",
            "cranelift-notail-explicit+fault-i64-mul",
        ];
        let b = blame(&groups(&[&["wasmi", NONE, PULLEY], &faulty]));
        assert_eq!(b.parties, ["Cranelift at opt level speed on x64"]);
    }

    #[test]
    fn a_newer_release_alone_is_a_change_in_it() {
        let linked = linked_major();
        let newer = format!("{}@{}", ALL[0], linked + 3);
        let b = blame(&groups(&[&["wasmi", ALL[0], NONE, PULLEY], &[&newer]]));
        assert_eq!(
            b.parties,
            [format!(
                "Cranelift at opt level speed on x64 in Wasmtime {}, a change since {linked}",
                linked + 3
            )]
        );
        let b = blame(&groups(&[&["wasmi", &newer, NONE, PULLEY], &[ALL[0]]]));
        assert_eq!(
            b.parties,
            [format!(
                "Cranelift at opt level speed on x64 in Wasmtime {linked}, fixed in {}",
                linked + 3
            )]
        );
    }

    #[test]
    fn the_release_adds_to_the_family_blame() {
        // A mid-end bug of the linked release, fixed in the newer one: its
        // Cranelift variants and Pulley wrong, opt level none, Winch and the
        // newer release right.
        let linked = linked_major();
        let newer = format!("wasmtime-default@{}", linked + 3);
        let b = blame(&groups(&[
            &["wasmi", NONE, WINCH, &newer],
            &[ALL[0], ALL[1], "wasmtime-default", PULLEY],
        ]));
        assert_eq!(
            b.parties,
            [format!(
                "Cranelift's optimizer (mid-end) in Wasmtime {linked}, fixed in {}",
                linked + 3
            )]
        );
        // Without the newer release, the family blame alone.
        let b = blame(&groups(&[
            &["wasmi", NONE, WINCH],
            &[ALL[0], ALL[1], "wasmtime-default", PULLEY],
        ]));
        assert_eq!(b.parties, ["Cranelift's optimizer (mid-end)"]);
    }

    #[test]
    fn a_split_between_two_releases_names_the_release() {
        let linked = linked_major();
        let old = |e: &str| format!("{e}@{}", linked - 1);
        let (a, b) = (old(ALL[0]), old(ALL[1]));
        // The linked release alone leaves the oracle: a change in it.
        let b_ = blame(&groups(&[&["wasmi", &a, &b, NONE, PULLEY], &ALL[..2]]));
        assert_eq!(
            b_.parties,
            [format!(
                "Cranelift at opt level speed on x64 in Wasmtime {linked}, a change since {}",
                linked - 1
            )]
        );
        // The reference release alone: fixed since.
        let b_ = blame(&groups(&[
            &["wasmi", ALL[0], ALL[1], NONE, PULLEY],
            &[&a, &b],
        ]));
        assert_eq!(
            b_.parties,
            [format!(
                "Cranelift at opt level speed on x64 in Wasmtime {}, fixed in {linked}",
                linked - 1
            )]
        );
        // Explicit checks of the linked release only: the property, in it.
        let b_ = blame(&groups(&[
            &["wasmi", ALL[0], &a, &b, NONE, PULLEY],
            &[ALL[1]],
        ]));
        assert_eq!(
            b_.parties,
            [format!(
                "Cranelift's explicit bounds and stack checks in Wasmtime {linked}"
            )]
        );
    }

    #[test]
    fn crashes_and_refusals_name_their_engine() {
        let crash = Verdict::Crash {
            engines: vec![("wasmi".into(), "boom".into())],
        };
        assert_eq!(suspect(&crash).unwrap(), "wasmi panicked: suspect wasmi");
        assert_eq!(suspected_party("wasmi panicked: suspect wasmi"), "wasmi");
        assert_eq!(
            suspected_party(
                "only the explicit-checks variants disagree (a, b) with wasmi: suspect Cranelift's explicit bounds and stack checks"
            ),
            "Cranelift's explicit bounds and stack checks"
        );
        assert_eq!(suspect(&Verdict::Agree), None);
    }
}
