#!/usr/bin/env bash
# Runs a sweep's independent tasks here or as one Slurm array job
# (docs/slurm.md). The sweeps (make characterize, make charlib) write one line
# per task into TASKS: "<log file><TAB><shell command>"; each task writes its
# own result file, and the caller checks and merges them afterwards, exactly
# as in a local run.
#   LAUNCHER=local   tasks one after another, output on the terminal and in the log
#   LAUNCHER=slurm   sbatch --array over the tasks, waits for all of them;
#                    SLURM_ARGS= more sbatch options (--partition, --account, --time, ...)
# Every task leaves "<log>.rc" with its exit status. A task that failed, or
# that has no status (cancelled, timed out, node lost), is reported with its
# log path, and the script exits 1 after all tasks have ended.
# usage: launch.sh NAME TASKS
set -uo pipefail
[ $# -eq 2 ] || { echo "usage: $0 NAME TASKS" >&2; exit 2; }
name=$1 tasks=$(realpath "$2")
launcher=${LAUNCHER:-local}
n=$(grep -c . "$tasks" || true)
[ "$n" -gt 0 ] || exit 0
logs=()
while IFS=$'\t' read -r log _; do logs+=("$log"); rm -f "$log.rc"; done < "$tasks"

case "$launcher" in
  local)
    while IFS=$'\t' read -r log command; do
      bash -c "$command" 2>&1 < /dev/null | tee "$log"
      echo "${PIPESTATUS[0]}" > "$log.rc"
    done < "$tasks"
    ;;
  slurm)
    command -v sbatch > /dev/null || { echo "launch: LAUNCHER=slurm but sbatch is not installed (apt install slurm-client)" >&2; exit 2; }
    script="${tasks%.*}.sbatch.sh"
    cat > "$script" <<EOF
#!/usr/bin/env bash
# $name: task \$SLURM_ARRAY_TASK_ID of $tasks (written by flow/launch.sh)
IFS=\$'\\t' read -r log command < <(sed -n "\$((SLURM_ARRAY_TASK_ID + 1))p" "$tasks")
bash -c "\$command" > "\$log" 2>&1 < /dev/null
rc=\$?
echo \$rc > "\$log.rc"
exit \$rc
EOF
    chmod +x "$script"
    echo "launch: $name: $n Slurm array tasks (sbatch ${SLURM_ARGS:-}); waiting"
    # shellcheck disable=SC2086  # SLURM_ARGS is a list of options
    job=$(sbatch --parsable --wait --array=0-$((n - 1)) --job-name="vosa-$name" \
      --output="${tasks%.*}.slurm-%A_%a.out" ${SLURM_ARGS:-} "$script")
    [ -n "$job" ] || { echo "launch: $name: sbatch did not accept the job (see its message above)" >&2; exit 1; }
    echo "launch: $name: Slurm job $job ended"
    ;;
  *) echo "launch: LAUNCHER must be local or slurm, got '$launcher'" >&2; exit 2 ;;
esac

failed=0
for log in "${logs[@]}"; do
  if [ ! -f "$log.rc" ]; then
    echo "launch: $name: a task ended without an exit status (cancelled, timed out or its node lost); log: $log" >&2
    failed=$((failed + 1))
  elif [ "$(cat "$log.rc")" != 0 ]; then
    echo "launch: $name: a task failed with status $(cat "$log.rc"); log: $log" >&2
    failed=$((failed + 1))
  fi
done
[ "$failed" -eq 0 ] || { echo "launch: $name: $failed of $n tasks did not finish" >&2; exit 1; }
