//! Engine names that carry a Wasmtime release: `NAME@MAJOR` runs NAME on
//! crosscheck built against Wasmtime MAJOR (`engine::other_version`); a
//! name without it runs on the linked release.

/// `(base name, release major)` of an engine name: `("cranelift-tail-signals",
/// Some(38))` for `cranelift-tail-signals@38`, `(name, None)` for an engine
/// of the linked release.
pub fn split_version(name: &str) -> (&str, Option<u64>) {
    match name.rsplit_once('@') {
        Some((base, major)) => match major.parse() {
            Ok(major) => (base, Some(major)),
            Err(_) => (name, None),
        },
        None => (name, None),
    }
}

/// An engine's name without an injected fault (`+fault-...`).
pub fn without_fault(name: &str) -> &str {
    name.split("+fault-").next().unwrap_or(name)
}

/// Whether `candidate` (an engine of the linked release) is the twin of
/// `reference` (`NAME@MAJOR`): the same engine, or that engine with a fault
/// injected, which stands for a bug new in the linked release.
pub fn is_twin(candidate: &str, reference: &str) -> bool {
    let (base, Some(_)) = split_version(reference) else {
        return false;
    };
    split_version(candidate).1.is_none() && without_fault(candidate) == without_fault(base)
}

/// The major release of Wasmtime this build links (`48` for 48.0.8).
pub fn linked_major() -> u64 {
    crate::versions::WASMTIME
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .expect("Cargo.lock names Wasmtime's version")
}

/// The release an engine runs on: its `@MAJOR`, else the linked one.
pub fn release_of(name: &str) -> u64 {
    split_version(name).1.unwrap_or_else(linked_major)
}

/// The releases `text` (a signature, a summary) names engines of:
/// every `@MAJOR` that ends an engine name, once each, in order.
pub fn releases_named_in(text: &str) -> Vec<u64> {
    let mut found = Vec::new();
    for (at, _) in text.match_indices('@') {
        let digits: String = text[at + 1..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        let after_name = at > 0 && !text[..at].ends_with(char::is_whitespace);
        if let (true, Ok(major)) = (after_name, digits.parse::<u64>()) {
            if !found.contains(&major) {
                found.push(major);
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_releases_of_engine_names_in_a_text_are_found_once_each() {
        assert_eq!(
            releases_named_in("regression 47->48 call {wasmi,a@47,b@47}=value vs {a}=value @x"),
            [47]
        );
        assert_eq!(
            releases_named_in("mismatch {wasmi} vs {a}"),
            Vec::<u64>::new()
        );
    }

    #[test]
    fn an_engine_and_its_faulty_form_are_twins_of_the_reference() {
        assert!(is_twin(
            "cranelift-tail-signals",
            "cranelift-tail-signals@47"
        ));
        assert!(is_twin(
            "cranelift-tail-signals+fault-i64-mul",
            "cranelift-tail-signals@47"
        ));
        assert!(!is_twin(
            "cranelift-tail-explicit",
            "cranelift-tail-signals@47"
        ));
        assert!(!is_twin(
            "cranelift-tail-signals@46",
            "cranelift-tail-signals@47"
        ));
        assert!(!is_twin("cranelift-tail-signals", "cranelift-tail-signals"));
    }
}
