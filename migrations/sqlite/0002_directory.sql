-- Who is who: the language each user last used (DMs carry no locale), the server's members as
-- the gateway reports them (for picking colleagues by name), and per-server settings.
CREATE TABLE users (
    user_id     BIGINT PRIMARY KEY,
    locale      TEXT   NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE members (
    guild_id      BIGINT NOT NULL,
    user_id       BIGINT NOT NULL,
    username      TEXT   NOT NULL,
    display_name  TEXT   NOT NULL,
    roles         TEXT   NOT NULL DEFAULT ',',  -- ",id,id," so one role is found with LIKE
    is_bot        BIGINT NOT NULL DEFAULT 0,
    present       BIGINT NOT NULL DEFAULT 1,    -- 0 once the member has left the server
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (guild_id, user_id)
);

CREATE TABLE guild_settings (
    guild_id    BIGINT NOT NULL,
    key         TEXT   NOT NULL,
    value       TEXT   NOT NULL,
    updated_by  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (guild_id, key)
);
