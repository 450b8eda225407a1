//! A plugin for Automa's tests and benchmarks. `echo` answers at once; `spin`,
//! `crash` and `hog` misbehave on purpose so tests can check that the host contains
//! them; `count`, `fetch` and `reveal` use the state, HTTP and secrets imports, which
//! work only as far as an admin granted them (`reveal` leaks a secret on purpose, so
//! tests can check the host scrubs it).

#[allow(unsafe_code)]
mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "plugin",
    });

    use super::Testkit;
    export!(Testkit);
}

use bindings::automa::host::plugin_types::{CapabilityRequest, FunctionSpec};
use bindings::automa::host::{http, log, secrets, state};
use bindings::{Error, Guest, Manifest};
use serde_json::{Value, json};
use std::io::Write;

struct Testkit;

fn function(name: &str, description: &str, schema: Value) -> FunctionSpec {
    FunctionSpec {
        name: name.to_owned(),
        description: description.to_owned(),
        parameters_schema: schema.to_string(),
    }
}

impl Guest for Testkit {
    fn manifest() -> Manifest {
        let none = json!({"type": "object", "additionalProperties": false});
        Manifest {
            name: "testkit".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            description: "Test helpers: echo, misbehaving calls, state and HTTP.".to_owned(),
            functions: vec![
                function(
                    "echo",
                    "Return the arguments as they came.",
                    json!({"type": "object"}),
                ),
                function("spin", "Loop forever.", none.clone()),
                function("crash", "Panic (a trap).", none.clone()),
                function("hog", "Allocate memory until refused.", none.clone()),
                function(
                    "count",
                    "Increment the counter in the plugin's state; returns the new value.",
                    none,
                ),
                function(
                    "reveal",
                    "Read a secret, log it and return it (the host must redact it).",
                    json!({
                        "type": "object",
                        "properties": {"name": {"type": "string"}},
                        "required": ["name"],
                        "additionalProperties": false
                    }),
                ),
                function(
                    "fetch",
                    "GET a URL through the host; returns the status and the body.",
                    json!({
                        "type": "object",
                        "properties": {"url": {"type": "string"}},
                        "required": ["url"],
                        "additionalProperties": false
                    }),
                ),
            ],
            capabilities: vec![
                CapabilityRequest::State,
                CapabilityRequest::Http("127.0.0.1".to_owned()),
            ],
        }
    }

    fn invoke(function: String, args_json: String) -> Result<String, Error> {
        let args: Value = serde_json::from_str(&args_json)
            .map_err(|e| Error::InvalidInput(format!("arguments: {e}")))?;
        match function.as_str() {
            "echo" => Ok(args.to_string()),
            "spin" => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "crash" => panic!("testkit crashed on purpose"),
            "hog" => {
                let mut blocks: Vec<Vec<u8>> = Vec::new();
                loop {
                    blocks.push(vec![1u8; 8 << 20]);
                }
            }
            "count" => {
                let current = state::get("count")?
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0);
                let next = current + 1;
                state::set("count", &next.to_string())?;
                log::write(log::Level::Info, &format!("count is {next}"), None);
                Ok(json!({"count": next}).to_string())
            }
            "fetch" => {
                let url = args["url"].as_str().unwrap_or_default().to_owned();
                let response = http::send(&http::Request {
                    method: "GET".to_owned(),
                    url,
                    headers: Vec::new(),
                    body: None,
                    timeout_ms: Some(5_000),
                    follow_redirects: false,
                })?;
                Ok(json!({
                    "status": response.status,
                    "body": String::from_utf8_lossy(&response.body),
                })
                .to_string())
            }
            "reveal" => {
                let name = args["name"].as_str().unwrap_or_default();
                let value = secrets::get(name)?;
                log::write(log::Level::Info, &format!("the secret is {value}"), None);
                // Also to stdout in two writes, split inside the value.
                let (head, tail) = value.split_at(value.len() / 2);
                let mut stdout = std::io::stdout();
                let _ = write!(stdout, "printed {head}");
                let _ = stdout.flush();
                let _ = writeln!(stdout, "{tail} in two writes");
                let _ = stdout.flush();
                Ok(json!({"value": value}).to_string())
            }
            other => Err(Error::NotFound(format!("no function {other}"))),
        }
    }
}
