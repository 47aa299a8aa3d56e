//! Herald: a self-hosted webhook delivery service.
//!
//! The data path is publish → store → fan-out → deliver → attempt log → retry; `ARCHITECTURE.md` at the
//! repository root maps the modules onto it and states the invariants.

pub mod api;
pub mod app;
pub mod attempt_log;
pub mod auth_throttle;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod dashboard;
pub mod deliver;
pub mod demo;
pub mod domain;
pub mod error_chain;
pub mod fanout;
pub mod filter;
pub mod internal_error;
pub mod keyring;
pub mod memory_budget;
pub mod metrics;
pub mod notices;
pub mod pacing;
pub mod paypal_identity;
pub mod publish;
pub mod publish_cache;
pub mod request_log;
pub mod resource_schema;
pub mod retention;
pub mod retry;
pub mod server;
pub mod service;
pub mod signals;
pub mod store;
pub mod telemetry;
