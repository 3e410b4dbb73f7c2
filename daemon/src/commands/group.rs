//! `crosscheck group [show N | join INTO FROM | split FINDING]`: the groups
//! of findings with one trigger (one bug each), and a person's decisions
//! about them, which triage keeps.

use crate::config::Config;
use crate::store::{Group, Store};
use anyhow::{bail, Result};
use clap::{Args, Subcommand};
use std::process::ExitCode;

/// Arguments of `crosscheck group`.
#[derive(Args)]
pub struct GroupArgs {
    #[command(subcommand)]
    action: Option<GroupAction>,
}

/// What to do with groups (default: list them).
#[derive(Subcommand)]
enum GroupAction {
    /// One group: its trigger and every finding in it.
    Show {
        /// The group's id.
        id: i64,
    },
    /// Move every finding of group FROM into group INTO (they are one bug).
    Join {
        /// The group that stays.
        into: i64,
        /// The group whose findings move.
        from: i64,
    },
    /// Take a finding out of its group into one of its own (another bug).
    Split {
        /// The finding's id.
        finding: i64,
    },
}

/// Runs the command.
pub fn run(config: &Config, args: GroupArgs) -> Result<ExitCode> {
    let mut store = Store::open_existing(&config.store)?;
    match args.action {
        None => {
            let groups = store.groups()?;
            println!(
                "{} group(s), {} open, in {}",
                groups.len(),
                groups.iter().filter(|g| g.is_open()).count(),
                config.store.data_dir.display()
            );
            for group in &groups {
                println!("{}", group.describe());
            }
        }
        Some(GroupAction::Show { id }) => {
            let Some(group) = store.group(id)? else {
                bail!("no group {id} (`crosscheck group` lists them)");
            };
            print!("{}", show(&group));
        }
        Some(GroupAction::Join { into, from }) => {
            store.join_groups(into, from)?;
            println!("group {from} joined into group {into}; triage keeps this decision");
        }
        Some(GroupAction::Split { finding }) => {
            let group = store.split_finding(finding)?;
            println!("finding {finding} is now alone in group {group}; triage keeps this decision");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A group and its findings, as `group show` prints it.
fn show(group: &Group) -> String {
    let mut text = format!("{}\n", group.describe());
    text += &format!("key: {}\n", group.key);
    for f in &group.findings {
        text += &format!(
            "  #{:<4} {:<9} {:>6} hits  {:>6}  {}\n",
            f.id,
            f.status,
            f.hits,
            f.shrunk_size.map_or("-".into(), |n| format!("{n} B")),
            f.signature
        );
    }
    text
}
