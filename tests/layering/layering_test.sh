#!/usr/bin/env bash
# The layering check passes on the repository and fails on a tree where a lower
# layer includes a higher one's header (so the check itself cannot be a no-op).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
python3 "$here/check_layers.py" "$repo"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/generator/include/vosa" "$tmp/explore/include/vosa/explore" "$tmp/generator/src"
echo '#pragma once' > "$tmp/explore/include/vosa/explore/energy.hpp"
echo '#pragma once' > "$tmp/generator/include/vosa/config.hpp"
printf '#include "vosa/config.hpp"\n#include "vosa/explore/energy.hpp"\n' > "$tmp/generator/src/bad.cpp"
if out="$(python3 "$here/check_layers.py" "$tmp" 2>&1)"; then
  echo "FAIL: an upward include was not found"; exit 1
fi
grep -q "generator/src/bad.cpp: includes vosa/explore/energy.hpp from explore/" <<<"$out" || {
  echo "FAIL: unexpected message: $out"; exit 1; }
echo "PASS: upward include reported"
