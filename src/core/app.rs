//! The router: one entry point, [`App::handle`], that both adapters call with a plain
//! [`Input`] and render the [`Outcome`] of. User errors become kind messages from the
//! catalogue; internal errors are logged with a reference id and the user sees an apology.

use std::sync::Arc;

use tracing::{error, instrument};

use crate::clock::Clock;
use crate::core::errors::{reference_id, HandlerError, HandlerResult, UserError};
use crate::core::{help, Actor, Bookkeeping, Input, Outcome};
use crate::guideline::handlers as guideline;
use crate::i18n::t;
use crate::store::Store;

/// Everything the core needs: storage, time and the configured waiting times.
#[derive(Debug, Clone)]
pub struct App {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub timings: Timings,
    /// The key that seals threat reports at rest (never stored in the database).
    pub report_key: Arc<crate::threat_report::crypto::ReportKey>,
}

/// How long the bot waits before reminding, escalating and expiring (configurable; see the
/// README).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timings {
    /// An idle `/new-channel` conversation gets one reminder after this long.
    pub conversation_reminder_ms: i64,
    /// ... and expires after this long.
    pub conversation_expiry_ms: i64,
    /// An approver who has not acted is reminded after this many working days ...
    pub approval_reminder_working_days: u32,
    /// ... and the request is escalated after this many more.
    pub approval_escalation_working_days: u32,
    /// Approved channels are reviewed this often.
    pub review_interval_ms: i64,
    /// An unanswered review goes to the communications officers after this long.
    pub review_answer_ms: i64,
    /// A threat report nobody acknowledged goes to an alternate recipient after this long.
    pub report_ack_timeout_ms: i64,
    /// A handled threat report's content is deleted this long after it was handled.
    pub report_retention_ms: i64,
}

impl Default for Timings {
    fn default() -> Self {
        use crate::clock::{DAY, HOUR};
        Timings {
            conversation_reminder_ms: 24 * HOUR,
            conversation_expiry_ms: 14 * DAY,
            approval_reminder_working_days: 3,
            approval_escalation_working_days: 3,
            review_interval_ms: 182 * DAY,
            review_answer_ms: 14 * DAY,
            report_ack_timeout_ms: 24 * HOUR,
            report_retention_ms: 180 * DAY,
        }
    }
}

impl App {
    /// A core over this store and clock, with the default timings and a fresh random report
    /// key (tests; `somebot run` and `somebot chat` set the configured key, see
    /// [`crate::threat_report::crypto::load_or_create`]).
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> Self {
        let report_key = Arc::new(crate::threat_report::crypto::ReportKey::random());
        App { store, clock, timings: Timings::default(), report_key }
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
            Ok(mut outcome) => match self.enqueue(&outcome.effects).await {
                Ok(ids) => {
                    outcome.queued = ids;
                    Ok(outcome)
                }
                Err(e) => Err(e),
            },
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
                Bookkeeping::RecordQuestion { id, asked_at, locale, question, point_ids, declined } => {
                    questions.push(crate::store::questions::AskedQuestion {
                        id: *id,
                        asked_at: *asked_at,
                        locale: locale.code().to_string(),
                        question: question.clone(),
                        point_ids: point_ids.clone(),
                        declined: *declined,
                        vote: 0,
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
        match crate::channel_request::registry::member_left(self, guild_id, user_id).await {
            Ok(effects) => match self.enqueue(&effects).await {
                Ok(ids) => outcome.queued = ids,
                Err(e) => tracing::warn!(error = ?e, "enqueueing the leaver notices failed"),
            },
            Err(e) => tracing::warn!(error = ?e, "checking the leaver's channels failed"),
        }
        outcome
    }

    fn user_error(&self, actor: &Actor, e: &UserError) -> Outcome {
        let args: Vec<(&str, &str)> = e.args.iter().map(|(k, v)| (*k, v.as_str())).collect();
        Outcome::ephemeral(t(actor.locale, e.key, &args))
    }

    async fn route(&self, actor: &Actor, input: Input) -> HandlerResult<Outcome> {
        match input {
            Input::Command(cmd) => match cmd.name.as_str() {
                "guideline" => guideline::command(self, actor, &cmd).await,
                "help" => Ok(help::help(actor.locale)),
                "setup" => crate::org::command(self, actor, &cmd).await,
                "new-channel" => crate::channel_request::workflow::start(self, actor).await,
                "channels" => crate::channel_request::registry::command(self, actor, &cmd).await,
                "report-threat" => crate::threat_report::workflow::command(self, actor, &cmd).await,
                "reports" => crate::threat_report::workflow::list(self, actor).await,
                _ => Err(UserError::new("common.unknown-command").into()),
            },
            Input::Autocomplete { command, focused, value } => {
                match (command.name.as_str(), command.sub(), focused.as_str()) {
                    ("guideline", Some("ask"), "question") => Ok(guideline::autocomplete(actor.locale, &value)),
                    _ => Ok(Outcome::reply(crate::core::Reply::Choices(Vec::new()))),
                }
            }
            Input::Component { custom_id, values } => {
                use crate::channel_request::{registry, workflow};
                let mut parts = custom_id.splitn(3, ':');
                let kind = parts.next().unwrap_or_default();
                let id = parts.next().unwrap_or_default();
                let action = parts.next().unwrap_or_default();
                let num = || id.parse::<i64>().map_err(|_| HandlerError::User(UserError::new("common.expired")));
                match kind {
                    guideline::PREFIX => guideline::component(self, actor, &custom_id).await,
                    "nc" if id == "start" => workflow::start(self, actor).await,
                    "nc" => workflow::conversation_component(self, actor, num()?, action, &values).await,
                    "nca" => workflow::approval_component(self, actor, num()?, action).await,
                    "ncr" => registry::review_component(self, actor, num()?, action).await,
                    "rt" => crate::threat_report::workflow::component(self, actor, num()?, action, &values).await,
                    "rtl" => crate::threat_report::workflow::list_component(self, actor, &values).await,
                    _ => Err(UserError::new("common.expired").into()),
                }
            }
            Input::ModalSubmit { custom_id, fields } => {
                let parts: Vec<&str> = custom_id.splitn(3, ':').collect();
                match parts.as_slice() {
                    ["ncm", id, decision] => {
                        let id = id.parse::<i64>().map_err(|_| UserError::new("common.expired"))?;
                        crate::channel_request::workflow::reason_submitted(self, actor, id, decision, &fields).await
                    }
                    ["rtm", id, kind] => {
                        let id = id.parse::<i64>().map_err(|_| UserError::new("common.expired"))?;
                        crate::threat_report::workflow::modal(self, actor, id, kind, &fields).await
                    }
                    _ => Err(UserError::new("common.expired").into()),
                }
            }
            Input::DirectMessage { text } => {
                match crate::channel_request::workflow::direct_message(self, actor, &text).await? {
                    Some(outcome) => Ok(outcome),
                    None => Ok(help::dm_hint(actor.locale)),
                }
            }
        }
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
