# Sourced by the test set-up scripts: install Debian packages quietly, as root or with
# password-less sudo. `apt_install WHO PACKAGE...` runs `apt-get update` once and installs
# the packages; on failure it prints the tail of apt's output and a one-line reason
# naming WHO, and returns non-zero (the tests that need the packages then skip).
# After it, "${SUDO[@]}" runs a command with the same privileges.

apt_install() {
    local who=$1
    shift
    if [ "$(id -u)" -eq 0 ]; then
        SUDO=()
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        SUDO=(sudo -n)
    else
        echo "$who: needs root or password-less sudo to install $*" >&2
        return 1
    fi
    if ! command -v apt-get >/dev/null; then
        echo "$who: no apt-get here; install $* by hand" >&2
        return 1
    fi
    local log
    log=$(mktemp)
    if ! { DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get update -qq &&
           DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq \
               --no-install-recommends "$@"; } >"$log" 2>&1; then
        tail -n 20 "$log" >&2
        rm -f "$log"
        echo "$who: apt-get could not install $*" >&2
        return 1
    fi
    rm -f "$log"
}
