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
