//! Implementation families: engines that share code are one witness, not
//! several. The four default Cranelift variants share Cranelift's mid-end
//! and x64 lowering; opt level `none` skips the mid-end's rewrites but
//! shares the lowering; Pulley shares the mid-end but not the x64 backend;
//! Winch and wasmi share nothing with Cranelift. Attribution weighs
//! families, and names the party their sides point to.

/// The wasmi interpreter.
pub const WASMI: &str = "wasmi";
/// Cranelift at opt level `speed`, x64 (the code production runs).
pub const CRANELIFT_OPT: &str = "cranelift-opt";
/// Cranelift at opt level `none`, x64.
pub const CRANELIFT_OPT_NONE: &str = "cranelift-opt-none";
/// Winch, Wasmtime's baseline x64 compiler.
pub const WINCH: &str = "winch";
/// Pulley, Cranelift's interpreter backend.
pub const PULLEY: &str = "pulley";

/// Who is wrong when exactly `wrong` families are wrong (and every other
/// family that ran is right), in words. `ran` are all families that ran.
/// Cranelift's families are told apart by what they share: opt level
/// `none` shares the x64 lowering, Pulley the optimizer.
pub fn parties(wrong: &[String], ran: &[String]) -> Vec<String> {
    let is_wrong = |f: &str| wrong.iter().any(|w| w == f);
    let mut parties = Vec::new();
    if is_wrong(CRANELIFT_OPT) {
        let none_wrong = is_wrong(CRANELIFT_OPT_NONE);
        let pulley_wrong = is_wrong(PULLEY);
        let wasmtime_all = [CRANELIFT_OPT, CRANELIFT_OPT_NONE, WINCH, PULLEY]
            .iter()
            .all(|f| is_wrong(f) || !ran.iter().any(|r| r == f));
        parties.push(
            if wasmtime_all && is_wrong(WINCH) {
                "Wasmtime's runtime (every compiler)"
            } else if none_wrong && pulley_wrong {
                "Cranelift (every backend and opt level)"
            } else if none_wrong {
                "Cranelift's x64 lowering"
            } else if pulley_wrong {
                "Cranelift's optimizer (mid-end)"
            } else {
                "Cranelift at opt level speed on x64"
            }
            .to_string(),
        );
        let covered = |f: &str| {
            f == CRANELIFT_OPT
                || (f == CRANELIFT_OPT_NONE && none_wrong)
                || (f == PULLEY && pulley_wrong)
                || (f == WINCH && wasmtime_all)
        };
        parties.extend(wrong.iter().filter(|f| !covered(f)).map(|f| party(f)));
    } else {
        parties.extend(wrong.iter().map(|f| party(f)));
    }
    parties
}

/// One family as the party blamed.
fn party(family: &str) -> String {
    match family {
        CRANELIFT_OPT_NONE => "Cranelift at opt level none".into(),
        WINCH => "Winch".into(),
        PULLEY => "Pulley".into(),
        other => other.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::id::EngineId;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn engines_fall_into_families() {
        for (engine, expected) in [
            ("wasmi", WASMI),
            ("wasmi+lazy", WASMI),
            ("cranelift-tail-signals", CRANELIFT_OPT),
            ("cranelift-notail-explicit+single-pass", CRANELIFT_OPT),
            ("cranelift-tail-signals+fault-i64-mul", CRANELIFT_OPT),
            ("cranelift-tail-signals+opt-none", CRANELIFT_OPT_NONE),
            ("winch-notail-signals", WINCH),
            ("pulley-tail-explicit", PULLEY),
            ("wasmi-fault-add", WASMI),
            ("pizza", "pizza"),
        ] {
            assert_eq!(EngineId::parse(engine).family(), expected, "{engine}");
        }
    }

    #[test]
    fn cranelift_parties_follow_what_the_tie_breakers_share() {
        let all = strings(&[WASMI, CRANELIFT_OPT, CRANELIFT_OPT_NONE, PULLEY, WINCH]);
        let blame = |wrong: &[&str]| parties(&strings(wrong), &all);
        assert_eq!(
            blame(&[CRANELIFT_OPT]),
            ["Cranelift at opt level speed on x64"]
        );
        assert_eq!(
            blame(&[CRANELIFT_OPT, PULLEY]),
            ["Cranelift's optimizer (mid-end)"]
        );
        assert_eq!(
            blame(&[CRANELIFT_OPT, CRANELIFT_OPT_NONE]),
            ["Cranelift's x64 lowering"]
        );
        assert_eq!(
            blame(&[CRANELIFT_OPT, CRANELIFT_OPT_NONE, PULLEY, WINCH]),
            ["Wasmtime's runtime (every compiler)"]
        );
        assert_eq!(blame(&[WASMI]), ["wasmi"]);
        assert_eq!(blame(&[WINCH]), ["Winch"]);
    }
}
