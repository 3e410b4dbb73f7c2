//! An engine's identity, parsed once from its name: what runs (a Wasmtime
//! variant with its modifiers, wasmi, the swarm, a deliberately wrong test
//! engine), an injected fault (`+fault-...`), and the Wasmtime release
//! (`@MAJOR`; none: the release this build links). Names are strings only
//! where they cross a boundary: the configuration, the store, JSON,
//! signatures and the command line.

use super::family::{CRANELIFT_OPT, CRANELIFT_OPT_NONE, PULLEY, WASMI, WINCH};
use super::wasmi::WASMI_LAZY;
use super::wasmtime::{Backend, Budget, WasmtimeVariant};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// The mark of an injected fault in an engine's name.
const FAULT: &str = "+fault-";

/// The mark of a memory sabotage in an engine's base: a canary test
/// engine that reaches past its memory (`engine::memory_sabotage`).
const SABOTAGE: &str = "+sabotage-";

/// The prefix of a fault that fires only in code for a CPU lacking some
/// feature (`<variant>+fault-cpu-i64-mul`): a lowering used only without
/// it is wrong, as in Cranelift bugs of the fallback paths. For testing
/// that the swarm finds it and attribution and triage name the setting;
/// never in the defaults.
pub const CPU_TIED_FAULT: &str = "cpu-";

/// The prefix of a fault that fires only where a memory reservation is
/// set and memories may not move, both at once
/// (`<variant>+reserve-1m+fixed-memory+fault-layout-add`), as the bounds
/// checks of a published Wasmtime 48 bug need two settings: for testing
/// that the swarm's draws of several settings find it and triage names
/// both; never in the defaults.
pub const LAYOUT_TIED_FAULT: &str = "layout-";

/// An engine's name, parsed: `BASE[+fault-FAULT][@MAJOR]`. Equal when
/// the names are, since the name determines the rest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineId {
    /// The whole name, as written.
    name: String,
    /// Where the base (the name without fault and release) ends.
    base_end: usize,
    /// Where the fault ends (`base_end` when there is none).
    fault_end: usize,
    /// The release, when it is not the linked one.
    release: Option<u64>,
}

/// A name's base, fault and release, borrowed from it.
fn split(name: &str) -> (&str, Option<&str>, Option<u64>) {
    // A release is a number after the last `@`; anything else is part of
    // the name.
    let (rest, release) = match name.rsplit_once('@') {
        Some((rest, major)) => match major.parse() {
            Ok(major) => (rest, Some(major)),
            Err(_) => (name, None),
        },
        None => (name, None),
    };
    match rest.split_once(FAULT) {
        Some((base, fault)) => (base, Some(fault), release),
        None => (rest, None, release),
    }
}

impl EngineId {
    /// Parses a name. Every string is some engine's name; whether that
    /// engine exists is `engine::build_engine`'s to say.
    pub fn parse(name: &str) -> EngineId {
        let (base, fault, release) = split(name);
        EngineId {
            name: name.to_string(),
            base_end: base.len(),
            fault_end: base.len() + fault.map_or(0, |f| FAULT.len() + f.len()),
            release,
        }
    }

    /// The engine `base` with `fault` injected, on `release`.
    pub fn new(base: &str, fault: Option<&str>, release: Option<u64>) -> EngineId {
        let mut name = base.to_string();
        if let Some(fault) = fault {
            name.push_str(FAULT);
            name.push_str(fault);
        }
        if let Some(major) = release {
            name.push_str(&format!("@{major}"));
        }
        EngineId::parse(&name)
    }

    /// The whole name.
    pub fn as_str(&self) -> &str {
        &self.name
    }

    /// The name without fault and release: `cranelift-tail-signals+opt-none`,
    /// `wasmi`, `swarm`, `wasmi-fault-add`.
    pub fn base(&self) -> &str {
        &self.name[..self.base_end]
    }

    /// The injected fault (`i64-mul`, `cpu-add`, `stack-check`), if any.
    pub fn fault(&self) -> Option<&str> {
        (self.fault_end > self.base_end)
            .then(|| &self.name[self.base_end + FAULT.len()..self.fault_end])
    }

    /// The release named by `@MAJOR`; `None` for the linked release.
    pub fn release(&self) -> Option<u64> {
        self.release
    }

    /// The release the engine runs on: its `@MAJOR`, else the linked one.
    pub fn release_or_linked(&self) -> u64 {
        self.release.unwrap_or_else(linked_major)
    }

    /// The same engine without its injected fault, on its release.
    pub fn without_fault(&self) -> EngineId {
        EngineId::new(self.base(), None, self.release)
    }

    /// The same engine (fault included) on `release` (`None`: the linked one).
    pub fn on_release(&self, release: Option<u64>) -> EngineId {
        EngineId::new(self.base(), self.fault(), release)
    }

    /// Whether its fault fires only under drawn settings (a CPU lacking
    /// some feature, [`CPU_TIED_FAULT`]; a memory layout,
    /// [`LAYOUT_TIED_FAULT`]): it stands for a bug in the code those
    /// settings select, attributed as a real one would be (by the
    /// settings).
    pub fn has_setting_tied_fault(&self) -> bool {
        self.fault()
            .is_some_and(|f| f.starts_with(CPU_TIED_FAULT) || f.starts_with(LAYOUT_TIED_FAULT))
    }

    /// The Wasmtime variant `variant` (by name) sabotaged as `sabotage`
    /// (a memory sabotage's suffix): `<variant>+sabotage-<sabotage>`.
    pub fn sabotaged(variant: &str, sabotage: &str) -> EngineId {
        EngineId::parse(&format!("{variant}{SABOTAGE}{sabotage}"))
    }

    /// For a sabotaged Wasmtime variant: the variant's name and the
    /// sabotage's suffix.
    pub fn sabotage(&self) -> Option<(&str, &str)> {
        self.base().split_once(SABOTAGE)
    }

    /// The Wasmtime variant the base names, if it names one.
    pub fn variant(&self) -> Option<WasmtimeVariant> {
        WasmtimeVariant::parse(self.base())
    }

    /// The implementation family (`engine::family`): engines that share
    /// code are one witness. A deliberately wrong engine belongs to the
    /// family it modifies (a wasmi fault or sabotage to wasmi, a Cranelift
    /// variant with an injected fault to its variant's family, as a bug in
    /// shared code would): it is no independent witness, and when it alone
    /// disagrees with its family the split names it. Two releases of one
    /// compiler share nearly all their code: one witness.
    pub fn family(&self) -> String {
        let base = self.base();
        if base == WASMI || base == WASMI_LAZY || base.starts_with("wasmi-") {
            return WASMI.into();
        }
        match self.variant() {
            Some(v) => match v.backend {
                Backend::Cranelift if v.opt_none => CRANELIFT_OPT_NONE.into(),
                Backend::Cranelift => CRANELIFT_OPT.into(),
                Backend::Winch => WINCH.into(),
                Backend::Pulley => PULLEY.into(),
            },
            None => base.into(),
        }
    }

    /// Whether this engine (of the linked release) is the twin of
    /// `reference` (`NAME@MAJOR`): the same engine, or that engine with a
    /// fault injected, which stands for a bug new in the linked release.
    pub fn is_twin_of(&self, reference: &EngineId) -> bool {
        reference.release.is_some() && self.release.is_none() && self.base() == reference.base()
    }
}

impl fmt::Display for EngineId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad`, so that tables can align names by width.
        f.pad(&self.name)
    }
}

impl FromStr for EngineId {
    type Err = std::convert::Infallible;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Ok(EngineId::parse(name))
    }
}

impl std::ops::Deref for EngineId {
    type Target = str;

    fn deref(&self) -> &str {
        &self.name
    }
}

impl std::borrow::Borrow<str> for EngineId {
    fn borrow(&self) -> &str {
        &self.name
    }
}

impl PartialEq<str> for EngineId {
    fn eq(&self, other: &str) -> bool {
        self.name == other
    }
}

impl PartialEq<&str> for EngineId {
    fn eq(&self, other: &&str) -> bool {
        self.name == *other
    }
}

impl PartialEq<String> for EngineId {
    fn eq(&self, other: &String) -> bool {
        &self.name == other
    }
}

impl From<&str> for EngineId {
    fn from(name: &str) -> Self {
        EngineId::parse(name)
    }
}

impl Serialize for EngineId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.name)
    }
}

impl<'de> Deserialize<'de> for EngineId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(EngineId::parse(&String::deserialize(deserializer)?))
    }
}

/// Whether the engine called `engine` is a Wasmtime variant (possibly with
/// an injected fault or of another release) that compiles explicit bounds
/// checks: a memory fault running its code is a breach, not a guard page
/// doing its job.
pub fn has_explicit_checks(engine: &str) -> bool {
    WasmtimeVariant::parse(split(engine).0).is_some_and(|v| !v.signals)
}

/// Whether the engine called `engine` is a Wasmtime variant (possibly with
/// an injected fault or of another release) that runs without fuel or
/// epochs: nothing but its worker's time limit stops a call of it that
/// does not end.
pub fn runs_unbudgeted(engine: &str) -> bool {
    WasmtimeVariant::parse(split(engine).0).is_some_and(|v| v.budget == Budget::None)
}

/// The major release of Wasmtime this build links (`48` for 48.0.8).
pub fn linked_major() -> u64 {
    crate::versions::WASMTIME
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .expect("Cargo.lock names Wasmtime's version")
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
    fn a_name_fills_the_width_a_table_gives_it() {
        let id = EngineId::parse("wasmi");
        assert_eq!(format!("[{id:8}]"), "[wasmi   ]");
        assert_eq!(format!("[{id:>8}]"), "[   wasmi]");
    }

    #[test]
    fn an_engine_and_its_faulty_form_are_twins_of_the_reference() {
        let twin = |candidate: &str, reference: &str| {
            EngineId::parse(candidate).is_twin_of(&EngineId::parse(reference))
        };
        assert!(twin("cranelift-tail-signals", "cranelift-tail-signals@47"));
        assert!(twin(
            "cranelift-tail-signals+fault-i64-mul",
            "cranelift-tail-signals@47"
        ));
        assert!(!twin(
            "cranelift-tail-explicit",
            "cranelift-tail-signals@47"
        ));
        assert!(!twin(
            "cranelift-tail-signals@46",
            "cranelift-tail-signals@47"
        ));
        assert!(!twin("cranelift-tail-signals", "cranelift-tail-signals"));
    }

    #[test]
    fn a_name_is_parsed_into_base_fault_and_release_and_written_back_unchanged() {
        let id = EngineId::parse("cranelift-tail-signals+opt-none+fault-i64-mul@38");
        assert_eq!(id.base(), "cranelift-tail-signals+opt-none");
        assert_eq!(id.fault(), Some("i64-mul"));
        assert_eq!(id.release(), Some(38));
        assert_eq!(id.release_or_linked(), 38);
        assert_eq!(id.without_fault(), "cranelift-tail-signals+opt-none@38");
        assert_eq!(
            id.on_release(None),
            "cranelift-tail-signals+opt-none+fault-i64-mul"
        );
        assert!(id.variant().is_some_and(|v| v.opt_none));
        let plain = EngineId::parse("wasmi");
        assert_eq!(
            (plain.base(), plain.fault(), plain.release()),
            ("wasmi", None, None)
        );
        assert_eq!(plain.release_or_linked(), linked_major());
        // Not a release: part of the name.
        assert_eq!(EngineId::parse("a@b").base(), "a@b");
        assert_eq!(
            EngineId::parse("wasmi-fault-add+fault-rem-s").fault(),
            Some("rem-s")
        );
        for name in crate::engine::known_engine_names() {
            let id: EngineId = name.parse().unwrap();
            assert_eq!(id.to_string(), name);
            assert_eq!(EngineId::new(id.base(), id.fault(), id.release()), id);
            let json = serde_json::to_string(&id).unwrap();
            assert_eq!(serde_json::from_str::<EngineId>(&json).unwrap(), id);
            if let Some((variant, sabotage)) = id.sabotage() {
                assert_eq!(EngineId::sabotaged(variant, sabotage), id);
                assert!(id.fault().is_none() && WasmtimeVariant::parse(variant).is_some());
            }
        }
        let sabotaged = EngineId::parse("cranelift-tail-explicit+sabotage-write-past");
        assert_eq!(
            sabotaged.sabotage(),
            Some(("cranelift-tail-explicit", "write-past"))
        );
        assert_eq!(EngineId::parse("wasmi").sabotage(), None);
    }
}
