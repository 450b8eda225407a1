//! Captures a run's stdout and stderr with a size cap, forwarding each chunk as it
//! comes. Past the cap the rest is dropped (with one marker) and the script goes on.

use automa_host_api::ports::{OutputStream as Stream, RunEvents};
use bytes::Bytes;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

struct Buffer {
    bytes: Vec<u8>,
    limit: usize,
    dropped: u64,
}

/// One captured stream; clones share the buffer.
#[derive(Clone)]
pub(crate) struct CapturedOutput {
    buffer: Arc<Mutex<Buffer>>,
    stream: Stream,
    events: Arc<dyn RunEvents>,
}

impl CapturedOutput {
    pub(crate) fn new(stream: Stream, limit: usize, events: Arc<dyn RunEvents>) -> Self {
        Self {
            buffer: Arc::new(Mutex::new(Buffer {
                bytes: Vec::new(),
                limit,
                dropped: 0,
            })),
            stream,
            events,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Buffer> {
        // A panic while holding the lock cannot leave the buffer inconsistent.
        self.buffer.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn append(&self, chunk: &[u8]) {
        let kept = {
            let mut buffer = self.lock();
            let room = buffer.limit.saturating_sub(buffer.bytes.len());
            let kept = chunk.len().min(room);
            buffer.bytes.extend_from_slice(&chunk[..kept]);
            buffer.dropped += (chunk.len() - kept) as u64;
            kept
        };
        if kept > 0 {
            self.events.output(self.stream, &chunk[..kept]);
        }
    }

    /// The captured text; a marker at the end says how much was dropped.
    pub(crate) fn text(&self) -> String {
        let buffer = self.lock();
        let mut text = String::from_utf8_lossy(&buffer.bytes).into_owned();
        if buffer.dropped > 0 {
            if !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str(&format!(
                "[automa: output truncated: {} more bytes were dropped after the first {} bytes]\n",
                buffer.dropped, buffer.limit
            ));
        }
        text
    }
}

impl IsTerminal for CapturedOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CapturedOutput {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

impl OutputStream for CapturedOutput {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.append(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(64 * 1024)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for CapturedOutput {
    async fn ready(&mut self) {}
}

impl tokio::io::AsyncWrite for CapturedOutput {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.append(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
