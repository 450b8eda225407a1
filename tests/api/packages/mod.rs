//! Pure-Python dependencies: wheels built here are resolved by pip (isolated, from a
//! local wheelhouse), unpacked once and imported inside the sandbox; what cannot be
//! used is refused with the reason.

mod limits;
mod truth;

use crate::helpers::{TestApp, spawn_app_with};
use automa::packages::PackageSettings;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A directory of wheels pip is pointed at with `--find-links` and `--no-index`.
pub struct Wheelhouse {
    pub dir: tempfile::TempDir,
}

impl Wheelhouse {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// Add a wheel (see tests/support/make_wheel.py for `options`).
    pub fn add(&self, name: &str, version: &str, source: &str, options: &[&str]) -> &Self {
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/support/make_wheel.py"
        );
        let status = std::process::Command::new("python3")
            .arg(script)
            .arg(self.dir.path())
            .args([name, version, source])
            .args(options)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "make_wheel {name} {version}");
        self
    }
}

/// An app resolving from `house` only, with unused environments removed at once.
pub async fn app_with(house: &Wheelhouse, tweak: impl FnOnce(&mut PackageSettings)) -> TestApp {
    let links = house.dir.path().to_owned();
    spawn_app_with(move |c| {
        c.pip_find_links = Some(links);
        c.pip_no_index = true;
        c.packages.unused_grace_secs = 0;
        tweak(&mut c.packages);
    })
    .await
}

/// `POST /scripts` with requirements.
pub async fn create(
    app: &TestApp,
    token: &str,
    name: &str,
    source: &str,
    requirements: &[&str],
) -> reqwest::Response {
    app.send_json(
        "POST",
        "/api/v1/scripts",
        token,
        json!({"name": name, "source": source, "requirements": requirements}),
    )
    .await
}

/// The message of a 422 answer.
pub async fn refusal(resp: reqwest::Response) -> String {
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = resp.json().await.unwrap();
    body["error"]["message"].as_str().unwrap().to_owned()
}

/// The package environments on disk.
pub fn environments(app: &TestApp) -> Vec<String> {
    let mut envs: Vec<String> = std::fs::read_dir(app.data_dir().join("packages/envs"))
        .into_iter()
        .flatten()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    envs.sort();
    envs
}

#[tokio::test]
async fn a_pure_python_dependency_imports_in_the_sandbox() {
    let house = Wheelhouse::new();
    house.add(
        "automa_testpkg",
        "1.0",
        "def greet(name):\n    return f'hi {name} from a wheel'\n",
        &[],
    );
    let app = app_with(&house, |_| {}).await;
    let admin = app.setup_admin().await;
    let source =
        "import automa_testpkg\ndef main(name: str):\n    return automa_testpkg.greet(name)\n";
    let resp = create(&app, &admin, "deps", source, &["automa_testpkg==1.0"]).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let script: Value = resp.json().await.unwrap();
    assert_eq!(script["requirements"], json!(["automa_testpkg==1.0"]));
    // The API tells what the requirements resolved to.
    assert_eq!(
        script["resolved"],
        json!([{"name": "automa-testpkg", "version": "1.0", "wheel": "automa_testpkg-1.0-py3-none-any.whl"}])
    );
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
    let fetched: Value = app
        .get(&format!("/api/v1/scripts/{id}"), &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(fetched["resolved"][0]["version"], "1.0", "{fetched}");
    let versions: Value = app
        .get(&format!("/api/v1/scripts/{id}/versions"), &admin)
        .await
        .json()
        .await
        .unwrap();
    for version in versions.as_array().unwrap() {
        assert_eq!(version["requirements"], json!(["automa_testpkg==1.0"]));
        assert_eq!(
            version["resolved"][0]["name"], "automa-testpkg",
            "{version}"
        );
    }
    // The list answer stays small: no sources, no resolutions.
    let list: Value = app
        .get("/api/v1/scripts", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert!(list["items"][0].get("resolved").is_none(), "{list}");

    let message = refusal(create(&app, &admin, "native", "print(1)\n", &["numpy"]).await).await;
    assert!(
        message.contains("numpy was not found on the package index"),
        "{message}"
    );
}

#[tokio::test]
async fn a_declared_requests_wins_over_the_builtin_shim() {
    let house = Wheelhouse::new();
    house.add(
        "requests",
        "99.0",
        "def get(url, **kwargs):\n    return 'the declared requests'\n",
        &[],
    );
    let app = app_with(&house, |_| {}).await;
    let admin = app.setup_admin().await;
    let source = "import requests\ndef main():\n    return [requests.__file__, requests.get('https://example.org')]\n";
    let resp = create(&app, &admin, "real-requests", source, &["requests==99.0"]).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let script: Value = resp.json().await.unwrap();
    assert_eq!(script["resolved"][0]["name"], "requests", "{script}");
    let job = app
        .run_wait(&admin, script["id"].as_str().unwrap(), json!({}))
        .await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(
        job["result"],
        json!(["/packages/requests/__init__.py", "the declared requests"])
    );
}
