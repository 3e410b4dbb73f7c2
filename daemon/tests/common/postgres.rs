//! A real PostgreSQL server for the fleet tests: Debian's `postgresql`
//! package (`./test.sh` installs it), a cluster made by `initdb` in a
//! temporary directory, run by an unprivileged user (`postgres` when the
//! tests run as root, whom `initdb` refuses) on 127.0.0.1 and a free port,
//! with password authentication; stopped when dropped.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The password of the test clusters' `crosscheck` user.
pub const PASSWORD: &str = "fleet-secret";

/// A running server.
pub struct Postgres {
    dir: PathBuf,
    bin: PathBuf,
    /// Its TCP port on 127.0.0.1.
    pub port: u16,
}

impl Postgres {
    /// Makes and starts a cluster under `dir` (which is emptied first).
    pub fn start(dir: &Path) -> Postgres {
        let bin = server_bin();
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir).unwrap();
        let data = dir.join("cluster");
        let password_file = dir.join("password");
        std::fs::write(&password_file, PASSWORD).unwrap();
        let port = free_port();
        let server = Postgres {
            dir: dir.to_path_buf(),
            bin,
            port,
        };
        if is_root() {
            // The unprivileged user must reach the cluster's directory.
            let mut parent = dir.to_path_buf();
            while let Some(p) = parent.parent() {
                let _ = Command::new("chmod").arg("o+x").arg(p).status();
                parent = p.to_path_buf();
            }
            let owned = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir)
                .status()
                .unwrap();
            assert!(owned.success());
        }
        server.run_tool(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                "crosscheck",
                "--auth=scram-sha-256",
                "--pwfile",
                password_file.to_str().unwrap(),
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        server.pg_ctl(&["start", "-w", "-t", "60"]);
        server
    }

    /// The URL of database `db` (made by [`Postgres::create_db`]).
    pub fn url(&self, db: &str) -> String {
        format!(
            "postgres://crosscheck:{PASSWORD}@127.0.0.1:{}/{db}",
            self.port
        )
    }

    /// Makes an empty database.
    pub fn create_db(&self, db: &str) {
        let mut client = postgres::Client::connect(&self.url("postgres"), postgres::NoTls)
            .expect("connecting to the test server");
        client
            .batch_execute(&format!("CREATE DATABASE {db}"))
            .expect("creating a database");
    }

    /// A client of database `db`.
    pub fn client(&self, db: &str) -> postgres::Client {
        postgres::Client::connect(&self.url(db), postgres::NoTls).expect("connecting")
    }

    /// Stops and starts the server (clients lose their connections).
    pub fn restart(&self) {
        self.pg_ctl(&["restart", "-w", "-m", "fast", "-t", "60"]);
    }

    /// Stops the server (clients lose their connections) until [`Postgres::resume`].
    pub fn stop(&self) {
        self.pg_ctl(&["stop", "-w", "-m", "fast", "-t", "60"]);
    }

    /// Starts a stopped server again.
    pub fn resume(&self) {
        self.pg_ctl(&["start", "-w", "-t", "60"]);
    }

    fn pg_ctl(&self, args: &[&str]) {
        let data = self.dir.join("cluster");
        let log = self.dir.join("server.log");
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.display()
        );
        let mut all = vec![
            "-D",
            data.to_str().unwrap(),
            "-l",
            log.to_str().unwrap(),
            "-o",
            options.as_str(),
        ];
        all.extend_from_slice(args);
        self.run_tool("pg_ctl", &all);
    }

    /// A server program, run as the unprivileged user when we are root.
    fn tool(&self, tool: &str) -> Command {
        let path = self.bin.join(tool);
        if is_root() {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(&path);
            command
        } else {
            Command::new(&path)
        }
    }

    fn run_tool(&self, tool: &str, args: &[&str]) {
        let path = self.bin.join(tool);
        let out = self
            .tool(tool)
            .args(args)
            .current_dir(&self.dir)
            .output()
            .unwrap_or_else(|e| panic!("running {}: {e}", path.display()));
        assert!(
            out.status.success(),
            "{tool} {args:?} failed: {}{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
        );
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.dir.join("cluster");
        let _ = self
            .tool("pg_ctl")
            .args(["-D", data.to_str().unwrap(), "stop", "-m", "immediate"])
            .output();
    }
}

/// The newest installed server's programs.
fn server_bin() -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
                .filter(|bin| bin.join("initdb").exists())
                .collect()
        })
        .unwrap_or_default();
    versions.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    versions.pop().expect(
        "no PostgreSQL server under /usr/lib/postgresql: ./test.sh installs Debian's `postgresql`",
    )
}

fn is_root() -> bool {
    // SAFETY: getuid has no preconditions.
    unsafe { libc::getuid() == 0 }
}

/// A TCP port free on 127.0.0.1 now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
