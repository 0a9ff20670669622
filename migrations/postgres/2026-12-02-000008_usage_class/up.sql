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

ALTER TABLE cost_daily ADD COLUMN usage_class TEXT NOT NULL DEFAULT 'other';
UPDATE cost_daily SET usage_class = 'compute_instance'
WHERE service = 'Amazon Elastic Compute Cloud - Compute'
   OR (service LIKE 'Amazon Elastic Compute Cloud%' AND usage_unit IN ('Hrs', 'Hours', 'Hour'));

-- The grain's unique constraint gains the class and the unit.
DO $$
DECLARE name TEXT;
BEGIN
    SELECT conname INTO name FROM pg_constraint
    WHERE conrelid = 'cost_daily'::regclass AND contype = 'u';
    IF name IS NOT NULL THEN
        EXECUTE format('ALTER TABLE cost_daily DROP CONSTRAINT %I', name);
    END IF;
END $$;
CREATE UNIQUE INDEX cost_daily_grain ON cost_daily
    (day, billing_period, billing_account, provider, account_id, platform, region, service,
     charge_category, source, currency, usage_class, COALESCE(usage_unit, ''));
