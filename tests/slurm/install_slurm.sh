#!/usr/bin/env bash
# Install a single-node SLURM (Debian packages slurm-wlm + munge) for the SLURM tests.
#
# Idempotent and quiet: does nothing when the daemons and clients are already
# installed; otherwise runs `apt-get update` once and installs the packages.
# Needs root (or password-less sudo) and a Debian/Ubuntu apt. Exits non-zero with
# a one-line reason when it cannot install; the tests then skip themselves.
# Configuration and daemons: tests/slurm/start_slurm.sh; tests/slurm/stop_slurm.sh.
set -euo pipefail

PACKAGES=(slurmctld slurmd slurm-client munge)

installed() {
    command -v sbatch >/dev/null && command -v squeue >/dev/null &&
        [ -x /usr/sbin/slurmctld ] && [ -x /usr/sbin/slurmd ] && [ -x /usr/sbin/munged ]
}

if installed; then
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
else
    echo "install_slurm.sh: needs root or password-less sudo to install ${PACKAGES[*]}" >&2
    exit 1
fi

if ! command -v apt-get >/dev/null; then
    echo "install_slurm.sh: no apt-get here; install ${PACKAGES[*]} by hand" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! { "${SUDO[@]}" apt-get update -qq &&
       "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}"; } \
       >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    echo "install_slurm.sh: apt-get could not install ${PACKAGES[*]}" >&2
    exit 1
fi

# The munge package creates its key in postinst; make sure one exists anyway.
if [ ! -s /etc/munge/munge.key ]; then
    if command -v mungekey >/dev/null; then
        "${SUDO[@]}" mungekey --create --keyfile=/etc/munge/munge.key >/dev/null
    else
        "${SUDO[@]}" dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    fi
    "${SUDO[@]}" chown munge:munge /etc/munge/munge.key
    "${SUDO[@]}" chmod 400 /etc/munge/munge.key
fi

installed || { echo "install_slurm.sh: SLURM binaries missing after install" >&2; exit 1; }
