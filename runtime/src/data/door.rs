//! `host.call`, the data profile's one custom import: frames in and out of the guest's
//! memory, answered by host-api's door or, for `runner.*`, by the run itself.

use super::DataState;
use automa_host_api::ScriptError;
use automa_host_api::door::{self, DoorError, Frame, MAX_REQUEST_BYTES};
use serde::Deserialize;
use serde_json::{Value, json};
use wasmtime::{Caller, Extern, Linker};

/// `host.call`'s answer: the frame was answered (0), or the call faulted (-2) because
/// its addresses lie outside the guest's memory or the guest's allocator failed.
const ANSWERED: i32 = 0;
const FAULT: i32 = -2;

/// The script of one run, handed out once, and what its runner reported.
pub(crate) struct Job {
    source: String,
    filename: String,
    args_json: String,
    started: bool,
    finished: Option<Result<String, ScriptError>>,
}

impl Job {
    pub(crate) fn new(source: String, filename: String, args_json: String) -> Self {
        Self {
            source,
            filename,
            args_json,
            started: false,
            finished: None,
        }
    }

    fn start(&mut self) -> Result<Value, DoorError> {
        if std::mem::replace(&mut self.started, true) {
            return Err(DoorError::protocol("the run has already started"));
        }
        Ok(json!({
            "source": std::mem::take(&mut self.source),
            "filename": self.filename,
            "args_json": std::mem::take(&mut self.args_json),
        }))
    }

    fn finish(&mut self, args: Value) -> Result<Value, DoorError> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Failure {
            kind: String,
            message: String,
            traceback: String,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Finish {
            result_json: Option<String>,
            error: Option<Failure>,
        }
        if self.finished.is_some() {
            // Only the runner reports, once: a second report means the script called
            // `runner.finish` itself, so neither report is known to be its result.
            self.finished = Some(Err(ScriptError {
                kind: "ProtocolError".into(),
                message: "runner.finish was called more than once: a script must not call \
                          the runner's host functions"
                    .into(),
                traceback: String::new(),
            }));
            return Err(DoorError::protocol("the run has already finished"));
        }
        if !self.started {
            return Err(DoorError::protocol("the run is not running"));
        }
        let finish: Finish = serde_json::from_value(args)
            .map_err(|e| DoorError::protocol(format!("runner.finish: {e}")))?;
        self.finished = Some(match (finish.result_json, finish.error) {
            (Some(json), None) => Ok(json),
            (None, Some(f)) => Err(ScriptError {
                kind: f.kind,
                message: f.message,
                traceback: f.traceback,
            }),
            _ => return Err(DoorError::protocol("runner.finish: a result or an error")),
        });
        Ok(Value::Null)
    }

    /// The run's ending once the interpreter's `run` returned (or trapped): what the
    /// runner reported, or why there is nothing to report.
    pub(crate) fn ending(
        &mut self,
        exit: wasmtime::Result<i32>,
    ) -> wasmtime::Result<Result<String, ScriptError>> {
        let code = match exit {
            Ok(code) => code,
            Err(error) => match error.downcast_ref::<wasmtime_wasi::I32Exit>() {
                Some(exit) => exit.0,
                None => return Err(error),
            },
        };
        Ok(self.finished.take().unwrap_or_else(|| {
            Err(ScriptError {
                kind: "InterpreterExit".into(),
                message: format!(
                    "the interpreter exited with status {code} before the script finished; \
                     its standard error says why"
                ),
                traceback: String::new(),
            })
        }))
    }
}

/// Link `host.call` into the data profile's linker.
pub(crate) fn add_to_linker(linker: &mut Linker<DataState>) -> wasmtime::Result<()> {
    linker.func_wrap_async(
        "host",
        "call",
        |mut caller: Caller<'_, DataState>, (ptr, len, out_ptr, out_len): (i32, i32, i32, i32)| {
            Box::new(async move { call(&mut caller, ptr, len, out_ptr, out_len).await })
        },
    )?;
    Ok(())
}

/// An i32 the guest passed as an address or length: wasm32 addresses are unsigned.
fn address(value: i32) -> usize {
    value.cast_unsigned() as usize
}

async fn call(
    caller: &mut Caller<'_, DataState>,
    ptr: i32,
    len: i32,
    out_ptr: i32,
    out_len: i32,
) -> wasmtime::Result<i32> {
    let Some(Extern::Memory(memory)) = caller.get_export("memory") else {
        return Ok(FAULT);
    };
    let (ptr, len) = (address(ptr), address(len));
    let (out_ptr, out_len) = (address(out_ptr), address(out_len));
    let size = memory.data_size(&*caller);
    let within = |at: usize, n: usize| at.checked_add(n).is_some_and(|end| end <= size);
    if !within(ptr, len) || !within(out_ptr, 4) || !within(out_len, 4) {
        return Ok(FAULT);
    }
    // A frame over the cap is refused by its length, before it is copied out.
    let answer = if len > MAX_REQUEST_BYTES {
        door::answer(
            0,
            Err(DoorError::protocol(format!(
                "a host call may carry at most {} MiB",
                MAX_REQUEST_BYTES >> 20
            ))),
        )
    } else {
        let bytes = memory.data(&*caller)[ptr..ptr + len].to_vec();
        match Frame::parse(&bytes) {
            Err((id, error)) => door::answer(id, Err(error)),
            Ok(frame) => {
                let state = caller.data_mut();
                let result = match frame.tool.as_str() {
                    "runner.start" => state.job.start(),
                    "runner.finish" => state.job.finish(frame.args),
                    tool => door::call(&mut state.host, tool, frame.args).await,
                };
                door::answer(frame.id, result)
            }
        }
    };
    let Some(Extern::Func(alloc)) = caller.get_export("host_alloc") else {
        return Ok(FAULT);
    };
    let Ok(alloc) = alloc.typed::<i32, i32>(&*caller) else {
        return Ok(FAULT);
    };
    let Ok(length) = i32::try_from(answer.len()) else {
        return Ok(FAULT);
    };
    // The guest's allocator runs inside this call; a trap there ends the run.
    let at = address(alloc.call_async(&mut *caller, length).await?);
    let size = memory.data_size(&*caller);
    if at == 0 || at.checked_add(answer.len()).is_none_or(|end| end > size) {
        return Ok(FAULT);
    }
    let data = memory.data_mut(&mut *caller);
    data[at..at + answer.len()].copy_from_slice(&answer);
    data[out_ptr..out_ptr + 4].copy_from_slice(&(at as u32).to_le_bytes());
    data[out_len..out_len + 4].copy_from_slice(&(answer.len() as u32).to_le_bytes());
    Ok(ANSWERED)
}
