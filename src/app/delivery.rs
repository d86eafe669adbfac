//! Delivering effects: every message the core wants sent is stored in the outbox first, then
//! handed to a [`Deliverer`] (Discord's REST API, or the sandbox's terminal). Transient failures
//! are retried with backoff (honouring `retry_after`); a permanent failure runs the core hook the
//! effect named, which may reroute the message (to an alternate recipient, say) or tell someone.

use std::future::Future;

use tracing::{debug, error, info, warn};

use crate::app::{each_feature, App, Feature};
use crate::core::errors::HandlerResult;
use crate::core::{Message, Outcome};
use crate::ctx::{Ctx, TimerRun, SEALED_PREFIX};
use crate::store::jobs::{OutboxItem, OutboxTarget, Timer, HOOK_TIMER};

/// Why a delivery failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryError {
    /// It will not work however often it is tried (the user does not accept DMs, the channel
    /// is gone).
    Permanent(String),
    /// Try again later, not before `retry_after_ms` when given.
    Transient { retry_after_ms: Option<i64>, reason: String },
}

/// Something that can send a stored message.
pub trait Deliverer: Send + Sync {
    /// Sends one message: the outbox row `outbox_id`. A retry of the same row carries the same
    /// id, so a deliverer can make a repeat harmless (Discord's `nonce` with `enforce_nonce`).
    fn send(
        &self,
        outbox_id: i64,
        target: OutboxTarget,
        message: &Message,
    ) -> impl Future<Output = Result<(), DeliveryError>> + Send;
}

/// How long a claimed row stays with the process that claimed it.
pub const LEASE_MS: i64 = 60_000;
/// After this many attempts a transiently failing message is given up on and its hook runs.
pub const MAX_ATTEMPTS: i64 = 12;
/// A timer that failed this many times in a row is logged as an error (it is still retried).
pub const TIMER_ERROR_AFTER: i64 = 3;

/// The wait before the next attempt after `attempts` failed ones: what Discord asked for
/// (`retry_after`, at least half a second), else 5 s doubling up to an hour.
pub fn backoff_ms(attempts: i64, retry_after_ms: Option<i64>) -> i64 {
    match retry_after_ms {
        Some(r) => r.max(500),
        None => 5_000i64.saturating_mul(1i64 << (attempts - 1).clamp(0, 20)).min(3_600_000),
    }
}

/// The result of delivering one message.
#[derive(Debug)]
pub struct Delivered {
    pub id: i64,
    pub result: Result<(), DeliveryError>,
    /// What the failure hook wants said or done (already enqueued effects are in `queued`).
    pub hook_outcome: Option<Outcome>,
}

impl App {
    /// Stores the effects of an outcome that its handler did not store itself (a handler that
    /// writes commits its messages with its step, see [`crate::ctx::Step::commit`]), in one
    /// transaction; `queued` then lists every effect's outbox row.
    pub async fn enqueue_rest(&self, outcome: Outcome) -> HandlerResult<Outcome> {
        if outcome.queued.len() >= outcome.effects.len() {
            return Ok(outcome);
        }
        self.cx().step().await?.commit(outcome).await
    }

    /// Delivers the given outbox rows now (right after the interaction that queued them), if no
    /// other worker has taken them.
    pub async fn deliver_ids<D: Deliverer>(&self, d: &D, ids: &[i64]) -> Vec<Delivered> {
        let mut out = Vec::new();
        for &id in ids {
            match self.store.claim_outbox_item(id, self.clock.now_ms(), LEASE_MS).await {
                Ok(Some(item)) => out.push(self.deliver_one(d, item).await),
                Ok(None) => {}
                Err(e) => warn!(outbox = id, error = %e, "claiming a message failed; the worker retries it"),
            }
        }
        out
    }

    /// Delivers every due message (the background worker). Returns how many were handled.
    pub async fn deliver_due<D: Deliverer>(&self, d: &D) -> usize {
        let items = match self.store.claim_outbox(self.clock.now_ms(), LEASE_MS, 50).await {
            Ok(items) => items,
            Err(e) => {
                warn!(error = %e, "reading the outbox failed");
                return 0;
            }
        };
        let n = items.len();
        for item in items {
            self.deliver_one(d, item).await;
        }
        n
    }

    async fn deliver_one<D: Deliverer>(&self, d: &D, item: OutboxItem) -> Delivered {
        let json = match item.payload.strip_prefix(SEALED_PREFIX) {
            Some(sealed) => self.report_key.open_str(sealed).unwrap_or_default(),
            // Rows queued before payloads were sealed.
            None => item.payload.clone(),
        };
        let message: Message = match serde_json::from_str(&json) {
            Ok(m) => m,
            Err(e) => {
                let _ = self.store.outbox_failed(item.id, self.clock.now_ms(), "unreadable payload").await;
                warn!(outbox = item.id, error = %e, "an outbox row could not be read");
                return Delivered {
                    id: item.id,
                    result: Err(DeliveryError::Permanent("unreadable payload".into())),
                    hook_outcome: None,
                };
            }
        };
        let result = d.send(item.id, item.target, &message).await;
        let now = self.clock.now_ms();
        let mut hook_outcome = None;
        let db = match &result {
            Ok(()) => {
                info!(outbox = item.id, attempts = item.attempts, "message delivered");
                crate::metrics::global().delivery("sent");
                self.store.outbox_sent(item.id, now).await
            }
            // A message with a failure hook (a threat report, a request to its head) is never
            // given up on for a transient failure: its hook is for real refusals (DMs closed,
            // not a member), and Discord's trouble must not reroute it. It is retried, the wait
            // capped at an hour, for as long as needed.
            Err(DeliveryError::Transient { retry_after_ms, reason })
                if item.attempts < MAX_ATTEMPTS || item.on_failure.is_some() =>
            {
                let wait = backoff_ms(item.attempts, *retry_after_ms);
                warn!(outbox = item.id, attempts = item.attempts, retry_in_ms = wait, reason = %reason, "delivery failed, will retry");
                crate::metrics::global().delivery("retried");
                self.store.outbox_retry(item.id, now + wait, reason).await
            }
            Err(DeliveryError::Transient { reason, .. }) | Err(DeliveryError::Permanent(reason)) => {
                warn!(outbox = item.id, attempts = item.attempts, reason = %reason, "delivery failed for good");
                crate::metrics::global().delivery("failed");
                match &item.on_failure {
                    // The hook is a timer written with the failure: it runs now, and again later
                    // should it fail or this process stop.
                    Some(_) => match self.store.outbox_failed_with_hook(item.id, now, reason).await {
                        Ok(timer) => {
                            let timer = Timer {
                                id: timer,
                                kind: HOOK_TIMER.into(),
                                subject_id: item.id,
                                due_at: now,
                                attempts: 0,
                            };
                            hook_outcome = self.run_timer(&timer).await;
                            Ok(())
                        }
                        Err(e) => Err(e),
                    },
                    None => self.store.outbox_failed(item.id, now, reason).await,
                }
            }
        };
        if let Err(e) = db {
            warn!(outbox = item.id, error = %e, "recording a delivery failed");
        }
        Delivered { id: item.id, result, hook_outcome }
    }

    /// Runs the core hook named by an effect whose delivery failed for good. Hooks are
    /// `feature:...` strings; each feature interprets its own.
    async fn delivery_failed(&self, cx: &Ctx<'_>, hook: &str) -> HandlerResult<Outcome> {
        let feature = hook.split(':').next().unwrap_or_default();
        each_feature!(f => {
            if f.background_prefix() == feature {
                return f.delivery_failed(cx, hook).await;
            }
        });
        info!(hook, "no handler for a delivery-failure hook");
        Ok(Outcome::reply(crate::core::Reply::Nothing))
    }

    /// Runs every due timer; returns how many ran.
    pub async fn run_due_timers(&self) -> usize {
        let now = self.clock.now_ms();
        let timers = match self.store.claim_timers(now, LEASE_MS, 50).await {
            Ok(t) => t,
            Err(e) => {
                warn!(error = %e, "reading timers failed");
                return 0;
            }
        };
        let n = timers.len();
        for timer in timers {
            self.run_timer(&timer).await;
        }
        n
    }

    /// Runs one claimed timer. It is finished in the transaction of its handler's step (or
    /// with the handler's messages when the handler wrote nothing else) and only when the
    /// handler succeeded; a failed one runs again after a backoff and stays until it succeeds.
    /// Returns the handler's outcome when it succeeded.
    async fn run_timer(&self, timer: &Timer) -> Option<Outcome> {
        debug!(timer = timer.id, kind = %timer.kind, subject = timer.subject_id, "timer fired");
        let run = TimerRun::new(timer.id);
        let cx = Ctx { timer: Some(&run), ..self.cx() };
        let result = async {
            let outcome = self.dispatch_timer(&cx, timer).await?;
            if run.finished() && outcome.queued.len() >= outcome.effects.len() {
                return Ok(outcome);
            }
            // Left messages, or nothing written yet: one step finishes the timer with them.
            cx.step().await?.commit(outcome).await
        }
        .await;
        match result {
            Ok(outcome) => {
                crate::metrics::global().timer("ran");
                Some(outcome)
            }
            Err(e) if run.finished() => {
                // A first step committed (the timer with it); a later one failed.
                error!(timer = timer.id, kind = %timer.kind, error = ?e, "a timer's later step failed");
                crate::metrics::global().timer("failed");
                None
            }
            Err(e) => {
                crate::metrics::global().timer("failed");
                let failures = timer.attempts + 1;
                let retry_at = self.clock.now_ms() + backoff_ms(failures, None);
                let reason = format!("{e:?}");
                match self.store.timer_failed(timer.id, retry_at, &reason).await {
                    Ok(_) if failures >= TIMER_ERROR_AFTER => {
                        error!(timer = timer.id, kind = %timer.kind, failures, error = %reason, "a timer keeps failing; it will be retried")
                    }
                    Ok(_) => {
                        warn!(timer = timer.id, kind = %timer.kind, failures, error = %reason, "a timer failed; it will be retried")
                    }
                    // The lease runs out and the timer is claimed again.
                    Err(db) => error!(timer = timer.id, error = %db, "recording a failed timer failed"),
                }
                None
            }
        }
    }

    async fn dispatch_timer(&self, cx: &Ctx<'_>, timer: &Timer) -> HandlerResult<Outcome> {
        if timer.kind == HOOK_TIMER {
            return match self.store.outbox_hook(timer.subject_id).await? {
                Some(hook) => self.delivery_failed(cx, &hook).await,
                None => Ok(Outcome::reply(crate::core::Reply::Nothing)),
            };
        }
        let feature = timer.kind.split('.').next().unwrap_or_default();
        each_feature!(f => {
            if f.background_prefix() == feature {
                return f.timer(cx, &timer.kind, timer.subject_id).await;
            }
        });
        warn!(kind = %timer.kind, "a timer of an unknown kind was dropped");
        Ok(Outcome::reply(crate::core::Reply::Nothing))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_honours_retry_after() {
        assert_eq!(backoff_ms(1, None), 5_000);
        assert_eq!(backoff_ms(2, None), 10_000);
        assert_eq!(backoff_ms(30, None), 3_600_000);
        assert_eq!(backoff_ms(1, Some(20_000)), 20_000, "Discord's retry_after is honoured");
        assert_eq!(backoff_ms(5, Some(1_200)), 1_200, "not later than asked either");
        assert_eq!(backoff_ms(1, Some(0)), 500);
    }
}
