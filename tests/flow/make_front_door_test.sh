#!/usr/bin/env bash
# The Makefile as a newcomer meets it (issue 11): every result in a folder of
# its own config (and sweep), one list syntax, clear errors for an unknown
# MODEL and an unknown vosa subcommand, make sim running every check of a
# Razor/islands design, a complete make help, quiet no-op targets.
#   make_front_door_test.sh VOSA BUILD_DIR
set -uo pipefail
VOSA="$1"; BIN="$(realpath "$2")"
SRC="$(cd "$(dirname "$0")/../.." && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK" "$BIN"/arr-*' EXIT
fail() { echo "FAIL: $*"; exit 1; }
m() { make --no-print-directory -s -C "$SRC" BUILD="$BIN" "$@"; }

# 1. Two configs with the same file name never share a folder; the same
#    content does. `make rtl` (setup already done: -o setup) writes each.
mkdir -p "$WORK/a" "$WORK/b" "$WORK/c"
echo '{"rows": 2, "cols": 3}' > "$WORK/a/arr.json"
echo '{"rows": 3, "cols": 2}' > "$WORK/b/arr.json"
cp "$WORK/a/arr.json" "$WORK/c/arr.json"
da=$(m config-dir CONFIG="$WORK/a/arr.json"); db=$(m config-dir CONFIG="$WORK/b/arr.json")
[ "$da" != "$db" ] || fail "a/arr.json and b/arr.json share $da"
[ "$da" = "$(m config-dir CONFIG="$WORK/c/arr.json")" ] || fail "identical configs in different folders"
for x in a b; do
  m -o setup rtl CONFIG="$WORK/$x/arr.json" > "$WORK/rtl.log" 2>&1 || fail "make rtl $x: $(cat "$WORK/rtl.log")"
  # A no-op rerun is quiet: vosa's own two lines, no command echo, no make noise.
  out=$(cd "$SRC" && make BUILD="$BIN" -o setup rtl CONFIG="$WORK/$x/arr.json" 2>&1) || fail "make rtl $x again: $out"
  [ "$(wc -l <<<"$out")" -le 2 ] && ! grep -qE "Entering directory|Built target|generate --config" <<<"$out" \
    || fail "a no-op make rtl is not quiet: $out"
done
grep -q '"rows": 2' "$da/design/manifest.json" && grep -q '"rows": 3' "$db/design/manifest.json" \
  || fail "designs of a/ and b/ overwrote each other"
echo "ok   configs keyed: $da $db"

# 2. Sweeps get their own flow folder; lists take commas or spaces.
base=$(m flow-dir PDK=sky130hd)
v=$(m flow-dir PDK=sky130hd VOLTAGES=1.3,1.5)
[ "$v" != "$base" ] && [[ "$v" == "$base"* ]] || fail "VOLTAGES sweep folder $v vs $base"
[ "$v" = "$(m flow-dir PDK=sky130hd VOLTAGES='1.3 1.5')" ] || fail "VOLTAGES with spaces differs"
[ "$(m flow-dir CORNERS=x,y)" = "$(m flow-dir CORNERS='x y')" ] || fail "CORNERS with commas differs"
[ "$(m flow-dir PERIOD_NS=5)" != "$(m flow-dir)" ] || fail "PERIOD_NS sweep shares the default folder"
corners=$(make --no-print-directory -s -f "$SRC/flow/stages.make" ROOT="$SRC" BUILD="$WORK" VOSA="$VOSA" \
  FLOW_DIR="$WORK/f" PDK=osu018 DESIGN_DIR="$WORK/d" VOLTAGES="1.3 1.5" --eval 'print: ; @echo $(CORNER_LIST)' print)
[ "$corners" = "typ_1v30,typ_1v50" ] || fail "stages.make VOLTAGES='1.3 1.5' gave '$corners'"
# The same through the top-level make, where CORNERS= is a command-line variable of every sub-make.
for knob in "CORNERS=typ_1v30,typ_1v50" "CORNERS=typ_1v30 typ_1v50" "VOLTAGES=1.3 1.5" "VOLTAGES=1.3,1.5"; do
  got=$(m -o setup corners "$knob" PDK=osu018) || fail "make corners $knob: $got"
  [ "$got" = "typ_1v30 typ_1v50" ] || fail "make corners $knob gave '$got'"
done
got=$(m -o setup corners VOLTAGES=1.3,1.5 CORNERS= PDK=osu018)  # as make explore calls it
[ "$got" = "typ_1v30 typ_1v50" ] || fail "make corners VOLTAGES=1.3,1.5 CORNERS= gave '$got'"
vd() { m --eval 'print-vd: ; @echo $(VALIDATE_DIR) $(call commas,$(VALIDATE_VOLTAGES))' print-vd VALIDATE_VOLTAGES="$1"; }
[ "$(vd '1.6 1.44')" = "$(vd 1.6,1.44)" ] || fail "VALIDATE_VOLTAGES with spaces: $(vd '1.6 1.44') vs $(vd 1.6,1.44)"
# Explore reports of two clock targets (or operating corners) never share a folder.
eo() { m --eval 'print-eo: ; @echo $(EXPLORE_OUT)' print-eo "$@"; }
[ "$(eo PERIOD_NS=16.53)" != "$(eo)" ] && [ "$(eo PERIOD_NS=16.53)" != "$(eo PERIOD_NS=11.02)" ] \
  && [ "$(eo OPERATING_CORNER=tt_025C)" != "$(eo)" ] || fail "explore folders shared: $(eo) $(eo PERIOD_NS=16.53)"
[[ "$(eo FREQ_MHZ=500)" == *-t2.0000ns ]] || fail "explore folder of FREQ_MHZ=500: $(eo FREQ_MHZ=500)"
echo "ok   sweep folders: $v; VOLTAGES/CORNERS/VALIDATE_VOLTAGES take commas or spaces; explore folders keyed by clock and corner"

# 2b. The clock target as a period or a frequency; bad values are named errors.
[[ "$(m flow-dir FREQ_MHZ=500)" == *-t2.0000ns ]] || fail "FREQ_MHZ=500 is not a 2 ns period: $(m flow-dir FREQ_MHZ=500)"
[ "$(m flow-dir FREQ_MHZ=500 PERIOD_NS=2)" = "$(m flow-dir FREQ_MHZ=500)" ] || fail "agreeing PERIOD_NS and FREQ_MHZ refused"
for bad in "PERIOD_NS=0|PERIOD_NS=0: the clock period must be a number > 0" \
           "PERIOD_NS=abc|PERIOD_NS=abc: the clock period must be a number > 0" \
           "FREQ_MHZ=-5|FREQ_MHZ=-5: the clock target must be a frequency > 0" \
           "FREQ_MHZ=500 PERIOD_NS=3|disagree: give one clock target"; do
  knobs=${bad%%|*}; msg=${bad#*|}
  # shellcheck disable=SC2086
  if out=$(m flow-dir $knobs 2>&1); then fail "make flow-dir $knobs accepted: $out"; fi
  grep -qF -- "$msg" <<<"$out" || fail "make flow-dir $knobs: expected '$msg' in: $out"
done
echo "ok   PERIOD_NS / FREQ_MHZ: clock target by period or frequency, bad values named"
# Every fragment takes its folders from config_dir/flow_dir, none from the bare name.
if grep -n 'BUILD)/$(CONFIG_NAME)\|BUILD)/$(EXPLORE_NAME)\|BUILD)/$(ARRAY_NAME)' "$SRC/Makefile" "$SRC"/flow/*.mk; then
  fail "a make fragment names build/<config> without the config hash (use config_dir / flow_dir)"
fi

# 3. Unknown MODEL, unknown subcommand.
out=$(m infer MODEL=resnet9 2>&1) && fail "make infer MODEL=resnet9 succeeded"
grep -q "MODEL=resnet9 is neither a known model (resnet8 dscnn mobilenetv2) nor a .tflite file" <<<"$out" \
  || fail "make infer MODEL=resnet9: $out"
out=$("$VOSA" generat 2>&1) && fail "vosa generat succeeded"
grep -q "unknown subcommand 'generat'; did you mean 'generate'?" <<<"$out" || fail "vosa generat: $out"
out=$("$VOSA" foo 2>&1) && fail "vosa foo succeeded"
grep -q "unknown subcommand 'foo'" <<<"$out" || fail "vosa foo: $out"
echo "ok   make infer MODEL=resnet9 and vosa generat/foo name the problem"

# 4. make sim on a Razor / islands config runs their checks too (the script
#    itself is exercised by rtl.razor.*).
m -n sim CONFIG="$SRC/tests/configs/razor/ws_2x3_islands_only.json" | grep -q "testbench/run_sim_checks.sh" \
  || fail "make sim does not run testbench/run_sim_checks.sh"

# 5. make help names every target.
help=$(m help)
for t in $(sed -n 's/^\.PHONY://p' "$SRC/Makefile" "$SRC"/flow/*.mk); do
  case $t in help*|setup|build|FORCE) continue ;; esac
  grep -qE "make ([a-z-]+ / )*$t\b|/ $t\b|make bench-dnn" <<<"$help" || fail "make help does not mention $t"
done
echo "ok   make help names every target"
# 6. make demo's summary reads the error-model CSV by its column names: the
#    worst bit and its p_error, not the columns beside them.
mkdir -p "$WORK/flow/errmodel"
{ echo "voltage,period_ns,corner,delay_source,samples,cycles_with_error,p_any_error,bit,errors,p_error,ci95_low,ci95_high,mean_settle_ns"
  echo "1.2,4.4,typ_1v20,derated,1000,900,0.9,0,0,0,0,0.004,0.6"
  echo "1.2,4.4,typ_1v20,derated,1000,900,0.9,17,350,0.35,0.32,0.38,3.9"
  echo "1.2,4.4,typ_1v20,derated,1000,900,0.9,18,120,0.12,0.1,0.14,4.1"
  echo "1.8,4.4,typ_1v80,liberty-corner,1000,0,0,17,0,0,0,0.004,2.0"; } > "$WORK/flow/errmodel/errmodel.csv"
sum=$(VOSA="$VOSA" "$SRC/scripts/demo_summary.sh" "$WORK/none" "$WORK/flow" 2>&1) || fail "demo_summary.sh: $sum"
grep -q "1.2 V, T = 4.4 ns (derated) *2 bits fail; worst: bit 17, p_error 0.35" <<<"$sum" \
  && grep -q "1.8 V, T = 4.4 ns (liberty-corner) *no bit fails" <<<"$sum" || fail "demo summary misreads the CSV: $sum"
sed -i '1s/p_error/p_err/' "$WORK/flow/errmodel/errmodel.csv"
sum=$(VOSA="$VOSA" "$SRC/scripts/demo_summary.sh" "$WORK/none" "$WORK/flow" 2>&1)
grep -q 'has no column "p_error"' <<<"$sum" || fail "a CSV without p_error is not named: $sum"
echo "ok   make demo's summary reads the error model by column name"
echo "front door: all checks passed"
