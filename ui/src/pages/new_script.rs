//! `/scripts/new`: create a script from a name and its source.

use crate::components::{csrf_field, error_box};
use crate::layout::{PageCtx, page as framed};
use maud::{Markup, html};

#[derive(Debug, Clone, Default)]
pub struct NewScriptView {
    pub name: String,
    pub description: String,
    pub source: String,
    pub error: Option<String>,
}

pub const EXAMPLE: &str = "def main(name: str = \"world\"):\n    \"\"\"Says hello.\"\"\"\n    print(f\"hello {name}\")\n    return {\"greeting\": f\"hello {name}\"}\n";

pub fn page(ctx: &PageCtx, v: &NewScriptView) -> Markup {
    framed(
        ctx,
        "New script",
        html! {
            h1 { "New script" }
            p.muted { "The parameters of " code { "main()" } " become the run form." }
            (error_box(v.error.as_deref()))
            form.card method="post" action="/scripts/new" {
                (csrf_field(&ctx.csrf))
                div.field {
                    label for="name" {
                        "Name" span.req { " *" } " " span.hint { "(letters, digits, - _ .)" }
                    }
                    input #name type="text" name="name" value=(v.name) required autofocus;
                }
                div.field {
                    label for="description" { "Description" }
                    input #description type="text" name="description" value=(v.description);
                }
                div.field {
                    label for="source" { "Source" }
                    div.editor data-editor {
                        textarea.code #source name="source" data-code spellcheck="false" autocapitalize="off"
                            autocomplete="off" rows="16" { (v.source) }
                    }
                }
                button.primary type="submit" { "Create" }
            }
            script src="/static/editor.min.js" defer {}
        },
    )
}
