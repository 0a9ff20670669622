#!/usr/bin/env bash
# Benchmark, not a test: `finops ingest focus` on a generated 5-million-row
# FOCUS CSV against DuckDB doing the same daily aggregation, in one run.
# ROWS=N changes the size; KEEP=DIR keeps the generated file between runs.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/finops-target}"
VENV="${FINOPS_VENV:-$HOME/.cache/finops-venv}"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import duckdb' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q duckdb
fi
cargo build --release --locked -q
args=(--rows "${ROWS:-5000000}" --finops "$CARGO_TARGET_DIR/release/finops")
[ -n "${KEEP:-}" ] && args+=(--keep "$KEEP")
exec "$VENV/bin/python" benches/ingest_vs_duckdb.py "${args[@]}"
