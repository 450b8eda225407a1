//! One module per page.

pub mod admin;
pub mod agent;
pub mod agents;
pub mod dashboard;
pub mod error;
pub mod job;
pub mod jobs;
pub mod login;
pub mod new_script;
pub mod schedule_form;
pub mod schedules;
pub mod script;
pub mod scripts;
pub mod setup;
