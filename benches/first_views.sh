#!/usr/bin/env bash
# First-view benchmark (not a test): how long the first view of every page
# takes for a first and then a second user, right after the data changed,
# on 24 months of demo data (SQLite). Run twice in one go:
#   baseline  warm_pages = false: the first user computes, the second one
#             shares the results (forecasts, plans, comparisons, reviews)
#   warmed    warm_pages = true: serve computes them after the import, so
#             the first user does not wait either
# Prints one table (milliseconds) and each warmed first view as a ratio
# of the baseline's.
#
#   benches/first_views.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/common.sh
bench_setup
BIN=$FINOPS_BIN
END=${END:-2026-11-30}
work=$(mktemp -d)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

PAGES=(/ "/month?month=${END:0:7}" /costs /forecast "/forecast?metric=ccu"
  /capacity /scenarios /recommendations /anomalies /budgets /calendar /rules /unallocated
  /sources /alerts)

declare -A ms
run() {
  local mode=$1 warm=$2 db="$work/$1.db"
  "$BIN" --database "sqlite://$db" demo --months 24 --end "$END" 2>"$work/demo-$mode.log"
  local a b port
  a=$("$BIN" --database "sqlite://$db" token add "first-$mode" --role analyst 2>/dev/null)
  b=$("$BIN" --database "sqlite://$db" token add "second-$mode" --role admin 2>/dev/null)
  printf 'warm_pages = %s\n' "$warm" >"$work/$mode.toml"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  FINOPS_LOG=info "$BIN" --config "$work/$mode.toml" --database "sqlite://$db" \
    serve --bind "127.0.0.1:$port" 2>"$work/serve-$mode.log" &
  server_pid=$!
  for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
  if [ "$warm" = true ]; then
    # Until serve says it has warmed the pages (at most 5 minutes).
    for _ in $(seq 1 600); do grep -q "warmed the pages" "$work/serve-$mode.log" && break; sleep 0.5; done
    grep -a "warmed the pages" "$work/serve-$mode.log" | sed 's/\x1b\[[0-9;]*m//g' | tail -1 >&2
  fi
  local who token page t
  for who in first second; do
    [ "$who" = first ] && token=$a || token=$b
    for page in "${PAGES[@]}"; do
      t=$(curl -s -H "Authorization: Bearer $token" -o /dev/null -w '%{http_code} %{time_total}' "http://127.0.0.1:$port$page")
      [ "${t%% *}" = 200 ] || echo "$mode $who $page answered ${t%% *}" >&2
      ms["$mode|$who|$page"]=$(awk -v s="${t#* }" 'BEGIN {printf "%.0f", s * 1000}')
    done
  done
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
}

run baseline false
run warmed true

printf '%-28s %14s %14s %14s %14s %10s\n' page "base 1st user" "base 2nd user" "warm 1st user" "warm 2nd user" "warm/base"
for page in "${PAGES[@]}"; do
  b1=${ms["baseline|first|$page"]}; b2=${ms["baseline|second|$page"]}
  w1=${ms["warmed|first|$page"]}; w2=${ms["warmed|second|$page"]}
  printf '%-28s %14s %14s %14s %14s %9.2f×\n' "$page" "$b1" "$b2" "$w1" "$w2" "$(awk -v w="$w1" -v b="$b1" 'BEGIN {print (b > 0 ? w / b : 0)}')"
done
