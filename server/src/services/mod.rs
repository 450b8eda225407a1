//! Domain services: each operation on a resource written once — validation,
//! authorization (`auth::policy`), persistence, audit and notifications — and called by
//! every way in (`api/` handlers, `web/` pages, `mcp/` tools), which only translate
//! their input and the typed answer. Errors are `error::ApiError`, the domain's error
//! enum, which each way in renders its own way (an HTTP status, a page message, an
//! MCP tool error).

pub mod agents;
pub mod audit;
pub mod job_log;
pub mod jobs;
pub mod login;
pub mod me;
pub mod nodes;
pub mod plugins;
pub mod schedules;
pub mod scripts;
pub mod secrets;
pub mod setup;
pub mod stream_slots;
pub mod tokens;
pub mod users;
pub mod webhooks;

use crate::audit::AuditEvent;
use crate::auth::Principal;

/// Who acts, and from where: every audited operation records both.
pub struct Actor<'a> {
    pub principal: &'a Principal,
    pub ip: Option<String>,
}

impl<'a> Actor<'a> {
    pub fn new(principal: &'a Principal, ip: Option<String>) -> Self {
        Self { principal, ip }
    }

    /// An audit entry of `action` on `target` by this actor.
    fn audit(&self, action: &str, target: String) -> AuditEvent {
        AuditEvent::new(&self.principal.user_id, action)
            .target(target)
            .ip(self.ip.clone())
    }
}
