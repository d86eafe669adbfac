//! Channel requests (`/new-channel`) and their audit trail. Every change is a compare-and-set on
//! `(status, version)`, so a double click or two officers at the same moment change a request
//! once, on SQLite and on PostgreSQL alike.

use super::{id, Store};

/// A stored channel request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelRequestRow {
    pub id: i64,
    pub guild_id: u64,
    pub requester_id: u64,
    pub reference: Option<String>,
    pub status: String,
    pub conversation: String,
    pub head_id: Option<u64>,
    pub decided_by: Option<u64>,
    pub decided_at: Option<i64>,
    pub escalated: bool,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub submitted_at: Option<i64>,
    pub retired_at: Option<i64>,
}

/// One entry of a request's audit trail.
pub type ChannelEvent = super::audit::AuditEvent;

type Row = (
    i64,
    i64,
    i64,
    Option<String>,
    String,
    String,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    i64,
    i64,
    i64,
    i64,
    Option<i64>,
    Option<i64>,
);

const COLS: &str = "id, guild_id, requester_id, reference, status, conversation, head_id, decided_by, decided_at, \
                    escalated, version, created_at, updated_at, submitted_at, retired_at";

fn row(r: Row) -> ChannelRequestRow {
    ChannelRequestRow {
        id: r.0,
        guild_id: id::from_db(r.1),
        requester_id: id::from_db(r.2),
        reference: r.3,
        status: r.4,
        conversation: r.5,
        head_id: r.6.map(id::from_db),
        decided_by: r.7.map(id::from_db),
        decided_at: r.8,
        escalated: r.9 != 0,
        version: r.10,
        created_at: r.11,
        updated_at: r.12,
        submitted_at: r.13,
        retired_at: r.14,
    }
}

/// What a compare-and-set changes.
#[derive(Debug, Clone, Default)]
pub struct RequestChange<'a> {
    pub status: Option<&'a str>,
    pub conversation: Option<&'a str>,
    pub head_id: Option<u64>,
    pub reference: Option<&'a str>,
    pub decided_by: Option<u64>,
    pub submitted: bool,
    pub escalated: Option<bool>,
    pub retired_by: Option<u64>,
}

impl Store {
    /// One request by id.
    pub async fn channel_request(&self, request_id: i64) -> sqlx::Result<Option<ChannelRequestRow>> {
        let r: Option<Row> = sqlx::query_as(&format!("SELECT {COLS} FROM channel_requests WHERE id = $1"))
            .bind(request_id)
            .fetch_optional(self.pool())
            .await?;
        Ok(r.map(row))
    }

    /// One request by its reference (case-insensitive).
    pub async fn channel_request_by_reference(&self, reference: &str) -> sqlx::Result<Option<ChannelRequestRow>> {
        let r: Option<Row> = sqlx::query_as(&format!("SELECT {COLS} FROM channel_requests WHERE reference = $1"))
            .bind(reference.trim().to_uppercase())
            .fetch_optional(self.pool())
            .await?;
        Ok(r.map(row))
    }

    /// The requester's requests in the given statuses, newest first.
    pub async fn channel_requests_of(
        &self,
        requester_id: u64,
        statuses: &[&str],
    ) -> sqlx::Result<Vec<ChannelRequestRow>> {
        let list = status_list(statuses);
        let rows: Vec<Row> = sqlx::query_as(&format!(
            "SELECT {COLS} FROM channel_requests WHERE requester_id = $1 AND status IN ({list}) \
             ORDER BY updated_at DESC, id DESC"
        ))
        .bind(id::to_db(requester_id))
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(row).collect())
    }

    /// A server's requests in the given statuses, oldest first.
    pub async fn channel_requests_in(&self, guild_id: u64, statuses: &[&str]) -> sqlx::Result<Vec<ChannelRequestRow>> {
        let list = status_list(statuses);
        let rows: Vec<Row> = sqlx::query_as(&format!(
            "SELECT {COLS} FROM channel_requests WHERE guild_id = $1 AND status IN ({list}) ORDER BY decided_at, id"
        ))
        .bind(id::to_db(guild_id))
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(row).collect())
    }

    /// A request's audit trail, oldest first.
    pub async fn channel_events(&self, request_id: i64) -> sqlx::Result<Vec<ChannelEvent>> {
        self.events(super::audit::CHANNEL_REQUESTS, request_id).await
    }
}

/// Statuses are fixed words from the code, never user input; they are inlined as literals.
fn status_list(statuses: &[&str]) -> String {
    statuses
        .iter()
        .filter(|s| s.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl super::tx::Tx {
    /// The next number of a yearly sequence (`KANAL-2026`), atomically on both backends.
    pub async fn next_number(&mut self, counter: &str) -> sqlx::Result<i64> {
        let (n,): (i64,) = sqlx::query_as(
            "INSERT INTO counters (name, value) VALUES ($1, 1) \
             ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value",
        )
        .bind(counter)
        .fetch_one(self.conn()?)
        .await?;
        Ok(n)
    }

    /// Creates a draft request; returns its id.
    pub async fn create_channel_request(
        &mut self,
        guild_id: u64,
        requester_id: u64,
        conversation: &str,
        now: i64,
    ) -> sqlx::Result<i64> {
        let (rid,): (i64,) = sqlx::query_as(
            "INSERT INTO channel_requests (guild_id, requester_id, status, conversation, created_at, updated_at) \
             VALUES ($1, $2, 'draft', $3, $4, $4) RETURNING id",
        )
        .bind(id::to_db(guild_id))
        .bind(id::to_db(requester_id))
        .bind(conversation)
        .bind(now)
        .fetch_one(self.conn()?)
        .await?;
        self.log_channel_event(rid, now, requester_id, "started", "").await?;
        Ok(rid)
    }

    /// Changes a request if it is still in `expected_status` at `expected_version`. Returns
    /// false, changing nothing, when someone else changed it first.
    pub async fn update_channel_request(
        &mut self,
        request_id: i64,
        expected_status: &str,
        expected_version: i64,
        change: &RequestChange<'_>,
        now: i64,
    ) -> sqlx::Result<bool> {
        let done = sqlx::query(
            "UPDATE channel_requests SET \
               status = COALESCE($1, status), conversation = COALESCE($2, conversation), \
               head_id = COALESCE($3, head_id), reference = COALESCE($4, reference), \
               decided_by = COALESCE($5, decided_by), decided_at = CASE WHEN $5 IS NULL THEN decided_at ELSE $6 END, \
               submitted_at = CASE WHEN $7 = 1 THEN $6 ELSE submitted_at END, \
               escalated = COALESCE($8, escalated), \
               retired_by = COALESCE($9, retired_by), retired_at = CASE WHEN $9 IS NULL THEN retired_at ELSE $6 END, \
               version = version + 1, updated_at = $6 \
             WHERE id = $10 AND status = $11 AND version = $12",
        )
        .bind(change.status)
        .bind(change.conversation)
        .bind(change.head_id.map(id::to_db))
        .bind(change.reference)
        .bind(change.decided_by.map(id::to_db))
        .bind(now)
        .bind(i64::from(change.submitted))
        .bind(change.escalated.map(i64::from))
        .bind(change.retired_by.map(id::to_db))
        .bind(request_id)
        .bind(expected_status)
        .bind(expected_version)
        .execute(self.conn()?)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Appends to a request's audit trail.
    pub async fn log_channel_event(
        &mut self,
        request_id: i64,
        at: i64,
        actor_id: u64,
        action: &str,
        detail: &str,
    ) -> sqlx::Result<()> {
        self.append_event(super::audit::CHANNEL_REQUESTS, request_id, at, actor_id, action, detail).await
    }
}
