//! What the generator reaches: programs of the classes real bugs of the
//! shipped release need, each proven by a fault only that class reveals,
//! found by the default mix (seeds are deterministic) through the real
//! daemon, whose workers are killed when an engine runs on.

mod common;

use common::{config, crosscheck, findings, status, temp_dir, text};

/// A dead-store elimination that ignores a path that never ends (Wasmtime
/// 48.0.0 to 50's): only a loop with no counter and no trap exit between a
/// store that traps and the same store after it shows it, and only on an
/// engine without fuel or epochs (`wasmtime-default`), which runs on in
/// the loop where every other engine traps. Budgeted loops (wasm-smith's
/// counters, the other shapes' counted loops) never give the fault a store
/// to drop: `engine::pass_faults`' unit test checks every module of 1,500
/// seeds of the default mix.
#[test]
fn a_dead_store_elimination_across_an_endless_loop_is_found_by_the_default_mix() {
    let dir = temp_dir("reach-endless-loop");
    let faulty = "wasmtime-default+fault-store-across-endless-loop";
    let config = config(
        &dir,
        &[faulty, "cranelift-tail-signals"],
        "workers = 2\nphase_timeout_secs = 2\nknown_hang_secs = 1",
        "",
    );
    let out = crosscheck(&config, &["run", "--cases", "1500"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let found = findings(&status(&config));
    let hit = found
        .iter()
        .find(|f| {
            f["suspect"]
                .as_str()
                .is_some_and(|s| s.contains(&format!("{faulty} ran on without end")))
        })
        .unwrap_or_else(|| panic!("1,500 cases of the default mix missed it: {found:#?}"));
    let shown = text(&crosscheck(&config, &["findings", "show", &hit["id"].to_string()]).stdout);
    assert!(
        shown.contains("pass shape diverge"),
        "found by another class of case: {shown}"
    );
}
