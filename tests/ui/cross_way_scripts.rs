//! One core for every way in (issue 13), scripts, jobs and schedules: creating a
//! script, running it and scheduling it through the REST API, the dashboard's forms (real
//! POSTs with the session cookie and CSRF token) and MCP (the official Python SDK's
//! client) gives the same script, job and schedule as read back, and the same audit
//! entry (action, actor, outcome, address, details), differing only in what it names.

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp, spawn_app};
use crate::mcp_client::answer;
use crate::web::Browser;
use reqwest::StatusCode;
use reqwest::header::LOCATION;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const GREETER: &str = "def main(name: str, times: int = 2):\n    \"\"\"Greets someone.\"\"\"\n    return {'greeting': 'hi ' + name, 'times': times}\n";

/// The three ways in, in the order the tests use them.
const WAYS: [&str; 3] = ["api", "page", "mcp"];

pub(crate) async fn read(app: &TestApp, token: &str, path: &str) -> Value {
    let resp = app.get(path, token).await;
    assert_eq!(resp.status(), StatusCode::OK, "{path}");
    resp.json().await.unwrap()
}

/// The job once it ended.
async fn ended(app: &TestApp, token: &str, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let job = read(app, token, &format!("/api/v1/jobs/{id}")).await;
        if !matches!(job["status"].as_str(), Some("queued" | "running")) {
            return job;
        }
        assert!(Instant::now() < deadline, "job {id} did not end: {job}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The value without the keys that name the resource or its time.
pub(crate) fn without(v: &Value, keys: &[&str]) -> Value {
    let mut v = v.clone();
    for k in keys {
        v.as_object_mut().unwrap().remove(*k);
    }
    v
}

/// The newest audit entry of `action` on `target`.
pub(crate) async fn entry(app: &TestApp, admin: &str, action: &str, target: &str) -> Value {
    app.audit_actions(admin)
        .await
        .into_iter()
        .find(|e| e["action"] == action && e["target"] == target)
        .unwrap_or_else(|| panic!("no {action} entry for {target}"))
}

/// What must be the same whichever way the operation came in (the target's kind, not
/// its id); `named` are the details that name the way's own resource.
fn shape(e: &Value, named: &[&str]) -> Value {
    json!({
        "actor": e["actor"],
        "action": e["action"],
        "target_kind": e["target"].as_str().and_then(|t| t.split_once(':')).map(|(kind, _)| kind),
        "outcome": e["outcome"],
        "source_ip": e["source_ip"],
        "details": without(&e["details"], named),
    })
}

/// The three entries of `action` on `targets` agree but for `named` details.
pub(crate) async fn same_entries(
    app: &TestApp,
    admin: &str,
    action: &str,
    targets: &[String],
    named: &[&str],
) {
    let mut shapes = Vec::new();
    for target in targets {
        shapes.push(shape(&entry(app, admin, action, target).await, named));
    }
    assert_eq!(shapes[0]["outcome"], "success", "{action}");
    assert!(
        shapes.iter().all(|s| *s == shapes[0]),
        "{action}: {shapes:#?}"
    );
}

#[tokio::test]
async fn a_script_created_run_and_scheduled_is_the_same_through_the_api_the_page_and_mcp() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let me = read(&app, &admin, "/api/v1/me").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut page = Browser::new(&app.base);
    page.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let csrf = page.csrf().await;

    // Create: the same script under three names.
    let mut scripts = Vec::new();
    for way in WAYS {
        let name = format!("greeter-{way}");
        let id = match way {
            "api" => {
                let body = json!({"name": name, "description": "says hi", "source": GREETER});
                let resp = app.send_json("POST", "/api/v1/scripts", &admin, body).await;
                assert_eq!(resp.status(), StatusCode::CREATED);
                let s: Value = resp.json().await.unwrap();
                s["id"].as_str().unwrap().to_owned()
            }
            "page" => {
                let form = [
                    ("csrf", csrf.as_str()),
                    ("name", name.as_str()),
                    ("description", "says hi"),
                    ("source", GREETER),
                ];
                let resp = page.post("/scripts/new", &form).await;
                assert_eq!(resp.status(), StatusCode::SEE_OTHER);
                let to = resp.headers()[LOCATION].to_str().unwrap().to_owned();
                to.strip_prefix("/scripts/").unwrap().to_owned()
            }
            _ => {
                let args = json!({"name": name, "description": "says hi", "source": GREETER});
                let s = answer(&app, &admin, "create_script", &args).await;
                assert_eq!(s["name"], name.as_str());
                s["id"].as_str().unwrap().to_owned()
            }
        };
        scripts.push(id);
    }
    let read_back: Vec<Value> = {
        let mut all = Vec::new();
        for id in &scripts {
            all.push(read(&app, &admin, &format!("/api/v1/scripts/{id}")).await);
        }
        all
    };
    let kept = |s: &Value| without(s, &["id", "name", "created_at", "updated_at"]);
    for (way, s) in WAYS.iter().zip(&read_back) {
        assert_eq!(s["name"], format!("greeter-{way}"));
        assert_eq!(kept(s), kept(&read_back[0]), "{way}");
    }
    assert_eq!(read_back[0]["owner_id"], me.as_str());
    assert_eq!(read_back[0]["version"], 1);
    assert_eq!(read_back[0]["parameters"]["required"], json!(["name"]));
    let targets: Vec<String> = scripts.iter().map(|id| format!("script:{id}")).collect();
    same_entries(&app, &admin, "script.create", &targets, &["name"]).await;
    for (way, target) in WAYS.iter().zip(&targets) {
        let e = entry(&app, &admin, "script.create", target).await;
        assert_eq!(e["actor"], me.as_str());
        assert_eq!(e["details"]["name"], format!("greeter-{way}"));
    }

    // Run each with the same argument.
    let mut jobs = Vec::new();
    for (way, id) in WAYS.iter().zip(&scripts) {
        let job = match *way {
            "api" => {
                let path = format!("/api/v1/scripts/{id}/run?wait=true");
                let resp = app
                    .send_json("POST", &path, &admin, json!({"args": {"name": "Ada"}}))
                    .await;
                assert_eq!(resp.status(), StatusCode::OK);
                let job: Value = resp.json().await.unwrap();
                job["id"].as_str().unwrap().to_owned()
            }
            "page" => {
                let form = [("csrf", csrf.as_str()), ("name", "Ada"), ("times", "")];
                let resp = page.post(&format!("/scripts/{id}/run"), &form).await;
                assert_eq!(resp.status(), StatusCode::SEE_OTHER);
                let to = resp.headers()[LOCATION].to_str().unwrap().to_owned();
                to.strip_prefix("/jobs/").unwrap().to_owned()
            }
            _ => {
                let args = json!({"id": id, "args": {"name": "Ada"}});
                let job = answer(&app, &admin, "run_script", &args).await;
                job["id"].as_str().unwrap().to_owned()
            }
        };
        jobs.push(job);
    }
    let mut runs = Vec::new();
    for (id, script) in jobs.iter().zip(&scripts) {
        let job = ended(&app, &admin, id).await;
        assert_eq!(job["script_id"], script.as_str());
        runs.push(job);
    }
    let kept = |j: &Value| {
        without(
            j,
            &[
                "id",
                "script_id",
                "created_at",
                "started_at",
                "finished_at",
                "duration_ms",
                "peak_memory_bytes",
                "host_calls",
                "cpu_time_ms",
                "fuel_consumed",
                "cpu_seconds",
                "node",
            ],
        )
    };
    for (way, job) in WAYS.iter().zip(&runs) {
        assert_eq!(kept(job), kept(&runs[0]), "{way}");
    }
    assert_eq!(runs[0]["status"], "succeeded", "{}", runs[0]);
    assert_eq!(runs[0]["result"], json!({"greeting": "hi Ada", "times": 2}));
    assert_eq!(runs[0]["trigger"], "manual");
    let targets: Vec<String> = jobs.iter().map(|id| format!("job:{id}")).collect();
    same_entries(&app, &admin, "script.run", &targets, &["script_id"]).await;
    for (target, script) in targets.iter().zip(&scripts) {
        let e = entry(&app, &admin, "script.run", target).await;
        assert_eq!(e["details"]["script_id"], script.as_str());
        assert_eq!(e["details"]["version"], 1);
    }

    // Schedule each hourly with the same argument.
    let mut schedules = Vec::new();
    for (way, id) in WAYS.iter().zip(&scripts) {
        let timing = json!({"script_id": id, "kind": "interval", "every_seconds": 3600,
                            "timezone": "UTC", "args": {"name": "Ada"}, "enabled": true,
                            "overlap": "skip", "catch_up": "run_once"});
        let schedule = match *way {
            "api" => {
                let resp = app
                    .send_json("POST", "/api/v1/schedules", &admin, timing)
                    .await;
                assert_eq!(resp.status(), StatusCode::CREATED);
                let s: Value = resp.json().await.unwrap();
                s["id"].as_str().unwrap().to_owned()
            }
            "page" => {
                let form = [
                    ("csrf", csrf.as_str()),
                    ("script_id", id.as_str()),
                    ("kind", "interval"),
                    ("every_seconds", "3600"),
                    ("timezone", "UTC"),
                    ("args", "{\"name\": \"Ada\"}"),
                    ("enabled", "true"),
                    ("overlap", "skip"),
                    ("catch_up", "run_once"),
                ];
                let resp = page.post("/schedules/new", &form).await;
                assert_eq!(resp.status(), StatusCode::SEE_OTHER);
                let listed = read(&app, &admin, &format!("/api/v1/schedules?script_id={id}")).await;
                listed["items"][0]["id"].as_str().unwrap().to_owned()
            }
            _ => {
                let s = answer(&app, &admin, "create_schedule", &timing).await;
                s["id"].as_str().unwrap().to_owned()
            }
        };
        schedules.push(schedule);
    }
    let mut read_back = Vec::new();
    for id in &schedules {
        read_back.push(read(&app, &admin, &format!("/api/v1/schedules/{id}")).await);
    }
    let kept = |s: &Value| {
        without(
            s,
            &[
                "id",
                "script_id",
                "created_at",
                "updated_at",
                "next_run_at",
                "next_runs",
            ],
        )
    };
    for (way, s) in WAYS.iter().zip(&read_back) {
        assert_eq!(kept(s), kept(&read_back[0]), "{way}");
    }
    assert_eq!(read_back[0]["active"], true);
    assert_eq!(read_back[0]["args"], json!({"name": "Ada"}));
    let targets: Vec<String> = schedules
        .iter()
        .map(|id| format!("schedule:{id}"))
        .collect();
    same_entries(&app, &admin, "schedule.create", &targets, &["script_id"]).await;
}
