//! Delivering effects: every message the core wants sent is stored in the outbox first, then
//! handed to a [`Deliverer`] (Discord's REST API, or the sandbox's terminal). Transient failures
//! are retried with backoff (honouring `retry_after`); a permanent failure runs the core hook the
//! effect named, which may reroute the message (to an alternate recipient, say) or tell someone.

use std::future::Future;

use tracing::{debug, info, warn};

use crate::app::{each_feature, App, Feature};
use crate::core::errors::HandlerResult;
use crate::core::{Effect, Message, Outcome};
use crate::store::jobs::{OutboxItem, OutboxTarget};

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

/// Marks an outbox payload sealed with the report key.
const SEALED_PREFIX: &str = "sealed:";

/// How long a claimed row stays with the process that claimed it.
pub const LEASE_MS: i64 = 60_000;
/// After this many attempts a transiently failing message is given up on and its hook runs.
pub const MAX_ATTEMPTS: i64 = 12;

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
    /// Stores effects in the outbox; returns their ids in order.
    pub async fn enqueue(&self, effects: &[Effect]) -> HandlerResult<Vec<i64>> {
        let now = self.clock.now_ms();
        let mut ids = Vec::with_capacity(effects.len());
        for e in effects {
            let (target, message, hook) = match e {
                Effect::DirectMessage { user_id, message, on_failure } => {
                    (OutboxTarget::User(*user_id), message, on_failure)
                }
                Effect::ChannelMessage { channel_id, message, on_failure } => {
                    (OutboxTarget::Channel(*channel_id), message, on_failure)
                }
            };
            // Stored sealed: a DM may carry a threat report, and the database alone must reveal
            // nothing. The payload is cleared once the message is sent.
            let json = serde_json::to_string(message).map_err(anyhow::Error::from)?;
            let payload = format!("{SEALED_PREFIX}{}", self.report_key.seal_str(&json));
            ids.push(self.store.enqueue(target, &payload, hook.as_deref(), now).await?);
        }
        Ok(ids)
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
            Err(DeliveryError::Transient { retry_after_ms, reason }) if item.attempts < MAX_ATTEMPTS => {
                let wait = backoff_ms(item.attempts, *retry_after_ms);
                warn!(outbox = item.id, attempts = item.attempts, retry_in_ms = wait, reason = %reason, "delivery failed, will retry");
                crate::metrics::global().delivery("retried");
                self.store.outbox_retry(item.id, now + wait, reason).await
            }
            Err(DeliveryError::Transient { reason, .. }) | Err(DeliveryError::Permanent(reason)) => {
                warn!(outbox = item.id, attempts = item.attempts, reason = %reason, "delivery failed for good");
                crate::metrics::global().delivery("failed");
                let r = self.store.outbox_failed(item.id, now, reason).await;
                if let Some(hook) = &item.on_failure {
                    hook_outcome = Some(self.delivery_failed(hook).await);
                }
                r
            }
        };
        if let Err(e) = db {
            warn!(outbox = item.id, error = %e, "recording a delivery failed");
        }
        Delivered { id: item.id, result, hook_outcome }
    }

    /// Runs the core hook named by an effect whose delivery failed for good. Hooks are
    /// `feature:...` strings; each feature interprets its own. Effects the hook returns are
    /// enqueued here (see `queued` of the returned outcome).
    pub async fn delivery_failed(&self, hook: &str) -> Outcome {
        let feature = hook.split(':').next().unwrap_or_default();
        let cx = self.cx();
        let result: HandlerResult<Outcome> = 'found: {
            each_feature!(f => {
                if f.background_prefix() == feature {
                    break 'found f.delivery_failed(&cx, hook).await;
                }
            });
            info!(hook, "no handler for a delivery-failure hook");
            Ok(Outcome::reply(crate::core::Reply::Nothing))
        };
        self.finish_background(result).await
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
            debug!(timer = timer.id, kind = %timer.kind, subject = timer.subject_id, "timer fired");
            let feature = timer.kind.split('.').next().unwrap_or_default();
            let cx = self.cx();
            let result: HandlerResult<Outcome> = 'found: {
                each_feature!(f => {
                    if f.background_prefix() == feature {
                        break 'found f.timer(&cx, &timer.kind, timer.subject_id).await;
                    }
                });
                warn!(kind = %timer.kind, "a timer of an unknown kind was dropped");
                Ok(Outcome::reply(crate::core::Reply::Nothing))
            };
            let _ = self.finish_background(result).await;
            if let Err(e) = self.store.finish_timer(timer.id, self.clock.now_ms()).await {
                warn!(timer = timer.id, error = %e, "marking a timer done failed");
            }
        }
        n
    }

    /// Enqueues a background outcome's effects and logs an error.
    async fn finish_background(&self, result: HandlerResult<Outcome>) -> Outcome {
        match result {
            Ok(mut o) => {
                match self.enqueue(&o.effects).await {
                    Ok(ids) => o.queued = ids,
                    Err(e) => warn!(error = ?e, "enqueueing a background effect failed"),
                }
                o
            }
            Err(e) => {
                warn!(error = ?e, "a background job failed");
                Outcome::reply(crate::core::Reply::Nothing)
            }
        }
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
