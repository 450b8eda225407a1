//! A server program the test starts on 127.0.0.1 (Debian's redis-server, mosquitto,
//! mariadbd, dovecot; pyftpdlib in the test-tools venv): its own temporary directory,
//! its output in a log file there, ready once its ports accept, stopped on drop.

use std::collections::BTreeSet;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a server may take to come up (they take well under a second here).
const READY_WITHIN: Duration = Duration::from_secs(20);

pub struct Daemon {
    pub name: &'static str,
    child: Child,
    pub dir: tempfile::TempDir,
}

/// A port nothing listens on now, for a server to bind; never the same twice in one
/// test process (the kernel may hand a just-closed port out again).
pub fn free_port() -> u16 {
    static GIVEN: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    loop {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if GIVEN.lock().unwrap().insert(port) {
            return port;
        }
    }
}

/// The program's path, or a panic that says how to get it.
pub fn program(candidates: &[&str], package: &str) -> PathBuf {
    for candidate in candidates {
        let path = Path::new(candidate);
        if path.is_file() {
            return path.to_path_buf();
        }
    }
    panic!(
        "{} not found: install the Debian package {package} (scripts/test does)",
        candidates.join(" or ")
    )
}

/// Whether the test runs as root (the servers then drop to their own users).
pub fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

impl Daemon {
    /// A fresh directory for a server's files, before it starts (to write its config).
    pub fn prepare() -> tempfile::TempDir {
        tempfile::Builder::new()
            .prefix("automa-compat-")
            .tempdir()
            .unwrap()
    }

    /// Starts `command` with its output in `dir/NAME.log`.
    pub fn spawn(name: &'static str, mut command: Command, dir: tempfile::TempDir) -> Self {
        let log = std::fs::File::create(dir.path().join(format!("{name}.log"))).unwrap();
        let child = command
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("start {name} ({command:?}): {e}"));
        Self { name, child, dir }
    }

    /// Waits until every port accepts a connection and `also` holds.
    pub fn wait_ready(&mut self, ports: &[u16], also: impl Fn(&Path) -> bool) {
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "{} exited ({status}) before it was ready:\n{}",
                    self.name,
                    self.log()
                );
            }
            let up = ports
                .iter()
                .all(|p| TcpStream::connect(("127.0.0.1", *p)).is_ok());
            if up && also(self.dir.path()) {
                return;
            }
            assert!(
                started.elapsed() < READY_WITHIN,
                "{} was not ready within {READY_WITHIN:?}:\n{}",
                self.name,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn log(&self) -> String {
        let path = self.dir.path().join(format!("{}.log", self.name));
        std::fs::read_to_string(path).unwrap_or_default()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // SIGTERM first so the servers end their own helper processes (dovecot's
        // login and mail processes), then SIGKILL whatever is left.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
