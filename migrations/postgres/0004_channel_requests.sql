-- /new-channel: requests from the first question to the registry, and their audit trail.
CREATE TABLE counters (
    name   TEXT PRIMARY KEY,
    value  BIGINT NOT NULL
);

CREATE TABLE channel_requests (
    id                BIGSERIAL PRIMARY KEY,
    guild_id          BIGINT NOT NULL,
    requester_id      BIGINT NOT NULL,
    reference         TEXT UNIQUE,              -- KANAL-2026-0007, given at submission
    status            TEXT   NOT NULL,          -- see channel_request::Status
    conversation      TEXT   NOT NULL,          -- the conversation state and answers as JSON
    head_id           BIGINT,                   -- the department head asked to clear it
    decided_by        BIGINT,
    decided_at        BIGINT,
    escalated         BIGINT NOT NULL DEFAULT 0,
    version           BIGINT NOT NULL DEFAULT 0, -- optimistic lock: every change bumps it
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    submitted_at      BIGINT,
    retired_at        BIGINT,
    retired_by        BIGINT
);
CREATE INDEX channel_requests_by_requester ON channel_requests (requester_id, status);
CREATE INDEX channel_requests_by_status ON channel_requests (guild_id, status);

CREATE TABLE channel_request_events (
    id          BIGSERIAL PRIMARY KEY,
    request_id  BIGINT NOT NULL REFERENCES channel_requests (id),
    at          BIGINT NOT NULL,
    actor_id    BIGINT NOT NULL,
    action      TEXT   NOT NULL,
    detail      TEXT   NOT NULL DEFAULT ''
);
CREATE INDEX channel_request_events_by_request ON channel_request_events (request_id, at);
