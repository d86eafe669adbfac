//! The `/report-threat` path: intake (police notice, privacy notice, form, evidence copied at
//! once), routing (line manager from the org register, an alternate instead, or a member picked
//! when the register has a gap), delivery by DM with an Acknowledge button, rerouting when the
//! DM fails or nobody acknowledges in time, follow-up messages, handling, export, deletion and
//! retention.
//!
//! Custom ids: [`ReportId`]. Statuses: `draft`, `sent`, `acknowledged`, `handled`,
//! `cancelled`, `deleted`. Timers: `rt.ack-timeout`, `rt.retention`. Logs carry ids only.

use tracing::{info, warn};

use crate::clock::{format_date, format_time};
use crate::core::errors::{HandlerResult, UserError};
use crate::core::ids::CustomId;
use crate::core::reply::{clip, limits};
use crate::core::{
    Actor, ButtonStyle, CommandInput, Component, Effect, Embed, EmbedField, Message, Modal, OptionValue, Outcome,
    Reply, SelectOption, TextInput, Tone,
};
use crate::crypto::sha256_hex;
use crate::ctx::Ctx;
use crate::i18n::{t, Locale};
use crate::store::reports::{EvidenceMeta, ReportChange, ReportRow};
use crate::threat_report::ids::{self, Action, Form, ReportId};
use crate::threat_report::{ReportContent, MAX_EVIDENCE_BYTES, MAX_ONGOING, MAX_WHAT, MAX_WHEN, MAX_WHERE};

/// Timer kinds.
pub mod timers {
    pub const ACK_TIMEOUT: &str = "rt.ack-timeout";
    pub const RETENTION: &str = "rt.retention";
}

/// Statuses in which the report is with a recipient.
const LIVE: [&str; 3] = ["sent", "acknowledged", "handled"];

async fn load(cx: &Ctx<'_>, id: i64) -> HandlerResult<ReportRow> {
    cx.store.report(id).await?.ok_or_else(|| UserError::new("common.expired").into())
}

fn reference(row: &ReportRow) -> String {
    row.reference.clone().unwrap_or_else(|| format!("#{}", row.id))
}

fn content_of(cx: &Ctx<'_>, row: &ReportRow) -> HandlerResult<ReportContent> {
    let Some(sealed) = &row.content else { return Ok(ReportContent::default()) };
    let json = cx.keys.open_str(sealed).map_err(|e| anyhow::anyhow!("report {}: {e}", row.id))?;
    serde_json::from_str(&json).map_err(|e| anyhow::anyhow!("report {} has unreadable content: {e}", row.id).into())
}

fn status_text(locale: Locale, status: &str) -> String {
    t(locale, &format!("report.status-{status}"), &[])
}

fn mention(user: u64) -> String {
    format!("<@{user}>")
}

/// Who may do what to a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Reporter,
    Recipient,
    Either,
}

/// Refuses anyone but the addressed people; the attempt is logged (ids only) and recorded.
async fn check(cx: &Ctx<'_>, actor: &Actor, row: &ReportRow, who: Who, action: &str) -> HandlerResult<()> {
    let reporter = row.reporter_id == actor.user_id;
    let recipient = row.recipient_id == Some(actor.user_id) && row.status != "draft";
    let ok = match who {
        Who::Reporter => reporter,
        Who::Recipient => recipient,
        Who::Either => reporter || recipient,
    };
    if !ok {
        warn!(report = row.id, user = actor.user_id, action, "refused access to a threat report");
        cx.store.log_report_event(row.id, cx.now(), actor.user_id, "refused", action).await?;
        return Err(UserError::new("report.not-yours").into());
    }
    Ok(())
}

// ----- intake -----

/// `/report-threat [evidence]`: stores a draft (with the evidence copied) and answers with the
/// police notice and the buttons to the privacy notice and the form.
pub async fn command(cx: &Ctx<'_>, actor: &Actor, cmd: &CommandInput) -> HandlerResult<Outcome> {
    let now = cx.now();
    let locale = actor.locale;
    let evidence = match cmd.option("evidence") {
        Some(OptionValue::Attachment { filename, content_type, size, data, .. }) => {
            let (sha, sealed, note) = match data {
                Some(bytes) if bytes.len() as u64 <= MAX_EVIDENCE_BYTES => {
                    (Some(sha256_hex(bytes)), Some(cx.keys.seal(bytes)), String::new())
                }
                Some(_) => (None, None, "too-large".to_string()),
                None if *size > MAX_EVIDENCE_BYTES => (None, None, "too-large".to_string()),
                None => (None, None, "download-failed".to_string()),
            };
            let meta = EvidenceMeta {
                filename: clip(filename, 200),
                content_type: content_type.clone(),
                size: i64::try_from(*size).unwrap_or(i64::MAX),
                sha256: sha,
                received_at: now,
                note,
            };
            Some((meta, sealed))
        }
        _ => None,
    };
    let (guild, manager) = match cx.store.manager_of(actor.guild_id, actor.user_id).await? {
        Some((g, m)) => (Some(g), Some(m)),
        None => (actor.guild_id.or(cx.store.a_guild_of(actor.user_id).await?), None),
    };
    let id =
        cx.store.create_report(guild, actor.user_id, evidence.as_ref().map(|(m, d)| (m, d.as_deref())), now).await?;
    let mut effects = Vec::new();
    if manager.is_none() {
        effects = gap_notices(cx, guild, actor.user_id).await?;
        cx.store.log_report_event(id, now, 0, "register-gap", &format!("admins:{}", effects.len())).await?;
    }
    info!(report = id, evidence = evidence.is_some(), "threat report started");
    let mut text = t(locale, "report.police", &[]);
    text.push_str("\n\n");
    text.push_str(&t(locale, "report.intro", &[]));
    if let Some((meta, _)) = &evidence {
        text.push_str("\n\n");
        text.push_str(&evidence_line(locale, meta));
    }
    let msg = Message {
        content: Some(text),
        embeds: Vec::new(),
        components: vec![vec![
            Component::button(ids::button(id, Action::Write), t(locale, "report.write", &[]), ButtonStyle::Primary),
            Component::button(
                ids::button(id, Action::Privacy),
                t(locale, "report.privacy-button", &[]),
                ButtonStyle::Secondary,
            ),
            Component::button(ids::button(id, Action::Cancel), t(locale, "report.cancel", &[]), ButtonStyle::Secondary),
        ]],
        ephemeral: true,
        attachments: Vec::new(),
    };
    Ok(Outcome::with_effects(Reply::Message(msg), effects))
}

/// The admins of a server are told that someone has no line manager on record (no content).
async fn gap_notices(cx: &Ctx<'_>, guild: Option<u64>, employee: u64) -> HandlerResult<Vec<Effect>> {
    let Some(guild) = guild else { return Ok(Vec::new()) };
    let mut admins: Vec<u64> = cx.store.settings(guild).await?.into_iter().map(|(_, _, by, _)| by).collect();
    admins.sort_unstable();
    admins.dedup();
    let mut effects = Vec::new();
    for admin in admins.into_iter().filter(|a| *a != employee && *a != 0) {
        let l = cx.store.locale_of(admin).await?;
        effects
            .push(Effect::dm(admin, Message::text(t(l, "report.register-gap", &[("employee", &mention(employee))]))));
    }
    Ok(effects)
}

fn evidence_line(locale: Locale, e: &EvidenceMeta) -> String {
    let key = match e.note.as_str() {
        "download-failed" => "report.evidence-failed",
        "too-large" => "report.evidence-too-large",
        _ => "report.evidence-stored",
    };
    t(
        locale,
        key,
        &[
            ("name", &e.filename),
            ("size", &e.size.to_string()),
            ("sha", e.sha256.as_deref().unwrap_or("-")),
            ("max", &(MAX_EVIDENCE_BYTES / 1024 / 1024).to_string()),
        ],
    )
}

fn report_modal(locale: Locale, id: i64, c: &ReportContent) -> Modal {
    let input = |cid: &str, key: &str, paragraph: bool, required: bool, max: u16, value: &str| TextInput {
        custom_id: cid.into(),
        label: clip(&t(locale, key, &[("max", &max.to_string())]), limits::TEXT_INPUT_LABEL),
        paragraph,
        required,
        min_length: None,
        max_length: Some(max),
        placeholder: Some(clip(&t(locale, &format!("{key}-hint"), &[]), limits::TEXT_INPUT_PLACEHOLDER)),
        value: (!value.is_empty()).then(|| clip(value, usize::from(max))),
    };
    Modal {
        custom_id: ReportId::Form { report: id, form: Form::Report }.format(),
        title: clip(&t(locale, "report.modal-title", &[]), limits::MODAL_TITLE),
        inputs: vec![
            input("what", "report.field-what", true, true, MAX_WHAT, &c.what),
            input("where", "report.field-where", true, false, MAX_WHERE, &c.place),
            input("when", "report.field-when", false, false, MAX_WHEN, &c.when),
            input("ongoing", "report.field-ongoing", false, false, MAX_ONGOING, &c.ongoing),
        ],
    }
}

fn reply_modal(locale: Locale, id: i64, form: Form) -> Modal {
    let form_id = ReportId::Form { report: id, form }.format();
    let form = form.as_str();
    let key = if form == "handle" { "report.handle-label" } else { "report.reply-label" };
    Modal {
        custom_id: form_id,
        title: clip(&t(locale, &format!("report.{form}-title"), &[]), limits::MODAL_TITLE),
        inputs: vec![TextInput {
            custom_id: "text".into(),
            label: clip(&t(locale, key, &[]), limits::TEXT_INPUT_LABEL),
            paragraph: true,
            required: form != "handle",
            min_length: None,
            max_length: Some(1800),
            placeholder: None,
            value: None,
        }],
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
    match action {
        Action::Privacy => Ok(Outcome::ephemeral(t(
            locale,
            "report.privacy",
            &[("days", &(cx.timings.report_retention_ms / crate::clock::DAY).to_string())],
        ))),
        Action::Write | Action::Edit => {
            check(cx, actor, &row, Who::Reporter, action_word).await?;
            require_status(&row, &["draft"], locale)?;
            Ok(Outcome::reply(Reply::Modal(report_modal(locale, id, &content_of(cx, &row)?))))
        }
        Action::Cancel => {
            check(cx, actor, &row, Who::Reporter, action_word).await?;
            require_status(&row, &["draft"], locale)?;
            let change = ReportChange { status: Some("cancelled"), ..ReportChange::default() };
            if cx.store.update_report(id, "draft", row.version, &change, cx.now()).await? {
                cx.store.wipe_report(id, row.version + 1, cx.now()).await?;
                cx.store.log_report_event(id, cx.now(), actor.user_id, "cancelled", "").await?;
            }
            Ok(Outcome::reply(Reply::Update(Message::ephemeral_text(t(locale, "report.cancelled", &[])))))
        }
        Action::Alternate | Action::Pick => {
            check(cx, actor, &row, Who::Reporter, action_word).await?;
            require_status(&row, &["draft"], locale)?;
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
            if !cx.store.update_report(id, "draft", row.version, &change, cx.now()).await? {
                return Err(UserError::new("report.changed-meanwhile").into());
            }
            cx.store.log_report_event(id, cx.now(), actor.user_id, action_word, &chosen.to_string()).await?;
            let row = load(cx, id).await?;
            Ok(Outcome::reply(Reply::Update(preview(cx, &row, locale).await?)))
        }
        Action::Send => {
            check(cx, actor, &row, Who::Reporter, action_word).await?;
            send(cx, actor, row).await
        }
        Action::Acknowledge => {
            check(cx, actor, &row, Who::Recipient, action_word).await?;
            acknowledge(cx, actor, row).await
        }
        Action::Reply => {
            check(cx, actor, &row, Who::Either, action_word).await?;
            require_status(&row, &LIVE, locale)?;
            Ok(Outcome::reply(Reply::Modal(reply_modal(locale, id, Form::Reply))))
        }
        Action::Handle => {
            check(cx, actor, &row, Who::Recipient, action_word).await?;
            require_status(&row, &["sent", "acknowledged"], locale)?;
            Ok(Outcome::reply(Reply::Modal(reply_modal(locale, id, Form::Handle))))
        }
        Action::Export => {
            check(cx, actor, &row, Who::Either, action_word).await?;
            require_status(&row, &LIVE, locale)?;
            export(cx, actor, &row).await
        }
        Action::Delete => {
            check(cx, actor, &row, Who::Reporter, action_word).await?;
            require_status(&row, &LIVE, locale)?;
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
        Action::DeleteConfirm => {
            check(cx, actor, &row, Who::Reporter, action_word).await?;
            require_status(&row, &LIVE, locale)?;
            delete(cx, row, actor.user_id, "reporter").await.map(|mut o| {
                o.reply = Reply::Update(Message::ephemeral_text(t(locale, "report.deleted", &[])));
                o
            })
        }
    }
}

fn require_status(row: &ReportRow, allowed: &[&str], locale: Locale) -> HandlerResult<()> {
    if allowed.contains(&row.status.as_str()) {
        Ok(())
    } else {
        Err(UserError::new("report.wrong-state")
            .arg("reference", reference(row))
            .arg("status", status_text(locale, &row.status))
            .into())
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
    let field =
        |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_string()).unwrap_or_default();
    match form {
        Form::Report => {
            check(cx, actor, &row, Who::Reporter, "form").await?;
            require_status(&row, &["draft"], locale)?;
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
            let (guild_manager, recipient_default) = match cx.store.manager_of(row.guild_id, row.reporter_id).await? {
                Some((_, m)) => (Some(m), Some(m)),
                None => (None, None),
            };
            if row.manager_id.is_none() {
                change.manager_id = guild_manager;
            }
            if row.recipient_id.is_none() {
                change.recipient_id = recipient_default;
            }
            if !cx.store.update_report(id, "draft", row.version, &change, cx.now()).await? {
                return Err(UserError::new("report.changed-meanwhile").into());
            }
            let row = load(cx, id).await?;
            if content.what.chars().count() < 3 {
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
                return Ok(Outcome::reply(Reply::Message(msg)));
            }
            Ok(Outcome::reply(Reply::Message(preview(cx, &row, locale).await?)))
        }
        Form::Reply => {
            check(cx, actor, &row, Who::Either, "reply").await?;
            require_status(&row, &LIVE, locale)?;
            let text = clip(&field("text"), 1800);
            if text.is_empty() {
                return Err(UserError::new("report.reply-empty").into());
            }
            let now = cx.now();
            cx.store.add_report_message(id, now, actor.user_id, &cx.keys.seal_str(&text)).await?;
            cx.store.log_report_event(id, now, actor.user_id, "follow-up", "").await?;
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
                effects.push(Effect::dm(other, msg));
            }
            info!(report = id, "follow-up relayed");
            Ok(Outcome::with_effects(
                Reply::Message(Message::ephemeral_text(t(locale, "report.reply-sent", &[]))),
                effects,
            ))
        }
        Form::Handle => {
            check(cx, actor, &row, Who::Recipient, "handle").await?;
            require_status(&row, &["sent", "acknowledged"], locale)?;
            let note = clip(&field("text"), 1800);
            let sealed = cx.keys.seal_str(&note);
            let now = cx.now();
            let change = ReportChange {
                status: Some("handled"),
                handled_note: Some(&sealed),
                handled: true,
                acknowledged: row.acknowledged_at.is_none(),
                ..ReportChange::default()
            };
            if !cx.store.update_report(id, &row.status, row.version, &change, now).await? {
                return Err(UserError::new("report.changed-meanwhile").into());
            }
            cx.store.log_report_event(id, now, actor.user_id, "handled", "").await?;
            cx.store.cancel_timers(timers::ACK_TIMEOUT, id, now).await?;
            cx.store.schedule(timers::RETENTION, id, now + cx.timings.report_retention_ms, now).await?;
            info!(report = id, "threat report handled");
            let l = cx.store.locale_of(row.reporter_id).await?;
            let mut told =
                t(l, "report.told-handled", &[("reference", &reference(&row)), ("by", &mention(actor.user_id))]);
            if !note.is_empty() {
                told.push_str("\n>>> ");
                told.push_str(&note);
            }
            Ok(Outcome::with_effects(
                Reply::Message(Message::ephemeral_text(t(
                    locale,
                    "report.you-handled",
                    &[("reference", &reference(&row))],
                ))),
                vec![Effect::dm(row.reporter_id, Message::text(clip(&told, limits::CONTENT)))],
            ))
        }
    }
}

/// What the reporter sees before sending: the recipient, the choices, the send button.
async fn preview(cx: &Ctx<'_>, row: &ReportRow, locale: Locale) -> HandlerResult<Message> {
    let id = row.id;
    let alternates: Vec<u64> = match row.guild_id {
        Some(g) => cx.store.alternates(g).await?.into_iter().filter(|a| *a != row.reporter_id).collect(),
        None => Vec::new(),
    };
    let mut components = Vec::new();
    let text = match row.recipient_id {
        Some(r) => {
            let key = if row.manager_id == Some(r) { "report.goes-to-manager" } else { "report.goes-to-alternate" };
            t(locale, key, &[("recipient", &mention(r))])
        }
        None => t(locale, "report.no-manager", &[]),
    };
    let mut options: Vec<SelectOption> = Vec::new();
    if let Some(m) = row.manager_id {
        options.push(SelectOption {
            value: m.to_string(),
            label: clip(&t(locale, "report.option-manager", &[("name", &name_of(cx, row.guild_id, m).await?)]), 100),
            description: None,
            default: row.recipient_id == Some(m),
        });
    }
    for a in alternates.iter().filter(|a| Some(**a) != row.manager_id).take(24) {
        options.push(SelectOption {
            value: a.to_string(),
            label: clip(&t(locale, "report.option-alternate", &[("name", &name_of(cx, row.guild_id, *a).await?)]), 100),
            description: None,
            default: row.recipient_id == Some(*a),
        });
    }
    if row.manager_id.is_none() {
        components.push(vec![Component::UserSelect {
            custom_id: ids::button(id, Action::Pick),
            placeholder: Some(clip(&t(locale, "report.pick-manager", &[]), limits::SELECT_PLACEHOLDER)),
            min_values: 1,
            max_values: 1,
        }]);
    }
    if options.len() > 1 || (row.manager_id.is_none() && !options.is_empty()) {
        components.push(vec![Component::StringSelect {
            custom_id: ids::button(id, Action::Alternate),
            placeholder: Some(clip(&t(locale, "report.choose-alternate", &[]), limits::SELECT_PLACEHOLDER)),
            options,
            min_values: 1,
            max_values: 1,
        }]);
    }
    let mut send =
        Component::button(ids::button(id, Action::Send), t(locale, "report.send", &[]), ButtonStyle::Success);
    if let Component::Button { disabled, .. } = &mut send {
        *disabled = row.recipient_id.is_none();
    }
    components.push(vec![
        send,
        Component::button(ids::button(id, Action::Edit), t(locale, "report.edit", &[]), ButtonStyle::Secondary),
        Component::button(ids::button(id, Action::Cancel), t(locale, "report.cancel", &[]), ButtonStyle::Secondary),
    ]);
    let content = content_of(cx, row)?;
    Ok(Message {
        content: Some(text),
        embeds: vec![report_embed(locale, row, &content)],
        components,
        ephemeral: true,
        attachments: Vec::new(),
    })
}

async fn name_of(cx: &Ctx<'_>, guild: Option<u64>, user: u64) -> HandlerResult<String> {
    let found = match guild {
        Some(g) => cx.store.member(g, user).await?.map(|m| m.display_name),
        None => None,
    };
    Ok(found.unwrap_or_else(|| user.to_string()))
}

/// The report as an embed (shown to the reporter and sent by DM to the recipient only).
fn report_embed(locale: Locale, row: &ReportRow, c: &ReportContent) -> Embed {
    let dash = || "-".to_string();
    let nonempty = |s: &str| if s.trim().is_empty() { dash() } else { clip(s, limits::EMBED_FIELD_VALUE) };
    let mut fields = vec![
        EmbedField { name: t(locale, "report.label-reporter", &[]), value: mention(row.reporter_id), inline: true },
        EmbedField { name: t(locale, "report.label-where", &[]), value: nonempty(&c.place), inline: false },
        EmbedField { name: t(locale, "report.label-when", &[]), value: nonempty(&c.when), inline: true },
        EmbedField { name: t(locale, "report.label-ongoing", &[]), value: nonempty(&c.ongoing), inline: true },
    ];
    if let Some(e) = &row.evidence {
        fields.push(EmbedField {
            name: t(locale, "report.label-evidence", &[]),
            value: clip(&evidence_line(locale, e), limits::EMBED_FIELD_VALUE),
            inline: false,
        });
    }
    // The description is at most 4000 characters; the fields stay under the 6000 in all.
    Embed {
        title: Some(t(locale, "report.title", &[("reference", &reference(row))])),
        description: Some(if c.what.is_empty() { dash() } else { clip(&c.what, 4000) }),
        fields,
        footer: Some(t(locale, "report.footer", &[])),
        tone: Some(Tone::Warning),
    }
}

fn recipient_message(locale: Locale, row: &ReportRow, c: &ReportContent, note: Option<String>) -> Message {
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

fn reporter_buttons(locale: Locale, id: i64) -> Vec<Component> {
    vec![
        Component::button(ids::button(id, Action::Reply), t(locale, "report.reply", &[]), ButtonStyle::Primary),
        Component::button(ids::button(id, Action::Export), t(locale, "report.export", &[]), ButtonStyle::Secondary),
        Component::button(ids::button(id, Action::Delete), t(locale, "report.delete", &[]), ButtonStyle::Danger),
    ]
}

/// The DM to a recipient, with the hook that reroutes when it cannot be delivered.
async fn deliver_to(cx: &Ctx<'_>, row: &ReportRow, recipient: u64, note_key: Option<&str>) -> HandlerResult<Effect> {
    let l = cx.store.locale_of(recipient).await?;
    let content = content_of(cx, row)?;
    let note = note_key.map(|k| t(l, k, &[]));
    let mut message = recipient_message(l, row, &content, note);
    message.attachments.extend(evidence_file(cx, row).await?);
    Ok(Effect::dm(recipient, message).on_failure(format!("rt:dm-failed:{}:{recipient}", row.id)))
}

/// The largest evidence file forwarded with the report (Discord takes 10 MiB a message from a
/// bot); a larger one stays stored, and the message names it with its hash.
const FORWARD_EVIDENCE_BYTES: usize = 8 * 1024 * 1024;

/// The evidence file, opened, to go with the report to its recipient.
async fn evidence_file(cx: &Ctx<'_>, row: &ReportRow) -> HandlerResult<Option<crate::core::reply::FileAttachment>> {
    let Some(meta) = &row.evidence else { return Ok(None) };
    let Some(sealed) = cx.store.report_evidence_data(row.id).await? else { return Ok(None) };
    let data = cx.keys.open(&sealed).map_err(|e| anyhow::anyhow!("report {} evidence: {e}", row.id))?;
    if data.len() > FORWARD_EVIDENCE_BYTES {
        return Ok(None);
    }
    Ok(Some(crate::core::reply::FileAttachment { filename: safe_filename(&meta.filename), data }))
}

/// A file name that is safe to send back: no path, no control characters, not empty.
fn safe_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let clean: String = base.chars().filter(|c| !c.is_control()).take(100).collect();
    if clean.trim().is_empty() {
        "evidence".into()
    } else {
        clean
    }
}

/// Sends a draft: stored first (reference, status), then the DM through the outbox.
async fn send(cx: &Ctx<'_>, actor: &Actor, row: ReportRow) -> HandlerResult<Outcome> {
    let locale = actor.locale;
    require_status(&row, &["draft"], locale)?;
    let Some(recipient) = row.recipient_id else { return Err(UserError::new("report.no-recipient").into()) };
    if content_of(cx, &row)?.what.chars().count() < 3 {
        return Err(UserError::new("report.what-needed").into());
    }
    let now = cx.now();
    let year = crate::clock::date_of(now).0;
    let n = cx.store.next_number(&format!("TRUGSMAL-{year}")).await?;
    let reference = format!("TRUGSMAL-{year}-{n:04}");
    let change =
        ReportChange { status: Some("sent"), reference: Some(&reference), sent: true, ..ReportChange::default() };
    if !cx.store.update_report(row.id, "draft", row.version, &change, now).await? {
        return Err(UserError::new("report.changed-meanwhile").into());
    }
    cx.store.log_report_event(row.id, now, actor.user_id, "sent", "").await?;
    cx.store.log_report_event(row.id, now, 0, "delivered-to", &recipient.to_string()).await?;
    cx.store.schedule(timers::ACK_TIMEOUT, row.id, now + cx.timings.report_ack_timeout_ms, now).await?;
    let row = load(cx, row.id).await?;
    info!(report = row.id, "threat report sent");
    let effect = deliver_to(cx, &row, recipient, None).await?;
    let receipt = Message {
        content: Some(t(locale, "report.receipt", &[("reference", &reference), ("recipient", &mention(recipient))])),
        embeds: Vec::new(),
        components: vec![reporter_buttons(locale, row.id)],
        ephemeral: true,
        attachments: Vec::new(),
    };
    Ok(Outcome::with_effects(Reply::Update(receipt), vec![effect]))
}

async fn acknowledge(cx: &Ctx<'_>, actor: &Actor, row: ReportRow) -> HandlerResult<Outcome> {
    let locale = actor.locale;
    if row.status != "sent" {
        return Ok(Outcome::ephemeral(t(locale, "report.already-acknowledged", &[("reference", &reference(&row))])));
    }
    let now = cx.now();
    let change = ReportChange { status: Some("acknowledged"), acknowledged: true, ..ReportChange::default() };
    if !cx.store.update_report(row.id, "sent", row.version, &change, now).await? {
        return Ok(Outcome::ephemeral(t(locale, "report.already-acknowledged", &[("reference", &reference(&row))])));
    }
    cx.store.log_report_event(row.id, now, actor.user_id, "acknowledged", "").await?;
    cx.store.cancel_timers(timers::ACK_TIMEOUT, row.id, now).await?;
    info!(report = row.id, "threat report acknowledged");
    let l = cx.store.locale_of(row.reporter_id).await?;
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
    Ok(Outcome::with_effects(
        Reply::Message(Message::ephemeral_text(t(
            locale,
            "report.you-acknowledged",
            &[("reference", &reference(&row))],
        ))),
        vec![Effect::dm(row.reporter_id, told)],
    ))
}

/// Sends the report to the next alternate recipient not yet tried; tells the reporter.
async fn reroute(cx: &Ctx<'_>, row: ReportRow, reason: &str) -> HandlerResult<Outcome> {
    let now = cx.now();
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
    let next = candidates.into_iter().find(|c| *c != row.reporter_id && !tried.contains(c));
    let l = cx.store.locale_of(row.reporter_id).await?;
    let Some(next) = next else {
        cx.store.log_report_event(row.id, now, 0, "no-alternate", reason).await?;
        warn!(report = row.id, reason, "a threat report has no further recipient");
        let key = if reason == "dm-failed" { "report.undeliverable" } else { "report.not-acknowledged" };
        return Ok(Outcome::with_effects(
            Reply::Nothing,
            vec![Effect::dm(row.reporter_id, Message::text(t(l, key, &[("reference", &reference(&row))])))],
        ));
    };
    let change = ReportChange { recipient_id: Some(next), ..ReportChange::default() };
    if !cx.store.update_report(row.id, "sent", row.version, &change, now).await? {
        return Ok(Outcome::reply(Reply::Nothing));
    }
    let from = row.recipient_id.map(|r| r.to_string()).unwrap_or_default();
    cx.store.log_report_event(row.id, now, 0, "rerouted", &format!("{reason} from:{from} to:{next}")).await?;
    cx.store.log_report_event(row.id, now, 0, "delivered-to", &next.to_string()).await?;
    cx.store.cancel_timers(timers::ACK_TIMEOUT, row.id, now).await?;
    cx.store.schedule(timers::ACK_TIMEOUT, row.id, now + cx.timings.report_ack_timeout_ms, now).await?;
    info!(report = row.id, reason, "threat report rerouted");
    crate::metrics::global().escalation("report-reroute");
    let row = load(cx, row.id).await?;
    let note = if reason == "dm-failed" { "report.note-rerouted-dm" } else { "report.note-rerouted-timeout" };
    let effect = deliver_to(cx, &row, next, Some(note)).await?;
    let key = if reason == "dm-failed" { "report.told-rerouted-dm" } else { "report.told-rerouted-timeout" };
    let told = Message::text(t(l, key, &[("reference", &reference(&row)), ("recipient", &mention(next))]));
    Ok(Outcome::with_effects(Reply::Nothing, vec![effect, Effect::dm(row.reporter_id, told)]))
}

/// Wipes a report's content, keeping the record; tells the recipient (without content).
async fn delete(cx: &Ctx<'_>, row: ReportRow, by: u64, why: &str) -> HandlerResult<Outcome> {
    let now = cx.now();
    if !cx.store.wipe_report(row.id, row.version, now).await? {
        return Err(UserError::new("report.changed-meanwhile").into());
    }
    cx.store.log_report_event(row.id, now, by, "deleted", why).await?;
    cx.store.cancel_timers(timers::ACK_TIMEOUT, row.id, now).await?;
    cx.store.cancel_timers(timers::RETENTION, row.id, now).await?;
    info!(report = row.id, why, "threat report content deleted");
    let mut effects = Vec::new();
    let notify: Vec<u64> =
        if why == "reporter" { row.recipient_id.into_iter().collect() } else { vec![row.reporter_id] };
    for user in notify {
        let l = cx.store.locale_of(user).await?;
        effects.push(Effect::dm(
            user,
            Message::text(t(l, &format!("report.told-deleted-{why}"), &[("reference", &reference(&row))])),
        ));
    }
    Ok(Outcome::with_effects(Reply::Nothing, effects))
}

/// Runs a `rt.*` timer.
pub async fn timer(cx: &Ctx<'_>, kind: &str, id: i64) -> HandlerResult<Outcome> {
    let Some(row) = cx.store.report(id).await? else { return Ok(Outcome::reply(Reply::Nothing)) };
    match kind {
        timers::ACK_TIMEOUT if row.status == "sent" => reroute(cx, row, "ack-timeout").await,
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
    cx.store.log_report_event(id, cx.now(), 0, "dm-failed", &recipient.to_string()).await?;
    reroute(cx, row, "dm-failed").await
}

// ----- listing and export -----

/// `/reports`: the reports the user sent and those addressed to them, with their state.
pub async fn list(cx: &Ctx<'_>, actor: &Actor) -> HandlerResult<Outcome> {
    let locale = actor.locale;
    let rows = cx.store.reports_of(actor.user_id).await?;
    if rows.is_empty() {
        return Ok(Outcome::ephemeral(t(locale, "report.list-empty", &[])));
    }
    let mut lines = Vec::new();
    let mut options = Vec::new();
    for r in rows.iter().take(limits::SELECT_OPTIONS) {
        let role = if r.reporter_id == actor.user_id { "report.list-mine" } else { "report.list-to-me" };
        let date = format_date(r.sent_at.unwrap_or(r.created_at));
        let line =
            format!("**{}** · {} · {} · {}", reference(r), date, status_text(locale, &r.status), t(locale, role, &[]));
        lines.push(line);
        if r.status != "deleted" {
            options.push(SelectOption {
                value: r.id.to_string(),
                label: clip(&format!("{} · {}", reference(r), status_text(locale, &r.status)), 100),
                description: Some(clip(&t(locale, role, &[]), 100)),
                default: false,
            });
        }
    }
    let mut components = Vec::new();
    if !options.is_empty() {
        components.push(vec![Component::StringSelect {
            custom_id: ReportId::List.format(),
            placeholder: Some(t(locale, "report.list-choose", &[])),
            options,
            min_values: 1,
            max_values: 1,
        }]);
    }
    let msg = Message {
        content: None,
        embeds: vec![Embed {
            title: Some(t(locale, "report.list-title", &[])),
            description: Some(clip(&lines.join("\n"), limits::EMBED_DESCRIPTION)),
            fields: Vec::new(),
            footer: None,
            tone: Some(Tone::Info),
        }],
        components,
        ephemeral: true,
        attachments: Vec::new(),
    };
    Ok(Outcome::reply(Reply::Message(msg)))
}

/// A report picked in `/reports`: its actions for this user.
pub async fn list_component(cx: &Ctx<'_>, actor: &Actor, values: &[String]) -> HandlerResult<Outcome> {
    let id: i64 = values.first().and_then(|v| v.parse().ok()).ok_or_else(|| UserError::new("common.expired"))?;
    let row = load(cx, id).await?;
    check(cx, actor, &row, Who::Either, "show").await?;
    let locale = actor.locale;
    let buttons = if row.reporter_id == actor.user_id {
        reporter_buttons(locale, id)
    } else {
        let mut b = vec![
            Component::button(ids::button(id, Action::Reply), t(locale, "report.reply", &[]), ButtonStyle::Primary),
            Component::button(ids::button(id, Action::Export), t(locale, "report.export", &[]), ButtonStyle::Secondary),
        ];
        if row.status == "sent" {
            b.insert(
                0,
                Component::button(
                    ids::button(id, Action::Acknowledge),
                    t(locale, "report.ack", &[]),
                    ButtonStyle::Success,
                ),
            );
        }
        if ["sent", "acknowledged"].contains(&row.status.as_str()) {
            b.push(Component::button(
                ids::button(id, Action::Handle),
                t(locale, "report.handle", &[]),
                ButtonStyle::Secondary,
            ));
        }
        b
    };
    let msg = Message {
        content: Some(t(
            locale,
            "report.show",
            &[("reference", &reference(&row)), ("status", &status_text(locale, &row.status))],
        )),
        embeds: Vec::new(),
        components: if LIVE.contains(&row.status.as_str()) { vec![buttons] } else { Vec::new() },
        ephemeral: true,
        attachments: Vec::new(),
    };
    Ok(Outcome::reply(Reply::Message(msg)))
}

/// A time in the export: date and time in Europe/Oslo, once.
fn stamp(ms: i64) -> String {
    format_time(ms)
}

/// The plain-text export: every fact, time, the evidence hash and the follow-up log.
pub async fn export_text(cx: &Ctx<'_>, row: &ReportRow, locale: Locale) -> HandlerResult<String> {
    let c = content_of(cx, row)?;
    let l = |k: &str| t(locale, &format!("report.label-{k}"), &[]);
    let mut out = String::new();
    let mut line = |k: &str, v: &str| {
        out.push_str(&format!("{}: {}\n", l(k), v));
    };
    line("reference", &reference(row));
    line("status", &status_text(locale, &row.status));
    line("reporter", &format!("{} (Discord id)", row.reporter_id));
    line("recipient", &row.recipient_id.map(|r| format!("{r} (Discord id)")).unwrap_or_default());
    line("created", &stamp(row.created_at));
    if let Some(s) = row.sent_at {
        line("sent", &stamp(s));
    }
    if let Some(s) = row.acknowledged_at {
        line("acknowledged", &stamp(s));
    }
    if let Some(s) = row.handled_at {
        line("handled", &stamp(s));
    }
    line("where", &c.place);
    line("when", &c.when);
    line("ongoing", &c.ongoing);
    if let Some(e) = &row.evidence {
        line(
            "evidence",
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
    out.push_str(&format!("\n{}:\n{}\n", l("what"), c.what));
    if let Some(note) = &row.handled_note {
        let note = cx.keys.open_str(note).map_err(|e| anyhow::anyhow!("report {}: {e}", row.id))?;
        out.push_str(&format!("\n{}:\n{}\n", l("note"), note));
    }
    out.push_str(&format!("\n{}:\n", l("follow-ups")));
    for m in cx.store.report_messages(row.id).await? {
        let body = match &m.body {
            Some(b) => cx.keys.open_str(b).map_err(|e| anyhow::anyhow!("report {}: {e}", row.id))?,
            None => String::new(),
        };
        out.push_str(&format!("[{}] {}: {}\n", stamp(m.at), m.author_id, body));
    }
    out.push_str(&format!("\n{}:\n", l("log")));
    for e in cx.store.report_events(row.id).await? {
        if e.action == "refused" {
            continue;
        }
        out.push_str(&format!("[{}] {} {} {}\n", stamp(e.at), e.actor_id, e.action, e.detail));
    }
    Ok(out)
}

/// Sends the export by DM, as a text file, to whoever asked (the reporter or the recipient).
async fn export(cx: &Ctx<'_>, actor: &Actor, row: &ReportRow) -> HandlerResult<Outcome> {
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
    cx.store.log_report_event(row.id, cx.now(), actor.user_id, "exported", "").await?;
    Ok(Outcome::with_effects(Reply::Message(Message::ephemeral_text(t(locale, "report.export-sent", &[]))), effects))
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
