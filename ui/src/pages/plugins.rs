//! `/plugins`: admins see every installed host plugin and upload new ones; users see
//! the enabled plugins with their functions, so they know what a script can ask for.

use crate::components::plugin_function::{self, FunctionDoc};
use crate::components::{csrf_field, empty_state, error_box};
use crate::layout::{PageCtx, page as framed};
use maud::{Markup, html};

#[derive(Debug, Clone, Default)]
pub struct PluginLine {
    pub name: String,
    pub version: String,
    pub description: String,
    pub enabled: bool,
    /// `upload` or `folder`.
    pub source: String,
    pub functions: Vec<FunctionDoc>,
}

#[derive(Debug, Clone, Default)]
pub struct PluginsView {
    pub plugins: Vec<PluginLine>,
    /// The data directory's plugins folder (read at start), for the empty state.
    pub folder: String,
    /// The upload form's "replace existing" box (kept when an upload is refused).
    pub replace: bool,
    pub error: Option<String>,
    pub notice: Option<String>,
}

pub fn enabled_badge(enabled: bool) -> Markup {
    html! {
        @if enabled { span.badge.ok { "enabled" } } @else { span.badge.muted { "disabled" } }
    }
}

/// How a script gets a plugin: the admin lists it in the script's capabilities.
pub fn capability_hint(name: &str) -> Markup {
    html! {
        "A script calls it once its capabilities include "
        code { "\"plugins\": [\"" (name) "\"]" } " (set by an admin)."
    }
}

fn upload_form(ctx: &PageCtx, v: &PluginsView) -> Markup {
    html! {
        section.card #upload-plugin {
            h2 { "Install a plugin" }
            (error_box(v.error.as_deref()))
            form method="post" action="/plugins" enctype="multipart/form-data" {
                (csrf_field(&ctx.csrf))
                div.field {
                    label for="plugin-file" { "Component " span.hint { "(a WASM component built for the plugin world, up to 128 MiB)" } }
                    input #plugin-file type="file" name="file" accept=".wasm,application/wasm" required;
                }
                div.field {
                    label.check for="plugin-replace" {
                        input #plugin-replace type="checkbox" name="replace" value="true" checked[v.replace];
                        " Replace an installed plugin of the same name " span.hint { "(its grants, limits and enabled state are kept)" }
                    }
                }
                button.primary type="submit" { "Upload" }
            }
            p.muted.small { "A new plugin starts disabled, with nothing granted: review what it asks for, grant and enable it on its page." }
        }
    }
}

fn admin_list(v: &PluginsView) -> Markup {
    html! {
        div.scroll {
            table.list #plugins {
                thead { tr { th { "Name" } th { "Status" } th.hide-sm { "Description" } th { "Functions" } th.hide-sm { "Source" } } }
                tbody {
                    @for p in &v.plugins {
                        tr {
                            td { a.mono href={ "/plugins/" (p.name) } { (p.name) } " " span.muted.small { (p.version) } }
                            td { (enabled_badge(p.enabled)) }
                            td.hide-sm { (p.description) }
                            td.mono.small { @for (i, f) in p.functions.iter().enumerate() { @if i > 0 { ", " } (f.name) } }
                            td.hide-sm.muted { (p.source) }
                        }
                    }
                }
            }
        }
    }
}

/// Users: each enabled plugin with its functions, how to call them and what to ask for.
fn user_list(v: &PluginsView) -> Markup {
    html! {
        @for p in &v.plugins {
            section.card.plugin id={ "plugin-" (p.name) } {
                h2 { span.mono { (p.name) } " " span.muted.small { (p.version) } }
                @if !p.description.is_empty() { p { (p.description) } }
                p.muted.small { (capability_hint(&p.name)) }
                @for f in &p.functions { (plugin_function::render(&p.name, f)) }
            }
        }
    }
}

pub fn page(ctx: &PageCtx, v: &PluginsView) -> Markup {
    framed(
        ctx,
        "Plugins",
        html! {
            h1 { "Plugins" }
            p.muted {
                "Host plugins give scripts new functions (" code { "automa.plugins.<name>.<function>(...)" } "). "
                "Each runs sandboxed, with only what an admin granted it."
            }
            @if let Some(n) = &v.notice { div.notice role="status" { (n) } }
            @if ctx.is_admin { (upload_form(ctx, v)) }
            @if v.plugins.is_empty() {
                @if ctx.is_admin {
                    (empty_state("No plugins installed.", html! {
                        "Upload a component above, or drop a " code { ".wasm" } " file into "
                        code { (v.folder) } " and restart the server."
                    }))
                } @else {
                    (empty_state("No plugins are enabled.", html! { "An admin installs and enables them." }))
                }
            } @else if ctx.is_admin {
                (admin_list(v))
            } @else {
                (user_list(v))
            }
        },
    )
}
