//! Shared support for the integration tests: a Discord stand-in (REST + gateway on 127.0.0.1),
//! the JSON payloads it speaks, and an OpenAPI oracle for the requests the bot sends.
//!
//! Include it from a test file with `mod support;`. Each test binary uses a different part of
//! it, hence the `dead_code` allowance.
#![allow(dead_code, unused_imports)]

pub mod flows;
pub mod openapi;
pub mod payloads;
pub mod standin;

pub use standin::{ids, Body, InteractionRef, MessageRef, Recorded, StandIn, UserSpec, World};

/// Sends serenity's and the stand-in's logs to the test output; honours `RUST_LOG`, else keeps
/// `serenity::client::dispatch` at debug so that a dispatch serenity cannot parse (which it
/// drops silently) shows up. Safe to call from every test.
pub fn init_logging() {
    let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| "warn,serenity::client::dispatch=debug".into());
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_test_writer().try_init();
}
