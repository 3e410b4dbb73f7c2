//! A case whose worker died inside an engine goes on in a fresh worker
//! without that engine: the order that finishes it carries the deaths so
//! far, and the worker judges them with the runs of the engines left
//! (`oracles::Given`), so a finding records every engine's outcome. The
//! supervisor and the prober both follow a case this way.

use super::protocol::Order;
use super::worker_handle::{death_finding, Death};
use oracles::cost::baseline::Baseline;
use oracles::engine::has_explicit_checks;
use oracles::engine::id::EngineId;
use oracles::pipeline::findings::of_deaths;
use oracles::{EngineRun, Finding};

/// The order that runs a generated case (`seed`'s `wasm`) as a module, so
/// that it can go on after a death.
pub fn check_of_generated(seed: u64, wasm: &[u8], baseline: Option<Baseline>) -> Order {
    Order::Check {
        seed,
        wasm_hex: hex::encode(wasm),
        flips: false,
        blowup_margin: None,
        baseline,
        call: None,
        dead: Vec::new(),
        show: false,
    }
}

/// The order that finishes `order`'s case after `engine` took its worker
/// down (compiling or running), or `None` when the case cannot go on: the
/// worker died outside any engine, or the order is not a case.
pub fn without(
    order: &Order,
    engine: Option<&str>,
    death: &Death,
    compiling: bool,
) -> Option<Order> {
    let engine = engine?;
    let Order::Check { dead, .. } = order else {
        return None;
    };
    if dead.iter().any(|(name, _)| name == engine) {
        // The engine was not to run again: something else died.
        return None;
    }
    let mut next = order.clone();
    if let Order::Check { dead, .. } = &mut next {
        dead.push((
            engine.to_string(),
            death.in_engine(compiling, has_explicit_checks(engine)),
        ));
    }
    Some(next)
}

/// The findings of a case that cannot go on: the deaths of the engines
/// before, and this last death (`case` says where: seed and pid).
pub fn findings_of_stuck(
    order: &Order,
    engine: Option<&str>,
    death: &Death,
    compiling: bool,
    case: &str,
) -> Vec<Finding> {
    let earlier: Vec<(EngineId, EngineRun)> = match order {
        Order::Check { dead, .. } => dead
            .iter()
            .map(|(name, d)| (EngineId::parse(name), EngineRun::Died(d.clone())))
            .collect(),
        _ => Vec::new(),
    };
    // The swarm's draw is not known here: its engine counts as any other.
    let mut found = of_deaths(&earlier, &[]);
    found.push(death_finding(death, engine, compiling, case));
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::worker_handle::classify;
    use std::os::unix::process::ExitStatusExt;
    use std::process::ExitStatus;

    #[test]
    fn a_case_goes_on_without_each_engine_that_died_and_stops_outside_engines() {
        let abort = classify(ExitStatus::from_raw(libc::SIGABRT), None, "");
        let first = check_of_generated(7, b"\0asm\x01\0\0\0", None);
        let second = without(&first, Some("cranelift-tail-explicit"), &abort, false).unwrap();
        let Order::Check { dead, seed, .. } = &second else {
            panic!("a check order")
        };
        assert_eq!((*seed, dead.len()), (7, 1));
        assert_eq!(dead[0].0, "cranelift-tail-explicit");
        assert_eq!(dead[0].1.how, "killed by SIGABRT");
        let third = without(&second, Some("cranelift-notail-explicit"), &abort, true).unwrap();
        let Order::Check { dead, .. } = &third else {
            panic!("a check order")
        };
        assert_eq!(dead.len(), 2);
        assert!(dead[1].1.compiling);
        // A death outside any engine, or in an engine that was not to run,
        // ends the case: every death so far is a finding.
        assert!(without(&third, None, &abort, false).is_none());
        assert!(without(&third, Some("cranelift-tail-explicit"), &abort, false).is_none());
        let found = findings_of_stuck(&third, None, &abort, false, "seed 7");
        assert_eq!(found.len(), 2);
        assert_eq!(
            found[0].signature,
            "crash worker killed by SIGABRT in cranelift-tail-explicit,cranelift-notail-explicit"
        );
        assert_eq!(
            found[1].signature,
            "crash worker killed by SIGABRT in the harness, before any engine"
        );
    }
}
