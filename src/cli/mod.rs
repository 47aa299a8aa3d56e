//! Client subcommands of `herald`: tools that work without a running server or talk to one over HTTP.

pub mod verify;
