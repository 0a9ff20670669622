-- Cost anomalies found by `finops anomalies` (and after imports): one
-- row per episode of a platform × region × service (each 'all' for the
-- totals), with what was expected, the lines that explain it, and the
-- feedback people gave (yes, no, planned), which later detection uses.
CREATE TABLE anomalies (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    platform TEXT NOT NULL,
    region TEXT NOT NULL,
    service TEXT NOT NULL,
    currency TEXT NOT NULL,
    start_day DATE NOT NULL,
    end_day DATE NOT NULL,
    actual_micros BIGINT NOT NULL,
    expected_micros BIGINT NOT NULL,
    impact_micros BIGINT NOT NULL,
    why TEXT NOT NULL,
    event TEXT NOT NULL DEFAULT '',
    explanation TEXT NOT NULL DEFAULT '',
    feedback TEXT NOT NULL DEFAULT '',
    feedback_by TEXT NOT NULL DEFAULT '',
    detected_at TIMESTAMP NOT NULL,
    UNIQUE (platform, region, service, currency, start_day)
);
CREATE INDEX anomalies_days ON anomalies (start_day, end_day);
