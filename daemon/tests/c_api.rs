//! The newest Wasmtime release through its published C API library, end to
//! end: fetched with pip into the user's cache (`build-release 51 --c-api`),
//! run in the worker beside the linked release on every backend and stack
//! strategy, agreeing with it on every kind of value, trap and state, a
//! divergence between the two releases labelled with the newer one as the
//! candidate, and a damaged library refused by name and hash.

mod common;

use common::{crosscheck, module, temp_dir, text};
use std::path::{Path, PathBuf};

/// The newest release, which the default matrix runs through its C API.
const NEWEST: u64 = 51;

/// The engine names as `common::config` takes them.
fn config(dir: &Path, engines: &[String]) -> PathBuf {
    let engines: Vec<&str> = engines.iter().map(String::as_str).collect();
    common::config(dir, &engines, "", "")
}

/// Values of every kind, each trap the plan reaches, a memory, a global
/// and a table of references.
const EVERY_KIND: &str = r#"(module
    (memory (export "m") 1 1)
    (global (export "g") (mut i64) (i64.const -7))
    (table (export "t") 3 funcref)
    (elem (i32.const 1) $f)
    (func $f (export "f") (param i32) (result i32 i64 f32 f64 v128)
        local.get 0 i64.const -3 f32.const 1.5 f64.const -0.25
        v128.const i32x4 1 2 3 4)
    (func (export "div") (param i32) (result i32)
        i32.const 7 local.get 0 i32.div_s)
    (func (export "store") (param i32)
        (i64.store (local.get 0) (global.get 0)))
    (func (export "ref") (result funcref) ref.func $f)
    (func (export "unreachable") unreachable))"#;

#[test]
fn the_newest_release_runs_through_its_c_api_beside_the_linked_one_and_agrees() {
    let dir = temp_dir("c-api-agree");
    let engines: Vec<String> = [
        "wasmtime-default",
        "cranelift-tail-explicit",
        "cranelift-notail-signals+nofuel",
        "winch-notail-signals",
        "pulley-tail-signals",
    ]
    .iter()
    .flat_map(|e| [e.to_string(), format!("{e}@{NEWEST}")])
    .collect();
    let config = config(&dir, &engines);
    let fetched = crosscheck(&config, &["build-release", &NEWEST.to_string(), "--c-api"]);
    let shown = text(&fetched.stdout);
    assert_eq!(
        fetched.status.code(),
        Some(0),
        "{shown}{}",
        text(&fetched.stderr)
    );
    assert!(
        shown.starts_with(&format!("Wasmtime {NEWEST}.")) && shown.contains("libwasmtime.so"),
        "{shown}"
    );

    let wat = module(&dir, "every-kind.wat", EVERY_KIND);
    let checked = crosscheck(&config, &["check", wat.to_str().unwrap()]);
    let shown = text(&checked.stdout);
    assert_eq!(
        checked.status.code(),
        Some(0),
        "{shown}{}",
        text(&checked.stderr)
    );
    assert!(shown.contains("verdict: agree"), "{shown}");
    for engine in &engines {
        let line = shown
            .lines()
            .find(|l| l.starts_with(&format!("{engine} ")))
            .unwrap_or_else(|| panic!("no line of {engine} in {shown}"));
        // Values of every kind returned, and the traps of `div` and
        // `store` out of bounds, on each engine alike.
        assert!(
            line.contains(" returned") && line.contains("trapped"),
            "{line}"
        );
    }
}

#[test]
fn a_divergence_of_the_newest_release_names_it_the_candidate() {
    let dir = temp_dir("c-api-divergence");
    // The linked release wrong (an injected fault), the newest right: the
    // newer release joins the oracle, a fix from the linked release to it.
    let config = config(
        &dir,
        &[
            "cranelift-tail-signals+fault-i64-mul".to_string(),
            format!("cranelift-tail-signals@{NEWEST}"),
        ],
    );
    let wat = module(
        &dir,
        "mul.wat",
        r#"(module (func (export "mul") (param i64 i64) (result i64)
            local.get 0 local.get 1 i64.mul))"#,
    );
    let imported = crosscheck(&config, &["import", "--no-shrink", wat.to_str().unwrap()]);
    let shown = text(&imported.stdout);
    assert_eq!(
        imported.status.code(),
        Some(0),
        "{shown}{}",
        text(&imported.stderr)
    );
    let linked = oracles::engine::other_release::linked_major();
    assert!(
        shown.contains(&format!("new finding 1: fix {linked}->{NEWEST}")),
        "{shown}"
    );
    assert!(
        shown.contains(&format!(
            "blame Cranelift at opt level speed on x64 in Wasmtime {linked}, fixed in {NEWEST}"
        )),
        "{shown}"
    );
}

#[test]
fn a_damaged_library_in_the_cache_is_refused_by_name() {
    let dir = temp_dir("c-api-damaged");
    let cache = dir.join("c-api");
    let release = cache.join(format!("wasmtime-{NEWEST}"));
    std::fs::create_dir_all(&release).unwrap();
    std::fs::write(release.join("libwasmtime.so"), b"\x7fELF truncated").unwrap();
    std::fs::write(release.join("version"), format!("{NEWEST}.0.0")).unwrap();
    let config = config(&dir, &[format!("wasmtime-default@{NEWEST}")]);
    let wat = module(&dir, "empty.wat", "(module)");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_crosscheck"))
        .env("CROSSCHECK_C_API_CACHE", &cache)
        .arg("--config")
        .arg(&config)
        .args(["check", wat.to_str().unwrap()])
        .output()
        .unwrap();
    let error = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{error}{}", text(&out.stdout));
    assert!(
        error.contains("refusing to load")
            && error.contains("SHA-256")
            && error.contains(&release.join("libwasmtime.so").display().to_string()),
        "{error}"
    );
}
