//! Running the machine's pip, isolated: `python -I -m pip --isolated`, no configuration
//! file (`PIP_CONFIG_FILE=/dev/null`), no netrc, no cache, a cleared environment, and
//! an empty temporary working directory, so nothing of the server's cwd, user or
//! environment steers it. Only binary wheels are ever fetched (`--only-binary :all:`).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;
use tokio::process::Command;

/// Variables pip may still see: how to find the interpreter and the network.
const PASSED_ENV: [&str; 12] = [
    "PATH",
    "HOME",
    "PYENV_ROOT",
    "PYENV_VERSION",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
];

/// Which wheels a query considers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// What the sandbox can run: pure-Python wheels for Python 3.14.
    Pure,
    /// Wheels with native code for the common platforms.
    Platform,
}

impl Target {
    fn args(self) -> Vec<&'static str> {
        match self {
            Target::Pure => vec![
                "--only-binary=:all:",
                "--platform",
                "any",
                "--implementation",
                "py",
                "--abi",
                "none",
                "--python-version",
                "3.14",
            ],
            Target::Platform => {
                let mut args = vec!["--only-binary=:all:", "--implementation", "cp"];
                for platform in [
                    "manylinux_2_28_x86_64",
                    "manylinux_2_17_x86_64",
                    "manylinux2014_x86_64",
                    "manylinux_2_28_aarch64",
                    "manylinux_2_17_aarch64",
                    "musllinux_1_2_x86_64",
                    "macosx_11_0_arm64",
                    "macosx_10_12_x86_64",
                    "macosx_10_9_x86_64",
                    "win_amd64",
                ] {
                    args.extend(["--platform", platform]);
                }
                args
            }
        }
    }
}

/// What pip printed and whether it succeeded.
#[derive(Debug)]
pub struct PipOutput {
    pub success: bool,
    /// stdout and stderr together (pip explains conflicts on stdout).
    pub text: String,
}

/// How pip is run.
#[derive(Debug, Clone)]
pub struct Pip {
    pub python: String,
    pub find_links: Option<PathBuf>,
    pub no_index: bool,
}

/// A work directory of one resolution: an empty cwd, pip's TMPDIR and the downloads.
pub struct WorkDir {
    pub root: tempfile::TempDir,
}

impl WorkDir {
    pub fn new(parent: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(parent)?;
        let root = tempfile::tempdir_in(parent)?;
        for sub in ["cwd", "tmp", "wheels"] {
            std::fs::create_dir(root.path().join(sub))?;
        }
        Ok(Self { root })
    }
    pub fn cwd(&self) -> PathBuf {
        self.root.path().join("cwd")
    }
    pub fn wheels(&self) -> PathBuf {
        self.root.path().join("wheels")
    }
}

/// Ends a pip run early: checked every few hundred milliseconds while it runs.
pub type Watch<'a> = &'a (dyn Fn() -> Option<String> + Sync);

impl Pip {
    fn command(&self, work: &WorkDir, subcommand: &[&str]) -> Command {
        let mut cmd = Command::new(&self.python);
        cmd.env_clear();
        for name in PASSED_ENV {
            if let Some(value) = std::env::var_os(name) {
                cmd.env(name, value);
            }
        }
        cmd.env("PIP_CONFIG_FILE", "/dev/null")
            .env("NETRC", "/dev/null")
            .env("TMPDIR", work.root.path().join("tmp"))
            .env("LC_ALL", "C.UTF-8")
            .current_dir(work.cwd())
            .args(["-I", "-m", "pip", "--isolated"])
            .args(subcommand)
            .args([
                "--disable-pip-version-check",
                "--no-input",
                "--no-cache-dir",
                "--no-color",
            ]);
        if let Some(links) = &self.find_links {
            cmd.arg("--find-links").arg(links);
        }
        if self.no_index {
            cmd.arg("--no-index");
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        cmd
    }

    /// Download pure-Python wheels for `lines` (and their dependencies) into the work
    /// directory's `wheels/`.
    pub async fn download(
        &self,
        work: &WorkDir,
        lines: &[String],
        timeout: Duration,
        watch: Watch<'_>,
    ) -> Result<PipOutput, String> {
        let mut cmd = self.command(work, &["download"]);
        cmd.args(Target::Pure.args())
            .arg("-d")
            .arg(work.wheels())
            .arg("--")
            .args(lines);
        run(cmd, timeout, watch).await
    }

    /// Download the one wheel `requirement` pins (`name==version`), without its
    /// dependencies, into the work directory's `wheels/` (the data profile's wheel).
    pub async fn download_pinned(
        &self,
        work: &WorkDir,
        requirement: &str,
        timeout: Duration,
    ) -> Result<PipOutput, String> {
        let mut cmd = self.command(work, &["download", "--no-deps"]);
        cmd.args(Target::Pure.args())
            .arg("-d")
            .arg(work.wheels())
            .arg("--")
            .arg(requirement);
        run(cmd, timeout, &|| None).await
    }

    /// The releases of `name` on the index, newest first, whatever files they have
    /// (`pip index versions` lists source archives too); `None` when there are none.
    pub async fn versions(&self, work: &WorkDir, name: &str) -> Option<Vec<String>> {
        let mut cmd = self.command(work, &["index", "versions"]);
        cmd.arg("--").arg(name);
        let output = run(cmd, PROBE_TIMEOUT, &|| None).await.ok()?;
        output
            .success
            .then(|| parse_versions(&output.text))
            .flatten()
    }

    /// The version of `requirement` pip would pick from wheels for `target`, without
    /// its dependencies and without installing anything (`install --dry-run --report`).
    pub async fn probe(&self, work: &WorkDir, requirement: &str, target: Target) -> Option<String> {
        let report = work.root.path().join("probe.json");
        let _ = std::fs::remove_file(&report);
        let mut cmd = self.command(
            work,
            &["install", "--dry-run", "--no-deps", "--ignore-installed"],
        );
        cmd.args(target.args())
            .arg("--target")
            .arg(work.root.path().join("probe-target"))
            .arg("--report")
            .arg(&report)
            .arg("--")
            .arg(requirement);
        let output = run(cmd, PROBE_TIMEOUT, &|| None).await.ok()?;
        if !output.success {
            return None;
        }
        let report: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&report).ok()?).ok()?;
        report["install"][0]["metadata"]["version"]
            .as_str()
            .map(str::to_owned)
    }
}

/// Queries made to explain a failure are short.
const PROBE_TIMEOUT: Duration = Duration::from_secs(60);

async fn run(mut cmd: Command, timeout: Duration, watch: Watch<'_>) -> Result<PipOutput, String> {
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("pip cannot be started ({e}); is Python with pip installed?"))?;
    let stdout = tokio::spawn(drain(child.stdout.take()));
    let stderr = tokio::spawn(drain(child.stderr.take()));
    let deadline = Instant::now() + timeout;
    let status = loop {
        tokio::select! {
            status = child.wait() => break status.map_err(|e| format!("pip failed to run: {e}"))?,
            _ = tokio::time::sleep(Duration::from_millis(200)) => {
                if let Some(stop) = watch() {
                    let _ = child.kill().await;
                    return Err(stop);
                }
                if Instant::now() > deadline {
                    let _ = child.kill().await;
                    return Err(format!(
                        "resolving the requirements took longer than {} seconds \
                         (packages.resolve_timeout_secs)",
                        timeout.as_secs()
                    ));
                }
            }
        }
    };
    let mut text = stdout.await.unwrap_or_default();
    text.push('\n');
    text.push_str(&stderr.await.unwrap_or_default());
    Ok(PipOutput {
        success: status.success(),
        text,
    })
}

/// Read a pipe to its end, keeping the first 256 KiB.
async fn drain(pipe: Option<impl tokio::io::AsyncRead + Unpin>) -> String {
    let Some(mut pipe) = pipe else {
        return String::new();
    };
    let mut kept = Vec::new();
    let mut buf = [0u8; 8192];
    while let Ok(n) = pipe.read(&mut buf).await {
        if n == 0 {
            break;
        }
        if kept.len() < 256 * 1024 {
            kept.extend_from_slice(&buf[..n]);
        }
    }
    String::from_utf8_lossy(&kept).into_owned()
}

/// `Available versions: 2.0, 1.0` from `pip index versions`.
fn parse_versions(text: &str) -> Option<Vec<String>> {
    let list = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Available versions:"))?;
    let versions: Vec<String> = list
        .split(',')
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .collect();
    (!versions.is_empty()).then_some(versions)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn index_versions_are_read_newest_first() {
        let text = "WARNING: pip index is currently an experimental command.\nfancy (2.0)\nAvailable versions: 2.0, 1.0\n";
        assert_eq!(parse_versions(text), Some(vec!["2.0".into(), "1.0".into()]));
        assert_eq!(
            parse_versions("ERROR: No matching distribution found for x"),
            None
        );
    }
}
