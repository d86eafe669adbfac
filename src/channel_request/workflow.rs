//! `/new-channel` around the conversation: starting and resuming it in a DM, saving every step,
//! submitting, and the timers of an open conversation (reminder, expiry). The decisions after
//! submission (points 1.7 to 1.11) are in `decisions.rs`, checked by the pure workflow of
//! `approval.rs`.
//!
//! Custom ids: [`RequestId`].
//! Statuses: `draft`, `changes_requested`, `awaiting_head`, `awaiting_officer`, `approved`,
//! `declined`, `rejected`, `cancelled`, `expired`, `retired`.

use tracing::{info, warn};

use super::decisions::*;
pub use super::decisions::{approval_component, reason_submitted, request_embed, status_text};
pub(crate) use super::decisions::{is_officer, status_of};
use crate::channel_request::approval::{self, Act, Refusal, Status, Who};
use crate::channel_request::ids::{self, Action};
use crate::channel_request::{render, Answer, Conversation, Event, Progress, Script, NEEDS_PEOPLE_LOOKUP};
use crate::clock::{date_of, format_date};
use crate::core::errors::{HandlerResult, UserError};
use crate::core::{Actor, ButtonStyle, Component, Effect, Message, Outcome, Reply};
use crate::ctx::{Ctx, Step};
use crate::i18n::{t, Locale};
use crate::store::channels::{ChannelRequestRow, RequestChange};
use crate::store::directory::fold;

/// Statuses in which the requester is still answering.
pub const OPEN: [&str; 2] = ["draft", "changes_requested"];

/// Timer kinds.
pub mod timers {
    pub const REMIND: &str = "nc.remind";
    pub const EXPIRE: &str = "nc.expire";
    pub const APPROVAL_REMIND: &str = "nc.approval-remind";
    pub const ESCALATE: &str = "nc.escalate";
    pub const REVIEW: &str = "nc.review";
    pub const REVIEW_OVERDUE: &str = "nc.review-overdue";
}

pub(super) fn script() -> &'static Script {
    Script::new_channel()
}

pub(super) fn conversation_of(row: &ChannelRequestRow) -> HandlerResult<Conversation> {
    serde_json::from_str(&row.conversation)
        .map_err(|e| anyhow::anyhow!("request {} has unreadable state: {e}", row.id).into())
}

pub(super) async fn load(cx: &Ctx<'_>, id: i64) -> HandlerResult<ChannelRequestRow> {
    cx.store.channel_request(id).await?.ok_or_else(|| UserError::new("common.expired").into())
}

/// The request's reference, or a placeholder before submission.
pub fn reference(row: &ChannelRequestRow) -> String {
    row.reference.clone().unwrap_or_else(|| format!("#{}", row.id))
}

/// `/new-channel` (and the "apply for a new channel" button under section 1).
pub async fn start(cx: &Ctx<'_>, actor: &Actor) -> HandlerResult<Outcome> {
    let guild = actor.guild_id.ok_or_else(|| UserError::new("common.guild-only"))?;
    let open: Vec<ChannelRequestRow> =
        cx.store.channel_requests_of(actor.user_id, &OPEN).await?.into_iter().filter(|r| r.guild_id == guild).collect();
    let locale = actor.locale;
    if let Some(row) = open.first() {
        let conv = conversation_of(row)?;
        // The question the requester is at, by its name in the summary (never the step's id).
        let step = match conv.step.as_deref().and_then(|id| script().step(id)) {
            Some(def) => def.label.get(locale).to_string(),
            None => t(locale, "channel-flow.at-summary", &[]),
        };
        let msg = Message {
            content: Some(t(
                locale,
                "channel-flow.resume-offer",
                &[("date", &format_date(row.created_at)), ("step", &step), ("reference", &reference(row))],
            )),
            embeds: Vec::new(),
            components: vec![vec![
                Component::button(
                    ids::conversation(row.id, Action::Resume),
                    t(locale, "channel-flow.resume", &[]),
                    ButtonStyle::Primary,
                ),
                Component::button(
                    ids::conversation(row.id, Action::Fresh),
                    t(locale, "channel-flow.fresh", &[]),
                    ButtonStyle::Secondary,
                ),
            ]],
            ephemeral: true,
            attachments: Vec::new(),
        };
        return Ok(Outcome::reply(Reply::Message(msg)));
    }
    let step = cx.step().await?;
    create(step, actor, guild).await
}

/// Creates a request and its first question in `step`, and commits it.
pub(super) async fn create(mut step: Step<'_>, actor: &Actor, guild: u64) -> HandlerResult<Outcome> {
    let conv = Conversation::start();
    let json = serde_json::to_string(&conv).map_err(anyhow::Error::from)?;
    let id = step.tx.create_channel_request(guild, actor.user_id, &json, step.now()).await?;
    schedule_idle(&mut step, id).await?;
    let outcome = step.commit(open_in_dm(actor, id, &conv)).await?;
    info!(request = id, "channel request started");
    Ok(outcome)
}

/// The ephemeral "look in your DMs" answer plus the DM with the current question.
pub(super) fn open_in_dm(actor: &Actor, id: i64, conv: &Conversation) -> Outcome {
    let question = render(script(), conv, actor.locale, id);
    Outcome::with_effects(
        Reply::Message(Message::ephemeral_text(t(actor.locale, "channel-flow.dm-sent", &[]))),
        vec![Effect::dm(actor.user_id, question).on_failure(format!("nc:dm-failed:{id}:{}", actor.locale.code()))],
    )
}

pub(super) async fn schedule_idle(step: &mut Step<'_>, id: i64) -> HandlerResult<()> {
    let now = step.now();
    let (remind, expire) = (step.timings().conversation_reminder_ms, step.timings().conversation_expiry_ms);
    step.tx.reschedule(timers::REMIND, id, now + remind, now).await?;
    step.tx.reschedule(timers::EXPIRE, id, now + expire, now).await?;
    Ok(())
}

pub(super) async fn cancel_idle(step: &mut Step<'_>, id: i64) -> HandlerResult<()> {
    let now = step.now();
    step.tx.cancel_timers(timers::REMIND, id, now).await?;
    step.tx.cancel_timers(timers::EXPIRE, id, now).await?;
    Ok(())
}

/// A button of the conversation: `nc:<id>:<action>`.
pub async fn conversation_component(
    cx: &Ctx<'_>,
    actor: &Actor,
    id: i64,
    action: Action,
    values: &[String],
) -> HandlerResult<Outcome> {
    let row = load(cx, id).await?;
    let who = Who { requester: row.requester_id == actor.user_id, ..Who::default() };
    let act = match action {
        Action::Cancel | Action::CancelConfirm => Act::Cancel,
        Action::Submit => Act::Submit,
        _ => Act::Answer,
    };
    match approval::decide(status_of(&row)?, who, act) {
        Ok(_) => {}
        Err(Refusal::NotYours) => {
            warn!(request = id, user = actor.user_id, "someone else pressed a conversation button");
            return Err(UserError::new("channel-flow.not-yours").into());
        }
        Err(_) => return Err(UserError::new("channel-flow.not-open").arg("reference", reference(&row)).into()),
    }
    match action {
        Action::Resume => {
            let conv = conversation_of(&row)?;
            let mut step = cx.step().await?;
            schedule_idle(&mut step, id).await?;
            return step.commit(open_in_dm(actor, id, &conv)).await;
        }
        Action::Fresh => {
            // The old request is cancelled and the new one started in one step.
            let guild = actor.guild_id.ok_or_else(|| UserError::new("common.guild-only"))?;
            let others = cx.store.channel_requests_of(actor.user_id, &OPEN).await?;
            let mut step = cx.step().await?;
            let now = step.now();
            let change = RequestChange { status: Some("cancelled"), ..RequestChange::default() };
            if !step.tx.update_channel_request(id, &row.status, row.version, &change, now).await? {
                drop(step);
                return start(cx, actor).await;
            }
            step.tx.log_channel_event(id, now, actor.user_id, "cancelled", "started afresh").await?;
            cancel_idle(&mut step, id).await?;
            if others.iter().any(|r| r.id != id && r.guild_id == guild) {
                // Another open request: offer that one, as `/new-channel` would.
                step.commit(Outcome::reply(Reply::Nothing)).await?;
                return start(cx, actor).await;
            }
            return create(step, actor, guild).await;
        }
        Action::Cancel => {
            // Cancelling throws every answer away: ask first; carrying on needs no button.
            let locale = actor.locale;
            let msg = Message {
                content: Some(t(locale, "channel-flow.cancel-confirm", &[])),
                embeds: Vec::new(),
                components: vec![vec![Component::button(
                    ids::conversation(id, Action::CancelConfirm),
                    t(locale, "channel-flow.cancel-yes", &[]),
                    ButtonStyle::Danger,
                )]],
                ephemeral: true,
                attachments: Vec::new(),
            };
            return Ok(Outcome::reply(Reply::Message(msg)));
        }
        _ => {}
    }
    let event =
        crate::channel_request::event_from_action(&action, values).ok_or_else(|| UserError::new("common.expired"))?;
    apply(cx, actor, row, event, true).await
}

/// A direct message to the bot: an answer to the open conversation, if there is one.
pub async fn direct_message(cx: &Ctx<'_>, actor: &Actor, text: &str) -> HandlerResult<Option<Outcome>> {
    let Some(row) = cx.store.channel_requests_of(actor.user_id, &OPEN).await?.into_iter().next() else {
        return Ok(None);
    };
    let conv = conversation_of(&row)?;
    let event = match conv.advance(script(), Event::Text(text.to_string()), actor.user_id) {
        Err(r) if r.key == NEEDS_PEOPLE_LOOKUP => match resolve_people(cx, row.guild_id, text).await? {
            Ok(ids) => Event::People(ids),
            Err(problem) => {
                return Ok(Some(Outcome::reply(Reply::Message(Message::text(problem.render(actor.locale))))))
            }
        },
        _ => Event::Text(text.to_string()),
    };
    apply(cx, actor, row, event, false).await.map(Some)
}

/// Why typed names could not be turned into members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeopleProblem {
    NotFound(String),
    Ambiguous(String, Vec<String>),
    Empty,
}

impl PeopleProblem {
    fn render(&self, locale: Locale) -> String {
        match self {
            PeopleProblem::NotFound(n) => t(locale, "channel-flow.person-not-found", &[("name", n)]),
            PeopleProblem::Ambiguous(n, c) => {
                t(locale, "channel-flow.person-ambiguous", &[("name", n), ("candidates", &c.join(", "))])
            }
            PeopleProblem::Empty => t(locale, "channel-flow.person-empty", &[]),
        }
    }
}

/// Turns "Kari Nordmann, Ola" or mentions into member ids, one name at a time.
pub async fn resolve_people(cx: &Ctx<'_>, guild: u64, text: &str) -> HandlerResult<Result<Vec<u64>, PeopleProblem>> {
    let mut ids = Vec::new();
    let names: Vec<String> = text
        .replace(" og ", ",")
        .replace(" and ", ",")
        .split([',', ';', '\n'])
        .map(|s| crate::core::reply::clip(s.trim(), 80))
        .filter(|s| !s.is_empty())
        .take(30)
        .collect();
    if names.is_empty() {
        return Ok(Err(PeopleProblem::Empty));
    }
    for name in names {
        let found = cx.store.find_members(guild, &name).await?;
        let exact: Vec<_> =
            found.iter().filter(|m| fold(&m.display_name) == fold(&name) || fold(&m.username) == fold(&name)).collect();
        let pick = match (found.len(), exact.len()) {
            (0, _) => return Ok(Err(PeopleProblem::NotFound(name))),
            (1, _) => found[0].user_id,
            (_, 1) => exact[0].user_id,
            _ => {
                let candidates = found.iter().take(5).map(|m| m.display_name.clone()).collect();
                return Ok(Err(PeopleProblem::Ambiguous(name, candidates)));
            }
        };
        if !ids.contains(&pick) {
            ids.push(pick);
        }
    }
    Ok(Ok(ids))
}

/// Applies one event to a request's conversation and saves it (compare-and-set).
pub(super) async fn apply(
    cx: &Ctx<'_>,
    actor: &Actor,
    row: ChannelRequestRow,
    event: Event,
    from_button: bool,
) -> HandlerResult<Outcome> {
    let locale = actor.locale;
    let conv = conversation_of(&row)?;
    let wrap = |m: Message| if from_button { Reply::Update(m) } else { Reply::Message(m) };
    let (next, progress) = match conv.advance(script(), event, actor.user_id) {
        Ok(x) => x,
        Err(rejection) => {
            let mut m = Message::text(rejection.message(locale));
            m.ephemeral = from_button;
            return Ok(Outcome::reply(Reply::Message(m)));
        }
    };
    let json = serde_json::to_string(&next).map_err(anyhow::Error::from)?;
    match progress {
        Progress::Ask | Progress::Summary => {
            let mut step = cx.step().await?;
            let change = RequestChange { conversation: Some(&json), ..RequestChange::default() };
            if !step.tx.update_channel_request(row.id, &row.status, row.version, &change, step.now()).await? {
                return Err(UserError::new("channel-flow.changed-meanwhile").into());
            }
            schedule_idle(&mut step, row.id).await?;
            step.commit(Outcome::reply(wrap(render(script(), &next, locale, row.id)))).await
        }
        Progress::Cancelled => {
            let mut step = cx.step().await?;
            let now = step.now();
            let change =
                RequestChange { status: Some("cancelled"), conversation: Some(&json), ..RequestChange::default() };
            if !step.tx.update_channel_request(row.id, &row.status, row.version, &change, now).await? {
                return Err(UserError::new("channel-flow.changed-meanwhile").into());
            }
            step.tx.log_channel_event(row.id, now, actor.user_id, "cancelled", "").await?;
            cancel_idle(&mut step, row.id).await?;
            step.commit(Outcome::reply(wrap(Message::text(t(locale, "channel-flow.cancelled", &[]))))).await
        }
        Progress::Submitted => submit(cx, actor, row, next, &json, from_button).await,
    }
}

pub(super) fn year_of(ms: i64) -> i64 {
    date_of(ms).0
}

pub(super) async fn submit(
    cx: &Ctx<'_>,
    actor: &Actor,
    row: ChannelRequestRow,
    next: Conversation,
    json: &str,
    from_button: bool,
) -> HandlerResult<Outcome> {
    let locale = actor.locale;
    let head = match next.answers.get("head") {
        Some(Answer::Person(h)) => *h,
        _ => return Err(UserError::new("channel-flow.incomplete").into()),
    };
    let head_locale = cx.store.locale_of(head).await?;
    let mut step = cx.step().await?;
    let now = step.now();
    let reference = match &row.reference {
        Some(r) => r.clone(),
        None => {
            let year = year_of(now);
            let n = step.tx.next_number(&format!("KANAL-{year}")).await?;
            format!("KANAL-{year}-{n:04}")
        }
    };
    let change = RequestChange {
        status: Some("awaiting_head"),
        conversation: Some(json),
        head_id: Some(head),
        reference: Some(&reference),
        submitted: true,
        escalated: Some(false),
        ..RequestChange::default()
    };
    if !step.tx.update_channel_request(row.id, &row.status, row.version, &change, now).await? {
        return Err(UserError::new("channel-flow.changed-meanwhile").into());
    }
    step.tx.log_channel_event(row.id, now, actor.user_id, "submitted", &reference).await?;
    cancel_idle(&mut step, row.id).await?;
    schedule_approval(&mut step, row.id).await?;
    // The row as just written (the head's DM shows its reference).
    let row = ChannelRequestRow {
        status: "awaiting_head".into(),
        conversation: json.to_string(),
        head_id: Some(head),
        reference: Some(reference.clone()),
        submitted_at: Some(row.submitted_at.unwrap_or(now)),
        escalated: false,
        version: row.version + 1,
        ..row
    };
    let changed = changed_note(&next, head_locale);
    let effects = vec![Effect::dm(head, approval_message(&row, &next, head_locale, "head", changed))
        .on_failure(format!("nc:head-dm-failed:{}", row.id))];
    let text = t(locale, "channel-flow.submitted", &[("reference", &reference), ("head", &format!("<@{head}>"))]);
    let reply = if from_button { Reply::Update(Message::text(text)) } else { Reply::Message(Message::text(text)) };
    let outcome = step.commit(Outcome::with_effects(reply, effects)).await?;
    info!(request = row.id, reference = %reference, "channel request submitted");
    Ok(outcome)
}

/// Runs a `nc.*` timer.
pub async fn timer(cx: &Ctx<'_>, kind: &str, id: i64) -> HandlerResult<Outcome> {
    let Some(row) = cx.store.channel_request(id).await? else {
        return Ok(Outcome::reply(Reply::Nothing));
    };
    let nothing = Outcome::reply(Reply::Nothing);
    match kind {
        timers::REMIND if OPEN.contains(&row.status.as_str()) => {
            let l = cx.store.locale_of(row.requester_id).await?;
            let msg = Message {
                content: Some(t(l, "channel-flow.reminder", &[("reference", &reference(&row))])),
                embeds: Vec::new(),
                components: vec![vec![Component::button(
                    ids::conversation(id, Action::Resume),
                    t(l, "channel-flow.resume", &[]),
                    ButtonStyle::Primary,
                )]],
                ephemeral: false,
                attachments: Vec::new(),
            };
            Ok(Outcome::with_effects(Reply::Nothing, vec![Effect::dm(row.requester_id, msg)]))
        }
        timers::EXPIRE if approval::decide(status_of(&row)?, Who::BOT, Act::Expire).is_ok() => {
            let l = cx.store.locale_of(row.requester_id).await?;
            let mut step = cx.step().await?;
            let now = step.now();
            let change = RequestChange { status: Some(Status::Expired.as_str()), ..RequestChange::default() };
            if !step.tx.update_channel_request(id, &row.status, row.version, &change, now).await? {
                return step.commit(nothing).await;
            }
            step.tx.log_channel_event(id, now, 0, "expired", "").await?;
            step.commit(Outcome::with_effects(
                Reply::Nothing,
                vec![Effect::dm(
                    row.requester_id,
                    Message::text(t(l, "channel-flow.expired", &[("reference", &reference(&row))])),
                )],
            ))
            .await
        }
        timers::APPROVAL_REMIND => {
            // When the escalation is due as well (the process was down, say), it follows at
            // once: nobody is reminded of a step that is about to leave them.
            if cx.store.open_timers(timers::ESCALATE, id).await?.iter().any(|due| *due <= cx.now()) {
                return Ok(nothing);
            }
            let conv = conversation_of(&row)?;
            // Waiting since it reached them, not since it was submitted.
            let since = format_date(reached_at(cx, &row).await?);
            let note = Some(t(Locale::Nn, "channel-flow.approval-reminder", &[("date", &since)]));
            let effects = match (row.status.as_str(), row.head_id) {
                ("awaiting_head", Some(head)) => {
                    let l = cx.store.locale_of(head).await?;
                    let note = Some(t(l, "channel-flow.approval-reminder", &[("date", &since)]));
                    vec![Effect::dm(head, approval_message(&row, &conv, l, "head", note))]
                }
                ("awaiting_officer", _) => to_officers(cx, &row, &conv, note).await?,
                _ => Vec::new(),
            };
            let mut step = cx.step().await?;
            if !effects.is_empty() {
                step.tx.log_channel_event(id, step.now(), 0, "reminded", &row.status).await?;
            }
            step.commit(Outcome::with_effects(Reply::Nothing, effects)).await
        }
        timers::ESCALATE => escalate(cx, row).await,
        _ => Ok(nothing),
    }
}

/// A delivery hook `nc:...`: a DM that could not be delivered.
pub async fn delivery_failed(cx: &Ctx<'_>, hook: &str) -> HandlerResult<Outcome> {
    let parts: Vec<&str> = hook.split(':').collect();
    match parts.as_slice() {
        ["nc", "dm-failed", id, lang] => {
            let id: i64 = id.parse().map_err(anyhow::Error::from)?;
            let locale = if *lang == "en" { Locale::En } else { Locale::Nn };
            info!(request = id, "the requester does not accept DMs");
            let msg = Message {
                content: Some(t(locale, "channel-flow.dm-closed", &[])),
                embeds: Vec::new(),
                components: vec![vec![Component::button(
                    ids::conversation(id, Action::Resume),
                    t(locale, "channel-flow.try-again", &[]),
                    ButtonStyle::Primary,
                )]],
                ephemeral: true,
                attachments: Vec::new(),
            };
            Ok(Outcome::reply(Reply::Message(msg)))
        }
        ["nc", "head-dm-failed", id] => {
            let id: i64 = id.parse().map_err(anyhow::Error::from)?;
            let row = load(cx, id).await?;
            escalate(cx, row).await
        }
        _ => Ok(Outcome::reply(Reply::Nothing)),
    }
}

/// After changes were asked for: which answers changed since, by their names in the summary.
pub(super) fn changed_note(conv: &Conversation, locale: Locale) -> Option<String> {
    conv.decided_answers.as_ref()?;
    let names: Vec<String> = conv
        .changed_since_decision(script())
        .into_iter()
        .filter_map(|id| script().step(id))
        .map(|s| format!("«{}»", s.label.get(locale)))
        .collect();
    let key = if names.is_empty() { "channel-flow.resubmitted-unchanged" } else { "channel-flow.resubmitted-changed" };
    Some(t(locale, key, &[("fields", &names.join(", "))]))
}
