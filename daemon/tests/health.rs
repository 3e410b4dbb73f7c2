//! Fuzz health end to end: the release gate, the dashboard (HTML, JSON API,
//! Prometheus metrics) and a headless Chromium looking at it, all on a
//! store a real daemon wrote.

mod common;

use common::{crosscheck, finding_id, temp_dir, text};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

/// A module whose export name is markup, hitting wasmi's select/eqz bug
/// (corpus/wasmi-select-eqz.wat) so it becomes a finding whose summary and
/// WAT carry the name.
const MARKUP_EXPORT: &str = "<script>alert(1)</script><b>f</b>";
const MARKUP_WAT: &str = r#"(module
  (func (export "<script>alert(1)</script><b>f</b>") (param $x i32) (param $y i32) (result i32)
    (select (i32.const 1) (local.get $y) (i32.eqz (local.get $x)))))"#;

/// Cases the shared store's daemon runs.
const CASES: u64 = 160;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The shared store: 160 daemon cases on the default matrix and the markup
/// module imported, judged with the known wasmi bugs suppressed
/// (fuzz/known-bugs.toml) or without.
struct Fixture {
    dir: PathBuf,
    /// The known-bugs configuration with a lenient gate.
    config: PathBuf,
    /// The same store without suppression rules (what recorded it).
    strict: PathBuf,
    /// The imported markup finding.
    markup: i64,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = temp_dir("health");
        let store = dir.join("data");
        let known = std::fs::read_to_string(workspace().join("fuzz/known-bugs.toml")).unwrap();
        let common = format!(
            "[store]\ndata_dir = {:?}\n[dashboard]\naddress = \"\"\n[triage]\nbackground = false\n",
            store.display().to_string()
        );
        let gate =
            "[gate]\nmin_cases = 100\nmin_cases_per_variant = 50\nmin_cases_per_second = 0.5\n\
                    min_instruction_count = 1\ninstruction_proposals = [\"tail_call\"]\n\
                    min_overflows_per_engine = 1\n\
                    min_exercised = { tail-loop-completed = 5, stack-args-called = 5, all-overflowed = 2, \
                    \"feature:wide-arithmetic\" = 10, \"feature:custom-page-sizes\" = 10 }\n";
        let config = dir.join("known.toml");
        std::fs::write(&config, format!("{known}\n{common}{gate}")).unwrap();
        let matrix = known.split("[[triage.suppress]]").next().unwrap();
        let strict = dir.join("strict.toml");
        std::fs::write(&strict, format!("{matrix}\n{common}{gate}")).unwrap();

        // Recorded without the rules: the findings stay open in the store,
        // and the known-bugs configuration covers them when it judges.
        let out = crosscheck(
            &strict,
            &["run", "--cases", &CASES.to_string(), "--workers", "2"],
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let wat = dir.join("markup.wat");
        std::fs::write(&wat, MARKUP_WAT).unwrap();
        let out = crosscheck(&strict, &["import", "--no-shrink", wat.to_str().unwrap()]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        let line = text(&out.stdout);
        let markup = finding_id(&line)
            .parse()
            .unwrap_or_else(|_| panic!("no finding id in {line}"));
        Fixture {
            dir,
            config,
            strict,
            markup,
        }
    })
}

fn junit_failures(path: &Path) -> (usize, Vec<String>) {
    let xml = std::fs::read_to_string(path).unwrap();
    let doc = roxmltree::Document::parse(&xml).expect("the JUnit report is XML");
    let cases = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .count();
    let failed = doc
        .descendants()
        .filter(|n| n.has_tag_name("failure"))
        .map(|n| n.parent().unwrap().attribute("name").unwrap().to_string())
        .collect();
    (cases, failed)
}

#[test]
fn the_gate_passes_a_healthy_store_and_writes_junit_and_json() {
    let f = fixture();
    let junit = f.dir.join("pass.xml");
    let json = f.dir.join("pass.json");
    let out = crosscheck(
        &f.config,
        &[
            "gate",
            "--junit",
            junit.to_str().unwrap(),
            "--json",
            json.to_str().unwrap(),
        ],
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("gate PASSED"), "{stdout}");
    let report: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(report["pass"], true);
    assert_eq!(report["cases"], CASES);
    let rules = report["rules"].as_array().unwrap();
    let (cases, failed) = junit_failures(&junit);
    assert_eq!(cases, rules.len());
    assert!(failed.is_empty(), "{failed:?}");
    // The known bugs are open findings in the store, but the
    // configuration's rules cover them; the markup module's finding is one
    // of them.
    let mismatch = rules
        .iter()
        .find(|r| r["rule"] == "open mismatch findings")
        .unwrap();
    assert_eq!(mismatch["figure"], "0");
    let findings = crosscheck(&f.config, &["findings"]);
    assert!(
        text(&findings.stdout).contains("mismatch"),
        "{}",
        text(&findings.stdout)
    );
}

#[test]
fn the_gate_fails_with_exit_1_and_names_the_failing_rule() {
    let f = fixture();
    // Without the suppression rules the wasmi bugs are open findings.
    let junit = f.dir.join("strict.xml");
    let json = f.dir.join("strict.json");
    let out = crosscheck(
        &f.strict,
        &[
            "gate",
            "--since",
            "1",
            "--junit",
            junit.to_str().unwrap(),
            "--json",
            json.to_str().unwrap(),
        ],
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("gate FAILED"), "{stdout}");
    assert!(
        stdout.contains(MARKUP_EXPORT) || stdout.contains("mismatch call"),
        "{stdout}"
    );
    let (_, failed) = junit_failures(&junit);
    assert!(
        failed.contains(&"open mismatch findings".to_string()),
        "{failed:?}"
    );
    assert!(
        failed.iter().all(|rule| rule.starts_with("open ")),
        "{failed:?}"
    );
    let report: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(report["pass"], false);

    // The store is its own baseline: nothing is new. An empty store as the
    // baseline makes every open finding new.
    let out = crosscheck(
        &f.config,
        &["gate", "--baseline", f.dir.join("data").to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let empty = temp_dir("health-empty-baseline");
    let empty_config = common::config(&empty, &["cranelift-tail-signals"], "", "");
    let out = crosscheck(&empty_config, &["run", "--cases", "1"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let baseline = empty.join("data");
    let out = crosscheck(
        &f.strict,
        &["gate", "--baseline", baseline.to_str().unwrap()],
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    let new_line = stdout
        .lines()
        .find(|l| l.starts_with("findings new vs the baseline"))
        .unwrap();
    assert!(new_line.ends_with("FAIL"), "{stdout}");

    // Bad input: a clear error, exit 2.
    for (args, says) in [
        (vec!["gate", "--since", "99"], "no run 99"),
        (vec!["gate", "--since", "last tuesday"], "neither a run id"),
        (
            vec!["gate", "--baseline", "/nonexistent/store"],
            "/nonexistent/store",
        ),
    ] {
        let out = crosscheck(&f.config, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            text(&out.stderr).contains(says),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
}

/// `crosscheck serve` on a free port, killed on drop.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(config: &Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_crosscheck"))
            .arg("--config")
            .arg(config)
            .args(["serve", "--address", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let base = line
            .trim()
            .split(" on ")
            .nth(1)
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .trim_end_matches('/')
            .to_string();
        Server { child, base }
    }

    /// Status, content type and body of a GET.
    fn get(&self, path: &str) -> (u16, String, String) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut response = agent.get(&format!("{}{path}", self.base)).call().unwrap();
        let status = response.status().as_u16();
        let kind = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        (status, kind, response.body_mut().read_to_string().unwrap())
    }

    /// The raw response to a GET of `target` sent as is (clients
    /// normalize `..` away; an attacker's does not).
    fn raw(&self, target: &str) -> String {
        self.raw_method("GET", target)
    }

    fn json(&self, path: &str) -> Value {
        let (status, kind, body) = self.get(path);
        assert_eq!(
            (status, kind.as_str()),
            (200, "application/json"),
            "{path}: {body}"
        );
        serde_json::from_str(&body).unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_dashboard_serves_pages_and_a_json_api_of_the_store() {
    let f = fixture();
    let server = Server::start(&f.config);
    let (status, kind, overview) = server.get("/");
    assert_eq!((status, kind.as_str()), (200, "text/html; charset=utf-8"));
    assert!(
        overview.contains(&format!("<b id=\"cases\">{CASES}</b>")),
        "{overview}"
    );
    for section in [
        "Cases/s over time",
        "Per variant",
        "Verdicts",
        "Instruction coverage",
        "Compile cost per instruction",
        "Exercised",
        "deep tail-call loops completed",
        "Rule coverage",
        "opts/arithmetic.isle",
        "<svg",
    ] {
        assert!(overview.contains(section), "{section} missing");
    }
    assert!(overview.contains("cranelift-notail-explicit+nofuel"));

    let api = server.json("/api/overview");
    assert_eq!(api["health"]["cases"], CASES);
    assert!(api["health"]["instructions"]["i32.add"].as_u64().unwrap() > 0);
    let wasmi = &api["health"]["costs"]["wasmi"];
    assert!(wasmi["compile_p50_us"].as_u64().unwrap() <= wasmi["compile_p99_us"].as_u64().unwrap());
    assert!(wasmi["run_p50_us"].as_u64().is_some(), "{wasmi}");
    assert!(wasmi["compile_heap_p50"].as_u64().is_some(), "{wasmi}");
    assert!(
        wasmi["compile_cpu_p50_us"].as_u64().unwrap() <= wasmi["compile_p50_us"].as_u64().unwrap(),
        "{wasmi}"
    );
    // Generated code is measured for the JITs, not for the interpreter.
    assert!(wasmi["code_bytes_p50"].is_null(), "{wasmi}");
    let jit = &api["health"]["costs"]["cranelift-notail-explicit+nofuel"];
    assert!(
        jit["code_bytes_p50"].as_u64().unwrap() <= jit["code_bytes_p99"].as_u64().unwrap(),
        "{jit}"
    );
    // What really ran: the six totals, and cases per feature.
    let exercised = &api["health"]["exercised"];
    assert_eq!(
        exercised["totals"].as_array().unwrap().len(),
        6,
        "{exercised}"
    );
    assert!(
        exercised["features"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f[0] == "stack:tail-loop" && f[1].as_u64().unwrap() > 0),
        "{exercised}"
    );
    let rules = &api["health"]["rules"];
    assert!(rules["aimable"].as_u64().unwrap() > 1000, "{rules}");
    assert!(rules["targeted"].as_u64().unwrap() > 0, "{rules}");
    assert!(!api["throughput"].as_array().unwrap().is_empty());
    let runs = server.json("/api/runs");
    assert_eq!(runs.as_array().unwrap().len(), 1);
    assert_eq!(runs[0]["cases"], CASES);

    // Filters: by kind, by status, by text.
    let all = server.json("/api/findings");
    let mismatches = server.json("/api/findings?kind=mismatch");
    assert!(!mismatches.as_array().unwrap().is_empty());
    assert!(mismatches
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["kind"] == "mismatch"));
    let none = server.json("/api/findings?status=fixed");
    assert!(none.as_array().unwrap().is_empty());
    assert!(all.as_array().unwrap().len() >= mismatches.as_array().unwrap().len());
    let (status, _, list) = server.get("/findings?kind=mismatch&status=&q=");
    assert_eq!(status, 200);
    assert!(
        list.contains(&format!("href=\"/findings/{}\"", f.markup)),
        "{list}"
    );

    let detail = server.json(&format!("/api/findings/{}", f.markup));
    assert!(detail["wat"].as_str().unwrap().contains("i32.eqz"));
    assert!(detail["summary"].as_str().unwrap().contains(MARKUP_EXPORT));
    assert_eq!(detail["hit_history"].as_array().unwrap().len(), 1);
    let commands = detail["commands"].as_array().unwrap();
    assert!(commands
        .iter()
        .any(|c| c[1] == format!("crosscheck repro {}", f.markup)));
    assert!(commands.iter().any(|c| c[1]
        .as_str()
        .unwrap()
        .starts_with("wasmtime run -W tail-call=y")));
    let (status, kind, page) = server.get(&format!("/findings/{}", f.markup));
    assert_eq!((status, kind.as_str()), (200, "text/html; charset=utf-8"));
    assert!(page.contains("i32.eqz") && page.contains("Hit history"));
    let (status, kind, wasm) = server.get(&format!("/findings/{}/module.wasm", f.markup));
    assert_eq!((status, kind.as_str()), (200, "application/wasm"));
    assert!(wasm.starts_with("\0asm"));
    let (status, _, page) = server.get("/runs");
    assert_eq!(status, 200);
    assert!(page.contains("<td>cases</td>") || page.contains(">cases<"));
    assert_eq!(server.get("/findings/99999").0, 404);
    assert_eq!(server.get("/api/findings/99999").0, 404);
}

#[test]
fn markup_in_export_names_is_escaped_and_nothing_outside_the_routes_is_served() {
    let f = fixture();
    let server = Server::start(&f.config);
    for path in [
        format!("/findings/{}", f.markup),
        "/findings".into(),
        "/".into(),
    ] {
        let (_, _, page) = server.get(&path);
        assert!(!page.contains("<script"), "{path} has a live script tag");
        assert!(!page.contains("<b>f</b>"), "{path} has live markup");
    }
    let (_, _, page) = server.get(&format!("/findings/{}", f.markup));
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;f&lt;/b&gt;"),
        "{page}"
    );
    // The JSON API returns the name as data.
    let detail = server.json(&format!("/api/findings/{}", f.markup));
    assert!(detail["wat"].as_str().unwrap().contains(MARKUP_EXPORT));
    // Headers forbid scripts even if something slipped through.
    let raw = server.raw("/");
    assert!(
        raw.contains("content-security-policy: default-src 'none'"),
        "{raw}"
    );
    assert!(raw.contains("x-content-type-options: nosniff"));

    // Path traversal: the store's database and modules are never served.
    let hash = std::fs::read_dir(f.dir.join("data/artifacts"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .file_name()
        .into_string()
        .unwrap();
    for target in [
        "/../crosscheck.sqlite".to_string(),
        "/findings/..%2f..%2fcrosscheck.sqlite".into(),
        "/findings/1/../../crosscheck.sqlite".into(),
        "/%2e%2e/%2e%2e/etc/passwd".into(),
        format!("/artifacts/{hash}"),
        format!("/findings/../artifacts/{hash}"),
        "/crosscheck.sqlite".into(),
    ] {
        let response = server.raw(&target);
        let status: u16 = response.split(' ').nth(1).unwrap().parse().unwrap();
        assert!((400..500).contains(&status), "{target}: {response}");
        assert!(!response.contains("SQLite format"), "{target}");
        assert!(!response.contains("root:"), "{target}");
        assert!(!response.contains("\0asm"), "{target}");
    }
    // Read-only.
    let response = server.raw_method("POST", "/");
    assert!(response.starts_with("HTTP/1.1 405"), "{response}");
}

impl Server {
    /// The raw response to `method target`.
    fn raw_method(&self, method: &str, target: &str) -> String {
        let address = self.base.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(address).unwrap();
        write!(
            stream,
            "{method} {target} HTTP/1.1\r\nHost: {address}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).unwrap();
        String::from_utf8_lossy(&response).into_owned()
    }
}

/// The value of an unlabelled sample of a scrape.
fn sample(scrape: &prometheus_parse::Scrape, name: &str) -> f64 {
    let found = scrape
        .samples
        .iter()
        .find(|s| s.metric == name)
        .unwrap_or_else(|| panic!("no {name}"));
    value(&found.value)
}

/// A sample's number. prometheus-parse knows OpenMetrics counters' `_total`
/// samples as untyped.
fn value(value: &prometheus_parse::Value) -> f64 {
    match value {
        prometheus_parse::Value::Counter(v)
        | prometheus_parse::Value::Gauge(v)
        | prometheus_parse::Value::Untyped(v) => *v,
        other => panic!("not a number: {other:?}"),
    }
}

fn scrape(server: &Server) -> prometheus_parse::Scrape {
    let (status, kind, body) = server.get("/metrics");
    assert_eq!(status, 200);
    assert!(kind.starts_with("application/openmetrics-text"), "{kind}");
    let lines = body.lines().map(|l| Ok(l.to_string()));
    prometheus_parse::Scrape::parse(lines).expect("the exposition parses")
}

#[test]
fn metrics_are_scraped_and_persist_across_restarts() {
    let dir = temp_dir("metrics");
    let config = common::config(
        &dir,
        &["cranelift-tail-signals", "wasmi-fault-i64-mul"],
        "",
        "",
    );
    let out = crosscheck(&config, &["run", "--cases", "30"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let first = scrape(&Server::start(&config));
    assert_eq!(sample(&first, "crosscheck_cases_total"), 30.0);
    assert_eq!(sample(&first, "crosscheck_runs_total"), 1.0);
    assert_eq!(sample(&first, "crosscheck_daemon_running"), 0.0);
    let ran = first
        .samples
        .iter()
        .find(|s| {
            s.metric == "crosscheck_engine_events_total"
                && s.labels.get("engine") == Some("wasmi-fault-i64-mul")
                && s.labels.get("event") == Some("ran")
        })
        .expect("per-engine events");
    assert!(value(&ran.value) > 0.0);
    assert!(first
        .samples
        .iter()
        .any(|s| s.metric == "crosscheck_instructions_total"
            && s.labels.get("instruction") == Some("i64.mul")));
    assert!(first
        .samples
        .iter()
        .any(|s| s.metric == "crosscheck_compile_cases_total"
            && s.labels.get("engine") == Some("cranelift-tail-signals")));
    for (metric, bound) in [
        ("crosscheck_compile_cpu_cases_total", "le_us"),
        ("crosscheck_compile_heap_cases_total", "le_bytes"),
        ("crosscheck_code_size_cases_total", "le_bytes"),
    ] {
        assert!(
            first.samples.iter().any(|s| s.metric == metric
                && s.labels.get("engine") == Some("cranelift-tail-signals")
                && s.labels.get(bound).is_some()),
            "no {metric}"
        );
    }

    assert!(
        first
            .samples
            .iter()
            .any(|s| s.metric == "crosscheck_exercised_total"
                && s.labels.get("what") == Some("feature:stack:tail-loop")),
        "no crosscheck_exercised_total"
    );
    // Rule coverage: the linked Cranelift's rules, and how many ran.
    let rules = |state: &str| {
        first
            .samples
            .iter()
            .find(|s| s.metric == "crosscheck_rules" && s.labels.get("state") == Some(state))
            .map(|s| value(&s.value))
            .unwrap_or_else(|| panic!("no crosscheck_rules{{state={state:?}}}"))
    };
    assert!(rules("aimable") > 1000.0 && rules("aimable") <= rules("in_scope"));
    assert_eq!(rules("targeted") + rules("never_reached"), rules("aimable"));
    assert!(sample(&first, "crosscheck_rule_cases_total") >= rules("targeted"));

    // A second daemon run and a new server: counters go on from the store.
    let out = crosscheck(&config, &["run", "--cases", "20"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let second = scrape(&Server::start(&config));
    assert_eq!(sample(&second, "crosscheck_cases_total"), 50.0);
    assert_eq!(sample(&second, "crosscheck_runs_total"), 2.0);
}

/// Debian's `chromium` (installed by `./test.sh` and `.ci/run`), or
/// `$CHROMIUM`.
fn chromium() -> String {
    let name = std::env::var("CHROMIUM").unwrap_or_else(|_| "chromium".into());
    let found = Command::new(&name).arg("--version").output();
    match found {
        Ok(out) if out.status.success() => name,
        _ => panic!(
            "headless Chromium is needed for the dashboard's browser test: install Debian's \
             `chromium` (./test.sh does) or point $CHROMIUM at one"
        ),
    }
}

/// Runs headless Chromium on a page: its DOM after loading, and a
/// screenshot.
fn browse(browser: &str, url: &str, screenshot: &Path) -> String {
    let profile = temp_dir("chromium-profile");
    let base = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1280,1600",
    ];
    let profile_arg = format!("--user-data-dir={}", profile.display());
    let dom = Command::new(browser)
        .args(base)
        .arg(&profile_arg)
        .args(["--dump-dom", url])
        .output()
        .unwrap();
    assert!(dom.status.success(), "{}", text(&dom.stderr));
    let shot = Command::new(browser)
        .args(base)
        .arg(&profile_arg)
        .arg(format!("--screenshot={}", screenshot.display()))
        .arg(url)
        .output()
        .unwrap();
    assert!(shot.status.success(), "{}", text(&shot.stderr));
    text(&dom.stdout)
}

#[test]
fn headless_chromium_shows_the_overview_and_a_finding() {
    let browser = chromium();
    let f = fixture();
    let server = Server::start(&f.config);
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard-screenshots");
    std::fs::create_dir_all(&shots).unwrap();

    let overview_png = shots.join("overview.png");
    let dom = browse(&browser, &format!("{}/", server.base), &overview_png);
    assert!(
        dom.contains(&format!("<b id=\"cases\">{CASES}</b>")),
        "{dom}"
    );
    assert!(dom.contains("<h1>Overview</h1>"));
    assert!(
        dom.contains("<polyline") || dom.contains("<circle"),
        "no chart"
    );
    assert!(dom.contains("wasmi"));

    let finding_png = shots.join("finding.png");
    let dom = browse(
        &browser,
        &format!("{}/findings/{}", server.base, f.markup),
        &finding_png,
    );
    assert!(
        dom.contains(&format!("<h1>Finding {}</h1>", f.markup)),
        "{dom}"
    );
    assert!(dom.contains("suspect wasmi"), "attribution missing: {dom}");
    assert!(dom.contains(&format!("crosscheck repro {}", f.markup)));
    // After the browser parsed the page the markup is still text: no
    // element came out of the export name.
    assert!(
        dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{dom}"
    );
    assert!(!dom.contains("<b>f</b>"));

    for png in [overview_png, finding_png] {
        let bytes = std::fs::read(&png).unwrap();
        assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "{}", png.display());
        assert!(bytes.len() > 20_000, "{} is nearly empty", png.display());
        eprintln!("screenshot: {}", png.display());
    }
}
