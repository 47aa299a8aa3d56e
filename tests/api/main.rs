//! Herald end to end: a real server on a random port, real receivers, real HTTP.

#[path = "../common/mod.rs"]
mod common;

mod bad_input;
mod brokers;
mod delivery;
mod egress;
mod endpoint_auth;
mod filters;
mod formats;
mod guessing;
mod hostile_receivers;
mod listeners;
mod memory;
mod merchant_api;
mod metrics;
mod policies;
mod request_ids;
mod support;
mod traces;
mod workspace;
