#!/usr/bin/env bash
# make explore LAUNCHER=slurm: runs one `vosa explore` as a Slurm batch job
# of WORKERS tasks (docs/slurm.md). vosa explore runs in the batch step and
# starts each worker, one block of the inputs, as an srun step of that
# allocation; the results equal a local run's. SLURM_ARGS: more sbatch options.
# usage: explore_slurm.sh WORKERS THREADS_PER_WORKER LOG vosa explore ARGS...
set -euo pipefail
[ $# -ge 5 ] || { echo "usage: $0 WORKERS THREADS LOG vosa explore ARGS..." >&2; exit 2; }
workers=$1 threads=$2 log=$3
shift 3
command -v sbatch > /dev/null || { echo "explore: LAUNCHER=slurm but sbatch is not installed (apt install slurm-client)" >&2; exit 2; }
mkdir -p "$(dirname "$log")"
script="$log.sbatch.sh"
{
  echo '#!/usr/bin/env bash'
  printf '%q ' "$@" --workers "$workers" -j "$threads" --worker-launch "srun --ntasks=1 --nodes=1 --exact --quiet"
  echo
} > "$script"
chmod +x "$script"
echo "explore: one Slurm job of $workers tasks x $threads CPUs (sbatch ${SLURM_ARGS:-}); log: $log"
rc=0
# shellcheck disable=SC2086  # SLURM_ARGS is a list of options
sbatch --wait --quiet --ntasks="$workers" --cpus-per-task="$threads" --job-name=vosa-explore \
  --output="$log" ${SLURM_ARGS:-} "$script" || rc=$?
cat "$log" 2>/dev/null || true
[ $rc -eq 0 ] || echo "explore: the Slurm job failed (status $rc); log: $log" >&2
exit $rc
