-- A timer is finished only when its handler succeeded: a failed run is counted and retried
-- later, with the last error kept for the operator.
ALTER TABLE timers ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE timers ADD COLUMN last_error TEXT;
