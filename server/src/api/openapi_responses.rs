//! Answers every operation can give, added to the OpenAPI document once all routes are
//! in it, so the document lists what the server really answers: 400 for a path, query
//! or body it cannot read, 401/403 where a token is needed, and 413/415/422 where a
//! JSON body is sent.

use utoipa::openapi::path::Operation;
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, ResponseBuilder};

/// Adds the common error answers (an `ErrorBody`) to every operation lacking them.
pub fn add_common_responses(openapi: &mut OpenApi) {
    for item in openapi.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for op in operations.into_iter().flatten() {
            add_to(op);
        }
    }
}

fn add_to(op: &mut Operation) {
    // `security(())` marks the public operations (setup, login, webhooks).
    let public = op.security.as_ref().is_some_and(|all| {
        all.iter().all(|r| {
            serde_json::to_value(r).is_ok_and(|v| v.as_object().is_some_and(|o| o.is_empty()))
        })
    });
    let json_body = op.request_body.as_ref().is_some_and(|body| match body {
        RefOr::T(body) => body.content.contains_key("application/json"),
        RefOr::Ref(_) => true,
    });
    let body = op.request_body.is_some();
    let mut add = |status: &str, description: &str| {
        op.responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| {
                RefOr::T(
                    ResponseBuilder::new()
                        .description(description)
                        .content(
                            "application/json",
                            Content::new(Some(Ref::from_schema_name("ErrorBody"))),
                        )
                        .build(),
                )
            });
    };
    add(
        "400",
        "the request cannot be read: a malformed path, query or body value",
    );
    if !public {
        add("401", "no valid bearer token (missing, expired or revoked)");
        add(
            "403",
            "the token's scope or the user's role does not allow this",
        );
    }
    if body {
        add("413", "the request body is over the server's body limit");
    }
    if json_body {
        add(
            "415",
            "the body is not sent as `Content-Type: application/json`",
        );
        add(
            "422",
            "the JSON body lacks a required field or has a wrong value",
        );
    }
}
