//! Audit trails: who did what to a channel request or a threat report, and when. Both
//! trails have the same shape; each lives in its own table next to what it records.

use super::{id, Store};

/// One entry of an audit trail (ids and actions only, never report content).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub at: i64,
    /// The user who acted; 0 for the bot itself (timers) or the command line.
    pub actor_id: u64,
    pub action: String,
    pub detail: String,
}

/// Which trail: its table and the column naming what it records. Both are fixed words from
/// the code, never user input, so they are written into the SQL.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Trail {
    pub table: &'static str,
    pub subject: &'static str,
}

/// The trail of `/new-channel` requests.
pub(crate) const CHANNEL_REQUESTS: Trail = Trail { table: "channel_request_events", subject: "request_id" };
/// The trail of threat reports.
pub(crate) const THREAT_REPORTS: Trail = Trail { table: "threat_report_events", subject: "report_id" };

impl Store {
    /// A subject's trail, oldest first.
    pub(crate) async fn events(&self, trail: Trail, subject_id: i64) -> sqlx::Result<Vec<AuditEvent>> {
        let rows: Vec<(i64, i64, String, String)> = sqlx::query_as(&format!(
            "SELECT at, actor_id, action, detail FROM {} WHERE {} = $1 ORDER BY at, id",
            trail.table, trail.subject
        ))
        .bind(subject_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| AuditEvent { at: r.0, actor_id: id::from_db(r.1), action: r.2, detail: r.3 })
            .collect())
    }
}

impl super::tx::Tx {
    /// Appends to a trail.
    pub(crate) async fn append_event(
        &mut self,
        trail: Trail,
        subject_id: i64,
        at: i64,
        actor_id: u64,
        action: &str,
        detail: &str,
    ) -> sqlx::Result<()> {
        sqlx::query(&format!(
            "INSERT INTO {} ({}, at, actor_id, action, detail) VALUES ($1, $2, $3, $4, $5)",
            trail.table, trail.subject
        ))
        .bind(subject_id)
        .bind(at)
        .bind(id::to_db(actor_id))
        .bind(action)
        .bind(detail)
        .execute(self.conn()?)
        .await?;
        Ok(())
    }
}
