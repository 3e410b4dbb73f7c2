//! Hostile modules and careless operators: a module's export names reach
//! every command line crosscheck prints for a person to paste (report,
//! bundle, finding.json, repro.sh, the dashboard) quoted for the shell, so
//! that the name arrives byte for byte and nothing else runs; bad numbers
//! in the configuration and on the command line are refused by name; a
//! daemon stopped twice or killed leaves its run recorded as killed; a
//! read-only store can be read; small mistakes get clear answers.

mod common;

use common::*;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Names that would run a command, split a word, start an option or end a
/// comment if pasted carelessly.
const HOSTILE_NAMES: &[&str] = &[
    "x$(touch PWNED)",
    "`touch PWNED`",
    "a'b\"c\\d",
    "new\nline; touch PWNED #",
    "-leading",
    "semi; touch PWNED && echo",
    "tab\there *",
];

/// `name` as a WAT string literal: every byte escaped as `\hh`.
fn wat_string(name: &str) -> String {
    let escaped: String = name.bytes().map(|b| format!("\\{b:02x}")).collect();
    format!("\"{escaped}\"")
}

/// A module whose one export, named `name`, divides 1 by `0 * 5`: a trap
/// on wasmi, a value on `wasmi-fault-i64-mul` (multiplication as addition).
fn module_named(name: &str) -> String {
    format!(
        "(module (func (export {}) (result i32)
            i32.const 1
            i64.const 0 i64.const 5 i64.mul i32.wrap_i64
            i32.div_s))",
        wat_string(name)
    )
}

/// A directory holding a `wasmtime` that records its arguments
/// (NUL-separated) in `$STUB_OUT` and does nothing else.
fn stub_wasmtime(dir: &Path) -> PathBuf {
    let bin = dir.join("stub-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let script = bin.join("wasmtime");
    std::fs::write(
        &script,
        "#!/bin/sh\n: > \"$STUB_OUT\"\nfor a in \"$@\"; do printf '%s\\0' \"$a\" >> \"$STUB_OUT\"; done\n",
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

/// Runs `line` in `sh` in a fresh directory with the stub first on PATH;
/// returns the arguments the stub got, and asserts that nothing else ran
/// (no file but the stub's record appeared).
fn run_pasted(line: &str, bin: &Path, scratch: &Path) -> Vec<String> {
    let _ = std::fs::remove_dir_all(scratch);
    std::fs::create_dir_all(scratch).unwrap();
    let record = scratch.join("args");
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let status = Command::new("sh")
        .arg("-c")
        .arg(line)
        .current_dir(scratch)
        .env("PATH", path)
        .env("STUB_OUT", &record)
        .status()
        .unwrap();
    assert!(status.success(), "{line:?} failed: {status}");
    let files: Vec<String> = std::fs::read_dir(scratch)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        files,
        vec!["args".to_string()],
        "{line:?} ran something else"
    );
    let bytes = std::fs::read(&record).expect("the stub ran");
    bytes
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8(a.to_vec()).unwrap())
        .collect()
}

/// The `wasmtime run` lines of a report's text.
fn wasmtime_lines(report: &str) -> Vec<String> {
    // A quoted name may hold a newline: a command ends where the shell's
    // quotes close, found by joining lines until it splits into words.
    let mut lines = Vec::new();
    let mut current: Option<String> = None;
    for line in report.lines() {
        match current.as_mut() {
            Some(open) => {
                open.push('\n');
                open.push_str(line);
            }
            None if line.starts_with("wasmtime run ") => current = Some(line.to_string()),
            None => continue,
        }
        if shlex::split(current.as_ref().unwrap()).is_some() {
            lines.push(current.take().unwrap());
        }
    }
    lines
}

#[test]
fn hostile_export_names_arrive_byte_for_byte_in_every_printed_command() {
    let dir = temp_dir("hostile-names");
    let bin = stub_wasmtime(&dir);
    for (i, name) in HOSTILE_NAMES.iter().enumerate() {
        let case = dir.join(format!("case-{i}"));
        std::fs::create_dir_all(&case).unwrap();
        let config = config(
            &case,
            &["wasmi-fault-i64-mul", "cranelift-tail-signals"],
            "",
            "",
        );
        let file = module(&case, "hostile.wat", &module_named(name));
        let import = crosscheck(&config, &["import", "--no-shrink", file.to_str().unwrap()]);
        assert_eq!(
            import.status.code(),
            Some(0),
            "{name:?}: {}{}",
            text(&import.stdout),
            text(&import.stderr)
        );
        assert!(text(&import.stdout).contains("new finding 1"), "{name:?}");
        let invoke = format!("--invoke={name}");
        let arrives = |line: &str, module: &str, origin: &str| {
            let args = run_pasted(line, &bin, &case.join("scratch"));
            assert_eq!(args.first().map(String::as_str), Some("run"), "{origin}");
            assert!(
                args.contains(&invoke),
                "{origin}: {name:?} became {args:?} in {line:?}"
            );
            assert_eq!(
                args.last().map(String::as_str),
                Some(module),
                "{origin}: {args:?}"
            );
        };

        let report = text(&crosscheck(&config, &["report", "1"]).stdout);
        let lines = wasmtime_lines(&report);
        assert!(!lines.is_empty(), "{report}");
        for line in &lines {
            arrives(line, "finding-1.wasm", "report");
        }

        let bundle = case.join("bundle");
        let written = crosscheck(&config, &["bundle", "1", "--out", bundle.to_str().unwrap()]);
        assert_eq!(written.status.code(), Some(0), "{}", text(&written.stderr));
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(bundle.join("finding.json")).unwrap()).unwrap();
        for command in json["commands"]["wasmtime"].as_array().unwrap() {
            arrives(
                command["command"].as_str().unwrap(),
                "original.wasm",
                "finding.json",
            );
        }
        let markdown = std::fs::read_to_string(bundle.join("report.md")).unwrap();
        for line in wasmtime_lines(&markdown) {
            arrives(&line, "original.wasm", "report.md");
        }
        // repro.sh: its commented lines stay comments; it runs crosscheck
        // (a stub here) and nothing else.
        let repro = std::fs::read_to_string(bundle.join("repro.sh")).unwrap();
        let record = case.join("repro-args");
        let stub = case.join("crosscheck-stub");
        std::fs::write(
            &stub,
            format!(
                "#!/bin/sh\nprintf '%s\\n' \"$@\" > {:?}\n",
                record.display().to_string()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&stub, std::fs::Permissions::from_mode(0o755)).unwrap();
        let ran = Command::new("sh")
            .arg(bundle.join("repro.sh"))
            .env("CROSSCHECK", &stub)
            .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
            .current_dir(&case)
            .output()
            .unwrap();
        assert!(ran.status.success(), "{repro}\n{}", text(&ran.stderr));
        assert!(record.exists(), "repro.sh ran crosscheck: {repro}");
        assert!(
            !case.join("PWNED").exists() && !bundle.join("PWNED").exists(),
            "{repro}"
        );

        // The dashboard's finding shows the same commands.
        let mut serve = KillOnDrop(spawn(&config, &["serve", "--address", "127.0.0.1:0"]));
        let address = dashboard_address(&mut serve.0);
        let api: serde_json::Value = serde_json::from_str(
            &ureq::get(format!("http://{address}/api/findings/1"))
                .call()
                .unwrap()
                .into_body()
                .read_to_string()
                .unwrap(),
        )
        .unwrap();
        let commands = api["commands"].as_array().unwrap();
        let wasmtime: Vec<&str> = commands
            .iter()
            .filter_map(|c| c[1].as_str())
            .filter(|c| c.starts_with("wasmtime run"))
            .collect();
        assert!(!wasmtime.is_empty(), "{api:#}");
        for line in wasmtime {
            arrives(line, "finding-1.wasm", "dashboard");
        }
        assert!(!dir.join("PWNED").exists());
    }
}

/// `crosscheck` with `config` and `args`: exit code and stderr.
fn refused(config: &Path, args: &[&str]) -> (Option<i32>, String) {
    let out = crosscheck(config, args);
    (out.status.code(), text(&out.stderr))
}

#[test]
fn numbers_out_of_range_are_refused_with_their_key_and_range() {
    let dir = temp_dir("hostile-numbers");
    let cores = std::thread::available_parallelism().unwrap().get();
    for (section, line, said) in [
        (
            "daemon",
            "workers = 100000",
            "daemon.workers must be between 0 (one per core) and",
        ),
        (
            "generator",
            "entropy_bytes = 18446744073709551615",
            "generator.entropy_bytes must be between 1024 and 16777216",
        ),
        (
            "generator",
            "entropy_bytes = 0",
            "generator.entropy_bytes must be between 1024",
        ),
        (
            "generator",
            "max_funcs = 0",
            "generator.max_funcs must be between 1",
        ),
        (
            "execution",
            "calls_per_export = 1000000000",
            "execution.calls_per_export must be between 1 and 100",
        ),
        (
            "generator.stack",
            "share = 7.5",
            "generator.stack.share must be between 0 and 1, got 7.5",
        ),
        (
            "daemon",
            "known_hang_secs = 60",
            "daemon.known_hang_secs must be between 1 and 30",
        ),
    ] {
        let config = config(&dir, &["cranelift-tail-signals"], "", "");
        let mut text_of = std::fs::read_to_string(&config).unwrap();
        // The section may exist already ([daemon]): append a new key to it.
        text_of = if text_of.contains(&format!("[{section}]\n")) {
            text_of.replace(&format!("[{section}]\n"), &format!("[{section}]\n{line}\n"))
        } else {
            format!("{text_of}[{section}]\n{line}\n")
        };
        std::fs::write(&config, text_of).unwrap();
        let (code, err) = refused(&config, &["status"]);
        assert_eq!(code, Some(2), "{line}: {err}");
        assert!(err.contains(said), "{line}: {err}");
        assert!(!err.contains("panicked"), "{line}: {err}");
    }
    let config = config(&dir, &["cranelift-tail-signals"], "", "");
    let (code, err) = refused(&config, &["run", "--workers", "100000"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(&format!(
            "--workers must be between 0 (one per core) and {} (4 per core on this {cores}-core machine), got 100000",
            4 * cores
        )),
        "{err}"
    );
    let (code, err) = refused(&config, &["scale", "--shape", "br-table", "--runs", "0"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--runs"), "{err}");
    let (code, err) = refused(
        &config,
        &["scale", "--shape", "br-table", "--steps", "1000"],
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--steps"), "{err}");
}

/// Waits for the daemon's status line of its run.
fn wait_for_cases(config: &Path) {
    wait_for(
        "the daemon's first cases",
        std::time::Duration::from_secs(120),
        || {
            crosscheck(config, &["status", "--json"]).status.success()
                && counter(&status(config), "*", "cases") > 0
        },
    );
}

/// The newest run's state as `status` shows it.
fn newest_run(config: &Path) -> serde_json::Value {
    status(config)["runs"][0].clone()
}

#[test]
fn a_second_signal_exits_130_or_143_with_the_run_recorded_as_killed() {
    for (signal, code) in [(libc::SIGINT, 130), (libc::SIGTERM, 143)] {
        let dir = temp_dir(&format!("hostile-signal-{signal}"));
        let config = config(&dir, &["cranelift-tail-signals"], "workers = 1", "");
        let mut daemon = spawn(&config, &["run"]);
        wait_for_cases(&config);
        // Its workers frozen, the daemon's orderly stop waits for them (5 s
        // of grace): the second signal surely comes while it stops.
        let pid = daemon.id();
        let mut children = String::new();
        for task in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap() {
            let task = task.unwrap().path();
            children += &std::fs::read_to_string(task.join("children")).unwrap_or_default();
            children.push(' ');
        }
        // SAFETY: signalling our own child and its children.
        unsafe {
            for child in children.split_whitespace() {
                libc::kill(child.parse().unwrap(), libc::SIGSTOP);
            }
            libc::kill(pid as i32, signal);
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
        // SAFETY: as above.
        unsafe { libc::kill(pid as i32, signal) };
        let status_of_exit = daemon.wait().unwrap();
        assert_eq!(status_of_exit.code(), Some(code), "{status_of_exit}");
        let run = newest_run(&config);
        assert_eq!(run["stop_reason"], "killed", "{run:#}");
    }
}

#[test]
fn a_daemon_killed_outright_shows_its_run_as_killed_and_a_read_only_store_reads() {
    let dir = temp_dir("hostile-kill9");
    let config = config(&dir, &["cranelift-tail-signals"], "workers = 1", "");
    let mut daemon = spawn(&config, &["run"]);
    wait_for_cases(&config);
    assert_eq!(newest_run(&config)["stop_reason"], serde_json::Value::Null);
    daemon.kill().unwrap();
    daemon.wait().unwrap();
    let run = newest_run(&config);
    assert_eq!(run["stop_reason"], "killed", "{run:#}");
    let shown = text(&crosscheck(&config, &["status"]).stdout);
    assert!(shown.contains("stopped: killed"), "{shown}");

    // Read-only commands open the store read-only: they work for a user
    // who may read the store but not write it (as root, the commands run
    // as `nobody`, for whom the root-owned store is read-only; otherwise
    // the store loses its write bits), and change nothing.
    let data = dir.join("data");
    let as_root = unsafe { libc::geteuid() } == 0;
    let everything = walkdir(&dir);
    let make = |file_mode: u32, dir_mode: u32| {
        for entry in &everything {
            let mode = if entry.is_dir() { dir_mode } else { file_mode };
            std::fs::set_permissions(entry, std::fs::Permissions::from_mode(mode)).unwrap();
        }
    };
    if as_root {
        make(0o644, 0o755);
        open_path_to(&dir);
    } else {
        make(0o444, 0o555);
    }
    let before = std::fs::read(data.join("crosscheck.sqlite")).unwrap();
    for args in [
        &["status"][..],
        &["status", "--json"],
        &["findings"],
        &["gate"],
    ] {
        let mut command = if as_root {
            let mut c = Command::new("runuser");
            c.args(["-u", "nobody", "--", env!("CARGO_BIN_EXE_crosscheck")]);
            c
        } else {
            Command::new(env!("CARGO_BIN_EXE_crosscheck"))
        };
        let out = command
            .arg("--config")
            .arg(&config)
            .args(args)
            .output()
            .unwrap();
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(
            !text(&out.stderr).contains("readonly"),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    make(0o644, 0o755);
    assert_eq!(
        std::fs::read(data.join("crosscheck.sqlite")).unwrap(),
        before
    );
}

/// Lets every user into `dir` and the directories above it (the binary
/// and the store must be reachable for `nobody`).
fn open_path_to(dir: &Path) {
    for ancestor in dir
        .ancestors()
        .chain(Path::new(env!("CARGO_BIN_EXE_crosscheck")).ancestors())
    {
        if let Ok(meta) = std::fs::metadata(ancestor) {
            if meta.is_dir() {
                let mode = meta.permissions().mode() | 0o005;
                let _ = std::fs::set_permissions(ancestor, std::fs::Permissions::from_mode(mode));
            }
        }
    }
}

/// Every path under `dir`, `dir` first.
fn walkdir(dir: &Path) -> Vec<PathBuf> {
    let mut all = vec![dir.to_path_buf()];
    let mut i = 0;
    while i < all.len() {
        if all[i].is_dir() {
            let mut children: Vec<PathBuf> = std::fs::read_dir(&all[i])
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            all.append(&mut children);
        }
        i += 1;
    }
    all
}

#[test]
fn small_mistakes_get_clear_answers() {
    let dir = temp_dir("hostile-small");
    let config = config(
        &dir,
        &["wasmi-fault-i64-mul", "cranelift-tail-signals"],
        "",
        "",
    );
    // An empty directory to import is an error, not "nothing found".
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let (code, err) = refused(&config, &["import", empty.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("holds no file to import"), "{err}");
    // A bundle is not mixed into a directory holding other files.
    let file = module(&dir, "f.wat", &module_named("f"));
    let import = crosscheck(&config, &["import", "--no-shrink", file.to_str().unwrap()]);
    assert_eq!(import.status.code(), Some(0), "{}", text(&import.stderr));
    let occupied = dir.join("occupied");
    std::fs::create_dir_all(&occupied).unwrap();
    std::fs::write(occupied.join("notes.txt"), "mine").unwrap();
    let (code, err) = refused(
        &config,
        &["bundle", "1", "--out", occupied.to_str().unwrap()],
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("is not empty"), "{err}");
    assert_eq!(std::fs::read_dir(&occupied).unwrap().count(), 1);
    // perf shows names escaped: no terminal escape sequence gets through.
    let escape = module(
        &dir,
        "escape.wat",
        "(module (func (export \"\\1b]0;owned\\07\") (result i32) i32.const 1))",
    );
    let out = crosscheck(
        &config,
        &[
            "perf",
            escape.to_str().unwrap(),
            "--invoke",
            "\u{1b}]0;owned\u{7}",
            "--calls",
            "1",
            "--rounds",
            "1",
        ],
    );
    let shown = text(&out.stdout) + &text(&out.stderr);
    assert!(!shown.contains('\u{1b}'), "{shown:?}");
    // Serving beyond loopback is said out loud.
    let mut serve = KillOnDrop(spawn(&config, &["serve", "--address", "0.0.0.0:0"]));
    // The reader stays open to the end: serve, like every command, dies of
    // SIGPIPE when it logs into a pipe nobody holds.
    let mut stderr = std::io::BufReader::new(serve.0.stderr.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut stderr, &mut line).unwrap();
    assert!(line.contains("without access control"), "{line}");
    assert!(!dashboard_address(&mut serve.0).is_empty());
    drop(stderr);
}
