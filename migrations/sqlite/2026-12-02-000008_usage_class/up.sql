-- What each billing line is, for commitments: compute_instance (EC2
-- on-demand instance hours), spot, fargate, lambda or other. Decided per
-- line at import from its usage type or description. Usage class and unit
-- are part of the report grain, so storage and transfer billed under EC2
-- are never summed into instance hours and a row's unit is never mixed.
--
-- Rows stored before this column have no usage type left to read: an EC2
-- line billed in hours is taken as instance hours (NAT gateway hours are
-- too; re-importing the bill classifies them exactly), as is Cost
-- Explorer's "EC2 - Compute" service.
ALTER TABLE cost_resource_daily ADD COLUMN usage_class TEXT NOT NULL DEFAULT 'other';
-- The instance type of an instance-hour line (from its usage type or
-- description), for EC2 Instance Savings Plan and Reserved Instance scopes
-- when no utilisation export names the fleet's types.
ALTER TABLE cost_resource_daily ADD COLUMN instance_type TEXT NOT NULL DEFAULT '';
-- A commitment's last day where the bill says it (CUR savings_plan_end_time,
-- reservation_end_time), for the inventory of commitments held.
ALTER TABLE cost_resource_daily ADD COLUMN commitment_end TEXT NOT NULL DEFAULT '';
UPDATE cost_resource_daily SET usage_class = 'compute_instance'
WHERE service = 'Amazon Elastic Compute Cloud - Compute'
   OR (service LIKE 'Amazon Elastic Compute Cloud%' AND usage_unit IN ('Hrs', 'Hours', 'Hour'));

-- SQLite cannot change a table's UNIQUE constraint: the table is rebuilt.
CREATE TABLE cost_daily_new (
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
    usage_class TEXT NOT NULL DEFAULT 'other'
);
INSERT INTO cost_daily_new (id, day, billing_period, billing_account, provider, account_id,
    platform, region, service, charge_category, source, currency, billed_micros,
    effective_micros, list_micros, usage_quantity, usage_unit, estimated, ingest_run_id,
    usage_class)
SELECT id, day, billing_period, billing_account, provider, account_id, platform, region,
    service, charge_category, source, currency, billed_micros, effective_micros, list_micros,
    usage_quantity, usage_unit, estimated, ingest_run_id,
    CASE WHEN service = 'Amazon Elastic Compute Cloud - Compute'
           OR (service LIKE 'Amazon Elastic Compute Cloud%' AND usage_unit IN ('Hrs', 'Hours', 'Hour'))
         THEN 'compute_instance' ELSE 'other' END
FROM cost_daily;
DROP TABLE cost_daily;
ALTER TABLE cost_daily_new RENAME TO cost_daily;
CREATE UNIQUE INDEX cost_daily_grain ON cost_daily
    (day, billing_period, billing_account, provider, account_id, platform, region, service,
     charge_category, source, currency, usage_class, COALESCE(usage_unit, ''));
CREATE INDEX cost_daily_report ON cost_daily
    (currency, day, platform, region, service, charge_category, billed_micros, effective_micros);
CREATE INDEX cost_daily_scope ON cost_daily (source, provider, billing_account, billing_period);
