//! Router-level checks of how domain errors reach HTTP clients: every `ApiError` a
//! service returns becomes its status and the `{"error": {"code", "message"}}` body
//! (with `Retry-After` or `WWW-Authenticate` where they belong, and never an internal
//! error's details), and the API's extractors refuse bad input the same way. Requests go
//! through an axum router with `tower::ServiceExt::oneshot`: no server, no database.
#![allow(clippy::unwrap_used)]

use super::{ApiJson, ApiPath};
use crate::error::ApiError;
use crate::services::scripts::CreateScript;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tower::ServiceExt;

/// The error each `/error/{name}` path answers with.
fn error_named(name: &str) -> ApiError {
    match name {
        "bad_request" => ApiError::BadRequest("limit must be between 1 and 200".into()),
        "validation" => ApiError::Validation("max_concurrency must be between 1 and 100".into()),
        "unauthorized" => ApiError::Unauthorized("missing bearer token"),
        "expired" => ApiError::TokenExpired,
        "totp" => ApiError::TotpRequired,
        "forbidden" => ApiError::Forbidden("only an admin may grant capabilities"),
        "conflict" => ApiError::Conflict("you already have a script named x".into()),
        "gone" => ApiError::Gone("this webhook's owner is disabled".into()),
        "media" => ApiError::UnsupportedMediaType("expected application/json".into()),
        "too_large" => ApiError::PayloadTooLarge,
        "too_many" => ApiError::TooManyRequests {
            message: "you already have 16 live streams open".into(),
            retry_after: 5,
        },
        "unavailable" => ApiError::Unavailable("packages are being installed".into()),
        "internal" => ApiError::Internal(anyhow::anyhow!("db password is hunter2")),
        _ => ApiError::NotFound,
    }
}

async fn fails(ApiPath(name): ApiPath<String>) -> Result<StatusCode, ApiError> {
    Err(error_named(&name))
}

async fn takes_script(ApiJson(req): ApiJson<CreateScript>) -> ApiJson<Value> {
    ApiJson(json!({"name": req.name}))
}

fn router() -> Router {
    Router::new()
        .route("/error/{name}", get(fails))
        .route("/scripts", post(takes_script))
}

/// Status, headers and the JSON body of one request.
async fn answer(req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Value) {
    let resp = router().oneshot(req).await.unwrap();
    let (parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    (
        parts.status,
        parts.headers,
        serde_json::from_slice(&bytes).unwrap(),
    )
}

async fn error(name: &str) -> (StatusCode, axum::http::HeaderMap, Value) {
    let req = Request::get(format!("/error/{name}"))
        .body(Body::empty())
        .unwrap();
    answer(req).await
}

fn post_json(body: &str, content_type: &str) -> Request<Body> {
    Request::post("/scripts")
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body.to_owned()))
        .unwrap()
}

#[tokio::test]
async fn each_domain_error_has_its_status_code_and_message() {
    let cases = [
        ("bad_request", 400, "bad_request"),
        ("validation", 422, "validation_failed"),
        ("unauthorized", 401, "unauthorized"),
        ("expired", 401, "token_expired"),
        ("totp", 401, "totp_required"),
        ("forbidden", 403, "forbidden"),
        ("missing", 404, "not_found"),
        ("conflict", 409, "conflict"),
        ("gone", 410, "gone"),
        ("media", 415, "unsupported_media_type"),
        ("too_large", 413, "payload_too_large"),
        ("too_many", 429, "too_many_requests"),
        ("unavailable", 503, "unavailable"),
        ("internal", 500, "internal"),
    ];
    for (name, status, code) in cases {
        let (got, headers, body) = error(name).await;
        assert_eq!(got.as_u16(), status, "{name}");
        assert_eq!(headers[header::CONTENT_TYPE], "application/json", "{name}");
        let expected = error_named(name).public_message();
        assert_eq!(
            body,
            json!({"error": {"code": code, "message": expected}}),
            "{name}"
        );
    }
}

#[tokio::test]
async fn headers_tell_when_to_retry_and_how_to_authenticate_and_internals_stay_inside() {
    let (_, headers, _) = error("too_many").await;
    assert_eq!(headers[header::RETRY_AFTER], "5");
    for name in ["unauthorized", "expired"] {
        let (_, headers, _) = error(name).await;
        assert_eq!(
            headers[header::WWW_AUTHENTICATE],
            "Bearer realm=\"automa\"",
            "{name}"
        );
    }
    let (_, headers, body) = error("forbidden").await;
    assert!(headers.get(header::WWW_AUTHENTICATE).is_none());
    assert!(headers.get(header::RETRY_AFTER).is_none());
    assert_eq!(body["error"]["code"], "forbidden");
    let (_, _, body) = error("internal").await;
    assert_eq!(body["error"]["message"], "internal server error");
    assert!(!body.to_string().contains("hunter2"));
}

#[tokio::test]
async fn a_request_body_the_service_cannot_take_is_refused_before_it() {
    let ok = answer(post_json(
        r#"{"name": "a", "source": "x = 1"}"#,
        "application/json",
    ))
    .await;
    assert_eq!(ok.0, StatusCode::OK);
    assert_eq!(ok.2, json!({"name": "a"}));
    // Syntax error, an unknown field, a missing field, another media type.
    let cases = [
        (r#"{"name": "#, "application/json", 400, "bad_request"),
        (
            r#"{"name": "a", "source": "", "colour": "red"}"#,
            "application/json",
            422,
            "validation_failed",
        ),
        (
            r#"{"name": "a"}"#,
            "application/json",
            422,
            "validation_failed",
        ),
        (
            r#"{"name": "a", "source": ""}"#,
            "text/plain",
            415,
            "unsupported_media_type",
        ),
    ];
    for (body, content_type, status, code) in cases {
        let (got, _, answer) = answer(post_json(body, content_type)).await;
        assert_eq!(got.as_u16(), status, "{body} as {content_type}: {answer}");
        assert_eq!(answer["error"]["code"], code, "{body}");
        assert!(
            answer["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
}
