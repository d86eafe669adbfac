//! somebot: the Discord bot that puts Volda kommune's social-media guidelines to work.
//!
//! Layers, each importing only those below it:
//! - `core`: the vocabulary (inputs, outcomes, replies, effects, errors, text helpers), with
//!   `i18n`, `clock` and `crypto` beside it;
//! - `store`: the database;
//! - `ctx` and `feature`: what a feature gets to work with (store, clock, timings, keys) and
//!   the one trait through which the app sees it;
//! - the features: `guideline`, `channel_request`, `threat_report`, `org`;
//! - `app`: the composition (router, timers, delivery, bookkeeping, help, command tree);
//! - the adapters `discord` and `sandbox`, which translate events in and replies out.

pub mod app;
pub mod channel_request;
pub mod clock;
pub mod config;
pub mod core;
pub mod crypto;
pub mod ctx;
pub mod discord;
pub mod feature;
pub mod guideline;
pub mod i18n;
pub mod metrics;
pub mod org;
pub mod sandbox;
pub mod store;
pub mod threat_report;

pub use crate::app::App;

/// Loads every embedded prompt file and checks that both languages have the same keys and
/// placeholders; returns the number of messages per language.
pub fn prompts_check() -> Result<usize, String> {
    use i18n::{catalogue, placeholders, Locale};
    let nn = catalogue(Locale::Nn);
    let en = catalogue(Locale::En);
    for (k, v) in nn {
        match en.get(k) {
            None => return Err(format!("message {k} is missing in English")),
            Some(e) if placeholders(e) != placeholders(v) => {
                return Err(format!("message {k} has other placeholders in English"))
            }
            _ => {}
        }
    }
    if let Some(k) = en.keys().find(|k| !nn.contains_key(*k)) {
        return Err(format!("message {k} is missing in Nynorsk"));
    }
    let official = guideline::GuidelineDoc::official();
    let english = guideline::GuidelineDoc::for_locale(Locale::En);
    if official.points.len() != english.points.len() {
        return Err("the English guideline does not have every point".into());
    }
    Ok(nn.len())
}
