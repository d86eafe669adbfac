//! Whole journeys of an employee through the stand-in, shared by the end-to-end tests and the
//! load benchmark: a `/new-channel` request from the command to the officer's approval, and a
//! `/report-threat` from the command to the manager's acknowledgement. Each is split where a
//! test wants to step in (kill the bot, say) between the parts.
//!
//! An [`Observer`] decides what an acknowledgement means: the benchmark records its latency, a
//! test insists on it.

use std::future::Future;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::standin::{ids, InteractionRef, Recorded, StandIn, UserSpec};

/// How long a journey waits for a message the bot sends (a DM, a post).
pub const STEP_WAIT: Duration = Duration::from_secs(15);

/// What a journey reports as it goes.
pub trait Observer: Sync {
    /// Waits for `ir`'s acknowledgement, which counts as `what`; an error when none came.
    fn ack(&self, s: &StandIn, what: &str, ir: &InteractionRef) -> impl Future<Output = Result<u64, String>> + Send;

    /// A measured time from a user's action to the bot's message.
    fn sample(&self, _what: &str, _d: Duration) {}
}

/// An observer for tests: an interaction must be acknowledged within Discord's 3 s.
pub struct Strict;

impl Observer for Strict {
    async fn ack(&self, s: &StandIn, what: &str, ir: &InteractionRef) -> Result<u64, String> {
        s.wait_acked(ir, Duration::from_millis(3_500))
            .await
            .map(|(kind, _)| kind)
            .ok_or_else(|| format!("{what} was not acknowledged within 3 s"))
    }
}

/// Every custom id in `v`, at any depth (a message, a callback, a modal).
pub fn custom_ids(v: &Value) -> Vec<String> {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(id)) = m.get("custom_id") {
                    out.push(id.clone());
                }
                m.values().for_each(|x| walk(x, out));
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, &mut out);
    out
}

/// The first custom id in `v` ending with `suffix`.
pub fn find_id(v: &Value, suffix: &str) -> Result<String, String> {
    let all = custom_ids(v);
    all.iter().find(|c| c.ends_with(suffix)).cloned().ok_or_else(|| format!("no `{suffix}` in {all:?}"))
}

/// Whether a request's body contains `needle`.
pub fn has(r: &Recorded, needle: &str) -> bool {
    r.json().is_some_and(|b| b.to_string().contains(needle))
}

/// The message a component interaction updated, as the stand-in holds it now.
pub fn message_of(s: &StandIn, message: &Value) -> Result<Value, String> {
    let id = message["id"].as_str().and_then(|i| i.parse().ok()).ok_or("a message without an id")?;
    s.message(id).ok_or_else(|| format!("message {id} is gone"))
}

/// Sends a DM and waits for the bot's answer in the DM channel (`path`), one carrying `marker`
/// when given; reports the time from the dispatch to the first answer.
pub async fn dm_step<O: Observer>(
    s: &StandIn,
    o: &O,
    user: u64,
    path: &str,
    text: &str,
    marker: &str,
) -> Result<Recorded, String> {
    let mark = s.request_count();
    let sent = Instant::now();
    s.dm_message(user, text).await;
    let first = s.wait_for_after(mark, |r| r.method == "POST" && r.path == path, STEP_WAIT).await;
    let first = first.ok_or_else(|| format!("no answer to the DM {text:?}"))?;
    o.sample("DM answer → bot's next message", sent.elapsed());
    if has(&first, marker) {
        return Ok(first);
    }
    s.wait_for_after(mark, |r| r.method == "POST" && r.path == path && has(r, marker), STEP_WAIT)
        .await
        .ok_or_else(|| format!("no `{marker}` after the DM {text:?}"))
}

/// A submitted `/new-channel` request: its id and the request count just before the submit.
pub struct Submitted {
    pub id: String,
    pub mark: usize,
    pub at: Instant,
}

/// `/new-channel` from the command to the submission: the platform menu, the six assessment
/// questions in the DM, the names and the summary. `head` is named as the department head.
pub async fn channel_submit<O: Observer>(
    s: &StandIn,
    o: &O,
    me: &UserSpec,
    head: &UserSpec,
) -> Result<Submitted, String> {
    let mark = s.request_count();
    let ir = s.slash_command(me.id, "new-channel", json!([])).await;
    o.ack(s, "/new-channel", &ir).await?;
    let me_id = me.id.to_string();
    s.wait_for_after(
        mark,
        |r| r.path == "/users/@me/channels" && r.json().is_some_and(|b| b["recipient_id"] == me_id.as_str()),
        STEP_WAIT,
    )
    .await
    .ok_or("the bot never opened a DM")?;
    let path = format!("/channels/{}/messages", s.dm_channel_of(me.id).ok_or("no DM channel")?);
    let q1 = s
        .wait_for_after(mark, |r| r.method == "POST" && r.path == path && has(r, ":choose"), STEP_WAIT)
        .await
        .ok_or("no platform question")?;
    let message = q1.response.clone().ok_or("the question has no message")?;
    let ir = s.select_on(me.id, &find_id(&message, ":choose")?, vec!["facebook".into()], 3, message).await;
    o.ack(s, "component (menu, button)", &ir).await?;

    let name = format!("Volda {}", me.username);
    for text in [name.as_str(), "Biblioteket", "Fleire lånarar til biblioteket", "Vaksne i Volda kommune"] {
        dm_step(s, o, me.id, &path, text, "").await?;
    }
    let mut last = dm_step(s, o, me.id, &path, "Vi svarar på kommentarar kvar dag", ":yes").await?;
    for (how, next) in
        [("Vi spør alltid skriftleg om samtykke", ":yes"), ("Vi publiserer aldri noko om enkeltpersonar", "")]
    {
        let message = last.response.clone().ok_or("no message")?;
        let ir = s.button(me.id, &find_id(&message, ":yes")?, Some(message)).await;
        o.ack(s, "component (menu, button)", &ir).await?;
        last = dm_step(s, o, me.id, &path, how, next).await?;
    }
    dm_step(s, o, me.id, &path, "To timar i veka til oppfølging", "").await?;
    let people =
        format!("{}, {}", me.global_name.as_deref().unwrap_or(&me.username), head.global_name.as_deref().unwrap_or(""));
    let confirm = dm_step(s, o, me.id, &path, &people, ":confirm").await?;
    let mut message = confirm.response.clone().ok_or("no message")?;
    for _ in 0..2 {
        let ir = s.button(me.id, &find_id(&message, ":confirm")?, Some(message.clone())).await;
        o.ack(s, "component (menu, button)", &ir).await?;
        message = message_of(s, &message)?;
    }
    let summary = dm_step(s, o, me.id, &path, head.global_name.as_deref().unwrap_or(""), ":submit").await?;
    let message = summary.response.clone().ok_or("no summary")?;
    let submit = find_id(&message, ":submit")?;
    let id = submit.split(':').nth(1).ok_or("a submit id without a request id")?.to_string();
    let at = Instant::now();
    let mark = s.request_count();
    let ir = s.button(me.id, &submit, Some(message)).await;
    o.ack(s, "component (menu, button)", &ir).await?;
    Ok(Submitted { id, mark, at })
}

/// The department head's DM asking for a decision on a submitted request.
pub async fn head_asked(s: &StandIn, sub: &Submitted) -> Result<Recorded, String> {
    let approve = format!("nca:{}:head-approve", sub.id);
    s.wait_for_after(sub.mark, |r| r.method == "POST" && has(r, &approve), STEP_WAIT)
        .await
        .ok_or_else(|| "the head was never asked".to_string())
}

/// The head approves from the DM `to_head`, then an officer approves in the review channel.
pub async fn channel_decide<O: Observer>(
    s: &StandIn,
    o: &O,
    sub: &Submitted,
    head: &UserSpec,
    to_head: &Recorded,
) -> Result<(), String> {
    let mark = s.request_count();
    let ir = s.button(head.id, &format!("nca:{}:head-approve", sub.id), to_head.response.clone()).await;
    o.ack(s, "approval button", &ir).await?;
    let off = format!("nca:{}:off-approve", sub.id);
    let review = format!("/channels/{}/messages", ids::KOMMUNIKASJON);
    let to_officer = s
        .wait_for_after(mark, |r| r.method == "POST" && r.path == review && has(r, &off), STEP_WAIT)
        .await
        .ok_or("the officers were never asked")?;
    let ir = s.button(ids::COMMS_OFFICER, &off, to_officer.response.clone()).await;
    o.ack(s, "approval button", &ir).await?;
    Ok(())
}

/// `/new-channel` from the command to the officer's approval.
pub async fn channel_flow<O: Observer>(s: &StandIn, o: &O, me: &UserSpec, head: &UserSpec) -> Result<(), String> {
    let sub = channel_submit(s, o, me, head).await?;
    let to_head = head_asked(s, &sub).await?;
    o.sample("submitted → head's DM", sub.at.elapsed());
    channel_decide(s, o, &sub, head, &to_head).await
}

/// A sent threat report: its id and the request count just before sending.
pub struct Sent {
    pub id: String,
    pub mark: usize,
    pub at: Instant,
}

/// `/report-threat` from the command to sending: the form (a modal), the preview, "send".
pub async fn report_send<O: Observer>(s: &StandIn, o: &O, me: &UserSpec) -> Result<Sent, String> {
    let mark = s.request_count();
    let ir = s.slash_command(me.id, "report-threat", json!([])).await;
    o.ack(s, "/report-threat", &ir).await?;
    let cb = s.wait_for_after(mark, |r| r.path == ir.callback_path(), STEP_WAIT).await.ok_or("no callback")?;
    let data = cb.json().map(|b| b["data"].clone()).unwrap_or_default();
    let write = find_id(&data, ":write")?;
    let id = write.split(':').nth(1).ok_or("a write id without a report id")?.to_string();
    let ir = s.button(me.id, &write, Some(json!({"components": data["components"].clone(), "flags": 64}))).await;
    o.ack(s, "component (menu, button)", &ir).await?;
    let what = format!("Ein person truga {} i kommentarfeltet etter eit vedtak", me.username);
    let fields = [("what", what.as_str()), ("where", "Facebook"), ("when", "i dag"), ("ongoing", "ja")];
    let ir = s.modal_submit(me.id, &format!("rtm:{id}:report"), &fields).await;
    o.ack(s, "modal submit", &ir).await?;
    let send = format!("rt:{id}:send");
    let preview = s.wait_for_after(mark, |r| has(r, &send), STEP_WAIT).await.ok_or("no preview to send")?;
    let body = preview.json().cloned().unwrap_or_default();
    let components =
        if body["data"].is_object() { body["data"]["components"].clone() } else { body["components"].clone() };
    let at = Instant::now();
    let mark = s.request_count();
    let ir = s.button(me.id, &send, Some(json!({"components": components, "flags": 64}))).await;
    o.ack(s, "component (menu, button)", &ir).await?;
    Ok(Sent { id, mark, at })
}

/// The report's DM to the manager, once Discord has it; waits up to `wait`.
pub async fn report_delivered(s: &StandIn, sent: &Sent, wait: Duration) -> Result<Recorded, String> {
    let ack_id = format!("rt:{}:ack", sent.id);
    s.wait_for_after(
        sent.mark,
        |r| r.method == "POST" && r.path.starts_with("/channels/") && (200..300).contains(&r.status) && has(r, &ack_id),
        wait,
    )
    .await
    .ok_or_else(|| "the manager never got the report".to_string())
}

/// `/report-threat` from the command to the manager's acknowledgement.
pub async fn report_flow<O: Observer>(s: &StandIn, o: &O, me: &UserSpec, head: &UserSpec) -> Result<(), String> {
    let sent = report_send(s, o, me).await?;
    let to_head = report_delivered(s, &sent, STEP_WAIT).await?;
    o.sample("sent → manager's DM", sent.at.elapsed());
    let ir = s.button(head.id, &format!("rt:{}:ack", sent.id), to_head.response.clone()).await;
    o.ack(s, "approval button", &ir).await?;
    Ok(())
}
