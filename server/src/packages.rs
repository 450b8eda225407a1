//! Pure-Python dependencies for scripts. Requirement lines are resolved with the
//! machine's pip to wheels that run anywhere (`py3-none-any`); a package that needs
//! native code has no such wheel and is refused by name. The wheels are unpacked once
//! into a content-addressed directory that jobs mount read-only at `/packages`.

use anyhow::Context;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::process::Command;

/// Where environments live and how pip is asked.
#[derive(Debug, Clone)]
pub struct Packages {
    root: PathBuf,
    python: String,
    find_links: Option<PathBuf>,
    no_index: bool,
}

/// Why requirements could not be resolved; the message is for the user.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

const RESOLVE_TIMEOUT: Duration = Duration::from_secs(300);

impl Packages {
    pub fn new(data_dir: &Path, find_links: Option<PathBuf>, no_index: bool) -> Self {
        Self {
            root: data_dir.join("packages"),
            python: std::env::var("AUTOMA_PYTHON").unwrap_or_else(|_| "python3".into()),
            find_links,
            no_index,
        }
    }

    /// The directory of an environment.
    pub fn env_dir(&self, hash: &str) -> PathBuf {
        self.root.join("envs").join(hash)
    }

    /// Resolve and install `requirements`; returns the environment's hash, `None`
    /// when there are none.
    pub async fn resolve(&self, requirements: &[String]) -> Result<Option<String>, PackageError> {
        if requirements.is_empty() {
            return Ok(None);
        }
        for line in requirements {
            check_line(line)?;
        }
        std::fs::create_dir_all(self.root.join("downloads"))
            .context("creating the package store")?;
        let download =
            tempfile::tempdir_in(self.root.join("downloads")).context("creating a download dir")?;
        let mut pip = Command::new(&self.python);
        pip.args([
            "-m",
            "pip",
            "download",
            "--disable-pip-version-check",
            "--no-input",
            "--quiet",
        ])
        .args([
            "--only-binary=:all:",
            "--platform",
            "any",
            "--implementation",
            "py",
            "--abi",
            "none",
        ])
        .args(["--python-version", "3.14", "-d"])
        .arg(download.path());
        if let Some(links) = &self.find_links {
            pip.arg("--find-links").arg(links);
        }
        if self.no_index {
            pip.arg("--no-index");
        }
        pip.arg("--").args(requirements).kill_on_drop(true);
        let output = tokio::time::timeout(RESOLVE_TIMEOUT, pip.output())
            .await
            .map_err(|_| {
                PackageError::Invalid(
                    "resolving the requirements took longer than 5 minutes".into(),
                )
            })?
            .context("running pip")?;
        if !output.status.success() {
            return Err(PackageError::Invalid(explain_pip_failure(
                &String::from_utf8_lossy(&output.stderr),
            )));
        }
        let mut wheels: Vec<PathBuf> = std::fs::read_dir(download.path())
            .context("reading downloads")?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "whl"))
            .collect();
        wheels.sort();
        let mut env_hasher = Sha256::new();
        for wheel in &wheels {
            let bytes = std::fs::read(wheel).context("reading a wheel")?;
            env_hasher.update(
                wheel
                    .file_name()
                    .map(|n| n.as_encoded_bytes())
                    .unwrap_or_default(),
            );
            env_hasher.update(Sha256::digest(&bytes));
        }
        let hash = hex::encode(env_hasher.finalize())[..32].to_owned();
        let target = self.env_dir(&hash);
        if target.exists() {
            return Ok(Some(hash));
        }
        let partial = self
            .root
            .join("envs")
            .join(format!("{hash}.partial-{}", std::process::id()));
        std::fs::create_dir_all(&partial).context("creating an environment")?;
        for wheel in &wheels {
            // Python's zipfile refuses absolute paths and `..` in member names.
            let status = Command::new(&self.python)
                .args(["-m", "zipfile", "-e"])
                .arg(wheel)
                .arg(&partial)
                .status()
                .await
                .context("unpacking a wheel")?;
            if !status.success() {
                return Err(PackageError::Invalid(format!(
                    "cannot unpack {}",
                    wheel
                        .file_name()
                        .map(|n| n.to_string_lossy())
                        .unwrap_or_default()
                )));
            }
        }
        if let Err(e) = std::fs::rename(&partial, &target) {
            let _ = std::fs::remove_dir_all(&partial);
            if !target.exists() {
                return Err(anyhow::Error::from(e)
                    .context("storing an environment")
                    .into());
            }
        }
        Ok(Some(hash))
    }
}

/// Requirement lines are names with optional extras and version specifiers only: no
/// pip options, URLs or paths.
fn check_line(line: &str) -> Result<(), PackageError> {
    let ok = !line.trim().is_empty()
        && line.len() <= 200
        && line.starts_with(|c: char| c.is_ascii_alphanumeric())
        && line
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-[]<>=!~,*+ ".contains(c));
    if ok {
        Ok(())
    } else {
        Err(PackageError::Invalid(format!(
            "invalid requirement {line:?}: use a package name with an optional version, like `humanize==4.9.0`"
        )))
    }
}

fn explain_pip_failure(stderr: &str) -> String {
    if let Some(name) = stderr
        .lines()
        .find_map(|l| l.split("No matching distribution found for ").nth(1))
    {
        return format!(
            "{} has no pure-Python wheel for Python 3.14, or does not exist; packages with \
             native code cannot run in the sandbox",
            name.trim()
        );
    }
    let last = stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("pip failed");
    format!("resolving the requirements failed: {}", last.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirement_lines_cannot_smuggle_options_or_paths() {
        for ok in [
            "humanize",
            "humanize==4.9.0",
            "requests[socks]>=2,<3",
            "a.b-c_d",
        ] {
            assert!(check_line(ok).is_ok(), "{ok}");
        }
        for bad in [
            "--index-url=http://x",
            "-e .",
            "/etc/passwd",
            "pkg @ https://x/y.whl",
            "",
            "x; rm -rf /",
        ] {
            assert!(check_line(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn native_packages_are_named() {
        let message = explain_pip_failure(
            "ERROR: Could not find a version that satisfies the requirement numpy (from versions: none)\nERROR: No matching distribution found for numpy\n",
        );
        assert!(
            message.starts_with("numpy has no pure-Python wheel"),
            "{message}"
        );
    }
}
