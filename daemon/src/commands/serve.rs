//! `crosscheck serve`: the dashboard of a store, without fuzzing.

use crate::config::Config;
use crate::store::Store;
use anyhow::{Context, Result};
use clap::Args;
use std::process::ExitCode;

/// Arguments of `crosscheck serve`.
#[derive(Args)]
pub struct ServeArgs {
    /// `host:port` to serve on (default: `[dashboard] address`; port 0
    /// picks a free one).
    #[arg(long)]
    address: Option<String>,
    /// A host name the dashboard answers for besides the loopback names
    /// and the address it serves on (the name a proxy or a browser uses);
    /// repeat for more. Requests naming any other host are refused, so a
    /// web page cannot reach the dashboard by rebinding its own name.
    #[arg(long = "allow-host", value_name = "NAME")]
    allow_hosts: Vec<String>,
}

/// Serves until SIGINT or SIGTERM.
pub fn run(config: &Config, args: ServeArgs) -> Result<ExitCode> {
    // Refuse a missing or unreadable store now, not on the first request.
    let store = Store::open_read_only(&config.store)?;
    let address = args
        .address
        .unwrap_or_else(|| config.dashboard.address.clone());
    if address.is_empty() {
        anyhow::bail!("no address: [dashboard] address is empty and --address was not given");
    }
    let mut config = config.clone();
    config.dashboard.allow_hosts.extend(args.allow_hosts);
    let bound = crate::dashboard::start(&config, &address)?;
    // Scripts (and the tests) read the address from this line.
    println!("serving {} on http://{bound}/", store.location());
    drop(store);
    let mut signals = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
    ])
    .context("installing signal handlers")?;
    signals.forever().next();
    Ok(ExitCode::SUCCESS)
}
