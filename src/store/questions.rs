//! Stored `/guideline ask` questions and their votes, so the document's owner sees the gaps.

use std::sync::atomic::{AtomicU32, Ordering};

use chacha20poly1305::aead::rand_core::RngCore;
use once_cell::sync::Lazy;

use super::Store;
use crate::i18n::Locale;

/// A fresh question id, made in the process so the answer need not wait for the database: the
/// time in milliseconds above 20 bits of a per-process counter that starts at a random point.
/// Ids are unique within a process (up to a million questions per millisecond) and, across
/// processes sharing a database, collide only if two questions in the same millisecond draw
/// the same counter value. They stay below 2^62 for the next 70,000 years, and sort by time.
pub fn new_question_id(now_ms: i64) -> i64 {
    static COUNTER: Lazy<AtomicU32> = Lazy::new(|| AtomicU32::new(chacha20poly1305::aead::OsRng.next_u32()));
    let low = COUNTER.fetch_add(1, Ordering::Relaxed) & 0xF_FFFF;
    (now_ms.max(0) << 20) | i64::from(low)
}

/// One asked question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AskedQuestion {
    pub id: i64,
    pub asked_at: i64,
    pub locale: String,
    pub question: String,
    pub point_ids: Vec<String>,
    pub declined: bool,
    pub vote: i64,
    /// The server it was asked in; `None` in a direct message.
    pub guild_id: Option<u64>,
}

pub(super) type Row = (i64, i64, String, String, String, i64, i64, Option<i64>);

/// The columns of a [`Row`].
pub(super) const COLUMNS: &str = "id, asked_at, locale, question, point_ids, declined, vote, guild_id";

pub(super) fn from_row(r: Row) -> AskedQuestion {
    AskedQuestion {
        id: r.0,
        asked_at: r.1,
        locale: r.2,
        question: r.3,
        point_ids: r.4.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect(),
        declined: r.5 != 0,
        vote: r.6,
        guild_id: r.7.map(super::id::from_db),
    }
}

impl Store {
    /// Writes bookkeeping in one transaction: users' languages (user, language, time) and
    /// asked questions (their `vote` is ignored: new questions start at 0). A question whose id
    /// is taken already is skipped.
    pub async fn write_records(&self, locales: &[(u64, Locale, i64)], questions: &[AskedQuestion]) -> sqlx::Result<()> {
        let mut tx = self.pool().begin().await?;
        for (user, locale, at) in locales {
            sqlx::query(super::directory::UPSERT_LOCALE)
                .bind(super::id::to_db(*user))
                .bind(locale.code())
                .bind(*at)
                .execute(&mut *tx)
                .await?;
        }
        for q in questions {
            sqlx::query(
                "INSERT INTO guideline_questions (id, asked_at, locale, question, point_ids, declined, vote, guild_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, 0, $7) ON CONFLICT (id) DO NOTHING",
            )
            .bind(q.id)
            .bind(q.asked_at)
            .bind(&q.locale)
            .bind(&q.question)
            .bind(q.point_ids.join(","))
            .bind(i64::from(q.declined))
            .bind(q.guild_id.map(super::id::to_db))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        for (user, locale, _) in locales {
            self.locales.stored(*user, *locale);
        }
        Ok(())
    }

    /// Sets the vote on a question (1 up, -1 down). Returns false when no such question exists.
    pub async fn vote_question(&self, id: i64, vote: i64) -> sqlx::Result<bool> {
        let done = sqlx::query("UPDATE guideline_questions SET vote = $1 WHERE id = $2")
            .bind(vote.signum())
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// One question by id.
    pub async fn question(&self, id: i64) -> sqlx::Result<Option<AskedQuestion>> {
        let row: Option<Row> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM guideline_questions WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(from_row))
    }

    /// Questions that were declined or voted down, newest first.
    pub async fn question_gaps(&self, limit: i64) -> sqlx::Result<Vec<AskedQuestion>> {
        let rows: Vec<Row> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM guideline_questions WHERE declined = 1 OR vote < 0 \
             ORDER BY asked_at DESC, id DESC LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(from_row).collect())
    }
}
