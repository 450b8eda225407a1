//! An example Automa host plugin in Rust: Markdown to HTML, and a document's headings.
//!
//! It implements the `plugin` world of `wit/plugin.wit` (export `manifest` and
//! `invoke`) and needs no capability: it imports nothing from the host. Built for
//! `wasm32-wasip2` by `plugins/build.rs`; the work itself is in `markdown.rs`.

mod markdown;

// The generated glue between the component ABI and Rust is the only unsafe code.
#[allow(unsafe_code)]
mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "plugin",
    });

    use super::MarkdownPlugin;
    export!(MarkdownPlugin);
}

use bindings::automa::host::plugin_types::FunctionSpec;
use bindings::{Error, Guest, Manifest};
use markdown::CallError;

struct MarkdownPlugin;

impl Guest for MarkdownPlugin {
    fn manifest() -> Manifest {
        Manifest {
            name: "markdown".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            description: "Markdown to HTML (CommonMark with tables, strikethrough, task lists \
                          and footnotes), and the list of a document's headings."
                .to_owned(),
            functions: markdown::functions()
                .into_iter()
                .map(|f| FunctionSpec {
                    name: f.name.to_owned(),
                    description: f.description.to_owned(),
                    parameters_schema: f.parameters_schema.to_string(),
                })
                .collect(),
            capabilities: Vec::new(),
        }
    }

    fn invoke(function: String, args_json: String) -> Result<String, Error> {
        markdown::call(&function, &args_json).map_err(|e| match e {
            CallError::InvalidInput(message) => Error::InvalidInput(message),
            CallError::NotFound(message) => Error::NotFound(message),
        })
    }
}
