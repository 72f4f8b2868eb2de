#!/usr/bin/env bash
# The project stands alone: nothing the build, the tests, the tools or the demo run
# may reach outside the checkout (a "../shared" beside it is there on the developers'
# machines, so a slip would pass everywhere but in a fresh clone). Documentation may
# cite the design notes; code and scripts may not read them. Also checks that the
# in-repo test data the tests default to is present, with its licence.
set -euo pipefail
src=${CF_SOURCE_DIR:?CF_SOURCE_DIR must point at the source folder}
self=tests/unit/tools/check_standalone.sh
cd "$src"
hits=$(grep -rIn --exclude-dir=.git --exclude-dir=node_modules --exclude-dir='build*' \
    --exclude='*.md' -e '\.\./shared' -e 'shared/testdata' -e 'CF_SHARED_TESTDATA' \
    CMakeLists.txt agent backend firmware-shared sql api tests tools | grep -v "^$self:" || true)
if [ -n "$hits" ]; then
    echo "FAIL [standalone]: these lines reach outside the checkout:" >&2
    echo "$hits" >&2
    exit 1
fi
for f in tests/data/emv/README.md tests/data/emv/devnied/LICENSE-Apache-2.0.txt \
    tests/data/emv/devnied/SOURCE.txt tests/data/emv/devnied/VisaCardPpse; do
    [ -s "$f" ] || { echo "FAIL [standalone]: $f is missing" >&2; exit 1; }
done
echo "ok [standalone]"
