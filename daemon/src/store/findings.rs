//! Findings: one row per signature, one hit row per seed, the first module
//! of each finding kept as an artifact.

use super::database::{seed_from_sql, seed_to_sql, Store};
use super::sql::{params, Db, Row, Value};
use anyhow::{Context, Result};
use oracles::judge::kind::FindingKind;

/// A finding as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredFinding {
    /// Row id, used on the command line.
    pub id: i64,
    /// Dedup key (see `oracles::Verdict::signature`).
    pub signature: String,
    /// What kind of finding it is.
    pub kind: FindingKind,
    /// Unix seconds of the first hit.
    pub first_seen: i64,
    /// Unix seconds of the latest hit.
    pub last_seen: i64,
    /// How many cases hit it.
    pub hits: i64,
    /// What a person (or triage) decided about it.
    pub status: Status,
    /// The seed of the first case that hit it, if it came from a seed.
    pub first_seed: Option<u64>,
    /// SHA-256 of the first module that hit it; the file is
    /// `artifacts/<hash>.wasm` under the store directory.
    pub artifact: String,
    /// The first case's verdict, as text.
    pub summary: String,
    /// SHA-256 of the shrunk module, once shrinking found one
    /// (`artifacts/<hash>.wasm`).
    pub shrunk: Option<String>,
    /// Its size in bytes.
    pub shrunk_size: Option<i64>,
    /// Who is probably wrong, in words.
    pub suspect: Option<String>,
    /// Re-runs that gave the signature (`3/3`: deterministic), once triaged.
    pub reproducible: Option<String>,
    /// The code shape of the shrunk module (`oracles::triage::code_shape`).
    pub shape: Option<String>,
    /// The finding this one was merged into (its status is then `merged`).
    pub merged_into: Option<i64>,
    /// Where the first module came from, when not generated from
    /// `first_seed` (which then only draws the call arguments).
    pub source: Option<String>,
    /// The shrunk module re-run with one setting of each suspected engine
    /// changed at a time: one line per change, once triaged.
    pub flips: Option<String>,
    /// The trigger fingerprint of the minimal module
    /// (`oracles::triage::trigger::Fingerprint`, as JSON), once triaged.
    pub fingerprint: Option<String>,
    /// The group of findings with its trigger, once triaged.
    pub group: Option<i64>,
}

impl StoredFinding {
    /// The signature its cases give: the stored one without the note that
    /// its hits lay outside another group's trigger ([`outside_trigger`]).
    pub fn case_signature(&self) -> &str {
        self.signature
            .rsplit_once(OUTSIDE_TRIGGER)
            .map_or(self.signature.as_str(), |(base, _)| base)
    }
}

/// What marks a signature recorded apart because its module lacks the
/// trigger of the group that signature belongs to.
const OUTSIDE_TRIGGER: &str = " [outside the trigger of group ";

/// The signature under which a hit of `signature` is recorded when its
/// module lacks the trigger of `group`.
pub fn outside_trigger(signature: &str, group: i64) -> String {
    format!("{signature}{OUTSIDE_TRIGGER}{group}]")
}

/// What a person decided about a finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Status {
    /// Needs attention.
    Open,
    /// Fixed upstream or in the engine under test.
    Fixed,
    /// Known and not worth attention.
    Ignored,
    /// Covered by a suppression rule of the config.
    Suppressed,
    /// The same bug as an older finding (same shrunk code shape and
    /// suspect); its hits now count there. Set by triage only.
    #[value(skip)]
    Merged,
}

impl Status {
    /// Every status, in the order they are shown.
    pub const ALL: [Status; 5] = [
        Status::Open,
        Status::Fixed,
        Status::Ignored,
        Status::Suppressed,
        Status::Merged,
    ];

    /// The status a stored word names; an error names a word no
    /// crosscheck writes (a store edited by hand, or corrupt).
    pub fn parse(word: &str) -> Result<Status> {
        Status::ALL
            .into_iter()
            .find(|s| s.as_str() == word)
            .with_context(|| format!("a finding's status is {word:?}, which is none of open, fixed, ignored, suppressed, merged"))
    }

    /// The stored word.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Fixed => "fixed",
            Status::Ignored => "ignored",
            Status::Suppressed => "suppressed",
            Status::Merged => "merged",
        }
    }
}

impl serde::Serialize for Status {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `pad`, so that widths in format strings apply.
        f.pad(self.as_str())
    }
}

/// One hit to record.
#[derive(Clone, Debug)]
pub struct Hit<'a> {
    /// Dedup key.
    pub signature: &'a str,
    /// What kind of finding it is.
    pub kind: FindingKind,
    /// The seed, if the case came from one.
    pub seed: Option<u64>,
    /// The daemon run that found it, if any.
    pub run: Option<i64>,
    /// The module.
    pub wasm: &'a [u8],
    /// What happened, as text.
    pub summary: &'a str,
    /// Who is probably wrong, in words.
    pub suspect: Option<&'a str>,
    /// A new finding starts `suppressed` (a rule in the config covers it)
    /// instead of `open`.
    pub suppressed: bool,
    /// Unix seconds.
    pub now: i64,
    /// Where the module came from, when not generated from `seed`.
    pub source: Option<&'a str>,
}

impl<'a> Hit<'a> {
    /// A hit of one of a case's findings (`oracles::pipeline::findings`),
    /// now; `suppressed` when a rule of `triage` covers it. Not from a run
    /// and not imported: set `run` or `source` for that.
    pub fn of_finding(
        finding: &'a oracles::Finding,
        triage: &oracles::triage::config::TriageConfig,
        seed: Option<u64>,
        wasm: &'a [u8],
    ) -> Hit<'a> {
        let suppressed = is_suppressed(finding, triage, wasm);
        Hit::judged(finding, seed, wasm, suppressed)
    }

    /// [`Hit::of_finding`] with the suppression already decided
    /// ([`is_suppressed`]).
    pub fn judged(
        finding: &'a oracles::Finding,
        seed: Option<u64>,
        wasm: &'a [u8],
        suppressed: bool,
    ) -> Hit<'a> {
        Hit {
            signature: &finding.signature,
            kind: finding.kind,
            seed,
            run: None,
            wasm,
            summary: &finding.summary,
            suspect: finding.suspect.as_deref(),
            suppressed,
            now: super::unix_now(),
            source: None,
        }
    }
}

/// Whether a rule of `triage` covers a finding of a case with module
/// `wasm`. A possible sandbox escape is never hidden behind a known bug.
pub fn is_suppressed(
    finding: &oracles::Finding,
    triage: &oracles::triage::config::TriageConfig,
    wasm: &[u8],
) -> bool {
    finding.kind != FindingKind::Breach
        && triage
            .suppression_for(&finding.signature, finding.suspect.as_deref(), wasm)
            .is_some()
}

/// What recording a hit did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Recorded {
    /// The finding's id.
    pub id: i64,
    /// Whether this hit created the finding.
    pub new: bool,
    /// Hits so far, this one included.
    pub hits: i64,
}

/// The signature a hit is recorded under. A hit of a grouped finding
/// whose module lacks the group's trigger may be another bug with the
/// same signature: it becomes a finding of its own, triaged on its own
/// (and grouped by its own trigger).
fn signature_of_hit(tx: &Db, hit: &Hit<'_>) -> Result<String> {
    let trigger: Option<(i64, String)> = tx
        .row(
            "SELECT g.id, g.instructions FROM findings s JOIN findings f ON f.id = coalesce(s.merged_into, s.id)
             JOIN groups g ON g.id = f.group_id WHERE s.signature = ?1 AND g.instructions != ''",
            params![hit.signature],
        )?
        .map(|row| Ok::<_, anyhow::Error>((row.get(0)?, row.get(1)?)))
        .transpose()?;
    Ok(trigger
        .filter(|(_, instructions)| !contains_all(hit.wasm, instructions))
        .map(|(group, _)| outside_trigger(hit.signature, group))
        .unwrap_or_else(|| hit.signature.to_string()))
}

/// `(id, hits)` of the finding a signature counts for (the one it was
/// merged into, if it was), locked for update.
fn finding_by_signature(tx: &Db, signature: &str) -> Result<Option<(i64, i64)>> {
    tx.row(
        &format!(
            "SELECT f.id, f.hits FROM findings s JOIN findings f ON f.id = coalesce(s.merged_into, s.id)
             WHERE s.signature = ?1{}",
            tx.for_update()
        ),
        params![signature],
    )?
    .map(|row| Ok((row.get(0)?, row.get(1)?)))
    .transpose()
}

/// A new finding of `hit` with its module `artifact`; `None` when another
/// daemon of the fleet created it first.
fn insert_finding(
    tx: &Db,
    hit: &Hit<'_>,
    signature: &str,
    seed: Option<i64>,
    artifact: &str,
) -> Result<Option<i64>> {
    let status = if hit.suppressed {
        Status::Suppressed
    } else {
        Status::Open
    };
    tx.row(
        "INSERT INTO findings (signature, kind, first_seen, last_seen, hits, first_seed, artifact, summary, suspect, status, source)
         VALUES (?1, ?2, ?3, ?3, 0, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (signature) DO NOTHING RETURNING id",
        params![
            signature,
            hit.kind.as_str(),
            hit.now,
            seed,
            artifact,
            hit.summary,
            hit.suspect,
            status.as_str(),
            hit.source
        ],
    )?
    .map(|row| row.get::<i64>(0))
    .transpose()
}

impl Store {
    /// Records one hit: a new finding for a new signature, otherwise one
    /// more hit of the existing one. A seed already recorded for the finding
    /// (a case re-run after the daemon was killed, or a range taken over
    /// from a dead daemon of the fleet) is not counted twice. A hit of a
    /// merged finding counts for the finding it was merged into. The
    /// module of a new finding is stored and the rows committed before
    /// this returns.
    pub fn record(&mut self, hit: &Hit<'_>) -> Result<Recorded> {
        self.db
            .transaction(|tx| {
                let signature = signature_of_hit(tx, hit)?;
                let signature = signature.as_str();
                let seed = hit.seed.map(seed_to_sql);
                let mut created = None;
                let mut found = finding_by_signature(tx, signature)?;
                if found.is_none() {
                    // Only a new finding keeps its module: later hits are
                    // seeds. In a fleet, another daemon may create the same
                    // finding meanwhile: the insert is then skipped and its
                    // row read back, so both hits count on one finding.
                    let hash = self.write_module(hit.wasm)?;
                    created = insert_finding(tx, hit, signature, seed, hash.as_str())?;
                    found = match created {
                        Some(id) => Some((id, 0)),
                        None => finding_by_signature(tx, signature)?,
                    };
                }
                let (id, hits) =
                    found.context("a finding vanished while its hit was recorded")?;
                let inserted = tx.execute(
                    "INSERT INTO hits (finding, seed, run, at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                    params![id, seed, hit.run, hit.now],
                )?;
                if inserted == 1 {
                    tx.execute(
                        "UPDATE findings SET hits = hits + 1, last_seen = ?2 WHERE id = ?1",
                        params![id, hit.now],
                    )?;
                    forget_flakiness(tx, id)?;
                }
                let new = created.is_some();
                if let (Some(run), true, false) = (hit.run, new, hit.suppressed) {
                    tx.execute(
                        "UPDATE runs SET new_findings = new_findings + 1 WHERE id = ?1",
                        params![run],
                    )?;
                }
                Ok(Recorded {
                    id,
                    new,
                    hits: hits + inserted as i64,
                })
            })
            .context("committing a finding")
    }

    /// How many findings the store holds.
    pub fn finding_count(&self) -> Result<u64> {
        self.db
            .value::<i64>("SELECT count(*) FROM findings", &[])
            .map(|n| n as u64)
            .context("counting findings")
    }

    /// All findings, most severe kind first ([`severity`]), then most hit.
    pub fn findings(&self) -> Result<Vec<StoredFinding>> {
        self.findings_where(&format!("ORDER BY {}, hits DESC, id", severity()), &[])
            .context("reading findings")
    }

    /// The findings `SELECT_FINDING` followed by `rest` gives.
    pub(super) fn findings_where(
        &self,
        rest: &str,
        params: &[Value],
    ) -> Result<Vec<StoredFinding>> {
        self.db
            .rows(&format!("{SELECT_FINDING} {rest}"), params)?
            .iter()
            .map(finding_from_row)
            .collect()
    }

    /// One finding by id.
    pub fn finding(&self, id: i64) -> Result<Option<StoredFinding>> {
        Ok(self
            .findings_where("WHERE id = ?1", params![id])
            .context("reading a finding")?
            .into_iter()
            .next())
    }

    /// Stores a shrunk module and its code shape for a finding (kept only
    /// if smaller than the one it has).
    pub fn set_shrunk(&mut self, id: i64, wasm: &[u8], shape: Option<&str>) -> Result<bool> {
        let hash = self.write_module(wasm)?;
        let changed = self
            .db
            .execute(
                "UPDATE findings SET shrunk = ?2, shrunk_size = ?3, shape = ?4
                 WHERE id = ?1 AND (shrunk_size IS NULL OR shrunk_size > ?3)",
                params![id, hash, wasm.len() as i64, shape],
            )
            .context("recording a shrunk module")?;
        Ok(changed == 1)
    }

    /// Records the configuration flips of a finding, one per line.
    pub fn set_flips(&mut self, id: i64, flips: &[String]) -> Result<()> {
        self.db
            .execute(
                "UPDATE findings SET flips = ?2 WHERE id = ?1",
                params![id, flips.join("\n")],
            )
            .context("recording configuration flips")?;
        Ok(())
    }

    /// Records the code shape of a finding's shrunk module.
    pub fn set_shape(&mut self, id: i64, shape: &str) -> Result<()> {
        self.db
            .execute(
                "UPDATE findings SET shape = ?2 WHERE id = ?1",
                params![id, shape],
            )
            .context("recording a code shape")?;
        Ok(())
    }

    /// Merges the finding with the oldest other finding of the same kind,
    /// status and shrunk code shape that suspects the same party (the
    /// attributions may differ in how many engines took part), if there is
    /// one: the newer of the two becomes `merged`, and its hits move to the
    /// older, which adds them to its count and widens its first and last
    /// seen. Returns `(merged, into)`.
    pub fn merge_same_shape(&mut self, id: i64) -> Result<Option<(i64, i64)>> {
        self.db
            .transaction(|tx| {
                let own: Option<Option<String>> = tx
                    .row(
                        "SELECT suspect FROM findings WHERE id = ?1 AND shape IS NOT NULL AND merged_into IS NULL",
                        params![id],
                    )?
                    .map(|row| row.get(0))
                    .transpose()?;
                let Some(own) = own else {
                    return Ok(None);
                };
                let party = |suspect: &Option<String>| {
                    suspect
                        .as_deref()
                        .map(oracles::judge::attribution::suspected_party)
                        .map(str::to_string)
                };
                let candidates = tx
                    .rows(
                        "SELECT o.id, o.suspect FROM findings f JOIN findings o
                           ON o.shape = f.shape AND o.kind = f.kind AND o.status = f.status AND o.id != f.id
                         WHERE f.id = ?1 AND o.merged_into IS NULL ORDER BY o.id",
                        params![id],
                    )?
                    .iter()
                    .map(|row| Ok((row.get::<i64>(0)?, row.get::<Option<String>>(1)?)))
                    .collect::<Result<Vec<_>>>()
                    .context("looking for a finding of the same shape")?;
                let Some(twin) = candidates
                    .into_iter()
                    .find(|(_, suspect)| party(suspect) == party(&own))
                    .map(|(twin, _)| twin)
                else {
                    return Ok(None);
                };
                let (from, into) = (id.max(twin), id.min(twin));
                // A seed counted for both stays with the older finding only.
                let moved = tx.execute(
                    "UPDATE hits SET finding = ?2 WHERE finding = ?1
                       AND (seed IS NULL OR seed NOT IN (SELECT seed FROM hits WHERE finding = ?2 AND seed IS NOT NULL))",
                    params![from, into],
                )?;
                tx.execute(
                    "UPDATE findings SET hits = hits + ?3,
                        first_seen = CASE WHEN first_seen < (SELECT first_seen FROM findings WHERE id = ?1)
                            THEN first_seen ELSE (SELECT first_seen FROM findings WHERE id = ?1) END,
                        last_seen = CASE WHEN last_seen > (SELECT last_seen FROM findings WHERE id = ?1)
                            THEN last_seen ELSE (SELECT last_seen FROM findings WHERE id = ?1) END
                     WHERE id = ?2",
                    params![from, into, moved as i64],
                )?;
                tx.execute(
                    "UPDATE findings SET status = ?3, merged_into = ?2 WHERE id = ?1 OR merged_into = ?1",
                    params![from, into, Status::Merged.as_str()],
                )?;
                Ok(Some((from, into)))
            })
            .context("committing a merge")
    }

    /// The findings merged into this one, oldest first.
    pub fn merged_from(&self, id: i64) -> Result<Vec<StoredFinding>> {
        self.findings_where("WHERE merged_into = ?1 ORDER BY id", params![id])
            .context("reading merged findings")
    }

    /// Records how reproducible a finding is (`3/3`) or why triage failed.
    /// A finding that reproduced in fewer runs than it was run is flaky
    /// ([`is_flaky`]): it is measured again when it is hit again.
    pub fn set_reproducibility(&mut self, id: i64, text: &str) -> Result<()> {
        self.db
            .execute(
                "UPDATE findings SET reproducible = ?2 WHERE id = ?1",
                params![id, text],
            )
            .context("recording reproducibility")?;
        Ok(())
    }

    /// Claims the most urgent open finding that nobody triaged and nobody
    /// is triaging (a claim runs out at `until`, so one left by a dead
    /// daemon is taken again): background triage happens once in a
    /// fleet. On SQLite, with one daemon, claims are recorded but not
    /// waited for.
    pub fn claim_untriaged(
        &mut self,
        claimant: &str,
        now: i64,
        until: i64,
    ) -> Result<Option<StoredFinding>> {
        let alone = !self.is_shared();
        let claimed = self
            .db
            .transaction(|tx| {
                let id = tx
                    .row(
                        &format!(
                            "SELECT id FROM findings WHERE status = 'open' AND reproducible IS NULL
                               AND (?3 = 1 OR claimed_until IS NULL OR claimed_until < ?1 OR claimed_by = ?2)
                             ORDER BY {}, hits DESC, id LIMIT 1{}",
                            severity(),
                            tx.skip_locked()
                        ),
                        params![now, claimant, alone],
                    )?
                    .map(|row| row.get::<i64>(0))
                    .transpose()?;
                if let Some(id) = id {
                    tx.execute(
                        "UPDATE findings SET claimed_by = ?2, claimed_until = ?3 WHERE id = ?1",
                        params![id, claimant, until],
                    )?;
                }
                Ok(id)
            })
            .context("claiming a finding to triage")?;
        claimed.map(|id| self.require_finding(id)).transpose()
    }

    /// Gives up the claims of `claimant` on findings it did not finish
    /// triaging (it stops): others take them at once. Returns their ids.
    pub fn release_claims(&mut self, claimant: &str) -> Result<Vec<i64>> {
        self.db
            .rows(
                "UPDATE findings SET claimed_by = NULL, claimed_until = NULL
                 WHERE claimed_by = ?1 AND reproducible IS NULL RETURNING id",
                params![claimant],
            )
            .context("giving up triage claims")?
            .iter()
            .map(|row| row.get(0))
            .collect()
    }

    /// Sets a finding's status; false if there is no such finding.
    pub fn set_status(&mut self, id: i64, status: Status) -> Result<bool> {
        let changed = self
            .db
            .execute(
                "UPDATE findings SET status = ?2 WHERE id = ?1",
                params![id, status.as_str()],
            )
            .context("changing a finding's status")?;
        Ok(changed == 1)
    }

    /// One finding by id, or an error naming the id and the store.
    pub fn require_finding(&self, id: i64) -> Result<StoredFinding> {
        self.finding(id)?
            .with_context(|| format!("no finding {id} in {}", self.location()))
    }

    /// The seeds of a finding's hits, oldest first, at most `limit`.
    pub fn hit_seeds(&self, finding: i64, limit: usize) -> Result<Vec<u64>> {
        self.db
            .rows(
                "SELECT seed FROM hits WHERE finding = ?1 AND seed IS NOT NULL ORDER BY rowid LIMIT ?2",
                params![finding, limit as i64],
            )?
            .iter()
            .map(|row| row.get::<i64>(0).map(seed_from_sql))
            .collect::<Result<Vec<_>>>()
            .context("reading the hits of a finding")
    }
}

/// SQL ordering findings by the urgency of their kind
/// ([`FindingKind::urgency`]): possible sandbox escapes, process deaths,
/// wrong results, refusals, then resource blowups.
fn severity() -> String {
    let cases: String = FindingKind::ALL
        .iter()
        .map(|kind| format!(" WHEN '{}' THEN {}", kind.as_str(), kind.urgency()))
        .collect();
    format!("CASE kind{cases} ELSE {} END", u8::MAX)
}

/// Whether `wasm`'s code has every instruction of `instructions`
/// (space-separated names as WAT spells them).
fn contains_all(wasm: &[u8], instructions: &str) -> bool {
    let Ok(counts) = oracles::case::instructions::histogram(wasm) else {
        return false;
    };
    instructions
        .split_whitespace()
        .all(|name| counts.keys().any(|k| *k == name))
}

pub(super) const SELECT_FINDING: &str =
    "SELECT id, signature, kind, first_seen, last_seen, hits, status, first_seed, artifact, summary, shrunk, shrunk_size, suspect, reproducible, shape, merged_into, source, flips, fingerprint, group_id FROM findings";

pub(super) fn finding_from_row(row: &Row) -> Result<StoredFinding> {
    Ok(StoredFinding {
        id: row.get(0)?,
        signature: row.get(1)?,
        kind: FindingKind::parse(&row.get::<String>(2)?)
            .context("a finding of the store has a kind crosscheck never writes")?,
        first_seen: row.get(3)?,
        last_seen: row.get(4)?,
        hits: row.get(5)?,
        status: Status::parse(&row.get::<String>(6)?)?,
        first_seed: row.get::<Option<i64>>(7)?.map(seed_from_sql),
        artifact: row.get(8)?,
        summary: row.get(9)?,
        shrunk: row.get(10)?,
        shrunk_size: row.get(11)?,
        suspect: row.get(12)?,
        reproducible: row.get(13)?,
        shape: row.get(14)?,
        merged_into: row.get(15)?,
        source: row.get(16)?,
        flips: row.get(17)?,
        fingerprint: row.get(18)?,
        group: row.get(19)?,
    })
}

/// Whether a triage result (`reproducible`: `2/3`, or why triage failed)
/// says the finding gave its signature in fewer re-runs than were made:
/// a flaky finding, judged by the gate's own share rule rather than as an
/// open bug, and measured again when it is hit again.
pub fn is_flaky(reproducible: Option<&str>) -> bool {
    reproducible
        .and_then(|r| r.split_once('/'))
        .and_then(|(k, n)| Some((k.parse::<u32>().ok()?, n.parse::<u32>().ok()?)))
        .is_some_and(|(reproduced, runs)| reproduced < runs)
}

/// A flaky finding hit again is triaged again: its reproducibility is
/// forgotten, so the background triage claims it.
fn forget_flakiness(tx: &Db, id: i64) -> Result<()> {
    let reproducible: Option<String> = tx
        .row(
            "SELECT reproducible FROM findings WHERE id = ?1",
            params![id],
        )?
        .map(|row| row.get::<Option<String>>(0))
        .transpose()?
        .flatten();
    if is_flaky(reproducible.as_deref()) {
        tx.execute(
            "UPDATE findings SET reproducible = NULL WHERE id = ?1",
            params![id],
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::database::temp_dir;
    use super::*;

    #[test]
    fn statuses_read_back_and_a_word_no_crosscheck_writes_is_named() {
        for status in Status::ALL {
            assert_eq!(Status::parse(status.as_str()).unwrap(), status);
            assert_eq!(
                format!("{status:<10}|"),
                format!("{:<10}|", status.as_str())
            );
        }
        let err = Status::parse("opne").unwrap_err();
        assert!(format!("{err:#}").contains("\"opne\""), "{err:#}");
    }

    fn hit<'a>(signature: &'a str, seed: u64, wasm: &'a [u8], now: i64) -> Hit<'a> {
        Hit {
            signature,
            kind: FindingKind::Mismatch,
            seed: Some(seed),
            run: None,
            wasm,
            summary: "MISMATCH at call #0",
            suspect: Some("wasmi alone disagrees with four Wasmtime variants: suspect wasmi"),
            suppressed: false,
            now,
            source: None,
        }
    }

    #[test]
    fn one_bug_hit_many_times_is_one_finding_and_others_are_separate() {
        let dir = temp_dir("dedup");
        let mut store = Store::open_dir(&dir).unwrap();
        let first = store
            .record(&hit("mismatch a", 7, b"\0asm-a", 100))
            .unwrap();
        assert_eq!(
            first,
            Recorded {
                id: first.id,
                new: true,
                hits: 1
            }
        );
        for n in 2..=1000 {
            let again = store
                .record(&hit("mismatch a", 7 + n as u64, b"\0asm-x", 100 + n))
                .unwrap();
            assert_eq!(
                again,
                Recorded {
                    id: first.id,
                    new: false,
                    hits: n
                }
            );
        }
        let other = store.record(&hit("crash b", 3, b"\0asm-b", 5000)).unwrap();
        assert!(other.new && other.id != first.id);
        let findings = store.findings().unwrap();
        assert_eq!(findings.len(), 2);
        let a = &findings[0];
        assert_eq!(
            (a.hits, a.first_seed, a.first_seen, a.last_seen),
            (1000, Some(7), 100, 1100)
        );
        // The first module is the one kept, under its hash; later hits
        // write nothing.
        assert_eq!(
            std::fs::read(store.artifact_path(&a.artifact)).unwrap(),
            b"\0asm-a"
        );
        assert_eq!(std::fs::read_dir(dir.join("artifacts")).unwrap().count(), 2);
        assert_eq!(store.hit_seeds(first.id, 3).unwrap(), [7, 9, 10]);
        assert_eq!(
            store.finding(other.id).unwrap().unwrap().signature,
            "crash b"
        );
        assert!(store.finding(9999).unwrap().is_none());
    }

    #[test]
    fn a_seed_rerun_after_a_kill_is_not_counted_twice() {
        let dir = temp_dir("idempotent");
        let mut store = Store::open_dir(&dir).unwrap();
        store.record(&hit("s", 1, b"m", 1)).unwrap();
        store.record(&hit("s", 2, b"m", 2)).unwrap();
        let again = store.record(&hit("s", 2, b"m", 3)).unwrap();
        assert_eq!((again.new, again.hits), (false, 2));
        assert_eq!(store.findings().unwrap()[0].hits, 2);
        // Hits without a seed (a user's module) are all counted.
        let mut unseeded = hit("t", 0, b"n", 4);
        unseeded.seed = None;
        store.record(&unseeded).unwrap();
        assert_eq!(store.record(&unseeded).unwrap().hits, 2);
    }

    #[test]
    fn a_flaky_finding_hit_again_is_measured_again() {
        assert!(is_flaky(Some("0/3")) && is_flaky(Some("2/3")));
        assert!(!is_flaky(Some("3/3")) && !is_flaky(Some("error: no worker")) && !is_flaky(None));
        let dir = temp_dir("flaky");
        let mut store = Store::open_dir(&dir).unwrap();
        let flaky = store.record(&hit("s", 1, b"m", 1)).unwrap().id;
        let steady = store.record(&hit("t", 2, b"n", 1)).unwrap().id;
        store.set_reproducibility(flaky, "1/3").unwrap();
        store.set_reproducibility(steady, "3/3").unwrap();
        store.record(&hit("s", 3, b"m", 2)).unwrap();
        store.record(&hit("t", 4, b"n", 2)).unwrap();
        let reproducible = |id| store.finding(id).unwrap().unwrap().reproducible;
        // Triage claims it again; a finding that reproduced keeps its result.
        assert_eq!(reproducible(flaky), None);
        assert_eq!(reproducible(steady).as_deref(), Some("3/3"));
    }

    #[test]
    fn shrunk_modules_only_get_smaller_and_status_changes_stick() {
        let dir = temp_dir("shrunk");
        let mut store = Store::open_dir(&dir).unwrap();
        let id = store.record(&hit("s", 1, b"0123456789", 1)).unwrap().id;
        assert!(store.set_shrunk(id, b"01234", Some("shape")).unwrap());
        assert!(!store.set_shrunk(id, b"0123456", Some("other")).unwrap());
        let f = store.finding(id).unwrap().unwrap();
        assert_eq!(
            std::fs::read(store.artifact_path(f.shrunk.as_deref().unwrap())).unwrap(),
            b"01234"
        );
        assert_eq!(f.shape.as_deref(), Some("shape"));
        assert!(store.set_status(id, Status::Fixed).unwrap());
        assert!(!store.set_status(id + 1, Status::Fixed).unwrap());
        assert_eq!(
            Store::open_dir(&dir)
                .unwrap()
                .finding(id)
                .unwrap()
                .unwrap()
                .status,
            Status::Fixed
        );
    }

    #[test]
    fn findings_of_one_shape_merge_into_the_oldest_keeping_hits_and_history() {
        let dir = temp_dir("merge");
        let mut store = Store::open_dir(&dir).unwrap();
        let a = store.record(&hit("mismatch call", 1, b"a", 10)).unwrap().id;
        store.record(&hit("mismatch call", 2, b"a", 20)).unwrap();
        let b = store
            .record(&hit("mismatch instantiate", 3, b"b", 5))
            .unwrap()
            .id;
        store
            .record(&hit("mismatch instantiate", 4, b"b", 30))
            .unwrap();
        store
            .record(&hit("mismatch instantiate", 5, b"b", 31))
            .unwrap();
        let mut other_suspect = hit("mismatch memory", 6, b"c", 7);
        other_suspect.suspect =
            Some("only the explicit-checks variants disagree: suspect Cranelift's explicit checks");
        let mut fewer_engines = hit("mismatch global", 7, b"d", 50);
        fewer_engines.suspect =
            Some("wasmi alone disagrees with two Wasmtime variants: suspect wasmi");
        let d = store.record(&fewer_engines).unwrap().id;
        let c = store.record(&other_suspect).unwrap().id;
        // Nothing to merge with until a twin is shrunk to the same shape.
        store.set_shrunk(b, b"s", Some("div-shape")).unwrap();
        assert_eq!(store.merge_same_shape(b).unwrap(), None);
        store.set_shrunk(c, b"s", Some("div-shape")).unwrap();
        assert_eq!(store.merge_same_shape(c).unwrap(), None, "another suspect");
        store.set_shrunk(a, b"s2", Some("div-shape")).unwrap();
        // Whichever is shrunk last, the newer one merges into the older.
        assert_eq!(store.merge_same_shape(a).unwrap(), Some((b, a)));
        let (fa, fb) = (
            store.finding(a).unwrap().unwrap(),
            store.finding(b).unwrap().unwrap(),
        );
        assert_eq!((fa.hits, fa.first_seen, fa.last_seen), (5, 5, 31));
        assert_eq!(fa.status, Status::Open);
        assert_eq!(
            (fb.status.as_str(), fb.merged_into, fb.hits),
            ("merged", Some(a), 3)
        );
        assert_eq!(store.hit_seeds(a, 10).unwrap(), [1, 2, 3, 4, 5]);
        assert_eq!(store.merged_from(a).unwrap(), vec![fb]);
        // A new hit of the merged signature counts for the survivor, once.
        let again = store
            .record(&hit("mismatch instantiate", 9, b"b", 40))
            .unwrap();
        assert_eq!((again.id, again.new, again.hits), (a, false, 6));
        assert_eq!(
            store
                .record(&hit("mismatch instantiate", 9, b"b", 41))
                .unwrap()
                .hits,
            6
        );
        assert_eq!(store.merge_same_shape(b).unwrap(), None, "already merged");
        // The same suspect, counted against fewer engines, is the same bug.
        store.set_shrunk(d, b"s3", Some("div-shape")).unwrap();
        assert_eq!(store.merge_same_shape(d).unwrap(), Some((d, a)));
        assert_eq!(store.finding(a).unwrap().unwrap().hits, 7);
        assert_eq!(store.findings().unwrap().len(), 4);
    }

    #[test]
    fn findings_survive_reopening() {
        let dir = temp_dir("reopen");
        let id = Store::open_dir(&dir)
            .unwrap()
            .record(&hit("s", 1, b"m", 1))
            .unwrap()
            .id;
        let store = Store::open_dir_existing(&dir).unwrap();
        assert_eq!(store.finding(id).unwrap().unwrap().hits, 1);
    }
}
