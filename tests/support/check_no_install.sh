#!/usr/bin/env bash
# Tests install nothing and fetch nothing: what they need is installed by tools/deps,
# which tools/check runs before the suite. A test that runs `npm ci` or apt-get needs
# the network, changes the tree other tests read mid-suite, and makes their outcome
# depend on order (issue 19: e2e.demo ran npm ci through tools/demo -> tools/deps).
# This check reads every file under tests/ (not node_modules) for commands that
# install or fetch -- npm/npx, apt, pip, git clone/fetch/pull, tools/deps, curl or wget
# to anything but loopback -- and for tools/demo run without --offline. Comment lines
# and messages (echo, fail, printf, console.*) are not commands. e2e.demo checks the
# same at run time with installers on PATH that only record being called.
set -euo pipefail
src=${CF_SOURCE_DIR:?CF_SOURCE_DIR must point at the source folder}
cd "$src"

cmd='(^|[;&|(]|\$\(|\bthen|\bdo|\bexec|\benv|\btimeout +[0-9]+) *'
patterns=(
    "${cmd}(npm|pnpm|yarn) +(ci|install|i|add|update|exec)\b"
    "${cmd}npx +"
    "${cmd}(apt-get|apt|dpkg) +(install|update|-i)\b"
    "${cmd}pip3? +install\b"
    "${cmd}git +(clone|fetch|pull)\b"
    "${cmd}(\"?\\\$[A-Za-z_{}]+\"?)?[./]*tools/deps\b"
    "(curl|wget)\b[^#]*https?://(?!127\.0\.0\.1|localhost|\[::1\]|\\\$)"
    "(exec|execSync|spawn|spawnSync|execFile)\( *['\"](npm|npx|apt|apt-get|pip|pip3)\b"
)
found=0
while IFS= read -r -d '' file; do
    for p in "${patterns[@]}"; do
        while IFS= read -r hit; do
            line=${hit#*:}
            [[ $line =~ ^[[:space:]]*(#|//|\*|/\*) ]] && continue
            [[ $line =~ (echo|fail|printf|console\.[a-z]+)[[:space:]\(] ]] && continue
            echo "$file:${hit%%:*}: installs or fetches: ${line#"${line%%[![:space:]]*}"}"
            found=1
        done < <(grep -nP -- "$p" "$file" || true)
    done
    # tools/demo installs through tools/deps unless told --offline.
    while IFS= read -r hit; do
        grep -q -- '--offline' <<<"$hit" && continue
        [[ ${hit#*:} =~ ^[[:space:]]*# ]] && continue
        [[ ${hit#*:} =~ (echo|fail|printf)[[:space:]] ]] && continue
        echo "$file:${hit%%:*}: runs tools/demo without --offline"
        found=1
    done < <(grep -nE 'tools/demo"? ' "$file" || true)
done < <(find tests -type f \( -name '*.sh' -o -name '*.mjs' -o -name '*.js' -o -name '*.cmake' \
    -o -name '*.c' -o -name '*.py' -o -name 'CMakeLists.txt' \) -not -path '*/node_modules/*' -print0)
[ $found -eq 0 ] || { echo "FAIL: a test installs or fetches (above): leave that to tools/deps" >&2; exit 1; }
echo "no test installs or fetches anything"
