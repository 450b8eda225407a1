//! Shared set-up of the runtime tests: one runtime per test binary, and recorders
//! for what a run reports.
#![allow(clippy::unwrap_used, dead_code)]

pub mod tls;

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
    RUNTIME.get_or_init(|| runtime_with(RuntimeConfig::default()))
}

/// A runtime of `config` whose compiled runner is the one every test binary shares on
/// disk (`config`'s own cache directory is replaced).
pub fn runtime_with(config: RuntimeConfig) -> Runtime {
    let cache = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("automa-cache");
    Runtime::new(RuntimeConfig {
        cache_dir: Some(cache),
        ..config
    })
    .expect("runtime starts")
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
        profile: Default::default(),
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

/// An agent channel in memory: a mailbox the test fills, events and statuses it reads.
#[derive(Default)]
pub struct TestAgent {
    pub inbox: Mutex<std::collections::VecDeque<String>>,
    pub events: Mutex<Vec<String>>,
    pub statuses: Mutex<Vec<(String, Option<Value>)>>,
    pub stop: tokio::sync::Notify,
    pub stopping: std::sync::atomic::AtomicBool,
    pub beats: std::sync::atomic::AtomicU32,
}

impl automa_runtime::host::ports::AgentChannel for TestAgent {
    fn receive(
        &self,
        timeout: std::time::Duration,
    ) -> automa_runtime::host::ports::BoxFuture<'_, Option<String>> {
        Box::pin(async move {
            let deadline = tokio::time::Instant::now() + timeout;
            loop {
                if let Some(message) = self.inbox.lock().unwrap().pop_front() {
                    return Some(message);
                }
                if self.stop_requested() || tokio::time::Instant::now() >= deadline {
                    return None;
                }
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        })
    }
    fn emit(&self, value_json: String) {
        self.events.lock().unwrap().push(value_json);
    }
    fn set_status(&self, text: String, metrics: Option<Value>) {
        self.statuses.lock().unwrap().push((text, metrics));
    }
    fn stop_requested(&self) -> bool {
        self.stopping.load(std::sync::atomic::Ordering::SeqCst)
    }
    fn stopped(&self) -> automa_runtime::host::ports::BoxFuture<'_, ()> {
        Box::pin(async move {
            while !self.stop_requested() {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        })
    }
    fn heartbeat(&self) {
        self.beats.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}
