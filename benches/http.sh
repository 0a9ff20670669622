#!/usr/bin/env bash
# HTTP benchmark (not a test): requests/s and p99 latency of the Overview
# and the Month review against /healthz on the same server in the same run,
# on SQLite and on PostgreSQL, with 24 months of demo data. Loopback only;
# every measurement is bounded by DURATION seconds and CONNECTIONS
# connections. Prints one table; the ratio column is page ÷ /healthz.
# Pages need sign-in: the script makes a viewer API token and sends it as
# `Authorization: Bearer` (so the figures include the sign-in check).
#
#   benches/http.sh                      # both backends, 10 s, 16 connections
#   DURATION=20 CONNECTIONS=50 benches/http.sh
#   BACKENDS=sqlite benches/http.sh
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-16}
THREADS=${THREADS:-2}
BACKENDS=${BACKENDS:-"sqlite postgres"}
END=${END:-2026-10-31}
MONTH=${END:0:7}
PG_ADMIN=${FINOPS_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/finops-target}"

if ! command -v wrk >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null
fi
cargo build --release --locked -q
BIN="$CARGO_TARGET_DIR/release/finops"
work=$(mktemp -d)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS finops_bench WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# "Requests/sec" and the 99th percentile (ms) from wrk --latency output.
measure() {
  local url=$1 out rps p99 errors
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -H "$auth" "$url")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us$/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v=v*1000}; printf "%.1f", v}' <<<"$out")
  errors=$(awk '/Non-2xx|Socket errors/ {printf "%s ", $0}' <<<"$out")
  echo "$rps $p99 ${errors:-none}"
}

printf '%-9s %-28s %12s %10s %10s  %s\n' backend endpoint "requests/s" "p99 ms" "vs healthz" errors
for backend in $BACKENDS; do
  case $backend in
    sqlite) url="sqlite://$work/bench.db" ;;
    postgres)
      psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS finops_bench WITH (FORCE)" >/dev/null
      psql -q "$PG_ADMIN" -c "CREATE DATABASE finops_bench" >/dev/null
      url="${PG_ADMIN%/*}/finops_bench" ;;
    *) echo "unknown backend $backend" >&2; exit 2 ;;
  esac
  "$BIN" --database "$url" demo --months 24 --end "$END" 2>"$work/demo-$backend.log"
  token=$("$BIN" --database "$url" token add "bench-$backend" --role viewer 2>/dev/null)
  auth="Authorization: Bearer $token"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  FINOPS_LOG=warn "$BIN" --database "$url" serve --bind "127.0.0.1:$port" 2>"$work/serve-$backend.log" &
  server_pid=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
  base="http://127.0.0.1:$port"
  # Cold renders: the first view of each of 12 months (nothing cached yet).
  for page in overview month; do
    times=""
    for m in $(seq 0 11); do
      mm=$(date -u -d "$END -$m month" +%Y-%m)
      if [ "$page" = overview ]; then
        p="/?from=$mm-01&to=$(date -u -d "$mm-01 +1 month -1 day" +%F)"
      else
        p="/month?month=$mm"
      fi
      times="$times $(curl -sf -H "$auth" -o /dev/null -w '%{time_total}' "$base$p")"
    done
    cold=$(tr ' ' '\n' <<<"$times" | grep . | sort -n | awk '{a[NR]=$1} END {printf "median %.1f ms, max %.1f ms", a[int((NR+1)/2)]*1000, a[NR]*1000}')
    printf '%-9s %-28s %s\n' "$backend" "cold $page (12 months)" "$cold"
  done
  for path in "/" "/month?month=$MONTH"; do curl -sf -H "$auth" -o /dev/null "$base$path"; done
  read -r h_rps h_p99 h_err <<<"$(measure "$base/healthz")"
  printf '%-9s %-28s %12s %10s %10s  %s\n' "$backend" "/healthz" "$h_rps" "$h_p99" "1.00" "$h_err"
  for path in "/" "/month?month=$MONTH"; do
    read -r rps p99 err <<<"$(measure "$base$path")"
    ratio=$(awk -v a="$rps" -v b="$h_rps" 'BEGIN {printf "%.3f", a/b}')
    label=$([ "$path" = "/" ] && echo "/ (overview)" || echo "$path")
    printf '%-9s %-28s %12s %10s %10s  %s\n' "$backend" "$label" "$rps" "$p99" "$ratio" "$err"
  done
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
done
echo "(wrk: $THREADS threads, $CONNECTIONS connections, ${DURATION}s per line; $(nproc) cores; demo 24 months to $END)"
