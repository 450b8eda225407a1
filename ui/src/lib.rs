//! Server-rendered pages of the Automa dashboard: pure functions from small view models
//! to `maud::Markup`, plus the static assets (CSS, htmx, a little JS) embedded in the
//! binary. Nothing here touches the database or HTTP; `server` fills the view models.

pub mod assets;
pub mod commands;
pub mod components;
pub mod layout;
pub mod pages;

pub use layout::{Nav, PageCtx};
pub use maud::{Markup, PreEscaped, html};
