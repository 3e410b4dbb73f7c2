//! The layout rules of the workspace, checked on the sources with `syn`:
//! no import cycle between files of a crate, the library's stage folders
//! importing only earlier stages, nothing outside `commands/` using
//! `commands::`, every folder's `mod.rs` saying what its stage takes
//! in and gives out, and no function longer than [`MAX_FUNCTION_LINES`]. A reference counts wherever it is written (a
//! `use`, a path in code or in a macro's tokens), and a re-export is
//! followed to the file that defines the item.

use proc_macro2::{TokenStream, TokenTree};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use syn::visit::Visit;

/// One source file as a module.
struct ModuleFile {
    /// `engine::matrix`; empty for the crate root.
    path: Vec<String>,
    file: PathBuf,
    ast: syn::File,
    /// Whether the file is a folder's `mod.rs` (or the crate root): its
    /// child modules are its folder's files.
    is_folder: bool,
}

/// A crate's files by module path.
struct Crate {
    modules: BTreeMap<Vec<String>, ModuleFile>,
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        attr.path().is_ident("cfg")
            && attr
                .parse_args::<syn::Meta>()
                .is_ok_and(|meta| meta.path().is_ident("test"))
    })
}

impl Crate {
    /// Reads the crate whose root file is `root` (`src/lib.rs`, `src/main.rs`).
    fn read(root: &Path) -> Crate {
        let mut modules = BTreeMap::new();
        let mut pending = vec![(Vec::new(), root.to_path_buf(), true)];
        while let Some((path, file, is_folder)) = pending.pop() {
            let text = std::fs::read_to_string(&file)
                .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            let ast = syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            let dir = if is_folder {
                file.parent().unwrap().to_path_buf()
            } else {
                file.with_extension("")
            };
            for item in &ast.items {
                let syn::Item::Mod(module) = item else {
                    continue;
                };
                if module.content.is_some() || is_test_only(&module.attrs) {
                    continue;
                }
                let name = module.ident.to_string();
                let mut child = path.clone();
                child.push(name.clone());
                let flat = dir.join(format!("{name}.rs"));
                if flat.exists() {
                    pending.push((child, flat, false));
                } else {
                    pending.push((child, dir.join(&name).join("mod.rs"), true));
                }
            }
            modules.insert(
                path.clone(),
                ModuleFile {
                    path,
                    file,
                    ast,
                    is_folder,
                },
            );
        }
        Crate { modules }
    }

    /// The child modules a file declares.
    fn children(&self, module: &[String]) -> BTreeSet<String> {
        self.modules
            .keys()
            .filter(|p| p.len() == module.len() + 1 && p.starts_with(module))
            .map(|p| p.last().unwrap().clone())
            .collect()
    }

    /// The re-exports of a module: name to the path it stands for.
    fn reexports(&self, module: &[String]) -> BTreeMap<String, Vec<String>> {
        let mut names = BTreeMap::new();
        let Some(file) = self.modules.get(module) else {
            return names;
        };
        for item in &file.ast.items {
            if let syn::Item::Use(item) = item {
                if matches!(item.vis, syn::Visibility::Public(_)) {
                    for (name, target) in use_tree_paths(&item.tree, Vec::new()) {
                        if let Some(full) = self.absolute(module, &target) {
                            names.insert(name, full);
                        }
                    }
                }
            }
        }
        names
    }

    /// `segments` as written in `module`, made absolute within the crate;
    /// `None` when it is another crate's or a local name.
    fn absolute(&self, module: &[String], segments: &[String]) -> Option<Vec<String>> {
        let first = segments.first()?;
        let mut base: Vec<String> = match first.as_str() {
            "crate" => Vec::new(),
            "self" => module.to_vec(),
            "super" => {
                let mut parent = module.to_vec();
                let mut rest = segments;
                while rest.first().is_some_and(|s| s == "super") {
                    parent.pop();
                    rest = &rest[1..];
                }
                parent.extend(rest.iter().cloned());
                return Some(parent);
            }
            name if self.children(module).contains(name) => {
                let mut full = module.to_vec();
                full.extend(segments.iter().cloned());
                return Some(full);
            }
            _ => return None,
        };
        base.extend(segments[1..].iter().cloned());
        Some(base)
    }

    /// The file an absolute path leads to: its longest module prefix,
    /// following re-exports.
    fn file_of(&self, path: &[String]) -> Vec<String> {
        let mut path = path.to_vec();
        for _ in 0..16 {
            let module_len = (0..=path.len())
                .rev()
                .find(|n| self.modules.contains_key(&path[..*n]))
                .unwrap_or(0);
            let module = path[..module_len].to_vec();
            let Some(next) = path.get(module_len) else {
                return module;
            };
            match self.reexports(&module).get(next) {
                Some(target) if *target != path[..=module_len] => {
                    let mut resolved = target.clone();
                    resolved.extend(path[module_len + 1..].iter().cloned());
                    path = resolved;
                }
                _ => return module,
            }
        }
        panic!("re-exports of {path:?} go round in circles")
    }

    /// Every file a file refers to (itself excluded).
    fn references(&self, module: &ModuleFile) -> BTreeSet<Vec<String>> {
        let mut paths = Paths::default();
        for item in &module.ast.items {
            if item_is_test_only(item) {
                continue;
            }
            if let syn::Item::Use(item) = item {
                for (_, target) in use_tree_paths(&item.tree, Vec::new()) {
                    paths.found.push(target);
                }
                continue;
            }
            paths.visit_item(item);
        }
        paths
            .found
            .iter()
            .filter_map(|p| self.absolute(&module.path, p))
            .map(|p| self.file_of(&p))
            .filter(|target| *target != module.path)
            .collect()
    }
}

fn item_is_test_only(item: &syn::Item) -> bool {
    match item {
        syn::Item::Mod(m) => is_test_only(&m.attrs),
        syn::Item::Fn(f) => is_test_only(&f.attrs),
        syn::Item::Use(u) => is_test_only(&u.attrs),
        syn::Item::Impl(i) => is_test_only(&i.attrs),
        _ => false,
    }
}

/// The paths a use tree brings in, with the name each is known by.
fn use_tree_paths(tree: &syn::UseTree, prefix: Vec<String>) -> Vec<(String, Vec<String>)> {
    let with = |name: String| {
        let mut path = prefix.clone();
        path.push(name);
        path
    };
    match tree {
        syn::UseTree::Path(p) => use_tree_paths(&p.tree, with(p.ident.to_string())),
        syn::UseTree::Name(n) if n.ident == "self" => prefix
            .last()
            .map(|last| vec![(last.clone(), prefix.clone())])
            .unwrap_or_default(),
        syn::UseTree::Name(n) => vec![(n.ident.to_string(), with(n.ident.to_string()))],
        syn::UseTree::Rename(r) => vec![(r.rename.to_string(), with(r.ident.to_string()))],
        syn::UseTree::Glob(_) => vec![("*".into(), prefix)],
        syn::UseTree::Group(g) => g
            .items
            .iter()
            .flat_map(|t| use_tree_paths(t, prefix.clone()))
            .collect(),
    }
}

/// Every path written in code, and every `a::b` run of identifiers in
/// macro tokens (maud's `html!`, `format!` arguments).
#[derive(Default)]
struct Paths {
    found: Vec<Vec<String>>,
}

impl<'ast> Visit<'ast> for Paths {
    fn visit_path(&mut self, path: &'ast syn::Path) {
        self.found
            .push(path.segments.iter().map(|s| s.ident.to_string()).collect());
        syn::visit::visit_path(self, path);
    }

    // `pub(crate)` names no module to depend on.
    fn visit_visibility(&mut self, _: &'ast syn::Visibility) {}

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.visit_path(&mac.path);
        token_paths(mac.tokens.clone(), &mut self.found);
    }

    fn visit_item_mod(&mut self, module: &'ast syn::ItemMod) {
        if !is_test_only(&module.attrs) {
            syn::visit::visit_item_mod(self, module);
        }
    }

    fn visit_item_fn(&mut self, function: &'ast syn::ItemFn) {
        if !is_test_only(&function.attrs) {
            syn::visit::visit_item_fn(self, function);
        }
    }
}

fn token_paths(tokens: TokenStream, found: &mut Vec<Vec<String>>) {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i] {
            TokenTree::Group(group) => token_paths(group.stream(), found),
            TokenTree::Ident(ident) => {
                let mut path = vec![ident.to_string()];
                let mut j = i + 1;
                while let (
                    Some(TokenTree::Punct(a)),
                    Some(TokenTree::Punct(b)),
                    Some(TokenTree::Ident(next)),
                ) = (tokens.get(j), tokens.get(j + 1), tokens.get(j + 2))
                {
                    if a.as_char() != ':' || b.as_char() != ':' {
                        break;
                    }
                    path.push(next.to_string());
                    j += 3;
                }
                if path.len() > 1 {
                    found.push(path);
                    i = j;
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
}

/// The crates of the workspace by root file.
fn crates() -> Vec<(&'static str, Crate)> {
    let root = workspace();
    vec![
        ("oracles", Crate::read(&root.join("oracles/src/lib.rs"))),
        ("crosscheck", Crate::read(&root.join("daemon/src/main.rs"))),
        (
            "crosscheck-fuzz",
            Crate::read(&root.join("fuzz/src/lib.rs")),
        ),
    ]
}

fn name(path: &[String]) -> String {
    if path.is_empty() {
        "<crate root>".into()
    } else {
        path.join("::")
    }
}

/// Strongly connected components of more than one file (Tarjan).
fn cycles(edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Vec<Vec<String>> {
    struct Tarjan<'a> {
        edges: &'a BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        index: BTreeMap<&'a [String], usize>,
        low: BTreeMap<&'a [String], usize>,
        stack: Vec<&'a [String]>,
        found: Vec<Vec<String>>,
    }
    impl<'a> Tarjan<'a> {
        fn visit(&mut self, v: &'a [String]) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            for w in &self.edges[v] {
                let w = w.as_slice();
                if !self.edges.contains_key(w) {
                    continue;
                }
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v, low);
                } else if self.stack.contains(&w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v, low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    component.push(name(w));
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.found.push(component);
                }
            }
        }
    }
    let mut tarjan = Tarjan {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: Vec::new(),
    };
    for v in edges.keys() {
        if !tarjan.index.contains_key(v.as_slice()) {
            tarjan.visit(v);
        }
    }
    tarjan.found
}

fn edges(krate: &Crate) -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    krate
        .modules
        .values()
        .map(|m| (m.path.clone(), krate.references(m)))
        .collect()
}

#[test]
fn no_file_imports_a_file_that_imports_it_back() {
    for (crate_name, krate) in crates() {
        let found = cycles(&edges(&krate));
        assert!(found.is_empty(), "{crate_name}: import cycles {found:?}");
    }
}

#[test]
fn nothing_outside_commands_uses_the_command_layer() {
    let krate = Crate::read(&workspace().join("daemon/src/main.rs"));
    let commands = vec!["commands".to_string()];
    for (module, targets) in edges(&krate) {
        if module.is_empty() || module.starts_with(&commands) {
            continue;
        }
        let into: Vec<String> = targets
            .iter()
            .filter(|t| t.starts_with(&commands))
            .map(|t| name(t))
            .collect();
        assert!(
            into.is_empty(),
            "{} uses the command layer: {into:?}",
            name(&module)
        );
    }
}

#[test]
fn every_stage_folder_says_what_it_does_and_what_comes_in_and_out() {
    for (crate_name, krate) in crates() {
        for module in krate.modules.values() {
            if !module.is_folder || module.path.is_empty() {
                continue;
            }
            let text = std::fs::read_to_string(&module.file).unwrap();
            let doc: String = text
                .lines()
                .take_while(|l| l.starts_with("//!"))
                .collect::<Vec<_>>()
                .join("\n");
            assert!(
                doc.contains("In:") && doc.contains("Out:"),
                "{crate_name}: {} must open with what the stage does, In: and Out:",
                module.file.display()
            );
        }
    }
}

#[test]
fn the_checker_sees_a_cycle_and_follows_re_exports() {
    // The real crates have no cycle, so show on them that edges are found:
    // the matrix uses the engine interface through `crate::engine`'s
    // re-export, and the worker uses the library's findings.
    let krate = Crate::read(&workspace().join("oracles/src/lib.rs"));
    let edges = edges(&krate);
    let matrix = vec!["engine".to_string(), "matrix".to_string()];
    assert!(
        edges[&matrix].contains(&vec!["engine".to_string(), "interface".to_string()]),
        "{:?}",
        edges[&matrix]
    );
    let mut with_cycle = edges.clone();
    with_cycle
        .get_mut(&vec!["engine".to_string(), "interface".to_string()])
        .unwrap()
        .insert(matrix.clone());
    let found = cycles(&with_cycle);
    assert!(
        found
            .iter()
            .any(|c| c.contains(&"engine::interface".to_string())
                && c.contains(&"engine::matrix".to_string())),
        "{found:?}"
    );
}

/// The library's stage folders in the README's order: a file may use its
/// own stage and the ones before it, never a later one. Files at the root
/// (`config`, `profile`, `versions`, `bounds`) are shared by all.
const ORACLES_STAGES: [&str; 7] = [
    "observe", "case", "engine", "judge", "cost", "triage", "pipeline",
];

/// The daemon's stage folders in the README's order. Files at the root
/// (`config`, `logging`, `seeds`, `case_table`, `sweep`) are shared; the
/// supervisor runs background triage through `process::supervisor::BackgroundWork`,
/// which triage implements.
const DAEMON_STAGES: [&str; 7] = [
    "releases",
    "store",
    "health",
    "process",
    "triage",
    "dashboard",
    "commands",
];

/// Every import of a later stage of `stages` in `edges`, as `file -> module`.
fn backward_imports(
    edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
    stages: &[&str],
) -> Vec<String> {
    let stage = |path: &[String]| {
        path.first()
            .and_then(|first| stages.iter().position(|s| s == first))
    };
    let mut found = Vec::new();
    for (module, targets) in edges {
        let Some(own) = stage(module) else {
            continue;
        };
        for target in targets {
            let Some(theirs) = stage(target) else {
                continue;
            };
            if theirs > own {
                found.push(format!("{} -> {}", name(module), name(target)));
            }
        }
    }
    found
}

/// Fails naming every import of a later stage in the crate at `root`.
fn assert_stage_order(root: &str, stages: &[&str]) {
    let krate = Crate::read(&workspace().join(root));
    let found = backward_imports(&edges(&krate), stages);
    assert!(
        found.is_empty(),
        "imports of a later stage (order: {}): {found:?}",
        stages.join(" > ")
    );
}

#[test]
fn the_library_s_stages_import_only_earlier_stages() {
    assert_stage_order("oracles/src/lib.rs", &ORACLES_STAGES);
}

#[test]
fn the_daemon_s_stages_import_only_earlier_stages() {
    assert_stage_order("daemon/src/main.rs", &DAEMON_STAGES);
}

#[test]
fn an_injected_backward_import_between_folders_is_refused() {
    let krate = Crate::read(&workspace().join("oracles/src/lib.rs"));
    let mut edges = edges(&krate);
    edges
        .get_mut(&vec!["case".to_string(), "generate".to_string()])
        .unwrap()
        .insert(vec!["judge".to_string(), "verdict".to_string()]);
    assert_eq!(
        backward_imports(&edges, &ORACLES_STAGES),
        ["case::generate -> judge::verdict"]
    );
}

/// How long a function of `oracles/` or `daemon/` may be, signature to
/// closing brace: a longer one hides its steps.
const MAX_FUNCTION_LINES: usize = 80;

/// Every function (free, in an impl or a trait) longer than
/// [`MAX_FUNCTION_LINES`], tests aside, as `file:line name (lines)`.
fn long_functions(krate: &Crate) -> Vec<String> {
    struct Lengths<'a> {
        file: &'a Path,
        found: Vec<String>,
    }
    impl Lengths<'_> {
        fn check(&mut self, name: &syn::Ident, start: proc_macro2::Span, body: &syn::Block) {
            let (first, last) = (start.start().line, body.brace_token.span.close().end().line);
            let lines = last + 1 - first;
            if lines > MAX_FUNCTION_LINES {
                self.found.push(format!(
                    "{}:{first} {name} ({lines} lines)",
                    self.file.display()
                ));
            }
        }
    }
    impl<'ast> Visit<'ast> for Lengths<'_> {
        fn visit_item_mod(&mut self, module: &'ast syn::ItemMod) {
            if !is_test_only(&module.attrs) {
                syn::visit::visit_item_mod(self, module);
            }
        }
        fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
            if !f.attrs.iter().any(|a| a.path().is_ident("test")) {
                self.check(&f.sig.ident, f.sig.fn_token.span, &f.block);
                syn::visit::visit_item_fn(self, f);
            }
        }
        fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
            self.check(&f.sig.ident, f.sig.fn_token.span, &f.block);
            syn::visit::visit_impl_item_fn(self, f);
        }
        fn visit_trait_item_fn(&mut self, f: &'ast syn::TraitItemFn) {
            if let Some(body) = &f.default {
                self.check(&f.sig.ident, f.sig.fn_token.span, body);
            }
            syn::visit::visit_trait_item_fn(self, f);
        }
    }
    let mut found = Vec::new();
    for module in krate.modules.values() {
        let mut lengths = Lengths {
            file: &module.file,
            found: Vec::new(),
        };
        lengths.visit_file(&module.ast);
        found.extend(lengths.found);
    }
    found
}

#[test]
fn no_function_is_longer_than_the_limit() {
    for root in ["oracles/src/lib.rs", "daemon/src/main.rs"] {
        let krate = Crate::read(&workspace().join(root));
        let long = long_functions(&krate);
        assert!(
            long.is_empty(),
            "functions over {MAX_FUNCTION_LINES} lines (split them into named steps): {long:#?}"
        );
    }
}

#[test]
fn a_long_function_is_seen() {
    let krate = Crate::read(&workspace().join("oracles/src/lib.rs"));
    let mut krate = krate;
    let module = krate.modules.values_mut().next().unwrap();
    let body = "    let x = 1;\n".repeat(MAX_FUNCTION_LINES);
    module.ast = syn::parse_file(&format!("fn long() {{\n{body}}}\n")).unwrap();
    let long = long_functions(&krate);
    assert_eq!(long.len(), 1, "{long:?}");
    assert!(
        long[0].ends_with(&format!("long ({} lines)", MAX_FUNCTION_LINES + 2)),
        "{long:?}"
    );
}

/// Whether a string literal writes a format's text.
type WritesOne = fn(&str) -> bool;

/// The text formats that decide deduplication, each with the one module
/// allowed to write them and how a literal shows it writes one: engine
/// names (`+fault-`, `+sabotage-`) are joined and split by `engine::id`,
/// disagreement signatures (a side `{a}=x` beside ` vs ` or ` blame `) by
/// `judge::signature`.
const FORMAT_MARKS: [(&str, WritesOne); 2] = [
    ("engine::id", |l| {
        l.contains("+fault-") || l.contains("+sabotage-")
    }),
    ("judge::signature", |l| {
        l.contains("}=") && (l.contains(" vs ") || l.contains(" blame "))
    }),
];

/// Every string literal outside tests and doc comments (in code and in
/// macros such as `format!`) that holds a format's mark outside the
/// module that owns the format, as `file: literal`.
fn format_marks_outside_owners(krate: &Crate) -> Vec<String> {
    struct Literals {
        found: Vec<String>,
    }
    impl<'ast> Visit<'ast> for Literals {
        fn visit_attribute(&mut self, _: &'ast syn::Attribute) {}
        fn visit_item_mod(&mut self, module: &'ast syn::ItemMod) {
            if !is_test_only(&module.attrs) {
                syn::visit::visit_item_mod(self, module);
            }
        }
        fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
            if !f.attrs.iter().any(|a| a.path().is_ident("test")) {
                syn::visit::visit_item_fn(self, f);
            }
        }
        fn visit_lit_str(&mut self, literal: &'ast syn::LitStr) {
            self.found.push(literal.value());
        }
        fn visit_macro(&mut self, mac: &'ast syn::Macro) {
            fn literals(tokens: TokenStream, found: &mut Vec<String>) {
                for token in tokens {
                    match token {
                        TokenTree::Literal(l) => found.push(l.to_string()),
                        TokenTree::Group(g) => literals(g.stream(), found),
                        _ => {}
                    }
                }
            }
            literals(mac.tokens.clone(), &mut self.found);
        }
    }
    let mut found = Vec::new();
    for module in krate.modules.values() {
        let mut literals = Literals { found: Vec::new() };
        literals.visit_file(&module.ast);
        let name = name(&module.path);
        for literal in literals.found {
            for (owner, writes_one) in FORMAT_MARKS {
                let owned = name == owner || name.ends_with(&format!("::{owner}"));
                if !owned && writes_one(&literal) {
                    found.push(format!("{}: {literal}", module.file.display()));
                }
            }
        }
    }
    found
}

#[test]
fn engine_names_and_signatures_are_written_only_by_their_types() {
    for root in ["oracles/src/lib.rs", "daemon/src/main.rs"] {
        let krate = Crate::read(&workspace().join(root));
        let outside = format_marks_outside_owners(&krate);
        assert!(
            outside.is_empty(),
            "engine names and signatures written outside engine::id and judge::signature \
             (use EngineId and MismatchSignature): {outside:#?}"
        );
    }
}

#[test]
fn a_signature_written_by_hand_is_seen() {
    let mut krate = Crate::read(&workspace().join("oracles/src/lib.rs"));
    let module = krate
        .modules
        .values_mut()
        .find(|m| name(&m.path) == "judge::verdict")
        .unwrap();
    module.ast = syn::parse_file(
        "fn sign(a: &str) -> String { format!(\"mismatch call {{{a}}}=value vs {{b}}=trap blame b\") }\n\
         fn name(v: &str) -> String { [v, \"+fault-add\"].concat() }\n\
         /// A doc comment may say `+fault-add`.\nfn documented() {}\n",
    )
    .unwrap();
    let outside = format_marks_outside_owners(&krate);
    assert_eq!(outside.len(), 2, "{outside:#?}");
}

/// The modules that call Wasmtime's API (the linked crate, by path or
/// `use`), each saying so in its own doc: the engine's variants and their
/// imports, the swarm's settings, the canary memories, and the compiles
/// made only to read CLIF. Any other file goes through these, so pointing
/// crosscheck at another release touches only them.
const WASMTIME_API_MODULES: [&str; 6] = [
    "engine::canary",
    "engine::tuning",
    "engine::wasmtime",
    "engine::wasmtime_imports",
    "observe::clif",
    "observe::opt_levels",
];

/// The modules of `krate` whose code outside tests names the `wasmtime`
/// crate: a path or `use` tree beginning with it.
fn wasmtime_api_modules(krate: &Crate) -> BTreeSet<String> {
    struct Names {
        found: bool,
    }
    impl<'ast> Visit<'ast> for Names {
        fn visit_item_mod(&mut self, module: &'ast syn::ItemMod) {
            if !is_test_only(&module.attrs) {
                syn::visit::visit_item_mod(self, module);
            }
        }
        fn visit_path(&mut self, path: &'ast syn::Path) {
            if path.segments.len() > 1 && path.segments[0].ident == "wasmtime" {
                self.found = true;
            }
            syn::visit::visit_path(self, path);
        }
        fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
            if let syn::UseTree::Path(p) = &item.tree {
                if p.ident == "wasmtime" {
                    self.found = true;
                }
            }
        }
    }
    krate
        .modules
        .values()
        .filter(|module| {
            let mut names = Names { found: false };
            names.visit_file(&module.ast);
            names.found
        })
        .map(|module| name(&module.path))
        .collect()
}

#[test]
fn only_the_modules_that_say_so_call_wasmtime() {
    let library = wasmtime_api_modules(&Crate::read(&workspace().join("oracles/src/lib.rs")));
    let expected: BTreeSet<String> = WASMTIME_API_MODULES.iter().map(|m| m.to_string()).collect();
    assert_eq!(library, expected, "modules naming the wasmtime crate");
    let daemon = wasmtime_api_modules(&Crate::read(&workspace().join("daemon/src/main.rs")));
    assert!(daemon.is_empty(), "the daemon calls Wasmtime in {daemon:?}");
}
