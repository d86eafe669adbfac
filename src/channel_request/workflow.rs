//! `/new-channel` around the conversation: starting and resuming it in a DM, saving every step,
//! submitting, the department head's and the communications officers' decisions (points 1.7 to
//! 1.11), reminders, escalations and expiry as timers.
//!
//! Custom ids: [`RequestId`].
//! Statuses: `draft`, `changes_requested`, `awaiting_head`, `awaiting_officer`, `approved`,
//! `declined`, `rejected`, `cancelled`, `expired`, `retired`.

use tracing::{info, warn};

use crate::channel_request::approval::{self, Act, Refusal, Status, Transition, Who};
use crate::channel_request::ids::{self, Action, Decision, RequestId};
use crate::channel_request::{
    render, summary_fields, Answer, Conversation, Event, Progress, Script, NEEDS_PEOPLE_LOOKUP,
};
use crate::clock::{add_working_days, date_of, format_date};
use crate::core::errors::{HandlerResult, UserError};
use crate::core::ids::CustomId;
use crate::core::{
    Actor, ButtonStyle, Component, Effect, Embed, EmbedField, Message, Modal, Outcome, Reply, TextInput, Tone,
};
use crate::ctx::{Ctx, Step};
use crate::i18n::{t, Locale};
use crate::org::OrgSettings;
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

fn script() -> &'static Script {
    Script::new_channel()
}

fn conversation_of(row: &ChannelRequestRow) -> HandlerResult<Conversation> {
    serde_json::from_str(&row.conversation)
        .map_err(|e| anyhow::anyhow!("request {} has unreadable state: {e}", row.id).into())
}

async fn load(cx: &Ctx<'_>, id: i64) -> HandlerResult<ChannelRequestRow> {
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
        let step = conv.step.clone().unwrap_or_else(|| t(locale, "channel-flow.at-summary", &[]));
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
async fn create(mut step: Step<'_>, actor: &Actor, guild: u64) -> HandlerResult<Outcome> {
    let conv = Conversation::start();
    let json = serde_json::to_string(&conv).map_err(anyhow::Error::from)?;
    let id = step.tx.create_channel_request(guild, actor.user_id, &json, step.now()).await?;
    schedule_idle(&mut step, id).await?;
    let outcome = step.commit(open_in_dm(actor, id, &conv)).await?;
    info!(request = id, "channel request started");
    Ok(outcome)
}

/// The ephemeral "look in your DMs" answer plus the DM with the current question.
fn open_in_dm(actor: &Actor, id: i64, conv: &Conversation) -> Outcome {
    let question = render(script(), conv, actor.locale, id);
    Outcome::with_effects(
        Reply::Message(Message::ephemeral_text(t(actor.locale, "channel-flow.dm-sent", &[]))),
        vec![Effect::dm(actor.user_id, question).on_failure(format!("nc:dm-failed:{id}:{}", actor.locale.code()))],
    )
}

async fn schedule_idle(step: &mut Step<'_>, id: i64) -> HandlerResult<()> {
    let now = step.now();
    let (remind, expire) = (step.timings().conversation_reminder_ms, step.timings().conversation_expiry_ms);
    cancel_idle(step, id).await?;
    step.tx.schedule(timers::REMIND, id, now + remind, now).await?;
    step.tx.schedule(timers::EXPIRE, id, now + expire, now).await?;
    Ok(())
}

async fn cancel_idle(step: &mut Step<'_>, id: i64) -> HandlerResult<()> {
    let now = step.now();
    step.tx.cancel_timers(timers::REMIND, id, now).await?;
    step.tx.cancel_timers(timers::EXPIRE, id, now).await?;
    Ok(())
}

async fn schedule_approval(step: &mut Step<'_>, id: i64) -> HandlerResult<()> {
    let now = step.now();
    cancel_approval(step, id).await?;
    let remind = add_working_days(now, step.timings().approval_reminder_working_days);
    let escalate = add_working_days(remind, step.timings().approval_escalation_working_days);
    step.tx.schedule(timers::APPROVAL_REMIND, id, remind, now).await?;
    step.tx.schedule(timers::ESCALATE, id, escalate, now).await?;
    Ok(())
}

async fn cancel_approval(step: &mut Step<'_>, id: i64) -> HandlerResult<()> {
    let now = step.now();
    step.tx.cancel_timers(timers::APPROVAL_REMIND, id, now).await?;
    step.tx.cancel_timers(timers::ESCALATE, id, now).await?;
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
        Action::Cancel => Act::Cancel,
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
async fn apply(
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

fn approval_message(
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
                t(locale, "channel-flow.approve", &[]),
                ButtonStyle::Success,
            ),
            Component::button(
                RequestId::Approval { request: id, decision: Decision::HeadDecline }.format(),
                t(locale, "channel-flow.decline", &[]),
                ButtonStyle::Danger,
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
    let intro_key = if stage == "head" { "channel-flow.head-intro" } else { "channel-flow.officer-intro" };
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
async fn to_officers(
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

fn year_of(ms: i64) -> i64 {
    date_of(ms).0
}

async fn submit(
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
    let effects = vec![Effect::dm(head, approval_message(&row, &next, head_locale, "head", None))
        .on_failure(format!("nc:head-dm-failed:{}", row.id))];
    let text = t(locale, "channel-flow.submitted", &[("reference", &reference), ("head", &format!("<@{head}>"))]);
    let reply = if from_button { Reply::Update(Message::text(text)) } else { Reply::Message(Message::text(text)) };
    let outcome = step.commit(Outcome::with_effects(reply, effects)).await?;
    info!(request = row.id, reference = %reference, "channel request submitted");
    Ok(outcome)
}

/// Whether a user is a communications officer of the request's server (from the member
/// directory, which also works for clicks in a DM, where Discord sends no roles).
pub(crate) async fn is_officer(cx: &Ctx<'_>, guild: u64, actor: &Actor) -> HandlerResult<bool> {
    let Some(role) = OrgSettings::load(cx.store, guild).await?.communications_role else {
        return Ok(false);
    };
    if actor.guild_id == Some(guild) && actor.role_ids.contains(&role) {
        return Ok(true);
    }
    Ok(cx.store.member(guild, actor.user_id).await?.is_some_and(|m| m.present && m.roles.contains(&role)))
}

/// The request's status, as the workflow knows it.
pub(crate) fn status_of(row: &ChannelRequestRow) -> HandlerResult<Status> {
    Status::parse(&row.status)
        .ok_or_else(|| anyhow::anyhow!("request {} has an unknown status {:?}", row.id, row.status).into())
}

/// Asks the workflow ([`approval::decide`]) whether `actor` takes `decision` now; the error
/// says why not.
async fn check_decider(
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
        Decision::HeadDecline | Decision::OfficerReject | Decision::OfficerChanges => {
            let title_key = match decision {
                Decision::HeadDecline => "channel-flow.modal-head-decline",
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

fn decided_message(locale: Locale, key: &str, row: &ChannelRequestRow, actor: &Actor, reason: Option<&str>) -> Message {
    let mut text = t(locale, key, &[("reference", &reference(row)), ("by", &format!("<@{}>", actor.user_id))]);
    if let Some(r) = reason {
        text.push_str("\n> ");
        text.push_str(&r.replace('\n', "\n> "));
    }
    Message::text(crate::core::reply::clip(&text, 1900))
}

async fn head_approve(cx: &Ctx<'_>, actor: &Actor, row: ChannelRequestRow, to: Transition) -> HandlerResult<Outcome> {
    let conv = conversation_of(&row)?;
    let mut effects = to_officers(cx, &row, &conv, None).await?;
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

async fn officer_approve(
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
        Decision::OfficerChanges => {
            ("changes-requested", "channel-flow.told-changes", "channel-flow.officer-asked-changes")
        }
        _ => return Err(UserError::new("common.expired").into()),
    };
    let mut conv = conversation_of(&row)?;
    let json;
    let mut change = RequestChange { status: Some(status), ..RequestChange::default() };
    if decision == Decision::OfficerChanges {
        // Back to the summary, where every answer can be changed before submitting again.
        conv.step = None;
        json = serde_json::to_string(&conv).map_err(anyhow::Error::from)?;
        change.conversation = Some(&json);
    } else {
        change.decided_by = Some(actor.user_id);
    }
    let req_locale = cx.store.locale_of(row.requester_id).await?;
    let mut effects =
        vec![Effect::dm(row.requester_id, decided_message(req_locale, told_key, &row, actor, Some(&reason)))];
    if decision == Decision::OfficerChanges {
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
    if decision == Decision::OfficerChanges {
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
            let conv = conversation_of(&row)?;
            let note = Some(t(
                Locale::Nn,
                "channel-flow.approval-reminder",
                &[("date", &row.submitted_at.map(format_date).unwrap_or_default())],
            ));
            let effects = match (row.status.as_str(), row.head_id) {
                ("awaiting_head", Some(head)) => {
                    let l = cx.store.locale_of(head).await?;
                    let note = Some(t(
                        l,
                        "channel-flow.approval-reminder",
                        &[("date", &row.submitted_at.map(format_date).unwrap_or_default())],
                    ));
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

/// The approver did not act: the head's step goes to the communications officers, theirs to the
/// admin who set the bot up.
async fn escalate(cx: &Ctx<'_>, row: ChannelRequestRow) -> HandlerResult<Outcome> {
    let conv = conversation_of(&row)?;
    match row.status.as_str() {
        "awaiting_head" => {
            let head = row.head_id.map(|h| format!("<@{h}>")).unwrap_or_default();
            let note = Some(t(Locale::Nn, "channel-flow.escalated-from-head", &[("head", &head)]));
            let mut effects = to_officers(cx, &row, &conv, note).await?;
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
