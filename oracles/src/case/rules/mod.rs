//! Rule-guided generation: cases aimed at one rewrite or lowering rule of
//! the Cranelift that Wasmtime links.
//!
//! Most published Cranelift miscompiles are one ISLE rule that is wrong at
//! an edge of its guard, and they need three things at once: the rule's
//! pattern in the code Cranelift sees, the constant its guard gets wrong,
//! and the run-time value the wrong rewrite computes wrongly. Random
//! generation rarely lines all three up. Here:
//!
//! 1. [`catalog`] reads the rules of the linked `cranelift-codegen`
//!    (`src/opts/*.isle`, `src/isa/x64/lower.isle`, embedded by the build
//!    script) with cranelift-isle's parser;
//! 2. [`shape`] turns each left-hand side into a tree of CLIF instructions
//!    Wasm can produce ([`wasm_ops`]; how Wasm writes each is [`forms`]),
//!    or says why not;
//! 3. [`edges`] picks constants where the guard accepts and just where it
//!    rejects, and run-time values around them;
//! 4. [`emit`] writes the module: the pattern with operands from
//!    parameters, mutable globals or memory, a fully constant copy, and
//!    drivers that store every result in memory.
//!
//! The module records its rule in a [`SECTION`] custom section, so a
//! finding names the rule it aimed at. [`code_change`] shows whether
//! Cranelift's optimizer rewrote the aimed instruction.
//!
//! In: a seed's entropy and `[generator.rules]`. Out: a module aimed at one
//! rule and its [`RuleTarget`], handed on like every generated module.

pub mod catalog;
pub mod code_change;
pub mod edges;
pub mod emit;
pub mod forms;
pub mod op_tree;
pub mod wasm_ops;

use anyhow::{bail, Result};
use arbitrary::Unstructured;
use catalog::{Catalog, Rule};
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// The custom section naming the rule a module aims at.
pub const SECTION: &str = "crosscheck-rule";

/// Settings of rule-guided generation (`[generator.rules]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RulesConfig {
    /// Share of all cases aimed at a rule (0 turns the mode off).
    pub share: f64,
    /// Realizations of the pattern per module, each with its own types,
    /// constants and operand deliveries.
    pub instances: usize,
    /// Sets of run-time values each realization is called with (one
    /// exported driver per set).
    pub tuples: usize,
    /// How much more often a rule whose pattern has a constant is aimed at
    /// than one without: constants at guard edges are where rules break.
    pub constant_weight: u32,
    /// With another release in the matrix (the reference, or a candidate
    /// run through its C API library): the share of rule-guided cases
    /// aimed at the rules new or changed between the two, where a release
    /// diverges from the other (`case::release_diff`).
    pub changed_share: f64,
}

impl Default for RulesConfig {
    fn default() -> Self {
        RulesConfig {
            share: 0.2,
            instances: 3,
            tuples: 4,
            constant_weight: 3,
            changed_share: 0.5,
        }
    }
}

/// The rule a module aims at, as its custom section records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuleTarget {
    /// `file:line`, e.g. `opts/arithmetic.isle:87`.
    pub id: String,
    /// The cranelift-codegen version the rule is from.
    pub cranelift: String,
    /// How many of the module's first functions realize the pattern with
    /// run-time operands (the rest are constant copies and drivers).
    pub instances: usize,
    /// The rule's text.
    pub text: String,
}

impl RuleTarget {
    fn of(rule: &Rule, catalog: &Catalog, instances: usize) -> RuleTarget {
        RuleTarget {
            id: rule.id(),
            cranelift: catalog.version.to_string(),
            instances,
            text: rule.text.to_string(),
        }
    }

    /// The custom section's text: id, version, instances, then the rule.
    pub fn section_text(&self) -> String {
        format!(
            "{}\ncranelift-codegen {}\ninstances {}\n{}",
            self.id, self.cranelift, self.instances, self.text
        )
    }

    /// Reads a custom section's text.
    pub fn parse(text: &str) -> Option<RuleTarget> {
        let mut lines = text.splitn(4, '\n');
        let id = lines.next()?.to_string();
        let cranelift = lines
            .next()?
            .strip_prefix("cranelift-codegen ")?
            .to_string();
        let instances = lines.next()?.strip_prefix("instances ")?.parse().ok()?;
        let text = lines.next().unwrap_or_default().to_string();
        id.contains(':').then_some(RuleTarget {
            id,
            cranelift,
            instances,
            text,
        })
    }
}

/// A rule that can be aimed at.
#[derive(Clone, Copy, Debug)]
pub struct Aimable {
    /// Its index in the catalog.
    pub index: usize,
    /// The instruction at the root of its pattern.
    pub root: &'static str,
    /// Whether its pattern has a constant.
    pub has_constant: bool,
    /// Whether the reference release lacks it, or it is the reference's
    /// (`Rule::changed`).
    pub changed: bool,
}

/// The rules that can be aimed at, in catalog order: expressible, and a
/// trial module of theirs types in Wasm.
pub fn aimable() -> &'static [Aimable] {
    static AIMABLE: OnceLock<Vec<Aimable>> = OnceLock::new();
    AIMABLE.get_or_init(|| {
        let catalog = Catalog::get();
        let trial = RulesConfig {
            instances: 1,
            tuples: 1,
            ..RulesConfig::default()
        };
        catalog
            .rules
            .iter()
            .enumerate()
            .filter_map(|(index, rule)| {
                let shape = rule.shape.as_ref().ok()?;
                aim(&mut Unstructured::new(&[]), rule, catalog, &trial).ok()?;
                Some(Aimable {
                    index,
                    root: shape.ops()[0],
                    has_constant: shape.constants() > 0,
                    changed: rule.changed,
                })
            })
            .collect()
    })
}

/// Where in [`aimable`] the rules are that one release in the matrix has
/// and the other lacks (none with one release).
fn changed_aimable() -> &'static [usize] {
    static CHANGED: OnceLock<Vec<usize>> = OnceLock::new();
    CHANGED.get_or_init(|| {
        let aimable = aimable();
        (0..aimable.len()).filter(|i| aimable[*i].changed).collect()
    })
}

/// The distinct root instructions of the aimable rules.
fn aimable_roots() -> &'static [&'static str] {
    static ROOTS: OnceLock<Vec<&'static str>> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let mut roots: Vec<&str> = aimable().iter().map(|a| a.root).collect();
        roots.sort_unstable();
        roots.dedup();
        roots
    })
}

/// Builds the module for a case aimed at a rule drawn from `u`. With a
/// reference release in the matrix, half the draws go to the rules that
/// differ between the two releases (where they can diverge). Of the rest,
/// half spread over rules, half over the instructions at their roots (the
/// lowering has hundreds of rules for `bor` and a handful for `udiv`, whose
/// rules would otherwise wait); rules with a constant weigh
/// `constant_weight` times more. A rule the entropy cannot type is passed
/// over for the next.
pub fn build(u: &mut Unstructured<'_>, config: &RulesConfig) -> Result<(Vec<u8>, RuleTarget)> {
    let catalog = Catalog::get();
    if let Some(problem) = &catalog.problem {
        bail!("rule-guided generation is off: {problem}");
    }
    let aimable = aimable();
    if aimable.is_empty() {
        bail!(
            "no rule of cranelift-codegen {} can be aimed at",
            catalog.version
        );
    }
    // Drawn only when there are changed rules: one release alone keeps the
    // modules its seeds always gave.
    let changed = changed_aimable();
    let to_changed = |u: &mut Unstructured<'_>| -> Result<bool> {
        let draw = f64::from(u.arbitrary::<u32>()?) / (f64::from(u32::MAX) + 1.0);
        Ok(draw < config.changed_share)
    };
    let candidates: Vec<usize> = if !changed.is_empty() && to_changed(u)? {
        changed.to_vec()
    } else if u.arbitrary::<bool>()? {
        let roots = aimable_roots();
        let root = roots[u.choose_index(roots.len())?];
        (0..aimable.len())
            .filter(|i| aimable[*i].root == root)
            .collect()
    } else {
        (0..aimable.len()).collect()
    };
    let weight = |a: &Aimable| {
        if a.has_constant {
            u64::from(config.constant_weight.max(1))
        } else {
            1
        }
    };
    let total: u64 = candidates.iter().map(|i| weight(&aimable[*i])).sum();
    let mut draw = u.int_in_range(0..=total - 1)?;
    let mut first = candidates[0];
    for i in &candidates {
        let w = weight(&aimable[*i]);
        if draw < w {
            first = *i;
            break;
        }
        draw -= w;
    }
    let mut last_error = String::new();
    for offset in 0..aimable.len().min(8) {
        let index = aimable[(first + offset) % aimable.len()].index;
        match aim(u, &catalog.rules[index], catalog, config) {
            Ok(built) => return Ok(built),
            Err(e) => last_error = format!("{}: {e}", catalog.rules[index].id()),
        }
    }
    bail!("no rule near the drawn one could be typed in Wasm (last: {last_error})")
}

/// Builds a module aimed at the rule `id` (`file:line`), with the edges
/// and deliveries `u` draws.
pub fn build_for(
    u: &mut Unstructured<'_>,
    id: &str,
    config: &RulesConfig,
) -> Result<(Vec<u8>, RuleTarget)> {
    let catalog = Catalog::get();
    let rule = catalog.find(id).ok_or_else(|| {
        anyhow::anyhow!(
            "no rule {id} in scope of cranelift-codegen {}",
            catalog.version
        )
    })?;
    aim(u, rule, catalog, config).map_err(|e| anyhow::anyhow!("{id}: {e}"))
}

fn aim(
    u: &mut Unstructured<'_>,
    rule: &Rule,
    catalog: &Catalog,
    config: &RulesConfig,
) -> Result<(Vec<u8>, RuleTarget), String> {
    let shape = rule.shape.as_ref().map_err(Clone::clone)?;
    let target = RuleTarget::of(rule, catalog, config.instances.max(1));
    let section = target.section_text();
    let wasm = emit::module(
        u,
        shape,
        (&rule.guard_literals, &rule.guard_terms),
        emit::Sizes {
            instances: config.instances,
            tuples: config.tuples,
        },
        (SECTION, &section),
    )?;
    Ok((wasm, target))
}

/// How the linked Cranelift's rules divide, for `status` and the docs.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Scope {
    /// The cranelift-codegen version.
    pub cranelift: String,
    /// Rules in scope (mid-end simplifications, x64 lowering).
    pub in_scope: usize,
    /// Of which Wasm can express the pattern.
    pub expressible: usize,
    /// Of which a module types (these are aimed at).
    pub aimable: usize,
    /// Rules Wasm cannot produce, per reason.
    pub inexpressible: Vec<(String, usize)>,
    /// Per file: (file, in scope, aimable).
    pub files: Vec<(String, usize, usize)>,
    /// Why the mode is off, if it is.
    pub problem: Option<String>,
}

/// The scope of rule-guided generation in this build.
pub fn scope() -> Scope {
    let catalog = Catalog::get();
    let aimable = aimable();
    // Another release's rules follow the linked one's: counted with
    // their file.
    let mut by_file: std::collections::BTreeMap<&str, (usize, usize)> = Default::default();
    for (index, rule) in catalog.rules.iter().enumerate() {
        let entry = by_file.entry(rule.file).or_default();
        entry.0 += 1;
        if aimable.binary_search_by_key(&index, |a| a.index).is_ok() {
            entry.1 += 1;
        }
    }
    let files = by_file
        .into_iter()
        .map(|(file, (in_scope, aimable))| (file.to_string(), in_scope, aimable))
        .collect();
    let mut inexpressible = catalog.inexpressible_reasons();
    let untyped = catalog.expressible().count() - aimable.len();
    if untyped > 0 {
        inexpressible.push(("Wasm cannot type the pattern's operands".into(), untyped));
    }
    Scope {
        cranelift: catalog.version.to_string(),
        in_scope: catalog.rules.len(),
        expressible: catalog.expressible().count(),
        aimable: aimable.len(),
        inexpressible,
        files,
        problem: catalog.problem.clone(),
    }
}

/// With another release in the matrix: the rules in scope that one of the
/// two releases has and the other lacks (`Rule::changed`), and of them
/// those that can be aimed at, as ids. Both empty with one release.
pub fn changed_rules() -> (usize, Vec<String>) {
    let catalog = Catalog::get();
    let in_scope = catalog.rules.iter().filter(|r| r.changed).count();
    let aimable = aimable()
        .iter()
        .filter(|a| a.changed)
        .map(|a| catalog.rules[a.index].id())
        .collect();
    (in_scope, aimable)
}

/// The rules that can be aimed at, as `file:line` ids.
pub fn aimable_ids() -> Vec<String> {
    let catalog = Catalog::get();
    aimable()
        .iter()
        .map(|a| catalog.rules[a.index].id())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::module_info::ModuleInfo;

    /// The module aimed at the rule at `file` whose text contains `needle`.
    fn aimed_at(file: &str, needle: &str, seed: u8) -> (Vec<u8>, &'static Rule) {
        let catalog = Catalog::get();
        let rule = catalog
            .rules
            .iter()
            .find(|r| r.file == file && r.text.contains(needle))
            .unwrap_or_else(|| panic!("no rule in {file} with {needle:?}"));
        let bytes: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(31) as u8) ^ seed)
            .collect();
        let (wasm, _) = build_for(
            &mut Unstructured::new(&bytes),
            &rule.id(),
            &RulesConfig::default(),
        )
        .unwrap_or_else(|e| panic!("{e:#}"));
        (wasm, rule)
    }

    fn text_of(wasm: &[u8]) -> String {
        wasmparser::Validator::new()
            .validate_all(wasm)
            .unwrap_or_else(|e| {
                panic!(
                    "invalid: {e}\n{}",
                    wasmprinter::print_bytes(wasm).unwrap_or_default()
                )
            });
        wasmprinter::print_bytes(wasm).unwrap()
    }

    #[test]
    fn a_udiv_by_a_power_of_two_rule_gets_its_pattern_and_powers_of_two() {
        let mut powers = 0;
        for seed in 0..8 {
            let (wasm, rule) = aimed_at(
                "opts/arithmetic.isle",
                "(udiv x (iconst_u ty (u64_extract_power_of_two d)))",
                seed,
            );
            let text = text_of(&wasm);
            assert!(text.contains(".div_u"), "{}\n{text}", rule.id());
            // The divisors are constants: power-of-two ones, or neighbours.
            for line in text.lines() {
                let line = line.trim();
                if let Some(c) = line.strip_prefix("i32.const ") {
                    if let Ok(c) = c.parse::<i64>() {
                        powers += usize::from((c as u32).is_power_of_two());
                    }
                }
            }
            let info = ModuleInfo::parse(&wasm).unwrap();
            assert_eq!(
                info.rule_target.as_ref().map(|t| t.id.clone()),
                Some(rule.id())
            );
        }
        assert!(powers > 8, "{powers} power-of-two constants");
    }

    #[test]
    fn a_shift_rule_nests_and_gets_shift_amounts_at_the_width() {
        let mut at_width = 0;
        for seed in 0..8 {
            let (wasm, rule) = aimed_at(
                "opts/shifts.isle",
                "(sshr (ty_int ty) (ishl ty x (iconst _ shift)) (iconst _ shift))",
                seed,
            );
            let text = text_of(&wasm);
            assert!(
                text.contains(".shl") && text.contains(".shr_s"),
                "{}\n{text}",
                rule.id()
            );
            // Shift amounts around the width: w-1, w, w+1 for i32 or i64.
            at_width += [" 31\n", " 32\n", " 33\n", " 63\n", " 64\n", " 65\n"]
                .iter()
                .filter(|n| text.contains(*n))
                .count();
        }
        assert!(at_width >= 4, "{at_width} shift amounts at the width");
    }

    #[test]
    fn an_x64_lowering_rule_with_a_sinkable_load_loads_from_memory() {
        let (wasm, rule) = aimed_at(
            "isa/x64/lower.isle",
            "(iadd (fits_in_64 ty) x (sinkable_load y))",
            1,
        );
        let text = text_of(&wasm);
        assert!(text.contains(".add"), "{}\n{text}", rule.id());
        assert!(text.contains(".load offset="), "{}\n{text}", rule.id());
    }

    #[test]
    fn a_select_of_a_comparison_keeps_both_and_the_comparisons_condition() {
        let (wasm, rule) = aimed_at("opts/selects.isle", "(select ty (sgt _ x y) x y)", 2);
        let text = text_of(&wasm);
        assert!(
            text.contains("select") && text.contains(".gt_s"),
            "{}\n{text}",
            rule.id()
        );
    }

    #[test]
    fn every_aimable_rule_builds_valid_modules() {
        let catalog = Catalog::get();
        let mut failures = Vec::new();
        for a in aimable() {
            let rule = &catalog.rules[a.index];
            let shape = rule.shape.as_ref().unwrap();
            for seed in 0..3u8 {
                let bytes: Vec<u8> = (0..2048u32)
                    .map(|i| (i.wrapping_mul(131) as u8) ^ seed.wrapping_mul(77))
                    .collect();
                let mut u = Unstructured::new(&bytes);
                if let Ok(wasm) = emit::module(
                    &mut u,
                    shape,
                    (&rule.guard_literals, &rule.guard_terms),
                    emit::Sizes {
                        instances: 2,
                        tuples: 2,
                    },
                    (SECTION, "x"),
                ) {
                    if let Err(e) = wasmparser::Validator::new().validate_all(&wasm) {
                        failures.push(format!("{}: {e}", rule.id()));
                    }
                }
            }
        }
        assert!(
            failures.is_empty(),
            "{} invalid: {:#?}",
            failures.len(),
            &failures[..failures.len().min(10)]
        );
        let scope = scope();
        assert!(scope.aimable > 300, "{scope:?}");
    }

    #[test]
    fn the_section_round_trips() {
        let target = RuleTarget {
            id: "opts/icmp.isle:12".into(),
            cranelift: "0.135.8".into(),
            instances: 3,
            text: "(rule (simplify (eq ty x x)) (subsume (iconst_u ty 1)))".into(),
        };
        assert_eq!(RuleTarget::parse(&target.section_text()), Some(target));
        assert_eq!(RuleTarget::parse("garbage"), None);
    }
}
