-- The server a question was asked in (NULL: a direct message, which every server's officers
-- may review), and the examples the communications officers confirmed in /guideline review:
-- per server, the question and the points that answer it, or none when the officers marked it
-- out of scope. No user id.
ALTER TABLE guideline_questions ADD COLUMN guild_id BIGINT;
CREATE TABLE guideline_examples (
    id           BIGSERIAL PRIMARY KEY,
    guild_id     BIGINT  NOT NULL,
    question_id  BIGINT  NOT NULL,   -- guideline_questions.id of the reviewed question
    reviewed_at  BIGINT  NOT NULL,
    locale       TEXT    NOT NULL,
    question     TEXT    NOT NULL,
    point_ids    TEXT    NOT NULL    -- comma-separated ids; empty: out of scope
);
CREATE UNIQUE INDEX guideline_examples_question ON guideline_examples (guild_id, question_id);
