#!/usr/bin/env bash
# Operand traces of every array layer over several inputs: `vosa infer
# --trace-dir --trace-sample K` for inputs FIRST..FIRST+COUNT-1, each layer's
# whole-layer sample of RECORDS/COUNT records per input (docs/dnn.md), the
# inputs' streams concatenated in input order into OUT_DIR/<layer>_pe<r>_<c>.vtrace
# (header count, source and notes updated). Prints one line per trace as
# `vosa infer` does ("  trace: PATH (N records)") and keeps each input's log
# in OUT_DIR/input<K>.log. Used by make validate-errmodel and make explore.
# More arguments go to `vosa infer` (--trace-carry-save: version-2 records,
# copied as they are).
#   flow/trace_inputs.sh VOSA MODEL_FILE DATA ENCODING ROWSxCOLS PE RECORDS FIRST COUNT OUT_DIR [INFER_ARGS...]
set -euo pipefail
VOSA="$1"; MODEL_FILE="$2"; DATA="$3"; ENCODING="$4"; ARRAY="$5"; PE="$6"; RECORDS="$7"; FIRST="$8"; COUNT="$9"; OUT="${10}"; shift 10
[ "$COUNT" -ge 1 ] || { echo "trace_inputs: error: COUNT must be >= 1, got $COUNT" >&2; exit 1; }
rm -rf "$OUT" && mkdir -p "$OUT"
for k in $(seq "$FIRST" $((FIRST + COUNT - 1))); do
  "$VOSA" infer -m "$MODEL_FILE" -d "$DATA" --input-encoding "$ENCODING" -n 1 -q --trace-sample "$k" \
    --trace-dir "$OUT/input$k" --trace-pe "$PE" --trace-array "$ARRAY" --trace-records $((RECORDS / COUNT)) "$@" \
    > "$OUT/input$k.log" || { cat "$OUT/input$k.log" >&2; exit 1; }
done
python3 - "$OUT" "$FIRST" "$COUNT" <<'PY'
import glob, json, os, struct, sys
out, first, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def read(path):  # docs/trace.md: magic, uint32 header length, JSON header, 16-byte records (24 in version 2)
    data = open(path, "rb").read()
    n = struct.unpack_from("<I", data, 8)[0]
    return json.loads(data[12:12 + n]), data[12 + n:]
for path in sorted(glob.glob(f"{out}/input{first}/*.vtrace")):
    name = os.path.basename(path)
    parts = [read(f"{out}/input{k}/{name}") for k in range(first, first + count)]
    header = dict(parts[0][0])
    header["count"] = sum(h["count"] for h, _ in parts)
    header["source"] = "; ".join(h["source"] for h, _ in parts)
    if count > 1:
        header["notes"] = f"inputs {first}..{first + count - 1} concatenated; each: " + parts[0][0].get("notes", "")
    text = json.dumps(header, separators=(",", ":")).encode()
    with open(f"{out}/{name}.partial", "wb") as f:
        f.write(b"VOSATRC1" + struct.pack("<I", len(text)) + text + b"".join(r for _, r in parts))
    os.replace(f"{out}/{name}.partial", f"{out}/{name}")
    print(f"  trace: {out}/{name} ({header['count']} records)")
PY
rm -rf "$OUT"/input*/
