# Sourced by the benchmark scripts: the shared build directory, a Python
# venv under ~/.cache with the packages a benchmark needs, and a release
# build of finops.
#
#   bench_setup MODULE[:PACKAGE] ...   (MODULE is what is imported to check,
#                                       PACKAGE what pip installs)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/finops-target}"
VENV="${FINOPS_VENV:-$HOME/.cache/finops-venv}"
FINOPS_BIN="$CARGO_TARGET_DIR/release/finops"

bench_setup() {
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  local spec module package
  for spec in "$@"; do
    module="${spec%%:*}"
    package="${spec#*:}"
    if ! "$VENV/bin/python" -c "import $module" 2>/dev/null; then
      "$VENV/bin/pip" install -q "$package"
    fi
  done
  cargo build --release --locked -q
}
