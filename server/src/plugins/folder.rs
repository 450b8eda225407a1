//! Plugins dropped into the data directory's `plugins` folder: installed at start,
//! disabled and without grants until an admin reviews them (a file that replaces an
//! installed plugin of the same name keeps that plugin's grants).

use super::Plugins;
use crate::audit::AuditEvent;
use crate::db;

pub(super) async fn install_all(plugins: &Plugins) {
    let folder = plugins.folder().to_path_buf();
    let entries = match std::fs::read_dir(&folder) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
        Err(e) => {
            tracing::warn!(folder = %folder.display(), error = %e, "cannot read the plugins folder");
            return;
        }
    };
    let mut files: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|ext| ext == "wasm"))
        .collect();
    files.sort();
    for path in files {
        let wasm = match std::fs::read(&path) {
            Ok(wasm) => wasm,
            Err(e) => {
                tracing::warn!(file = %path.display(), error = %e, "cannot read a plugin file");
                continue;
            }
        };
        let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&wasm));
        if installed_with_digest(plugins, &digest).await {
            continue;
        }
        match plugins.install(wasm, super::InstallFrom::Folder).await {
            Ok(installed) => {
                tracing::info!(
                    file = %path.display(),
                    plugin = %installed.row.name,
                    version = %installed.row.version,
                    enabled = installed.row.enabled != 0,
                    "installed a plugin from the plugins folder"
                );
                let action = if installed.created {
                    "plugin.install"
                } else {
                    "plugin.replace"
                };
                let event = AuditEvent::new("system", action)
                    .target(installed.row.name.clone())
                    .details(serde_json::json!({
                        "source": "folder",
                        "file": path.display().to_string(),
                        "version": installed.row.version,
                        "sha256": installed.row.sha256,
                    }));
                plugins.0.host_calls.queue(event);
            }
            Err(e @ super::InstallError::Superseded(_)) => {
                tracing::info!(file = %path.display(), reason = %e, "skipped a plugin file")
            }
            Err(e) => {
                tracing::warn!(file = %path.display(), error = %e, "skipped a plugin file")
            }
        }
    }
}

async fn installed_with_digest(plugins: &Plugins, digest: &str) -> bool {
    match db::plugins::list(&plugins.0.db).await {
        Ok(rows) => rows.iter().any(|row| row.sha256 == digest),
        Err(_) => false,
    }
}
