//! Groups: the findings of one bug. Triage puts a finding in the group of
//! its suspect and trigger fingerprint (or of its minimal module when no
//! rewrite makes it vanish); a person can join two groups or split a
//! finding off, and that decision sticks.

use super::database::{unix_now, Store};
use super::findings::StoredFinding;
use super::sql::params;
use anyhow::{bail, Context, Result};

/// A group as stored, with what its findings add up to.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    /// Row id, used on the command line.
    pub id: i64,
    /// What put findings together: `<suspect> | <fingerprint>`,
    /// `<suspect> | module <sha256>`, or `by-hand:<n>`.
    pub key: String,
    /// The trigger in words (`oracles::triage::trigger::Fingerprint::describe`).
    pub trigger: String,
    /// The instructions whose rewriting makes its findings vanish.
    pub instructions: Vec<String>,
    /// Its findings (merged ones left out), most hit first.
    pub findings: Vec<StoredFinding>,
}

impl Group {
    /// Hits of all its findings.
    pub fn hits(&self) -> i64 {
        self.findings.iter().map(|f| f.hits).sum()
    }

    /// Whether a finding of it needs attention (`open`).
    pub fn is_open(&self) -> bool {
        self.findings
            .iter()
            .any(|f| f.status == super::findings::Status::Open)
    }

    /// One line: `group 3: 11 signatures, 5,614 hits, suspect wasmi,
    /// trigger: ...`.
    pub fn describe(&self) -> String {
        let suspect = self
            .findings
            .iter()
            .find_map(|f| f.suspect.as_deref())
            .map_or("-", oracles::judge::attribution::suspected_party);
        format!(
            "group {}: {} signature(s), {} hits, suspect {suspect}, trigger: {}",
            self.id,
            self.findings.len(),
            self.hits(),
            self.trigger
        )
    }
}

/// What groups a finding: its suspect and fingerprint, as triage found
/// them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupKey {
    /// The key (see [`Group::key`]).
    pub key: String,
    /// The trigger in words.
    pub trigger: String,
    /// The trigger's instructions.
    pub instructions: Vec<String>,
}

impl Store {
    /// Puts finding `id` in the group of `key` (made if new), with its
    /// fingerprint, unless a person grouped it by hand. Returns its group.
    pub fn assign_group(&mut self, id: i64, key: &GroupKey, fingerprint: &str) -> Result<i64> {
        self.db
            .transaction(|tx| {
                tx.execute(
                    "UPDATE findings SET fingerprint = ?2 WHERE id = ?1",
                    params![id, fingerprint],
                )?;
                let Some(row) = tx.row(
                    "SELECT grouped_by_hand, group_id FROM findings WHERE id = ?1",
                    params![id],
                )?
                else {
                    bail!("no finding {id}");
                };
                if let (1, Some(group)) = (row.get::<i64>(0)?, row.get::<Option<i64>>(1)?) {
                    return Ok(group);
                }
                tx.execute(
                    "INSERT INTO groups (key, trigger, instructions, created) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (key) DO NOTHING",
                    params![key.key.as_str(), key.trigger.as_str(), key.instructions.join(" "), unix_now()],
                )?;
                let group: i64 =
                    tx.value("SELECT id FROM groups WHERE key = ?1", params![key.key.as_str()])?;
                tx.execute(
                    "UPDATE findings SET group_id = ?2 WHERE id = ?1",
                    params![id, group],
                )?;
                Ok(group)
            })
            .context("recording a finding's group")
    }

    /// Every group with its findings, open groups first, then by hits.
    pub fn groups(&self) -> Result<Vec<Group>> {
        let rows = self
            .db
            .rows(
                "SELECT id, key, trigger, instructions FROM groups ORDER BY id",
                &[],
            )?
            .iter()
            .map(|row| {
                Ok((
                    row.get::<i64>(0)?,
                    row.get::<String>(1)?,
                    row.get::<String>(2)?,
                    row.get::<String>(3)?,
                ))
            })
            .collect::<Result<Vec<_>>>()
            .context("reading groups")?;
        let mut groups = Vec::new();
        for (id, key, trigger, instructions) in rows {
            let findings = self.group_findings(id)?;
            if findings.is_empty() {
                continue;
            }
            groups.push(Group {
                id,
                key,
                trigger,
                instructions: instructions.split_whitespace().map(String::from).collect(),
                findings,
            });
        }
        groups.sort_by_key(|g| (!g.is_open(), -g.hits(), g.id));
        Ok(groups)
    }

    /// One group by id.
    pub fn group(&self, id: i64) -> Result<Option<Group>> {
        Ok(self.groups()?.into_iter().find(|g| g.id == id))
    }

    fn group_findings(&self, group: i64) -> Result<Vec<StoredFinding>> {
        self.findings_where(
            "WHERE group_id = ?1 AND merged_into IS NULL ORDER BY hits DESC, id",
            params![group],
        )
        .context("reading a group's findings")
    }

    /// Moves every finding of group `from` into group `into`, by hand.
    pub fn join_groups(&mut self, into: i64, from: i64) -> Result<()> {
        if into == from {
            bail!("group {into} cannot be joined with itself");
        }
        for id in [into, from] {
            if self.group(id)?.is_none() {
                bail!("no group {id} (`crosscheck group` lists them)");
            }
        }
        self.db.execute(
            "UPDATE findings SET group_id = ?1, grouped_by_hand = 1 WHERE group_id = ?2 OR group_id = ?1",
            params![into, from],
        )?;
        Ok(())
    }

    /// Takes finding `id` out of its group into a group of its own, by
    /// hand. Returns the new group.
    pub fn split_finding(&mut self, id: i64) -> Result<i64> {
        let finding = self.require_finding(id)?;
        let trigger = match finding.group.map(|g| self.group(g)).transpose()?.flatten() {
            Some(old) => format!("split by hand from group {}: {}", old.id, old.trigger),
            None => "grouped by hand".to_string(),
        };
        self.db
            .transaction(|tx| {
                let group: i64 = tx.value(
                    "INSERT INTO groups (key, trigger, instructions, created) VALUES (?1, ?2, '', ?3) RETURNING id",
                    params![
                        format!("by-hand:finding-{id}-{}", unix_now()),
                        trigger.as_str(),
                        unix_now()
                    ],
                )?;
                tx.execute(
                    "UPDATE findings SET group_id = ?2, grouped_by_hand = 1 WHERE id = ?1",
                    params![id, group],
                )?;
                Ok(group)
            })
            .context("splitting a finding off its group")
    }
}

#[cfg(test)]
mod tests {
    use super::super::database::temp_dir;
    use super::super::findings::Hit;
    use super::*;

    fn record(store: &mut Store, signature: &str) -> i64 {
        let hit = Hit {
            signature,
            kind: oracles::judge::kind::FindingKind::Mismatch,
            seed: Some(1),
            run: None,
            wasm: signature.as_bytes(),
            summary: "MISMATCH",
            suspect: Some("wasmi disagrees: suspect wasmi"),
            suppressed: false,
            now: 1,
            source: None,
        };
        store.record(&hit).unwrap().id
    }

    fn key(text: &str) -> GroupKey {
        GroupKey {
            key: text.into(),
            trigger: format!("trigger {text}"),
            instructions: vec!["select".into()],
        }
    }

    #[test]
    fn findings_with_one_key_share_a_group_and_decisions_by_hand_stick() {
        let dir = temp_dir("groups");
        let mut store = Store::open_dir(&dir).unwrap();
        let (a, b, c) = (
            record(&mut store, "mismatch call"),
            record(&mut store, "mismatch global"),
            record(&mut store, "mismatch memory"),
        );
        let ga = store.assign_group(a, &key("wasmi | select"), "{}").unwrap();
        assert_eq!(
            store.assign_group(b, &key("wasmi | select"), "{}").unwrap(),
            ga
        );
        let gc = store
            .assign_group(c, &key("wasmi | module x"), "{}")
            .unwrap();
        assert_ne!(ga, gc);
        let groups = store.groups().unwrap();
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].findings.len(), 2);
        assert!(groups[0].describe().starts_with(&format!(
            "group {ga}: 2 signature(s), 2 hits, suspect wasmi, trigger: trigger wasmi | select"
        )));
        // Split by hand: triage does not put it back.
        let own = store.split_finding(b).unwrap();
        assert_eq!(
            store.assign_group(b, &key("wasmi | select"), "{}").unwrap(),
            own
        );
        assert_eq!(store.group(ga).unwrap().unwrap().findings.len(), 1);
        // Joined by hand.
        store.join_groups(ga, gc).unwrap();
        assert_eq!(store.group(ga).unwrap().unwrap().findings.len(), 2);
        assert!(store.group(gc).unwrap().is_none());
        assert_eq!(
            store
                .assign_group(c, &key("wasmi | module x"), "{}")
                .unwrap(),
            ga
        );
        assert!(store.join_groups(ga, ga).is_err());
        assert!(store.join_groups(ga, 999).is_err());
    }
}
