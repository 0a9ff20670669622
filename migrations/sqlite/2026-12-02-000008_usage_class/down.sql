-- Rows that differ only by usage class or unit are summed back into one.
CREATE TABLE cost_daily_old (
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
INSERT INTO cost_daily_old (day, billing_period, billing_account, provider, account_id,
    platform, region, service, charge_category, source, currency, billed_micros,
    effective_micros, list_micros, usage_quantity, usage_unit, estimated, ingest_run_id)
SELECT day, billing_period, billing_account, provider, account_id, platform, region, service,
    charge_category, source, currency, SUM(billed_micros), SUM(effective_micros),
    SUM(list_micros),
    CASE WHEN COUNT(DISTINCT COALESCE(usage_unit, '')) = 1 THEN SUM(usage_quantity) END,
    CASE WHEN COUNT(DISTINCT COALESCE(usage_unit, '')) = 1 THEN MAX(usage_unit) END,
    MAX(estimated), MAX(ingest_run_id)
FROM cost_daily
GROUP BY day, billing_period, billing_account, provider, account_id, platform, region, service,
    charge_category, source, currency;
DROP TABLE cost_daily;
ALTER TABLE cost_daily_old RENAME TO cost_daily;
CREATE INDEX cost_daily_report ON cost_daily
    (currency, day, platform, region, service, charge_category, billed_micros, effective_micros);
CREATE INDEX cost_daily_scope ON cost_daily (source, provider, billing_account, billing_period);
ALTER TABLE cost_resource_daily DROP COLUMN commitment_end;
ALTER TABLE cost_resource_daily DROP COLUMN instance_type;
ALTER TABLE cost_resource_daily DROP COLUMN usage_class;
