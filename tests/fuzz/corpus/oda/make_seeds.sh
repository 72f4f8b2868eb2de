#!/usr/bin/env bash
# Remake the seeds of fuzz_oda (tests/fuzz/fuzz_oda.c): proofs of the test PKI for each
# kind with their CA key, and a few negative cards, in the target's chunk format.
# usage: make_seeds.sh PATH/TO/carefact-emv-pki   (writes next to this script)
set -euo pipefail
pki=$1
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$pki" ca --key "$work/ca.pem" --rid A000000658 --index 92 --bits 1024 >"$work/ca.line"
"$pki" key --key "$work/issuer.pem" --bits 896
"$pki" key --key "$work/icc.pem" --bits 768
read -r _ _ modulus exponent <"$work/ca.line"

chunk() { # hex -> 2-byte length + bytes, as hex
    printf '%04x%s' $((${#1} / 2)) "$1"
}

seed() { # name kind [fault]
    local name=$1 kind=$2 fault=${3:-}
    local json
    json=$("$pki" proof --ca "$work/ca.pem" --issuer "$work/issuer.pem" --icc "$work/icc.pem" \
        --rid A000000658 --index 92 --aid a0000006581010 --pan 2200123456789019 --expiry 1230 \
        --kind "$kind" --challenge c4110e57 ${fault:+--fault "$fault"})
    local kinds=(none sda dda fdda cda) k=1
    for i in "${!kinds[@]}"; do [ "${kinds[$i]}" = "$kind" ] && k=$((i + 1)); done
    local hex
    hex=$(chunk "$modulus")$(chunk "$exponent")$(chunk c4110e57)$(chunk "$(printf '%02x' "$k")")
    for f in aid ca_index issuer_cert issuer_exp issuer_rem icc_cert icc_exp icc_rem \
        static_data ssad sdad ddol terminal_data tx_data; do
        hex+=$(chunk "$(jq -r ".$f // \"\"" <<<"$json")")
    done
    xxd -r -p <<<"$hex" >"$here/$name.bin"
}

for kind in dda fdda cda sda none; do seed "$kind" "$kind"; done
seed dda_expired dda issuer_expired
seed fdda_pan_mismatch fdda pan_mismatch
seed cda_ignore_challenge cda ignore_challenge
printf 'A000000658 92 %s %s\n' "$modulus" "$exponent" >"$here/ca_line.bin"
