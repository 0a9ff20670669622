#!/usr/bin/env bash
# Accuracy benchmark, not a test: finops' forecaster against statsforecast
# (AutoETS, AutoARIMA, seasonal naive) and Prophet on the same rolling
# origins.
#
#   benches/forecast.sh many [--only NAME,...]   33 real daily, weekly and
#       monthly series (built by benches/forecast_data/build.sh), tuning and
#       held-out parts reported apart
#   benches/forecast.sh [ARGS]                   Peyton Manning with its
#       event calendar and the demo's cost and peak players
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/common.sh
bench_setup statsforecast prophet pandas
if [ "${1:-}" = many ]; then
  shift
  export FORECAST_DATA="${FORECAST_DATA:-$HOME/.cache/finops-forecast-data}"
  [ -f "$FORECAST_DATA/MANIFEST.csv" ] || benches/forecast_data/build.sh
  exec "$VENV/bin/python" benches/forecast_many.py --finops "$FINOPS_BIN" --data "$FORECAST_DATA" "$@"
fi
exec "$VENV/bin/python" benches/forecast_accuracy.py --finops "$FINOPS_BIN" "$@"
