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

// ---------------------------------------------------------------------
// What crosscheck downloads, writes and prints, turned against its host.
// ---------------------------------------------------------------------

/// The first-party `crosscheck` binary, run with `envs` and without the
/// variables named in `removed`.
fn crosscheck_env(
    config: &Path,
    args: &[&str],
    envs: &[(&str, &Path)],
    removed: &[&str],
) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_crosscheck"));
    command.arg("--config").arg(config).args(args);
    for (name, value) in envs {
        command.env(name, value);
    }
    for name in removed {
        command.env_remove(name);
    }
    command.output().unwrap()
}

/// A shared object whose constructor creates `marker` (built with the C
/// compiler when there is one; otherwise bytes that only look like one).
fn hostile_library(dir: &Path, marker: &Path) -> Vec<u8> {
    let source = dir.join("evil.c");
    std::fs::write(
        &source,
        format!(
            "#include <stdio.h>\n__attribute__((constructor)) static void evil(void) {{ FILE *f = fopen(\"{}\", \"w\"); if (f) fclose(f); }}\nint wasm_config_new(void) {{ return 0; }}\n",
            marker.display()
        ),
    )
    .unwrap();
    let library = dir.join("evil.so");
    let built = Command::new("cc")
        .args(["-shared", "-fPIC", "-o"])
        .arg(&library)
        .arg(&source)
        .status()
        .is_ok_and(|s| s.success());
    if built {
        std::fs::read(&library).unwrap()
    } else {
        b"\x7fELF\x02\x01\x01 not really a library".to_vec()
    }
}

/// A zip archive holding `library` where a wasmtime wheel has its library.
fn fake_wheel(path: &Path, library: &[u8]) {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    zip.start_file(
        "wasmtime/linux-x86_64/_libwasmtime.so",
        zip::write::SimpleFileOptions::default(),
    )
    .unwrap();
    zip.write_all(library).unwrap();
    zip.finish().unwrap();
}

#[test]
fn clif_files_cannot_be_redirected_by_another_user_s_links() {
    let dir = temp_dir("hostile-clif");
    let config = config(&dir, &["cranelift-tail-signals"], "", "");
    let tmp = dir.join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let victim = dir.join("victim");
    std::fs::write(&victim, "precious").unwrap();
    // Seed 1 is rule-guided and seed 5 pass-aimed: both compile for CLIF.
    let mut planted_for = Vec::new();
    for seed in ["1", "5"] {
        // The attack as it was: the names crosscheck used, made in advance
        // for the process's pid, full of links to the victim.
        let child = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "sleep 1; exec \"$0\" --config '{}' case --seed {seed}",
                config.display()
            ))
            .arg(env!("CARGO_BIN_EXE_crosscheck"))
            .env("TMPDIR", &tmp)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let pid = child.id();
        planted_for.push(format!("-{pid}-"));
        for level in ["none", "speed"] {
            let planted = tmp.join(format!("crosscheck-clif-{pid}-{level}"));
            std::fs::create_dir_all(&planted).unwrap();
            std::fs::set_permissions(&planted, std::fs::Permissions::from_mode(0o777)).unwrap();
            for function in 0..16 {
                let _ = std::os::unix::fs::symlink(
                    &victim,
                    planted.join(format!("wasm[0]--function[{function}].clif")),
                );
            }
        }
        let out = child.wait_with_output().unwrap();
        assert!(out.status.code().is_some(), "seed {seed}: {out:?}");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        // Nothing of crosscheck's own is left behind.
        let left: Vec<String> = std::fs::read_dir(&tmp)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| !planted_for.iter().any(|p| name.contains(p.as_str())))
            .collect();
        assert!(left.is_empty(), "seed {seed}: left in TMPDIR: {left:?}");
    }
}

#[test]
fn only_the_pinned_wasmtime_library_is_fetched_or_loaded() {
    let dir = temp_dir("hostile-c-api");
    let marker = dir.join("CONSTRUCTOR-RAN");
    let evil = hostile_library(&dir, &marker);
    let config = config(&dir, &["wasmtime-default@51"], "", "");
    let wat = module(&dir, "empty.wat", "(module)");
    let wat = wat.to_str().unwrap();

    // A wheel of the pinned name from a hostile index: pip's hash check
    // refuses it, and nothing of it is kept or run.
    let index = dir.join("index");
    std::fs::create_dir_all(&index).unwrap();
    fake_wheel(
        &index.join("wasmtime-51.0.0-py3-none-manylinux1_x86_64.whl"),
        &evil,
    );
    fake_wheel(
        &index.join("wasmtime-51.9.9-py3-none-manylinux1_x86_64.whl"),
        &evil,
    );
    let cache = dir.join("cache");
    let out = crosscheck_env(
        &config,
        &["build-release", "51", "--c-api"],
        &[
            ("CROSSCHECK_C_API_CACHE", &cache),
            ("PIP_NO_INDEX", Path::new("1")),
            ("PIP_FIND_LINKS", &index),
        ],
        &[],
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("pip download") && err.contains("hash"),
        "{err}"
    );
    assert!(!marker.exists(), "the fake wheel's library ran");
    assert!(!cache.join("wasmtime-51").exists());

    // A library planted in the cache, then a truncated one: refused by
    // path and both hashes before anything of it runs.
    let release = cache.join("wasmtime-51");
    std::fs::create_dir_all(&release).unwrap();
    std::fs::write(release.join("version"), "51.0.0").unwrap();
    for (what, bytes) in [
        ("planted", evil.clone()),
        ("truncated", evil[..16].to_vec()),
    ] {
        let library = release.join("libwasmtime.so");
        std::fs::write(&library, &bytes).unwrap();
        let out = crosscheck_env(
            &config,
            &["check", wat],
            &[("CROSSCHECK_C_API_CACHE", &cache)],
            &[],
        );
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{what}: {err}");
        assert!(
            err.contains(&library.display().to_string())
                && err.contains("SHA-256")
                && err.contains("e3b6f82a76730979875b0c336e573583e1bd9deb052ac44be771e19b1dc51e00"),
            "{what}: {err}"
        );
        assert!(!marker.exists(), "{what}: the library's constructor ran");
    }

    // Without HOME and XDG_CACHE_HOME there is no cache, and the shared
    // temporary directory is never one.
    let tmp = dir.join("tmp");
    let shared = tmp.join("crosscheck").join("c-api").join("wasmtime-51");
    std::fs::create_dir_all(&shared).unwrap();
    std::fs::write(shared.join("libwasmtime.so"), &evil).unwrap();
    std::fs::write(shared.join("version"), "51.0.0").unwrap();
    let out = crosscheck_env(
        &config,
        &["check", wat],
        &[("TMPDIR", &tmp)],
        &["HOME", "XDG_CACHE_HOME", "CROSSCHECK_C_API_CACHE"],
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("neither XDG_CACHE_HOME nor HOME is set"),
        "{err}"
    );
    assert!(!marker.exists(), "a library in the shared directory ran");
}

/// The fenced code blocks of Markdown text, by CommonMark's rule: a block
/// opens with a run of three or more backticks and closes with a line of
/// at least as many; returns each block's info string and content.
fn fenced_blocks(markdown: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut open: Option<(usize, String, String)> = None;
    for line in markdown.lines() {
        let ticks = line.chars().take_while(|&c| c == '`').count();
        match open.take() {
            None if ticks >= 3 => open = Some((ticks, line[ticks..].to_string(), String::new())),
            None => {}
            Some((fence, info, content)) if ticks >= fence && line[ticks..].trim().is_empty() => {
                blocks.push((info, content))
            }
            Some((fence, info, mut content)) => {
                content += line;
                content.push('\n');
                open = Some((fence, info, content));
            }
        }
    }
    blocks
}

#[test]
fn reports_are_inert_whatever_the_module_names_its_exports() {
    let dir = temp_dir("hostile-report");
    let config = config(
        &dir,
        &["wasmi-fault-i64-mul", "cranelift-tail-signals"],
        "",
        "",
    );
    let name = "f\n```\n\n```sh\ntouch PWNED\n```\n\u{1b}[2J\rx";
    let file = module(&dir, "fence.wat", &module_named(name));
    let import = crosscheck(&config, &["import", "--no-shrink", file.to_str().unwrap()]);
    assert_eq!(import.status.code(), Some(0), "{}", text(&import.stderr));
    let out = crosscheck(&config, &["report", "1"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report = text(&out.stdout);
    assert!(
        !report.contains('\u{1b}') && !report.contains('\r'),
        "{report:?}"
    );
    let bundle = dir.join("bundle");
    let out = crosscheck(&config, &["bundle", "1", "--out", bundle.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let written = std::fs::read_to_string(bundle.join("report.md")).unwrap();
    for markdown in [&report, &written] {
        let blocks = fenced_blocks(markdown);
        let sh: Vec<&(String, String)> = blocks.iter().filter(|(info, _)| info == "sh").collect();
        assert_eq!(
            sh.len(),
            1,
            "one runnable block, the reproduction: {markdown}"
        );
        // The name's own fences stayed inside it.
        assert!(sh[0].1.contains("touch PWNED"), "{}", sh[0].1);
        // Outside code blocks the name's backticks cannot open one.
        let prose: String = markdown
            .lines()
            .filter(|l| l.starts_with("### ") || l.starts_with("- "))
            .collect();
        assert!(!prose.contains("```"), "{prose}");
    }
}

#[test]
fn bounds_files_and_partial_configurations() {
    let dir = temp_dir("hostile-bounds");
    for (section, line, said) in [
        (
            "cost.compile",
            "seconds = -1.0",
            "cost.compile.seconds must be between",
        ),
        (
            "cost.compile",
            "seconds = nan",
            "cost.compile.seconds must be between",
        ),
        (
            "cost.perf",
            "ratio = inf",
            "cost.perf.ratio must be between",
        ),
        (
            "cost.scaling",
            "superlinear = 0.5",
            "cost.scaling.superlinear must be between",
        ),
    ] {
        let path = dir.join("bound.toml");
        std::fs::write(&path, format!("[{section}]\n{line}\n")).unwrap();
        let (code, err) = refused(&path, &["status"]);
        assert_eq!(code, Some(2), "{line}: {err}");
        assert!(err.contains(said), "{line}: {err}");
    }
    let config = config(&dir, &["cranelift-tail-signals"], "", "");
    for args in [
        &["scale", "--shape", "nested-blocks", "--superlinear", "nan"][..],
        &["scale", "--shape", "nested-blocks", "--start", "4294967295"],
        &[
            "scale",
            "--shape",
            "nested-blocks",
            "--start",
            "1000000",
            "--steps",
            "16",
        ],
    ] {
        let (code, err) = refused(&config, args);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(
            err.contains("--superlinear") || err.contains("--start"),
            "{args:?}: {err}"
        );
    }
    // Devices and FIFOs are refused by what they are, at once.
    let fifo = dir.join("pipe.wasm");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    for path in [Path::new("/dev/zero"), fifo.as_path()] {
        for command in ["check", "import"] {
            let (code, err) = refused(&config, &[command, path.to_str().unwrap()]);
            assert_eq!(code, Some(2), "{command} {}: {err}", path.display());
            assert!(err.contains("crosscheck reads regular files only"), "{err}");
        }
    }
    // Import names what is not a module and goes on with the rest.
    let empty = module(&dir, "empty.wasm", "");
    let random = dir.join("random.wasm");
    std::fs::write(&random, [0x13u8, 0x37, 0xff, 0x00, 0x42]).unwrap();
    let no_files = dir.join("no-files");
    std::fs::create_dir_all(&no_files).unwrap();
    let good = module(&dir, "good.wat", "(module (func (export \"f\")))");
    let out = crosscheck(
        &config,
        &[
            "import",
            "--no-shrink",
            no_files.to_str().unwrap(),
            empty.to_str().unwrap(),
            random.to_str().unwrap(),
            good.to_str().unwrap(),
        ],
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert!(stderr.contains("empty.wasm is empty"), "{stderr}");
    assert!(
        stderr.contains("random.wasm is not a valid WebAssembly module"),
        "{stderr}"
    );
    assert!(
        stderr.contains("no-files holds no file to import"),
        "{stderr}"
    );
    assert!(stdout.contains("good.wat: no finding"), "{stdout}");
    // A file of the keys it changes: the defaults fill in the rest, and
    // `config --show` says where each value comes from.
    let partial = dir.join("partial.toml");
    std::fs::write(
        &partial,
        format!(
            "[daemon]\nworkers = 1\n[store]\ndata_dir = {:?}\n",
            dir.join("data").display().to_string()
        ),
    )
    .unwrap();
    let out = crosscheck(&partial, &["config", "--show"]);
    let shown = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        shown.contains(&format!("workers = 1  # {}", partial.display())),
        "{shown}"
    );
    assert!(shown.contains("oracle = \"wasmi\"  # default"), "{shown}");
    let out = crosscheck(&partial, &["status"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // The store is its owner's alone.
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir.join("data")), 0o700);
    assert_eq!(mode(&dir.join("data").join("crosscheck.sqlite")), 0o600);
}

#[test]
fn secrets_stay_out_of_bundles_and_error_messages() {
    let dir = temp_dir("hostile-secrets");
    let server = common::postgres::Postgres::start(&dir.join("pg"));
    server.create_db("secrets");
    let secret = common::postgres::PASSWORD;
    let port = server.port;
    let forms = [
        format!("postgres://crosscheck:{secret}@127.0.0.1:{port}/secrets"),
        format!("postgresql://crosscheck@127.0.0.1:{port}/secrets?password={secret}"),
        format!("host=127.0.0.1 port={port} user=crosscheck password={secret} dbname=secrets"),
    ];
    let file = module(&dir, "f.wat", &module_named("f"));
    for (i, url) in forms.iter().enumerate() {
        let path = dir.join(format!("fleet-{i}.toml"));
        std::fs::write(
            &path,
            format!(
                "[matrix]\nengines = [\"wasmi-fault-i64-mul\", \"cranelift-tail-signals\"]\n[store]\ndata_dir = {:?}\nurl = {url:?}\n[dashboard]\naddress = \"\"\n[triage]\nbackground = false\n",
                dir.join(format!("data-{i}")).display().to_string()
            ),
        )
        .unwrap();
        let import = crosscheck(&path, &["import", "--no-shrink", file.to_str().unwrap()]);
        assert_eq!(
            import.status.code(),
            Some(0),
            "{url}: {}",
            text(&import.stderr)
        );
        let bundle = dir.join(format!("bundle-{i}"));
        let out = crosscheck(&path, &["bundle", "1", "--out", bundle.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "{url}: {}", text(&out.stderr));
        for entry in walkdir(&bundle).into_iter().filter(|p| p.is_file()) {
            let bytes = std::fs::read(&entry).unwrap();
            assert!(
                !String::from_utf8_lossy(&bytes).contains(secret),
                "{url}: {} holds the password",
                entry.display()
            );
        }
        let shown = text(&crosscheck(&path, &["config", "--show"]).stdout);
        assert!(
            !shown.contains(secret) && shown.contains("url = "),
            "{shown}"
        );
        // A syntax error on the URL's line names the line, not the secret.
        let broken = dir.join(format!("broken-{i}.toml"));
        std::fs::write(&broken, format!("[store]\nurl = \"{url}\n")).unwrap();
        let (code, err) = refused(&broken, &["status"]);
        assert_eq!(code, Some(2), "{err}");
        assert!(err.contains("line 2") && !err.contains(secret), "{err}");
    }
}

/// Sends `request` to the dashboard at `address` and returns the status
/// line of the answer.
fn status_line(address: &str, request: &str) -> String {
    use std::io::{BufRead, Write};
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut line = String::new();
    std::io::BufReader::new(stream)
        .read_line(&mut line)
        .unwrap();
    line.trim_end().to_string()
}

#[test]
fn the_dashboard_answers_only_for_its_own_names_and_sheds_idle_connections() {
    use std::io::Read;
    let dir = temp_dir("hostile-dashboard");
    let config = config(&dir, &["cranelift-tail-signals"], "", "");
    let status = crosscheck(
        &config,
        &[
            "import",
            "--no-shrink",
            module(&dir, "m.wat", "(module)").to_str().unwrap(),
        ],
    );
    assert_eq!(status.status.code(), Some(0), "{}", text(&status.stderr));
    let mut serve = KillOnDrop(spawn(
        &config,
        &[
            "serve",
            "--address",
            "127.0.0.1:0",
            "--allow-host",
            "fuzz.lab",
        ],
    ));
    let address = dashboard_address(&mut serve.0);
    let get = |host: &str| {
        status_line(
            &address,
            &format!("GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
        )
    };
    assert!(get(&address).contains(" 200 "), "{}", get(&address));
    assert!(get("localhost").contains(" 200 "));
    assert!(get("fuzz.lab:8420").contains(" 200 "));
    assert!(get("rebound.attacker.example").contains(" 421 "));
    // Clients that connect and say nothing are closed after the header
    // timeout, and never keep a real request out for good.
    let idle: Vec<std::net::TcpStream> = (0..100)
        .map(|_| std::net::TcpStream::connect(&address).unwrap())
        .collect();
    let start = std::time::Instant::now();
    let mut first = idle.into_iter().next().unwrap();
    first
        .set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .unwrap();
    let read = first.read(&mut [0u8; 64]);
    let closed = matches!(read, Ok(0))
        || matches!(&read, Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset);
    assert!(
        closed && start.elapsed() < std::time::Duration::from_secs(30),
        "an idle connection was held {:?}: {read:?}",
        start.elapsed()
    );
    assert!(get("localhost").contains(" 200 "));
}

#[test]
fn each_call_has_its_own_time_limit_and_a_hang_names_its_call() {
    let dir = temp_dir("hostile-call-limit");
    // The epoch deadline (a minute) is far beyond the phase limit (2 s):
    // the supervisor, not the budget, ends the call that never returns.
    let config = config(
        &dir,
        &["cranelift-notail-explicit+nofuel"],
        "phase_timeout_secs = 2\nknown_hang_secs = 1",
        "",
    );
    let text_of =
        std::fs::read_to_string(&config).unwrap() + "[execution]\nepoch_deadline_ms = 60000\n";
    std::fs::write(&config, text_of).unwrap();
    let wat = module(
        &dir,
        "spin.wat",
        r#"(module
            (func (export "quick") (result i32) i32.const 7)
            (func (export "spin") (loop br 0)))"#,
    );
    let out = crosscheck(&config, &["import", "--no-shrink", wat.to_str().unwrap()]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    // A budgeted engine that runs on is a limit escape.
    assert!(stdout.contains("new finding 1: limit-escape"), "{stdout}");
    let shown = text(&crosscheck(&config, &["findings", "show", "1"]).stdout);
    assert!(
        shown.contains("killed after 2 s in one step")
            && shown.contains("(in call 2 of the plan, \"spin\")"),
        "the hang does not name its call: {shown}"
    );
    // `check` says the same in its verdict line, not "agree".
    let out = crosscheck(&config, &["check", wat.to_str().unwrap()]);
    let shown = text(&out.stdout);
    let verdict = shown
        .lines()
        .find(|l| l.starts_with("verdict: "))
        .unwrap_or_default();
    assert!(
        verdict.starts_with(
            "verdict: limit-escape cranelift-opt ran on past its fuel or epoch deadline (the engines that ran the case to the end: "
        ),
        "{shown}"
    );
}
