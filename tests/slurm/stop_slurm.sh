#!/usr/bin/env bash
# Stop the daemons tests/slurm/start_slurm.sh started, by the PIDs it recorded
# (never by name): SIGTERM, then SIGKILL after 10 s for any that linger.
set -uo pipefail

STATE=${PIEFLOW_SLURM_STATE:-/tmp/pieflow-slurm}
PIDS="$STATE/pids"
[ -s "$PIDS" ] || exit 0

declare -A started
while read -r name pid; do
    # Only a PID that still runs the daemon it was recorded for (PIDs get reused).
    if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ]; then
        started[$pid]=$name
    fi
done <"$PIDS"

# slurmd first, munged last: the SLURM daemons authenticate through munge.
for name in slurmd slurmctld munged; do
    for pid in "${!started[@]}"; do
        [ "${started[$pid]}" = "$name" ] && kill -TERM "$pid" 2>/dev/null
    done
done
for _ in $(seq 100); do
    remaining=0
    for pid in "${!started[@]}"; do
        kill -0 "$pid" 2>/dev/null && remaining=1
    done
    [ "$remaining" = 0 ] && break
    sleep 0.1
done
for pid in "${!started[@]}"; do
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
done
: >"$PIDS"
exit 0
