//! Client subcommands of `herald`: tools that work without a running server (`verify`) or talk to one over
//! HTTP as the merchant or the operator (`listen`, `trigger`, `events`, `webhooks`), sharing one way to
//! connect (`client.rs`).

pub mod client;
pub mod events;
pub mod listen;
pub mod trigger;
pub mod verify;
pub mod webhooks;
