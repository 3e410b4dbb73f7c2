//! Helpers shared by the end-to-end tests of the daemon and triage.
#![allow(dead_code)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("crosscheck-daemon-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A config file in `dir` with the given engines and `[daemon]` lines; the
/// store is `dir/data`. No dashboard: tests run daemons side by side.
pub fn config(dir: &Path, engines: &[&str], daemon: &str, log: &str) -> PathBuf {
    let engines: Vec<String> = engines.iter().map(|e| format!("{e:?}")).collect();
    let text = format!(
        "[matrix]\noracle = \"wasmi\"\nengines = [{}]\n[store]\ndata_dir = {:?}\n[daemon]\n{daemon}\n[log]\n{log}\n[dashboard]\naddress = \"\"\n",
        engines.join(", "),
        dir.join("data").display().to_string(),
    );
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Writes `wat` to `dir/name` and returns the path.
pub fn module(dir: &Path, name: &str, wat: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, wat).unwrap();
    path
}

pub fn crosscheck(config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_crosscheck"))
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .expect("running crosscheck")
}

pub fn spawn(config: &Path, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_crosscheck"))
        .arg("--config")
        .arg(config)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting crosscheck")
}

/// The id of the first finding `import` printed (`... finding 3: ...`).
pub fn finding_id(imported: &str) -> String {
    imported
        .split("finding ")
        .nth(1)
        .and_then(|rest| rest.split([':', ' ']).next())
        .unwrap_or_else(|| panic!("no finding id in {imported}"))
        .to_string()
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub fn status(config: &Path) -> Value {
    let out = crosscheck(config, &["status", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("status --json is JSON")
}

pub fn counter(status: &Value, engine: &str, name: &str) -> u64 {
    status["counters"][engine][name].as_u64().unwrap_or(0)
}

pub fn findings(status: &Value) -> Vec<Value> {
    status["findings"].as_array().unwrap().clone()
}

/// Every seed below the cursor is either counted or still pending, and every
/// hit of a finding is a counted case with that verdict, or one of the
/// pending seeds (a hit is recorded at once, its case counted when its
/// range is checkpointed; a resumed run finishes the range without
/// counting the hit again).
pub fn assert_consistent(status: &Value) {
    assert_consistent_from(status, 0);
}

/// [`assert_consistent`] for a store whose first seed is `first_seed`.
pub fn assert_consistent_from(status: &Value, first_seed: u64) {
    let cases = counter(status, "*", "cases");
    let unfinished = status["unfinished_seeds"].as_u64().unwrap();
    assert_eq!(
        first_seed + cases + unfinished,
        status["next_seed"].as_u64().unwrap(),
        "{status:#}"
    );
    let mut hits_by_kind = std::collections::BTreeMap::<String, u64>::new();
    for f in findings(status) {
        *hits_by_kind
            .entry(f["kind"].as_str().unwrap().to_string())
            .or_default() += f["hits"].as_u64().unwrap();
    }
    for (kind, hits) in hits_by_kind {
        // Cost findings are counted as `blowup:<kind>` (a case killed while
        // compiling also as its verdict); a case can hold later
        // disagreements that blame someone else: findings of their own.
        let counted = if ["compile-time", "compile-memory", "perf"].contains(&kind.as_str()) {
            counter(status, "*", &format!("blowup:{kind}"))
        } else {
            counter(status, "*", &format!("verdict:{kind}"))
                + counter(status, "*", &format!("later:{kind}"))
        };
        assert!(
            counted <= hits && hits <= counted + unfinished,
            "{hits} hits of {kind} findings, {counted} counted, {unfinished} pending: {status:#}"
        );
    }
}

pub fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}
pub mod postgres;

/// A child process killed when the test ends, passed or not.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The address `crosscheck serve` printed it listens on (its first line).
pub fn dashboard_address(child: &mut Child) -> String {
    use std::io::BufRead;
    let stdout = child.stdout.take().unwrap();
    let mut lines = std::io::BufReader::new(stdout).lines();
    let line = lines.next().expect("serve prints its address").unwrap();
    line.split("http://")
        .nth(1)
        .map(|rest| rest.split(['/', ' ']).next().unwrap().to_string())
        .unwrap_or_else(|| panic!("no address in {line}"))
}
