//! Real processes of the `automa` binary for tests and benchmarks: an admin created with
//! `automa user create`, a node started and its address read from its JSON log, killed
//! (SIGKILL) when dropped, and the CPU time it used.
// Each test binary or benchmark compiles this module on its own and uses a part of it.
#![allow(dead_code)]

use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// `automa <subcommand>` with the shared runner cache and the given database (`None`:
/// the data dir's SQLite file, whatever the environment says).
pub fn automa(subcommand: &str, database_url: Option<&str>) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_automa"));
    cmd.arg(subcommand).env("AUTOMA_CACHE_DIR", cache_dir());
    match database_url {
        Some(url) => cmd.env("DATABASE_URL", url),
        None => cmd.env_remove("DATABASE_URL"),
    };
    cmd
}

/// One compiled runner for every process of the test run.
pub fn cache_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("automa-cache")
}

/// `automa serve` alone on the SQLite database of `data_dir`, on a random port.
pub fn serve_sqlite(data_dir: &Path) -> ServerProcess {
    let mut cmd = automa("serve", None);
    cmd.args([
        "--log-format",
        "json",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
    ])
    .arg(data_dir);
    ServerProcess::start(cmd)
}

/// Resident memory of process `pid` (a server's, read from `/proc`, not this test
/// process's, whose other tests allocate as they please).
pub fn rss_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kb * 1024
}

/// Create an admin with `automa user create` (the password read from stdin).
pub fn create_admin(data: &Path, database_url: Option<&str>, email: &str, password: &str) {
    let mut create = automa("user", database_url)
        .args(["create", "--admin", "--email", email, "--data-dir"])
        .arg(data)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("automa user create");
    writeln!(create.stdin.take().expect("stdin"), "{password}").expect("password");
    assert!(create.wait().expect("user create").success());
}

/// Sign in at `base` with a password; the access token.
pub async fn login(client: &reqwest::Client, base: &str, email: &str, password: &str) -> String {
    let answer: Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"email": email, "password": password}))
        .send()
        .await
        .expect("login request")
        .json()
        .await
        .expect("login answer");
    answer["access_token"]
        .as_str()
        .expect("an access token")
        .to_owned()
}

/// A server process; killed with SIGKILL when dropped.
pub struct ServerProcess {
    pub child: Child,
    /// `host:port` it listens on.
    pub addr: String,
}

impl ServerProcess {
    /// Spawn `cmd` (which must log JSON to stdout) and wait until it says where it
    /// listens.
    pub fn start(mut cmd: Command) -> Self {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawning automa");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<Value>(&line)
                    && v["message"] == "listening"
                {
                    let _ = tx.send(v["addr"].as_str().unwrap_or_default().to_owned());
                }
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(120))
            .expect("server listening");
        Self { child, addr }
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// SIGKILL: no shutdown code runs.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// User plus system CPU seconds the process used so far (Linux `/proc`).
    pub fn cpu_seconds(&self) -> f64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        // After the command name (in parentheses) utime and stime are the 12th and 13th
        // fields, in clock ticks (100 a second on Linux).
        let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|f| f.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        (ticks(11) + ticks(12)) / 100.0
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
