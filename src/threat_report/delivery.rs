//! Delivery: sending a report to its recipient by DM, acknowledging it, rerouting it to an
//! alternate when the DM fails or nobody acknowledges in time, deletion and retention.

use tracing::{info, warn};

use crate::core::errors::{HandlerResult, UserError};
use crate::core::reply::{clip, limits};
use crate::core::{Actor, ButtonStyle, Component, Effect, Message, Outcome, Reply};
use crate::ctx::Ctx;
use crate::i18n::{t, Locale};
use crate::store::reports::{ReportChange, ReportRow};
use crate::threat_report::decide::next_recipient;
use crate::threat_report::ids::{self, Action};
use crate::threat_report::ReportContent;

use super::workflow::*;
use super::{intake::*, view::*};

pub(super) fn recipient_message(locale: Locale, row: &ReportRow, c: &ReportContent, note: Option<String>) -> Message {
    let id = row.id;
    let mut text =
        t(locale, "report.to-recipient", &[("reporter", &mention(row.reporter_id)), ("reference", &reference(row))]);
    if let Some(n) = note {
        text.push_str("\n\n");
        text.push_str(&n);
    }
    let mut embed = report_embed(locale, row, c);
    // Keep the whole message within 6000 characters of embed text.
    let used: usize = embed.fields.iter().map(|f| f.name.chars().count() + f.value.chars().count()).sum::<usize>()
        + embed.title.as_deref().map_or(0, |s| s.chars().count())
        + embed.footer.as_deref().map_or(0, |s| s.chars().count());
    if let Some(d) = &mut embed.description {
        *d = clip(d, limits::EMBED_TOTAL.saturating_sub(used + 10).min(4000));
    }
    Message {
        content: Some(clip(&text, limits::CONTENT)),
        embeds: vec![embed],
        components: vec![vec![
            Component::button(ids::button(id, Action::Acknowledge), t(locale, "report.ack", &[]), ButtonStyle::Success),
            Component::button(ids::button(id, Action::Reply), t(locale, "report.reply", &[]), ButtonStyle::Primary),
            Component::button(ids::button(id, Action::Handle), t(locale, "report.handle", &[]), ButtonStyle::Secondary),
            Component::button(ids::button(id, Action::Export), t(locale, "report.export", &[]), ButtonStyle::Secondary),
        ]],
        ephemeral: false,
        attachments: Vec::new(),
    }
}

/// What the DM to a recipient needs from the store: their language and the evidence file.
pub(super) struct Delivery {
    recipient: u64,
    locale: Locale,
    file: Option<crate::core::reply::FileAttachment>,
}

pub(super) async fn delivery(cx: &Ctx<'_>, row: &ReportRow, recipient: u64) -> HandlerResult<Delivery> {
    Ok(Delivery { recipient, locale: cx.store.locale_of(recipient).await?, file: evidence_file(cx, row).await? })
}

/// The DM to a recipient, with the hook that reroutes when it cannot be delivered.
pub(super) fn deliver_to(cx: &Ctx<'_>, row: &ReportRow, d: Delivery, note_key: Option<&str>) -> HandlerResult<Effect> {
    let content = content_of(cx, row)?;
    let note = note_key.map(|k| t(d.locale, k, &[]));
    let mut message = recipient_message(d.locale, row, &content, note);
    message.attachments.extend(d.file);
    Ok(Effect::dm(d.recipient, message).on_failure(format!("rt:dm-failed:{}:{}", row.id, d.recipient)))
}

/// The largest evidence file forwarded with the report (Discord takes 10 MiB a message from a
/// bot); a larger one stays stored, and the message names it with its hash.
pub(super) const FORWARD_EVIDENCE_BYTES: usize = 8 * 1024 * 1024;

/// The evidence file, opened, to go with the report to its recipient.
pub(super) async fn evidence_file(
    cx: &Ctx<'_>,
    row: &ReportRow,
) -> HandlerResult<Option<crate::core::reply::FileAttachment>> {
    let Some(meta) = &row.evidence else { return Ok(None) };
    let Some(sealed) = cx.store.report_evidence_data(row.id).await? else { return Ok(None) };
    let data = cx.keys.open(&sealed).map_err(|e| anyhow::anyhow!("report {} evidence: {e}", row.id))?;
    if data.len() > FORWARD_EVIDENCE_BYTES {
        return Ok(None);
    }
    Ok(Some(crate::core::reply::FileAttachment { filename: safe_filename(&meta.filename), data }))
}

/// A file name that is safe to send back: no path, no control characters, not empty.
pub(super) fn safe_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let clean: String = base.chars().filter(|c| !c.is_control()).take(100).collect();
    if clean.trim().is_empty() {
        "evidence".into()
    } else {
        clean
    }
}

/// Sends a draft: stored first (reference, status), then the DM through the outbox.
pub(super) async fn send(cx: &Ctx<'_>, actor: &Actor, row: ReportRow) -> HandlerResult<Outcome> {
    let locale = actor.locale;
    let Some(recipient) = row.recipient_id else { return Err(UserError::new("report.no-recipient").into()) };
    if content_of(cx, &row)?.what.chars().count() < 3 {
        return Err(UserError::new("report.what-needed").into());
    }
    let parts = delivery(cx, &row, recipient).await?;
    // Status, reference, audit, the acknowledgement timer and the recipient's DM: one step.
    let mut step = cx.step().await?;
    let now = step.now();
    let year = crate::clock::date_of(now).0;
    let n = step.tx.next_number(&format!("TRUGSMAL-{year}")).await?;
    let reference = format!("TRUGSMAL-{year}-{n:04}");
    let change =
        ReportChange { status: Some("sent"), reference: Some(&reference), sent: true, ..ReportChange::default() };
    if !step.tx.update_report(row.id, "draft", row.version, &change, now).await? {
        return Err(UserError::new("report.changed-meanwhile").into());
    }
    step.tx.log_report_event(row.id, now, actor.user_id, "sent", "").await?;
    step.tx.log_report_event(row.id, now, 0, "delivered-to", &recipient.to_string()).await?;
    step.tx.schedule(timers::ACK_TIMEOUT, row.id, now + cx.timings.report_ack_timeout_ms, now).await?;
    let row = ReportRow {
        status: "sent".into(),
        reference: Some(reference.clone()),
        sent_at: Some(now),
        version: row.version + 1,
        ..row
    };
    let effect = deliver_to(cx, &row, parts, None)?;
    let receipt = Message {
        content: Some(t(locale, "report.receipt", &[("reference", &reference), ("recipient", &mention(recipient))])),
        embeds: Vec::new(),
        components: vec![reporter_buttons(locale, row.id)],
        ephemeral: true,
        attachments: Vec::new(),
    };
    let outcome = step.commit(Outcome::with_effects(Reply::Update(receipt), vec![effect])).await?;
    info!(report = row.id, "threat report sent");
    Ok(outcome)
}

pub(super) async fn acknowledge(cx: &Ctx<'_>, actor: &Actor, row: ReportRow) -> HandlerResult<Outcome> {
    let locale = actor.locale;
    if row.status != "sent" {
        return Ok(Outcome::ephemeral(t(locale, "report.already-acknowledged", &[("reference", &reference(&row))])));
    }
    let l = cx.store.locale_of(row.reporter_id).await?;
    let mut step = cx.step().await?;
    let now = step.now();
    let change = ReportChange { status: Some("acknowledged"), acknowledged: true, ..ReportChange::default() };
    if !step.tx.update_report(row.id, "sent", row.version, &change, now).await? {
        return Ok(Outcome::ephemeral(t(locale, "report.already-acknowledged", &[("reference", &reference(&row))])));
    }
    step.tx.log_report_event(row.id, now, actor.user_id, "acknowledged", "").await?;
    step.tx.cancel_timers(timers::ACK_TIMEOUT, row.id, now).await?;
    let told = Message {
        content: Some(t(
            l,
            "report.told-acknowledged",
            &[("reference", &reference(&row)), ("by", &mention(actor.user_id))],
        )),
        embeds: Vec::new(),
        components: vec![reporter_buttons(l, row.id)],
        ephemeral: false,
        attachments: Vec::new(),
    };
    let outcome = step
        .commit(Outcome::with_effects(
            Reply::Message(Message::ephemeral_text(t(
                locale,
                "report.you-acknowledged",
                &[("reference", &reference(&row))],
            ))),
            vec![Effect::dm(row.reporter_id, told)],
        ))
        .await?;
    info!(report = row.id, "threat report acknowledged");
    Ok(outcome)
}

/// Sends the report to the next alternate recipient not yet tried; tells the reporter. When the
/// DM to `failed` could not be delivered, that is recorded in the same step.
pub(super) async fn reroute(cx: &Ctx<'_>, row: ReportRow, reason: &str, failed: Option<u64>) -> HandlerResult<Outcome> {
    let tried: Vec<u64> = cx
        .store
        .report_events(row.id)
        .await?
        .into_iter()
        .filter(|e| e.action == "delivered-to")
        .filter_map(|e| e.detail.parse().ok())
        .collect();
    let candidates = match row.guild_id {
        Some(g) => cx.store.alternates(g).await?,
        None => Vec::new(),
    };
    let next = next_recipient(&candidates, row.reporter_id, row.manager_id, &tried);
    let l = cx.store.locale_of(row.reporter_id).await?;
    let parts = match next {
        Some(next) => Some(delivery(cx, &row, next).await?),
        None => None,
    };
    let mut step = cx.step().await?;
    let now = step.now();
    if let Some(failed) = failed {
        step.tx.log_report_event(row.id, now, 0, "dm-failed", &failed.to_string()).await?;
    }
    let (Some(next), Some(parts)) = (next, parts) else {
        step.tx.log_report_event(row.id, now, 0, "no-alternate", reason).await?;
        warn!(report = row.id, reason, "a threat report has no further recipient");
        let key = if reason == "dm-failed" { "report.undeliverable" } else { "report.not-acknowledged" };
        return step
            .commit(Outcome::with_effects(
                Reply::Nothing,
                vec![Effect::dm(row.reporter_id, Message::text(t(l, key, &[("reference", &reference(&row))])))],
            ))
            .await;
    };
    let change = ReportChange { recipient_id: Some(next), ..ReportChange::default() };
    if !step.tx.update_report(row.id, "sent", row.version, &change, now).await? {
        return Ok(Outcome::reply(Reply::Nothing));
    }
    let from = row.recipient_id.map(|r| r.to_string()).unwrap_or_default();
    step.tx.log_report_event(row.id, now, 0, "rerouted", &format!("{reason} from:{from} to:{next}")).await?;
    step.tx.log_report_event(row.id, now, 0, "delivered-to", &next.to_string()).await?;
    step.tx.cancel_timers(timers::ACK_TIMEOUT, row.id, now).await?;
    step.tx.schedule(timers::ACK_TIMEOUT, row.id, now + cx.timings.report_ack_timeout_ms, now).await?;
    let row = ReportRow { recipient_id: Some(next), version: row.version + 1, ..row };
    let note = if reason == "dm-failed" { "report.note-rerouted-dm" } else { "report.note-rerouted-timeout" };
    let effect = deliver_to(cx, &row, parts, Some(note))?;
    let key = if reason == "dm-failed" { "report.told-rerouted-dm" } else { "report.told-rerouted-timeout" };
    let told = Message::text(t(l, key, &[("reference", &reference(&row)), ("recipient", &mention(next))]));
    let outcome =
        step.commit(Outcome::with_effects(Reply::Nothing, vec![effect, Effect::dm(row.reporter_id, told)])).await?;
    info!(report = row.id, reason, "threat report rerouted");
    crate::metrics::global().escalation("report-reroute");
    Ok(outcome)
}

/// Wipes a report's content, keeping the record; tells the recipient (without content).
pub(super) async fn delete(cx: &Ctx<'_>, row: ReportRow, by: u64, why: &str) -> HandlerResult<Outcome> {
    let mut effects = Vec::new();
    let notify: Vec<u64> =
        if why == "reporter" { row.recipient_id.into_iter().collect() } else { vec![row.reporter_id] };
    for user in notify {
        let l = cx.store.locale_of(user).await?;
        effects.push(Effect::dm(
            user,
            Message::text(t(
                l,
                if why == "reporter" { "report.told-deleted-reporter" } else { "report.told-deleted-retention" },
                &[("reference", &reference(&row))],
            )),
        ));
    }
    let mut step = cx.step().await?;
    let now = step.now();
    if !step.tx.wipe_report(row.id, row.version, now).await? {
        return Err(UserError::new("report.changed-meanwhile").into());
    }
    step.tx.log_report_event(row.id, now, by, "deleted", why).await?;
    // Messages of this report still waiting in the outbox (the report to its recipient, a
    // follow-up) never go out.
    step.tx.cancel_queued(&format!("rt:dm-failed:{}:", row.id), now).await?;
    step.tx.cancel_queued(&format!("rt:follow-up:{}:", row.id), now).await?;
    step.tx.cancel_timers(timers::ACK_TIMEOUT, row.id, now).await?;
    step.tx.cancel_timers(timers::RETENTION, row.id, now).await?;
    let outcome = step.commit(Outcome::with_effects(Reply::Nothing, effects)).await?;
    info!(report = row.id, why, "threat report content deleted");
    Ok(outcome)
}

/// Runs a `rt.*` timer.
pub async fn timer(cx: &Ctx<'_>, kind: &str, id: i64) -> HandlerResult<Outcome> {
    let Some(row) = cx.store.report(id).await? else { return Ok(Outcome::reply(Reply::Nothing)) };
    match kind {
        timers::ACK_TIMEOUT if row.status == "sent" => reroute(cx, row, "ack-timeout", None).await,
        timers::RETENTION if row.status == "handled" => delete(cx, row, 0, "retention").await,
        _ => Ok(Outcome::reply(Reply::Nothing)),
    }
}

/// A delivery hook `rt:dm-failed:<id>:<recipient>`: the DM to a recipient could not be sent.
pub async fn delivery_failed(cx: &Ctx<'_>, hook: &str) -> HandlerResult<Outcome> {
    let parts: Vec<&str> = hook.split(':').collect();
    let ["rt", "dm-failed", id, recipient] = parts.as_slice() else { return Ok(Outcome::reply(Reply::Nothing)) };
    let id: i64 = id.parse().map_err(anyhow::Error::from)?;
    let recipient: u64 = recipient.parse().map_err(anyhow::Error::from)?;
    let row = load(cx, id).await?;
    if row.status != "sent" || row.recipient_id != Some(recipient) {
        return Ok(Outcome::reply(Reply::Nothing));
    }
    reroute(cx, row, "dm-failed", Some(recipient)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_file_names_are_made_safe() {
        assert_eq!(safe_filename("skjermbilete.png"), "skjermbilete.png");
        assert_eq!(safe_filename("../../etc/passwd"), "passwd");
        assert_eq!(safe_filename("C:\\x\\bilete.jpg"), "bilete.jpg");
        assert_eq!(safe_filename("a\u{0}b\nc.txt"), "abc.txt");
        assert_eq!(safe_filename("   "), "evidence");
    }
}
