//! Candidate examples for the search's example memory: questions whose answer was uncertain,
//! with the point the asker chose from "did you mean". Question and point only, no user id.

use super::Store;

/// One candidate example.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CandidateExample {
    pub question_id: i64,
    pub chosen_at: i64,
    pub locale: String,
    pub question: String,
    pub point_id: String,
}

type Row = (i64, i64, String, String, String);

impl Store {
    /// Records that the asker of question `question_id` chose `point_id`, copying the question's
    /// text and language from its log entry. False when the question is not (yet) logged. A
    /// second choice of the same point for the same question is recorded once.
    pub async fn record_candidate(&self, question_id: i64, point_id: &str, now: i64) -> sqlx::Result<bool> {
        let known = sqlx::query("SELECT 1 FROM guideline_questions WHERE id = $1")
            .bind(question_id)
            .fetch_optional(self.pool())
            .await?
            .is_some();
        if !known {
            return Ok(false);
        }
        let mut tx = self.begin().await?;
        tx.record_candidate(question_id, point_id, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Candidate examples, newest first.
    pub async fn candidate_examples(&self, limit: i64) -> sqlx::Result<Vec<CandidateExample>> {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT question_id, chosen_at, locale, question, point_id FROM guideline_candidates \
             ORDER BY chosen_at DESC, id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(question_id, chosen_at, locale, question, point_id)| CandidateExample {
                question_id,
                chosen_at,
                locale,
                question,
                point_id,
            })
            .collect())
    }
}

impl super::tx::Tx {
    /// Records a candidate example within a step (see [`Store::record_candidate`]).
    pub async fn record_candidate(&mut self, question_id: i64, point_id: &str, now: i64) -> sqlx::Result<()> {
        sqlx::query(
            "INSERT INTO guideline_candidates (question_id, chosen_at, locale, question, point_id) \
             SELECT id, $2, locale, question, $3 FROM guideline_questions WHERE id = $1 \
             AND NOT EXISTS (SELECT 1 FROM guideline_candidates WHERE question_id = $1 AND point_id = $3)",
        )
        .bind(question_id)
        .bind(now)
        .bind(point_id)
        .execute(self.conn()?)
        .await?;
        Ok(())
    }
}

/// A question the communications officers of a server confirmed in `/guideline review`: the
/// points that answer it, or none when they marked it out of scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfirmedExample {
    pub question_id: i64,
    pub locale: String,
    pub question: String,
    /// Empty: out of scope.
    pub point_ids: Vec<String>,
}

/// A question waiting for review, with the points askers chose for it from "did you mean".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewItem {
    pub question: super::questions::AskedQuestion,
    pub chosen: Vec<String>,
}

/// The review queue of a server, as a condition on `q` (a `guideline_questions` row) with the
/// server as `$1`: asked there or in a direct message, declined, voted down or picked from "did
/// you mean", and not reviewed for that server yet. The same text asked again after its review
/// does not come back (a question marked out of scope is declined again, by design), unless
/// its answer is voted down again.
const QUEUE: &str = "(q.guild_id = $1 OR q.guild_id IS NULL) \
     AND (q.declined = 1 OR q.vote < 0 OR EXISTS (SELECT 1 FROM guideline_candidates c WHERE c.question_id = q.id)) \
     AND NOT EXISTS (SELECT 1 FROM guideline_examples e WHERE e.guild_id = $1 \
         AND (e.question_id = q.id OR (e.question = q.question AND q.vote >= 0)))";

fn split_points(s: &str) -> Vec<String> {
    s.split(',').filter(|p| !p.is_empty()).map(str::to_string).collect()
}

impl Store {
    /// The examples the officers of `guild` confirmed, oldest first.
    pub async fn confirmed_examples(&self, guild: u64) -> sqlx::Result<Vec<ConfirmedExample>> {
        let rows: Vec<(i64, String, String, String)> = sqlx::query_as(
            "SELECT question_id, locale, question, point_ids FROM guideline_examples WHERE guild_id = $1 ORDER BY id",
        )
        .bind(super::id::to_db(guild))
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(question_id, locale, question, points)| ConfirmedExample {
                question_id,
                locale,
                question,
                point_ids: split_points(&points),
            })
            .collect())
    }

    /// How many questions wait for review in `guild`, not counting `except`.
    pub async fn review_count(&self, guild: u64, except: Option<i64>) -> sqlx::Result<i64> {
        sqlx::query_scalar(&format!("SELECT COUNT(*) FROM guideline_questions q WHERE {QUEUE} AND q.id <> $2"))
            .bind(super::id::to_db(guild))
            .bind(except.unwrap_or(-1))
            .fetch_one(self.pool())
            .await
    }

    /// The next question to review in `guild`: the newest one older than `before` (newest of all
    /// when `None`), or else, from the start again, the newest one that is not `before`. `None`
    /// when the queue holds nothing else.
    pub async fn review_next(&self, guild: u64, before: Option<i64>) -> sqlx::Result<Option<ReviewItem>> {
        let cols = super::questions::COLUMNS.split(", ").map(|c| format!("q.{c}")).collect::<Vec<_>>().join(", ");
        let older =
            format!("SELECT {cols} FROM guideline_questions q WHERE {QUEUE} AND q.id < $2 ORDER BY q.id DESC LIMIT 1");
        let other =
            format!("SELECT {cols} FROM guideline_questions q WHERE {QUEUE} AND q.id <> $2 ORDER BY q.id DESC LIMIT 1");
        let g = super::id::to_db(guild);
        let mut row: Option<super::questions::Row> =
            sqlx::query_as(&older).bind(g).bind(before.unwrap_or(i64::MAX)).fetch_optional(self.pool()).await?;
        if row.is_none() {
            if let Some(b) = before {
                row = sqlx::query_as(&other).bind(g).bind(b).fetch_optional(self.pool()).await?;
            }
        }
        let Some(row) = row else { return Ok(None) };
        let question = super::questions::from_row(row);
        let chosen: Vec<String> = sqlx::query_scalar(
            "SELECT point_id FROM guideline_candidates WHERE question_id = $1 ORDER BY chosen_at, id",
        )
        .bind(question.id)
        .fetch_all(self.pool())
        .await?;
        Ok(Some(ReviewItem { question, chosen }))
    }
}

impl super::tx::Tx {
    /// Keeps a reviewed question as an example of `guild`: answered by `point_ids`, or out of
    /// scope when they are empty. The question's text and language are copied from its log
    /// entry; a second review of the same question for the same server replaces the first.
    /// False when the question is not logged.
    pub async fn confirm_example(
        &mut self,
        guild: u64,
        question_id: i64,
        point_ids: &[String],
        now: i64,
    ) -> sqlx::Result<bool> {
        let done = sqlx::query(
            "INSERT INTO guideline_examples (guild_id, question_id, reviewed_at, locale, question, point_ids) \
             SELECT $1, id, $3, locale, question, $4 FROM guideline_questions WHERE id = $2 \
             ON CONFLICT (guild_id, question_id) DO UPDATE SET reviewed_at = excluded.reviewed_at, \
             point_ids = excluded.point_ids",
        )
        .bind(super::id::to_db(guild))
        .bind(question_id)
        .bind(now)
        .bind(point_ids.join(","))
        .execute(self.conn()?)
        .await?;
        Ok(done.rows_affected() > 0)
    }
}
