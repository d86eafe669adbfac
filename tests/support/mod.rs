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

/// The `somebot` binary pointed at `standin`: a clean environment with `PATH`, the token, the
/// API address and the server id, killed when dropped. Callers add the subcommand, the data
/// directory and the rest.
pub fn somebot_command(standin: &StandIn) -> tokio::process::Command {
    let world = standin.world();
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_somebot"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DISCORD_TOKEN", &world.token)
        .env("DISCORD_API_URL", standin.base_url())
        .env("DISCORD_GUILD_ID", world.guild_id.to_string())
        .kill_on_drop(true);
    cmd
}

/// Sends serenity's and the stand-in's logs to the test output; honours `RUST_LOG`, else keeps
/// `serenity::client::dispatch` at debug so that a dispatch serenity cannot parse (which it
/// drops silently) shows up. Safe to call from every test.
pub fn init_logging() {
    let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| "warn,serenity::client::dispatch=debug".into());
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_test_writer().try_init();
}
