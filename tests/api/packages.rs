//! Pure-Python dependencies: a wheel built here is resolved by pip, unpacked once and
//! imported inside the sandbox; a package without a pure-Python wheel is refused.

use crate::helpers::spawn_app_with;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn wheelhouse() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/support/make_wheel.py"
    );
    let status = std::process::Command::new("python3")
        .arg(script)
        .arg(dir.path())
        .args([
            "automa_testpkg",
            "1.0",
            "def greet(name):\n    return f'hi {name} from a wheel'\n",
        ])
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    dir
}

#[tokio::test]
async fn a_pure_python_dependency_imports_in_the_sandbox() {
    let wheels = wheelhouse();
    let links = wheels.path().to_owned();
    let app = spawn_app_with(move |c| {
        c.pip_find_links = Some(links);
        c.pip_no_index = true;
    })
    .await;
    let admin = app.setup_admin().await;
    let source =
        "import automa_testpkg\ndef main(name: str):\n    return automa_testpkg.greet(name)\n";
    let resp = app
        .send_json(
            "POST",
            "/api/v1/scripts",
            &admin,
            json!({"name": "deps", "source": source, "requirements": ["automa_testpkg==1.0"]}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let script: Value = resp.json().await.unwrap();
    assert_eq!(script["requirements"], json!(["automa_testpkg==1.0"]));
    let id = script["id"].as_str().unwrap();
    let job = app
        .run_wait(&admin, id, json!({"args": {"name": "Ada"}}))
        .await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(job["result"], "hi Ada from a wheel");
    // The package directory is read-only for the script.
    let source = "import automa_testpkg, os\ndef main():\n    path = os.path.join(os.path.dirname(automa_testpkg.__file__), 'x.txt')\n    try:\n        open(path, 'w')\n        return 'wrote'\n    except OSError:\n        return 'read-only'\n";
    let resp = app
        .send_json(
            "PATCH",
            &format!("/api/v1/scripts/{id}"),
            &admin,
            json!({"source": source}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let job = app.run_wait(&admin, id, json!({})).await;
    assert_eq!(job["result"], "read-only", "{job}");

    for (requirement, needle) in [
        ("numpy", "numpy has no pure-Python wheel"),
        ("--index-url=http://evil", "invalid requirement"),
    ] {
        let resp = app
            .send_json(
                "POST",
                "/api/v1/scripts",
                &admin,
                json!({"name": "native", "source": "print(1)\n", "requirements": [requirement]}),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body: Value = resp.json().await.unwrap();
        assert!(
            body["error"]["message"].as_str().unwrap().contains(needle),
            "{body}"
        );
    }
}
