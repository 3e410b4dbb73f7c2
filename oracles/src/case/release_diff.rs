//! What changed in the compiler between two Wasmtime releases: the
//! Cranelift rules in rule-guided generation's scope that are new,
//! changed, renamed or removed, and the source files of each [`Pass`]
//! that changed. Regressions live in new and changed code; this is what
//! generation aims at for a candidate release and what the gate asks to
//! have been covered (`crosscheck diff-release`).

use crate::case::release_sources::{Pass, ReleaseSources};
use crate::case::rules::catalog::Rule;
use anyhow::Result;
use std::collections::BTreeMap;
use std::path::Path;

/// How one rule differs between the releases.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum RuleChangeKind {
    /// Only the candidate has it.
    New,
    /// Both have it (by name, or by its place among the rules around it)
    /// with another pattern, guard or right-hand side.
    Changed,
    /// The same rule under another name.
    Renamed,
    /// Only the reference has it.
    Removed,
}

impl RuleChangeKind {
    /// The word in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleChangeKind::New => "new",
            RuleChangeKind::Changed => "changed",
            RuleChangeKind::Renamed => "renamed",
            RuleChangeKind::Removed => "removed",
        }
    }
}

/// One rule that differs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleChange {
    /// How.
    pub kind: RuleChangeKind,
    /// Its file under cranelift-codegen's `src/`.
    pub file: String,
    /// Its first line in the reference, if the reference has it.
    pub reference_line: Option<usize>,
    /// Its first line in the candidate, if the candidate has it.
    pub candidate_line: Option<usize>,
    /// Its name (the candidate's, if it has one).
    pub name: Option<String>,
}

/// Rules per file and kind of change.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileCounts {
    /// Rules in scope in the reference.
    pub reference: usize,
    /// Rules in scope in the candidate.
    pub candidate: usize,
    /// Per kind of change, how many.
    pub changes: BTreeMap<RuleChangeKind, usize>,
}

/// The rules that differ between two releases' sources.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuleDiff {
    /// Every rule that differs, by file, reference order then new ones.
    pub changes: Vec<RuleChange>,
    /// Per file, in path order.
    pub files: BTreeMap<String, FileCounts>,
}

impl RuleDiff {
    /// How many rules differ in `kind`.
    pub fn count(&self, kind: RuleChangeKind) -> usize {
        self.changes.iter().filter(|c| c.kind == kind).count()
    }
}

/// A rule's text with its comments and name left out and its whitespace
/// made single spaces: what "the same rule" compares.
fn body(rule: &Rule) -> String {
    let uncommented: Vec<&str> = rule
        .text
        .lines()
        .map(|line| line.split(";;").next().unwrap_or(""))
        .collect();
    let joined = uncommented.join(" ");
    let mut words: Vec<&str> = joined.split_whitespace().collect();
    // `(rule NAME ...`: the name is the word after `(rule`.
    if let Some(name) = &rule.name {
        if words.get(1) == Some(&name.as_str()) {
            words.remove(1);
        }
    }
    words.join(" ")
}

/// Diffs the rules of the reference against the candidate's, per file:
/// a rule whose body both have is the same (renamed if its name
/// differs); one left whose name both have is changed; the rest are
/// paired by place, between the same two rules both releases share
/// (changed), and what is left is new or removed.
pub fn diff_rules(reference: &[Rule], candidate: &[Rule]) -> RuleDiff {
    let mut files: Vec<&str> = reference.iter().chain(candidate).map(|r| r.file).collect();
    files.sort_unstable();
    files.dedup();
    let mut diff = RuleDiff::default();
    for file in files {
        let old: Vec<&Rule> = reference.iter().filter(|r| r.file == file).collect();
        let new: Vec<&Rule> = candidate.iter().filter(|r| r.file == file).collect();
        let changes = diff_file(&old, &new);
        let mut counts = FileCounts {
            reference: old.len(),
            candidate: new.len(),
            ..FileCounts::default()
        };
        for change in &changes {
            *counts.changes.entry(change.kind).or_default() += 1;
        }
        diff.files.insert(file.to_string(), counts);
        diff.changes.extend(changes);
    }
    diff
}

/// The changes within one file.
fn diff_file(old: &[&Rule], new: &[&Rule]) -> Vec<RuleChange> {
    let old_bodies: Vec<String> = old.iter().map(|r| body(r)).collect();
    let new_bodies: Vec<String> = new.iter().map(|r| body(r)).collect();
    // Each old rule's partner in `new`, and how they differ.
    let mut partner: Vec<Option<(usize, Option<RuleChangeKind>)>> = vec![None; old.len()];
    let mut taken = vec![false; new.len()];
    for i in 0..old.len() {
        let same = (0..new.len()).find(|&j| !taken[j] && new_bodies[j] == old_bodies[i]);
        if let Some(j) = same {
            let kind = (old[i].name != new[j].name).then_some(RuleChangeKind::Renamed);
            partner[i] = Some((j, kind));
            taken[j] = true;
        }
    }
    for i in 0..old.len() {
        if partner[i].is_some() || old[i].name.is_none() {
            continue;
        }
        let named = (0..new.len()).find(|&j| !taken[j] && new[j].name == old[i].name);
        if let Some(j) = named {
            partner[i] = Some((j, Some(RuleChangeKind::Changed)));
            taken[j] = true;
        }
    }
    let alike = |i: usize, j: usize| old[i].name == new[j].name && root(old[i]) == root(new[j]);
    pair_by_place(&mut partner, &mut taken, alike);
    let change = |kind, o: Option<&Rule>, n: Option<&Rule>| RuleChange {
        kind,
        file: o.or(n).map(|r| r.file.to_string()).unwrap_or_default(),
        reference_line: o.map(|r| r.line),
        candidate_line: n.map(|r| r.line),
        name: n
            .and_then(|r| r.name.clone())
            .or(o.and_then(|r| r.name.clone())),
    };
    let mut changes = Vec::new();
    for (i, found) in partner.iter().enumerate() {
        match found {
            Some((j, Some(kind))) => changes.push(change(*kind, Some(old[i]), Some(new[*j]))),
            Some((_, None)) => {}
            None => changes.push(change(RuleChangeKind::Removed, Some(old[i]), None)),
        }
    }
    for (j, rule) in new.iter().enumerate() {
        if !taken[j] {
            changes.push(change(RuleChangeKind::New, None, Some(rule)));
        }
    }
    changes
}

/// What a rule rewrites: the instruction at the root of its pattern, or
/// its pattern's first words where Wasm cannot express it.
fn root(rule: &Rule) -> String {
    match &rule.shape {
        Ok(shape) => shape.ops()[0].to_string(),
        Err(_) => body(rule)
            .split(' ')
            .skip(1)
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// Pairs the rules left on both sides that sit between the same two
/// paired rules, in order, where `alike` (no name or the same, the same
/// root): a rule edited in place. Two named rules are never paired by
/// place: a name the other release lacks is a rule new or removed.
fn pair_by_place(
    partner: &mut [Option<(usize, Option<RuleChangeKind>)>],
    taken: &mut [bool],
    alike: impl Fn(usize, usize) -> bool,
) {
    let mut i = 0;
    let mut next_new = 0;
    while i < partner.len() {
        if let Some((j, _)) = partner[i] {
            next_new = next_new.max(j + 1);
            i += 1;
            continue;
        }
        // A run of unpaired old rules, and the unpaired new rules up to
        // the next paired one.
        let run_end = (i..partner.len())
            .find(|&k| partner[k].is_some())
            .unwrap_or(partner.len());
        let bound = partner[run_end..]
            .iter()
            .find_map(|p| p.map(|(j, _)| j))
            .unwrap_or(taken.len());
        let mut from = next_new;
        for (k, slot) in partner.iter_mut().enumerate().take(run_end).skip(i) {
            let found = (from..bound).find(|&j| !taken[j] && alike(k, j));
            if let Some(j) = found {
                *slot = Some((j, Some(RuleChangeKind::Changed)));
                taken[j] = true;
                from = j + 1;
            }
        }
        i = run_end;
    }
}

/// How a pass's sources changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PassChange {
    /// Files in both releases whose text differs.
    pub files_changed: usize,
    /// Files only the candidate has.
    pub files_added: usize,
    /// Files only the reference has.
    pub files_removed: usize,
    /// Lines added and removed, over all of them.
    pub lines_added: usize,
    /// Lines removed.
    pub lines_removed: usize,
    /// Whether a crate of the pass is missing from one release's sources
    /// (the registry lacks it): then the figures are not the pass's.
    pub unknown: bool,
}

impl PassChange {
    /// Lines added and removed: how much the pass changed.
    pub fn weight(&self) -> usize {
        self.lines_added + self.lines_removed
    }
}

/// Each pass's change between the releases.
pub fn diff_passes(
    reference: &ReleaseSources,
    candidate: &ReleaseSources,
) -> Result<Vec<(Pass, PassChange)>> {
    Pass::ALL
        .into_iter()
        .map(|pass| {
            let (old, new) = (reference.roots_of(pass), candidate.roots_of(pass));
            let mut change = PassChange {
                unknown: old.len() != new.len(),
                ..PassChange::default()
            };
            let old_files = files_under(&old)?;
            let new_files = files_under(&new)?;
            for (name, text) in &old_files {
                match new_files.get(name) {
                    None => {
                        change.files_removed += 1;
                        change.lines_removed += text.lines().count();
                    }
                    Some(now) if now != text => {
                        change.files_changed += 1;
                        let diff = similar::TextDiff::from_lines(text.as_str(), now.as_str());
                        for op in diff.iter_all_changes() {
                            match op.tag() {
                                similar::ChangeTag::Insert => change.lines_added += 1,
                                similar::ChangeTag::Delete => change.lines_removed += 1,
                                similar::ChangeTag::Equal => {}
                            }
                        }
                    }
                    Some(_) => {}
                }
            }
            for (name, text) in &new_files {
                if !old_files.contains_key(name) {
                    change.files_added += 1;
                    change.lines_added += text.lines().count();
                }
            }
            Ok((pass, change))
        })
        .collect()
}

/// The Rust files under each root (a file or a folder), by their label
/// and path within the root.
fn files_under(roots: &[(String, std::path::PathBuf)]) -> Result<BTreeMap<String, String>> {
    let mut files = BTreeMap::new();
    for (label, root) in roots {
        collect(root, root, label, &mut files)?;
    }
    Ok(files)
}

fn collect(
    root: &Path,
    path: &Path,
    label: &str,
    files: &mut BTreeMap<String, String>,
) -> Result<()> {
    if path.is_file() {
        let within = path.strip_prefix(root).unwrap_or(path).to_string_lossy();
        let name = if within.is_empty() {
            label.to_string()
        } else {
            format!("{label}/{within}")
        };
        files.insert(name, std::fs::read_to_string(path)?);
    } else if path.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(path)?
            .flatten()
            .map(|e| e.path())
            .collect();
        entries.sort();
        for entry in entries {
            if entry.is_dir() || entry.extension().is_some_and(|e| e == "rs" || e == "isle") {
                collect(root, &entry, label, files)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::rules::catalog::rules_in;

    fn rules(text: &str) -> Vec<Rule> {
        rules_in(&[("opts/test.isle".to_string(), text.to_string())]).unwrap()
    }

    const REFERENCE: &str = "
(rule (simplify (iadd ty x (iconst ty (u64_from_imm64 0)))) x)
;; A comment that may change.
(rule keep_mul (simplify (imul ty x (iconst ty (u64_from_imm64 1)))) x)
(rule old_name (simplify (isub ty x (iconst ty (u64_from_imm64 0)))) x)
(rule (simplify (band ty x x)) x)
(rule edited (simplify (bor ty x x)) x)
(rule (simplify (bxor ty x (iconst ty (u64_from_imm64 0)))) x)
(rule gone (simplify (ineg ty (ineg ty x))) x)
";

    const CANDIDATE: &str = "
(rule (simplify (iadd ty x (iconst ty (u64_from_imm64 0)))) x)
;; The comment, changed.
(rule keep_mul (simplify (imul ty x (iconst ty (u64_from_imm64 1)))) x)
(rule new_name (simplify (isub ty x (iconst ty (u64_from_imm64 0)))) x)
(rule (simplify (band ty y y)) y)
(rule edited (simplify (bor ty y y)) y)
(rule (simplify (bxor ty x (iconst ty (u64_from_imm64 0)))) x)
(rule fresh (simplify (bnot ty (bnot ty x))) x)
";

    #[test]
    fn new_changed_renamed_and_removed_rules_are_told_apart_exactly() {
        let diff = diff_rules(&rules(REFERENCE), &rules(CANDIDATE));
        type Seen<'a> = (
            RuleChangeKind,
            Option<usize>,
            Option<usize>,
            Option<&'a str>,
        );
        let seen: Vec<Seen<'_>> = diff
            .changes
            .iter()
            .map(|c| {
                (
                    c.kind,
                    c.reference_line,
                    c.candidate_line,
                    c.name.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                (RuleChangeKind::Renamed, Some(5), Some(5), Some("new_name")),
                // Unnamed, edited in place: paired by its place.
                (RuleChangeKind::Changed, Some(6), Some(6), None),
                // Named, edited: paired by its name.
                (RuleChangeKind::Changed, Some(7), Some(7), Some("edited")),
                (RuleChangeKind::Removed, Some(9), None, Some("gone")),
                (RuleChangeKind::New, None, Some(9), Some("fresh")),
            ]
        );
        let counts = &diff.files["opts/test.isle"];
        assert_eq!((counts.reference, counts.candidate), (7, 7));
        assert_eq!(diff.count(RuleChangeKind::Changed), 2);
        // The same sources: nothing differs.
        assert!(diff_rules(&rules(REFERENCE), &rules(REFERENCE))
            .changes
            .is_empty());
    }

    #[test]
    fn a_pass_s_changed_lines_are_counted_and_a_missing_crate_is_said() {
        let dir = tempfile::tempdir().unwrap();
        let release = |name: &str, alias: &str, winch: bool| {
            let src = dir.path().join(name);
            std::fs::create_dir_all(src.join("egraph")).unwrap();
            std::fs::write(src.join("alias_analysis.rs"), alias).unwrap();
            std::fs::write(src.join("egraph/mod.rs"), "fn e() {}\n").unwrap();
            ReleaseSources {
                wasmtime: name.into(),
                cranelift: name.into(),
                codegen: src.clone(),
                wasmtime_cranelift: src.clone(),
                pulley: None,
                winch: winch.then(|| src.join("egraph")),
                regalloc2: None,
            }
        };
        let old = release("a", "fn a() {}\nfn b() {}\n", true);
        let new = release("b", "fn a() {}\nfn c() {}\nfn d() {}\n", false);
        let passes: BTreeMap<Pass, PassChange> =
            diff_passes(&old, &new).unwrap().into_iter().collect();
        let alias = &passes[&Pass::AliasAnalysis];
        assert_eq!(
            (alias.files_changed, alias.lines_added, alias.lines_removed),
            (1, 2, 1)
        );
        assert_eq!(passes[&Pass::Egraph], PassChange::default());
        assert!(passes[&Pass::Winch].unknown);
    }
}
