-- Sign-in limits shared by every process on this database: failed (and
-- in-flight) attempts per user name and address, per address and per user
-- name, each counted in its own window, claimed before a password is
-- checked. `version` makes every change a compare-and-swap.
CREATE TABLE sign_in_limits (
    key TEXT PRIMARY KEY,
    attempts BIGINT NOT NULL,
    window_start TIMESTAMP NOT NULL,
    next_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);

-- Repeated entries (a refused sign-in flood) are one row with a count.
ALTER TABLE audit_log ADD COLUMN repeats BIGINT NOT NULL DEFAULT 1;
ALTER TABLE audit_log ADD COLUMN last_at TIMESTAMP;
ALTER TABLE audit_log ADD COLUMN group_key TEXT;
CREATE UNIQUE INDEX audit_log_group ON audit_log (group_key);
