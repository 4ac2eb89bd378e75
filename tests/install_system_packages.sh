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

# shellcheck source=apt_install.sh
source "$(dirname "$0")/apt_install.sh"
apt_install install_system_packages.sh "${missing[@]}"

for command in "${!PACKAGES[@]}"; do
    command -v "$command" >/dev/null ||
        { echo "install_system_packages.sh: $command missing after install" >&2; exit 1; }
done
