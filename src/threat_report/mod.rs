//! `/report-threat` (guideline point 3h): an employee tells their line manager, privately, about
//! threats or abuse on social media connected with their work. Intake, routing through the org
//! register, delivery by DM with acknowledgement and rerouting, follow-up, export, retention.
//! Content is sealed at rest ([`crypto`]) and never logged or posted in a guild channel.

pub mod crypto;
pub mod workflow;

use serde::{Deserialize, Serialize};

/// What the reporter wrote in the form.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportContent {
    pub what: String,
    #[serde(rename = "where")]
    pub place: String,
    pub when: String,
    pub ongoing: String,
}

/// The longest answer to "what happened" (Discord's maximum for a text input).
pub const MAX_WHAT: u16 = 4000;
/// The longest answer to "where" (platform and links).
pub const MAX_WHERE: u16 = 1000;
/// The longest answer to "when".
pub const MAX_WHEN: u16 = 200;
/// The longest answer to "still going on?".
pub const MAX_ONGOING: u16 = 200;
/// The largest evidence file copied at intake.
pub const MAX_EVIDENCE_BYTES: u64 = 10 * 1024 * 1024;
