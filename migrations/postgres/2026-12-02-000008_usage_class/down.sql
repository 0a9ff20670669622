-- Rows that differ only by usage class or unit are summed back into one.
DROP INDEX cost_daily_grain;
CREATE TEMPORARY TABLE cost_daily_merged AS
SELECT day, billing_period, billing_account, provider, account_id, platform, region, service,
    charge_category, source, currency, SUM(billed_micros)::BIGINT AS billed_micros,
    SUM(effective_micros)::BIGINT AS effective_micros, SUM(list_micros)::BIGINT AS list_micros,
    CASE WHEN COUNT(DISTINCT COALESCE(usage_unit, '')) = 1 THEN SUM(usage_quantity) END AS usage_quantity,
    CASE WHEN COUNT(DISTINCT COALESCE(usage_unit, '')) = 1 THEN MAX(usage_unit) END AS usage_unit,
    MAX(estimated) AS estimated, MAX(ingest_run_id) AS ingest_run_id
FROM cost_daily
GROUP BY day, billing_period, billing_account, provider, account_id, platform, region, service,
    charge_category, source, currency;
DELETE FROM cost_daily;
ALTER TABLE cost_daily DROP COLUMN usage_class;
INSERT INTO cost_daily (day, billing_period, billing_account, provider, account_id, platform,
    region, service, charge_category, source, currency, billed_micros, effective_micros,
    list_micros, usage_quantity, usage_unit, estimated, ingest_run_id)
SELECT * FROM cost_daily_merged;
DROP TABLE cost_daily_merged;
ALTER TABLE cost_daily ADD UNIQUE (day, billing_period, billing_account, provider, account_id,
    platform, region, service, charge_category, source, currency);
ALTER TABLE cost_resource_daily DROP COLUMN commitment_end;
ALTER TABLE cost_resource_daily DROP COLUMN instance_type;
ALTER TABLE cost_resource_daily DROP COLUMN usage_class;
