# Sourced by the command-line tests that run vosa on the DNN data (tests/dnn/infer_cli_test.sh,
# infer_dump_cli_test.sh, tests/inject/infer_inject_cli_test.sh, tests/reuse/reuse_cli_test.sh,
# tests/sram/sram_cli_test.sh, neuralfuse_replica_test.sh): VOSA (the test's first argument), the
# source tree SRC, the data DATA, fail, `need PATH...` (names missing test data) and a scratch $tmp
# removed on exit.
#   usage in a test: source "$(dirname "$0")/../cli_prologue.sh"
VOSA="$1"
SRC="$(cd "$(dirname "$0")/../.." && pwd)"
DATA="${VOSA_DATA_DIR:-$SRC/../shared}"
fail() { echo "FAIL: $*"; exit 1; }
need() {
  local p
  for p in "$@"; do [ -e "$p" ] || fail "missing test data: $p (set VOSA_DATA_DIR)"; done
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
