#!/usr/bin/env bash
# `vosa generate --out DIR` never deletes what vosa did not write: a folder
# with a user's files is refused (exit non-zero, files intact, nothing
# written); an earlier vosa output is replaced, and the command says so.
set -uo pipefail
VOSA="$1"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
CFG="$ROOT/generator/examples/default.json"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

mkdir -p "$WORK/user/sub" && echo notes > "$WORK/user/notes.txt" && echo "module y; endmodule" > "$WORK/user/sub/y.v"
out="$("$VOSA" generate --config "$CFG" --out "$WORK/user" 2>&1)" && fail "a folder with a user's files was accepted"
[[ "$out" == *"notes.txt, sub/y.v"* ]] || fail "message does not name the files: $out"
[ -f "$WORK/user/notes.txt" ] && [ -f "$WORK/user/sub/y.v" ] || fail "a user's file was deleted"
[ ! -e "$WORK/user/rtl" ] || fail "wrote into a refused folder"
ls -A "$WORK" | grep -q partial && fail "staging folder left behind"
echo "ok   refused: $out"

# The working directory itself (--out "$(pwd)") is refused the same way.
(cd "$WORK/user" && "$VOSA" generate --config "$CFG" --out "$(pwd)" >/dev/null 2>&1) && fail "--out \$(pwd) accepted"
[ -f "$WORK/user/notes.txt" ] || fail "--out \$(pwd) deleted a file"
echo "ok   --out \$(pwd) refused"

"$VOSA" generate --config "$CFG" --out "$WORK/design" -q || fail "new folder"
mkdir -p "$WORK/empty" && "$VOSA" generate --config "$CFG" --out "$WORK/empty" -q || fail "empty folder"
out="$("$VOSA" generate --config "$ROOT/tests/configs/ws_2x3.json" --out "$WORK/design" -q 2>&1)" || fail "replacing own output: $out"
[[ "$out" == *"replacing the earlier vosa output in $WORK/design (config hash "* ]] || fail "replacement not announced: $out"
grep -q '"rows": 2' "$WORK/design/manifest.json" || fail "not replaced"
echo "ok   replaced: $out"
echo "user note" > "$WORK/design/notes.txt"
"$VOSA" generate --config "$CFG" --out "$WORK/design" -q 2>/dev/null && fail "vosa output with a user's file accepted"
[ -f "$WORK/design/notes.txt" ] || fail "a user's file in a vosa output was deleted"
echo "out_dir: no file vosa did not write was deleted"
