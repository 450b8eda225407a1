//! Notifications when a job reaches its final status: an email to the script's owner
//! and/or a JSON POST to a webhook, per the script's settings. They are sent in the
//! background and never change the job's outcome.

use super::Jobs;
use super::settings::RunSettings;
use crate::db::{self, jobs::JobRow};
use automa_runtime::host::Capabilities;
use automa_runtime::host::capabilities::is_non_public;
use automa_runtime::host::ports::OutboundEmail;
use automa_runtime::{RunOutcome, RunStatus};
use serde_json::json;
use std::time::Duration;

pub(super) fn after_final(jobs: &Jobs, job: &JobRow, settings: &RunSettings, outcome: &RunOutcome) {
    let succeeded = outcome.status == RunStatus::Succeeded;
    let wanted =
        (succeeded && settings.notify_on_success) || (!succeeded && settings.notify_on_failure);
    let webhook = settings.notify_webhook.clone();
    let settings = settings.clone();
    if !wanted && webhook.is_none() {
        return;
    }
    let jobs = jobs.clone();
    let job = job.clone();
    let status = outcome.status.as_str();
    let error = outcome
        .error
        .as_ref()
        .map(|e| format!("{}: {}", e.kind, e.message));
    tokio::spawn(async move {
        let script = db::scripts::find(&jobs.0.db, &job.script_id)
            .await
            .ok()
            .flatten();
        // The grant is checked again here: an admin may have withdrawn it since the save.
        // Corrupt grants grant nothing (and say so), like a deleted script.
        let caps: Capabilities = match script.as_ref().map(db::scripts::ScriptRow::grants) {
            Some(Ok(caps)) => caps,
            Some(Err(corrupt)) => {
                tracing::error!(job = %job.id, error = %corrupt, "checking the webhook grant");
                Capabilities::default()
            }
            None => Capabilities::default(),
        };
        let name = script
            .map(|s| s.name)
            .unwrap_or_else(|| job.script_id.clone());
        if wanted {
            email_owner(&jobs, &job, &name, status, error.as_deref()).await;
        }
        if let Some(refusal) = settings.notify_webhook_refusal(&caps) {
            tracing::warn!(job = %job.id, %refusal, "notification webhook not sent");
        } else if let Some(url) = webhook {
            let summary = json!({
                "job_id": job.id, "script_id": job.script_id, "script": name,
                "status": status, "error": error, "attempt": job.attempt,
            });
            if let Err(problem) = post_webhook(&url, &summary).await {
                tracing::warn!(job = %job.id, %problem, "notification webhook");
            }
        }
    });
}

async fn email_owner(jobs: &Jobs, job: &JobRow, script: &str, status: &str, error: Option<&str>) {
    let Some(mailer) = jobs.0.runs.mailer() else {
        tracing::warn!(job = %job.id, "a notification email was wanted but SMTP is not configured");
        return;
    };
    let Ok(Some(owner)) = db::users::find_by_id(&jobs.0.db, &job.owner_id).await else {
        return;
    };
    let mut text = format!("Job {} of script {script} ended: {status}.\n", job.id);
    if let Some(error) = error {
        text.push_str(&format!("\n{error}\n"));
    }
    let email = OutboundEmail {
        to: vec![owner.email],
        cc: Vec::new(),
        bcc: Vec::new(),
        subject: format!("[automa] {script}: {status}"),
        text,
        html: None,
        reply_to: None,
        attachments: Vec::new(),
    };
    if let Err(e) = mailer.send(email).await {
        tracing::warn!(job = %job.id, error = %e, "notification email");
    }
}

/// POST the summary; the URL must resolve to public addresses only (no SSRF into the
/// server's own network).
async fn post_webhook(url: &str, body: &serde_json::Value) -> Result<(), String> {
    let parsed = url::Url::parse(url).map_err(|e| e.to_string())?;
    let host = parsed.host_str().ok_or("no host")?.to_owned();
    let port = parsed.port_or_known_default().ok_or("no port")?;
    let addrs: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host.as_str(), port))
        .await
        .map_err(|e| e.to_string())?
        .collect();
    if addrs.is_empty() || addrs.iter().any(|a| is_non_public(a.ip())) {
        return Err(format!("{host} does not resolve to public addresses only"));
    }
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .resolve_to_addrs(&host, &addrs)
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| e.to_string())?;
    let response = client
        .post(parsed)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!("the webhook answered {}", response.status()))
    }
}
