//! `/static/{name}`: the embedded CSS and scripts.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

pub async fn serve(Path(name): Path<String>) -> Response {
    match automa_ui::assets::find(&name) {
        Some((content_type, body)) => (
            [
                (header::CONTENT_TYPE, content_type),
                // Embedded in the binary: changes only with a new build.
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            body,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
