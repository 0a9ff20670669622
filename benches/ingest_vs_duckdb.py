#!/usr/bin/env python3
"""Benchmark, not a test: `finops ingest focus` on a generated FOCUS CSV
(5 million rows by default) against DuckDB doing the same daily
aggregation, in the same run. Prints rows/s, wall time and peak RSS of
each, and the ratios.

Usage: benches/ingest_vs_duckdb.py [--rows N] [--finops PATH] [--keep DIR]
Needs the `duckdb` Python package (benches/ingest.sh installs it in a venv).
"""
import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time

import duckdb

# One day × resource grain: 2,000 resources over one billing month, hourly
# rows, so 5M rows aggregate to ~60k resource-days, like a real CUR/FOCUS.
GENERATE = """
COPY (
  SELECT
    printf('%.10f', (hash(i) % 100000) / 1e6 + 0.0000001234) AS BilledCost,
    printf('%.10f', (hash(i) % 90000) / 1e6) AS EffectiveCost,
    printf('%.10f', (hash(i) % 110000) / 1e6) AS ListCost,
    '123456789012' AS BillingAccountId,
    'USD' AS BillingCurrency,
    '2026-03-01T00:00:00Z' AS BillingPeriodStart,
    '2026-04-01T00:00:00Z' AS BillingPeriodEnd,
    'Usage' AS ChargeCategory,
    strftime(TIMESTAMP '2026-03-01' + INTERVAL (i % 744) HOUR, '%Y-%m-%dT%H:%M:%SZ') AS ChargePeriodStart,
    strftime(TIMESTAMP '2026-03-01' + INTERVAL (i % 744 + 1) HOUR, '%Y-%m-%dT%H:%M:%SZ') AS ChargePeriodEnd,
    'AWS' AS ProviderName,
    ['us-east-1','eu-west-1','ap-northeast-1','eu-central-1','us-west-2','sa-east-1','ap-southeast-2','ap-south-1'][1 + (i // 744) % 8] AS RegionId,
    ['Amazon EC2','Amazon S3','Amazon CloudFront','Amazon DynamoDB','AWS Lambda','Amazon RDS','Amazon GameLift','Amazon ElastiCache','Amazon SQS','Data Transfer'][1 + (i // 744) % 10] AS ServiceName,
    CAST(100000000000 + (i // 744) % 20 AS VARCHAR) AS SubAccountId,
    'res-' || CAST((i // 744) % 2000 AS VARCHAR) AS ResourceId,
    '{{"platform": "' || ['PC','PlayStation','Xbox','Switch','iOS','Android','shared'][1 + (i // 744) % 7] || '"}}' AS Tags,
    printf('%.6f', (hash(i) % 1000) / 100.0) AS ConsumedQuantity,
    'Hours' AS ConsumedUnit
  FROM range({rows}) t(i)
) TO '{path}' (HEADER, DELIMITER ',');
"""

# The same aggregation finops does: resource × day, exact decimal sums.
AGGREGATE = """
CREATE TABLE daily AS
SELECT CAST(CAST(ChargePeriodStart AS TIMESTAMP) AS DATE) AS day,
       BillingPeriodStart, BillingAccountId, ProviderName, SubAccountId,
       coalesce(RegionId, 'global') AS region, ServiceName, ChargeCategory,
       BillingCurrency, ResourceId, Tags, ConsumedUnit,
       sum(CAST(BilledCost AS DECIMAL(38, 12))) AS billed,
       sum(CAST(EffectiveCost AS DECIMAL(38, 12))) AS effective,
       sum(CAST(ListCost AS DECIMAL(38, 12))) AS list,
       sum(CAST(ConsumedQuantity AS DOUBLE)) AS qty,
       count(*) AS n
FROM read_csv('{path}', header = true, all_varchar = true, nullstr = ['NULL', ''])
GROUP BY ALL;
"""

DUCKDB_CHILD = r"""
import sys, time, duckdb
db, sql = sys.argv[1], sys.argv[2]
con = duckdb.connect(db)
con.execute("SET threads TO 2")
t = time.time()
con.execute(sql)
n = con.execute("SELECT count(*), sum(n), round(sum(billed), 2) FROM daily").fetchone()
print(f"{time.time() - t:.3f} groups={n[0]} rows={n[1]} billed={n[2]:.2f}")
"""


MEASURE = r"""
import resource, subprocess, sys
p = subprocess.run(sys.argv[1:], capture_output=True, text=True)
sys.stdout.write(p.stdout)
sys.stderr.write(p.stderr)
sys.stderr.write(f"\n__peak_rss_kib {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}\n")
sys.exit(p.returncode)
"""


def run_measured(cmd):
    """Runs cmd in a fresh wrapper process (so the peak RSS is cmd's own);
    returns (seconds, peak RSS in MiB, stdout, stderr)."""
    t = time.time()
    p = subprocess.run([sys.executable, "-c", MEASURE, *cmd], capture_output=True, text=True)
    seconds = time.time() - t
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd[:4])} … failed ({p.returncode}):\n{p.stderr[-4000:]}")
    lines = p.stderr.strip().splitlines()
    peak = int(lines[-1].split()[1]) / 1024.0
    return seconds, peak, p.stdout, "\n".join(lines[:-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=5_000_000)
    ap.add_argument("--finops", default="target/release/finops")
    ap.add_argument("--keep", help="directory for the generated file (kept)")
    ap.add_argument("--which", choices=["both", "finops", "duckdb"], default="both", help="run one side only")
    args = ap.parse_args()

    work = args.keep or tempfile.mkdtemp(prefix="finops-bench-")
    os.makedirs(work, exist_ok=True)
    path = os.path.join(work, f"focus-{args.rows}.csv")
    if not os.path.exists(path):
        t = time.time()
        duckdb.connect().execute(GENERATE.format(rows=args.rows, path=path))
        print(f"generated {path}: {args.rows:,} rows, {os.path.getsize(path) / 2**20:.0f} MiB in {time.time() - t:.1f} s")

    results = {}
    finops_billed = None
    if args.which in ("both", "finops"):
        db = os.path.join(work, "finops.db")
        if os.path.exists(db):
            os.remove(db)
        secs, rss, _, err = run_measured([args.finops, "--database", f"sqlite://{db}", "ingest", "focus", path])
        results["finops"] = (secs, rss)
        for line in err.splitlines():
            if line.startswith(("imported", "  ")):
                print(f"finops: {line.strip()}")
            if "billed " in line:
                finops_billed = line.split("billed ")[1].split(",")[0]
    if args.which in ("both", "duckdb"):
        db = os.path.join(work, "duckdb.db")
        if os.path.exists(db):
            os.remove(db)
        secs, rss, out, _ = run_measured([sys.executable, "-c", DUCKDB_CHILD, db, AGGREGATE.format(path=path)])
        results["duckdb"] = (secs, rss)
        print(f"duckdb: aggregation {out.strip()}")
        duck_billed = out.strip().split("billed=")[1]
        if args.which == "both":
            same = "the same" if duck_billed == finops_billed else "DIFFERENT"
            print(f"billed total: finops {finops_billed}, duckdb {duck_billed} ({same})")

    print()
    print(f"{'':10} {'seconds':>9} {'rows/s':>12} {'peak RSS MiB':>13}")
    for name, (secs, rss) in results.items():
        print(f"{name:10} {secs:9.2f} {args.rows / secs:12,.0f} {rss:13.0f}")
    if len(results) == 2:
        f, d = results["finops"], results["duckdb"]
        print(f"\nfinops / duckdb: time {f[0] / d[0]:.2f}×, throughput {d[0] / f[0]:.2f}×, peak RSS {f[1] / d[1]:.2f}×")


if __name__ == "__main__":
    main()
