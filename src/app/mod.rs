//! The router: one entry point, [`App::handle`], that both adapters call with a plain
//! [`Input`] and render the [`Outcome`] of. User errors become kind messages from the
//! catalogue; internal errors are logged with a reference id and the user sees an apology.

//! The app layer: the composition on top of every feature. [`App::handle`] is the one entry
//! point both adapters call with a plain [`Input`]; the router hands it to the feature that owns
//! the command or custom id (each seen only through [`Feature`]), and renders errors: user errors
//! become kind messages from the catalogue, internal errors are logged with a reference id and
//! the user sees an apology. Timer dispatch and delivery ([`delivery`]), bookkeeping after the
//! answer ([`bookkeeping`]), `/help` and the command tree ([`commands`]) live here too.

pub mod bookkeeping;
pub mod commands;
pub mod delivery;
pub mod help;

use std::sync::Arc;

use tracing::{error, instrument};

pub use crate::feature::Feature;

use crate::clock::Clock;
use crate::core::errors::{reference_id, HandlerError, HandlerResult, UserError};
use crate::core::ids::{CustomId, Start};
use crate::core::{Actor, Bookkeeping, CommandInput, Input, Outcome};
use crate::ctx::Ctx;
pub use crate::ctx::Timings;
use crate::i18n::t;
use crate::store::Store;

/// Runs `$body` once for each feature, with `$f` bound to it (static dispatch: every feature is
/// a plain value behind the [`Feature`] trait). A `return` in the body returns from the caller.
macro_rules! each_feature {
    ($f:ident => $body:block) => {{
        {
            let $f = &crate::guideline::Guideline;
            $body
        }
        {
            let $f = &crate::channel_request::ChannelRequests;
            $body
        }
        {
            let $f = &crate::threat_report::ThreatReports;
            $body
        }
        {
            let $f = &crate::org::Setup;
            $body
        }
    }};
}
pub(crate) use each_feature;

/// Everything the bot needs: storage, time, the configured waiting times and the report key.
#[derive(Debug, Clone)]
pub struct App {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub timings: Timings,
    /// The key that seals threat reports at rest (never stored in the database).
    pub report_key: Arc<crate::crypto::ReportKey>,
}

impl App {
    /// An app over this store and clock, with the default timings and a fresh random report
    /// key (tests; `somebot run` and `somebot chat` set the configured key, see
    /// [`crate::crypto::load_or_create`]).
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> Self {
        let report_key = Arc::new(crate::crypto::ReportKey::random());
        App { store, clock, timings: Timings::default(), report_key }
    }

    /// The narrow context a feature works with.
    pub fn cx(&self) -> Ctx<'_> {
        Ctx {
            store: &self.store,
            clock: self.clock.as_ref(),
            timings: &self.timings,
            keys: &self.report_key,
            timer: None,
        }
    }

    /// Handles one input from one actor, bookkeeping included. Never fails: errors become
    /// messages. The sandbox and the tests use this; the Discord adapter answers first (see
    /// [`App::handle_answer_first`]).
    pub async fn handle(&self, actor: &Actor, input: Input) -> Outcome {
        let mut outcome = self.handle_answer_first(actor, input).await;
        let after = std::mem::take(&mut outcome.after);
        self.write_bookkeeping(&after).await;
        outcome
    }

    /// Handles one input like [`App::handle`], but leaves the bookkeeping in
    /// [`Outcome::after`] for the caller to write with [`App::write_bookkeeping`] once the answer
    /// is sent: what the user waits for never waits on those writes. Effects are stored before
    /// this returns, as always.
    #[instrument(skip_all, fields(user = actor.user_id, input = input_kind(&input)))]
    pub async fn handle_answer_first(&self, actor: &Actor, input: Input) -> Outcome {
        // Interactions carry the user's Discord language; remember it for later direct messages
        // (which carry none). Handlers of this very input see it at once (`locale_of`).
        let remember =
            !matches!(input, Input::DirectMessage { .. }) && self.store.saw_locale(actor.user_id, actor.locale);
        let routed = match self.route(actor, input).await {
            Ok(outcome) => self.enqueue_rest(outcome).await,
            Err(e) => Err(e),
        };
        let mut outcome = match routed {
            Ok(outcome) => {
                debug_assert!(
                    outcome.reply.check_limits().is_empty(),
                    "reply breaks Discord's limits: {:?}",
                    outcome.reply.check_limits()
                );
                outcome
            }
            Err(HandlerError::User(e)) => self.user_error(actor, &e),
            Err(HandlerError::Internal(e)) => {
                let reference = reference_id();
                // The cause chain goes to the log only; the user sees the reference.
                error!(reference = %reference, error = format!("{e:#}"), "internal error");
                Outcome::ephemeral(t(actor.locale, "common.apology", &[("reference", &reference)]))
            }
        };
        if remember {
            outcome.after.insert(0, Bookkeeping::RememberLocale { user_id: actor.user_id, locale: actor.locale });
        }
        outcome
    }

    /// Writes what [`App::handle_answer_first`] left for after the answer, in one transaction.
    /// A failure is logged and costs only these records (questions missing from the log, a
    /// language stored at the user's next interaction).
    pub async fn write_bookkeeping(&self, after: &[Bookkeeping]) {
        if after.is_empty() {
            return;
        }
        let now = self.clock.now_ms();
        let mut locales = Vec::new();
        let mut questions = Vec::new();
        for b in after {
            match b {
                Bookkeeping::RememberLocale { user_id, locale } => locales.push((*user_id, *locale, now)),
                Bookkeeping::RecordQuestion { id, asked_at, locale, question, point_ids, declined, guild_id } => {
                    questions.push(crate::store::questions::AskedQuestion {
                        id: *id,
                        asked_at: *asked_at,
                        locale: locale.code().to_string(),
                        question: question.clone(),
                        point_ids: point_ids.clone(),
                        declined: *declined,
                        vote: 0,
                        guild_id: *guild_id,
                    })
                }
            }
        }
        if let Err(e) = self.store.write_records(&locales, &questions).await {
            tracing::warn!(error = %e, records = after.len(), "writing records after the answer failed");
            if after.len() > 1 {
                // One bad record must not cost the others: try each on its own.
                for l in &locales {
                    if let Err(e) = self.store.write_records(std::slice::from_ref(l), &[]).await {
                        tracing::warn!(error = %e, "storing a user's language failed");
                    }
                }
                for q in &questions {
                    if let Err(e) = self.store.write_records(&[], std::slice::from_ref(q)).await {
                        tracing::warn!(question_id = q.id, error = %e, "logging a question failed");
                    }
                }
            }
        }
    }

    /// Records members the gateway reported (server join, member add or update).
    pub async fn members_seen(&self, members: &[crate::store::directory::Member]) {
        let now = self.clock.now_ms();
        for m in members {
            if let Err(e) = self.store.upsert_member(m, now).await {
                tracing::warn!(user = m.user_id, error = %e, "storing a member failed");
            }
        }
    }

    /// A member left the server: the directory forgets them, and features that depend on them
    /// (responsible people of a channel, say) are told.
    pub async fn member_left(&self, guild_id: u64, user_id: u64) -> Outcome {
        if let Err(e) = self.store.member_left(guild_id, user_id, self.clock.now_ms()).await {
            tracing::warn!(user = user_id, error = %e, "recording a member who left failed");
        }
        let mut outcome = Outcome::reply(crate::core::Reply::Nothing);
        let cx = self.cx();
        each_feature!(f => {
            match f.member_left(&cx, guild_id, user_id).await {
                Ok(done) => match self.enqueue_rest(done).await {
                    Ok(done) => outcome.queued.extend(done.queued),
                    Err(e) => tracing::warn!(error = ?e, "enqueueing the leaver notices failed"),
                },
                Err(e) => tracing::warn!(error = ?e, "telling a feature about a member who left failed"),
            }
        });
        outcome
    }

    fn user_error(&self, actor: &Actor, e: &UserError) -> Outcome {
        let args: Vec<(&str, &str)> = e.args.iter().map(|(k, v)| (*k, v.as_str())).collect();
        Outcome::ephemeral(t(actor.locale, e.key, &args))
    }

    async fn route(&self, actor: &Actor, input: Input) -> HandlerResult<Outcome> {
        let cx = self.cx();
        match input {
            Input::Command(cmd) => {
                if cmd.name == "help" {
                    return Ok(help::help(actor.locale));
                }
                each_feature!(f => {
                    if f.command_names().contains(&cmd.name.as_str()) {
                        return f.command(&cx, actor, &cmd).await;
                    }
                });
                Err(UserError::new("common.unknown-command").into())
            }
            Input::Autocomplete { command, focused, value } => {
                each_feature!(f => {
                    if f.command_names().contains(&command.name.as_str()) {
                        return f.autocomplete(&cx, actor, &command, &focused, &value).await;
                    }
                });
                Ok(Outcome::reply(crate::core::Reply::Choices(Vec::new())))
            }
            Input::Component { custom_id, values } => {
                if let Some(start) = Start::parse(&custom_id) {
                    let cmd =
                        CommandInput { name: start.command().into(), subcommand: Vec::new(), options: Vec::new() };
                    return Box::pin(self.route(actor, Input::Command(cmd))).await;
                }
                each_feature!(f => {
                    if let Some(id) = parse_id(f, &custom_id) {
                        return f.component(&cx, actor, id?, &values).await;
                    }
                });
                Err(UserError::new("common.expired").into())
            }
            Input::ModalSubmit { custom_id, fields } => {
                each_feature!(f => {
                    if let Some(id) = parse_id(f, &custom_id) {
                        return f.modal(&cx, actor, id?, &fields).await;
                    }
                });
                Err(UserError::new("common.expired").into())
            }
            Input::DirectMessage { text } => {
                each_feature!(f => {
                    if let Some(outcome) = f.direct_message(&cx, actor, &text).await? {
                        return Ok(outcome);
                    }
                });
                Ok(help::dm_hint(actor.locale))
            }
        }
    }
}

/// `Some` when `custom_id` belongs to feature `f` (by its prefix): the parsed id, or the kind
/// "expired" answer when it does not parse (forged, or left from an older version).
fn parse_id<F: Feature>(_f: &F, custom_id: &str) -> Option<HandlerResult<F::Id>> {
    F::Id::owns(custom_id).then(|| F::Id::parse(custom_id).ok_or_else(|| UserError::new("common.expired").into()))
}

impl App {
    /// The feature that handles a custom id (a button, menu or form), when it parses: what the
    /// router would call. `start` for the buttons that run a command.
    #[doc(hidden)]
    pub fn handler_of(custom_id: &str) -> Option<&'static str> {
        if Start::parse(custom_id).is_some() {
            return Some("start");
        }
        each_feature!(f => {
            if let Some(Ok(_)) = parse_id(f, custom_id) {
                return Some(f.command_names()[0]);
            }
        });
        None
    }
}

fn input_kind(input: &Input) -> &'static str {
    match input {
        Input::Command(_) => "command",
        Input::Autocomplete { .. } => "autocomplete",
        Input::Component { .. } => "component",
        Input::ModalSubmit { .. } => "modal",
        Input::DirectMessage { .. } => "dm",
    }
}
