#!/usr/bin/env bash
# Golden RTL: regenerates each reference config in tests/golden/<name>/ and
# diffs it against the checked-in output, so a template change shows up as a
# reviewable diff. After an intended change, refresh with:
#   tests/rtl/golden.sh build/vosa --update
set -euo pipefail
VOSA="$1"; MODE="${2:-check}"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
status=0
for cfg in "$ROOT"/tests/golden/*.json; do
  name="$(basename "$cfg" .json)"
  "$VOSA" generate --quiet --config "$cfg" --out "$WORK/$name"
  if [ "$MODE" = "--update" ]; then
    rm -rf "$ROOT/tests/golden/$name"
    cp -r "$WORK/$name" "$ROOT/tests/golden/$name"
    echo "golden: updated tests/golden/$name"
  elif ! diff -ru "$ROOT/tests/golden/$name" "$WORK/$name"; then
    echo "FAIL: generated output for $name differs from tests/golden/$name (diff above)"
    status=1
  else
    echo "golden: $name matches"
  fi
done
exit $status
