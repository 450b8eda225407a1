//! One module per page.

pub mod agent;
pub mod agent_form;
pub mod agents;
pub mod audit;
pub mod dashboard;
pub mod error;
pub mod job;
pub mod jobs;
pub mod login;
pub mod new_script;
pub mod nodes;
pub mod plugin;
pub mod plugins;
pub mod profile;
pub mod schedule_form;
pub mod schedules;
pub mod script;
pub mod script_retention;
pub mod script_runtime;
pub mod scripts;
pub mod secrets;
pub mod settings;
pub mod setup;
pub mod tokens;
pub mod users;
pub mod versions;
