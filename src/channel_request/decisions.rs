//! The decisions on a submitted `/new-channel` request (points 1.7 to 1.11): the department
//! head's and the communications officers' buttons and reason forms, each checked by
//! [`approval::decide`] and written in one step, the approval timers, reminders and
//! escalation. Driving the conversation up to the submission is in `workflow.rs`.

use tracing::{info, warn};

use crate::channel_request::approval::{self, Act, Refusal, Status, Transition, Who};
use crate::channel_request::ids::{Decision, RequestId};
use crate::channel_request::{render, summary_fields, Conversation};
use crate::clock::{add_working_days, format_date};
use crate::core::errors::{HandlerResult, UserError};
use crate::core::ids::CustomId;
use crate::core::{
    Actor, ButtonStyle, Component, Effect, Embed, EmbedField, Message, Modal, Outcome, Reply, TextInput, Tone,
};
use crate::ctx::{Ctx, Step};
use crate::i18n::{t, Locale};
use crate::org::OrgSettings;
use crate::store::channels::{ChannelRequestRow, RequestChange};

use super::workflow::*;

pub(super) async fn schedule_approval(step: &mut Step<'_>, id: i64) -> HandlerResult<()> {
    let now = step.now();
    let remind = add_working_days(now, step.timings().approval_reminder_working_days);
    let escalate = add_working_days(remind, step.timings().approval_escalation_working_days);
    step.tx.reschedule(timers::APPROVAL_REMIND, id, remind, now).await?;
    step.tx.reschedule(timers::ESCALATE, id, escalate, now).await?;
    Ok(())
}

pub(super) async fn cancel_approval(step: &mut Step<'_>, id: i64) -> HandlerResult<()> {
    let now = step.now();
    step.tx.cancel_timers(timers::APPROVAL_REMIND, id, now).await?;
    step.tx.cancel_timers(timers::ESCALATE, id, now).await?;
    Ok(())
}

/// The summary embed for approvers and the registry.
pub fn request_embed(row: &ChannelRequestRow, conv: &Conversation, locale: Locale, title_key: &str) -> Embed {
    let mut fields = vec![EmbedField {
        name: t(locale, "channel-flow.requester", &[]),
        value: format!("<@{}>", row.requester_id),
        inline: true,
    }];
    fields.extend(summary_fields(script(), &conv.answers, locale));
    fields.truncate(crate::core::reply::limits::EMBED_FIELDS);
    Embed {
        title: Some(t(locale, title_key, &[("reference", &reference(row))])),
        description: None,
        fields,
        footer: Some(crate::guideline::render::source_line(locale)),
        tone: Some(Tone::Info),
    }
}

pub(super) fn approval_message(
    row: &ChannelRequestRow,
    conv: &Conversation,
    locale: Locale,
    stage: &str,
    note: Option<String>,
) -> Message {
    let id = row.id;
    let buttons = if stage == "head" {
        vec![
            Component::button(
                RequestId::Approval { request: id, decision: Decision::HeadApprove }.format(),
                t(locale, "channel-flow.head-approve", &[]),
                ButtonStyle::Success,
            ),
            Component::button(
                RequestId::Approval { request: id, decision: Decision::HeadDecline }.format(),
                t(locale, "channel-flow.decline", &[]),
                ButtonStyle::Danger,
            ),
            Component::button(
                RequestId::Approval { request: id, decision: Decision::HeadChanges }.format(),
                t(locale, "channel-flow.ask-changes", &[]),
                ButtonStyle::Secondary,
            ),
        ]
    } else {
        vec![
            Component::button(
                RequestId::Approval { request: id, decision: Decision::OfficerApprove }.format(),
                t(locale, "channel-flow.approve", &[]),
                ButtonStyle::Success,
            ),
            Component::button(
                RequestId::Approval { request: id, decision: Decision::OfficerReject }.format(),
                t(locale, "channel-flow.reject", &[]),
                ButtonStyle::Danger,
            ),
            Component::button(
                RequestId::Approval { request: id, decision: Decision::OfficerChanges }.format(),
                t(locale, "channel-flow.ask-changes", &[]),
                ButtonStyle::Secondary,
            ),
        ]
    };
    // An escalated request was never cleared by the head: the officers' intro says only what
    // is true (the note says why it came to them).
    let intro_key = match (stage, row.escalated) {
        ("head", _) => "channel-flow.head-intro",
        (_, true) => "channel-flow.officer-intro-escalated",
        _ => "channel-flow.officer-intro",
    };
    let mut content = t(locale, intro_key, &[("requester", &format!("<@{}>", row.requester_id))]);
    if let Some(n) = note {
        content.push_str("\n\n");
        content.push_str(&n);
    }
    Message {
        content: Some(content),
        embeds: vec![request_embed(row, conv, locale, "channel-flow.request-title")],
        components: vec![buttons],
        ephemeral: false,
        attachments: Vec::new(),
    }
}

/// Who approves at the officers' stage: the review channel when set, else each officer by DM.
pub(super) async fn to_officers(
    cx: &Ctx<'_>,
    row: &ChannelRequestRow,
    conv: &Conversation,
    note: Option<String>,
) -> HandlerResult<Vec<Effect>> {
    let settings = OrgSettings::load(cx.store, row.guild_id).await?;
    if let Some(channel) = settings.review_channel {
        // The review channel is a staff channel: Nynorsk, the official language.
        return Ok(vec![Effect::post(channel, approval_message(row, conv, Locale::Nn, "officer", note))]);
    }
    let officers = match settings.communications_role {
        Some(role) => cx.store.members_with_role(row.guild_id, role).await?,
        None => Vec::new(),
    };
    let mut effects = Vec::new();
    for o in officers {
        let locale = cx.store.locale_of(o.user_id).await?;
        effects.push(Effect::dm(o.user_id, approval_message(row, conv, locale, "officer", note.clone())));
    }
    if effects.is_empty() {
        warn!(request = row.id, "no communications officer is configured; the request waits");
        let locale = cx.store.locale_of(row.requester_id).await?;
        effects.push(Effect::dm(
            row.requester_id,
            Message::text(t(locale, "channel-flow.no-officers", &[("reference", &reference(row))])),
        ));
    }
    Ok(effects)
}

pub(crate) use crate::org::is_officer;

/// When the request reached the people who hold it now: its submission for the head, the
/// head's clearance or the escalation for the officers.
pub(super) async fn reached_at(cx: &Ctx<'_>, row: &ChannelRequestRow) -> HandlerResult<i64> {
    let stage_events: &[&str] = match row.status.as_str() {
        "awaiting_officer" => &["head-approved", "escalated"],
        _ => &["submitted"],
    };
    let events = cx.store.channel_events(row.id).await?;
    let at = events.iter().rev().find(|e| stage_events.contains(&e.action.as_str())).map(|e| e.at);
    Ok(at.or(row.submitted_at).unwrap_or(row.created_at))
}

/// The request's status, as the workflow knows it.
pub(crate) fn status_of(row: &ChannelRequestRow) -> HandlerResult<Status> {
    Status::parse(&row.status)
        .ok_or_else(|| anyhow::anyhow!("request {} has an unknown status {:?}", row.id, row.status).into())
}

/// Asks the workflow ([`approval::decide`]) whether `actor` takes `decision` now; the error
/// says why not.
pub(super) async fn check_decider(
    cx: &Ctx<'_>,
    actor: &Actor,
    row: &ChannelRequestRow,
    decision: Decision,
) -> HandlerResult<Transition> {
    let who = Who {
        requester: row.requester_id == actor.user_id,
        head: row.head_id == Some(actor.user_id),
        officer: is_officer(cx, row.guild_id, actor).await?,
    };
    match approval::decide(status_of(row)?, who, Act::Decide(decision)) {
        Ok(t) => Ok(t),
        Err(Refusal::OwnRequest) => {
            warn!(request = row.id, user = actor.user_id, "refused an officer's decision on their own request");
            Err(UserError::new("channel-flow.own-request").into())
        }
        Err(Refusal::AlreadyDecided)
            if row.escalated && matches!(decision, Decision::HeadApprove | Decision::HeadDecline) =>
        {
            // The head's buttons after the request went on to the officers without them.
            let when = reached_at(cx, row).await?;
            Err(UserError::new("channel-flow.escalated-away")
                .arg("reference", reference(row))
                .arg("date", format_date(when))
                .into())
        }
        Err(Refusal::AlreadyDecided) => {
            let when = row.decided_at.or(Some(row.updated_at)).map(format_date).unwrap_or_default();
            Err(UserError::new("channel-flow.already-decided")
                .arg("reference", reference(row))
                .arg("status", status_text(actor.locale, &row.status))
                .arg("date", when)
                .into())
        }
        Err(_) => {
            warn!(
                request = row.id,
                user = actor.user_id,
                decision = decision.as_str(),
                "refused a decision by someone not addressed"
            );
            Err(UserError::new("channel-flow.not-your-decision").into())
        }
    }
}

/// A status in words.
pub fn status_text(locale: Locale, status: &str) -> String {
    t(locale, Status::parse(status).map_or("common.unknown", Status::text_key), &[])
}

/// An approval button: `nca:<id>:<decision>`.
pub async fn approval_component(cx: &Ctx<'_>, actor: &Actor, id: i64, decision: Decision) -> HandlerResult<Outcome> {
    let row = load(cx, id).await?;
    let transition = check_decider(cx, actor, &row, decision).await?;
    let locale = actor.locale;
    match decision {
        Decision::HeadApprove => head_approve(cx, actor, row, transition).await,
        Decision::OfficerApprove => officer_approve(cx, actor, row, transition).await,
        Decision::HeadDecline | Decision::HeadChanges | Decision::OfficerReject | Decision::OfficerChanges => {
            let title_key = match decision {
                Decision::HeadDecline => "channel-flow.modal-head-decline",
                Decision::HeadChanges => "channel-flow.modal-off-changes",
                Decision::OfficerReject => "channel-flow.modal-off-reject",
                _ => "channel-flow.modal-off-changes",
            };
            Ok(Outcome::reply(Reply::Modal(Modal {
                custom_id: RequestId::Reason { request: id, decision }.format(),
                title: crate::core::reply::clip(&t(locale, title_key, &[("reference", &reference(&row))]), 45),
                inputs: vec![TextInput {
                    custom_id: "reason".into(),
                    label: t(locale, "channel-flow.reason-label", &[]),
                    paragraph: true,
                    required: true,
                    min_length: Some(3),
                    max_length: Some(1000),
                    placeholder: None,
                    value: None,
                }],
            })))
        }
    }
}

pub(super) fn decided_message(
    locale: Locale,
    key: &str,
    row: &ChannelRequestRow,
    actor: &Actor,
    reason: Option<&str>,
) -> Message {
    let mut text = t(locale, key, &[("reference", &reference(row)), ("by", &format!("<@{}>", actor.user_id))]);
    if let Some(r) = reason {
        text.push_str("\n> ");
        text.push_str(&r.replace('\n', "\n> "));
    }
    Message::text(crate::core::reply::clip(&text, 1900))
}

pub(super) async fn head_approve(
    cx: &Ctx<'_>,
    actor: &Actor,
    row: ChannelRequestRow,
    to: Transition,
) -> HandlerResult<Outcome> {
    let conv = conversation_of(&row)?;
    let mut effects = to_officers(cx, &row, &conv, changed_note(&conv, Locale::Nn)).await?;
    let req_locale = cx.store.locale_of(row.requester_id).await?;
    effects.push(Effect::dm(
        row.requester_id,
        decided_message(req_locale, "channel-flow.told-head-approved", &row, actor, None),
    ));
    let mut step = cx.step().await?;
    let now = step.now();
    let change = RequestChange { status: Some(to.to.as_str()), ..RequestChange::default() };
    if !step.tx.update_channel_request(row.id, &row.status, row.version, &change, now).await? {
        return Err(UserError::new("channel-flow.changed-meanwhile").into());
    }
    step.tx.log_channel_event(row.id, now, actor.user_id, "head-approved", "").await?;
    schedule_approval(&mut step, row.id).await?;
    step.commit(Outcome::with_effects(
        Reply::Update(decided_message(actor.locale, "channel-flow.you-approved", &row, actor, None)),
        effects,
    ))
    .await
}

pub(super) async fn officer_approve(
    cx: &Ctx<'_>,
    actor: &Actor,
    row: ChannelRequestRow,
    to: Transition,
) -> HandlerResult<Outcome> {
    let mut effects = Vec::new();
    let req_locale = cx.store.locale_of(row.requester_id).await?;
    effects.push(Effect::dm(
        row.requester_id,
        decided_message(req_locale, "channel-flow.told-approved", &row, actor, None),
    ));
    if let Some(head) = row.head_id {
        let l = cx.store.locale_of(head).await?;
        effects.push(Effect::dm(head, decided_message(l, "channel-flow.told-approved", &row, actor, None)));
    }
    let mut step = cx.step().await?;
    let now = step.now();
    let change =
        RequestChange { status: Some(to.to.as_str()), decided_by: Some(actor.user_id), ..RequestChange::default() };
    if !step.tx.update_channel_request(row.id, &row.status, row.version, &change, now).await? {
        return Err(UserError::new("channel-flow.changed-meanwhile").into());
    }
    step.tx.log_channel_event(row.id, now, actor.user_id, "approved", "").await?;
    cancel_approval(&mut step, row.id).await?;
    step.tx.schedule(timers::REVIEW, row.id, now + cx.timings.review_interval_ms, now).await?;
    let outcome = step
        .commit(Outcome::with_effects(
            Reply::Update(decided_message(actor.locale, "channel-flow.officer-approved", &row, actor, None)),
            effects,
        ))
        .await?;
    info!(request = row.id, "channel request approved");
    Ok(outcome)
}

/// A reason modal: `ncm:<id>:<decision>`.
pub async fn reason_submitted(
    cx: &Ctx<'_>,
    actor: &Actor,
    id: i64,
    decision: Decision,
    fields: &[(String, String)],
) -> HandlerResult<Outcome> {
    let row = load(cx, id).await?;
    let to = check_decider(cx, actor, &row, decision).await?;
    let reason = fields.iter().find(|(k, _)| k == "reason").map(|(_, v)| crate::core::text::clean_text(v));
    let reason =
        reason.filter(|r| r.chars().count() >= 3).ok_or_else(|| UserError::new("channel-flow.reason-needed"))?;
    let reason = crate::core::reply::clip(&reason, 1000);
    let status = to.to.as_str();
    let (action, told_key, you_key) = match decision {
        Decision::HeadDecline => ("head-declined", "channel-flow.told-declined", "channel-flow.you-declined"),
        Decision::OfficerReject => ("rejected", "channel-flow.told-rejected", "channel-flow.officer-rejected"),
        Decision::OfficerChanges | Decision::HeadChanges => {
            ("changes-requested", "channel-flow.told-changes", "channel-flow.officer-asked-changes")
        }
        _ => return Err(UserError::new("common.expired").into()),
    };
    let mut conv = conversation_of(&row)?;
    let json;
    let mut change = RequestChange { status: Some(status), ..RequestChange::default() };
    if matches!(decision, Decision::OfficerChanges | Decision::HeadChanges) {
        // Back to the summary, where every answer can be changed before submitting again; what
        // the approver saw is kept, so the resubmission shows what changed.
        conv.step = None;
        conv.decided_answers = Some(conv.answers.clone());
        json = serde_json::to_string(&conv).map_err(anyhow::Error::from)?;
        change.conversation = Some(&json);
    } else {
        change.decided_by = Some(actor.user_id);
    }
    let req_locale = cx.store.locale_of(row.requester_id).await?;
    let mut effects =
        vec![Effect::dm(row.requester_id, decided_message(req_locale, told_key, &row, actor, Some(&reason)))];
    // A refusal says what the requester can do next.
    let next = match decision {
        Decision::HeadDecline => Some("channel-flow.next-after-decline"),
        Decision::OfficerReject => Some("channel-flow.next-after-reject"),
        _ => None,
    };
    if let (Some(next), Some(Effect::DirectMessage { message, .. })) = (next, effects.first_mut()) {
        let content = message.content.get_or_insert_with(String::new);
        content.push_str("\n\n");
        content.push_str(&t(req_locale, next, &[]));
    }
    if matches!(decision, Decision::OfficerChanges | Decision::HeadChanges) {
        effects.push(Effect::dm(row.requester_id, render(script(), &conv, req_locale, row.id)));
    } else if decision == Decision::OfficerReject {
        if let Some(head) = row.head_id {
            let l = cx.store.locale_of(head).await?;
            effects.push(Effect::dm(head, decided_message(l, told_key, &row, actor, Some(&reason))));
        }
    }
    let mut step = cx.step().await?;
    let now = step.now();
    if !step.tx.update_channel_request(row.id, &row.status, row.version, &change, now).await? {
        return Err(UserError::new("channel-flow.changed-meanwhile").into());
    }
    step.tx.log_channel_event(row.id, now, actor.user_id, action, &reason).await?;
    cancel_approval(&mut step, row.id).await?;
    if matches!(decision, Decision::OfficerChanges | Decision::HeadChanges) {
        schedule_idle(&mut step, row.id).await?;
    }
    let outcome = step
        .commit(Outcome::with_effects(
            Reply::Update(decided_message(actor.locale, you_key, &row, actor, Some(&reason))),
            effects,
        ))
        .await?;
    info!(request = row.id, action, "channel request decided");
    Ok(outcome)
}

/// The approver did not act: the head's step goes to the communications officers, theirs to the
/// admin who set the bot up.
pub(super) async fn escalate(cx: &Ctx<'_>, row: ChannelRequestRow) -> HandlerResult<Outcome> {
    let conv = conversation_of(&row)?;
    match row.status.as_str() {
        "awaiting_head" => {
            let head = row.head_id.map(|h| format!("<@{h}>")).unwrap_or_default();
            let note = Some(t(Locale::Nn, "channel-flow.escalated-from-head", &[("head", &head)]));
            // The officers see the request as this step writes it: escalated, with them.
            let escalated = ChannelRequestRow {
                status: Status::AwaitingOfficer.as_str().into(),
                escalated: true,
                version: row.version + 1,
                ..row.clone()
            };
            let mut effects = to_officers(cx, &escalated, &conv, note).await?;
            let l = cx.store.locale_of(row.requester_id).await?;
            effects.push(Effect::dm(
                row.requester_id,
                Message::text(t(l, "channel-flow.told-escalated", &[("reference", &reference(&row))])),
            ));
            let mut step = cx.step().await?;
            let now = step.now();
            let change =
                RequestChange { status: Some("awaiting_officer"), escalated: Some(true), ..RequestChange::default() };
            if !step.tx.update_channel_request(row.id, "awaiting_head", row.version, &change, now).await? {
                return step.commit(Outcome::reply(Reply::Nothing)).await;
            }
            step.tx.log_channel_event(row.id, now, 0, "escalated", "head did not answer").await?;
            schedule_approval(&mut step, row.id).await?;
            let outcome = step.commit(Outcome::with_effects(Reply::Nothing, effects)).await?;
            crate::metrics::global().escalation("channel-head");
            Ok(outcome)
        }
        "awaiting_officer" => {
            let admin = cx
                .store
                .settings(row.guild_id)
                .await?
                .into_iter()
                .find(|(k, ..)| k == crate::org::COMMUNICATIONS_ROLE)
                .map(|(_, _, by, _)| by);
            let mut effects = Vec::new();
            if let Some(admin) = admin {
                let l = cx.store.locale_of(admin).await?;
                let msg = Message {
                    content: Some(t(l, "channel-flow.escalated-to-admin", &[("reference", &reference(&row))])),
                    embeds: vec![request_embed(&row, &conv, l, "channel-flow.request-title")],
                    components: Vec::new(),
                    ephemeral: false,
                    attachments: Vec::new(),
                };
                effects.push(Effect::dm(admin, msg));
            }
            let mut step = cx.step().await?;
            step.tx.log_channel_event(row.id, step.now(), 0, "escalated", "officers did not answer").await?;
            let outcome = step.commit(Outcome::with_effects(Reply::Nothing, effects)).await?;
            crate::metrics::global().escalation("channel-officers");
            Ok(outcome)
        }
        _ => Ok(Outcome::reply(Reply::Nothing)),
    }
}
