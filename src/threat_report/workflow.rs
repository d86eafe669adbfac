//! The `/report-threat` path: the rules every handler asks first ([`allow`] over
//! [`decide`](crate::threat_report::decide)), the shared readers, and the routing of a report's
//! buttons and forms. The steps themselves live beside it: intake (`intake.rs`: police notice,
//! draft, evidence copied at once, form, preview), delivery (`delivery.rs`: sending by DM,
//! acknowledging, rerouting, deletion and retention), follow-up (`follow_up.rs`), export
//! (`export.rs`) and the `/reports` view (`view.rs`).
//!
//! Custom ids: [`ReportId`]. Statuses: `draft`, `sent`, `acknowledged`, `handled`,
//! `cancelled`, `deleted`. Timers: `rt.ack-timeout`, `rt.retention`. Logs carry ids only.

use tracing::{info, warn};

use super::{delivery::*, export::*, follow_up::*, intake::*};
use crate::core::errors::{HandlerResult, UserError};
use crate::core::reply::{clip, limits};
use crate::core::{Actor, ButtonStyle, Component, Effect, Message, Outcome, Reply};
use crate::ctx::Ctx;
use crate::i18n::{t, Locale};
use crate::store::reports::{ReportChange, ReportRow};
use crate::threat_report::decide::{decide, Allowed, Asked, Refusal, Status, Who};
use crate::threat_report::ids::{self, Action, Form};
use crate::threat_report::{ReportContent, MAX_ONGOING, MAX_WHAT, MAX_WHEN, MAX_WHERE};

/// Timer kinds.
pub mod timers {
    pub const ACK_TIMEOUT: &str = "rt.ack-timeout";
    pub const RETENTION: &str = "rt.retention";
}

/// Statuses in which the report is with a recipient.
pub(super) const LIVE: [&str; 3] = ["sent", "acknowledged", "handled"];

pub(super) async fn load(cx: &Ctx<'_>, id: i64) -> HandlerResult<ReportRow> {
    cx.store.report(id).await?.ok_or_else(|| UserError::new("common.expired").into())
}

pub(super) fn reference(row: &ReportRow) -> String {
    row.reference.clone().unwrap_or_else(|| format!("#{}", row.id))
}

pub(super) fn content_of(cx: &Ctx<'_>, row: &ReportRow) -> HandlerResult<ReportContent> {
    let Some(sealed) = &row.content else { return Ok(ReportContent::default()) };
    let json = cx.keys.open_str(sealed).map_err(|e| anyhow::anyhow!("report {}: {e}", row.id))?;
    serde_json::from_str(&json).map_err(|e| anyhow::anyhow!("report {} has unreadable content: {e}", row.id).into())
}

pub(super) fn status_text(locale: Locale, status: &str) -> String {
    t(locale, Status::parse(status).map_or("common.unknown", Status::text_key), &[])
}

pub(super) fn mention(user: u64) -> String {
    format!("<@{user}>")
}

/// Whether `user` had the report delivered to them (not a DM that failed) before it moved on.
async fn was_recipient(cx: &Ctx<'_>, row: &ReportRow, user: u64) -> HandlerResult<bool> {
    let user = user.to_string();
    let events = cx.store.report_events(row.id).await?;
    let is = |action: &str| events.iter().any(|e| e.action == action && e.detail == user);
    Ok(is("delivered-to") && !is("dm-failed"))
}

/// Asks the rules ([`decide`]) whether `actor` may do `asked` to the report. A refusal is
/// explained; an outsider's attempt is logged (ids only) and recorded in a step of its own, and
/// they learn nothing about the report.
pub(super) async fn allow(cx: &Ctx<'_>, actor: &Actor, row: &ReportRow, asked: Asked) -> HandlerResult<Allowed> {
    let status = Status::parse(&row.status)
        .ok_or_else(|| anyhow::anyhow!("report {} has an unknown status {:?}", row.id, row.status))?;
    let mut who = Who::of(actor.user_id, row.reporter_id, row.recipient_id, status);
    if who == Who::Recipient {
        // Access ends with its reason: a recipient who has left the server has none.
        if let Some(g) = row.guild_id {
            if cx.store.member(g, actor.user_id).await?.is_some_and(|m| !m.present) {
                who = Who::Other;
            }
        }
    }
    match decide(status, who, asked) {
        Ok(allowed) => Ok(allowed),
        Err(Refusal::NotYours)
            if who == Who::Other
                && row.recipient_id != Some(actor.user_id)
                && was_recipient(cx, row, actor.user_id).await? =>
        {
            // An earlier recipient (the report moved on when they did not answer in time) is
            // told so kindly; they keep nothing of it.
            Err(UserError::new("report.moved-on").arg("reference", reference(row)).into())
        }
        Err(Refusal::NotYours) => {
            warn!(report = row.id, user = actor.user_id, action = asked.word(), "refused access to a threat report");
            let mut step = cx.step().await?;
            step.tx.log_report_event(row.id, step.now(), actor.user_id, "refused", asked.word()).await?;
            step.commit(Outcome::reply(Reply::Nothing)).await?;
            Err(UserError::new("report.not-yours").into())
        }
        Err(Refusal::WrongState) => Err(UserError::new("report.wrong-state")
            .arg("reference", reference(row))
            .arg("status", status_text(actor.locale, &row.status))
            .into()),
        Err(Refusal::AlreadyAcknowledged) => {
            Err(UserError::new("report.already-acknowledged").arg("reference", reference(row)).into())
        }
    }
}

/// A button or select on a report: `rt:<id>:<action>`.
pub async fn component(
    cx: &Ctx<'_>,
    actor: &Actor,
    id: i64,
    action: Action,
    values: &[String],
) -> HandlerResult<Outcome> {
    let row = load(cx, id).await?;
    let locale = actor.locale;
    let action_word = action.as_str();
    allow(cx, actor, &row, Asked::Button(action)).await?;
    match action {
        Action::Privacy => Ok(Outcome::ephemeral(t(
            locale,
            "report.privacy",
            &[("days", &(cx.timings.report_retention_ms / crate::clock::DAY).to_string())],
        ))),
        Action::Write | Action::Edit => {
            Ok(Outcome::reply(Reply::Modal(report_modal(locale, id, &content_of(cx, &row)?))))
        }
        Action::Cancel => {
            let mut step = cx.step().await?;
            let now = step.now();
            let change = ReportChange { status: Some("cancelled"), ..ReportChange::default() };
            if step.tx.update_report(id, "draft", row.version, &change, now).await? {
                step.tx.wipe_report(id, row.version + 1, now).await?;
                step.tx.log_report_event(id, now, actor.user_id, "cancelled", "").await?;
            }
            step.commit(Outcome::reply(Reply::Update(Message::ephemeral_text(t(locale, "report.cancelled", &[])))))
                .await
        }
        Action::Alternate | Action::Pick => {
            let chosen: u64 =
                values.first().and_then(|v| v.parse().ok()).ok_or_else(|| UserError::new("common.expired"))?;
            if chosen == actor.user_id {
                return Err(UserError::new("report.not-yourself").into());
            }
            if action == Action::Alternate {
                let allowed = row.manager_id == Some(chosen)
                    || match row.guild_id {
                        Some(g) => cx.store.alternates(g).await?.contains(&chosen),
                        None => false,
                    };
                if !allowed {
                    return Err(UserError::new("common.expired").into());
                }
            }
            let mut change = ReportChange { recipient_id: Some(chosen), ..ReportChange::default() };
            if action == Action::Pick {
                change.manager_id = Some(chosen);
            }
            // The preview shows the row as this step writes it.
            let version = row.version;
            let written = ReportRow {
                recipient_id: Some(chosen),
                manager_id: if action == Action::Pick { Some(chosen) } else { row.manager_id },
                version: version + 1,
                ..row
            };
            let shown = preview(cx, &written, locale).await?;
            let mut step = cx.step().await?;
            let now = step.now();
            if !step.tx.update_report(id, "draft", version, &change, now).await? {
                return Err(UserError::new("report.changed-meanwhile").into());
            }
            step.tx.log_report_event(id, now, actor.user_id, action_word, &chosen.to_string()).await?;
            step.commit(Outcome::reply(Reply::Update(shown))).await
        }
        Action::Send => send(cx, actor, row).await,
        Action::Acknowledge => acknowledge(cx, actor, row).await,
        Action::Reply => Ok(Outcome::reply(Reply::Modal(reply_modal(locale, id, Form::Reply)))),
        Action::Handle => Ok(Outcome::reply(Reply::Modal(reply_modal(locale, id, Form::Handle)))),
        Action::Export => export(cx, actor, &row).await,
        Action::Delete => {
            let msg = Message {
                content: Some(t(locale, "report.delete-confirm", &[("reference", &reference(&row))])),
                embeds: Vec::new(),
                components: vec![vec![Component::button(
                    ids::button(id, Action::DeleteConfirm),
                    t(locale, "report.delete-yes", &[]),
                    ButtonStyle::Danger,
                )]],
                ephemeral: true,
                attachments: Vec::new(),
            };
            Ok(Outcome::reply(Reply::Message(msg)))
        }
        Action::DeleteConfirm => delete(cx, row, actor.user_id, "reporter").await.map(|mut o| {
            o.reply = Reply::Update(Message::ephemeral_text(t(locale, "report.deleted", &[])));
            o
        }),
    }
}

/// A submitted form: `rtm:<id>:report`, `rtm:<id>:reply`, `rtm:<id>:handle`.
pub async fn modal(
    cx: &Ctx<'_>,
    actor: &Actor,
    id: i64,
    form: Form,
    fields: &[(String, String)],
) -> HandlerResult<Outcome> {
    let row = load(cx, id).await?;
    let locale = actor.locale;
    allow(cx, actor, &row, Asked::Form(form)).await?;
    let field =
        |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_string()).unwrap_or_default();
    match form {
        Form::Report => {
            // Everything typed is saved first, even when something is missing.
            let content = ReportContent {
                what: clip(&field("what"), usize::from(MAX_WHAT)),
                place: clip(&field("where"), usize::from(MAX_WHERE)),
                when: clip(&field("when"), usize::from(MAX_WHEN)),
                ongoing: clip(&field("ongoing"), usize::from(MAX_ONGOING)),
            };
            let json = serde_json::to_string(&content).map_err(anyhow::Error::from)?;
            let sealed = cx.keys.seal_str(&json);
            let mut change = ReportChange { content: Some(&sealed), ..ReportChange::default() };
            if row.recipient_id.is_none() {
                change.recipient_id = row.manager_id;
            }
            let registered = match row.guild_id {
                Some(g) => cx.store.manager_of(g, row.reporter_id).await?,
                None => None,
            };
            let (guild_manager, recipient_default) = match registered {
                Some((_, m)) => (Some(m), Some(m)),
                None => (None, None),
            };
            if row.manager_id.is_none() {
                change.manager_id = guild_manager;
            }
            if row.recipient_id.is_none() {
                change.recipient_id = recipient_default;
            }
            let version = row.version;
            let written = ReportRow {
                content: Some(sealed.clone()),
                recipient_id: change.recipient_id.or(row.recipient_id),
                manager_id: change.manager_id.or(row.manager_id),
                version: version + 1,
                ..row
            };
            let shown =
                if content.what.chars().count() < 3 { None } else { Some(preview(cx, &written, locale).await?) };
            let mut step = cx.step().await?;
            if !step.tx.update_report(id, "draft", version, &change, step.now()).await? {
                return Err(UserError::new("report.changed-meanwhile").into());
            }
            let Some(shown) = shown else {
                let msg = Message {
                    content: Some(t(locale, "report.what-needed", &[])),
                    embeds: Vec::new(),
                    components: vec![vec![Component::button(
                        ids::button(id, Action::Edit),
                        t(locale, "report.edit", &[]),
                        ButtonStyle::Primary,
                    )]],
                    ephemeral: true,
                    attachments: Vec::new(),
                };
                return step.commit(Outcome::reply(Reply::Message(msg))).await;
            };
            step.commit(Outcome::reply(Reply::Message(shown))).await
        }
        Form::Reply => {
            let text = clip(&field("text"), 1800);
            if text.is_empty() {
                return Err(UserError::new("report.reply-empty").into());
            }
            let other = if actor.user_id == row.reporter_id { row.recipient_id } else { Some(row.reporter_id) };
            let mut effects = Vec::new();
            if let Some(other) = other {
                let l = cx.store.locale_of(other).await?;
                let mut body =
                    t(l, "report.follow-up", &[("reference", &reference(&row)), ("from", &mention(actor.user_id))]);
                body.push_str("\n>>> ");
                body.push_str(&text);
                let msg = Message {
                    content: Some(clip(&body, limits::CONTENT)),
                    embeds: Vec::new(),
                    components: vec![vec![Component::button(
                        ids::button(id, Action::Reply),
                        t(l, "report.reply", &[]),
                        ButtonStyle::Primary,
                    )]],
                    ephemeral: false,
                    attachments: Vec::new(),
                };
                // The hook does nothing on failure; it names the report, so that deleting the
                // report cancels the message while it waits.
                effects.push(Effect::dm(other, msg).on_failure(format!("rt:follow-up:{id}:{other}")));
            }
            let mut step = cx.step().await?;
            let now = step.now();
            step.tx.add_report_message(id, now, actor.user_id, &cx.keys.seal_str(&text)).await?;
            step.tx.log_report_event(id, now, actor.user_id, "follow-up", "").await?;
            let outcome = step
                .commit(Outcome::with_effects(
                    Reply::Message(Message::ephemeral_text(t(locale, "report.reply-sent", &[]))),
                    effects,
                ))
                .await?;
            info!(report = id, "follow-up relayed");
            Ok(outcome)
        }
        Form::Handle => {
            let note = clip(&field("text"), 1800);
            let sealed = cx.keys.seal_str(&note);
            let l = cx.store.locale_of(row.reporter_id).await?;
            let mut step = cx.step().await?;
            let now = step.now();
            let change = ReportChange {
                status: Some("handled"),
                handled_note: Some(&sealed),
                handled: true,
                acknowledged: row.acknowledged_at.is_none(),
                ..ReportChange::default()
            };
            if !step.tx.update_report(id, &row.status, row.version, &change, now).await? {
                return Err(UserError::new("report.changed-meanwhile").into());
            }
            step.tx.log_report_event(id, now, actor.user_id, "handled", "").await?;
            step.tx.cancel_timers(timers::ACK_TIMEOUT, id, now).await?;
            step.tx.schedule(timers::RETENTION, id, now + cx.timings.report_retention_ms, now).await?;
            let mut told =
                t(l, "report.told-handled", &[("reference", &reference(&row)), ("by", &mention(actor.user_id))]);
            if !note.is_empty() {
                told.push_str("\n>>> ");
                told.push_str(&note);
            }
            let outcome = step
                .commit(Outcome::with_effects(
                    Reply::Message(Message::ephemeral_text(t(
                        locale,
                        "report.you-handled",
                        &[("reference", &reference(&row))],
                    ))),
                    vec![Effect::dm(row.reporter_id, Message::text(clip(&told, limits::CONTENT)))],
                ))
                .await?;
            info!(report = id, "threat report handled");
            Ok(outcome)
        }
    }
}
