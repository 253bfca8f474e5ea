#!/usr/bin/env bash
# Sweeps through a real Slurm (docs/slurm.md): starts a one-node cluster on
# this machine (tests/slurm/local_cluster.sh, Debian slurm-wlm and munge),
# and checks against local runs of the same commands:
#   1. flow/launch.sh reports a failed and a cancelled array task with their logs;
#   2. make characterize's corner script gives the same errmodel.json through
#      Slurm as locally; a corner whose task fails stops the merge (no
#      errmodel.json), and the rerun simulates only that corner;
#   3. vosa explore with its workers as srun steps of one Slurm job, with local
#      worker processes and in one process give the same points and schedules.
# Stops every daemon it started. usage: slurm_test.sh VOSA_BINARY SOURCE_DIR
set -uo pipefail
VOSA=$(realpath "$1")
SRC=$(realpath "$2")
DATA=${VOSA_DATA_DIR:-$SRC/../shared}
T=$(mktemp -d /tmp/vosa_slurm.XXXXXX)
cleanup() {
  "$SRC/tests/slurm/local_cluster.sh" stop "$T/cluster"
  if [ "${failed:-1}" = 0 ]; then rm -rf "$T"; else echo "slurm test: files kept in $T"; fi
}
trap cleanup EXIT
failed=1
fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok: $* (at $(( $(date +%s) - start )) s)"; }
cd "$SRC"

start=$(date +%s)
eval "$(tests/slurm/local_cluster.sh start "$T/cluster")" || fail "could not start the local Slurm cluster"
[ -n "${SLURM_CONF:-}" ] || fail "local_cluster.sh gave no SLURM_CONF"
ok "one-node Slurm up in $(( $(date +%s) - start )) s ($(sinfo -h -o '%P %t %c CPUs'))"

# 1. Failure reporting of the array launcher.
L=$T/launch
mkdir -p "$L"
{
  printf '%s\t%s\n' "$L/ok.log" "echo done > $L/ok.out"
  printf '%s\t%s\n' "$L/bad.log" "echo broken; exit 3"
  printf '%s\t%s\n' "$L/slow.log" "sleep 300"
} > "$L/tasks.txt"
LAUNCHER=slurm flow/launch.sh check "$L/tasks.txt" > "$L/out.txt" 2>&1 &
launcher=$!
for _ in $(seq 300); do
  task=$(squeue -h -n vosa-check -t R -o %i 2>/dev/null | grep '_2$' || true)
  [ -n "$task" ] && break
  sleep 0.2
done
[ -n "$task" ] || fail "the slow array task never ran: $(cat "$L/out.txt")"
scancel "$task"
wait $launcher
status=$?
[ $status -eq 1 ] || fail "launch.sh exited $status after a failed and a cancelled task: $(cat "$L/out.txt")"
grep -q "failed with status 3; log: $L/bad.log" "$L/out.txt" || fail "the failed task is not reported: $(cat "$L/out.txt")"
grep -q "without an exit status.*log: $L/slow.log" "$L/out.txt" || fail "the cancelled task is not reported: $(cat "$L/out.txt")"
[ "$(cat "$L/ok.out" 2>/dev/null)" = done ] || fail "the good task did not run"
grep -q "2 of 3 tasks did not finish" "$L/out.txt" || fail "no summary: $(cat "$L/out.txt")"
ok "launch.sh: a failed task and a cancelled one reported with their logs"

# 2. Characterization: osu018 default PE at three corners.
B=$T/build
corners="typ_1v60 typ_1v70 typ_1v80"
"$VOSA" generate --quiet --config generator/examples/default.json --out "$B/default/design" || fail "vosa generate"
make --no-print-directory -f flow/stages.make ROOT="$SRC" BUILD="$B" VOSA="$VOSA" CONFIG_NAME=default PDK=osu018 \
  DESIGN_DIR="$B/default/design" REQUESTED_CORNERS="$corners" all > "$T/flow.log" 2>&1 || fail "flow: $(tail -20 "$T/flow.log")"
characterize() {  # as `make characterize` calls it
  VOSA=$VOSA BUILD=$B CONFIG_NAME=default PDK=osu018 DESIGN_DIR=$B/default/design CORNERS="$corners" \
    OPERANDS=uniform:1 DTA_CYCLES=${CYCLES:-3000} DTA_DELAY_MODE=transport DTA_SETUP=sdf DTA_THREADS=1 DTA_PATTERNS=16 \
    flow/characterize.sh
}
E=$B/default/osu018/errmodel
LAUNCHER=local characterize > "$T/char_local.log" 2>&1 || fail "local characterize: $(tail -20 "$T/char_local.log")"
mv "$E" "$T/errmodel_local"
LAUNCHER=slurm characterize > "$T/char_slurm.log" 2>&1 || fail "Slurm characterize: $(tail -20 "$T/char_slurm.log")"
grep -q "3 Slurm array tasks" "$T/char_slurm.log" || fail "characterize did not go through Slurm: $(cat "$T/char_slurm.log")"
cmp "$E/errmodel.json" "$T/errmodel_local/errmodel.json" || fail "errmodel.json through Slurm differs from the local one"
ok "characterize: 3 corners as Slurm array tasks, errmodel.json identical to the local run's"

# A corner that fails: no merge, then a rerun simulates only that corner.
CYCLES=2000
cp "$B/default/osu018/sdf/typ_1v60.sdf" "$T/typ_1v60.sdf"
echo "(DELAYFILE broken" > "$B/default/osu018/sdf/typ_1v60.sdf"
rm -f "$E/errmodel.json"
if LAUNCHER=slurm characterize > "$T/char_fail.log" 2>&1; then fail "characterize passed with a broken SDF"; fi
grep -q "log: $E/corners/typ_1v60.log" "$T/char_fail.log" || fail "the failed corner's log is not named: $(cat "$T/char_fail.log")"
grep -q "no current result for corner(s) typ_1v60" "$T/char_fail.log" || fail "the merge did not refuse: $(cat "$T/char_fail.log")"
[ ! -e "$E/errmodel.json" ] || fail "errmodel.json written from incomplete results"
cp "$T/typ_1v60.sdf" "$B/default/osu018/sdf/typ_1v60.sdf"
LAUNCHER=slurm characterize > "$T/char_rerun.log" 2>&1 || fail "rerun: $(tail -20 "$T/char_rerun.log")"
grep -q "1 Slurm array tasks" "$T/char_rerun.log" || fail "the rerun did not simulate exactly one corner: $(cat "$T/char_rerun.log")"
grep -q "typ_1v60: 2000 cycles" "$T/char_rerun.log" || fail "the rerun did not simulate the failed corner"
[ -f "$E/errmodel.json" ] || fail "no errmodel.json after the rerun"
ok "characterize: a failed corner stops the merge, the rerun redoes only it"

# 3. Explore: one 8x8 array with two islands over the three corners.
mv "$E" "$T/errmodel_partial" && cp -r "$T/errmodel_local" "$E"
flow/razor_cost.sh "$VOSA" "$B" osu018 > "$T/razor_cost.log" 2>&1 || fail "razor cost: $(tail -20 "$T/razor_cost.log")"
P=$B/default/osu018
model=$DATA/dnn/ic_resnet8_cifar10/model/pretrainedResnet_quant.tflite
[ -f "$model" ] || fail "DNN data missing: $model (set VOSA_DATA_DIR)"
explore() {  # explore OUT ARGS...
  local out=$1
  shift
  "$VOSA" explore --config tests/configs/slurm/explore_8x8_osu018.json --errmodel "$E/errmodel.json" \
    --energy "$P/power/energy.json" --razor-cost "$B/razor_cost/razor_cost.json" --sta "$P/sta/bit_timing.json" \
    -m "$model" -d "$DATA/dnn/ic_resnet8_cifar10/data/ic01" --input-encoding pixels --model-name resnet8 \
    --budget 5 -n 16 --repeats 1 --seed 7 --algorithms xtpu,rathore --curve-top-k 8 -o "$out" "$@"
}
explore "$T/ex_one" -j 2 > "$T/ex_one.log" 2>&1 || fail "explore in one process: $(tail -20 "$T/ex_one.log")"
explore "$T/ex_local" -j 1 --workers 3 > "$T/ex_local.log" 2>&1 || fail "explore, local workers: $(tail -20 "$T/ex_local.log")"
printf '%q ' "$VOSA" explore --config tests/configs/slurm/explore_8x8_osu018.json --errmodel "$E/errmodel.json" \
    --energy "$P/power/energy.json" --razor-cost "$B/razor_cost/razor_cost.json" --sta "$P/sta/bit_timing.json" \
    -m "$model" -d "$DATA/dnn/ic_resnet8_cifar10/data/ic01" --input-encoding pixels --model-name resnet8 \
    --budget 5 -n 16 --repeats 1 --seed 7 --algorithms xtpu,rathore --curve-top-k 8 -o "$T/ex_slurm" > "$T/explore_command.txt"
# shellcheck disable=SC2046  # the words written above
eval flow/explore_slurm.sh 2 1 "$T/ex_slurm.slurm.log" $(cat "$T/explore_command.txt") > "$T/ex_slurm.log" 2>&1 ||
  fail "explore through Slurm: $(tail -20 "$T/ex_slurm.log")"
[ -f "$T/ex_slurm/workers/worker_1.log" ] || fail "no worker logs in the Slurm explore output"
python3 - "$T/ex_one" "$T/ex_local" "$T/ex_slurm" <<'EOF' || fail "explore results differ between the runs"
import json, pathlib, sys
def points(d):
    def strip(x):  # wall times and the command line differ between runs
        if isinstance(x, dict): return {k: strip(v) for k, v in x.items() if k not in ("seconds", "command")}
        if isinstance(x, list): return [strip(v) for v in x]
        return x
    return strip(json.load(open(pathlib.Path(d) / "points.json")))
def chosen(d):
    return {p.name: json.load(open(p)) for p in sorted((pathlib.Path(d) / "chosen").glob("*.json"))}
one, rest = sys.argv[1], sys.argv[2:]
ref = points(one)
assert len(ref["points"]) > 10, "too few points to compare"
for d in rest:
    got = points(d)
    if got != ref:
        for a, b in zip(ref["points"], got["points"]):
            if a != b: print("first differing point:", a, b); break
        sys.exit(f"{d}/points.json differs from {one}")
    if chosen(d) != chosen(one): sys.exit(f"{d}/chosen differs from {one}")
print(f"{len(ref['points'])} points identical in {len(rest) + 1} runs")
EOF
grep -q "2 worker processes" "$T/ex_slurm.log" || fail "the Slurm explore did not use 2 workers: $(cat "$T/ex_slurm.log")"
ok "explore: in one process, 3 local workers and 2 srun workers in one Slurm job give the same points and schedules"

failed=0
echo "slurm test passed in $(( $(date +%s) - start )) s"
