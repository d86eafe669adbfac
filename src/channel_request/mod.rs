//! `/new-channel`: the application for a new official social media channel (guideline
//! section 1). The script is data (`prompts/scripts/new-channel.toml`); the conversation is a
//! pure state machine over it that knows nothing of Discord or the database.

pub mod script;

pub use script::{ChoiceDef, LocalText, Script, StepDef, StepKind};
