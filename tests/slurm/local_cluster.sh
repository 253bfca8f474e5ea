#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, entirely inside DIR (docs/slurm.md):
# munged with its own key and socket, slurmctld and slurmd on free localhost
# ports, state and logs in DIR. Nothing in /etc is read or changed.
#   local_cluster.sh start DIR   prints `export SLURM_CONF=DIR/slurm.conf` on success
#   local_cluster.sh stop DIR    stops every daemon `start` started (by its pid file)
# Needs Debian's slurm-wlm and munge (scripts/setup.sh installs them).
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }
action=$1
D=$(realpath -m "$2")

stop() {
  local pid
  for daemon in slurmd slurmctld munged; do
    pid=$(cat "$D/$daemon.pid" 2>/dev/null || true)
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  done
  # Wait for them to exit so that DIR can be removed.
  for _ in $(seq 50); do
    alive=0
    for daemon in slurmd slurmctld munged; do
      pid=$(cat "$D/$daemon.pid" 2>/dev/null || true)
      [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && alive=1
    done
    [ $alive -eq 0 ] && break
    sleep 0.2
  done
  rm -f "$D"/*.pid
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

start() {
  for tool in munged slurmctld slurmd sbatch; do
    command -v "$tool" > /dev/null || { echo "local_cluster: $tool not found (apt install slurm-wlm munge; scripts/setup.sh)" >&2; exit 1; }
  done
  mkdir -p "$D/state" "$D/spool" "$D/munge"
  chmod 700 "$D/munge"
  head -c 1024 /dev/urandom > "$D/munge/munge.key"
  chmod 400 "$D/munge/munge.key"
  munged --force --key-file="$D/munge/munge.key" --socket="$D/munge/munge.socket" \
    --pid-file="$D/munged.pid" --log-file="$D/munged.log" --seed-file="$D/munge/munged.seed"
  local host user ctld_port slurmd_port
  host=$(hostname -s)
  user=$(id -un)
  ctld_port=$(free_port)
  slurmd_port=$(free_port)
  cat > "$D/slurm.conf" <<EOF
# One-node test cluster written by tests/slurm/local_cluster.sh
ClusterName=vosa$$
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
AuthType=auth/munge
AuthInfo=socket=$D/munge/munge.socket
CredType=cred/munge
SlurmUser=$user
SlurmdUser=$user
StateSaveLocation=$D/state
SlurmdSpoolDir=$D/spool
SlurmctldPidFile=$D/slurmctld.pid
SlurmdPidFile=$D/slurmd.pid
SlurmctldLogFile=$D/slurmctld.log
SlurmdLogFile=$D/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
SwitchType=switch/none
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=vosa Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  export SLURM_CONF="$D/slurm.conf"
  slurmctld -f "$SLURM_CONF"
  slurmd -f "$SLURM_CONF"
  for _ in $(seq 100); do
    if sinfo -h -o %t 2>/dev/null | grep -q idle; then
      echo "export SLURM_CONF=$SLURM_CONF"
      return 0
    fi
    sleep 0.2
  done
  echo "local_cluster: the node did not become idle in 20 s; logs: $D/slurmctld.log $D/slurmd.log" >&2
  tail -5 "$D/slurmctld.log" "$D/slurmd.log" >&2 || true
  stop
  exit 1
}

case "$action" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
