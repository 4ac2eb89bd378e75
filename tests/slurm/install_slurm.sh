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

# shellcheck source=../apt_install.sh
source "$(dirname "$0")/../apt_install.sh"
apt_install install_slurm.sh "${PACKAGES[@]}"

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
