//! Web dashboard tests: form and session behaviour over plain HTTP (reqwest), and the
//! main flow in a real headless Chromium driven through chromedriver (thirtyfour).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
#[path = "../api/helpers.rs"]
mod helpers;
#[allow(dead_code)]
#[path = "../support/mcp_client.rs"]
mod mcp_client;

mod account;
mod account_browser;
mod admin;
mod automation_browser;
mod automation_forms;
mod browser;
mod cross_way;
mod cross_way_agents;
mod cross_way_scripts;
mod dashboard_browser;
mod dashboard_pages;
mod forms;
mod history;
mod job_cpu;
mod job_progress;
mod jobs;
mod login;
mod plugins;
mod plugins_browser;
mod postgres;
mod script_retention;
mod usage;
mod web;
