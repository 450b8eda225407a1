//! Shared set-up of the runtime tests: one runtime per test binary, and recorders
//! for what a run reports.
#![allow(clippy::unwrap_used, dead_code)]

use automa_runtime::host::ports::{
    AuditSink, HostCallRecord, MemoryState, OutputStream, RunEvents,
};
use automa_runtime::host::{Capabilities, HostContext, LogLevel, ReqwestClient};
use automa_runtime::{
    CancellationToken, Limits, Mounts, RunOutcome, RunRequest, Runtime, RuntimeConfig,
};
use serde_json::Value;
use std::sync::{Arc, Mutex, OnceLock};

/// The runtime shared by every test of this binary (compiled once, cached on disk).
pub fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        let cache = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("automa-cache");
        Runtime::new(RuntimeConfig {
            cache_dir: Some(cache),
            ..RuntimeConfig::default()
        })
        .expect("runtime starts")
    })
}

/// Everything a run reported while it ran.
#[derive(Default)]
pub struct Recorder {
    pub output: Mutex<Vec<(OutputStream, Vec<u8>)>>,
    pub logs: Mutex<Vec<(String, String, Option<Value>)>>,
    pub progress: Mutex<Vec<(f32, Option<String>)>>,
    pub calls: Mutex<Vec<HostCallRecord>>,
}

impl RunEvents for Recorder {
    fn output(&self, stream: OutputStream, chunk: &[u8]) {
        self.output.lock().unwrap().push((stream, chunk.to_vec()));
    }
    fn log(&self, level: LogLevel, message: &str, fields: Option<&Value>) {
        let level = match level {
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warning => "warning",
            LogLevel::Error => "error",
        }
        .to_owned();
        self.logs
            .lock()
            .unwrap()
            .push((level, message.to_owned(), fields.cloned()));
    }
    fn progress(&self, fraction: f32, message: Option<&str>) {
        self.progress
            .lock()
            .unwrap()
            .push((fraction, message.map(str::to_owned)));
    }
}

impl AuditSink for Recorder {
    fn record(&self, call: HostCallRecord) {
        self.calls.lock().unwrap().push(call);
    }
}

/// A run request with the given capabilities, recording into `recorder`.
pub fn request(source: &str, capabilities: Capabilities, recorder: &Arc<Recorder>) -> RunRequest {
    let mut host = HostContext::new(
        Arc::new(capabilities),
        Arc::new(ReqwestClient::new()),
        recorder.clone(),
        recorder.clone(),
    );
    host.state = Some(Arc::new(MemoryState::default()));
    RunRequest {
        source: source.to_owned(),
        filename: "script.py".into(),
        args: Value::Object(Default::default()),
        limits: Limits::default(),
        mounts: Mounts::default(),
        host,
        cancel: CancellationToken::new(),
    }
}

/// Run `source` with no capabilities.
pub async fn run(source: &str) -> RunOutcome {
    let recorder = Arc::new(Recorder::default());
    runtime()
        .run(request(source, Capabilities::default(), &recorder))
        .await
}

/// Run `source` with arguments.
pub async fn run_with_args(source: &str, args: Value) -> RunOutcome {
    let recorder = Arc::new(Recorder::default());
    let mut req = request(source, Capabilities::default(), &recorder);
    req.args = args;
    runtime().run(req).await
}
