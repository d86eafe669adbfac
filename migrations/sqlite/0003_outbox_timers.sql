-- Messages to deliver (stored before they are sent, retried with backoff, never lost) and
-- timers (reminders, escalations, expiry) as rows that any process may claim once.
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    kind             TEXT   NOT NULL,           -- 'dm' or 'channel'
    target           BIGINT NOT NULL,           -- user id or channel id
    payload          TEXT   NOT NULL,           -- the message as JSON
    on_failure       TEXT,                      -- core hook run when delivery fails for good
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    locked_until     BIGINT NOT NULL DEFAULT 0,
    sent_at          BIGINT,
    failed_at        BIGINT,
    last_error       TEXT,
    created_at       BIGINT NOT NULL
);
CREATE INDEX outbox_due ON outbox (sent_at, failed_at, next_attempt_at);

CREATE TABLE timers (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    kind          TEXT   NOT NULL,
    subject_id    BIGINT NOT NULL,
    due_at        BIGINT NOT NULL,
    locked_until  BIGINT NOT NULL DEFAULT 0,
    done_at       BIGINT,
    created_at    BIGINT NOT NULL
);
CREATE INDEX timers_due ON timers (done_at, due_at);
CREATE INDEX timers_subject ON timers (kind, subject_id);
