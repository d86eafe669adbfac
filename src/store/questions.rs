//! Stored `/guideline ask` questions and their votes, so the document's owner sees the gaps.

use super::Store;

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
}

type Row = (i64, i64, String, String, String, i64, i64);

fn from_row(r: Row) -> AskedQuestion {
    AskedQuestion {
        id: r.0,
        asked_at: r.1,
        locale: r.2,
        question: r.3,
        point_ids: r.4.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect(),
        declined: r.5 != 0,
        vote: r.6,
    }
}

impl Store {
    /// Records a question and what it was answered with; returns its id.
    pub async fn record_question(
        &self,
        asked_at: i64,
        locale: &str,
        question: &str,
        point_ids: &[String],
        declined: bool,
    ) -> sqlx::Result<i64> {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO guideline_questions (asked_at, locale, question, point_ids, declined, vote) \
             VALUES ($1, $2, $3, $4, $5, 0) RETURNING id",
        )
        .bind(asked_at)
        .bind(locale)
        .bind(question)
        .bind(point_ids.join(","))
        .bind(i64::from(declined))
        .fetch_one(self.pool())
        .await?;
        Ok(id)
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
        let row: Option<Row> = sqlx::query_as(
            "SELECT id, asked_at, locale, question, point_ids, declined, vote \
             FROM guideline_questions WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(from_row))
    }

    /// Questions that were declined or voted down, newest first.
    pub async fn question_gaps(&self, limit: i64) -> sqlx::Result<Vec<AskedQuestion>> {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, asked_at, locale, question, point_ids, declined, vote \
             FROM guideline_questions WHERE declined = 1 OR vote < 0 \
             ORDER BY asked_at DESC, id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(from_row).collect())
    }
}
