//! Runs of stored scripts: a script version's grants read from the database (its
//! capabilities, decrypted secrets, package environment, data directory) and the
//! server's ports (HTTP, SMTP, state, plugins, the host-call audit). The job workers and
//! the agent supervisor share one `Runs`, so an agent gets exactly what a job of the
//! same script gets.

use super::builder::{RunInputs, RunPorts};
use crate::audit::{HostCalls, RunRef};
use crate::db::scripts::{ScriptRow, VersionRow};
use crate::db::{Db, state_store::DbState};
use crate::packages::Packages;
use crate::plugins::Plugins;
use automa_runtime::Limits;
use automa_runtime::host::ports::{HttpClient, Mailer, RunEvents};
use automa_runtime::host::{Capabilities, ReqwestClient, TlsTrust};
use std::path::PathBuf;
use std::sync::Arc;

/// Why a run of a stored script cannot start. The message is for the script's owner.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(
        "the script's package environment {0} is missing; save the script's requirements again"
    )]
    PackagesMissing(String),
    #[error("the script's stored capabilities cannot be read ({0}); an admin can set them again")]
    Capabilities(serde_json::Error),
    #[error("the script's data directory cannot be created: {0}")]
    DataDir(std::io::Error),
    #[error("{0}")]
    Settings(String),
}

/// What the server builds runs of stored scripts from. Cheap to clone.
#[derive(Clone)]
pub struct Runs(Arc<Inner>);

struct Inner {
    db: Db,
    secrets_key: Vec<u8>,
    data_dir: PathBuf,
    packages: Packages,
    http: Arc<ReqwestClient>,
    mailer: Option<Arc<dyn Mailer>>,
    plugins: Plugins,
    host_calls: HostCalls,
    tls: Arc<TlsTrust>,
    quotas: crate::quotas::Quotas,
    memory: crate::quotas::MemoryPool,
}

/// What [`Runs`] is made of.
pub struct RunsSetup {
    pub db: Db,
    pub secrets_key: Vec<u8>,
    pub data_dir: PathBuf,
    pub packages: Packages,
    pub mailer: Option<Arc<dyn Mailer>>,
    pub plugins: Plugins,
    pub host_calls: HostCalls,
    /// The CAs scripts' TLS connections trust (`tls_extra_ca_certs`).
    pub tls: Arc<TlsTrust>,
    /// The server's quotas (`[quotas]`).
    pub quotas: crate::quotas::Quotas,
}

impl Runs {
    pub fn new(setup: RunsSetup) -> Self {
        Self(Arc::new(Inner {
            db: setup.db,
            secrets_key: setup.secrets_key,
            data_dir: setup.data_dir,
            packages: setup.packages,
            http: Arc::new(ReqwestClient::new()),
            mailer: setup.mailer,
            plugins: setup.plugins,
            host_calls: setup.host_calls,
            tls: setup.tls,
            memory: crate::quotas::MemoryPool::new(setup.quotas.total_sandbox_memory_mb),
            quotas: setup.quotas,
        }))
    }

    /// The server's quotas.
    pub fn quotas(&self) -> &crate::quotas::Quotas {
        &self.0.quotas
    }

    /// The sandbox memory committed to running jobs and agents.
    pub fn memory(&self) -> &crate::quotas::MemoryPool {
        &self.0.memory
    }

    /// The ceilings that apply to `user_id`'s runs.
    pub async fn ceilings(&self, user_id: &str) -> sqlx::Result<crate::quotas::Ceilings> {
        crate::quotas::Ceilings::load(&self.0.db, &self.0.quotas, user_id).await
    }

    /// The runtime's request for `inputs` over `ports`, under the server's quotas of
    /// host calls and state.
    pub fn request(
        &self,
        inputs: RunInputs,
        ports: RunPorts,
        cancel: automa_runtime::CancellationToken,
    ) -> automa_runtime::RunRequest {
        let mut request = inputs.into_request(ports, cancel);
        request.host.limits = self.0.quotas.call_limits();
        request
    }

    /// The SMTP mailer, when configured (also used for notifications).
    pub fn mailer(&self) -> Option<&Arc<dyn Mailer>> {
        self.0.mailer.as_ref()
    }

    /// The store of scripts' Python dependencies.
    pub fn packages(&self) -> &Packages {
        &self.0.packages
    }

    /// The plugin registry runs call into.
    pub fn plugins(&self) -> &Plugins {
        &self.0.plugins
    }

    /// The script's persistent directory, mounted at `/data`.
    pub fn data_dir(&self, script_id: &str) -> PathBuf {
        self.0.data_dir.join("scripts").join(script_id).join("data")
    }

    /// The inputs of a run of `version` of `script` with everything the script was
    /// granted; artifacts are the caller's to add.
    pub async fn inputs(
        &self,
        script: &ScriptRow,
        version: &VersionRow,
        args: serde_json::Value,
        limits: Limits,
    ) -> Result<RunInputs, SetupError> {
        let capabilities: Capabilities =
            serde_json::from_str(&script.capabilities).map_err(SetupError::Capabilities)?;
        let profile = script
            .run_settings()
            .map_err(|corrupt| SetupError::Settings(corrupt.to_string()))?
            .runtime
            .into();
        let packages = match &version.env_hash {
            Some(hash) => {
                let dir = self.0.packages.env_dir(hash);
                if !dir.is_dir() {
                    return Err(SetupError::PackagesMissing(hash.clone()));
                }
                Some(dir)
            }
            None => None,
        };
        let data_dir = self.data_dir(&script.id);
        std::fs::create_dir_all(&data_dir).map_err(SetupError::DataDir)?;
        let secrets =
            crate::secrets::granted(&self.0.db, &self.0.secrets_key, &capabilities.secrets).await;
        Ok(RunInputs {
            source: version.source.clone(),
            filename: format!("{}.py", script.name),
            args,
            capabilities,
            secrets,
            packages,
            data_dir: Some(data_dir),
            artifacts_dir: None,
            limits,
            profile,
        })
    }

    /// The ports of a run of the script `script_id` (a job or an agent instance,
    /// `run`) whose output, logs and plugin log lines go to `events`.
    pub fn ports(&self, script_id: &str, run: RunRef, events: Arc<dyn RunEvents>) -> RunPorts {
        let http: Arc<dyn HttpClient> = self.0.http.clone();
        RunPorts {
            http,
            mailer: self.0.mailer.clone(),
            audit: self
                .0
                .host_calls
                .sink(format!("script:{script_id}"), run.clone()),
            state: Some(Arc::new(DbState::script(self.0.db.clone(), script_id))),
            plugins: Some(self.0.plugins.caller(run, events.clone())),
            events,
            agent: None,
            tls: self.0.tls.clone(),
        }
    }
}
