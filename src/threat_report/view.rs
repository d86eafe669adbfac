//! `/reports`: the reports a user sent and those addressed to them, and their actions.

use crate::clock::format_date;
use crate::core::errors::{HandlerResult, UserError};
use crate::core::ids::CustomId;
use crate::core::reply::{clip, limits};
use crate::core::{Actor, ButtonStyle, Component, Embed, Message, Outcome, Reply, SelectOption, Tone};
use crate::ctx::Ctx;
use crate::i18n::{t, Locale};
use crate::threat_report::decide::Asked;
use crate::threat_report::ids::{self, Action, ReportId};

use super::workflow::*;

pub(super) fn reporter_buttons(locale: Locale, id: i64) -> Vec<Component> {
    vec![
        Component::button(ids::button(id, Action::Reply), t(locale, "report.reply", &[]), ButtonStyle::Primary),
        Component::button(ids::button(id, Action::Export), t(locale, "report.export", &[]), ButtonStyle::Secondary),
        Component::button(ids::button(id, Action::Delete), t(locale, "report.delete", &[]), ButtonStyle::Danger),
    ]
}

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
    allow(cx, actor, &row, Asked::Show).await?;
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
