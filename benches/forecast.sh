#!/usr/bin/env bash
# Accuracy benchmark, not a test: finops' forecaster against statsforecast
# (AutoETS, AutoARIMA) and Prophet on the same rolling-origin splits.
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/common.sh
bench_setup statsforecast prophet pandas
exec "$VENV/bin/python" benches/forecast_accuracy.py --finops "$FINOPS_BIN" "$@"
