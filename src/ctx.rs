//! What a feature gets to work with: the store, the clock, the configured waiting times and the
//! key that seals private content. Never the whole app: a feature cannot reach the router,
//! another feature's handlers or the adapters through it.

use crate::clock::Clock;
use crate::crypto::ReportKey;
use crate::store::Store;

/// A feature's narrow view of the bot, lent by the app layer for one input or timer.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    pub store: &'a Store,
    pub clock: &'a dyn Clock,
    pub timings: &'a Timings,
    /// Seals threat reports, their evidence and follow-ups, and queued messages, at rest.
    pub keys: &'a ReportKey,
}

impl Ctx<'_> {
    /// Now, in unix milliseconds.
    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }
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
