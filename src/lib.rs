//! somebot: the Discord bot that puts Volda kommune's social-media guidelines to work.
//!
//! The core (guideline lookup, conversations, approvals, report routing) is plain Rust over
//! plain types; `discord` and `sandbox` are adapters that translate events in and replies out.

pub mod channel_request;
pub mod clock;
pub mod config;
pub mod core;
pub mod discord;
pub mod guideline;
pub mod i18n;
pub mod metrics;
pub mod org;
pub mod sandbox;
pub mod store;
pub mod threat_report;

pub use crate::core::App;

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
