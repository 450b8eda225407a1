//! One module per page.

pub mod admin;
pub mod dashboard;
pub mod error;
pub mod job;
pub mod jobs;
pub mod login;
pub mod new_script;
pub mod script;
pub mod scripts;
pub mod setup;
