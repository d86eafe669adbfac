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

use crate::core::commands::{subcommand, CommandSpec, OptionKind, OptionSpec};

/// The commands of this feature: `/new-channel` and the register, `/channels`.
pub fn commands() -> Vec<CommandSpec> {
    let channels = ["list", "show", "request", "retire"]
        .into_iter()
        .map(|name| {
            let mut options = Vec::new();
            if name != "list" {
                let mut r = OptionSpec::new(OptionKind::String, "reference", "cmd.channels.reference").required();
                r.max_length = Some(20);
                options.push(r);
            }
            subcommand(name, format!("cmd.channels.{name}"), options)
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

use crate::core::errors::{HandlerError, HandlerResult, UserError};
use crate::core::{Actor, CommandInput, Effect, Outcome};
use crate::ctx::Ctx;
use crate::feature::Feature;

/// The `/new-channel` and `/channels` feature.
#[derive(Debug, Clone, Copy, Default)]
pub struct ChannelRequests;

/// `kind:id:action` of a custom id, with the id as a number.
fn split_id(custom_id: &str) -> (&str, &str, &str) {
    let mut parts = custom_id.splitn(3, ':');
    (parts.next().unwrap_or_default(), parts.next().unwrap_or_default(), parts.next().unwrap_or_default())
}

fn number(id: &str) -> HandlerResult<i64> {
    id.parse::<i64>().map_err(|_| HandlerError::User(UserError::new("common.expired")))
}

impl Feature for ChannelRequests {
    fn commands(&self) -> Vec<CommandSpec> {
        commands()
    }

    fn command_names(&self) -> &'static [&'static str] {
        &["new-channel", "channels"]
    }

    fn prefixes(&self) -> &'static [&'static str] {
        &["nc", "nca", "ncr", "ncm"]
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
        custom_id: &str,
        values: &[String],
    ) -> HandlerResult<Outcome> {
        match split_id(custom_id) {
            ("nc", "start", _) => workflow::start(cx, actor).await,
            ("nc", id, action) => workflow::conversation_component(cx, actor, number(id)?, action, values).await,
            ("nca", id, action) => workflow::approval_component(cx, actor, number(id)?, action).await,
            ("ncr", id, action) => registry::review_component(cx, actor, number(id)?, action).await,
            _ => Err(UserError::new("common.expired").into()),
        }
    }

    async fn modal(
        &self,
        cx: &Ctx<'_>,
        actor: &Actor,
        custom_id: &str,
        fields: &[(String, String)],
    ) -> HandlerResult<Outcome> {
        match split_id(custom_id) {
            ("ncm", id, decision) if !decision.is_empty() => {
                workflow::reason_submitted(cx, actor, number(id)?, decision, fields).await
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

    async fn member_left(&self, cx: &Ctx<'_>, guild_id: u64, user_id: u64) -> HandlerResult<Vec<Effect>> {
        registry::member_left(cx, guild_id, user_id).await
    }
}
