//! What a feature gets to work with: the store, the clock, the configured waiting times and the
//! key that seals private content. Never the whole app: a feature cannot reach the router,
//! another feature's handlers or the adapters through it.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::clock::Clock;
use crate::core::errors::HandlerResult;
use crate::core::{Effect, Outcome};
use crate::crypto::ReportKey;
use crate::store::jobs::OutboxTarget;
use crate::store::tx::Tx;
use crate::store::Store;

/// A feature's narrow view of the bot, lent by the app layer for one input or timer.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    pub store: &'a Store,
    pub clock: &'a dyn Clock,
    pub timings: &'a Timings,
    /// Seals threat reports, their evidence and follow-ups, and queued messages, at rest.
    pub keys: &'a ReportKey,
    /// The timer being run, when this context runs one: the first step that commits marks it
    /// done in the same transaction (see [`Step::commit`]).
    pub timer: Option<&'a TimerRun>,
}

/// A timer whose handler is running.
#[derive(Debug)]
pub struct TimerRun {
    pub id: i64,
    finished: AtomicBool,
}

impl TimerRun {
    pub fn new(id: i64) -> Self {
        TimerRun { id, finished: AtomicBool::new(false) }
    }

    /// Whether a step of the handler already marked the timer done.
    pub fn finished(&self) -> bool {
        self.finished.load(Ordering::SeqCst)
    }
}

impl<'a> Ctx<'a> {
    /// Now, in unix milliseconds.
    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Opens the one transaction of a step. Read what the step needs first: on SQLite an open
    /// step holds the only connection.
    pub async fn step(&self) -> HandlerResult<Step<'a>> {
        Ok(Step { tx: self.store.begin().await?, cx: *self, now: self.now() })
    }
}

/// One step of a feature: a transition and all it causes (the state with its compare-and-set,
/// audit events, timers and the messages it sends) written in one transaction by
/// [`Step::commit`], or, when the step returns early or fails, not at all.
#[derive(Debug)]
pub struct Step<'a> {
    pub tx: Tx,
    cx: Ctx<'a>,
    now: i64,
}

impl Step<'_> {
    /// The step's time: every row it writes carries the same.
    pub fn now(&self) -> i64 {
        self.now
    }

    /// The configured waiting times (for the timers the step schedules).
    pub fn timings(&self) -> &Timings {
        self.cx.timings
    }

    /// Writes the outcome's messages to the outbox (sealed), marks the running timer done, and
    /// commits. The outcome's `queued` lists the outbox rows, in the order of its effects.
    pub async fn commit(mut self, mut outcome: Outcome) -> HandlerResult<Outcome> {
        let from = outcome.queued.len();
        for e in &outcome.effects[from..] {
            let (target, payload, hook) = outbox_row(self.cx.keys, e)?;
            outcome.queued.push(self.tx.enqueue(target, &payload, hook, self.now).await?);
        }
        let finishing = self.cx.timer.filter(|t| !t.finished());
        if let Some(t) = finishing {
            self.tx.finish_timer(t.id, self.now).await?;
        }
        self.tx.commit().await?;
        if let Some(t) = finishing {
            t.finished.store(true, Ordering::SeqCst);
        }
        Ok(outcome)
    }
}

/// Marks an outbox payload sealed with the report key.
pub const SEALED_PREFIX: &str = "sealed:";

/// The outbox row of an effect: its target, its payload sealed with the report key (a DM may
/// carry a threat report, and the database alone must reveal nothing; the payload is cleared
/// once the message is sent), and its failure hook.
fn outbox_row<'e>(keys: &ReportKey, effect: &'e Effect) -> HandlerResult<(OutboxTarget, String, Option<&'e str>)> {
    let (target, message, hook) = match effect {
        Effect::DirectMessage { user_id, message, on_failure } => (OutboxTarget::User(*user_id), message, on_failure),
        Effect::ChannelMessage { channel_id, message, on_failure } => {
            (OutboxTarget::Channel(*channel_id), message, on_failure)
        }
    };
    let json = serde_json::to_string(message).map_err(anyhow::Error::from)?;
    Ok((target, format!("{SEALED_PREFIX}{}", keys.seal_str(&json)), hook.as_deref()))
}

/// How long the bot waits before reminding, escalating and expiring (configurable; see the
/// README).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timings {
    /// An idle `/new-channel` conversation gets one reminder after this long.
    pub conversation_reminder_ms: i64,
    /// ... and expires after this long.
    pub conversation_expiry_ms: i64,
    /// An approver who has not acted is reminded after this many working days ...
    pub approval_reminder_working_days: u32,
    /// ... and the request is escalated after this many more.
    pub approval_escalation_working_days: u32,
    /// Approved channels are reviewed this often.
    pub review_interval_ms: i64,
    /// An unanswered review goes to the communications officers after this long.
    pub review_answer_ms: i64,
    /// A threat report nobody acknowledged goes to an alternate recipient after this long.
    pub report_ack_timeout_ms: i64,
    /// A handled threat report's content is deleted this long after it was handled.
    pub report_retention_ms: i64,
}

impl Default for Timings {
    fn default() -> Self {
        use crate::clock::{DAY, HOUR};
        Timings {
            conversation_reminder_ms: 24 * HOUR,
            conversation_expiry_ms: 14 * DAY,
            approval_reminder_working_days: 3,
            approval_escalation_working_days: 3,
            review_interval_ms: 182 * DAY,
            review_answer_ms: 14 * DAY,
            report_ack_timeout_ms: 24 * HOUR,
            report_retention_ms: 180 * DAY,
        }
    }
}
