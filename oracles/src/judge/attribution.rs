//! Saying who is probably wrong: the odd one out of a disagreement, or the
//! configuration property that the disagreeing engines share and the
//! others lack (the smallest configuration difference that flips the
//! outcome).

use crate::engine::{Backend, WasmtimeVariant};
use crate::judge::verdict::{Group, Verdict};

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
        Verdict::Mismatch(m) => Some(split(&m.groups)),
        _ => None,
    }
}

/// Attribution of a disagreement between groups of engines.
fn split(groups: &[Group]) -> String {
    let mut by_size: Vec<&Group> = groups.iter().collect();
    by_size.sort_by_key(|g| std::cmp::Reverse(g.engines.len()));
    let majority = by_size[0];
    let others: Vec<&str> = by_size[1..]
        .iter()
        .flat_map(|g| g.engines.iter().map(String::as_str))
        .collect();
    if by_size.len() > 1 && by_size[1].engines.len() == majority.engines.len() {
        // No majority: the oracle (its group comes first) is the reference.
        let oracle = &groups[0];
        let rest: Vec<&str> = groups[1..]
            .iter()
            .flat_map(|g| g.engines.iter().map(String::as_str))
            .collect();
        return format!(
            "an even split, so the oracle's side ({}) is taken as right: suspect {}",
            oracle.engines.join(", "),
            rest.join(" and ")
        );
    }
    let majority_desc = describe(&majority.engines);
    if let [alone] = others.as_slice() {
        return format!("{alone} alone disagrees with {majority_desc}: suspect {alone}");
    }
    let wasmi_based = |e: &str| e == "wasmi" || e.starts_with("wasmi-");
    if others.iter().all(|e| wasmi_based(e)) && !majority.engines.iter().any(|e| wasmi_based(e)) {
        return format!(
            "only the wasmi-based engines disagree ({}) with {majority_desc}: suspect wasmi",
            others.join(", ")
        );
    }
    if let Some(property) = shared_property(&others, &majority.engines) {
        return format!(
            "only the {property} variants disagree ({}) with {majority_desc}: suspect {}",
            others.join(", "),
            culprit(property)
        );
    }
    format!(
        "{} disagree with {majority_desc}: suspect {}",
        others.join(", "),
        others.join(" and ")
    )
}

/// "four Wasmtime variants", "wasmi and two Wasmtime variants", ...
fn describe(engines: &[String]) -> String {
    let wasmtime = engines
        .iter()
        .filter(|e| WasmtimeVariant::parse(e).is_some())
        .count();
    let rest: Vec<&str> = engines
        .iter()
        .filter(|e| WasmtimeVariant::parse(e).is_none())
        .map(String::as_str)
        .collect();
    let variants = match wasmtime {
        0 => None,
        1 => Some("one Wasmtime variant".to_string()),
        n => Some(format!("{} Wasmtime variants", number(n))),
    };
    let mut parts: Vec<String> = rest.iter().map(|s| s.to_string()).collect();
    parts.extend(variants);
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

/// A configuration property every engine of `odd` has and no engine of
/// `rest` has, if there is one.
fn shared_property(odd: &[&str], rest: &[String]) -> Option<&'static str> {
    let odd: Vec<WasmtimeVariant> = odd
        .iter()
        .map(|e| WasmtimeVariant::parse(e))
        .collect::<Option<_>>()?;
    let rest: Vec<Option<WasmtimeVariant>> =
        rest.iter().map(|e| WasmtimeVariant::parse(e)).collect();
    type Test = fn(&WasmtimeVariant) -> bool;
    let properties: [(&str, Test); 7] = [
        ("explicit-checks", |v| !v.signals),
        ("signals-based", |v| v.signals),
        ("tail-call", |v| v.tail_calls),
        ("no-tail-call", |v| !v.tail_calls),
        ("Cranelift", |v| v.backend == Backend::Cranelift),
        ("Winch", |v| v.backend == Backend::Winch),
        ("Pulley", |v| v.backend == Backend::Pulley),
    ];
    properties.into_iter().find_map(|(name, has)| {
        let all_odd = odd.iter().all(has);
        let none_rest = rest.iter().all(|v| !v.as_ref().is_some_and(has));
        (all_odd && none_rest).then_some(name)
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
        _ => "Pulley",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::judge::verdict::{Mismatch, Phase};

    fn mismatch(groups: &[&[&str]]) -> Verdict {
        Verdict::Mismatch(Mismatch {
            phase: Phase::Instantiate,
            groups: groups
                .iter()
                .map(|g| Group {
                    engines: g.iter().map(|e| e.to_string()).collect(),
                    observed: String::new(),
                    class: "value".into(),
                })
                .collect(),
            detail: None,
        })
    }

    const ALL: [&str; 4] = [
        "cranelift-tail-signals",
        "cranelift-tail-explicit",
        "cranelift-notail-signals",
        "cranelift-notail-explicit",
    ];

    #[test]
    fn the_odd_engine_out_is_named() {
        assert_eq!(
            suspect(&mismatch(&[&["wasmi"], &ALL])).unwrap(),
            "wasmi alone disagrees with four Wasmtime variants: suspect wasmi"
        );
        assert_eq!(
            suspect(&mismatch(&[&["wasmi", ALL[0], ALL[1], ALL[2]], &[ALL[3]]])).unwrap(),
            "cranelift-notail-explicit alone disagrees with wasmi and three Wasmtime variants: \
             suspect cranelift-notail-explicit"
        );
    }

    #[test]
    fn a_shared_configuration_property_is_named() {
        let text = suspect(&mismatch(&[&["wasmi", ALL[0], ALL[2]], &[ALL[1], ALL[3]]])).unwrap();
        assert!(
            text.starts_with("only the explicit-checks variants disagree")
                && text.ends_with("suspect Cranelift's explicit bounds and stack checks"),
            "{text}"
        );
        let text = suspect(&mismatch(&[&["wasmi", ALL[2], ALL[3]], &[ALL[0], ALL[1]]])).unwrap();
        assert!(text.starts_with("only the tail-call variants"), "{text}");
        let text = suspect(&mismatch(&[
            &["wasmi", "wasmi-fault-add"],
            &[ALL[0], ALL[1]],
        ]))
        .unwrap();
        assert_eq!(
            text,
            "an even split, so the oracle's side (wasmi, wasmi-fault-add) is taken as right: \
             suspect cranelift-tail-signals and cranelift-tail-explicit"
        );
        let text = suspect(&mismatch(&[&["wasmi"], &["wasmi-fault-add"]])).unwrap();
        assert!(text.ends_with("suspect wasmi-fault-add"), "{text}");
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
