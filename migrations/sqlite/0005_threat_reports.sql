-- /report-threat (guideline point 3h): reports of threats, their audit trail and follow-up
-- messages, and the org register (who manages whom, alternate recipients).
-- Report text, evidence bytes, notes and follow-ups are stored sealed (XChaCha20-Poly1305, hex);
-- the key never sits in the database.
CREATE TABLE threat_reports (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id              BIGINT,                   -- the server whose register routes it
    reporter_id           BIGINT NOT NULL,
    reference             TEXT UNIQUE,              -- TRUGSMAL-2026-0003, given when sent
    status                TEXT   NOT NULL,          -- draft, sent, acknowledged, handled, cancelled, deleted
    recipient_id          BIGINT,                   -- who it is addressed to now
    manager_id            BIGINT,                   -- the line manager, when known
    content               TEXT,                     -- sealed JSON of the answers
    evidence_name         TEXT,
    evidence_type         TEXT,
    evidence_size         BIGINT,
    evidence_sha256       TEXT,
    evidence_received_at  BIGINT,
    evidence_data         TEXT,                     -- sealed bytes; NULL when not downloaded
    evidence_note         TEXT NOT NULL DEFAULT '', -- e.g. 'download-failed'
    handled_note          TEXT,                     -- sealed
    version               BIGINT NOT NULL DEFAULT 0,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL,
    sent_at               BIGINT,
    acknowledged_at       BIGINT,
    handled_at            BIGINT,
    deleted_at            BIGINT
);
CREATE INDEX threat_reports_by_reporter ON threat_reports (reporter_id, status);
CREATE INDEX threat_reports_by_recipient ON threat_reports (recipient_id, status);

CREATE TABLE threat_report_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    report_id   BIGINT NOT NULL REFERENCES threat_reports (id),
    at          BIGINT NOT NULL,
    actor_id    BIGINT NOT NULL,
    action      TEXT   NOT NULL,
    detail      TEXT   NOT NULL DEFAULT ''      -- ids only, never report content
);
CREATE INDEX threat_report_events_by_report ON threat_report_events (report_id, at);

CREATE TABLE threat_report_messages (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    report_id   BIGINT NOT NULL REFERENCES threat_reports (id),
    at          BIGINT NOT NULL,
    author_id   BIGINT NOT NULL,
    body        TEXT                            -- sealed; NULL once the report is deleted
);
CREATE INDEX threat_report_messages_by_report ON threat_report_messages (report_id, at);

CREATE TABLE org_managers (
    guild_id     BIGINT NOT NULL,
    employee_id  BIGINT NOT NULL,
    manager_id   BIGINT NOT NULL,
    updated_by   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (guild_id, employee_id)
);

CREATE TABLE org_alternates (
    guild_id     BIGINT NOT NULL,
    user_id      BIGINT NOT NULL,
    added_by     BIGINT NOT NULL,
    added_at     BIGINT NOT NULL,
    PRIMARY KEY (guild_id, user_id)
);
