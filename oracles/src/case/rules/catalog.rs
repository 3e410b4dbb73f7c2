//! The rules of the linked Cranelift: its ISLE sources, embedded by the
//! build script from the cranelift-codegen package Wasmtime depends on,
//! parsed with cranelift-isle, and sorted into what Wasm can aim at.

use super::shape::{self, Shape};
use cranelift_isle::ast::Def;
use std::collections::BTreeMap;
use std::sync::OnceLock;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/isle_rules.rs"));
}

/// The roots of the rules in scope: the mid-end's rewrites and the
/// lowering of instructions and branches.
pub const ROOTS: [&str; 4] = ["simplify", "simplify_skeleton", "lower", "lower_branch"];

/// One rule in scope.
#[derive(Clone, Debug)]
pub struct Rule {
    /// Its file under cranelift-codegen's `src/` (`opts/arithmetic.isle`).
    pub file: &'static str,
    /// Its first line, from 1.
    pub line: usize,
    /// Its name, if the rule has one.
    pub name: Option<String>,
    /// Its source text, comments and all.
    pub text: &'static str,
    /// What its pattern matches, or why Wasm cannot produce it.
    pub shape: Result<Shape, String>,
    /// Literal integers in its guards (`if-let`s), as extra edges.
    pub guard_literals: Vec<i128>,
    /// Names of the terms in its guards (`u64_eq`, `ty_bits`, ...) and of
    /// the instructions in its pattern (`sextend`, ...): what decides
    /// which edges its constants are drawn from.
    pub guard_terms: Vec<String>,
}

impl Rule {
    /// `file:line`, the rule's identity in counters and reports.
    pub fn id(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }
}

/// Every rule in scope of the linked Cranelift.
#[derive(Debug)]
pub struct Catalog {
    /// The cranelift-codegen version the rules come from.
    pub version: &'static str,
    /// Rules in scope, in file and line order.
    pub rules: Vec<Rule>,
    /// Why rule-guided generation is off, if it is.
    pub problem: Option<String>,
}

impl Catalog {
    /// The catalog, read once per process.
    pub fn get() -> &'static Catalog {
        static CATALOG: OnceLock<Catalog> = OnceLock::new();
        CATALOG.get_or_init(Catalog::read)
    }

    fn read() -> Catalog {
        let version = env!("CROSSCHECK_CRANELIFT_VERSION");
        if let Some(problem) = embedded::PROBLEM {
            return Catalog {
                version,
                rules: Vec::new(),
                problem: Some(problem.to_string()),
            };
        }
        let mut rules = Vec::new();
        for (index, (file, text)) in embedded::SOURCES.iter().enumerate() {
            match parse_file(index, file, text) {
                Ok(found) => rules.extend(found),
                Err(problem) => {
                    return Catalog {
                        version,
                        rules: Vec::new(),
                        problem: Some(problem),
                    }
                }
            }
        }
        Catalog {
            version,
            rules,
            problem: None,
        }
    }

    /// The rules Wasm can produce.
    pub fn expressible(&self) -> impl Iterator<Item = &Rule> {
        self.rules.iter().filter(|r| r.shape.is_ok())
    }

    /// Rules Wasm cannot produce, counted per reason, most frequent first.
    pub fn inexpressible_reasons(&self) -> Vec<(String, usize)> {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for rule in &self.rules {
            if let Err(reason) = &rule.shape {
                *counts.entry(reason.clone()).or_default() += 1;
            }
        }
        let mut counts: Vec<(String, usize)> = counts.into_iter().collect();
        counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        counts
    }

    /// The rule with id `file:line` (looked up once per rule-guided case:
    /// no id is formatted for it).
    pub fn find(&self, id: &str) -> Option<&Rule> {
        let (file, line) = id.rsplit_once(':')?;
        let line: usize = line.parse().ok()?;
        self.rules.iter().find(|r| r.line == line && r.file == file)
    }
}

fn parse_file(index: usize, file: &'static str, text: &'static str) -> Result<Vec<Rule>, String> {
    let lexer = cranelift_isle::lexer::Lexer::new(index, text)
        .map_err(|e| format!("cranelift-isle cannot read {file}: {e:?}"))?;
    let defs = cranelift_isle::parser::parse(lexer)
        .map_err(|e| format!("cranelift-isle cannot parse {file}: {e:?}"))?;
    let mut rules = Vec::new();
    for def in defs {
        let Def::Rule(rule) = def else { continue };
        let Some(root) = rule.pattern.root_term() else {
            continue;
        };
        if !ROOTS.contains(&root.0.as_str()) {
            continue;
        }
        let mut guard_literals = Vec::new();
        let mut guard_terms = Vec::new();
        for iflet in &rule.iflets {
            shape::collect_guards(&iflet.pattern, &mut guard_literals, &mut guard_terms);
            collect_expr(&iflet.expr, &mut guard_literals, &mut guard_terms);
        }
        let start = rule_start(text, rule.pos.offset);
        let shape = shape::from_root(&rule.pattern);
        if let Ok(shape) = &shape {
            guard_terms.extend(shape.ops().into_iter().map(str::to_string));
        }
        rules.push(Rule {
            file,
            line: text[..start].matches('\n').count() + 1,
            name: rule.name.map(|n| n.0),
            text: rule_text(text, start),
            shape,
            guard_literals,
            guard_terms,
        });
    }
    Ok(rules)
}

fn collect_expr(e: &cranelift_isle::ast::Expr, literals: &mut Vec<i128>, terms: &mut Vec<String>) {
    use cranelift_isle::ast::Expr;
    match e {
        Expr::ConstInt { val, .. } => literals.push(*val),
        Expr::Term { sym, args, .. } => {
            terms.push(sym.0.clone());
            for a in args {
                collect_expr(a, literals, terms);
            }
        }
        Expr::Let { defs, body, .. } => {
            for d in defs {
                collect_expr(&d.val, literals, terms);
            }
            collect_expr(body, literals, terms);
        }
        _ => {}
    }
}

/// The offset of the `(rule` form containing `offset`.
fn rule_start(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())]
        .rfind("(rule")
        .unwrap_or(offset.min(text.len()))
}

/// The text of the form starting at `start` (parentheses balanced,
/// comments skipped).
fn rule_text(text: &'static str, start: usize) -> &'static str {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = start;
    while i < bytes.len() {
        match bytes[i] {
            b';' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return &text[start..=i];
                }
            }
            _ => {}
        }
        i += 1;
    }
    &text[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_linked_cranelifts_rules_are_read_and_most_in_scope_are_expressible() {
        let catalog = Catalog::get();
        assert_eq!(catalog.problem, None);
        assert!(catalog.rules.len() > 500, "{} rules", catalog.rules.len());
        let expressible = catalog.expressible().count();
        assert!(
            expressible * 2 > catalog.rules.len(),
            "{expressible} of {} expressible; reasons: {:?}",
            catalog.rules.len(),
            &catalog.inexpressible_reasons()[..10.min(catalog.inexpressible_reasons().len())]
        );
        let files: std::collections::BTreeSet<&str> =
            catalog.rules.iter().map(|r| r.file).collect();
        assert!(files.contains("opts/arithmetic.isle"), "{files:?}");
        assert!(files.contains("isa/x64/lower.isle"), "{files:?}");
        // Every rule's text is its own form, starting where its line says.
        for rule in &catalog.rules {
            assert!(
                rule.text.starts_with("(rule"),
                "{}: {}",
                rule.id(),
                rule.text
            );
            assert!(rule.text.ends_with(')'), "{}", rule.id());
        }
    }

    #[test]
    fn rules_without_a_wasm_form_say_why() {
        let catalog = Catalog::get();
        let reasons = catalog.inexpressible_reasons();
        assert!(
            reasons
                .iter()
                .any(|(r, _)| r.contains("i128") || r.contains("no Wasm form")),
            "{reasons:?}"
        );
        assert!(
            reasons
                .iter()
                .any(|(r, _)| r.contains("no core-Wasm instruction becomes")),
            "{reasons:?}"
        );
    }
}
