//! The rules of the linked Cranelift: its ISLE sources, embedded by the
//! build script from the cranelift-codegen package Wasmtime depends on,
//! parsed with cranelift-isle, and sorted into what Wasm can aim at.

use super::op_tree::{self, OpTree};
use cranelift_isle::ast::Def;
use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};

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
    pub shape: Result<OpTree, String>,
    /// Literal integers in its guards (`if-let`s), as extra edges.
    pub guard_literals: Vec<i128>,
    /// Names of the terms in its guards (`u64_eq`, `ty_bits`, ...) and of
    /// the instructions in its pattern (`sextend`, ...): what decides
    /// which edges its constants are drawn from.
    pub guard_terms: Vec<String>,
    /// The Wasmtime release whose Cranelift has this rule, when it is not
    /// the linked one: a rule of the reference release that the linked
    /// Cranelift no longer has in this form.
    pub release: Option<u64>,
    /// With a reference release in the matrix: whether the other release
    /// lacks this rule's text (a rule added, changed or removed between
    /// the two), where the releases can diverge.
    pub changed: bool,
}

impl Rule {
    /// `file:line` as the rule's own release numbers it: its [`Rule::id`]
    /// without the `@MAJOR` of another release, which is how that
    /// release's build knows it.
    pub fn id_in_its_release(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }

    /// `file:line`, the rule's identity in counters and reports, with
    /// `@MAJOR` for a rule of another release.
    pub fn id(&self) -> String {
        match self.release {
            Some(major) => format!("{}@{major}", self.id_in_its_release()),
            None => self.id_in_its_release(),
        }
    }
}

/// ISLE sources of another release's Cranelift, to aim at where the two
/// releases differ (`add_reference_sources`).
struct ReferenceSources {
    major: u64,
    sources: Vec<(&'static str, &'static str)>,
}

static REFERENCES: Mutex<Vec<ReferenceSources>> = Mutex::new(Vec::new());

/// The ISLE sources embedded in this build: `(path under
/// cranelift-codegen's src/, text)`, for a crosscheck of another release
/// that aims at rules this one changed.
pub fn embedded_sources() -> &'static [(&'static str, &'static str)] {
    embedded::SOURCES
}

/// Adds the rules of Wasmtime `major`'s Cranelift (its ISLE sources) that
/// the linked Cranelift lacks to the catalog, as rules to aim at. Call
/// before the catalog is first read (engines are built before any case is
/// generated); a later call could make one seed two modules and is
/// refused with a warning.
pub fn add_reference_sources(major: u64, sources: Vec<(String, String)>) {
    let mut references = REFERENCES.lock().unwrap_or_else(|e| e.into_inner());
    if references.iter().any(|r| r.major == major) {
        return;
    }
    if CATALOG.get().is_some() {
        tracing::warn!(
            "the rules of Wasmtime {major} came after the first case was generated: not aimed at"
        );
        return;
    }
    // Read once per process and kept for its life, like the embedded ones.
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    references.push(ReferenceSources {
        major,
        sources: sources
            .into_iter()
            .map(|(f, t)| (leak(f), leak(t)))
            .collect(),
    });
}

/// The rules in scope of ISLE `sources` (`(path under cranelift-codegen's
/// src/, text)`), another release's as the catalog reads the linked one's;
/// `Err` names a file this cranelift-isle cannot parse. The texts are kept
/// for the process's life, like the catalog's.
pub fn rules_in(sources: &[(String, String)]) -> Result<Vec<Rule>, String> {
    let leak = |s: &str| -> &'static str { Box::leak(s.to_string().into_boxed_str()) };
    let mut rules = Vec::new();
    for (index, (file, text)) in sources.iter().enumerate() {
        rules.extend(parse_file(index, leak(file), leak(text))?);
    }
    Ok(rules)
}

/// The releases whose rules were added ([`add_reference_sources`]).
pub fn reference_majors() -> Vec<u64> {
    let references = REFERENCES.lock().unwrap_or_else(|e| e.into_inner());
    references.iter().map(|r| r.major).collect()
}

/// Whether the rules of Wasmtime `major` were added.
pub fn has_reference_sources(major: u64) -> bool {
    let references = REFERENCES.lock().unwrap_or_else(|e| e.into_inner());
    references.iter().any(|r| r.major == major)
}

static CATALOG: OnceLock<Catalog> = OnceLock::new();

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
    /// Why this build has no rules to aim at, if it has none (built with
    /// `CROSSCHECK_WITHOUT_RULES=1`), without reading the catalogue.
    pub fn missing_from_build() -> Option<&'static str> {
        embedded::PROBLEM
    }

    /// The catalog, read once per process.
    pub fn get() -> &'static Catalog {
        CATALOG.get_or_init(|| {
            let mut catalog = Catalog::read();
            let references = REFERENCES.lock().unwrap_or_else(|e| e.into_inner());
            for reference in references.iter() {
                catalog.add_reference(reference);
            }
            catalog
        })
    }

    /// Marks the rules of `reference` and of the linked Cranelift that the
    /// other lacks, and adds the reference's to the rules to aim at. A
    /// reference whose sources this cranelift-isle cannot parse is left
    /// out with a warning.
    fn add_reference(&mut self, reference: &ReferenceSources) {
        if self.problem.is_some() {
            return;
        }
        let mut theirs = Vec::new();
        for (index, (file, text)) in reference.sources.iter().enumerate() {
            match parse_file(index, file, text) {
                Ok(found) => theirs.extend(found),
                Err(problem) => {
                    tracing::warn!(
                        "the rules of Wasmtime {} are not aimed at: {problem}",
                        reference.major
                    );
                    return;
                }
            }
        }
        let normalized = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
        let ours: std::collections::HashSet<String> =
            self.rules.iter().map(|r| normalized(r.text)).collect();
        let their_texts: std::collections::HashSet<String> =
            theirs.iter().map(|r| normalized(r.text)).collect();
        for rule in &mut self.rules {
            rule.changed |= !their_texts.contains(&normalized(rule.text));
        }
        self.rules.extend(
            theirs
                .into_iter()
                .filter(|r| !ours.contains(&normalized(r.text)))
                .map(|r| Rule {
                    release: Some(reference.major),
                    changed: true,
                    ..r
                }),
        );
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
        let (id, release) = match id.rsplit_once('@') {
            Some((id, major)) => (id, Some(major.parse().ok()?)),
            None => (id, None),
        };
        let (file, line) = id.rsplit_once(':')?;
        let line: usize = line.parse().ok()?;
        self.rules
            .iter()
            .find(|r| r.line == line && r.file == file && r.release == release)
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
            op_tree::collect_guards(&iflet.pattern, &mut guard_literals, &mut guard_terms);
            collect_expr(&iflet.expr, &mut guard_literals, &mut guard_terms);
        }
        let start = rule_start(text, rule.pos.offset);
        let shape = op_tree::from_root(&rule.pattern);
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
            release: None,
            changed: false,
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
    fn a_reference_release_adds_only_the_rules_it_changed() {
        const OURS: &str = "(rule (simplify_skeleton (sdiv x (iconst_s ty 1))) x)";
        const THEIRS: &str = "(rule (simplify_skeleton (sdiv x (iconst_s ty 1))) (ineg ty x))";
        let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
        let sources = embedded::SOURCES
            .iter()
            .map(|(file, text)| (*file, leak(text.replace(OURS, THEIRS))))
            .collect();
        let mut catalog = Catalog::read();
        assert!(catalog.rules.iter().any(|r| r.text == OURS));
        let before = catalog.rules.len();
        catalog.add_reference(&ReferenceSources { major: 47, sources });
        let added: Vec<&Rule> = catalog
            .rules
            .iter()
            .filter(|r| r.release.is_some())
            .collect();
        assert_eq!(added.len(), 1);
        assert_eq!(catalog.rules.len(), before + 1);
        assert_eq!(added[0].text, THEIRS);
        assert!(added[0].changed);
        let id = added[0].id();
        assert!(
            id.starts_with("opts/arithmetic.isle:") && id.ends_with("@47"),
            "{id}"
        );
        assert_eq!(catalog.find(&id).map(|r| r.text), Some(THEIRS));
        // The linked rule it replaced is the only linked one marked changed.
        let changed: Vec<&str> = catalog
            .rules
            .iter()
            .filter(|r| r.changed && r.release.is_none())
            .map(|r| r.text)
            .collect();
        assert_eq!(changed, [OURS]);
        assert_eq!(
            catalog.find(id.trim_end_matches("@47")).map(|r| r.text),
            Some(OURS)
        );
    }

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
