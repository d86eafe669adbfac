//! The plain-text export of a report, for a police report or the deviation system.

use crate::clock::{format_date, format_time};
use crate::core::errors::HandlerResult;
use crate::core::{Actor, Effect, Message, Outcome, Reply};
use crate::ctx::Ctx;
use crate::i18n::{t, Locale};
use crate::store::reports::ReportRow;

use super::workflow::*;

pub(super) fn stamp(ms: i64) -> String {
    format!("{} {} UTC", format_date(ms), format_time(ms))
}

/// The plain-text export: every fact, time, the evidence hash and the follow-up log.
pub async fn export_text(cx: &Ctx<'_>, row: &ReportRow, locale: Locale) -> HandlerResult<String> {
    let c = content_of(cx, row)?;
    let l = |k: &str| t(locale, k, &[]);
    let mut out = String::new();
    let mut line = |k: &str, v: &str| {
        out.push_str(&format!("{}: {}\n", l(k), v));
    };
    line("report.label-reference", &reference(row));
    line("report.label-status", &status_text(locale, &row.status));
    line("report.label-reporter", &format!("{} (Discord id)", row.reporter_id));
    line("report.label-recipient", &row.recipient_id.map(|r| format!("{r} (Discord id)")).unwrap_or_default());
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
    for m in cx.store.report_messages(row.id).await? {
        let body = match &m.body {
            Some(b) => cx.keys.open_str(b).map_err(|e| anyhow::anyhow!("report {}: {e}", row.id))?,
            None => String::new(),
        };
        out.push_str(&format!("[{}] {}: {}\n", stamp(m.at), m.author_id, body));
    }
    out.push_str(&format!("\n{}:\n", l("report.label-log")));
    for e in cx.store.report_events(row.id).await? {
        if e.action == "refused" {
            continue;
        }
        out.push_str(&format!("[{}] {} {} {}\n", stamp(e.at), e.actor_id, e.action, e.detail));
    }
    Ok(out)
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
