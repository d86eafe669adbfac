//! The plain-text export of a report, for a police report or the deviation system.

use crate::clock::format_time;
use crate::core::errors::HandlerResult;
use crate::core::{Actor, Effect, Message, Outcome, Reply};
use crate::ctx::Ctx;
use crate::i18n::{t, Locale};
use crate::store::reports::ReportRow;

use super::intake::name_of;
use super::workflow::*;

/// A time in the export (`format_time` carries the date and the zone).
pub(super) fn stamp(ms: i64) -> String {
    format_time(ms)
}

/// The plain-text export: every fact, time, the evidence hash and the follow-up log.
pub async fn export_text(cx: &Ctx<'_>, row: &ReportRow, locale: Locale) -> HandlerResult<String> {
    let c = content_of(cx, row)?;
    let l = |k: &str| t(locale, k, &[]);
    let messages = cx.store.report_messages(row.id).await?;
    let events: Vec<_> = cx.store.report_events(row.id).await?.into_iter().filter(|e| e.action != "refused").collect();
    // The one detail the log shows is the person a delivery concerned.
    let whom = |e: &crate::store::reports::ReportEvent| match e.action.as_str() {
        "delivered-to" | "dm-failed" | "alt" | "pick" => e.detail.parse::<u64>().ok(),
        _ => None,
    };
    // People by name, with the Discord id that identifies them beyond doubt.
    let mut people: std::collections::BTreeSet<u64> = [row.reporter_id].into_iter().chain(row.recipient_id).collect();
    people.extend(messages.iter().map(|m| m.author_id));
    people.extend(events.iter().map(|e| e.actor_id));
    people.extend(events.iter().filter_map(whom));
    let mut names = std::collections::BTreeMap::new();
    for user in people.into_iter().filter(|u| *u != 0) {
        let name = name_of(cx, row.guild_id, user).await?;
        names.insert(user, t(locale, "report.person", &[("name", &name), ("id", &user.to_string())]));
    }
    let person = |user: u64| match names.get(&user) {
        Some(p) => p.clone(),
        None => t(locale, "report.the-bot", &[]),
    };
    let mut out = String::new();
    let mut line = |k: &str, v: &str| {
        out.push_str(&format!("{}: {}\n", l(k), v));
    };
    line("report.label-reference", &reference(row));
    line("report.label-status", &status_text(locale, &row.status));
    let reporter = person(row.reporter_id);
    let recipient = row.recipient_id.map(person).unwrap_or_default();
    line("report.label-reporter", &reporter);
    line("report.label-recipient", &recipient);
    line("report.label-created", &stamp(row.created_at));
    if let Some(s) = row.sent_at {
        line("report.label-sent", &stamp(s));
    }
    if let Some(s) = row.acknowledged_at {
        line("report.label-acknowledged", &stamp(s));
    }
    if let Some(s) = row.handled_at {
        line("report.label-handled", &stamp(s));
    }
    line("report.label-where", &c.place);
    line("report.label-when", &c.when);
    line("report.label-ongoing", &c.ongoing);
    if let Some(e) = &row.evidence {
        line(
            "report.label-evidence",
            &format!(
                "{} ({}, {} bytes), SHA-256 {}, {} {}",
                e.filename,
                e.content_type.as_deref().unwrap_or("-"),
                e.size,
                e.sha256.as_deref().unwrap_or("-"),
                stamp(e.received_at),
                e.note
            ),
        );
    }
    out.push_str(&format!("\n{}:\n{}\n", l("report.label-what"), c.what));
    if let Some(note) = &row.handled_note {
        let note = cx.keys.open_str(note).map_err(|e| anyhow::anyhow!("report {}: {e}", row.id))?;
        out.push_str(&format!("\n{}:\n{}\n", l("report.label-note"), note));
    }
    out.push_str(&format!("\n{}:\n", l("report.label-follow-ups")));
    for m in messages {
        let body = match &m.body {
            Some(b) => cx.keys.open_str(b).map_err(|e| anyhow::anyhow!("report {}: {e}", row.id))?,
            None => String::new(),
        };
        out.push_str(&format!("[{}] {}: {}\n", stamp(m.at), person(m.author_id), body));
    }
    out.push_str(&format!("\n{}:\n", l("report.label-log")));
    for e in &events {
        let what = t(locale, event_key(&e.action), &[]);
        let detail = whom(e).map(|u| format!(": {}", person(u))).unwrap_or_default();
        out.push_str(&format!("[{}] {} – {what}{detail}\n", stamp(e.at), person(e.actor_id)));
    }
    Ok(out)
}

/// An audit event of a report in words (a key of prompts/messages/*/report.toml).
fn event_key(action: &str) -> &'static str {
    match action {
        "register-gap" => "report.event-register-gap",
        "cancelled" => "report.event-cancelled",
        "alt" => "report.event-alt",
        "pick" => "report.event-pick",
        "sent" => "report.event-sent",
        "delivered-to" => "report.event-delivered-to",
        "acknowledged" => "report.event-acknowledged",
        "follow-up" => "report.event-follow-up",
        "handled" => "report.event-handled",
        "rerouted" => "report.event-rerouted",
        "dm-failed" => "report.event-dm-failed",
        "no-alternate" => "report.event-no-alternate",
        "deleted" => "report.event-deleted",
        "exported" => "report.event-exported",
        _ => "common.unknown",
    }
}

/// Sends the export by DM, as a text file, to whoever asked (the reporter or the recipient).
pub(super) async fn export(cx: &Ctx<'_>, actor: &Actor, row: &ReportRow) -> HandlerResult<Outcome> {
    let locale = actor.locale;
    let text = export_text(cx, row, locale).await?;
    // A text file, fit to attach to a police report or the deviation system (avvik).
    let file =
        crate::core::reply::FileAttachment { filename: format!("{}.txt", reference(row)), data: text.into_bytes() };
    let message = Message {
        content: Some(t(locale, "report.export-intro", &[("reference", &reference(row))])),
        attachments: vec![file],
        ..Message::default()
    };
    let effects = vec![Effect::dm(actor.user_id, message)];
    let mut step = cx.step().await?;
    step.tx.log_report_event(row.id, step.now(), actor.user_id, "exported", "").await?;
    step.commit(Outcome::with_effects(
        Reply::Message(Message::ephemeral_text(t(locale, "report.export-sent", &[]))),
        effects,
    ))
    .await
}
