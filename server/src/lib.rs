//! Automa's server and command-line interface.

pub mod agents;
pub mod api;
pub mod app;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod error;
pub mod health;
pub mod jobs;
pub mod mcp;
pub mod metrics;
pub mod nodes;
pub mod packages;
pub mod plugins;
pub mod quotas;
pub mod retention;
pub mod runs;
pub mod schedules;
pub mod secrets;
pub mod signals;
pub mod state;
pub mod suspension;
pub mod telemetry;
pub mod web;
