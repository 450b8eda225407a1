//! Pure-Python dependencies for scripts. Requirement lines (names and versions only) are
//! resolved with the machine's pip, run isolated, to wheels that run anywhere
//! (`py3-none-any`); a package that needs native code has no such wheel and is refused
//! by name. The wheels are unpacked once, within size limits, into a content-addressed
//! directory that jobs mount read-only at `/packages`; its manifest lists the resolved
//! distributions. Resolutions are bounded server-wide, and environments no script
//! version uses any more are removed.

pub mod data_profile;
mod explain;
pub mod pip;
pub mod requirement;
mod settings;
mod sweep;
pub mod wheel;

use anyhow::Context;
use pip::{Pip, WorkDir};
pub use settings::PackageSettings;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
pub use wheel::Distribution;

/// The manifest in each environment: the distributions it holds.
const MANIFEST: &str = "automa-env.json";

/// Where environments live and how pip is asked.
#[derive(Debug, Clone)]
pub struct Packages {
    root: PathBuf,
    pip: Pip,
    settings: PackageSettings,
    /// The bound on resolutions running at once, server-wide.
    slots: Arc<Semaphore>,
    /// Compiles a new environment to byte code for the sandbox's CPython.
    compiler: Option<ByteCompiler>,
}

/// The runtime that byte-compiles environments (its own `Debug`: the runtime has none).
#[derive(Clone)]
struct ByteCompiler(Arc<automa_runtime::Runtime>);

impl std::fmt::Debug for ByteCompiler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ByteCompiler")
    }
}

/// Why requirements could not be resolved; the message is for the user.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    #[error("{0}")]
    Invalid(String),
    /// Every resolution slot stayed taken for the whole queue timeout.
    #[error("{0}")]
    Busy(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Manifest {
    distributions: Vec<Distribution>,
}

impl Packages {
    pub fn new(
        data_dir: &Path,
        find_links: Option<PathBuf>,
        no_index: bool,
        settings: PackageSettings,
    ) -> Self {
        Self {
            root: data_dir.join("packages"),
            pip: Pip {
                python: settings.python.clone(),
                find_links,
                no_index,
            },
            slots: Arc::new(Semaphore::new(settings.max_concurrent.max(1))),
            settings,
            compiler: None,
        }
    }

    /// Compile new environments to byte code with `runtime` before any run mounts
    /// them (imports then load `.pyc` files instead of compiling every run).
    pub fn compiled_by(mut self, runtime: Arc<automa_runtime::Runtime>) -> Self {
        self.compiler = Some(ByteCompiler(runtime));
        self
    }

    /// The directory of an environment.
    pub fn env_dir(&self, hash: &str) -> PathBuf {
        self.root.join("envs").join(hash)
    }

    /// The distributions of an environment (empty when it is gone). Environments made
    /// before manifests existed are read from their `*.dist-info` directories.
    pub fn distributions(&self, hash: &str) -> Vec<Distribution> {
        let dir = self.env_dir(hash);
        if let Ok(text) = std::fs::read_to_string(dir.join(MANIFEST))
            && let Ok(manifest) = serde_json::from_str::<Manifest>(&text)
        {
            return manifest.distributions;
        }
        let mut found: Vec<Distribution> = std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter_map(|n| {
                let stem = n.strip_suffix(".dist-info")?;
                Distribution::from_wheel_name(&format!("{stem}-py3-none-any.whl"))
            })
            .collect();
        found.sort_by(|a, b| a.name.cmp(&b.name));
        found
    }

    /// Resolve and install `requirements`; returns the environment's hash, `None`
    /// when there are none.
    pub async fn resolve(&self, lines: &[String]) -> Result<Option<String>, PackageError> {
        if lines.is_empty() {
            return Ok(None);
        }
        let requirements = lines
            .iter()
            .map(|l| requirement::parse(l))
            .collect::<Result<Vec<_>, _>>()
            .map_err(PackageError::Invalid)?;
        let queue = Duration::from_secs(self.settings.queue_timeout_secs);
        let _slot = tokio::time::timeout(queue, self.slots.acquire())
            .await
            .map_err(|_| {
                PackageError::Busy(format!(
                    "the server is already resolving the requirements of {} other saves \
                     (packages.max_concurrent) and none finished within {} seconds; try again \
                     in a moment",
                    self.settings.max_concurrent,
                    queue.as_secs()
                ))
            })?
            .context("the resolution queue is closed")?;
        let work = WorkDir::new(&self.root.join("work")).context("creating a pip work dir")?;
        let pip_lines: Vec<String> = requirements.iter().map(|r| r.line.clone()).collect();
        let timeout = Duration::from_secs(self.settings.resolve_timeout_secs);
        let watch = || self.over_download_limit(work.root.path());
        let output = self
            .pip
            .download(&work, &pip_lines, timeout, &watch)
            .await
            .map_err(PackageError::Invalid)?;
        if !output.success {
            return Err(PackageError::Invalid(
                explain::failure(&self.pip, &work, &output.text).await,
            ));
        }
        let wheels = self.downloaded(&work.wheels())?;
        let resolved: Vec<Distribution> = wheels.iter().map(|(_, d)| d.clone()).collect();
        explain::check_truth(&self.pip, &work, &requirements, &resolved, timeout)
            .await
            .map_err(PackageError::Invalid)?;
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.install(&wheels))
            .await
            .context("installing wheels")?
            .map(Some)
    }

    /// The downloaded wheels with their distributions, each within the size limit.
    fn downloaded(&self, dir: &Path) -> Result<Vec<(PathBuf, Distribution)>, PackageError> {
        let mut wheels = Vec::new();
        let mut total = 0;
        for entry in std::fs::read_dir(dir).context("reading downloads")? {
            let path = entry.context("reading downloads")?.path();
            let Some(dist) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(Distribution::from_wheel_name)
            else {
                continue;
            };
            let size = std::fs::metadata(&path).context("reading a wheel")?.len();
            if size > self.settings.max_wheel_bytes {
                return Err(PackageError::Invalid(wheel_too_big(
                    &dist.label(),
                    size,
                    self.settings.max_wheel_bytes,
                )));
            }
            total += size;
            wheels.push((path, dist));
        }
        if total > self.settings.max_download_bytes {
            return Err(PackageError::Invalid(download_too_big(
                self.settings.max_download_bytes,
            )));
        }
        wheels.sort_by(|a, b| a.1.wheel.cmp(&b.1.wheel));
        Ok(wheels)
    }

    /// While pip downloads: a message when one file or all of them pass their limit.
    fn over_download_limit(&self, dir: &Path) -> Option<String> {
        let (total, largest) = sweep::tree_size(dir);
        if let Some((name, size)) = largest
            && size > self.settings.max_wheel_bytes
        {
            let label = Distribution::from_wheel_name(&name)
                .map(|d| d.label())
                .unwrap_or(name);
            return Some(wheel_too_big(&label, size, self.settings.max_wheel_bytes));
        }
        (total > self.settings.max_download_bytes)
            .then(|| download_too_big(self.settings.max_download_bytes))
    }

    /// Hash the wheels (streamed) and unpack them into their environment, once.
    fn install(&self, wheels: &[(PathBuf, Distribution)]) -> Result<String, PackageError> {
        let mut env_hasher = Sha256::new();
        for (path, dist) in wheels {
            env_hasher.update(dist.wheel.as_bytes());
            env_hasher.update(wheel::file_sha256(path).context("hashing a wheel")?);
        }
        let hash = hex::encode(env_hasher.finalize())[..32].to_owned();
        let target = self.env_dir(&hash);
        if target.exists() {
            sweep::touch(&target);
            return Ok(hash);
        }
        let envs = self.root.join("envs");
        std::fs::create_dir_all(&envs).context("creating the package store")?;
        let partial = tempfile::Builder::new()
            .prefix(&format!("{hash}.partial-"))
            .tempdir_in(&envs)
            .context("creating an environment")?;
        let limit = self.settings.max_unpacked_bytes;
        let mut budget = limit;
        for (path, dist) in wheels {
            wheel::unpack(path, dist, partial.path(), &mut budget, limit).map_err(|e| match e {
                wheel::WheelError::Refused(m) => PackageError::Invalid(m),
                wheel::WheelError::Io(e) => {
                    PackageError::Internal(anyhow::Error::from(e).context("unpacking a wheel"))
                }
            })?;
        }
        let manifest = Manifest {
            distributions: wheels.iter().map(|(_, d)| d.clone()).collect(),
        };
        std::fs::write(
            partial.path().join(MANIFEST),
            serde_json::to_vec_pretty(&manifest).context("writing the manifest")?,
        )
        .context("writing the manifest")?;
        if let Some(ByteCompiler(runtime)) = &self.compiler {
            // On a blocking thread of the server's runtime: waiting here is allowed.
            let compiled = tokio::runtime::Handle::current()
                .block_on(runtime.compile_packages(partial.path()));
            if let Err(problem) = compiled {
                tracing::warn!(env = %hash, %problem, "byte-compiling an environment");
            }
        }
        let partial = partial.keep();
        if let Err(e) = std::fs::rename(&partial, &target) {
            let _ = std::fs::remove_dir_all(&partial);
            if !target.exists() {
                return Err(anyhow::Error::from(e)
                    .context("storing an environment")
                    .into());
            }
        }
        Ok(hash)
    }

    /// Remove environments no script version references (`referenced`), except those
    /// younger than the grace period (a save may be about to store its hash). Returns
    /// how many were removed.
    pub async fn sweep(&self, referenced: Vec<String>) -> usize {
        let root = self.root.clone();
        let grace = Duration::from_secs(self.settings.unused_grace_secs);
        tokio::task::spawn_blocking(move || sweep::remove_unused(&root, &referenced, grace))
            .await
            .unwrap_or(0)
    }
}

/// Remove the environments no script version references any more (after a delete).
/// A failure is logged, never returned: the delete itself has happened.
pub async fn sweep_unused(db: &crate::db::Db, packages: &Packages) {
    match crate::db::scripts::env_hashes(db).await {
        Ok(referenced) => {
            packages.sweep(referenced).await;
        }
        Err(e) => tracing::warn!(error = %e, "cannot list the package environments in use"),
    }
}

fn download_too_big(limit: u64) -> String {
    format!(
        "the requirements' wheels together are more than the {} download limit \
         (packages.max_download_bytes)",
        bytesize::ByteSize(limit)
    )
}

fn wheel_too_big(label: &str, size: u64, limit: u64) -> String {
    format!(
        "the wheel of {label} is {}, more than the {} limit for one wheel \
         (packages.max_wheel_bytes)",
        bytesize::ByteSize(size),
        bytesize::ByteSize(limit)
    )
}
