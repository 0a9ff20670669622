#!/usr/bin/env python3
"""The Athena query's text run on a real engine (DuckDB) for finops' tests.

  athena_duckdb.py generate OUT.parquet        a CUR 2.0 Parquet (typed as AWS writes it)
  athena_duckdb.py columns IN.parquet          its column names, one a line
  athena_duckdb.py query IN.parquet SQL OUT.csv
        runs the SQL file verbatim with the Parquet as table "cur"."data", and
        writes the answer as Athena's GetQueryResults renders values: nulls
        empty, timestamps 'YYYY-MM-DD HH:MM:SS.fff', decimals in plain digits.
"""
import csv
import datetime
import decimal
import sys

import duckdb

GENERATE = """
COPY (
  WITH lines AS (
    SELECT i,
      i % 60 AS r,
      (i // 60) % 61 AS d,
      i % 24 AS h,
      CASE WHEN i % 17 = 0 THEN 'SavingsPlanCoveredUsage'
           WHEN i % 19 = 0 THEN 'DiscountedUsage'
           WHEN i % 23 = 0 THEN 'Tax'
           WHEN i % 29 = 0 THEN 'Credit'
           WHEN i % 31 = 0 THEN 'SavingsPlanRecurringFee'
           WHEN i % 37 = 0 THEN 'RIFee'
           WHEN i % 41 = 0 THEN 'SavingsPlanNegation'
           ELSE 'Usage' END AS ty
    FROM range(30000) t(i)
  ), typed AS (
    SELECT *, TIMESTAMP '2026-10-01' + INTERVAL (d) DAY + INTERVAL (h) HOUR AS start FROM lines
  )
  SELECT
    '111122223333' AS bill_payer_account_id,
    date_trunc('month', start) AS bill_billing_period_start_date,
    date_trunc('month', start) + INTERVAL 1 MONTH AS bill_billing_period_end_date,
    CAST(444455556600 + r % 3 AS VARCHAR) AS line_item_usage_account_id,
    ty AS line_item_line_item_type,
    start AS line_item_usage_start_date,
    start + INTERVAL 1 HOUR AS line_item_usage_end_date,
    CASE WHEN r % 5 = 4 THEN 'AmazonS3' ELSE 'AmazonEC2' END AS line_item_product_code,
    CASE WHEN r % 5 = 4 THEN 'USE1-TimedStorage-ByteHrs'
         WHEN r % 7 = 3 THEN 'EU-SpotUsage:c5.xlarge'
         ELSE 'USE1-BoxUsage:c6i.' || ['large','xlarge','2xlarge'][1 + r % 3] END AS line_item_usage_type,
    'line ' || ty || ' of resource ' || CAST(r AS VARCHAR) AS line_item_line_item_description,
    CASE WHEN r % 5 = 4 THEN 'bucket-' || CAST(r AS VARCHAR) ELSE 'i-0' || printf('%015x', r * 7919) END AS line_item_resource_id,
    ['us-east-1','eu-west-1','ap-northeast-1'][1 + r % 3] AS product_region_code,
    ['us-east-1','eu-west-1','ap-northeast-1'][1 + r % 3] || 'a' AS line_item_availability_zone,
    'Hrs' AS pricing_unit,
    CASE WHEN ty = 'Credit' THEN -1 ELSE 1 END * ((hash(i) % 1000000000) / 1e10 + 0.05) AS line_item_unblended_cost,
    (hash(i * 3) % 100000000) / 1e8 + 0.06 AS pricing_public_on_demand_cost,
    (hash(i * 5) % 1000) / 100.0 AS line_item_usage_amount,
    'USD' AS line_item_currency_code,
    CASE WHEN ty IN ('SavingsPlanCoveredUsage','SavingsPlanRecurringFee','SavingsPlanNegation')
         THEN 'arn:aws:savingsplans::111122223333:savingsplan/sp-' || CAST(r % 2 AS VARCHAR) END AS savings_plan_savings_plan_a_r_n,
    CASE WHEN ty = 'SavingsPlanCoveredUsage' THEN (hash(i * 7) % 1000000000) / 2e10 END AS savings_plan_savings_plan_effective_cost,
    CASE WHEN ty = 'SavingsPlanRecurringFee' THEN 1.25 END AS savings_plan_total_commitment_to_date,
    CASE WHEN ty = 'SavingsPlanRecurringFee' THEN (hash(i * 11) % 100000) / 1e5 END AS savings_plan_used_commitment,
    CASE WHEN ty IN ('DiscountedUsage','RIFee')
         THEN 'arn:aws:ec2:us-east-1:111122223333:reserved-instances/ri-' || CAST(r % 2 AS VARCHAR) END AS reservation_reservation_a_r_n,
    CASE WHEN ty = 'DiscountedUsage' THEN (hash(i * 13) % 1000000000) / 3e10 END AS reservation_effective_cost,
    CASE WHEN ty = 'RIFee' THEN (hash(i * 17) % 100000) / 1e6 END AS reservation_unused_amortized_upfront_fee_for_billing_period,
    CASE WHEN ty = 'RIFee' THEN (hash(i * 19) % 100000) / 1e6 END AS reservation_unused_recurring_fee,
    CASE WHEN r % 4 = 0 THEN MAP(['user_platform'], ['PC'])
         WHEN r % 4 = 1 THEN MAP(['user_platform', 'user_team'], ['PlayStation', 'core'])
         WHEN r % 4 = 2 THEN MAP(['user_platform'], ['Switch'])
         ELSE MAP([]::VARCHAR[], []::VARCHAR[]) END AS resource_tags,
    'ignored' AS identity_line_item_id
  FROM typed
) TO '{out}' (FORMAT parquet);
"""


def render(value):
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.") + f"{value.microsecond // 1000:03d}"
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    return str(value)


def main():
    command = sys.argv[1]
    con = duckdb.connect()
    if command == "generate":
        con.execute(GENERATE.format(out=sys.argv[2]))
        return
    con.execute("CREATE SCHEMA cur")
    con.execute(f"CREATE VIEW cur.data AS SELECT * FROM read_parquet('{sys.argv[2]}')")
    if command == "columns":
        for (name,) in con.execute("SELECT column_name FROM (DESCRIBE cur.data)").fetchall():
            print(name)
        return
    sql = open(sys.argv[3]).read()
    result = con.execute(sql)
    names = [d[0] for d in result.description]
    with open(sys.argv[4], "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(names)
        for row in result.fetchall():
            w.writerow([render(v) for v in row])


if __name__ == "__main__":
    main()
