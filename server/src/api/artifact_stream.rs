//! Artifact downloads streamed from disk in 64 KiB pieces, so a large file never sits
//! in server memory whole.

use axum::body::{Body, Bytes};
use tokio::io::AsyncReadExt;

const CHUNK: usize = 64 * 1024;

/// The body that reads `file` as the client takes it.
pub fn body(file: std::fs::File) -> Body {
    let file = tokio::fs::File::from_std(file);
    let chunks = futures::stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let mut buf = vec![0u8; CHUNK];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(Bytes::from(buf)), Some(file)))
            }
            Err(e) => Some((Err(e), None)),
        }
    });
    Body::from_stream(chunks)
}
