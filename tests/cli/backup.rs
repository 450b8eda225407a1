//! `automa backup` while the server runs, `automa restore` into a new dir, a server on
//! the restored dir: the same users, scripts, script data and job artifacts.

use crate::server::{self, show, stderr, stdout};
use serde_json::json;

const RW: &str = "def main(mode='read'):\n    if mode == 'write':\n        open('/data/note.txt', 'w').write('kept across restore')\n        open('/artifacts/report.txt', 'w').write('artifact')\n        return 'written'\n    return open('/data/note.txt').read()\n";

#[tokio::test(flavor = "multi_thread")]
async fn backup_then_restore_then_run_a_job_that_reads_its_data() {
    let server = server::start().await;
    let script = server
        .api_post("/api/v1/scripts", json!({"name": "rw", "source": RW}))
        .await;
    let id = script["id"].as_str().unwrap();
    let job = server
        .api_post(
            &format!("/api/v1/scripts/{id}/run?wait=true"),
            json!({"args": {"mode": "write"}}),
        )
        .await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let job_id = job["id"].as_str().unwrap().to_owned();

    // Backup while the server runs.
    let work = tempfile::tempdir().unwrap();
    let archive = work.path().join("automa.tar.gz");
    let data = server.data_dir();
    let backup_args = [
        "backup",
        archive.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
    ];
    let out = server.cli(&backup_args, "").await;
    assert!(out.status.success(), "{}", show(&out));
    // A second backup never overwrites the first.
    let out = server.cli(&backup_args, "").await;
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("exists"), "{}", show(&out));
    let (_old_dir, config) = server.stop().await;

    // Restore refuses a dir with something in it.
    let busy = tempfile::tempdir().unwrap();
    std::fs::write(busy.path().join("x"), "x").unwrap();
    let restore = |dir: std::path::PathBuf| {
        let archive = archive.clone();
        let config = config.path().to_path_buf();
        async move {
            server::cli_with(
                &config,
                &[
                    "restore",
                    archive.to_str().unwrap(),
                    "--data-dir",
                    dir.to_str().unwrap(),
                ],
                "",
                &[],
            )
            .await
        }
    };
    let out = restore(busy.path().to_path_buf()).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("not empty"), "{}", show(&out));
    // Not an archive at all.
    let bogus = work.path().join("bogus.tar.gz");
    std::fs::write(&bogus, "not gzip").unwrap();
    let fresh = tempfile::tempdir().unwrap();
    let out = server::cli_with(
        config.path(),
        &[
            "restore",
            bogus.to_str().unwrap(),
            "--data-dir",
            fresh.path().join("d").to_str().unwrap(),
        ],
        "",
        &[],
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("is not an automa backup"),
        "{}",
        show(&out)
    );

    let restored = tempfile::tempdir().unwrap();
    let out = restore(restored.path().join("data")).await;
    assert!(out.status.success(), "{}", show(&out));
    assert!(restored.path().join("data/automa.db").is_file());
    assert!(restored.path().join("data/keys").is_dir());
    assert!(!restored.path().join("data/automa-backup.json").exists());

    // A server on the restored dir: the admin signs in, the job reads its /data file,
    // the old job's artifact is still there.
    let server = server::start_on(restored, false).await;
    server.login().await;
    let out = server
        .cli(&["run", "rw", "--wait", "--output", "json"], "")
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let job: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(job["result"], "kept across restore", "{job}");
    let out = server.cli(&["jobs", "show", &job_id], "").await;
    assert!(stdout(&out).contains("SUCCEEDED"), "{}", show(&out));
    let artifacts: serde_json::Value = server
        .http
        .get(format!("{}/api/v1/jobs/{job_id}/artifacts", server.base))
        .bearer_auth(&server.admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(artifacts[0]["name"], "report.txt", "{artifacts}");
    server.stop().await;
}
