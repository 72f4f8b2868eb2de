#!/usr/bin/env bash
# The HTTP contract and the server cannot drift apart: every route carefactd serves
# (`carefactd routes`) is a path + method in api/openapi.yaml, and the other way round.
set -euo pipefail
spec="$CF_SOURCE_DIR/api/openapi.yaml"
served=$("$CF_BINARY_DIR/backend/carefactd" routes | sort)
# Paths are the 2-space-indented keys under "paths:"; methods the 4-space keys below them.
documented=$(awk '
    /^paths:/ { inpaths = 1; next }
    /^[^ ]/ { inpaths = 0 }
    inpaths && /^  \/[^ ]*:$/ { path = $1; sub(/:$/, "", path); next }
    inpaths && /^    (get|post|put|patch|delete):/ { m = $1; sub(/:$/, "", m); print toupper(m) " " path }
' "$spec" | sort)
if [ "$served" != "$documented" ]; then
    echo "routes served but not in api/openapi.yaml:"
    comm -23 <(echo "$served") <(echo "$documented")
    echo "routes in api/openapi.yaml but not served:"
    comm -13 <(echo "$served") <(echo "$documented")
    exit 1
fi
echo "all $(echo "$served" | wc -l) routes match the spec"
