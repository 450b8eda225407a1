//! The example host plugins, built from source by `build.rs` and embedded as bytes:
//!
//! - [`MARKDOWN_WASM`]: `plugins/markdown`, Rust (wit-bindgen, pulldown-cmark), functions
//!   `render` and `headings`, no capabilities;
//! - [`CHAT_NOTIFY_WASM`]: `plugins/chat-notify/app.py`, Python (componentize-py),
//!   function `send`, capabilities `http("hooks.slack.com")` and
//!   `secret("CHAT_WEBHOOK_URL")`.
//!
//! Both are WASI 0.2 components of the `automa:host/plugin` world (`wit/plugin.wit`).

/// The `markdown` plugin component.
pub static MARKDOWN_WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/markdown.wasm"));

/// The `chat-notify` plugin component.
pub static CHAT_NOTIFY_WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/chat-notify.wasm"));

/// The `testkit` plugin (`plugins/testkit`): `echo`, and `spin`, `crash`, `hog`,
/// `count` (state) and `fetch` (HTTP) for tests and benchmarks of the plugin host.
pub static TESTKIT_WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/testkit.wasm"));

/// Every example plugin as (manifest name, component bytes).
pub static EXAMPLES: [(&str, &[u8]); 2] = [
    ("markdown", MARKDOWN_WASM),
    ("chat-notify", CHAT_NOTIFY_WASM),
];

#[cfg(test)]
#[path = "../../markdown/src/markdown.rs"]
#[allow(dead_code)]
mod markdown_logic;

#[cfg(test)]
mod tests {
    use super::*;

    /// `\0asm`, then version 0x0d and layer 1: a component, not a core module.
    const COMPONENT_HEADER: [u8; 8] = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];

    #[test]
    fn both_plugins_are_components() {
        for (name, wasm) in EXAMPLES {
            assert!(wasm.len() > COMPONENT_HEADER.len(), "{name} is empty");
            assert_eq!(
                wasm[..8],
                COMPONENT_HEADER,
                "{name} does not start with the component-model header"
            );
        }
    }

    /// The top-level imports (instances and functions; not the types a world `use`s)
    /// and exports of a component, after validating it.
    fn interface(name: &str, wasm: &[u8]) -> (Vec<String>, Vec<String>) {
        use wasmparser::{ComponentTypeRef, Parser, Payload, Validator, WasmFeatures};
        Validator::new_with_features(WasmFeatures::all())
            .validate_all(wasm)
            .unwrap_or_else(|e| panic!("{name} is not a valid component: {e}"));
        let (mut imports, mut exports) = (Vec::new(), Vec::new());
        // Nested modules and components have their own header and end.
        let mut depth = 0;
        for payload in Parser::new(0).parse_all(wasm) {
            match payload.expect("parses") {
                Payload::Version { .. } => depth += 1,
                Payload::End(_) => depth -= 1,
                Payload::ComponentImportSection(section) if depth == 1 => {
                    for import in section {
                        let import = import.expect("import");
                        if !matches!(import.ty, ComponentTypeRef::Type(_)) {
                            imports.push(import.name.name.to_owned());
                        }
                    }
                }
                Payload::ComponentExportSection(section) if depth == 1 => {
                    for export in section {
                        exports.push(export.expect("export").name.name.to_owned());
                    }
                }
                _ => {}
            }
        }
        (imports, exports)
    }

    #[test]
    fn components_export_the_plugin_world_and_import_only_host_and_wasi() {
        for (name, wasm) in EXAMPLES {
            let (imports, exports) = interface(name, wasm);
            for export in ["manifest", "invoke"] {
                assert!(exports.iter().any(|e| e == export), "{name}: {exports:?}");
            }
            for import in &imports {
                assert!(
                    import.starts_with("automa:host/") || import.starts_with("wasi:"),
                    "{name} imports {import}"
                );
            }
            let host: Vec<&str> = imports
                .iter()
                .filter_map(|i| i.strip_prefix("automa:host/"))
                .collect();
            if name == "markdown" {
                // No capabilities: nothing but the shared types from the host.
                for import in &host {
                    assert!(
                        import.starts_with("types@") || import.starts_with("plugin-types@"),
                        "markdown imports automa:host/{import}"
                    );
                }
            } else {
                for interface in ["http@", "secrets@", "log@"] {
                    assert!(
                        host.iter().any(|i| i.starts_with(interface)),
                        "{name}: {host:?}"
                    );
                }
            }
        }
    }
}
