//! Turning a panic inside an engine into a report naming that engine.
//!
//! Engines are Rust libraries: a bug in one can panic (wasmi's translator
//! has `unreachable!()`s). Such a panic is a crash finding for the engine
//! that raised it, not a failure of the whole case.

use std::cell::{Cell, RefCell};
use std::panic::{catch_unwind, AssertUnwindSafe};

thread_local! {
    static INSIDE_CATCH: Cell<bool> = const { Cell::new(false) };
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Runs `f`; a panic becomes `Err` with its message, and its location when
/// [`install_hook`] was called.
pub fn catch<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    let was_inside = INSIDE_CATCH.with(|inside| inside.replace(true));
    LAST_PANIC.with(|last| last.borrow_mut().take());
    let result = catch_unwind(AssertUnwindSafe(f));
    INSIDE_CATCH.with(|inside| inside.set(was_inside));
    result.map_err(|payload| {
        LAST_PANIC
            .with(|last| last.borrow_mut().take())
            .unwrap_or_else(|| payload_message(payload.as_ref()))
    })
}

/// Makes panics inside [`catch`] quiet (they are reported as findings) and
/// records where they happened; panics anywhere else still reach the
/// previous hook.
pub fn install_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if INSIDE_CATCH.with(Cell::get) {
            let message = payload_message(info.payload());
            let text = match info.location() {
                Some(at) => format!("{message} (at {}:{})", portable_path(at.file()), at.line()),
                None => message,
            };
            LAST_PANIC.with(|last| *last.borrow_mut() = Some(text));
        } else {
            previous(info);
        }
    }));
}

/// A source path without the machine-specific part of Cargo's registry
/// (`~/.cargo/registry/src/index.crates.io-<hash>/`), so that one panic has
/// one text on every machine.
fn portable_path(path: &str) -> &str {
    match path.find("/registry/src/") {
        Some(at) => {
            let rest = &path[at + "/registry/src/".len()..];
            rest.split_once('/')
                .map_or(rest, |(_index, crate_path)| crate_path)
        }
        None => path,
    }
}

/// The text of a panic payload.
pub fn payload_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "non-string panic payload".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_its_message_and_normal_results_pass_through() {
        assert_eq!(catch(|| 7), Ok(7));
        let err = catch(|| -> u8 { panic!("engine bug {}", 42) }).unwrap_err();
        assert!(err.starts_with("engine bug 42"), "{err}");
        // Nesting restores the outer state.
        assert_eq!(catch(|| catch(|| 1)), Ok(Ok(1)));
    }

    #[test]
    fn registry_paths_lose_the_machine_specific_prefix() {
        assert_eq!(
            portable_path(
                "/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/wasmi-2.0.0/src/lib.rs"
            ),
            "wasmi-2.0.0/src/lib.rs"
        );
        assert_eq!(portable_path("oracles/src/x.rs"), "oracles/src/x.rs");
    }
}
