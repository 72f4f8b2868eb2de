#!/usr/bin/env bash
# The command line of carefact-gen-card (tools/gen-card): the same options write the
# same bytes (to a file or to stdout, run after run), the demo card is the one
# demo-data binds, and bad options exit 2 with a message naming the problem.
set -euo pipefail
gen=${CF_BINARY_DIR:?CF_BINARY_DIR must point at the build folder}/tools/gen-card/carefact-gen-card
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# shellcheck source=../support/emulated.sh
. "${CF_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/emulated.sh"
emulated "$work" gen
fail() { echo "FAIL [gen_card_cli]: $*" >&2; exit 1; }

"$gen" --scheme maestro --layout pan=track2,records=3 --seed 9 --out "$work/a"
"$gen" --scheme maestro --layout pan=track2,records=3 --seed 9 >"$work/b"
cmp -s "$work/a" "$work/b" || fail "the same options wrote different bytes"
"$gen" --scheme maestro --layout pan=track2,records=3 --seed 10 >"$work/c"
cmp -s "$work/a" "$work/c" && fail "another seed wrote the same card"
grep -q '^# carefact-gen-card --scheme maestro --layout pan=track2,records=3 --seed 9$' "$work/a" ||
    fail "the file does not say how to make it again"

# The demo card (tools/demo-visit.sh) and what demo-data binds to recipient 1.
"$gen" --scheme mir --seed 35 | grep -q '^# card: scheme=mir pan=2202589086670936 expiry=2032-05 ' ||
    fail "the demo card moved: update backend/src/demo/demo.c (demo_mir_pan) and tests/e2e/demo.sh"

# expect_refusal MESSAGE_PART ARGS...
expect_refusal() {
    local part=$1 status=0
    shift
    "$gen" "$@" >"$work/out" 2>"$work/err" || status=$?
    [ $status -eq 2 ] || fail "exit status $status for '$*', expected 2"
    grep -qF -- "$part" "$work/err" || fail "message for '$*' does not say '$part': $(cat "$work/err")"
    [ -s "$work/out" ] && fail "'$*' wrote a card anyway"
    return 0
}
expect_refusal "--scheme is required" --seed 1
expect_refusal "--scheme 'amex' is not one of" --scheme amex
expect_refusal "unknown argument '--records'" --scheme mir --records 3
expect_refusal "--seed needs a value" --scheme mir --seed
expect_refusal "--seed must be a whole number" --scheme mir --seed 18446744073709551616
expect_refusal "--seed must be a whole number" --scheme mir --seed -1
expect_refusal "--expiry must be YYYY-MM" --scheme mir --expiry 12/30
expect_refusal "--pan fails the Luhn check" --scheme mir --pan 2200000000000001
expect_refusal "--pan does not start with an IIN of visa" --scheme visa --pan 2200000000000004
expect_refusal "--pan must be 16..19 digits" --scheme visa --pan 4111111111111
expect_refusal "pan=track2 needs gpo=2" --scheme mir --layout pan=track2,gpo=1
expect_refusal "records=1..8" --scheme mir --layout records=12
expect_refusal "--oda must be sda, dda, fdda or cda" --scheme mir --oda rsa
expect_refusal "--oda needs --out" --scheme mir --oda dda --ca-key "$work/none.pem"
expect_refusal "--ca-key and --fault belong to --oda" --scheme mir --fault replay
expect_refusal "--fault must be" --scheme mir --oda dda --fault late --out "$work/x"
expect_refusal "--ca-index must be two hex digits" --scheme mir --ca-index 9

# --oda: the keys next to the transcript, a live line naming the card's key; the same
# key files give the same bytes; fDDA without a PDOL is refused.
pki=${CF_BINARY_DIR}/tools/emv-pki/carefact-emv-pki
emulated "$work" pki
"$pki" ca --key "$work/ca.pem" --rid A000000658 --index 92 >/dev/null
"$gen" --scheme mir --seed 5 --oda dda --ca-key "$work/ca.pem" --out "$work/d1"
[ -s "$work/d1.issuer.pem" ] && [ -s "$work/d1.icc.pem" ] || fail "--oda wrote no keys"
grep -q '^# live: kind=dda key=d1.icc.pem ddol=9f3704' "$work/d1" || fail "no live line"
grep -q '^resp:.* 9F 46 81 ' "$work/d1" || fail "no ICC certificate on the card"
cp "$work/d1.issuer.pem" "$work/d2.issuer.pem"
cp "$work/d1.icc.pem" "$work/d2.icc.pem"
"$gen" --scheme mir --seed 5 --oda dda --ca-key "$work/ca.pem" --out "$work/d2"
sed 's/d2.icc.pem/d1.icc.pem/' "$work/d2" | cmp -s - "$work/d1" || fail "the same keys gave other bytes"
"$gen" --scheme mir --seed 5 --oda sda --ca-key "$work/ca.pem" --out "$work/s1"
grep -q '^# live:' "$work/s1" && fail "an SDA card has nothing to sign live"
status=0
"$gen" --scheme visa --oda fdda --layout pdol=no --ca-key "$work/ca.pem" --out "$work/f" \
    2>"$work/err" || status=$?
[ $status -eq 2 ] && grep -q "needs gpo=2 and pdol=yes" "$work/err" || fail "fdda without PDOL: $status"
status=0
"$gen" --scheme mir --oda dda --ca-key "$work/no-such.pem" --out "$work/g" 2>"$work/err" || status=$?
[ $status -eq 1 ] && grep -q "cannot read the CA key" "$work/err" || fail "a missing CA key: $status"

status=0
"$gen" --scheme mir --out "$work/no/such/dir/card" 2>"$work/err" || status=$?
[ $status -eq 1 ] && grep -q "cannot write" "$work/err" || fail "an unwritable --out: status $status"
echo "ok [gen_card_cli]"
