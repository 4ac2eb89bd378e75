#!/usr/bin/env bash
# Install the system packages the test suite uses beyond Python: headless Chromium,
# which tests/test_report.py uses to open the Snakemake HTML report and check that it
# renders with its figures.
#
# Idempotent and quiet: does nothing when everything is already installed; otherwise
# runs `apt-get update` once and installs what is missing. Needs root (or password-less
# sudo) and a Debian/Ubuntu apt. Exits non-zero with a one-line reason when it cannot
# install; the tests that need a package then skip themselves with that reason.
# (SLURM has its own installer: tests/slurm/install_slurm.sh.)
set -euo pipefail

# command → Debian package
declare -A PACKAGES=([chromium]=chromium)

missing=()
for command in "${!PACKAGES[@]}"; do
    command -v "$command" >/dev/null || missing+=("${PACKAGES[$command]}")
done
if [ "${#missing[@]}" -eq 0 ]; then
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
else
    echo "install_system_packages.sh: needs root or password-less sudo to install ${missing[*]}" >&2
    exit 1
fi

if ! command -v apt-get >/dev/null; then
    echo "install_system_packages.sh: no apt-get here; install ${missing[*]} by hand" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! { "${SUDO[@]}" apt-get update -qq &&
       "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"; } \
       >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    echo "install_system_packages.sh: apt-get could not install ${missing[*]}" >&2
    exit 1
fi

for command in "${!PACKAGES[@]}"; do
    command -v "$command" >/dev/null ||
        { echo "install_system_packages.sh: $command missing after install" >&2; exit 1; }
done
