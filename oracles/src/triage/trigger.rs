//! Trigger fingerprints: which meaning-preserving rewrites of a minimal
//! module, tried one instruction at a time, make its finding vanish. One
//! bug seen through several signatures (a wrong `select` shows as a call,
//! a global or a memory mismatch) vanishes under the same rewrites of the
//! same instructions; two bugs with one signature do not. The set is the
//! finding's fingerprint, and findings with the same fingerprint (and
//! suspect) are one group.
//!
//! The rewrites:
//!
//! | rewrite | from | to |
//! |---|---|---|
//! | `eqz-as-eq-zero` | `i32.eqz` | `i32.const 0; i32.eq` (and i64) |
//! | `select-as-if` | `select` | `if (param t t) (result t)` keeping the first or second operand through a local |
//! | `const-in-global` | `i32.const 7` | `global.get` of a new immutable global holding 7 (every type) |
//! | `operands-swapped` | `i32.add` (any commutative integer operation) | the operands exchanged through two locals first |
//! | `add-as-sub-of-negation` | `i32.add` (and i64) | `x - (0 - y)` |
//! | `tee-as-set-get` | `local.tee n` | `local.set n; local.get n` |
//!
//! Calls are not inlined: a minimal module rarely has one left.

use super::wat_lines::{assemble, field_end, in_function, indent, is_instruction, lines_of};
use anyhow::Result;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// One rewrite tried at one instruction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tried {
    /// The rewrite (`select-as-if`, ...).
    pub rewrite: String,
    /// The instruction it rewrote, as the text prints it.
    pub instruction: String,
    /// Whether the finding vanished.
    pub vanished: bool,
}

/// What the rewrites of a minimal module showed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    /// Every valid rewrite tried, in module order.
    pub tried: Vec<Tried>,
}

impl Fingerprint {
    /// The rewrites that made the finding vanish, as `rewrite:instruction`
    /// (the instruction's name, without immediates), sorted: the group key.
    /// Empty when no rewrite did.
    pub fn key(&self) -> String {
        let vanished: BTreeSet<String> = self
            .tried
            .iter()
            .filter(|t| t.vanished)
            .map(|t| format!("{}:{}", t.rewrite, opcode(&t.instruction)))
            .collect();
        vanished.into_iter().collect::<Vec<_>>().join(" ")
    }

    /// The trigger in words: `vanishes when rewritten: i32.eqz (as i32.eq
    /// 0), select (as if/else); survives 3 other rewrites`.
    pub fn describe(&self) -> String {
        let vanished: BTreeSet<String> = self
            .tried
            .iter()
            .filter(|t| t.vanished)
            .map(|t| format!("{} ({})", opcode(&t.instruction), as_words(&t.rewrite)))
            .collect();
        let survived = self.tried.iter().filter(|t| !t.vanished).count();
        match vanished.len() {
            0 if self.tried.is_empty() => "no rewrite applies to the minimal module".into(),
            0 => format!("no rewrite makes it vanish ({survived} tried)"),
            _ => format!(
                "vanishes when rewritten: {}; survives {survived} other rewrite(s)",
                vanished.into_iter().collect::<Vec<_>>().join(", ")
            ),
        }
    }

    /// The instruction names whose rewriting makes the finding vanish.
    pub fn instructions(&self) -> BTreeSet<String> {
        self.tried
            .iter()
            .filter(|t| t.vanished)
            .map(|t| opcode(&t.instruction).to_string())
            .collect()
    }
}

fn as_words(rewrite: &str) -> &'static str {
    match rewrite {
        "eqz-as-eq-zero" => "as a comparison with 0",
        "select-as-if" => "as if/else",
        "const-in-global" => "read from a global",
        "operands-swapped" => "operands swapped",
        "tee-as-set-get" => "as local.set and local.get",
        "add-as-sub-of-negation" => "as a subtraction of the negation",
        _ => "rewritten",
    }
}

/// An instruction's name without its immediates.
pub fn opcode(instruction: &str) -> &str {
    instruction.split_whitespace().next().unwrap_or(instruction)
}

/// Tries every rewrite at every instruction of `wasm` (a minimal module
/// whose finding holds) and records whether `still_fails` still holds.
pub fn fingerprint(
    wasm: &[u8],
    still_fails: &mut dyn FnMut(&[u8]) -> Result<bool>,
) -> Result<Fingerprint> {
    let lines = lines_of(wasm)?;
    let mut tried = Vec::new();
    for at in 0..lines.len() {
        if !in_function(&lines, at) || !is_instruction(&lines[at]) {
            continue;
        }
        let instruction = lines[at].trim().to_string();
        for (rewrite, variants) in rewrites(&lines, at) {
            // The first variant that validates is the rewrite (the others
            // are the same rewrite at other types).
            let Some(candidate) = variants.iter().find_map(|v| assemble(v)) else {
                continue;
            };
            tried.push(Tried {
                rewrite: rewrite.to_string(),
                instruction: instruction.clone(),
                vanished: !still_fails(&candidate)?,
            });
        }
    }
    Ok(Fingerprint { tried })
}

const TYPES: [&str; 5] = ["i32", "i64", "f32", "f64", "v128"];

/// Commutative integer operations, whose operands may be exchanged.
const COMMUTATIVE: [&str; 7] = ["add", "mul", "and", "or", "xor", "eq", "ne"];

/// The rewrites that apply at line `at`, each with its variants (one per
/// operand type where the type is not written in the instruction).
fn rewrites(lines: &[String], at: usize) -> Vec<(&'static str, Vec<Vec<String>>)> {
    let line = lines[at].trim();
    let site = Site {
        lines,
        at,
        line,
        op: opcode(line),
        pad: " ".repeat(indent(&lines[at])),
    };
    [
        eqz_as_eq_zero,
        select_as_if,
        const_in_global,
        operands_swapped,
        add_as_sub_of_negation,
        tee_as_set_get,
    ]
    .into_iter()
    .filter_map(|rewrite| rewrite(&site))
    .collect()
}

/// One rewrite's name and its variants, if it applies.
type Rewrite = Option<(&'static str, Vec<Vec<String>>)>;

/// The line a rewrite acts on.
struct Site<'a> {
    lines: &'a [String],
    at: usize,
    line: &'a str,
    op: &'a str,
    pad: String,
}

impl Site<'_> {
    /// The text with the line replaced by `with`, indented like it.
    fn replaced(&self, with: &[String]) -> Vec<String> {
        let mut out = self.lines[..self.at].to_vec();
        out.extend(with.iter().map(|w| format!("{}{w}", self.pad)));
        out.extend_from_slice(&self.lines[self.at + 1..]);
        out
    }
}

fn eqz_as_eq_zero(site: &Site<'_>) -> Rewrite {
    let ty = site.op.strip_suffix(".eqz")?;
    Some((
        "eqz-as-eq-zero",
        vec![site.replaced(&[format!("{ty}.const 0"), format!("{ty}.eq")])],
    ))
}

fn select_as_if(site: &Site<'_>) -> Rewrite {
    if site.op != "select" {
        return None;
    }
    let variants = TYPES
        .iter()
        .map(|ty| {
            let local = format!("$crosscheck_select_{ty}");
            let body = [
                format!("if (param {ty} {ty}) (result {ty})"),
                "  drop".to_string(),
                "else".to_string(),
                format!("  local.set {local}"),
                "  drop".to_string(),
                format!("  local.get {local}"),
                "end".to_string(),
            ];
            with_local(&site.replaced(&body), site.at, &local, ty)
        })
        .collect();
    Some(("select-as-if", variants))
}

fn const_in_global(site: &Site<'_>) -> Rewrite {
    let (ty, _) = site.op.split_once(".const")?;
    let value = site.line[site.op.len()..].trim();
    let global = format!("$crosscheck_const_{}", site.at);
    let mut rewritten = site.replaced(&[format!("global.get {global}")]);
    let close = rewritten.len() - 1;
    rewritten.insert(
        close,
        format!("  (global {global} {ty} ({ty}.const {value}))"),
    );
    Some(("const-in-global", vec![rewritten]))
}

fn operands_swapped(site: &Site<'_>) -> Rewrite {
    let (ty, name) = site.op.split_once('.')?;
    if !["i32", "i64"].contains(&ty) || !COMMUTATIVE.contains(&name) {
        return None;
    }
    let (a, b) = (format!("$crosscheck_a_{ty}"), format!("$crosscheck_b_{ty}"));
    let body = [
        format!("local.set {a}"),
        format!("local.set {b}"),
        format!("local.get {a}"),
        format!("local.get {b}"),
        site.line.to_string(),
    ];
    let with_a = with_local(&site.replaced(&body), site.at, &a, ty);
    Some((
        "operands-swapped",
        vec![with_local(&with_a, site.at, &b, ty)],
    ))
}

/// x + y as x - (0 - y).
fn add_as_sub_of_negation(site: &Site<'_>) -> Rewrite {
    let ty = site
        .op
        .strip_suffix(".add")
        .filter(|ty| ["i32", "i64"].contains(ty))?;
    let b = format!("$crosscheck_n_{ty}");
    let body = [
        format!("local.set {b}"),
        format!("{ty}.const 0"),
        format!("local.get {b}"),
        format!("{ty}.sub"),
        format!("{ty}.sub"),
    ];
    Some((
        "add-as-sub-of-negation",
        vec![with_local(&site.replaced(&body), site.at, &b, ty)],
    ))
}

fn tee_as_set_get(site: &Site<'_>) -> Rewrite {
    let index = site.line.strip_prefix("local.tee ")?;
    Some((
        "tee-as-set-get",
        vec![site.replaced(&[format!("local.set {index}"), format!("local.get {index}")])],
    ))
}

/// `lines` with a named local of type `ty` declared in the function that
/// holds line `at` (after its other declarations, so no index moves).
fn with_local(lines: &[String], at: usize, name: &str, ty: &str) -> Vec<String> {
    let Some(start) = (0..at)
        .rev()
        .find(|i| indent(&lines[*i]) == 2 && lines[*i].trim_start().starts_with("(func"))
    else {
        return lines.to_vec();
    };
    let end = field_end(lines, start);
    let first_instruction = (start + 1..end)
        .find(|i| is_instruction(&lines[*i]) || lines[*i].trim() == ")")
        .unwrap_or(end);
    let mut out = lines.to_vec();
    out.insert(first_instruction, format!("    (local {name} {ty})"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// wasmi's bug, in miniature: a `select` whose condition is a fused
    /// zero test picks the wrong operand. Modelled on the text: the
    /// "engine" is wrong whenever an `i32.eqz` directly feeds a `select`.
    fn buggy(wasm: &[u8]) -> bool {
        let text = wasmprinter::print_bytes(wasm).unwrap();
        let ops: Vec<&str> = text
            .lines()
            .map(|l| l.split_whitespace().next().unwrap_or(""))
            .collect();
        ops.windows(2).any(|w| w == ["i32.eqz", "select"])
    }

    #[test]
    fn the_rewrites_that_make_a_fused_zero_test_select_vanish_are_its_fingerprint() {
        let wasm = wat::parse_str(
            r#"(module (func (export "f") (param i32 i32) (result i32)
                 (select (i32.const 1) (local.get 1) (i32.eqz (local.get 0)))))"#,
        )
        .unwrap();
        assert!(buggy(&wasm));
        let print = fingerprint(&wasm, &mut |w| Ok(buggy(w))).unwrap();
        assert_eq!(
            print.key(),
            "eqz-as-eq-zero:i32.eqz select-as-if:select",
            "{print:#?}"
        );
        assert_eq!(
            print.describe(),
            "vanishes when rewritten: i32.eqz (as a comparison with 0), select (as if/else); survives 1 other rewrite(s)"
        );
        // Every rewrite is valid and means the same: a correct engine
        // agrees on each (checked by the differential tests).
        let tried: Vec<&str> = print.tried.iter().map(|t| t.rewrite.as_str()).collect();
        assert_eq!(tried, ["const-in-global", "eqz-as-eq-zero", "select-as-if"]);
    }

    #[test]
    fn operand_swaps_and_tees_are_tried_where_they_apply() {
        let wasm = wat::parse_str(
            r#"(module (func (export "f") (param i64 i64) (result i64) (local i64)
                 (i64.add (local.tee 2 (local.get 0)) (local.get 1))))"#,
        )
        .unwrap();
        let print = fingerprint(&wasm, &mut |_| Ok(true)).unwrap();
        let tried: Vec<&str> = print.tried.iter().map(|t| t.rewrite.as_str()).collect();
        assert_eq!(
            tried,
            [
                "tee-as-set-get",
                "operands-swapped",
                "add-as-sub-of-negation"
            ]
        );
        assert_eq!(print.key(), "");
        assert_eq!(print.describe(), "no rewrite makes it vanish (3 tried)");
    }
}
