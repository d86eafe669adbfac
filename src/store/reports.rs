//! Threat reports (`/report-threat`), their audit trail and follow-up messages, and the org
//! register (line managers and alternate recipients). Report text, evidence, notes and
//! follow-ups arrive here already sealed (see `crate::crypto`); this module never sees
//! plaintext. Every change of a report is a compare-and-set on `(status, version)`.

use sqlx::Row as _;

use super::{id, Store};

/// Evidence metadata kept with a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceMeta {
    pub filename: String,
    pub content_type: Option<String>,
    pub size: i64,
    pub sha256: Option<String>,
    pub received_at: i64,
    /// Empty, or why the bytes are missing (`download-failed`, `too-large`).
    pub note: String,
}

/// A stored report (without the evidence bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRow {
    pub id: i64,
    pub guild_id: Option<u64>,
    pub reporter_id: u64,
    pub reference: Option<String>,
    pub status: String,
    pub recipient_id: Option<u64>,
    pub manager_id: Option<u64>,
    /// Sealed JSON of the answers.
    pub content: Option<String>,
    pub evidence: Option<EvidenceMeta>,
    pub has_evidence_data: bool,
    /// Sealed.
    pub handled_note: Option<String>,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub sent_at: Option<i64>,
    pub acknowledged_at: Option<i64>,
    pub handled_at: Option<i64>,
    pub deleted_at: Option<i64>,
}

/// One entry of a report's audit trail (ids only).
pub type ReportEvent = super::audit::AuditEvent;

/// A follow-up message (sealed body; `None` after deletion).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportMessage {
    pub at: i64,
    pub author_id: u64,
    pub body: Option<String>,
}

/// What a compare-and-set changes.
#[derive(Debug, Clone, Default)]
pub struct ReportChange<'a> {
    pub status: Option<&'a str>,
    pub recipient_id: Option<u64>,
    pub manager_id: Option<u64>,
    pub reference: Option<&'a str>,
    pub content: Option<&'a str>,
    pub handled_note: Option<&'a str>,
    pub sent: bool,
    pub acknowledged: bool,
    pub handled: bool,
}

const COLS: &str = "id, guild_id, reporter_id, reference, status, recipient_id, manager_id, content, evidence_name, \
    evidence_type, evidence_size, evidence_sha256, evidence_received_at, evidence_note, \
    CASE WHEN evidence_data IS NULL THEN 0 ELSE 1 END AS has_data, handled_note, version, created_at, updated_at, \
    sent_at, acknowledged_at, handled_at, deleted_at";

fn report(r: &sqlx::any::AnyRow) -> sqlx::Result<ReportRow> {
    let uid = |v: Option<i64>| v.map(id::from_db);
    let evidence = match r.try_get::<Option<String>, _>("evidence_name")? {
        Some(filename) => Some(EvidenceMeta {
            filename,
            content_type: r.try_get("evidence_type")?,
            size: r.try_get::<Option<i64>, _>("evidence_size")?.unwrap_or(0),
            sha256: r.try_get("evidence_sha256")?,
            received_at: r.try_get::<Option<i64>, _>("evidence_received_at")?.unwrap_or(0),
            note: r.try_get("evidence_note")?,
        }),
        None => None,
    };
    Ok(ReportRow {
        id: r.try_get("id")?,
        guild_id: uid(r.try_get("guild_id")?),
        reporter_id: id::from_db(r.try_get("reporter_id")?),
        reference: r.try_get("reference")?,
        status: r.try_get("status")?,
        recipient_id: uid(r.try_get("recipient_id")?),
        manager_id: uid(r.try_get("manager_id")?),
        content: r.try_get("content")?,
        evidence,
        has_evidence_data: r.try_get::<i64, _>("has_data")? != 0,
        handled_note: r.try_get("handled_note")?,
        version: r.try_get("version")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        sent_at: r.try_get("sent_at")?,
        acknowledged_at: r.try_get("acknowledged_at")?,
        handled_at: r.try_get("handled_at")?,
        deleted_at: r.try_get("deleted_at")?,
    })
}

impl Store {
    /// One report by id.
    pub async fn report(&self, report_id: i64) -> sqlx::Result<Option<ReportRow>> {
        let r = sqlx::query(&format!("SELECT {COLS} FROM threat_reports WHERE id = $1"))
            .bind(report_id)
            .fetch_optional(self.pool())
            .await?;
        r.as_ref().map(report).transpose()
    }

    /// Reports a user sent or that are addressed to them (drafts excluded), newest first.
    pub async fn reports_of(&self, user_id: u64) -> sqlx::Result<Vec<ReportRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLS} FROM threat_reports WHERE (reporter_id = $1 OR recipient_id = $1) \
             AND status NOT IN ('draft', 'cancelled') ORDER BY created_at DESC, id DESC LIMIT 50"
        ))
        .bind(id::to_db(user_id))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(report).collect()
    }

    /// The sealed evidence bytes of a report.
    pub async fn report_evidence_data(&self, report_id: i64) -> sqlx::Result<Option<String>> {
        let r: Option<(Option<String>,)> = sqlx::query_as("SELECT evidence_data FROM threat_reports WHERE id = $1")
            .bind(report_id)
            .fetch_optional(self.pool())
            .await?;
        Ok(r.and_then(|r| r.0))
    }

    /// A report's audit trail, oldest first.
    pub async fn report_events(&self, report_id: i64) -> sqlx::Result<Vec<ReportEvent>> {
        self.events(super::audit::THREAT_REPORTS, report_id).await
    }

    /// A report's follow-up messages, oldest first.
    pub async fn report_messages(&self, report_id: i64) -> sqlx::Result<Vec<ReportMessage>> {
        let rows: Vec<(i64, i64, Option<String>)> = sqlx::query_as(
            "SELECT at, author_id, body FROM threat_report_messages WHERE report_id = $1 ORDER BY at, id",
        )
        .bind(report_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(|r| ReportMessage { at: r.0, author_id: id::from_db(r.1), body: r.2 }).collect())
    }

    /// An employee's line manager in one server's register (never another server's: each
    /// server's admins keep their own); returns `(guild, manager)`.
    pub async fn manager_of(&self, guild_id: u64, employee: u64) -> sqlx::Result<Option<(u64, u64)>> {
        let r: Option<(i64,)> =
            sqlx::query_as("SELECT manager_id FROM org_managers WHERE employee_id = $1 AND guild_id = $2")
                .bind(id::to_db(employee))
                .bind(id::to_db(guild_id))
                .fetch_optional(self.pool())
                .await?;
        Ok(r.map(|(m,)| (guild_id, id::from_db(m))))
    }

    /// A server's register: `(employee, manager)` pairs.
    pub async fn managers(&self, guild_id: u64) -> sqlx::Result<Vec<(u64, u64)>> {
        let rows: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT employee_id, manager_id FROM org_managers WHERE guild_id = $1 ORDER BY manager_id, employee_id",
        )
        .bind(id::to_db(guild_id))
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(|(e, m)| (id::from_db(e), id::from_db(m))).collect())
    }

    /// A server's alternate recipients, in the order they were added.
    pub async fn alternates(&self, guild_id: u64) -> sqlx::Result<Vec<u64>> {
        let rows: Vec<(i64,)> =
            sqlx::query_as("SELECT user_id FROM org_alternates WHERE guild_id = $1 ORDER BY added_at, user_id")
                .bind(id::to_db(guild_id))
                .fetch_all(self.pool())
                .await?;
        Ok(rows.into_iter().map(|r| id::from_db(r.0)).collect())
    }

    /// The servers a user is a present member of, as the bot knows them (for reports started
    /// in a DM).
    pub async fn guilds_of(&self, user_id: u64) -> sqlx::Result<Vec<u64>> {
        let rows: Vec<(i64,)> =
            sqlx::query_as("SELECT guild_id FROM members WHERE user_id = $1 AND present = 1 ORDER BY guild_id")
                .bind(id::to_db(user_id))
                .fetch_all(self.pool())
                .await?;
        Ok(rows.into_iter().map(|r| id::from_db(r.0)).collect())
    }
}

impl super::tx::Tx {
    /// Creates a draft report, with its evidence when given; returns its id.
    pub async fn create_report(
        &mut self,
        guild_id: Option<u64>,
        reporter_id: u64,
        evidence: Option<(&EvidenceMeta, Option<&str>)>,
        now: i64,
    ) -> sqlx::Result<i64> {
        let (meta, data) = match evidence {
            Some((m, d)) => (Some(m), d),
            None => (None, None),
        };
        let (rid,): (i64,) = sqlx::query_as(
            "INSERT INTO threat_reports (guild_id, reporter_id, status, evidence_name, evidence_type, evidence_size, \
             evidence_sha256, evidence_received_at, evidence_data, evidence_note, created_at, updated_at) \
             VALUES ($1, $2, 'draft', $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
        )
        .bind(guild_id.map(id::to_db))
        .bind(id::to_db(reporter_id))
        .bind(meta.map(|m| m.filename.clone()))
        .bind(meta.and_then(|m| m.content_type.clone()))
        .bind(meta.map(|m| m.size))
        .bind(meta.and_then(|m| m.sha256.clone()))
        .bind(meta.map(|m| m.received_at))
        .bind(data)
        .bind(meta.map(|m| m.note.clone()).unwrap_or_default())
        .bind(now)
        .fetch_one(self.conn()?)
        .await?;
        self.log_report_event(rid, now, reporter_id, "started", "").await?;
        Ok(rid)
    }

    /// Changes a report if it is still in `expected_status` at `expected_version`. Returns
    /// false, changing nothing, when someone else changed it first.
    pub async fn update_report(
        &mut self,
        report_id: i64,
        expected_status: &str,
        expected_version: i64,
        change: &ReportChange<'_>,
        now: i64,
    ) -> sqlx::Result<bool> {
        let done = sqlx::query(
            "UPDATE threat_reports SET \
               status = COALESCE($1, status), recipient_id = COALESCE($2, recipient_id), \
               manager_id = COALESCE($3, manager_id), reference = COALESCE($4, reference), \
               content = COALESCE($5, content), handled_note = COALESCE($6, handled_note), \
               sent_at = CASE WHEN $7 = 1 THEN $10 ELSE sent_at END, \
               acknowledged_at = CASE WHEN $8 = 1 THEN $10 ELSE acknowledged_at END, \
               handled_at = CASE WHEN $9 = 1 THEN $10 ELSE handled_at END, \
               version = version + 1, updated_at = $10 \
             WHERE id = $11 AND status = $12 AND version = $13",
        )
        .bind(change.status)
        .bind(change.recipient_id.map(id::to_db))
        .bind(change.manager_id.map(id::to_db))
        .bind(change.reference)
        .bind(change.content)
        .bind(change.handled_note)
        .bind(i64::from(change.sent))
        .bind(i64::from(change.acknowledged))
        .bind(i64::from(change.handled))
        .bind(now)
        .bind(report_id)
        .bind(expected_status)
        .bind(expected_version)
        .execute(self.conn()?)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Deletes a report's content: text, evidence bytes, note and follow-ups are wiped; the row
    /// stays as a record (reference, dates, evidence hash) with status `deleted`.
    pub async fn wipe_report(&mut self, report_id: i64, expected_version: i64, now: i64) -> sqlx::Result<bool> {
        let done = sqlx::query(
            "UPDATE threat_reports SET status = 'deleted', content = NULL, evidence_data = NULL, \
             handled_note = NULL, evidence_name = CASE WHEN evidence_name IS NULL THEN NULL ELSE '-' END, \
             deleted_at = $1, updated_at = $1, version = version + 1 \
             WHERE id = $2 AND version = $3 AND status <> 'deleted'",
        )
        .bind(now)
        .bind(report_id)
        .bind(expected_version)
        .execute(self.conn()?)
        .await?;
        if done.rows_affected() == 1 {
            sqlx::query("UPDATE threat_report_messages SET body = NULL WHERE report_id = $1")
                .bind(report_id)
                .execute(self.conn()?)
                .await?;
        }
        Ok(done.rows_affected() == 1)
    }

    /// Appends to a report's audit trail (ids only, never content).
    pub async fn log_report_event(
        &mut self,
        report_id: i64,
        at: i64,
        actor_id: u64,
        action: &str,
        detail: &str,
    ) -> sqlx::Result<()> {
        self.append_event(super::audit::THREAT_REPORTS, report_id, at, actor_id, action, detail).await
    }

    /// Stores a sealed follow-up message.
    pub async fn add_report_message(
        &mut self,
        report_id: i64,
        at: i64,
        author_id: u64,
        body: &str,
    ) -> sqlx::Result<()> {
        sqlx::query("INSERT INTO threat_report_messages (report_id, at, author_id, body) VALUES ($1, $2, $3, $4)")
            .bind(report_id)
            .bind(at)
            .bind(id::to_db(author_id))
            .bind(body)
            .execute(self.conn()?)
            .await?;
        Ok(())
    }

    /// Records (or replaces) an employee's line manager.
    pub async fn set_manager(
        &mut self,
        guild_id: u64,
        employee: u64,
        manager: u64,
        by: u64,
        now: i64,
    ) -> sqlx::Result<()> {
        sqlx::query(
            "INSERT INTO org_managers (guild_id, employee_id, manager_id, updated_by, updated_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (guild_id, employee_id) DO UPDATE SET \
             manager_id = excluded.manager_id, updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        )
        .bind(id::to_db(guild_id))
        .bind(id::to_db(employee))
        .bind(id::to_db(manager))
        .bind(id::to_db(by))
        .bind(now)
        .execute(self.conn()?)
        .await?;
        Ok(())
    }

    /// Adds (or, with `remove`, removes) an alternate recipient.
    pub async fn set_alternate(
        &mut self,
        guild_id: u64,
        user: u64,
        remove: bool,
        by: u64,
        now: i64,
    ) -> sqlx::Result<()> {
        let q = if remove {
            "DELETE FROM org_alternates WHERE guild_id = $1 AND user_id = $2 AND $3 = $3 AND $4 = $4"
        } else {
            "INSERT INTO org_alternates (guild_id, user_id, added_by, added_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (guild_id, user_id) DO NOTHING"
        };
        sqlx::query(q)
            .bind(id::to_db(guild_id))
            .bind(id::to_db(user))
            .bind(id::to_db(by))
            .bind(now)
            .execute(self.conn()?)
            .await?;
        Ok(())
    }
}
