//! pip runs isolated and bounded: refused lines never reach it, resolutions are limited
//! server-wide, wheels and environments have size limits, unused environments go.

use super::{Wheelhouse, app_with, create, environments, refusal};
use reqwest::StatusCode;
use serde_json::{Value, json};

const PKG: &str = "automa_testpkg";

fn house() -> Wheelhouse {
    let house = Wheelhouse::new();
    house.add(PKG, "1.0", "X = 1\n", &[]);
    house
}

/// A stand-in for python that logs each pip run (start, cwd, arguments, end) and
/// sleeps first, so runs that overlap show in the log.
fn slow_python(dir: &std::path::Path, seconds: f64) -> (String, std::path::PathBuf) {
    let log = dir.join("pip.log");
    let wrapper = dir.join("python");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\necho \"start $(pwd) $*\" >> {log}\nsleep {seconds}\npython3 \"$@\"\nrc=$?\necho end >> {log}\nexit $rc\n",
            log = log.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    (wrapper.display().to_string(), log)
}

#[tokio::test]
async fn archive_path_url_vcs_and_option_lines_are_refused_before_pip_runs() {
    let house = house();
    // No pip at all: a line that reached it would fail differently.
    let app = app_with(&house, |s| s.python = "/nonexistent/python3".into()).await;
    let admin = app.setup_admin().await;
    for (line, reason) in [
        ("evil-1.0.tar.gz", "archive files are not accepted"),
        (
            "evil-1.0-py3-none-any.whl",
            "archive files are not accepted",
        ),
        ("./x", "paths are not accepted"),
        ("/etc/passwd", "paths are not accepted"),
        (
            "git+https://example.org/evil.git",
            "version-control references",
        ),
        ("https://example.org/evil.whl", "URLs and direct references"),
        (
            "evil @ https://example.org/evil.whl",
            "URLs and direct references",
        ),
        ("file:///tmp/evil", "URLs and direct references"),
        ("-e .", "pip options"),
        ("--index-url=http://evil", "pip options"),
        ("--extra-index-url http://evil", "pip options"),
        ("evil; os_name == 'posix'", "environment markers"),
        ("evil $(id)", "not a package name"),
    ] {
        let message = refusal(create(&app, &admin, "evil", "print(1)\n", &[line]).await).await;
        assert!(message.contains(reason), "{line}: {message}");
        assert!(message.contains("is refused") || message.contains("not a package name"));
    }
    let message =
        refusal(create(&app, &admin, "ok", "print(1)\n", &["automa_testpkg"]).await).await;
    assert!(message.contains("pip cannot be started"), "{message}");
}

#[tokio::test]
async fn pip_runs_isolated_in_an_empty_directory() {
    let house = house();
    let tools = tempfile::tempdir().unwrap();
    let (python, log) = slow_python(tools.path(), 0.0);
    let app = app_with(&house, |s| s.python = python).await;
    let admin = app.setup_admin().await;
    let resp = create(&app, &admin, "iso", "print(1)\n", &["automa_testpkg==1.0"]).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let text = std::fs::read_to_string(&log).unwrap();
    let start = text.lines().find(|l| l.starts_with("start ")).unwrap();
    let cwd = start.split_whitespace().nth(1).unwrap();
    assert!(
        cwd.starts_with(app.data_dir().join("packages/work").to_str().unwrap()),
        "{start}"
    );
    for flag in [
        " -I -m pip --isolated download ",
        "--only-binary=:all:",
        "--no-cache-dir",
    ] {
        assert!(start.contains(flag), "{flag}: {start}");
    }
    // The work directory is gone after the save.
    assert!(!std::path::Path::new(cwd).exists());
}

#[tokio::test]
async fn concurrent_resolutions_are_bounded_server_wide() {
    let house = house();
    let tools = tempfile::tempdir().unwrap();
    let (python, log) = slow_python(tools.path(), 0.7);
    let app = app_with(&house, |s| {
        s.python = python;
        s.max_concurrent = 1;
    })
    .await;
    let admin = app.setup_admin().await;
    let saves = (0..3).map(|i| {
        let (app, admin) = (&app, &admin);
        async move {
            create(
                app,
                admin,
                &format!("s{i}"),
                "print(1)\n",
                &["automa_testpkg==1.0"],
            )
            .await
        }
    });
    for resp in futures::future::join_all(saves).await {
        assert_eq!(resp.status(), StatusCode::CREATED);
    }
    // One at a time: every start is followed by its end.
    let text = std::fs::read_to_string(&log).unwrap();
    let events: Vec<&str> = text
        .lines()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(
        events,
        ["start", "end", "start", "end", "start", "end"],
        "{text}"
    );

    // With no patience for a slot, the second save at once is refused, saying why.
    let house = self::house();
    let (python, _) = slow_python(tools.path(), 2.0);
    let app = app_with(&house, |s| {
        s.python = python;
        s.max_concurrent = 1;
        s.queue_timeout_secs = 0;
    })
    .await;
    let admin = app.setup_admin().await;
    let first = create(&app, &admin, "a", "print(1)\n", &["automa_testpkg==1.0"]);
    let second = async {
        tokio::time::sleep(std::time::Duration::from_millis(700)).await;
        create(&app, &admin, "b", "print(1)\n", &["automa_testpkg==1.0"]).await
    };
    let (first, second) = tokio::join!(first, second);
    assert_eq!(first.status(), StatusCode::CREATED);
    assert_eq!(second.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = second.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("already resolving") && message.contains("packages.max_concurrent"),
        "{message}"
    );
}

#[tokio::test]
async fn wheel_and_unpacked_size_limits_name_the_package() {
    let house = house();
    house.add("bigpkg", "1.0", "X = 1\n", &["--random", "300000"]);
    house.add("bomb", "1.0", "X = 1\n", &["--zeros", "5000000"]);
    let app = app_with(&house, |s| {
        s.max_wheel_bytes = 100_000;
        s.max_unpacked_bytes = 1_000_000;
    })
    .await;
    let admin = app.setup_admin().await;
    let message = refusal(create(&app, &admin, "big", "print(1)\n", &["bigpkg==1.0"]).await).await;
    assert!(
        message.contains("the wheel of bigpkg 1.0 is")
            && message.contains("packages.max_wheel_bytes"),
        "{message}"
    );
    let message = refusal(create(&app, &admin, "bomb", "print(1)\n", &["bomb==1.0"]).await).await;
    assert!(
        message.contains("bomb 1.0 unpacks to more than")
            && message.contains("packages.max_unpacked_bytes"),
        "{message}"
    );
    let house = self::house();
    house.add("half_a", "1.0", "X = 1\n", &["--random", "60000"]);
    house.add("half_b", "1.0", "X = 1\n", &["--random", "60000"]);
    let small = app_with(&house, |s| s.max_download_bytes = 100_000).await;
    let token = small.setup_admin().await;
    let message = refusal(
        create(
            &small,
            &token,
            "two",
            "print(1)\n",
            &["half_a==1.0", "half_b==1.0"],
        )
        .await,
    )
    .await;
    assert!(
        message.contains("together are more than")
            && message.contains("packages.max_download_bytes"),
        "{message}"
    );
    // Nothing half-made is left behind.
    assert_eq!(environments(&app), Vec::<String>::new());
    let resp = create(
        &app,
        &admin,
        "small",
        "print(1)\n",
        &["automa_testpkg==1.0"],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn an_environment_no_script_version_uses_is_removed() {
    let house = house();
    house.add("otherpkg", "1.0", "X = 2\n", &[]);
    let app = app_with(&house, |_| {}).await;
    let admin = app.setup_admin().await;
    let mut ids = Vec::new();
    for name in ["one", "two"] {
        let resp = create(&app, &admin, name, "print(1)\n", &["automa_testpkg==1.0"]).await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        let script: Value = resp.json().await.unwrap();
        ids.push(script["id"].as_str().unwrap().to_owned());
    }
    let shared = environments(&app);
    assert_eq!(shared.len(), 1, "both scripts share one environment");
    // A new version with other requirements: the old version still uses the old one.
    let resp = app
        .send_json(
            "PATCH",
            &format!("/api/v1/scripts/{}", ids[1]),
            &admin,
            json!({"requirements": ["otherpkg==1.0"]}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(environments(&app).len(), 2);
    let resp = app
        .delete(&format!("/api/v1/scripts/{}", ids[0]), &admin)
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        environments(&app).len(),
        2,
        "script two's version 1 still uses it"
    );
    let resp = app
        .delete(&format!("/api/v1/scripts/{}", ids[1]), &admin)
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(environments(&app), Vec::<String>::new());

    // Deleting a user deletes their scripts, and with them the environments.
    let (user_id, user) = app.create_user(&admin, "pkg-user@example.org").await;
    let resp = create(&app, &user, "mine", "print(1)\n", &["otherpkg==1.0"]).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert_eq!(environments(&app).len(), 1);
    let resp = app
        .delete(&format!("/api/v1/users/{user_id}"), &admin)
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(environments(&app), Vec::<String>::new());
}
