-- Candidate examples for the search's example memory: a question whose answer was uncertain and
-- the point the asker chose from "did you mean". No user id: only the question and the point.
CREATE TABLE guideline_candidates (
    id           BIGSERIAL PRIMARY KEY,
    question_id  BIGINT  NOT NULL,   -- guideline_questions.id of the question
    chosen_at    BIGINT  NOT NULL,
    locale       TEXT    NOT NULL,
    question     TEXT    NOT NULL,
    point_id     TEXT    NOT NULL
);
CREATE UNIQUE INDEX guideline_candidates_choice ON guideline_candidates (question_id, point_id);
