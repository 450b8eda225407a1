//! The OpenAPI document states the bounds the handlers enforce on request bodies
//! (issue 12): a client generated from it (or schemathesis) sends values in range.

use crate::helpers::*;
use serde_json::Value;

#[tokio::test]
async fn request_schemas_carry_the_enforced_bounds() {
    let app = spawn_app().await;
    let doc: Value = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let schema = |name: &str| doc["components"]["schemas"][name]["properties"].clone();
    let settings = schema("RunSettings");
    assert_eq!(settings["memory_mb"]["minimum"], 32, "{settings}");
    assert_eq!(settings["memory_mb"]["maximum"], 4096);
    assert_eq!(settings["timeout_seconds"]["maximum"], 86400);
    assert_eq!(settings["retries"]["maximum"], 10);
    for days in [
        "jobs_days",
        "job_logs_days",
        "artifacts_days",
        "agent_history_days",
    ] {
        assert_eq!(settings[days]["minimum"], 0, "{days}: {settings}");
        assert_eq!(settings[days]["maximum"], 3650, "{days}");
    }
    let quotas = schema("QuotaOverrides");
    assert_eq!(quotas["agents"]["minimum"], 0, "{quotas}");
    assert_eq!(quotas["agent_cpu_seconds_per_minute"]["maximum"], 60);
    let token = schema("CreateToken");
    assert_eq!(token["name"]["maxLength"], 100, "{token}");
    let secret = schema("PutSecret");
    assert_eq!(secret["name"]["maxLength"], 64, "{secret}");
    assert_eq!(secret["name"]["pattern"], "^[A-Za-z][A-Za-z0-9_]*$");
    for name in ["CreateScript", "UpdateScript"] {
        let script = schema(name);
        assert_eq!(script["name"]["maxLength"], 100, "{name}: {script}");
        assert_eq!(script["max_concurrency"]["maximum"], 100, "{name}");
        assert_eq!(script["tags"]["maxItems"], 20, "{name}");
        assert_eq!(script["requirements"]["maxItems"], 50, "{name}");
    }
    // The per-user usage is documented with the API that answers it.
    assert!(doc["paths"]["/api/v1/me/usage"]["get"].is_object());
    assert!(doc["paths"]["/api/v1/users/{id}/usage"]["get"].is_object());
    assert!(doc["paths"]["/api/v1/audit/verify"]["get"].is_object());
}
