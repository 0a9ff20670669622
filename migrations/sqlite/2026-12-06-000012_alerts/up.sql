-- Alerts: rules people set (budget thresholds, anomalies above an impact,
-- commitments about to expire, unallocated share, failed imports and
-- pulls), the alerts they raised (one per rule and episode, so an
-- episode is sent once), and each alert's delivery to each channel with
-- its attempts. Channels and their secrets live in the settings, never
-- here.
CREATE TABLE alert_rules (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    basis TEXT NOT NULL DEFAULT '',
    percent REAL NOT NULL DEFAULT 0,
    impact_micros BIGINT NOT NULL DEFAULT 0,
    days BIGINT NOT NULL DEFAULT 0,
    channels TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    rule_id BIGINT NOT NULL,
    rule_name TEXT NOT NULL,
    kind TEXT NOT NULL,
    episode TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    link TEXT NOT NULL DEFAULT '',
    raised_at TIMESTAMP NOT NULL,
    UNIQUE (rule_id, episode)
);
CREATE INDEX alerts_raised ON alerts (raised_at);
CREATE TABLE alert_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id BIGINT NOT NULL,
    channel TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    last_error TEXT NOT NULL DEFAULT '',
    delivered_at TIMESTAMP,
    UNIQUE (alert_id, channel)
);
CREATE INDEX alert_deliveries_due ON alert_deliveries (status, next_attempt_at);
-- What the last evaluation saw (the data version), so that several
-- processes evaluate each change once.
CREATE TABLE alert_state (
    name TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
