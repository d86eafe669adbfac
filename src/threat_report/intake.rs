//! `/report-threat` intake: the police notice and the draft (evidence copied at once), the
//! admins told of a gap in the register, the form, and the preview before sending.

use tracing::info;

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
use crate::store::reports::{EvidenceMeta, ReportRow};
use crate::threat_report::ids::{self, Action, Form, ReportId};
use crate::threat_report::{ReportContent, MAX_EVIDENCE_BYTES, MAX_ONGOING, MAX_WHAT, MAX_WHEN, MAX_WHERE};

use super::workflow::*;

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
    // The register is that of the server the report is started in; in a DM, that of the one
    // server the reporter belongs to (with several, the reporter starts it in the right one).
    let guild = match actor.guild_id {
        Some(g) => Some(g),
        None => match cx.store.guilds_of(actor.user_id).await?.as_slice() {
            [] => None,
            [g] => Some(*g),
            _ => return Err(UserError::new("report.which-server").into()),
        },
    };
    let manager = match guild {
        Some(g) => cx.store.manager_of(g, actor.user_id).await?.map(|(_, m)| m),
        None => None,
    };
    // Nobody is told that this person opened the form: its timing alone would say who is
    // thinking of reporting. Admins see the register's gaps in `/setup managers`.
    let effects: Vec<Effect> = Vec::new();
    let mut step = cx.step().await?;
    let id =
        step.tx.create_report(guild, actor.user_id, evidence.as_ref().map(|(m, d)| (m, d.as_deref())), now).await?;
    if manager.is_none() {
        step.tx.log_report_event(id, now, 0, "register-gap", "").await?;
    }
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
    let outcome = step.commit(Outcome::with_effects(Reply::Message(msg), effects)).await?;
    info!(report = id, evidence = evidence.is_some(), "threat report started");
    Ok(outcome)
}

pub(super) fn evidence_line(locale: Locale, e: &EvidenceMeta) -> String {
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

pub(super) fn report_modal(locale: Locale, id: i64, c: &ReportContent) -> Modal {
    let input =
        |cid: &str, (key, hint): (&str, &str), paragraph: bool, required: bool, max: u16, value: &str| TextInput {
            custom_id: cid.into(),
            label: clip(&t(locale, key, &[("max", &max.to_string())]), limits::TEXT_INPUT_LABEL),
            paragraph,
            required,
            min_length: None,
            max_length: Some(max),
            placeholder: Some(clip(&t(locale, hint, &[]), limits::TEXT_INPUT_PLACEHOLDER)),
            value: (!value.is_empty()).then(|| clip(value, usize::from(max))),
        };
    Modal {
        custom_id: ReportId::Form { report: id, form: Form::Report }.format(),
        title: clip(&t(locale, "report.modal-title", &[]), limits::MODAL_TITLE),
        inputs: vec![
            input("what", ("report.field-what", "report.field-what-hint"), true, true, MAX_WHAT, &c.what),
            input("where", ("report.field-where", "report.field-where-hint"), true, false, MAX_WHERE, &c.place),
            input("when", ("report.field-when", "report.field-when-hint"), false, false, MAX_WHEN, &c.when),
            input(
                "ongoing",
                ("report.field-ongoing", "report.field-ongoing-hint"),
                false,
                false,
                MAX_ONGOING,
                &c.ongoing,
            ),
        ],
    }
}

/// What the reporter sees before sending: the recipient, the choices, the send button.
pub(super) async fn preview(cx: &Ctx<'_>, row: &ReportRow, locale: Locale) -> HandlerResult<Message> {
    let id = row.id;
    let alternates: Vec<u64> = match row.guild_id {
        Some(g) => cx.store.alternates(g).await?.into_iter().filter(|a| *a != row.reporter_id).collect(),
        None => Vec::new(),
    };
    let mut components = Vec::new();
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
    // «vel ein annan mottakar under» only when the menu of other recipients follows.
    let menu = options.len() > 1 || (row.manager_id.is_none() && !options.is_empty());
    let text = match row.recipient_id {
        Some(r) if row.manager_id == Some(r) && !menu => {
            t(locale, "report.goes-to-manager-only", &[("recipient", &mention(r))])
        }
        Some(r) => {
            let key = if row.manager_id == Some(r) { "report.goes-to-manager" } else { "report.goes-to-alternate" };
            t(locale, key, &[("recipient", &mention(r))])
        }
        None => t(locale, "report.no-manager", &[]),
    };
    if row.manager_id.is_none() {
        components.push(vec![Component::UserSelect {
            custom_id: ids::button(id, Action::Pick),
            placeholder: Some(clip(&t(locale, "report.pick-manager", &[]), limits::SELECT_PLACEHOLDER)),
            min_values: 1,
            max_values: 1,
        }]);
    }
    if menu {
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

pub(super) async fn name_of(cx: &Ctx<'_>, guild: Option<u64>, user: u64) -> HandlerResult<String> {
    let found = match guild {
        Some(g) => cx.store.member(g, user).await?.map(|m| m.display_name),
        None => None,
    };
    Ok(found.unwrap_or_else(|| user.to_string()))
}

/// The report as an embed (shown to the reporter and sent by DM to the recipient only).
pub(super) fn report_embed(locale: Locale, row: &ReportRow, c: &ReportContent) -> Embed {
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
