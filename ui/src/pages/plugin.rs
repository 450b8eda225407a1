//! `/plugins/{name}` (admin): what the plugin asks for next to what it was granted, the
//! form that sets grants, limits and whether it is enabled, its functions, and delete.

use super::plugins::{PluginLine, capability_hint, enabled_badge};
use crate::components::plugin_function;
use crate::components::{csrf_field, error_box};
use crate::layout::{PageCtx, page as framed};
use maud::{Markup, html};

/// Capabilities, as requested by the plugin or as granted by an admin.
#[derive(Debug, Clone, Default)]
pub struct CapabilitySet {
    pub http: Vec<String>,
    pub secrets: Vec<String>,
    pub state: bool,
}

/// The settings form's input as typed (kept when it is refused).
#[derive(Debug, Clone, Default)]
pub struct SettingsForm {
    /// HTTP allowlist entries, one a line.
    pub http: String,
    /// Secret names, one a line (or separated by commas or spaces).
    pub secrets: String,
    pub state: bool,
    pub memory_mb: String,
    pub timeout_ms: String,
    pub enabled: bool,
}

#[derive(Debug, Clone, Default)]
pub struct PluginView {
    pub plugin: PluginLine,
    pub requested: CapabilitySet,
    pub granted: CapabilitySet,
    pub form: SettingsForm,
    pub sha256: String,
    pub size: String,
    pub installed_by: String,
    pub updated: String,
    pub notice: Option<String>,
    pub error: Option<String>,
    /// Problems of single fields (`memory_mb`, `timeout_ms`), shown beside them.
    pub field_errors: Vec<(String, String)>,
}

fn list(items: &[String]) -> Markup {
    html! {
        @if items.is_empty() { span.muted { "none" } }
        @else { ul.plain { @for i in items { li.mono { (i) } } } }
    }
}

fn yes_no(b: bool) -> Markup {
    html! { @if b { "yes" } @else { span.muted { "no" } } }
}

/// Requested next to granted, one row a kind of capability.
fn review(v: &PluginView) -> Markup {
    let (r, g) = (&v.requested, &v.granted);
    html! {
        section.card #capabilities {
            h2 { "Asked for and granted" }
            p.muted.small { "The plugin's requests are shown at install; it runs with the grants only, which may differ (another webhook host, say)." }
            div.scroll {
                table.list {
                    thead { tr { th { "" } th { "Requested" } th { "Granted" } } }
                    tbody {
                        tr { th { "HTTP" } td { (list(&r.http)) } td { (list(&g.http)) } }
                        tr { th { "Secrets" } td { (list(&r.secrets)) } td { (list(&g.secrets)) } }
                        tr { th { "State" } td { (yes_no(r.state)) } td { (yes_no(g.state)) } }
                    }
                }
            }
        }
    }
}

fn field_error<'a>(v: &'a PluginView, name: &str) -> Option<&'a str> {
    v.field_errors
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, m)| m.as_str())
}

fn settings_form(ctx: &PageCtx, v: &PluginView) -> Markup {
    let f = &v.form;
    let memory_error = field_error(v, "memory_mb");
    let timeout_error = field_error(v, "timeout_ms");
    html! {
        section.card #plugin-settings {
            h2 { "Grants and limits" }
            (error_box(v.error.as_deref()))
            form method="post" action={ "/plugins/" (v.plugin.name) } {
                (csrf_field(&ctx.csrf))
                div.field {
                    label for="grant-http" { "HTTP allowlist " span.hint { "(one a line: host, *.domain, host:port or a URL prefix; private addresses only when named)" } }
                    textarea #grant-http.mono name="http" rows="3" autocomplete="off" { (f.http) }
                }
                div.field {
                    label for="grant-secrets" { "Secrets it may read " span.hint { "(names, one a line)" } }
                    textarea #grant-secrets.mono name="secrets" rows="2" autocomplete="off" { (f.secrets) }
                }
                div.field {
                    label.check for="grant-state" {
                        input #grant-state type="checkbox" name="state" value="true" checked[f.state];
                        " Its own key-value state"
                    }
                }
                div.grid2 {
                    div.field.invalid[memory_error.is_some()] {
                        label for="memory-mb" { "Memory per call " span.hint { "(MiB, 1 to 4096)" } }
                        input #memory-mb type="number" name="memory_mb" min="1" max="4096" step="1" value=(f.memory_mb) required;
                        @if let Some(m) = memory_error { p.field-error { (m) } }
                    }
                    div.field.invalid[timeout_error.is_some()] {
                        label for="timeout-ms" { "Time per call " span.hint { "(ms, 1 to 300000)" } }
                        input #timeout-ms type="number" name="timeout_ms" min="1" max="300000" step="1" value=(f.timeout_ms) required;
                        @if let Some(m) = timeout_error { p.field-error { (m) } }
                    }
                }
                div.field {
                    label.check for="plugin-enabled" {
                        input #plugin-enabled type="checkbox" name="enabled" value="true" checked[f.enabled];
                        " Enabled " span.hint { "(scripts granted it can call it)" }
                    }
                }
                button.primary type="submit" { "Save" }
            }
        }
    }
}

pub fn page(ctx: &PageCtx, v: &PluginView) -> Markup {
    let p = &v.plugin;
    framed(
        ctx,
        &p.name,
        html! {
            p { a href="/plugins" { "← Plugins" } }
            h1 { (p.name) " " span.muted { (p.version) } " " (enabled_badge(p.enabled)) }
            @if let Some(n) = &v.notice { div.notice role="status" { (n) } }
            @if !p.description.is_empty() { p { (p.description) } }
            dl.facts {
                dt { "Source" } dd { (p.source) }
                dt { "Installed by" } dd { (v.installed_by) }
                dt { "Updated" } dd { (v.updated) }
                dt { "Size" } dd { (v.size) }
                dt { "SHA-256" } dd.mono.small { (v.sha256) }
            }
            div.grid2 {
                (review(v))
                (settings_form(ctx, v))
            }
            section.card #functions {
                h2 { "Functions" }
                p.muted.small { (capability_hint(&p.name)) }
                @for f in &p.functions { (plugin_function::render(&p.name, f)) }
            }
            section.card #delete-plugin {
                h2 { "Uninstall" }
                form method="post" action={ "/plugins/" (p.name) "/delete" }
                    data-confirm={ "Uninstall " (p.name) "? Its state is deleted and scripts calling it fail." } {
                    (csrf_field(&ctx.csrf))
                    p.muted { "Removes the plugin and its state. Scripts that call it then get “not installed”." }
                    button.danger type="submit" { "Uninstall" }
                }
            }
        },
    )
}
