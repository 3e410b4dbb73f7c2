//! Compiles made only to see what Cranelift did, never to run: each
//! function's final CLIF as Wasmtime writes it ([`clif`]), and the same
//! functions at opt level none and speed with an instruction counted in
//! both ([`opt_levels`]). Whether a rule-guided module's aimed instruction
//! was rewritten (`case::rules::code_change`), whether a pass-aimed shape's
//! pass acted (`case::passes::acted`), what instrumentation keeps the
//! optimizer from doing (`cost::optimizer`, through the variant's own
//! configuration) and a candidate release's rewrites (served by its build,
//! `pipeline::serve_engine`) are all read from here.
//!
//! In: a module's bytes and a Wasmtime configuration. Out: CLIF texts and
//! counts of opcodes in them. The first stage: it uses no other.

pub mod clif;
pub mod opt_levels;
