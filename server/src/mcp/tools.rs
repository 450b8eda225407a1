//! MCP tools: the caller's scripts with `expose_as_tool`, plus built-ins for scripts,
//! jobs and agents. Every call checks the caller's rights like the REST API does and is
//! written to the audit log as `mcp.<tool>`.

use super::{Caller, internal};
use crate::api::agents::AgentView;
use crate::api::jobs::JobView;
use crate::audit::{AuditEvent, Outcome};
use crate::auth::{Scope, policy};
use crate::db::{self, decode::CorruptRow, jobs::JobRow, scripts::ScriptRow};
use crate::error::ApiError;
use crate::services;
use crate::state::AppState;
use rmcp::ErrorData as McpError;
use rmcp::model::{
    CallToolRequestParams, CallToolResult, ContentBlock as Content, JsonObject, Tool,
};
use serde_json::{Value, json};
use std::collections::HashSet;

/// Lines of stdout/stderr shown with a failed run or by `get_job`.
const TAIL_LINES: usize = 20;
/// Most scripts read per page while building the tool list.
const PAGE: i64 = 200;

/// The built-in tools: name, description, whether it changes anything, input schema.
fn builtins() -> Vec<(&'static str, &'static str, bool, Value)> {
    let id = |what: &str| {
        json!({"type": "object", "properties": {"id": {"type": "string", "description": what}},
               "required": ["id"]})
    };
    vec![
        (
            "list_scripts",
            "List the scripts you can run (id, name, description, parameters, tool name).",
            false,
            json!({"type": "object", "properties": {"q": {"type": "string", "description": "filter by name or description"}}}),
        ),
        (
            "run_script",
            "Run a script by id with arguments and wait for the job (up to its time limit). Returns the job: status, result, error, output.",
            true,
            json!({"type": "object", "properties": {
             "id": {"type": "string", "description": "script id"},
             "args": {"type": "object", "description": "arguments of the script's main()"},
             "wait": {"type": "boolean", "description": "wait for the result (default true)"}},
             "required": ["id"]}),
        ),
        (
            "create_script",
            "Create a script (version 1) from its Python source; its parameters are read from main()'s signature. Returns the script.",
            true,
            json!({"type": "object", "properties": {
             "name": {"type": "string", "description": "letters, digits, '-', '_' and '.'; unique among your scripts"},
             "source": {"type": "string", "description": "the Python source"},
             "description": {"type": "string"}},
             "required": ["name", "source"]}),
        ),
        (
            "create_schedule",
            "Schedule one of your scripts: once at an RFC 3339 time, every N seconds, or by a cron pattern in a time zone. Returns the schedule.",
            true,
            json!({"type": "object", "properties": {
             "script_id": {"type": "string"},
             "kind": {"type": "string", "enum": ["once", "interval", "cron"]},
             "at": {"type": "string", "description": "for once: RFC 3339 time"},
             "every_seconds": {"type": "integer", "description": "for interval"},
             "cron": {"type": "string", "description": "for cron: 5 fields (minute first) or 6 (seconds first)"},
             "timezone": {"type": "string", "description": "IANA zone of a cron pattern (default UTC)"},
             "args": {"type": "object", "description": "arguments of the script's main()"},
             "enabled": {"type": "boolean"},
             "overlap": {"type": "string", "enum": ["skip", "queue"]},
             "catch_up": {"type": "string", "enum": ["skip", "run_once"]}},
             "required": ["script_id", "kind"]}),
        ),
        (
            "get_job",
            "A job's status, result, error and the last lines of its output.",
            false,
            id("job id"),
        ),
        (
            "list_agents",
            "List your agents with their state and status.",
            false,
            json!({"type": "object", "properties": {}}),
        ),
        (
            "start_agent",
            "Start an agent (no-op when it runs).",
            true,
            id("agent id"),
        ),
        (
            "stop_agent",
            "Stop an agent politely (it is ended after its grace period).",
            true,
            id("agent id"),
        ),
        (
            "restart_agent",
            "Stop an agent and start it again.",
            true,
            id("agent id"),
        ),
        (
            "send_agent_message",
            "Send a JSON message to a running agent (read with automa.agent.receive()).",
            true,
            json!({"type": "object", "properties": {
             "id": {"type": "string", "description": "agent id"},
             "body": {"description": "any JSON value"}},
             "required": ["id", "body"]}),
        ),
        (
            "agent_events",
            "An agent's events (emitted events, transitions, output), oldest first.",
            false,
            json!({"type": "object", "properties": {
             "id": {"type": "string", "description": "agent id"},
             "after": {"type": "integer", "description": "only events with a larger seq (default 0)"},
             "kind": {"type": "string", "description": "event, transition, stdout, stderr or log"},
             "limit": {"type": "integer", "description": "at most this many (default 100, max 1000)"}},
             "required": ["id"]}),
        ),
    ]
}

/// Tool names allow `[a-zA-Z0-9_-]`, at most 64 characters.
pub fn sanitize(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if out.is_empty() {
        out.push_str("script");
    }
    out
}

/// A script exposed as a tool, with the name it is listed under.
struct ScriptTool {
    name: String,
    script: ScriptRow,
}

/// Every script the caller may see, in id order (admins see everyone's, as in the API).
async fn visible_scripts(state: &AppState, caller: &Caller) -> Result<Vec<ScriptRow>, McpError> {
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    let filter = services::scripts::Filter::default();
    loop {
        let rows =
            services::scripts::rows(state, &caller.principal, &filter, after.as_deref(), PAGE)
                .await
                .map_err(internal)?;
        let more = rows.len() as i64 > PAGE;
        all.extend(rows.into_iter().take(PAGE as usize));
        if !more {
            return Ok(all);
        }
        after = all.last().map(|r| r.id.clone());
    }
}

/// The exposed scripts with unique names: built-in names win, and a name already taken
/// gets the start of the script id appended (ids order the scripts, so names are stable).
async fn script_tools(state: &AppState, caller: &Caller) -> Result<Vec<ScriptTool>, McpError> {
    let mut taken: HashSet<String> = builtins().iter().map(|b| b.0.to_owned()).collect();
    let mut out = Vec::new();
    for script in visible_scripts(state, caller).await? {
        if script.expose_as_tool == 0 {
            continue;
        }
        let mut name = sanitize(&script.name);
        if taken.contains(&name) {
            let short: String = script.id.chars().take(8).collect();
            name = sanitize(&format!(
                "{}_{short}",
                name.chars().take(55).collect::<String>()
            ));
        }
        taken.insert(name.clone());
        out.push(ScriptTool { name, script });
    }
    Ok(out)
}

fn object(schema: Value) -> JsonObject {
    match schema {
        Value::Object(map) => map,
        _ => JsonObject::new(),
    }
}

/// The caller's tool list, computed now (scripts change between requests).
pub async fn list(state: &AppState, caller: &Caller) -> Result<Vec<Tool>, McpError> {
    let mut tools: Vec<Tool> = builtins()
        .into_iter()
        .map(|(name, description, _, schema)| Tool::new(name, description, object(schema)))
        .collect();
    for t in script_tools(state, caller).await? {
        // A script deleted since, or whose row does not decode (logged), is left out
        // rather than failing the whole list.
        let script = match services::scripts::get(state, &caller.principal, &t.script.id).await {
            Ok(script) => script,
            Err(ApiError::Internal(e)) => {
                tracing::warn!(script = %t.script.id, error = %e, "script left out of the tool list");
                continue;
            }
            Err(_) => continue,
        };
        let version = script.current;
        let mut schema = version
            .as_ref()
            .map(|v| object(v.parameters.clone()))
            .unwrap_or_default();
        // MCP requires an object schema even for a script without parameters.
        schema
            .entry("type")
            .or_insert_with(|| Value::String("object".into()));
        let description = if !script.description.trim().is_empty() {
            script.description
        } else {
            version
                .and_then(|v| v.doc)
                .filter(|d| !d.trim().is_empty())
                .unwrap_or_else(|| format!("Run the Automa script {}", script.name))
        };
        tools.push(Tool::new(t.name, description, schema));
    }
    Ok(tools)
}

/// What a tool call produced, before it is audited.
struct Done {
    result: CallToolResult,
    target: Option<String>,
}

fn ok_json(value: &Value, target: Option<String>) -> Done {
    let mut result = CallToolResult::success(vec![Content::text(value.to_string())]);
    if value.is_object() {
        result.structured_content = Some(value.clone());
    }
    Done { result, target }
}

fn failed(message: impl Into<String>, target: Option<String>) -> Done {
    Done {
        result: CallToolResult::error(vec![Content::text(message.into())]),
        target,
    }
}

/// Domain errors the model should read (not found, validation, not running, ...) become
/// tool errors; only internal failures are protocol errors.
fn tool_error(err: ApiError, target: Option<String>) -> Result<Done, McpError> {
    match err {
        ApiError::Internal(e) => Err(internal(e)),
        other => Ok(failed(other.to_string(), target)),
    }
}

pub async fn call(
    state: &AppState,
    caller: &Caller,
    request: CallToolRequestParams,
) -> Result<CallToolResult, McpError> {
    let name = request.name.to_string();
    let args = Value::Object(request.arguments.unwrap_or_default());
    let builtin = builtins().into_iter().find(|b| b.0 == name);
    let done = match &builtin {
        Some((_, _, writes, _)) => {
            let needed = if *writes { Scope::Write } else { Scope::Read };
            match policy::check_scope(&caller.principal, needed) {
                Ok(()) => match call_builtin(state, caller, &name, &args).await {
                    Ok(done) => done,
                    Err(e) => tool_error(e, None)?,
                },
                Err(e) => tool_error(e, None)?,
            }
        }
        None => {
            let tools = script_tools(state, caller).await?;
            let Some(tool) = tools.into_iter().find(|t| t.name == name) else {
                // Unknown (or another user's) tool: a protocol error, as MCP specifies.
                return Err(McpError::invalid_params(
                    format!("unknown tool: {name}"),
                    None,
                ));
            };
            let target = Some(format!("script:{}", tool.script.id));
            match policy::check_scope(&caller.principal, Scope::Write) {
                Ok(()) => match run_tool(state, caller, &tool.script.id, args).await {
                    Ok(run) => match script_result(run.job, run.finished, target.clone()) {
                        Ok(done) => done,
                        Err(corrupt) => tool_error(corrupt.into(), target)?,
                    },
                    Err(e) => tool_error(e, target)?,
                },
                Err(e) => tool_error(e, target)?,
            }
        }
    };
    let outcome = if done.result.is_error == Some(true) {
        Outcome::Failure
    } else {
        Outcome::Success
    };
    let mut event = AuditEvent::new(&caller.principal.user_id, format!("mcp.{name}"))
        .ip(caller.ip.clone())
        .outcome(outcome);
    if let Some(target) = done.target {
        event = event.target(target);
    }
    state.audit.append(event).await.map_err(internal)?;
    Ok(done.result)
}

fn str_arg<'a>(args: &'a Value, key: &str) -> Result<&'a str, ApiError> {
    args.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::Validation(format!("`{key}` (a string) is required")))
}

async fn call_builtin(
    state: &AppState,
    caller: &Caller,
    name: &str,
    args: &Value,
) -> Result<Done, ApiError> {
    let p = &caller.principal;
    match name {
        "list_scripts" => {
            let tools = script_tools(state, caller)
                .await
                .map_err(|e| ApiError::Internal(anyhow::anyhow!("{}", e.message)))?;
            let filter = services::scripts::Filter {
                q: args.get("q").and_then(Value::as_str),
                tag: None,
            };
            let mut scripts = Vec::new();
            let mut after: Option<String> = None;
            loop {
                let page =
                    services::scripts::list(state, p, &filter, after.as_deref(), PAGE).await?;
                let more = page.len() as i64 > PAGE;
                scripts.extend(page.into_iter().take(PAGE as usize));
                if !more {
                    break;
                }
                after = scripts.last().map(|s| s.id.clone());
            }
            let items: Vec<Value> = scripts
                .into_iter()
                .map(|s| {
                    let tool = tools
                        .iter()
                        .find(|t| t.script.id == s.id)
                        .map(|t| t.name.clone());
                    json!({
                        "id": s.id,
                        "name": s.name,
                        "description": s.description,
                        "current_version": s.version,
                        "parameters": s.current.map_or_else(|| json!({}), |v| v.parameters),
                        "tool_name": tool,
                    })
                })
                .collect();
            Ok(ok_json(&json!({ "scripts": items }), None))
        }
        "create_script" => {
            let request = services::scripts::CreateScript {
                name: str_arg(args, "name")?.to_owned(),
                source: str_arg(args, "source")?.to_owned(),
                description: args
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                ..Default::default()
            };
            let script = services::scripts::create(state, &caller.actor(), request).await?;
            let target = Some(format!("script:{}", script.id));
            let value = json!({
                "id": script.id,
                "name": script.name,
                "description": script.description,
                "version": script.version,
                "parameters": script.current.map_or_else(|| json!({}), |v| v.parameters),
            });
            Ok(ok_json(&value, target))
        }
        "create_schedule" => {
            let request: services::schedules::CreateSchedule = serde_json::from_value(args.clone())
                .map_err(|e| ApiError::Validation(format!("invalid arguments: {e}")))?;
            let row = services::schedules::create(state, &caller.actor(), request).await?;
            let target = Some(format!("schedule:{}", row.id));
            let value = json!({
                "id": row.id,
                "script_id": row.script_id,
                "kind": row.kind,
                "enabled": row.enabled != 0,
                "next_run_at": row.next_run_at.map(db::rfc3339),
            });
            Ok(ok_json(&value, target))
        }
        "run_script" => {
            let id = str_arg(args, "id")?;
            let request = services::jobs::RunRequest {
                version: None,
                args: args.get("args").cloned().unwrap_or(Value::Null),
                wait: args.get("wait").and_then(Value::as_bool).unwrap_or(true),
            };
            let target = Some(format!("script:{id}"));
            let run = services::jobs::run(state, &caller.actor(), id, request).await?;
            let view =
                serde_json::to_value(JobView::try_from(run.job)?).map_err(anyhow::Error::from)?;
            Ok(ok_json(&view, target))
        }
        "get_job" => {
            let id = str_arg(args, "id")?;
            let job = services::jobs::get(state, p, id).await?;
            Ok(ok_json(&job_summary(job)?, Some(format!("job:{id}"))))
        }
        "list_agents" => {
            let rows = services::agents::list(state, p, None, 1000).await?;
            let agents = rows
                .into_iter()
                .take(1000)
                .map(AgentView::try_from)
                .collect::<Result<Vec<_>, _>>()?;
            let value = serde_json::to_value(agents).map_err(anyhow::Error::from)?;
            Ok(ok_json(&json!({ "agents": value }), None))
        }
        "start_agent" | "stop_agent" | "restart_agent" | "send_agent_message" | "agent_events" => {
            agent_tool(state, caller, name, args).await
        }
        _ => Err(ApiError::NotFound),
    }
}

async fn agent_tool(
    state: &AppState,
    caller: &Caller,
    name: &str,
    args: &Value,
) -> Result<Done, ApiError> {
    let id = str_arg(args, "id")?;
    let p = &caller.principal;
    let actor = caller.actor();
    let target = Some(format!("agent:{id}"));
    let row = match name {
        "start_agent" => services::agents::start(state, &actor, id).await?,
        "stop_agent" => services::agents::stop(state, &actor, id).await?,
        "restart_agent" => services::agents::restart(state, &actor, id).await?,
        "send_agent_message" => {
            let body = args
                .get("body")
                .ok_or_else(|| ApiError::Validation("`body` is required".into()))?;
            services::agents::send(state, &actor, id, body).await?;
            return Ok(ok_json(&json!({"delivered": true}), target));
        }
        _ => {
            let after = args.get("after").and_then(Value::as_i64).unwrap_or(0);
            let kind = args.get("kind").and_then(Value::as_str);
            let limit = args
                .get("limit")
                .and_then(Value::as_i64)
                .unwrap_or(100)
                .clamp(1, 1000);
            let events = services::agents::events(state, p, id, after, kind, limit).await?;
            let events: Vec<crate::api::agents::AgentEvent> =
                events.into_iter().map(Into::into).collect();
            let value = serde_json::to_value(events).map_err(anyhow::Error::from)?;
            return Ok(ok_json(&json!({ "events": value }), target));
        }
    };
    let view = serde_json::to_value(AgentView::try_from(row)?).map_err(anyhow::Error::from)?;
    Ok(ok_json(&view, target))
}

/// A script tool's call: a run of the script's current version that is waited for.
async fn run_tool(
    state: &AppState,
    caller: &Caller,
    script_id: &str,
    args: Value,
) -> Result<services::jobs::Run, ApiError> {
    let request = services::jobs::RunRequest {
        version: None,
        args,
        wait: true,
    };
    services::jobs::run(state, &caller.actor(), script_id, request).await
}

/// A script tool's answer: the result JSON, or the error with the output's last lines;
/// a stored result that does not decode is an error naming the row.
fn script_result(job: JobRow, finished: bool, target: Option<String>) -> Result<Done, CorruptRow> {
    if job.status == "succeeded" {
        let value = job.returned()?.unwrap_or(Value::Null);
        return Ok(ok_json(&value, target));
    }
    let summary = job_summary(job)?;
    let message = if finished {
        format!(
            "the job ended {}",
            summary["status"].as_str().unwrap_or("badly")
        )
    } else {
        "the job is still running; ask get_job for its result".to_owned()
    };
    let mut result = CallToolResult::error(vec![
        Content::text(message),
        Content::text(summary.to_string()),
    ]);
    result.structured_content = Some(summary);
    Ok(Done { result, target })
}

fn tail(text: Option<&str>) -> String {
    let Some(text) = text else {
        return String::new();
    };
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(TAIL_LINES)..].join("\n")
}

/// A job as `get_job` and failed script tools show it. An error stored as plain text
/// (not JSON) is shown as that text.
fn job_summary(job: JobRow) -> Result<Value, CorruptRow> {
    let error = job
        .error
        .as_deref()
        .map(|e| serde_json::from_str(e).unwrap_or_else(|_| Value::String(e.to_owned())));
    let result = job.returned()?;
    Ok(json!({
        "id": job.id,
        "script_id": job.script_id,
        "script_version": job.script_version,
        "status": job.status,
        "attempt": job.attempt,
        "result": result,
        "error": error,
        "stdout_tail": tail(job.stdout.as_deref()),
        "stderr_tail": tail(job.stderr.as_deref()),
        "duration_ms": job.duration_ms,
    }))
}

#[cfg(test)]
mod tests {
    use super::sanitize;

    #[test]
    fn tool_names_are_sanitised() {
        assert_eq!(sanitize("Daily report (v2)"), "Daily_report__v2_");
        assert_eq!(sanitize("ok-name_1"), "ok-name_1");
        assert_eq!(sanitize(""), "script");
        assert_eq!(sanitize(&"x".repeat(100)).len(), 64);
    }
}
