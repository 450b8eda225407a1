use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn bad_input_gets_json_errors_with_the_right_status() {
    let app = spawn_app_with(|c| c.body_limit_bytes = 4096).await;
    let admin = app.setup_admin().await;
    let post = |path: &str, ct: &str, body: String| {
        app.client
            .post(app.url(path))
            .bearer_auth(&admin)
            .header("content-type", ct)
            .body(body)
            .send()
    };

    let malformed = post("/api/v1/tokens", "application/json", "{not json".into())
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(malformed).await, "bad_request");

    let missing = post("/api/v1/tokens", "application/json", "{}".into())
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(missing).await, "validation_failed");

    let wrong_ct = post("/api/v1/tokens", "text/plain", r#"{"name":"x"}"#.into())
        .await
        .unwrap();
    assert_eq!(wrong_ct.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(error_code(wrong_ct).await, "unsupported_media_type");

    let huge = format!(r#"{{"name":"{}"}}"#, "x".repeat(10_000));
    let too_big = post("/api/v1/tokens", "application/json", huge)
        .await
        .unwrap();
    assert_eq!(too_big.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_code(too_big).await, "payload_too_large");

    let unknown = app.get("/api/v1/nope", &admin).await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(unknown).await, "not_found");
    let unknown_root = app
        .client
        .get(app.url("/definitely/not/here"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown_root.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(unknown_root).await, "not_found");

    let wrong_method = app.send_json("PUT", "/api/v1/me", &admin, json!({})).await;
    assert_eq!(wrong_method.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(wrong_method.headers().contains_key("allow"));
    assert_eq!(error_code(wrong_method).await, "method_not_allowed");

    let huge_page = app.get("/api/v1/users?limit=1000", &admin).await;
    assert_eq!(huge_page.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(huge_page).await, "bad_request");
    let bad_limit = app.get("/api/v1/users?limit=abc", &admin).await;
    assert_eq!(bad_limit.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(bad_limit).await, "bad_request");
    assert_eq!(
        app.get("/api/v1/users?limit=200", &admin).await.status(),
        StatusCode::OK
    );

    let unknown_field = app
        .send_json(
            "PATCH",
            "/api/v1/me",
            &admin,
            json!({"theme": "dark", "role": "admin"}),
        )
        .await;
    assert_eq!(unknown_field.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn health_metrics_and_docs() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;

    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    assert!(health.headers().contains_key("x-request-id"));
    let echoed = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "abc-123");
    let body: Value = health.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"], "ok");

    let anon = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(anon.status(), StatusCode::UNAUTHORIZED);
    app.get("/api/v1/me", &admin).await;
    let metrics = app.get("/metrics", &admin).await;
    assert_eq!(metrics.status(), StatusCode::OK);
    let text = metrics.text().await.unwrap();
    assert!(text.contains("http_requests_total"), "{text}");
    assert!(text.contains("route=\"/api/v1/me\""), "{text}");
    assert!(
        text.contains("http_request_duration_seconds_bucket"),
        "{text}"
    );

    let doc: Value = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert!(doc["paths"]["/api/v1/me"]["get"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());

    let docs = app.client.get(app.url("/api/docs/")).send().await.unwrap();
    assert_eq!(docs.status(), StatusCode::OK);
    assert!(docs.text().await.unwrap().contains("swagger"));
}
