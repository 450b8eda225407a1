//! Integration tests for the server foundation: the real app on 127.0.0.1:<random port>
//! with a fresh temp data dir per test, driven over HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;
#[path = "../support/server_process.rs"]
mod server_process;
#[path = "../support/smtp.rs"]
mod smtp;

mod agents;
mod anonymous;
mod artifact_download;
mod audit;
mod auth;
mod ceilings;
mod cluster;
mod cluster_hostile;
mod config;
mod corrupt_rows;
mod cpu_disk;
mod crash;
mod crash_under_load;
mod data_profile;
mod email;
mod errors;
mod host_call_flood;
mod hostile_process;
mod job_burst;
mod log_flood;
mod log_pages;
mod notify_webhook;
mod openapi_bounds;
mod owner_rights;
mod packages;
mod plugins;
mod postgres;
mod publish_quota;
mod retention_postgres;
mod roles;
mod run_parity;
mod schedules;
mod schemathesis;
mod scripts;
mod secrets_webhooks;
mod serve;
mod setup;
mod streams;
mod throttle;
mod tokens;
mod usage;
