//! The data profile's host door: the same host functions as the WIT interfaces, reached
//! through JSON frames instead of the component model.
//!
//! The data profile's interpreter is a WASI preview-1 module with one custom import,
//! `host.call`, that carries opaque bytes. Automa's frames follow that interpreter's
//! tool protocol (version 1): a request is `{"v":1,"id":N,"op":"call","tool":T,
//! "args":{..}}`, an answer `{"v":1,"id":N,"ok":true,"value":..}` or `{"ok":false,
//! "error":{"kind","message","case"}}`, bytes travel as `{"$bytes": base64}`. Each tool
//! decodes its arguments into the WIT records and calls the very `Host` implementation
//! a component run calls, so capability checks, budgets and audit are the same.

use crate::HostContext;
use crate::bindings::automa::host as wit;
use crate::bindings::automa::host::types::Error as WitError;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Value, json};

/// The protocol version of the frames.
pub const PROTOCOL: u64 = 1;

/// The largest request frame the host reads: an artifact or an HTTP body of the
/// largest size a run may publish or send, base64-encoded, fits.
pub const MAX_REQUEST_BYTES: usize = 96 << 20;

/// The largest answer the host writes back into the guest.
pub const MAX_ANSWER_BYTES: usize = 96 << 20;

/// A failed call, as the frame's `error` object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoorError {
    /// The protocol's kind: `protocol`, `unknown_tool`, `invalid_arguments`, `denied`,
    /// `tool_error`, `timeout`, `too_large` or `budget_exceeded`.
    pub kind: &'static str,
    /// What went wrong, for the script.
    pub message: String,
    /// The WIT error case (`denied`, `not-found`, ...) when a host function failed, so
    /// the SDK raises the same exception as in the default profile.
    pub case: Option<&'static str>,
}

impl DoorError {
    /// A frame or arguments that do not fit the protocol.
    pub fn protocol(message: impl Into<String>) -> Self {
        Self {
            kind: "protocol",
            message: message.into(),
            case: None,
        }
    }

    fn invalid(message: impl Into<String>) -> Self {
        Self {
            kind: "invalid_arguments",
            message: message.into(),
            case: None,
        }
    }
}

impl From<WitError> for DoorError {
    fn from(error: WitError) -> Self {
        let (kind, case, message) = match error {
            WitError::Denied(m) => ("denied", "denied", m),
            WitError::InvalidInput(m) => ("invalid_arguments", "invalid-input", m),
            WitError::Timeout(m) => ("timeout", "timeout", m),
            WitError::TooLarge(m) => ("too_large", "too-large", m),
            WitError::LimitReached(m) => ("budget_exceeded", "limit-reached", m),
            WitError::NotFound(m) => ("tool_error", "not-found", m),
            WitError::Failed(m) => ("tool_error", "failed", m),
        };
        Self {
            kind,
            message,
            case: Some(case),
        }
    }
}

/// One request frame, decoded.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Frame {
    /// The protocol version; only [`PROTOCOL`].
    pub v: u64,
    /// The caller's id, echoed in the answer.
    pub id: u64,
    /// `call` (the only operation Automa offers; `list` is refused with a hint).
    pub op: String,
    /// The tool's name, e.g. `http.send`.
    #[serde(default)]
    pub tool: String,
    /// The tool's arguments: a JSON object.
    #[serde(default)]
    pub args: Value,
}

impl Frame {
    /// Decode a request, refusing what is over the cap or not a version-1 frame.
    pub fn parse(bytes: &[u8]) -> Result<Self, (u64, DoorError)> {
        if bytes.len() > MAX_REQUEST_BYTES {
            return Err((
                0,
                DoorError {
                    kind: "too_large",
                    message: format!(
                        "a host call may carry at most {} MiB",
                        MAX_REQUEST_BYTES >> 20
                    ),
                    case: Some("too-large"),
                },
            ));
        }
        let frame: Frame = serde_json::from_slice(bytes).map_err(|e| {
            (
                0,
                DoorError::protocol(format!("the frame is not valid: {e}")),
            )
        })?;
        if frame.v != PROTOCOL {
            return Err((
                frame.id,
                DoorError::protocol(format!(
                    "protocol {} is not spoken here, only {PROTOCOL}",
                    frame.v
                )),
            ));
        }
        if frame.op != "call" {
            return Err((
                frame.id,
                DoorError::protocol(format!(
                    "operation {:?} is not offered: Automa's host functions are reached \
                     through the automa SDK",
                    frame.op
                )),
            ));
        }
        Ok(frame)
    }
}

/// The answer frame for `id`.
pub fn answer(id: u64, result: Result<Value, DoorError>) -> Vec<u8> {
    let frame = match result {
        Ok(value) => json!({"v": PROTOCOL, "id": id, "ok": true, "value": value}),
        Err(error) => json!({
            "v": PROTOCOL,
            "id": id,
            "ok": false,
            "error": {"kind": error.kind, "message": error.message, "case": error.case},
        }),
    };
    let bytes = serde_json::to_vec(&frame).unwrap_or_default();
    if bytes.len() > MAX_ANSWER_BYTES {
        return answer(
            id,
            Err(DoorError {
                kind: "too_large",
                message: format!("the answer is over {} MiB", MAX_ANSWER_BYTES >> 20),
                case: Some("too-large"),
            }),
        );
    }
    bytes
}

/// Bytes as the protocol carries them: `{"$bytes": "<base64>"}`.
#[derive(Debug, Default)]
pub struct Bytes(pub Vec<u8>);

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct BytesForm {
    #[serde(rename = "$bytes")]
    bytes: String,
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let form = BytesForm::deserialize(deserializer)?;
        BASE64
            .decode(form.bytes.as_bytes())
            .map(Bytes)
            .map_err(|e| serde::de::Error::custom(format!("\"$bytes\" is not base64: {e}")))
    }
}

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        BytesForm {
            bytes: BASE64.encode(&self.0),
        }
        .serialize(serializer)
    }
}

fn args<T: DeserializeOwned>(tool: &str, value: Value) -> Result<T, DoorError> {
    let value = if value.is_null() { json!({}) } else { value };
    serde_json::from_value(value).map_err(|e| DoorError::invalid(format!("{tool}: {e}")))
}

fn value(v: impl Serialize) -> Result<Value, DoorError> {
    serde_json::to_value(v).map_err(|e| DoorError::protocol(format!("encoding the answer: {e}")))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HeaderArg {
    name: String,
    value: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HttpSend {
    method: String,
    url: String,
    #[serde(default)]
    headers: Vec<HeaderArg>,
    #[serde(default)]
    body: Option<Bytes>,
    #[serde(default)]
    timeout_ms: Option<u32>,
    #[serde(default)]
    follow_redirects: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AttachmentArg {
    filename: String,
    content_type: String,
    data: Bytes,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EmailSend {
    #[serde(default)]
    to: Vec<String>,
    #[serde(default)]
    cc: Vec<String>,
    #[serde(default)]
    bcc: Vec<String>,
    subject: String,
    text: String,
    #[serde(default)]
    html: Option<String>,
    #[serde(default)]
    reply_to: Option<String>,
    #[serde(default)]
    attachments: Vec<AttachmentArg>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Publish {
    name: String,
    data: Bytes,
    #[serde(default)]
    content_type: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Name {
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Key {
    key: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyValue {
    key: String,
    value: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LogWrite {
    level: String,
    message: String,
    #[serde(default)]
    fields_json: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Progress {
    fraction: f32,
    #[serde(default)]
    message: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TimeoutMs {
    timeout_ms: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Ms {
    ms: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ValueJson {
    value_json: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Status {
    text: String,
    #[serde(default)]
    metrics_json: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PluginCall {
    name: String,
    function: String,
    args_json: String,
}

#[derive(Serialize)]
struct ResponseValue {
    status: u16,
    headers: Vec<(String, String)>,
    body: Bytes,
    url: String,
}

/// The tools the door offers, one per WIT function, in `interface.function` form.
pub const TOOLS: &[&str] = &[
    "http.send",
    "email.send",
    "files.publish_artifact",
    "files.mounts",
    "secrets.get",
    "state.get",
    "state.set",
    "state.delete",
    "state.keys",
    "log.write",
    "log.progress",
    "agent.receive",
    "agent.emit",
    "agent.set_status",
    "agent.sleep",
    "agent.stop_requested",
    "plugins.call",
    "plugins.describe",
];

/// Run one tool call against the run's host context.
pub async fn call(ctx: &mut HostContext, tool: &str, raw: Value) -> Result<Value, DoorError> {
    use wit::agent::Host as _;
    use wit::files::Host as _;
    use wit::log::Host as _;
    use wit::plugins::Host as _;
    match tool {
        "http.send" => {
            let a: HttpSend = args(tool, raw)?;
            let req = wit::http::Request {
                method: a.method,
                url: a.url,
                headers: a
                    .headers
                    .into_iter()
                    .map(|h| wit::http::Header {
                        name: h.name,
                        value: h.value,
                    })
                    .collect(),
                body: a.body.map(|b| b.0),
                timeout_ms: a.timeout_ms,
                follow_redirects: a.follow_redirects,
            };
            let response = wit::http::Host::send(ctx, req).await?;
            value(ResponseValue {
                status: response.status,
                headers: response
                    .headers
                    .into_iter()
                    .map(|h| (h.name, h.value))
                    .collect(),
                body: Bytes(response.body),
                url: response.url,
            })
        }
        "email.send" => {
            let a: EmailSend = args(tool, raw)?;
            let message = wit::email::Message {
                to: a.to,
                cc: a.cc,
                bcc: a.bcc,
                subject: a.subject,
                text: a.text,
                html: a.html,
                reply_to: a.reply_to,
                attachments: a
                    .attachments
                    .into_iter()
                    .map(|f| wit::email::Attachment {
                        filename: f.filename,
                        content_type: f.content_type,
                        data: f.data.0,
                    })
                    .collect(),
            };
            wit::email::Host::send(ctx, message).await?;
            Ok(Value::Null)
        }
        "files.publish_artifact" => {
            let a: Publish = args(tool, raw)?;
            ctx.publish_artifact(a.name, a.data.0, a.content_type)
                .await?;
            Ok(Value::Null)
        }
        "files.mounts" => {
            let _: Empty = args(tool, raw)?;
            value(ctx.mounts().await)
        }
        "secrets.get" => {
            let a: Name = args(tool, raw)?;
            value(wit::secrets::Host::get(ctx, a.name).await?)
        }
        "state.get" => {
            let a: Key = args(tool, raw)?;
            value(wit::state::Host::get(ctx, a.key).await?)
        }
        "state.set" => {
            let a: KeyValue = args(tool, raw)?;
            wit::state::Host::set(ctx, a.key, a.value).await?;
            Ok(Value::Null)
        }
        "state.delete" => {
            let a: Key = args(tool, raw)?;
            value(wit::state::Host::delete(ctx, a.key).await?)
        }
        "state.keys" => {
            let _: Empty = args(tool, raw)?;
            value(wit::state::Host::keys(ctx).await?)
        }
        "log.write" => {
            let a: LogWrite = args(tool, raw)?;
            let level = match a.level.as_str() {
                "debug" => wit::log::Level::Debug,
                "info" => wit::log::Level::Info,
                "warning" => wit::log::Level::Warning,
                "error" => wit::log::Level::Error,
                other => {
                    return Err(DoorError::invalid(format!(
                        "log.write: unknown level {other:?}; use debug, info, warning or error"
                    )));
                }
            };
            ctx.write(level, a.message, a.fields_json).await;
            Ok(Value::Null)
        }
        "log.progress" => {
            let a: Progress = args(tool, raw)?;
            ctx.progress(a.fraction, a.message).await;
            Ok(Value::Null)
        }
        "agent.receive" => {
            let a: TimeoutMs = args(tool, raw)?;
            value(ctx.receive(a.timeout_ms).await?)
        }
        "agent.emit" => {
            let a: ValueJson = args(tool, raw)?;
            ctx.emit(a.value_json).await?;
            Ok(Value::Null)
        }
        "agent.set_status" => {
            let a: Status = args(tool, raw)?;
            ctx.set_status(a.text, a.metrics_json).await?;
            Ok(Value::Null)
        }
        "agent.sleep" => {
            let a: Ms = args(tool, raw)?;
            value(wit::agent::Host::sleep(ctx, a.ms).await?)
        }
        "agent.stop_requested" => {
            let _: Empty = args(tool, raw)?;
            value(ctx.stop_requested().await?)
        }
        "plugins.call" => {
            let a: PluginCall = args(tool, raw)?;
            value(wit::plugins::Host::call(ctx, a.name, a.function, a.args_json).await?)
        }
        "plugins.describe" => {
            let a: Name = args(tool, raw)?;
            value(ctx.describe(a.name).await?)
        }
        other => Err(DoorError {
            kind: "unknown_tool",
            message: format!(
                "no host function {other:?}; the host offers {}",
                TOOLS.join(", ")
            ),
            case: None,
        }),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Empty {}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn frames_that_break_the_protocol_are_refused_with_their_id() {
        let (id, e) = Frame::parse(br#"{"v":2,"id":7,"op":"call"}"#).unwrap_err();
        assert_eq!((id, e.kind), (7, "protocol"));
        let (_, e) = Frame::parse(br#"{"v":1,"id":1,"op":"list"}"#).unwrap_err();
        assert!(e.message.contains("automa SDK"), "{}", e.message);
        let (_, e) = Frame::parse(b"not json").unwrap_err();
        assert_eq!(e.kind, "protocol");
        let (_, e) = Frame::parse(br#"{"v":1,"id":1,"op":"call","extra":1}"#).unwrap_err();
        assert_eq!(e.kind, "protocol");
        let big = vec![b' '; MAX_REQUEST_BYTES + 1];
        assert_eq!(Frame::parse(&big).unwrap_err().1.kind, "too_large");
        let frame = Frame::parse(br#"{"v":1,"id":3,"op":"call","tool":"state.keys"}"#).unwrap();
        assert_eq!((frame.id, frame.tool.as_str()), (3, "state.keys"));
    }

    #[test]
    fn bytes_cross_as_base64_and_bad_base64_is_refused() {
        let b: Bytes = serde_json::from_value(json!({"$bytes": "aGk="})).unwrap();
        assert_eq!(b.0, b"hi");
        assert_eq!(serde_json::to_value(&b).unwrap(), json!({"$bytes": "aGk="}));
        assert!(serde_json::from_value::<Bytes>(json!({"$bytes": "!!"})).is_err());
        assert!(serde_json::from_value::<Bytes>(json!("aGk=")).is_err());
    }

    #[test]
    fn host_errors_keep_their_wit_case() {
        let e = DoorError::from(WitError::NotFound("no secret x".into()));
        let frame: Value = serde_json::from_slice(&answer(9, Err(e))).unwrap();
        assert_eq!(frame["ok"], false);
        assert_eq!(frame["id"], 9);
        assert_eq!(frame["error"]["case"], "not-found");
        assert_eq!(frame["error"]["kind"], "tool_error");
        let ok: Value = serde_json::from_slice(&answer(1, Ok(json!([1])))).unwrap();
        assert_eq!(ok["value"], json!([1]));
    }
}
