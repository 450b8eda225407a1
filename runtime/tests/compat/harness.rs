//! One case, two interpreters: the sandbox with the packages at `/packages`, and the
//! machine's python3 with the same directory first on `sys.path` as the reference.

use super::common;
use super::packages::site_dir;
use automa_runtime::host::{Capabilities, TlsTrust};
use automa_runtime::{Limits, RunStatus};
use std::sync::Arc;
use std::time::Duration;

/// What a case needs from its run besides the packages.
#[derive(Default, Clone)]
pub struct Setup {
    /// Python lines run before the case in both interpreters (peer ports and such).
    pub prelude: String,
    pub caps: Capabilities,
    /// A PEM CA the host trusts besides the webpki roots (the test's TLS peer).
    pub ca_pem: Option<String>,
}

/// How one case went.
pub enum Verdict {
    /// Both ran cleanly and printed the same.
    Same,
    /// The sandbox failed or printed something else.
    Differs(String),
    /// The native reference failed: the case itself is broken.
    Broken(String),
}

pub async fn compare(case: &str, setup: &Setup) -> Verdict {
    let native = match native(case, setup).await {
        Ok(stdout) => stdout,
        Err(e) => return Verdict::Broken(format!("the native reference failed: {e}")),
    };
    match sandbox(case, setup).await {
        Ok(stdout) if stdout == native => Verdict::Same,
        Ok(stdout) => Verdict::Differs(format!(
            "output differs\n--- native\n{native}\n--- sandbox\n{stdout}"
        )),
        Err(e) => Verdict::Differs(e),
    }
}

/// The case under the machine's python3: `-S` keeps its own site-packages out and
/// `-E` its environment's PYTHON* variables, so only the pinned packages are seen.
pub async fn native(case: &str, setup: &Setup) -> Result<String, String> {
    let source = format!(
        "import sys\nsys.path.insert(0, {site:?})\n{prelude}\n{case}",
        site = site_dir().to_string_lossy(),
        prelude = setup.prelude
    );
    let cwd = tempfile::tempdir().unwrap();
    let run = tokio::process::Command::new("python3")
        .args(["-S", "-E", "-X", "utf8", "-c", &source])
        .current_dir(cwd.path())
        .env("TZ", "UTC")
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .map_err(|_| "timed out".to_owned())?
        .map_err(|e| format!("python3: {e}"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

/// The case in the sandbox; its stdout, or why it did not succeed.
pub async fn sandbox(case: &str, setup: &Setup) -> Result<String, String> {
    let source = format!("{}\n{case}", setup.prelude);
    let recorder = Arc::new(common::Recorder::default());
    let mut request = common::request(&source, setup.caps.clone(), &recorder);
    request.mounts.packages = Some(site_dir().to_path_buf());
    request.limits = Limits {
        memory_bytes: 512 * 1024 * 1024,
        timeout: Duration::from_secs(120),
        ..Limits::default()
    };
    if let Some(pem) = &setup.ca_pem {
        request.host.tls = Arc::new(TlsTrust::with_extra_pem(pem.as_bytes(), "test CA").unwrap());
    }
    let outcome = common::runtime().run(request).await;
    if outcome.status == RunStatus::Succeeded {
        Ok(outcome.stdout)
    } else {
        let (kind, message, traceback) = outcome
            .error
            .map(|e| (e.kind, e.message, e.traceback))
            .unwrap_or_default();
        Err(format!(
            "{}: {kind}: {message}\n{traceback}",
            outcome.status.as_str()
        ))
    }
}
