-- Free-text questions asked with /guideline ask, the points given and the user's vote.
-- No user id is stored: the document's owner needs the gaps, not who asked.
CREATE TABLE guideline_questions (
    id          BIGSERIAL PRIMARY KEY,
    asked_at    BIGINT  NOT NULL,
    locale      TEXT    NOT NULL,
    question    TEXT    NOT NULL,
    point_ids   TEXT    NOT NULL,   -- comma-separated ids, best first; empty when declined
    declined    BIGINT  NOT NULL,   -- 0 or 1
    vote        BIGINT  NOT NULL DEFAULT 0  -- 1 up, -1 down, 0 none
);
CREATE INDEX guideline_questions_gaps ON guideline_questions (declined, vote, asked_at);
