//! somebot: the Discord bot that puts Volda kommune's social-media guidelines to work.
//!
//! The core (guideline lookup, conversations, approvals, report routing) is plain Rust over
//! plain types; `discord` and `sandbox` are adapters that translate events in and replies out.

pub mod guideline;
pub mod i18n;
