# Sourced by test scripts that run the project's programs. A cross build
# (tools/cross/aarch64-linux-gnu.cmake) sets CF_RUN to its emulator (qemu-aarch64): each
# program named by a variable is replaced by a small wrapper that runs it under the
# emulator, so the script itself stays the same for native and cross builds.
#
#   emulated WORKDIR VAR...   rewrite each $VAR (a program path) when CF_RUN is set
emulated() {
    local dir=$1 var path
    shift
    [ -n "${CF_RUN:-}" ] || return 0
    for var in "$@"; do
        path=${!var}
        printf '#!/bin/sh\nexec %s %q "$@"\n' "$CF_RUN" "$path" >"$dir/${path##*/}.emulated"
        chmod +x "$dir/${path##*/}.emulated"
        printf -v "$var" '%s' "$dir/${path##*/}.emulated"
    done
}
