//! The daemon's scaling checks (`oracles::cost::scaling_check`, run in the background
//! background triage's worker process so a compile that explodes takes down only
//! that worker): every `[cost.scaling] every_secs` the built-in shape checked
//! longest ago, and the shrunk module of every compile blowup. Each check's
//! table and superlinear exponents are stored; superlinear growth is
//! logged as a warning and shown by `status` and the dashboard.

use crate::config::Config;
use crate::process::probe::Prober;
use crate::process::protocol::ScaleOrder;
use crate::store::{unix_now, ScalingCheck, Store, StoredFinding};
use anyhow::Result;
use oracles::cost::scaling_shapes::ScalingShape;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tracing::{info, warn};

/// The subject of a shape's checks in the store.
pub fn shape_subject(shape: ScalingShape) -> String {
    format!("shape:{}", shape.name())
}

/// Checks the built-in shape checked longest ago (never checked first) if
/// `[cost.scaling] every_secs` have passed since the last shape check; true if it
/// ran one.
pub fn check_next_shape(
    config: &Config,
    store: &mut Store,
    prober: &mut Prober<'_>,
    stop: &AtomicBool,
) -> Result<bool> {
    let every = config.library.cost.scaling.every_secs;
    if every == 0 {
        return Ok(false);
    }
    let mut last = Vec::new();
    for shape in ScalingShape::ALL {
        last.push((store.last_scaled(&shape_subject(shape))?, shape));
    }
    let latest = last.iter().filter_map(|(at, _)| *at).max();
    if latest.is_some_and(|at| unix_now() - at < every as i64) {
        return Ok(false);
    }
    // `None` (never checked) sorts first.
    let (_, shape) = *last.iter().min_by_key(|(at, _)| *at).expect("shapes exist");
    let order = scale_order(config, Some(shape.name().to_string()), None, 500);
    run(
        config,
        store,
        prober,
        stop,
        order,
        shape_subject(shape),
        None,
    )?;
    Ok(true)
}

/// Checks how a compile blowup's shrunk module scales with its largest
/// function repeated 1, 2, 4, ... times.
pub fn check_finding(
    config: &Config,
    store: &mut Store,
    prober: &mut Prober<'_>,
    stop: &AtomicBool,
    finding: &StoredFinding,
    wasm: &[u8],
) -> Result<()> {
    let order = scale_order(config, None, Some(hex::encode(wasm)), 1);
    run(
        config,
        store,
        prober,
        stop,
        order,
        format!("finding:{}", finding.id),
        Some(finding.id),
    )
}

/// A scaling check of a shape or a module, sized by `[cost]`.
fn scale_order(
    config: &Config,
    shape: Option<String>,
    wasm_hex: Option<String>,
    start: u32,
) -> ScaleOrder {
    ScaleOrder {
        shape,
        wasm_hex,
        start,
        steps: config.library.cost.scaling.steps,
        runs: config.library.cost.scaling.runs,
        superlinear: config.library.cost.scaling.superlinear,
    }
}

fn run(
    config: &Config,
    store: &mut Store,
    prober: &mut Prober<'_>,
    stop: &AtomicBool,
    order: ScaleOrder,
    subject: String,
    finding: Option<i64>,
) -> Result<()> {
    let limit = Duration::from_secs(config.library.cost.scaling.timeout_secs);
    let check = match prober.scale(order, limit) {
        Ok(result) => match result.error {
            Some(error) => ScalingCheck {
                at: unix_now(),
                subject,
                finding,
                report: format!("the check could not run: {error}"),
                superlinear: Vec::new(),
            },
            None => ScalingCheck {
                at: unix_now(),
                subject,
                finding,
                report: result.table,
                superlinear: result.superlinear,
            },
        },
        Err(err) if stop.load(Ordering::Relaxed) => return Err(err),
        // Killed for its time or memory, or dead: growing the module blew
        // the compile up, which is what a scaling check looks for.
        Err(err) => ScalingCheck {
            at: unix_now(),
            subject,
            finding,
            report: format!("{err:#}"),
            superlinear: vec![format!("the check did not finish: {err:#}")],
        },
    };
    if check.superlinear.is_empty() {
        info!(subject = %check.subject, "scaling check: no growth above size^{}", config.library.cost.scaling.superlinear);
    } else {
        warn!(
            subject = %check.subject,
            "scaling check: SUPERLINEAR: {}",
            check.superlinear.join("; ")
        );
    }
    store.record_scaling(&check)
}
