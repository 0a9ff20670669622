#!/usr/bin/env bash
# Benchmark, not a test: `finops ingest focus` on a generated 5-million-row
# FOCUS CSV against DuckDB doing the same daily aggregation, in one run.
# ROWS=N changes the size; KEEP=DIR keeps the generated file between runs.
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/common.sh
bench_setup duckdb
args=(--rows "${ROWS:-5000000}" --finops "$FINOPS_BIN")
[ -n "${KEEP:-}" ] && args+=(--keep "$KEEP")
exec "$VENV/bin/python" benches/ingest_vs_duckdb.py "${args[@]}"
