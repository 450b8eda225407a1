//! `automa export` and `automa sync` between two real servers: export, plan, apply,
//! export again (byte for byte the same folder), changes, prune, bad manifests.

use crate::server::{self, show, stderr, stdout};
use serde_json::json;
use std::path::Path;

fn files(dir: &Path) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read_to_string(e.path()).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn export_sync_apply_round_trip_is_lossless() {
    let one = server::start().await;
    one.login().await;
    let work = tempfile::tempdir().unwrap();
    std::fs::write(
        work.path().join("tick.py"),
        "def main(n=1):\n    return n\n",
    )
    .unwrap();
    std::fs::write(
        work.path().join("loop.py"),
        "import automa\n\ndef main(x=0):\n    while automa.agent.sleep(1):\n        pass\n",
    )
    .unwrap();
    for f in ["tick.py", "loop.py"] {
        let path = work.path().join(f);
        let out = one
            .cli(&["scripts", "push", path.to_str().unwrap()], "")
            .await;
        assert!(out.status.success(), "{}", show(&out));
    }
    let scripts: serde_json::Value = serde_json::from_slice(
        &one.cli(&["scripts", "list", "--output", "json"], "")
            .await
            .stdout,
    )
    .unwrap();
    let id_of = |name: &str| {
        scripts
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (tick, looping) = (id_of("tick"), id_of("loop"));
    let resp = one
        .http
        .patch(format!("{}/api/v1/scripts/{tick}", one.base))
        .bearer_auth(&one.admin)
        .json(&json!({
            "description": "counts",
            "tags": ["ops", "demo"],
            "settings": {"cpu_seconds": 120, "memory_mb": 96, "timeout_seconds": 30,
                         "jobs_days": 7, "artifacts_days": 0},
        }))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
    for args in [
        &[
            "schedules",
            "add",
            "tick",
            "--cron",
            "0 9 * * MON",
            "--arg",
            "n=2",
        ][..],
        &["schedules", "add", "tick", "--every", "15m", "--disabled"][..],
    ] {
        let out = one.cli(args, "").await;
        assert!(out.status.success(), "{}", show(&out));
    }
    one.api_post(
        "/api/v1/agents",
        json!({
            "name": "keeper", "script_id": looping, "args": {"x": 1}, "backoff_seconds": 3,
            "memory_mb": 64, "cpu_seconds": 2, "cpu_interval_seconds": 10,
        }),
    )
    .await;

    // Export, then the same server has nothing to do.
    let first = work.path().join("first");
    let out = one.cli(&["export", first.to_str().unwrap()], "").await;
    assert!(out.status.success(), "{}", show(&out));
    let manifest = std::fs::read_to_string(first.join("automa.toml")).unwrap();
    assert!(
        manifest.contains("[scripts.tick]") && manifest.contains("[agents.keeper]"),
        "{manifest}"
    );
    assert!(manifest.contains("description = \"counts\""), "{manifest}");
    // Every run setting, the CPU budgets of the script and of the agent included.
    for line in [
        "cpu_seconds = 120\n",
        "memory_mb = 96\n",
        "timeout_seconds = 30\n",
        "cpu_seconds = 2\n",
        "cpu_interval_seconds = 10\n",
        "memory_mb = 64\n",
        "jobs_days = 7\n",
        "artifacts_days = 0\n",
    ] {
        assert!(manifest.contains(line), "{line:?} in {manifest}");
    }
    let out = one.cli(&["sync", first.to_str().unwrap()], "").await;
    assert!(stdout(&out).contains("nothing to do"), "{}", show(&out));

    // A fresh server: the plan, and nothing changes without --apply.
    let two = server::start().await;
    two.login().await;
    let out = two.cli(&["sync", first.to_str().unwrap()], "").await;
    assert!(out.status.success(), "{}", show(&out));
    let plan = stdout(&out);
    for line in [
        "+ script   loop",
        "+ script   tick",
        "+ schedule tick: cron \"0 9 * * MON\"",
        "+ schedule tick: every 900s",
        "+ agent    keeper",
        "5 to create, 0 to change, 0 to remove; run again with --apply",
    ] {
        assert!(plan.contains(line), "{line:?} in\n{plan}");
    }
    let out = two.cli(&["scripts", "list", "--output", "json"], "").await;
    assert_eq!(stdout(&out).trim(), "[]");

    let out = two
        .cli(&["sync", first.to_str().unwrap(), "--apply"], "")
        .await;
    assert!(out.status.success(), "{}", show(&out));
    let out = two.cli(&["sync", first.to_str().unwrap()], "").await;
    assert!(stdout(&out).contains("nothing to do"), "{}", show(&out));
    // Lossless: the second server exports the same folder, byte for byte.
    let second = work.path().join("second");
    let out = two.cli(&["export", second.to_str().unwrap()], "").await;
    assert!(out.status.success(), "{}", show(&out));
    assert_eq!(files(&first), files(&second));
    let get = |path: String| {
        let (http, token) = (two.http.clone(), two.admin.clone());
        async move {
            let resp = http.get(path).bearer_auth(token).send().await.unwrap();
            resp.json::<serde_json::Value>().await.unwrap()
        }
    };
    let agents = get(format!("{}/api/v1/agents", two.base)).await;
    let keeper = &agents["items"][0];
    assert_eq!(keeper["cpu_seconds"], 2, "{agents}");
    assert_eq!(keeper["cpu_interval_seconds"], 10, "{agents}");
    assert_eq!(keeper["memory_mb"], 64, "{agents}");
    // The retention overrides came along; the one left unset stays the server's.
    let scripts = get(format!("{}/api/v1/scripts?q=tick", two.base)).await;
    let settings = &scripts["items"][0]["settings"];
    assert_eq!(settings["jobs_days"], 7, "{scripts}");
    assert_eq!(settings["artifacts_days"], 0, "{scripts}");
    assert!(settings["job_logs_days"].is_null(), "{scripts}");

    // A change to a source and a setting: one ~ line, applied as a new version.
    std::fs::write(second.join("tick.py"), "def main(n=1):\n    return n * 2\n").unwrap();
    let manifest = std::fs::read_to_string(second.join("automa.toml")).unwrap();
    std::fs::write(
        second.join("automa.toml"),
        manifest
            .replace("description = \"counts\"", "description = \"doubles\"")
            // Left out of the folder: the agent goes back to its owner's ceiling, the
            // script to the server's job retention.
            .replace("cpu_seconds = 2\n", "")
            .replace("jobs_days = 7\n", ""),
    )
    .unwrap();
    let out = two
        .cli(&["sync", second.to_str().unwrap(), "--apply"], "")
        .await;
    let text = stdout(&out);
    assert!(
        text.contains("~ script   tick: source, description, settings"),
        "{}",
        show(&out)
    );
    assert!(text.contains("~ agent    keeper: cpu_seconds"), "{text}");
    assert!(
        text.contains("0 to create, 2 to change, 0 to remove\n"),
        "{text}"
    );
    let agents = get(format!("{}/api/v1/agents", two.base)).await;
    assert!(agents["items"][0]["cpu_seconds"].is_null(), "{agents}");
    assert_eq!(agents["items"][0]["cpu_interval_seconds"], 10, "{agents}");
    let scripts = get(format!("{}/api/v1/scripts?q=tick", two.base)).await;
    let settings = &scripts["items"][0]["settings"];
    assert!(settings["jobs_days"].is_null(), "{scripts}");
    assert_eq!(settings["artifacts_days"], 0, "{scripts}");
    let out = two.cli(&["sync", second.to_str().unwrap()], "").await;
    assert!(stdout(&out).contains("nothing to do"), "{}", show(&out));
    let out = two
        .cli(&["run", "tick", "--arg", "n=4", "--wait"], "")
        .await;
    assert_eq!(stdout(&out), "8\n", "{}", show(&out));

    // A folder with only tick: kept without --prune, removed with it; schedules follow.
    let third = work.path().join("third");
    std::fs::create_dir(&third).unwrap();
    std::fs::write(third.join("tick.py"), "def main(n=1):\n    return n * 2\n").unwrap();
    std::fs::write(third.join("automa.toml"), "[scripts.tick]\n").unwrap();
    let out = two.cli(&["sync", third.to_str().unwrap()], "").await;
    let text = stdout(&out);
    assert!(
        text.contains("- schedule tick: cron \"0 9 * * MON\""),
        "{text}"
    );
    assert!(
        text.contains("2 scripts or agents are only on the server (kept; --prune removes them)"),
        "{text}"
    );
    let out = two
        .cli(&["sync", third.to_str().unwrap(), "--prune", "--apply"], "")
        .await;
    let text = stdout(&out);
    assert!(
        text.contains("- agent    keeper") && text.contains("- script   loop"),
        "{}",
        show(&out)
    );
    let out = two.cli(&["scripts", "list"], "").await;
    assert!(!stdout(&out).contains("loop"), "{}", show(&out));

    // Bad manifests are explained.
    std::fs::write(
        third.join("automa.toml"),
        "[scripts.tick]\ndescripton = \"x\"\n",
    )
    .unwrap();
    let out = two.cli(&["sync", third.to_str().unwrap()], "").await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown key scripts.tick.descripton"),
        "{}",
        show(&out)
    );
    std::fs::write(third.join("automa.toml"), "[scripts.gone]\n").unwrap();
    let out = two.cli(&["sync", third.to_str().unwrap()], "").await;
    assert!(
        stderr(&out).contains("scripts.gone: cannot read"),
        "{}",
        show(&out)
    );

    one.stop().await;
    two.stop().await;
}
