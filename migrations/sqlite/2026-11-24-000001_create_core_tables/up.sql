-- Core data model (see DESIGN.md). Money is integer micro-units (1e-6).
-- SQLite stores dates as TEXT 'YYYY-MM-DD' and timestamps as TEXT.

CREATE TABLE ingest_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    file_name TEXT NOT NULL,
    file_hash TEXT NOT NULL,
    billing_period TEXT NOT NULL DEFAULT '',
    rows_read BIGINT NOT NULL DEFAULT 0,
    rows_kept BIGINT NOT NULL DEFAULT 0,
    rows_rejected BIGINT NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    message TEXT NOT NULL DEFAULT '',
    started_at TEXT NOT NULL,
    finished_at TEXT
);

CREATE TABLE cost_daily (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    day TEXT NOT NULL,
    billing_period TEXT NOT NULL,
    billing_account TEXT NOT NULL,
    provider TEXT NOT NULL,
    account_id TEXT NOT NULL,
    platform TEXT NOT NULL,
    region TEXT NOT NULL,
    service TEXT NOT NULL,
    charge_category TEXT NOT NULL,
    source TEXT NOT NULL,
    currency TEXT NOT NULL,
    billed_micros BIGINT NOT NULL,
    effective_micros BIGINT NOT NULL,
    list_micros BIGINT,
    usage_quantity REAL,
    usage_unit TEXT,
    estimated INTEGER NOT NULL DEFAULT 0,
    ingest_run_id BIGINT,
    UNIQUE (day, billing_period, billing_account, provider, account_id, platform, region,
            service, charge_category, source, currency)
);
-- Covers the report queries: currency equality, a day range, the usual
-- group-by dimensions and both measures, without touching the table.
CREATE INDEX cost_daily_report ON cost_daily
    (currency, day, platform, region, service, charge_category, billed_micros, effective_micros);
CREATE INDEX cost_daily_scope ON cost_daily (source, provider, billing_account, billing_period);

CREATE TABLE player_activity (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    day TEXT NOT NULL,
    platform TEXT NOT NULL,
    region TEXT NOT NULL,
    peak_concurrent_players BIGINT NOT NULL,
    player_hours REAL NOT NULL,
    source TEXT NOT NULL,
    ingest_run_id BIGINT,
    UNIQUE (day, platform, region)
);

CREATE TABLE utilisation (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    period_start TEXT NOT NULL,
    granularity TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    resource_kind TEXT NOT NULL,
    instance_type TEXT NOT NULL,
    region TEXT NOT NULL,
    platform TEXT NOT NULL,
    running_hours REAL NOT NULL,
    cpu_avg REAL NOT NULL,
    cpu_p95 REAL,
    cpu_p99 REAL,
    cpu_max REAL NOT NULL,
    mem_avg REAL,
    mem_max REAL,
    network_bytes REAL,
    source TEXT NOT NULL,
    ingest_run_id BIGINT,
    UNIQUE (resource_id, period_start, granularity)
);
CREATE INDEX utilisation_period ON utilisation (period_start);

CREATE TABLE calendar_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    start_date TEXT NOT NULL,
    end_date TEXT NOT NULL,
    platforms TEXT NOT NULL,
    regions TEXT NOT NULL,
    expected_uplift REAL,
    ramp_days INTEGER,
    notes TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (name, start_date)
);

CREATE TABLE budgets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    month TEXT NOT NULL,
    platform TEXT NOT NULL,
    region TEXT NOT NULL,
    amount_micros BIGINT NOT NULL,
    currency TEXT NOT NULL,
    UNIQUE (month, platform, region)
);
