//! `/new-channel`: the application for a new official social media channel (guideline
//! section 1). The script is data (`prompts/scripts/new-channel.toml`); the conversation is a
//! pure state machine over it that knows nothing of Discord or the database.

pub mod conversation;
pub mod script;

pub use conversation::{
    event_from_action, parse_custom_id, render, summary_fields, Answer, Conversation, Event, Progress, Rejection,
    NEEDS_PEOPLE_LOOKUP,
};
pub use script::{ChoiceDef, LocalText, Script, StepDef, StepKind};
pub mod registry;
pub mod workflow;
