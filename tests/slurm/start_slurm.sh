#!/usr/bin/env bash
# Start a single-node SLURM on localhost for the SLURM tests: munged, slurmctld, slurmd.
#
#   bash tests/slurm/start_slurm.sh      # prints "started" or "already running"
#   bash tests/slurm/stop_slurm.sh       # stops exactly the daemons started here
#
# Writes /etc/slurm/slurm.conf (the slurm job-step plugin strips SLURM_CONF, so the
# config has to live at the default path) and refuses to touch one it did not write,
# so it never clobbers a real cluster's configuration. State, logs and the PIDs of
# the started daemons go to $PIEFLOW_SLURM_STATE (default /tmp/pieflow-slurm); the
# controller's log ($PIEFLOW_SLURM_STATE/slurmctld.log) records every sbatch.
# No accounting database: job states come from `squeue` (MinJobAge=600 keeps
# finished jobs visible to it for 10 minutes); see profiles/ci-slurm/config.yaml.
set -euo pipefail

STATE=${PIEFLOW_SLURM_STATE:-/tmp/pieflow-slurm}
CONF=/etc/slurm/slurm.conf
MARKER="# Written by pieflow tests/slurm/start_slurm.sh"
PIDS="$STATE/pids"

die() { echo "start_slurm.sh: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "needs root (runs munged, slurmctld and slurmd)"
for exe in /usr/sbin/munged /usr/sbin/slurmctld /usr/sbin/slurmd sbatch squeue scontrol; do
    command -v "$exe" >/dev/null || die "$exe not installed (bash tests/slurm/install_slurm.sh)"
done
if [ -e "$CONF" ] && ! grep -qxF "$MARKER" "$CONF"; then
    die "$CONF exists and was not written by this script; not touching a real cluster"
fi

alive() {  # alive NAME PID: the PID runs the daemon NAME
    [ -n "${2:-}" ] && [ "$(cat "/proc/$2/comm" 2>/dev/null)" = "$1" ]
}

ready() {
    timeout 5 scontrol ping 2>/dev/null | grep -q "is UP" &&
        timeout 5 sinfo -h -n localhost -o %T 2>/dev/null | grep -qE "^(idle|mixed|allocated)"
}

if [ -s "$PIDS" ]; then
    all_alive=1
    while read -r name pid; do
        alive "$name" "$pid" || all_alive=0
    done <"$PIDS"
    if [ "$all_alive" = 1 ] && ready; then
        echo "already running"
        exit 0
    fi
    bash "$(dirname "$0")/stop_slurm.sh" >/dev/null 2>&1 || true
fi

mkdir -p "$STATE/ctld" "$STATE/spool" /etc/slurm
: >"$PIDS"
# Memory and CPUs as slurmd sees them, so the node never drains for "low memory".
hardware=$(/usr/sbin/slurmd -C | head -n 1 | sed 's/^NodeName=[^ ]* //')

cat >"$CONF" <<CONFIG
$MARKER
# A single-node test cluster on localhost; not for production use.
ClusterName=pieflow-test
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/builtin
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
# squeue is the only status source without slurmdbd: keep finished jobs 10 minutes.
MinJobAge=600
ReturnToService=2
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/spool
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/slurmctld.log
SlurmdLogFile=$STATE/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
NodeName=localhost $hardware State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONFIG

# munged: run as the munge user; its socket directory must be traversable (711).
install -d -o munge -g munge -m 711 /run/munge
install -d -o munge -g munge -m 700 /var/lib/munge /var/log/munge
if timeout 5 bash -c 'munge -n </dev/null | unmunge >/dev/null' 2>/dev/null; then
    : # a munged is already serving this host: use it, leave it alone
else
    rm -f /run/munge/munged.pid
    runuser -u munge -- /usr/sbin/munged --force </dev/null >>"$STATE/daemons.out" 2>&1
    for _ in $(seq 50); do
        [ -s /run/munge/munged.pid ] && break
        sleep 0.1
    done
    echo "munged $(cat /run/munge/munged.pid)" >>"$PIDS"
    timeout 5 bash -c 'munge -n </dev/null | unmunge >/dev/null' || die "munged does not answer"
fi

rm -f "$STATE/slurmctld.pid" "$STATE/slurmd.pid"
/usr/sbin/slurmctld -c -i </dev/null >>"$STATE/daemons.out" 2>&1
/usr/sbin/slurmd -N localhost </dev/null >>"$STATE/daemons.out" 2>&1
for daemon in slurmctld slurmd; do
    for _ in $(seq 100); do
        [ -s "$STATE/$daemon.pid" ] && break
        sleep 0.1
    done
    [ -s "$STATE/$daemon.pid" ] || die "$daemon did not start; see $STATE/$daemon.log"
    echo "$daemon $(cat "$STATE/$daemon.pid")" >>"$PIDS"
done

for _ in $(seq 60); do
    if ready; then
        echo "started"
        exit 0
    fi
    # A node left DOWN/DRAINED by an earlier run comes back here.
    scontrol update NodeName=localhost State=RESUME >/dev/null 2>&1 || true
    sleep 0.5
done
die "the node did not become idle within 30 s; see $STATE/slurmctld.log and $STATE/slurmd.log"
