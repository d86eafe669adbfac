//! How the app layer sees a feature: one trait with its commands, its buttons and forms, its
//! timers and its delivery failures. The trait sits below the features and the app alike, so a
//! feature implements it without importing the app; the router knows nothing else of a
//! feature, and a feature gets only a [`Ctx`], never the app.

use std::future::Future;

use crate::core::commands::CommandSpec;
use crate::core::errors::HandlerResult;
use crate::core::ids::CustomId;
use crate::core::{Actor, CommandInput, Outcome, Reply};
use crate::ctx::Ctx;

/// A feature of the bot (`/guideline`, `/new-channel`, `/report-threat`, `/setup`).
pub trait Feature: Send + Sync {
    /// Its custom ids (buttons, menus and forms), parsed before they reach it.
    type Id: CustomId + Send;

    /// The slash commands it answers (the app registers them and routes them here by name).
    fn commands(&self) -> Vec<CommandSpec>;

    /// The names of [`Feature::commands`], for routing without building the tree.
    fn command_names(&self) -> &'static [&'static str];

    /// The prefix of its timer kinds and delivery-failure hooks (`nc` for `nc.remind` and
    /// `nc:dm-failed:...`).
    fn background_prefix(&self) -> &'static str;

    /// One of its slash commands.
    fn command(
        &self,
        cx: &Ctx<'_>,
        actor: &Actor,
        cmd: &CommandInput,
    ) -> impl Future<Output = HandlerResult<Outcome>> + Send;

    /// The user is typing into an option with autocomplete.
    fn autocomplete(
        &self,
        _cx: &Ctx<'_>,
        _actor: &Actor,
        _cmd: &CommandInput,
        _focused: &str,
        _value: &str,
    ) -> impl Future<Output = HandlerResult<Outcome>> + Send {
        async { Ok(Outcome::reply(Reply::Choices(Vec::new()))) }
    }

    /// A button press or menu choice on one of its messages.
    fn component(
        &self,
        cx: &Ctx<'_>,
        actor: &Actor,
        id: Self::Id,
        values: &[String],
    ) -> impl Future<Output = HandlerResult<Outcome>> + Send;

    /// One of its forms, submitted.
    fn modal(
        &self,
        _cx: &Ctx<'_>,
        _actor: &Actor,
        _id: Self::Id,
        _fields: &[(String, String)],
    ) -> impl Future<Output = HandlerResult<Outcome>> + Send {
        async { Err(crate::core::UserError::new("common.expired").into()) }
    }

    /// A direct message to the bot, if the feature is waiting for one from this user.
    fn direct_message(
        &self,
        _cx: &Ctx<'_>,
        _actor: &Actor,
        _text: &str,
    ) -> impl Future<Output = HandlerResult<Option<Outcome>>> + Send {
        async { Ok(None) }
    }

    /// One of its timers fell due.
    fn timer(&self, _cx: &Ctx<'_>, _kind: &str, _subject: i64) -> impl Future<Output = HandlerResult<Outcome>> + Send {
        async { Ok(Outcome::reply(Reply::Nothing)) }
    }

    /// A message it queued could not be delivered, for good.
    fn delivery_failed(&self, _cx: &Ctx<'_>, _hook: &str) -> impl Future<Output = HandlerResult<Outcome>> + Send {
        async { Ok(Outcome::reply(Reply::Nothing)) }
    }

    /// A member left a server: what the feature does about it (in its own step).
    fn member_left(
        &self,
        _cx: &Ctx<'_>,
        _guild_id: u64,
        _user_id: u64,
    ) -> impl Future<Output = HandlerResult<Outcome>> + Send {
        async { Ok(Outcome::reply(Reply::Nothing)) }
    }
}
