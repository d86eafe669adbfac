//! End to end: the real serenity client, in-process or as the `somebot` binary, against the
//! Discord stand-in on 127.0.0.1. Every request the bot sends is checked against Discord's
//! OpenAPI spec.
//!
//! One test binary (linking once): `features` runs the three features through Discord,
//! `faults` what Discord or the network can do to the bot, `process` the binary's own life
//! (start, registration, token, SIGKILL and restart, shards, health and metrics), `uploads`
//! how a message with files goes out on both of the deliverer's paths; `helpers` holds what
//! they share.

#[path = "../support/mod.rs"]
mod support;

mod faults;
mod features;
mod helpers;
mod process;
mod uploads;
