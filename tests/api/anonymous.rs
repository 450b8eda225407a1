//! Every route in the served OpenAPI document refuses anonymous callers, except the
//! explicitly public ones. New routes are covered automatically.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::Value;

const PUBLIC: &[(&str, &str)] = &[
    ("get", "/api/v1/setup"),
    ("post", "/api/v1/setup"),
    ("post", "/api/v1/auth/login"),
    // The token in the path is the credential.
    ("post", "/api/v1/hooks/{token}"),
];

#[tokio::test]
async fn every_api_route_refuses_anonymous_access() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let doc: Value = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = doc["paths"].as_object().expect("paths");
    let mut checked = 0;
    for (path, item) in paths {
        assert!(path.starts_with("/api/v1/"), "unexpected path {path}");
        for (method, op) in item.as_object().unwrap() {
            if !["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                continue;
            }
            let public = PUBLIC.contains(&(method.as_str(), path.as_str()));
            // The document must agree: public operations declare no security.
            let declared_public = op
                .get("security")
                .and_then(|s| s.as_array())
                .is_some_and(|s| {
                    s.iter()
                        .all(|r| r.as_object().is_some_and(|o| o.is_empty()))
                });
            assert_eq!(
                public, declared_public,
                "{method} {path}: security in OpenAPI"
            );
            if public {
                continue;
            }
            let concrete = concrete_path(path);
            for auth in [
                None,
                Some("Bearer nonsense"),
                Some("Basic YWRtaW46YWRtaW4="),
            ] {
                let mut req = app
                    .client
                    .request(method.to_uppercase().parse().unwrap(), app.url(&concrete))
                    .header("content-type", "application/json")
                    .body("{}");
                if let Some(a) = auth {
                    req = req.header("authorization", a);
                }
                let resp = req.send().await.unwrap();
                assert_eq!(
                    resp.status(),
                    StatusCode::UNAUTHORIZED,
                    "{method} {path} with {auth:?}"
                );
                assert_eq!(error_code(resp).await, "unauthorized", "{method} {path}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 14, "only {checked} protected operations found");
}

/// Fills path parameters: `{id}` with a well-formed UUID, anything else with `1` (valid
/// for numeric parameters and names alike), so a route's own parsing never answers first.
fn concrete_path(path: &str) -> String {
    path.split('/')
        .map(|seg| match seg {
            "{id}" => "0190f0f0-0000-7000-8000-000000000000",
            s if s.starts_with('{') && s.ends_with('}') => "1",
            s => s,
        })
        .collect::<Vec<_>>()
        .join("/")
}
