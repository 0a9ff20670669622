#!/usr/bin/env bash
# Accuracy benchmark, not a test: finops' forecaster against statsforecast
# (AutoETS, AutoARIMA) and Prophet on the same rolling-origin splits.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/finops-target}"
VENV="${FINOPS_VENV:-$HOME/.cache/finops-venv}"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import statsforecast, prophet' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q statsforecast prophet pandas
fi
cargo build --release --locked -q
exec "$VENV/bin/python" benches/forecast_accuracy.py --finops "$CARGO_TARGET_DIR/release/finops" "$@"
