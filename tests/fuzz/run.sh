#!/usr/bin/env bash
# Fuzzing, bounded: every target for SECONDS (default 60) with cargo fuzz
# (libFuzzer), seeded from the project's and the shared sample files.
# Crashes land in tests/fuzz/artifacts/TARGET/ and fail the run; keep each
# as a regression test (tests/api/fuzz_regressions.rs) once fixed.
#
#   tests/fuzz/run.sh                  # all targets, 60 s each
#   SECONDS_PER_TARGET=300 tests/fuzz/run.sh focus cur
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_PER_TARGET=${SECONDS_PER_TARGET:-60}
export CARGO_TARGET_DIR="${FINOPS_FUZZ_TARGET_DIR:-$HOME/.cache/finops-fuzz}"
# cargo fuzz passes nightly-only flags; the project has one stable toolchain.
export RUSTC_BOOTSTRAP=1
if ! cargo fuzz --version >/dev/null 2>&1; then
  CARGO_TARGET_DIR="$HOME/.cache/cargo-fuzz-build" cargo install cargo-fuzz --locked --version 0.13.2
fi
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(calendar scenario catalog price_list query focus cur activity utilisation)
shared=../shared/data
seed() {
  local t=$1 dir=tests/fuzz/corpus/$1
  mkdir -p "$dir"
  case $t in
    calendar) cp forecasts/demo-calendar.toml "$dir/" ;;
    scenario) cp forecasts/scenarios/*.toml "$dir/" ;;
    catalog) head -c 20000 src/pricing/data/aws-instances.csv > "$dir/catalog.csv" ;;
    price_list) cp tests/fixtures/price-list/* "$dir/" ;;
    query) printf 'from=2026-10-01&to=2026-10-31&platform=PC,ps5&region=eu-west-1&month=2026-10' > "$dir/q1" ;;
    focus) [ -f "$shared/focus-1.0-sample.csv" ] && head -n 40 "$shared/focus-1.0-sample.csv" > "$dir/focus.csv" ;;
    cur) [ -f "$shared/aws-cur-legacy-sample.csv" ] && head -n 40 "$shared/aws-cur-legacy-sample.csv" > "$dir/cur.csv" ;;
    activity) printf 'day,platform,region,peak_concurrent_players,player_hours\n2026-10-01,PC,eu-west-1,1200,5400.5\n' > "$dir/a.csv" ;;
    utilisation) printf 'period_start,resource_id,instance_type,region,platform,running_hours,cpu_avg,cpu_max\n2026-10-01T00:00:00Z,i-1,c6i.large,eu-west-1,PC,24,30,70\n' > "$dir/u.csv" ;;
  esac
}
failed=0
printf '%-12s %12s %10s  %s\n' target executions "exec/s" result
for t in "${targets[@]}"; do
  seed "$t"
  log=$(mktemp)
  if cargo fuzz run --fuzz-dir tests/fuzz -s none -O "$t" "tests/fuzz/corpus/$t" -- \
      -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=4096 -max_len=65536 -print_final_stats=1 >"$log" 2>&1; then
    result=ok
  else
    result="CRASH (see tests/fuzz/artifacts/$t/)"
    failed=1
  fi
  runs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log")
  rate=$(awk '/stat::average_exec_per_sec/ {print $2}' "$log")
  printf '%-12s %12s %10s  %s\n' "$t" "${runs:-?}" "${rate:-?}" "$result"
  [ "$result" = ok ] || tail -n 30 "$log"
  rm -f "$log"
done
exit $failed
