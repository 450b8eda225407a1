//! The remote CLI against a real server on a random port: login, scripts, run with
//! follow and wait, jobs, agents, schedules, errors, completions and the man page.

use crate::server::{self, EMAIL, show, stderr, stdout};
use serde_json::{Value, json};

const HELLO: &str = "import automa\n\ndef main(name='world'):\n    print('hello', name)\n    automa.log.info('step', i=3)\n    automa.log.progress(0.5, 'half way')\n    return {'greeted': name}\n";

#[tokio::test(flavor = "multi_thread")]
async fn login_push_run_follow_and_inspect_jobs() {
    let server = server::start().await;
    server.login().await;

    // The token is stored for the user alone.
    let creds = server.config.path().join("automa/credentials.toml");
    let text = std::fs::read_to_string(&creds).unwrap();
    let stored: toml::Table = toml::from_str(&text).unwrap();
    assert_eq!(stored["url"].as_str(), Some(server.base.as_str()));
    assert!(stored["token"].as_str().unwrap().len() > 20);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&creds).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // push creates, push again with new source makes a version, unchanged stays.
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("hello.py");
    std::fs::write(&file, HELLO).unwrap();
    let file = file.to_str().unwrap();
    let out = server.cli(&["scripts", "push", file], "").await;
    assert!(out.status.success(), "{}", show(&out));
    assert_eq!(stdout(&out), "hello: created (version 1)\n");
    let out = server.cli(&["scripts", "push", file], "").await;
    assert_eq!(
        stdout(&out),
        "hello: unchanged (version 1)\n",
        "{}",
        show(&out)
    );

    let out = server.cli(&["scripts", "list"], "").await;
    let list = stdout(&out);
    assert!(list.starts_with("NAME"), "{list}");
    assert!(
        list.lines()
            .any(|l| l.starts_with("hello ") && l.contains(" v1 ")),
        "{list}"
    );
    let out = server
        .cli(&["scripts", "list", "--output", "json"], "")
        .await;
    let items: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(items[0]["name"], "hello");

    // Follow: output, structured log line and progress stream, then the result.
    let out = server
        .cli(&["run", "hello", "--arg", "name=cli", "--follow"], "")
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(
        stdout(&out),
        "hello cli\n{\"greeted\":\"cli\"}\n",
        "{}",
        show(&out)
    );
    let err = stderr(&out);
    assert!(err.contains("INFO    step i=3"), "{err}");
    assert!(
        err.contains("[###############---------------]  50% half way"),
        "{err}"
    );

    // Wait: exit code from the job status.
    std::fs::write(work.path().join("boom.py"), "raise RuntimeError('boom')\n").unwrap();
    let boom = work.path().join("boom.py");
    let out = server
        .cli(&["scripts", "push", boom.to_str().unwrap()], "")
        .await;
    assert!(out.status.success(), "{}", show(&out));
    let out = server.cli(&["run", "boom", "--wait"], "").await;
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(stderr(&out).contains("failed"), "{}", show(&out));

    // Without --wait: the queued job's id.
    let out = server.cli(&["run", "hello", "--output", "json"], "").await;
    assert!(out.status.success(), "{}", show(&out));
    let job: Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = job["id"].as_str().unwrap().to_owned();

    // jobs logs -f waits for the end; show has the result; list names the script.
    let out = server.cli(&["jobs", "logs", &id, "-f"], "").await;
    assert!(out.status.success(), "{}", show(&out));
    assert_eq!(stdout(&out), "hello world\n");
    let out = server.cli(&["jobs", "show", &id], "").await;
    let text = stdout(&out);
    assert!(
        text.contains("SUCCEEDED") && text.contains("{\"greeted\":\"world\"}"),
        "{text}"
    );
    let out = server.cli(&["jobs", "list"], "").await;
    let text = stdout(&out);
    assert!(text.lines().next().unwrap().starts_with("ID"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.contains(" hello ") && l.contains("SUCCEEDED")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.contains(" boom ") && l.contains("FAILED")),
        "{text}"
    );

    // retry runs the same version with the same arguments.
    let out = server.cli(&["jobs", "retry", &id, "--wait"], "").await;
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(stdout(&out), "hello world\n{\"greeted\":\"world\"}\n");

    // jobs logs reads a log of more than one page (1000 entries) to its end.
    let many = work.path().join("many.py");
    std::fs::write(&many, "for i in range(2500):\n    print(i)\n").unwrap();
    let out = server
        .cli(&["scripts", "push", many.to_str().unwrap()], "")
        .await;
    assert!(out.status.success(), "{}", show(&out));
    let out = server
        .cli(&["run", "many", "--wait", "--output", "json"], "")
        .await;
    assert!(out.status.success(), "{}", show(&out));
    let job: Value = serde_json::from_slice(&out.stdout).unwrap();
    let many_id = job["id"].as_str().unwrap().to_owned();
    let out = server.cli(&["jobs", "logs", &many_id], "").await;
    assert!(out.status.success(), "{}", show(&out));
    let printed: Vec<String> = stdout(&out).lines().map(str::to_owned).collect();
    assert_eq!(
        printed,
        (0..2500).map(|i| i.to_string()).collect::<Vec<_>>()
    );
    let out = server
        .cli(&["jobs", "logs", &many_id, "--output", "json"], "")
        .await;
    let entries: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(entries.as_array().unwrap().len(), 2500);

    // pull gives back the source; rm deletes; a missing name is explained.
    let pulled = work.path().join("pulled.py");
    let out = server
        .cli(
            &["scripts", "pull", "hello", "-o", pulled.to_str().unwrap()],
            "",
        )
        .await;
    assert!(out.status.success(), "{}", show(&out));
    assert_eq!(std::fs::read_to_string(&pulled).unwrap(), HELLO);
    let out = server.cli(&["scripts", "rm", "boom"], "").await;
    assert_eq!(stdout(&out), "boom: deleted\n", "{}", show(&out));
    let out = server.cli(&["run", "boom"], "").await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no script named \"boom\""),
        "{}",
        show(&out)
    );

    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn agents_start_status_send_and_stop() {
    let server = server::start().await;
    server.login().await;
    let script = server
        .api_post(
            "/api/v1/scripts",
            json!({"name": "echo", "source": "import automa\nautoma.agent.set_status('waiting')\nwhile not automa.agent.stop_requested():\n    m = automa.agent.receive(timeout=1)\n    if m is not None:\n        automa.log.info('got', text=m['text'])\n"}),
        )
        .await;
    server
        .api_post(
            "/api/v1/agents",
            json!({"name": "echo", "script_id": script["id"], "stop_grace_seconds": 2}),
        )
        .await;

    let out = server.cli(&["agents", "start", "echo"], "").await;
    assert!(out.status.success(), "{}", show(&out));
    // status reads like supervisorctl: name, state, id, uptime.
    let mut line = String::new();
    for _ in 0..50 {
        let out = server.cli(&["agents", "status", "echo"], "").await;
        line = stdout(&out);
        if line.contains("RUNNING") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(line.starts_with("echo "), "{line}");
    assert!(
        line.contains(" RUNNING ") && line.contains(", uptime 0:00:"),
        "{line}"
    );

    let out = server
        .cli(&["agents", "send", "echo", "{\"text\":\"hi\"}"], "")
        .await;
    assert_eq!(stdout(&out), "echo: message sent\n", "{}", show(&out));
    let mut logs = String::new();
    for _ in 0..50 {
        let out = server
            .cli(&["agents", "logs", "echo", "--kind", "log"], "")
            .await;
        logs = stdout(&out);
        if logs.contains("INFO got text=hi") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(logs.contains("INFO got text=hi"), "{logs}");
    let out = server
        .cli(&["agents", "send", "echo", "not json"], "")
        .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("must be JSON"), "{}", show(&out));

    let out = server.cli(&["agents", "stop", "echo"], "").await;
    assert!(out.status.success(), "{}", show(&out));
    let out = server
        .cli(&["agents", "list", "--output", "json"], "")
        .await;
    let agents: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_ne!(agents[0]["state"], "running", "{agents}");
    // Stopping a stopped agent: the API's error, plainly.
    let out = server.cli(&["agents", "stop", "echo"], "").await;
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("HTTP 409"), "{}", show(&out));

    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn schedules_tokens_and_errors() {
    let server = server::start().await;
    // --token stores an existing token after checking it.
    let out = server
        .cli(&["login", &server.base, "--token", &server.admin], "")
        .await;
    assert!(out.status.success(), "{}", show(&out));
    assert!(stderr(&out).contains(EMAIL), "{}", show(&out));

    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("tick.py");
    std::fs::write(&file, "print('tick')\n").unwrap();
    let out = server
        .cli(&["scripts", "push", file.to_str().unwrap()], "")
        .await;
    assert!(out.status.success(), "{}", show(&out));
    let out = server
        .cli(
            &[
                "schedules",
                "add",
                "tick",
                "--cron",
                "0 9 * * MON",
                "--output",
                "json",
            ],
            "",
        )
        .await;
    assert!(out.status.success(), "{}", show(&out));
    let schedule: Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = schedule["id"].as_str().unwrap();
    let out = server.cli(&["schedules", "disable", id], "").await;
    assert_eq!(stdout(&out), format!("{id}: DISABLED\n"), "{}", show(&out));
    let out = server.cli(&["schedules", "list"], "").await;
    let text = stdout(&out);
    assert!(
        text.lines().any(|l| l.contains("tick")
            && l.contains("DISABLED")
            && l.contains("cron \"0 9 * * MON\"")),
        "{text}"
    );
    let out = server.cli(&["schedules", "enable", id], "").await;
    assert_eq!(stdout(&out), format!("{id}: ENABLED\n"));
    // The API's validation message comes through as it was worded.
    let out = server
        .cli(&["schedules", "add", "tick", "--cron", "61 * * * *"], "")
        .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("minute"), "{}", show(&out));

    // A bad token, a server that is not there, not logged in.
    let env = [
        ("AUTOMA_URL", server.base.as_str()),
        ("AUTOMA_TOKEN", "bogus"),
    ];
    let out = server::cli_with(server.config.path(), &["scripts", "list"], "", &env).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("HTTP 401"), "{}", show(&out));
    let env = [("AUTOMA_URL", "http://127.0.0.1:9"), ("AUTOMA_TOKEN", "x")];
    let out = server::cli_with(server.config.path(), &["jobs", "list"], "", &env).await;
    assert!(
        stderr(&out).contains("cannot reach the server at http://127.0.0.1:9"),
        "{}",
        show(&out)
    );
    let empty = tempfile::tempdir().unwrap();
    let out = server::cli_with(empty.path(), &["run", "tick"], "", &[]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not logged in"), "{}", show(&out));
    // The stored token never goes to another server.
    let env = [("AUTOMA_URL", "http://127.0.0.1:9")];
    let out = server::cli_with(server.config.path(), &["jobs", "list"], "", &env).await;
    assert!(
        stderr(&out).contains("no token for http://127.0.0.1:9"),
        "{}",
        show(&out)
    );
    // Local-only flags on a server script.
    let out = server
        .cli(&["run", "tick", "--allow-http", "example.com"], "")
        .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--allow-http applies to local files only"),
        "{}",
        show(&out)
    );

    server.stop().await;
}

#[tokio::test]
async fn completions_and_man_page_come_from_the_cli_definition() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let out = server::cli_with(dir.path(), &["completions", shell], "", &[]).await;
        assert!(out.status.success(), "{}", show(&out));
        let text = stdout(&out);
        assert!(
            text.contains("automa") && text.contains("schedules"),
            "{shell}: {text}"
        );
    }
    let out = server::cli_with(dir.path(), &["man"], "", &[]).await;
    let text = stdout(&out);
    assert!(
        text.starts_with(".ie") || text.contains(".TH automa"),
        "{text}"
    );
    assert!(text.contains("scripts"), "{text}");
    let pages = dir.path().join("man");
    let out = server::cli_with(
        dir.path(),
        &["man", "--dir", pages.to_str().unwrap()],
        "",
        &[],
    )
    .await;
    assert!(out.status.success(), "{}", show(&out));
    assert!(pages.join("automa-scripts-push.1").exists());
}
