//! Herald end to end: a real server on a random port, real receivers, real HTTP.

mod bad_input;
mod delivery;
mod hostile_receivers;
mod merchant_api;
mod support;
