//! `/new-channel`: the application for a new official social media channel (guideline
//! section 1). The script is data (`prompts/scripts/new-channel.toml`); the conversation is a
//! pure state machine over it that knows nothing of Discord or the database.

pub mod approval;
pub mod conversation;
mod decisions;
pub mod ids;
pub mod script;

pub use conversation::{
    event_from_action, render, summary_fields, Answer, Conversation, Event, Progress, Rejection, NEEDS_PEOPLE_LOOKUP,
};
pub use script::{ChoiceDef, LocalText, Script, StepDef, StepKind};
pub mod registry;
pub mod workflow;

use crate::core::commands::{subcommand, CommandSpec, OptionKind, OptionSpec};

/// The commands of this feature: `/new-channel` and the register, `/channels`.
pub fn commands() -> Vec<CommandSpec> {
    let channels = [
        ("list", "cmd.channels.list"),
        ("show", "cmd.channels.show"),
        ("request", "cmd.channels.request"),
        ("retire", "cmd.channels.retire"),
    ]
    .into_iter()
    .map(|(name, key)| {
        let mut options = Vec::new();
        if name != "list" {
            let mut r = OptionSpec::new(OptionKind::String, "reference", "cmd.channels.reference").required();
            r.max_length = Some(20);
            options.push(r);
        }
        subcommand(name, key, options)
    })
    .collect();
    vec![
        CommandSpec {
            name: "new-channel",
            description_key: "cmd.new-channel.description".into(),
            options: Vec::new(),
            admin_only: false,
            in_dms: false,
        },
        CommandSpec {
            name: "channels",
            description_key: "cmd.channels.description".into(),
            options: channels,
            admin_only: false,
            in_dms: false,
        },
    ]
}

use crate::core::errors::{HandlerResult, UserError};
use crate::core::{Actor, CommandInput, Outcome};
use crate::ctx::Ctx;
use crate::feature::Feature;

/// The `/new-channel` and `/channels` feature.
#[derive(Debug, Clone, Copy, Default)]
pub struct ChannelRequests;

impl Feature for ChannelRequests {
    type Id = ids::RequestId;

    fn commands(&self) -> Vec<CommandSpec> {
        commands()
    }

    fn command_names(&self) -> &'static [&'static str] {
        &["new-channel", "channels"]
    }

    fn background_prefix(&self) -> &'static str {
        "nc"
    }

    async fn command(&self, cx: &Ctx<'_>, actor: &Actor, cmd: &CommandInput) -> HandlerResult<Outcome> {
        match cmd.name.as_str() {
            "new-channel" => workflow::start(cx, actor).await,
            _ => registry::command(cx, actor, cmd).await,
        }
    }

    async fn component(
        &self,
        cx: &Ctx<'_>,
        actor: &Actor,
        id: ids::RequestId,
        values: &[String],
    ) -> HandlerResult<Outcome> {
        use ids::RequestId::*;
        match id {
            Conversation { request, action } => {
                workflow::conversation_component(cx, actor, request, action, values).await
            }
            Approval { request, decision } => workflow::approval_component(cx, actor, request, decision).await,
            Review { request, answer } => registry::review_component(cx, actor, request, answer).await,
            Reason { .. } => Err(UserError::new("common.expired").into()),
        }
    }

    async fn modal(
        &self,
        cx: &Ctx<'_>,
        actor: &Actor,
        id: ids::RequestId,
        fields: &[(String, String)],
    ) -> HandlerResult<Outcome> {
        match id {
            ids::RequestId::Reason { request, decision } => {
                workflow::reason_submitted(cx, actor, request, decision, fields).await
            }
            _ => Err(UserError::new("common.expired").into()),
        }
    }

    async fn direct_message(&self, cx: &Ctx<'_>, actor: &Actor, text: &str) -> HandlerResult<Option<Outcome>> {
        workflow::direct_message(cx, actor, text).await
    }

    async fn timer(&self, cx: &Ctx<'_>, kind: &str, subject: i64) -> HandlerResult<Outcome> {
        match kind {
            workflow::timers::REVIEW | workflow::timers::REVIEW_OVERDUE => registry::timer(cx, kind, subject).await,
            _ => workflow::timer(cx, kind, subject).await,
        }
    }

    async fn delivery_failed(&self, cx: &Ctx<'_>, hook: &str) -> HandlerResult<Outcome> {
        workflow::delivery_failed(cx, hook).await
    }

    async fn member_left(&self, cx: &Ctx<'_>, guild_id: u64, user_id: u64) -> HandlerResult<Outcome> {
        registry::member_left(cx, guild_id, user_id).await
    }
}
