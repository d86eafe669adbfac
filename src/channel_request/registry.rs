//! The register of approved channels: `/channels list`, `show`, `request` (the audit trail)
//! and `retire`, the half-yearly review by the responsible people (points 1.6 and 1.8), and
//! what happens when a responsible person leaves the server.

use crate::channel_request::approval::{self, Act, Refusal, Status, Who};
use crate::channel_request::ids::{RequestId, ReviewAnswer};
use crate::channel_request::workflow::{is_officer, reference, request_embed, status_text, timers};
use crate::channel_request::{Answer, Conversation, Script};
use crate::clock::{format_date, format_time};
use crate::core::errors::{HandlerResult, UserError};
use crate::core::ids::CustomId;
use crate::core::reply::clip;
use crate::core::{Actor, ButtonStyle, CommandInput, Component, Effect, Embed, Message, Outcome, Reply, Tone};
use crate::ctx::Ctx;
use crate::i18n::{t, Locale};
use crate::org::OrgSettings;
use crate::store::channels::{ChannelRequestRow, RequestChange};

fn conv(row: &ChannelRequestRow) -> Conversation {
    serde_json::from_str(&row.conversation).unwrap_or_default()
}

/// A text answer, or a choice by its label in `locale` (the platform's name, not its stored
/// value); a named "other" choice by the name given.
fn text_answer(c: &Conversation, step: &str, locale: Locale) -> String {
    match c.answers.get(step) {
        Some(Answer::Text(s)) => s.clone(),
        Some(Answer::Choice { value, other }) => other.clone().unwrap_or_else(|| {
            let option = Script::new_channel().step(step).and_then(|s| s.option(value));
            option.map_or_else(|| value.clone(), |o| o.label.get(locale).to_string())
        }),
        _ => String::new(),
    }
}

/// The responsible people (1.8) of a request.
pub fn responsible(c: &Conversation) -> Vec<u64> {
    match c.answers.get("responsible") {
        Some(Answer::People(p)) => p.clone(),
        _ => Vec::new(),
    }
}

/// `/channels <subcommand>`.
pub async fn command(cx: &Ctx<'_>, actor: &Actor, cmd: &CommandInput) -> HandlerResult<Outcome> {
    let guild = actor.guild_id.ok_or_else(|| UserError::new("common.guild-only"))?;
    let locale = actor.locale;
    match cmd.sub() {
        Some("list") => list(cx, guild, locale).await,
        Some(sub @ ("show" | "request" | "retire")) => {
            let r = cmd.str_option("reference").unwrap_or_default();
            let row = cx
                .store
                .channel_request_by_reference(r)
                .await?
                .filter(|row| row.guild_id == guild)
                .ok_or_else(|| UserError::new("registry.unknown-reference").arg("reference", clip(r, 30)))?;
            match sub {
                "show" => show(locale, &row),
                "request" => history(cx, actor, &row).await,
                _ => retire(cx, actor, row).await,
            }
        }
        _ => Err(UserError::new("common.unknown-command").into()),
    }
}

async fn list(cx: &Ctx<'_>, guild: u64, locale: Locale) -> HandlerResult<Outcome> {
    let rows = cx.store.channel_requests_in(guild, &["approved"]).await?;
    if rows.is_empty() {
        return Ok(Outcome::ephemeral(t(locale, "registry.empty", &[])));
    }
    let lines: Vec<String> = rows
        .iter()
        .map(|row| {
            let c = conv(row);
            let people: Vec<String> = responsible(&c).iter().map(|u| format!("<@{u}>")).collect();
            t(
                locale,
                "registry.line",
                &[
                    ("reference", &reference(row)),
                    ("platform", &clip(&text_answer(&c, "platform", locale), 40)),
                    ("name", &clip(&text_answer(&c, "name", locale), 80)),
                    ("unit", &clip(&text_answer(&c, "unit", locale), 80)),
                    ("people", &people.join(", ")),
                    ("by", &row.decided_by.map(|b| format!("<@{b}>")).unwrap_or_default()),
                    ("date", &row.decided_at.map(format_date).unwrap_or_default()),
                ],
            )
        })
        .collect();
    let pages = crate::guideline::render::paginate(&lines, 3900);
    let n = pages.len();
    let embeds: Vec<Embed> = pages
        .into_iter()
        .take(1)
        .map(|d| Embed {
            title: Some(t(locale, "registry.title", &[("count", &rows.len().to_string())])),
            description: Some(d),
            footer: (n > 1).then(|| t(locale, "registry.more", &[("pages", &n.to_string())])),
            tone: Some(Tone::Info),
            ..Embed::default()
        })
        .collect();
    Ok(Outcome::reply(Reply::Message(Message {
        content: None,
        embeds,
        components: Vec::new(),
        ephemeral: true,
        attachments: Vec::new(),
    })))
}

fn show(locale: Locale, row: &ChannelRequestRow) -> HandlerResult<Outcome> {
    if row.status != "approved" && row.status != "retired" {
        return Err(UserError::new("registry.not-approved")
            .arg("reference", reference(row))
            .arg("status", status_text(locale, &row.status))
            .into());
    }
    let mut e = request_embed(row, &conv(row), locale, "registry.show-title");
    let approved = t(
        locale,
        "registry.approved-by",
        &[
            ("by", &row.decided_by.map(|b| format!("<@{b}>")).unwrap_or_default()),
            ("date", &row.decided_at.map(format_date).unwrap_or_default()),
        ],
    );
    e.description = Some(match row.retired_at {
        Some(at) => format!("{approved}\n{}", t(locale, "registry.retired-at", &[("date", &format_date(at))])),
        None => approved,
    });
    Ok(Outcome::reply(Reply::Message(Message {
        content: None,
        embeds: vec![e],
        components: Vec::new(),
        ephemeral: true,
        attachments: Vec::new(),
    })))
}

/// `/channels request <ref>`: who did what and when, for the requester, the head, the officers.
/// An audit event in words (a key of prompts/messages/*/channel-flow.toml).
fn event_key(action: &str) -> &'static str {
    match action {
        "started" => "registry.event-started",
        "submitted" => "registry.event-submitted",
        "cancelled" => "registry.event-cancelled",
        "head-approved" => "registry.event-head-approved",
        "head-declined" => "registry.event-head-declined",
        "approved" => "registry.event-approved",
        "rejected" => "registry.event-rejected",
        "changes-requested" => "registry.event-changes-requested",
        "reminded" => "registry.event-reminded",
        "escalated" => "registry.event-escalated",
        "expired" => "registry.event-expired",
        "retired" => "registry.event-retired",
        "review-asked" => "registry.event-review-asked",
        "review-overdue" => "registry.event-review-overdue",
        "review-confirmed" => "registry.event-review-confirmed",
        "review-retire-suggested" => "registry.event-review-retire-suggested",
        "responsible-left" => "registry.event-responsible-left",
        _ => "common.unknown",
    }
}

/// What the history shows after an event: the reason a decider wrote, the step a reminder was
/// about, the person who left; never the internal words the trail keeps for the operator.
fn event_detail(locale: Locale, action: &str, detail: &str) -> String {
    let shown = match action {
        "head-declined" | "rejected" | "changes-requested" if !detail.is_empty() => {
            clip(&detail.replace('\n', " "), 300)
        }
        "reminded" if Status::parse(detail).is_some() => status_text(locale, detail),
        "responsible-left" => match detail.parse::<u64>() {
            Ok(user) => format!("<@{user}>"),
            Err(_) => return String::new(),
        },
        _ => return String::new(),
    };
    format!(": {shown}")
}

async fn history(cx: &Ctx<'_>, actor: &Actor, row: &ChannelRequestRow) -> HandlerResult<Outcome> {
    let locale = actor.locale;
    let involved = row.requester_id == actor.user_id || row.head_id == Some(actor.user_id);
    if !involved && !actor.can_manage_guild && !is_officer(cx, row.guild_id, actor).await? {
        tracing::warn!(request = row.id, user = actor.user_id, "refused the history of a request");
        return Err(UserError::new("registry.history-refused").into());
    }
    let events = cx.store.channel_events(row.id).await?;
    let lines: Vec<String> = events
        .iter()
        .map(|e| {
            let who = if e.actor_id == 0 { t(locale, "registry.the-bot", &[]) } else { format!("<@{}>", e.actor_id) };
            let action = t(locale, event_key(&e.action), &[]);
            let detail = event_detail(locale, &e.action, &e.detail);
            format!("`{}` {who} – {action}{detail}", format_time(e.at))
        })
        .collect();
    let page = crate::guideline::render::paginate(&lines, 3900).into_iter().next().unwrap_or_default();
    let embed = Embed {
        title: Some(t(locale, "registry.history-title", &[("reference", &reference(row))])),
        description: Some(format!(
            "{}\n\n{page}",
            t(locale, "registry.status", &[("status", &status_text(locale, &row.status))])
        )),
        tone: Some(Tone::Info),
        ..Embed::default()
    };
    Ok(Outcome::reply(Reply::Message(Message {
        content: None,
        embeds: vec![embed],
        components: Vec::new(),
        ephemeral: true,
        attachments: Vec::new(),
    })))
}

async fn retire(cx: &Ctx<'_>, actor: &Actor, row: ChannelRequestRow) -> HandlerResult<Outcome> {
    let who = Who { officer: is_officer(cx, row.guild_id, actor).await?, ..Who::default() };
    let to = match approval::decide(crate::channel_request::workflow::status_of(&row)?, who, Act::Retire) {
        Ok(t) => t.to,
        Err(Refusal::RetireRefused) => {
            tracing::warn!(request = row.id, user = actor.user_id, "refused retiring a channel");
            return Err(UserError::new("registry.retire-refused").into());
        }
        Err(_) => {
            return Err(UserError::new("registry.not-approved")
                .arg("reference", reference(&row))
                .arg("status", status_text(actor.locale, &row.status))
                .into())
        }
    };
    // The channel's responsible people and the officers hear of it.
    let c = conv(&row);
    let (r, by) = (reference(&row), format!("<@{}>", actor.user_id));
    let name = text_answer(&c, "name", Locale::Nn);
    let args = [("reference", r.as_str()), ("name", name.as_str()), ("by", by.as_str())];
    let mut effects = Vec::new();
    for person in responsible(&c).into_iter().filter(|p| *p != actor.user_id) {
        let l = cx.store.locale_of(person).await?;
        effects.push(Effect::dm(person, Message::text(t(l, "registry.told-retired", &args))));
    }
    effects.extend(
        tell_officers(cx, row.guild_id, "registry.told-retired", &args)
            .await?
            .into_iter()
            .filter(|e| !matches!(e, Effect::DirectMessage { user_id, .. } if *user_id == actor.user_id)),
    );
    let mut step = cx.step().await?;
    let now = step.now();
    let change =
        RequestChange { status: Some(to.as_str()), retired_by: Some(actor.user_id), ..RequestChange::default() };
    if !step.tx.update_channel_request(row.id, "approved", row.version, &change, now).await? {
        return Err(UserError::new("channel-flow.changed-meanwhile").into());
    }
    step.tx.log_channel_event(row.id, now, actor.user_id, "retired", "").await?;
    step.tx.cancel_timers(timers::REVIEW, row.id, now).await?;
    step.tx.cancel_timers(timers::REVIEW_OVERDUE, row.id, now).await?;
    let said = Outcome::ephemeral(t(actor.locale, "registry.retired", &[("reference", &reference(&row))]));
    step.commit(Outcome { effects, ..said }).await
}

/// Messages to the communications officers (the review channel, else each officer by DM).
async fn tell_officers(cx: &Ctx<'_>, guild: u64, key: &str, args: &[(&str, &str)]) -> HandlerResult<Vec<Effect>> {
    let settings = OrgSettings::load(cx.store, guild).await?;
    if let Some(channel) = settings.review_channel {
        return Ok(vec![Effect::post(channel, Message::text(t(Locale::Nn, key, args)))]);
    }
    let mut out = Vec::new();
    if let Some(role) = settings.communications_role {
        for m in cx.store.members_with_role(guild, role).await? {
            let l = cx.store.locale_of(m.user_id).await?;
            out.push(Effect::dm(m.user_id, Message::text(t(l, key, args))));
        }
    }
    Ok(out)
}

/// Runs the review timers of approved channels.
pub async fn timer(cx: &Ctx<'_>, kind: &str, id: i64) -> HandlerResult<Outcome> {
    let Some(row) = cx.store.channel_request(id).await? else { return Ok(Outcome::reply(Reply::Nothing)) };
    if row.status != "approved" {
        return Ok(Outcome::reply(Reply::Nothing));
    }
    let c = conv(&row);
    let r = reference(&row);
    match kind {
        timers::REVIEW => {
            let mut effects = Vec::new();
            for person in responsible(&c) {
                let l = cx.store.locale_of(person).await?;
                effects.push(Effect::dm(
                    person,
                    Message {
                        content: Some(t(
                            l,
                            "registry.review-question",
                            &[("reference", &r), ("name", &text_answer(&c, "name", l))],
                        )),
                        embeds: Vec::new(),
                        components: vec![vec![
                            Component::button(
                                RequestId::Review { request: id, answer: ReviewAnswer::Active }.format(),
                                t(l, "registry.still-active", &[]),
                                ButtonStyle::Success,
                            ),
                            Component::button(
                                RequestId::Review { request: id, answer: ReviewAnswer::Retire }.format(),
                                t(l, "registry.can-retire", &[]),
                                ButtonStyle::Danger,
                            ),
                        ]],
                        ephemeral: false,
                        attachments: Vec::new(),
                    },
                ));
            }
            let mut step = cx.step().await?;
            let now = step.now();
            step.tx.log_channel_event(id, now, 0, "review-asked", "").await?;
            step.tx.schedule(timers::REVIEW_OVERDUE, id, now + cx.timings.review_answer_ms, now).await?;
            step.commit(Outcome::with_effects(Reply::Nothing, effects)).await
        }
        timers::REVIEW_OVERDUE => {
            let effects = tell_officers(cx, row.guild_id, "registry.review-overdue", &[("reference", &r)]).await?;
            let mut step = cx.step().await?;
            step.tx.log_channel_event(id, step.now(), 0, "review-overdue", "").await?;
            step.commit(Outcome::with_effects(Reply::Nothing, effects)).await
        }
        _ => Ok(Outcome::reply(Reply::Nothing)),
    }
}

/// A review answer: `ncr:<id>:active` or `ncr:<id>:retire`.
pub async fn review_component(cx: &Ctx<'_>, actor: &Actor, id: i64, answer: ReviewAnswer) -> HandlerResult<Outcome> {
    let row = cx.store.channel_request(id).await?.ok_or_else(|| UserError::new("common.expired"))?;
    if !responsible(&conv(&row)).contains(&actor.user_id) {
        return Err(UserError::new("registry.not-responsible").into());
    }
    if row.status != "approved" {
        return Err(UserError::new("common.expired").into());
    }
    let r = reference(&row);
    let effects = match answer {
        ReviewAnswer::Active => Vec::new(),
        ReviewAnswer::Retire => {
            tell_officers(
                cx,
                row.guild_id,
                "registry.retire-suggested",
                &[("reference", &r), ("by", &format!("<@{}>", actor.user_id))],
            )
            .await?
        }
    };
    let mut step = cx.step().await?;
    let now = step.now();
    step.tx.cancel_timers(timers::REVIEW_OVERDUE, id, now).await?;
    match answer {
        ReviewAnswer::Active => {
            step.tx.log_channel_event(id, now, actor.user_id, "review-confirmed", "").await?;
            step.tx.cancel_timers(timers::REVIEW, id, now).await?;
            step.tx.schedule(timers::REVIEW, id, now + cx.timings.review_interval_ms, now).await?;
            step.commit(Outcome::reply(Reply::Update(Message::text(t(
                actor.locale,
                "registry.review-thanks",
                &[("reference", &r)],
            )))))
            .await
        }
        ReviewAnswer::Retire => {
            step.tx.log_channel_event(id, now, actor.user_id, "review-retire-suggested", "").await?;
            step.commit(Outcome::with_effects(
                Reply::Update(Message::text(t(actor.locale, "registry.retire-passed-on", &[("reference", &r)]))),
                effects,
            ))
            .await
        }
    }
}

/// A member left the server: the officers hear of every approved channel they were
/// responsible for.
pub async fn member_left(cx: &Ctx<'_>, guild: u64, user: u64) -> HandlerResult<Outcome> {
    let mut effects = Vec::new();
    let mut theirs = Vec::new();
    for row in cx.store.channel_requests_in(guild, &["approved"]).await? {
        if responsible(&conv(&row)).contains(&user) {
            effects.extend(
                tell_officers(
                    cx,
                    guild,
                    "registry.responsible-left",
                    &[("reference", &reference(&row)), ("user", &format!("<@{user}>"))],
                )
                .await?,
            );
            theirs.push(row.id);
        }
    }
    if theirs.is_empty() {
        return Ok(Outcome::reply(Reply::Nothing));
    }
    let mut step = cx.step().await?;
    for id in theirs {
        step.tx.log_channel_event(id, step.now(), 0, "responsible-left", &user.to_string()).await?;
    }
    step.commit(Outcome::with_effects(Reply::Nothing, effects)).await
}
