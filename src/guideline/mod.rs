//! The guideline document, lookup by point id, quoting, the question search engine and the
//! `/guideline` command.

pub mod commands;
pub mod doc;
pub mod eval;
pub mod handlers;
pub mod ids;
pub mod render;
pub mod search;

pub use doc::{GuidelineDoc, GuidelinePoint, Section};

use crate::core::errors::HandlerResult;
use crate::core::{Actor, CommandInput, Outcome, Reply};
use crate::ctx::Ctx;
use crate::feature::Feature;

/// The `/guideline` feature.
#[derive(Debug, Clone, Copy, Default)]
pub struct Guideline;

impl Feature for Guideline {
    type Id = ids::GuidelineId;

    fn commands(&self) -> Vec<crate::core::commands::CommandSpec> {
        commands::commands()
    }

    fn command_names(&self) -> &'static [&'static str] {
        &["guideline"]
    }

    fn background_prefix(&self) -> &'static str {
        "gl"
    }

    async fn command(&self, cx: &Ctx<'_>, actor: &Actor, cmd: &CommandInput) -> HandlerResult<Outcome> {
        handlers::command(cx, actor, cmd).await
    }

    async fn autocomplete(
        &self,
        _cx: &Ctx<'_>,
        actor: &Actor,
        cmd: &CommandInput,
        focused: &str,
        value: &str,
    ) -> HandlerResult<Outcome> {
        Ok(match (cmd.sub(), focused) {
            (Some("ask"), "question") => handlers::autocomplete(actor.locale, value),
            (Some(slug), "point") => match GuidelineDoc::official().section(slug) {
                Some(section) => handlers::point_autocomplete(actor.locale, &section.id, value),
                None => Outcome::reply(Reply::Choices(Vec::new())),
            },
            _ => Outcome::reply(Reply::Choices(Vec::new())),
        })
    }

    async fn component(
        &self,
        cx: &Ctx<'_>,
        actor: &Actor,
        id: ids::GuidelineId,
        values: &[String],
    ) -> HandlerResult<Outcome> {
        handlers::component(cx, actor, id, values).await
    }
}
