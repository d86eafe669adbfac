//! The outbox (messages stored before they are sent) and timers (reminders, escalations,
//! expiry). Rows are claimed with a lease, so when several processes share one database each
//! row is handled by one of them; a process that dies mid-way leaves the row to be claimed again
//! when the lease runs out.

use super::{id, Store};

/// Where a stored message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxTarget {
    User(u64),
    Channel(u64),
}

/// A claimed outbox row.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxItem {
    pub id: i64,
    pub target: OutboxTarget,
    pub payload: String,
    pub on_failure: Option<String>,
    /// Attempts including this one.
    pub attempts: i64,
}

/// The timer kind that runs the failure hook of an outbox row (the subject) that could not be
/// delivered.
pub const HOOK_TIMER: &str = "delivery.failed";

/// A claimed timer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timer {
    pub id: i64,
    pub kind: String,
    pub subject_id: i64,
    pub due_at: i64,
    /// Failed runs before this one.
    pub attempts: i64,
}

type OutboxRow = (i64, String, i64, String, Option<String>, i64);

fn outbox_item(r: OutboxRow) -> OutboxItem {
    let target =
        if r.1 == "channel" { OutboxTarget::Channel(id::from_db(r.2)) } else { OutboxTarget::User(id::from_db(r.2)) };
    OutboxItem { id: r.0, target, payload: r.3, on_failure: r.4, attempts: r.5 }
}

const OUTBOX_RETURNING: &str = "RETURNING id, kind, target, payload, on_failure, attempts";

impl Store {
    /// Claims up to `limit` due messages for `lease_ms`.
    pub async fn claim_outbox(&self, now: i64, lease_ms: i64, limit: i64) -> sqlx::Result<Vec<OutboxItem>> {
        let rows: Vec<OutboxRow> = sqlx::query_as(&format!(
            "UPDATE outbox SET locked_until = $1, attempts = attempts + 1 WHERE id IN \
             (SELECT id FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $2 \
              AND locked_until < $2 ORDER BY id LIMIT $3{}) \
             AND sent_at IS NULL AND failed_at IS NULL AND locked_until < $2 {OUTBOX_RETURNING}",
            self.skip_locked()
        ))
        .bind(now + lease_ms)
        .bind(now)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(outbox_item).collect())
    }

    /// Claims one given message if it is still waiting (used right after an interaction).
    pub async fn claim_outbox_item(&self, item_id: i64, now: i64, lease_ms: i64) -> sqlx::Result<Option<OutboxItem>> {
        let row: Option<OutboxRow> = sqlx::query_as(&format!(
            "UPDATE outbox SET locked_until = $1, attempts = attempts + 1 WHERE id = $3 \
             AND sent_at IS NULL AND failed_at IS NULL AND locked_until < $2 {OUTBOX_RETURNING}"
        ))
        .bind(now + lease_ms)
        .bind(now)
        .bind(item_id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(outbox_item))
    }

    /// Marks a message delivered and forgets its content (it may have been a threat report).
    pub async fn outbox_sent(&self, item_id: i64, now: i64) -> sqlx::Result<()> {
        sqlx::query("UPDATE outbox SET sent_at = $1, locked_until = 0, last_error = NULL, payload = '' WHERE id = $2")
            .bind(now)
            .bind(item_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Schedules another attempt.
    pub async fn outbox_retry(&self, item_id: i64, next_at: i64, error: &str) -> sqlx::Result<()> {
        sqlx::query("UPDATE outbox SET next_attempt_at = $1, locked_until = 0, last_error = $2 WHERE id = $3")
            .bind(next_at)
            .bind(error)
            .bind(item_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Gives up on a message and forgets its content, as a sent one's: nothing sends it again
    /// (the failure hook works from the feature's own records), and a report's text must not
    /// outlive its delivery attempts. The error and the times stay for the operator.
    pub async fn outbox_failed(&self, item_id: i64, now: i64, error: &str) -> sqlx::Result<()> {
        sqlx::query("UPDATE outbox SET failed_at = $1, locked_until = 0, last_error = $2, payload = '' WHERE id = $3")
            .bind(now)
            .bind(error)
            .bind(item_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Messages not yet delivered nor given up on.
    pub async fn outbox_pending(&self) -> sqlx::Result<i64> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL")
            .fetch_one(self.pool())
            .await?;
        Ok(n)
    }

    /// Claims up to `limit` due timers for `lease_ms`.
    pub async fn claim_timers(&self, now: i64, lease_ms: i64, limit: i64) -> sqlx::Result<Vec<Timer>> {
        let rows: Vec<(i64, String, i64, i64, i64)> = sqlx::query_as(&format!(
            "UPDATE timers SET locked_until = $1 WHERE id IN \
             (SELECT id FROM timers WHERE done_at IS NULL AND due_at <= $2 AND locked_until < $2 \
              ORDER BY due_at, id LIMIT $3{}) \
             AND done_at IS NULL AND locked_until < $2 RETURNING id, kind, subject_id, due_at, attempts",
            self.skip_locked()
        ))
        .bind(now + lease_ms)
        .bind(now)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| Timer { id: r.0, kind: r.1, subject_id: r.2, due_at: r.3, attempts: r.4 })
            .collect())
    }

    /// Schedules a timer on its own (a step schedules through its [`super::tx::Tx`]).
    pub async fn schedule(&self, kind: &str, subject_id: i64, due_at: i64, now: i64) -> sqlx::Result<i64> {
        let mut tx = self.begin().await?;
        let id = tx.schedule(kind, subject_id, due_at, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Marks a timer done.
    pub async fn finish_timer(&self, timer_id: i64, now: i64) -> sqlx::Result<()> {
        sqlx::query("UPDATE timers SET done_at = $1, locked_until = 0 WHERE id = $2")
            .bind(now)
            .bind(timer_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Gives up on a message like [`Store::outbox_failed`] and, in the same transaction,
    /// schedules its failure hook as a timer of kind [`HOOK_TIMER`] (subject: the outbox row),
    /// so that the hook runs even if this process stops right now. Returns the timer.
    pub async fn outbox_failed_with_hook(&self, item_id: i64, now: i64, error: &str) -> sqlx::Result<i64> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE outbox SET failed_at = $1, locked_until = 0, last_error = $2, payload = '' WHERE id = $3")
            .bind(now)
            .bind(error)
            .bind(item_id)
            .execute(tx.conn()?)
            .await?;
        let timer = tx.schedule(HOOK_TIMER, item_id, now, now).await?;
        tx.commit().await?;
        Ok(timer)
    }

    /// A timer's handler failed: it runs again at `retry_at`, and the failure is counted.
    /// Returns the failures so far.
    pub async fn timer_failed(&self, timer_id: i64, retry_at: i64, error: &str) -> sqlx::Result<i64> {
        let (n,): (i64,) = sqlx::query_as(
            "UPDATE timers SET attempts = attempts + 1, due_at = $1, locked_until = 0, last_error = $2 \
             WHERE id = $3 RETURNING attempts",
        )
        .bind(retry_at)
        .bind(crate::core::reply::clip(error, 500))
        .bind(timer_id)
        .fetch_one(self.pool())
        .await?;
        Ok(n)
    }

    /// The failure hook of an outbox row.
    pub async fn outbox_hook(&self, item_id: i64) -> sqlx::Result<Option<String>> {
        let r: Option<(Option<String>,)> = sqlx::query_as("SELECT on_failure FROM outbox WHERE id = $1")
            .bind(item_id)
            .fetch_optional(self.pool())
            .await?;
        Ok(r.and_then(|r| r.0))
    }

    /// Open timers of a kind for a subject, by due time (for tests and `/channels request`).
    pub async fn open_timers(&self, kind: &str, subject_id: i64) -> sqlx::Result<Vec<i64>> {
        let rows: Vec<(i64,)> = sqlx::query_as(
            "SELECT due_at FROM timers WHERE kind = $1 AND subject_id = $2 AND done_at IS NULL ORDER BY due_at",
        )
        .bind(kind)
        .bind(subject_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// On PostgreSQL, rows another process is claiming are skipped rather than waited for; the
    /// outer re-check of the lease keeps the claim exact on both backends.
    fn skip_locked(&self) -> &'static str {
        match self.backend() {
            super::Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            super::Backend::Sqlite => "",
        }
    }
}

impl super::tx::Tx {
    /// Marks a timer done, within the step its handler wrote.
    pub async fn finish_timer(&mut self, timer_id: i64, now: i64) -> sqlx::Result<()> {
        sqlx::query("UPDATE timers SET done_at = $1, locked_until = 0 WHERE id = $2")
            .bind(now)
            .bind(timer_id)
            .execute(self.conn()?)
            .await?;
        Ok(())
    }

    /// Stores a message to deliver; returns its id.
    pub async fn enqueue(
        &mut self,
        target: OutboxTarget,
        payload: &str,
        on_failure: Option<&str>,
        now: i64,
    ) -> sqlx::Result<i64> {
        let (kind, to) = match target {
            OutboxTarget::User(u) => ("dm", u),
            OutboxTarget::Channel(c) => ("channel", c),
        };
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO outbox (kind, target, payload, on_failure, next_attempt_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
        )
        .bind(kind)
        .bind(id::to_db(to))
        .bind(payload)
        .bind(on_failure)
        .bind(now)
        .fetch_one(self.conn()?)
        .await?;
        Ok(id)
    }

    /// Gives up on the unsent messages whose failure hook starts with `hook_prefix` (their
    /// content is cleared, nothing sends them); returns how many. The prefix is matched with
    /// `LIKE`, so it must not hold `%` or `_`.
    pub async fn cancel_queued(&mut self, hook_prefix: &str, now: i64) -> sqlx::Result<u64> {
        debug_assert!(!hook_prefix.contains(['%', '_']), "{hook_prefix}");
        let done = sqlx::query(
            "UPDATE outbox SET failed_at = $1, locked_until = 0, last_error = 'cancelled', payload = '' \
             WHERE sent_at IS NULL AND failed_at IS NULL AND on_failure LIKE $2",
        )
        .bind(now)
        .bind(format!("{hook_prefix}%"))
        .execute(self.conn()?)
        .await?;
        Ok(done.rows_affected())
    }

    /// Schedules a timer; returns its id.
    pub async fn schedule(&mut self, kind: &str, subject_id: i64, due_at: i64, now: i64) -> sqlx::Result<i64> {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO timers (kind, subject_id, due_at, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(kind)
        .bind(subject_id)
        .bind(due_at)
        .bind(now)
        .fetch_one(self.conn()?)
        .await?;
        Ok(id)
    }

    /// Moves the open timer of a kind for a subject to `due_at`, or schedules one when there is
    /// none: the same as cancelling and scheduling, in one statement when the timer exists
    /// (the common case: every answer in a conversation moves its reminder). A timer whose
    /// handler runs right now (claimed) is left to finish; a new one is scheduled beside it.
    pub async fn reschedule(&mut self, kind: &str, subject_id: i64, due_at: i64, now: i64) -> sqlx::Result<()> {
        let moved = sqlx::query(
            "UPDATE timers SET due_at = $1, attempts = 0, last_error = NULL \
             WHERE kind = $2 AND subject_id = $3 AND done_at IS NULL AND locked_until <= $4",
        )
        .bind(due_at)
        .bind(kind)
        .bind(subject_id)
        .bind(now)
        .execute(self.conn()?)
        .await?;
        if moved.rows_affected() == 0 {
            self.schedule(kind, subject_id, due_at, now).await?;
        }
        Ok(())
    }

    /// Cancels the open timers of a kind for a subject; returns how many.
    pub async fn cancel_timers(&mut self, kind: &str, subject_id: i64, now: i64) -> sqlx::Result<u64> {
        let done =
            sqlx::query("UPDATE timers SET done_at = $1 WHERE kind = $2 AND subject_id = $3 AND done_at IS NULL")
                .bind(now)
                .bind(kind)
                .bind(subject_id)
                .execute(self.conn()?)
                .await?;
        Ok(done.rows_affected())
    }
}
