#!/usr/bin/env bash
# setup-keys.sh: every key, password and public file a first govlog
# deployment needs, made on one machine for trying deploy/compose or
# deploy/k8s. In production each part is made where it is used: the log
# operator makes the log keys, each root holder their root key on their own
# machine, each witness institution its witness key (deploy/README.md).
#
# Usage: deploy/setup-keys.sh OUT
# It makes, below OUT (and refuses to touch an OUT that has keys already):
#   logs/      registry.key, disclosures.key     the log operator's signing keys
#   roots/     root-1.key, root-2.key, root-3.key the registry's root holders' keys;
#                                                 the first two sign the genesis
#   mysql/     password, root-password            MariaDB: govlog's user, root
#   witness-court/, witness-parliament/, witness-press/
#              witness.key                        each witness institution's key
#   agency/    ministry-of-finance.key            a demo agency's key, to submit with
#   monitor/   webhook.secret                     signs the monitor's webhook POSTs
#   public/    every .vkey, registry.yaml (the genesis) and policy.txt (the
#              logs' keys and the three witnesses, two of which must cosign)
# Secret files are mode 0600 in mode 0700 folders; public/ is readable by all.
#
# Environment, each optional:
#   GOVLOG        the govlog command (default: govlog on PATH); may be a
#                 command line, such as
#                 "docker run --rm -u $(id -u) -v $PWD:$PWD -w $PWD govlog:local"
#   OPERATOR      the logs' origin prefix (gov.example): origins are
#                 $OPERATOR/registry and $OPERATOR/disclosures
#   WITNESS_URLS  the three witnesses' URLs, court, parliament and press, as
#                 the log server reaches them (default: deploy/compose's
#                 http://witness-court:7380 and so on)
set -euo pipefail

OUT=${1:?usage: setup-keys.sh OUT}
read -r -a GOVLOG_CMD <<<"${GOVLOG:-govlog}"
OPERATOR=${OPERATOR:-gov.example}
read -r -a URLS <<<"${WITNESS_URLS:-http://witness-court:7380 http://witness-parliament:7380 http://witness-press:7380}"
WITNESSES=(court parliament press)
WITNESS_NAMES=(audit-court.example/witness parliament.example/witness press.example/witness)

die() { echo "setup-keys.sh: $*" >&2; exit 1; }
[ "${#URLS[@]}" = 3 ] || die "WITNESS_URLS must hold three URLs (court, parliament, press), not ${#URLS[@]}"
command -v "${GOVLOG_CMD[0]}" >/dev/null || die "no ${GOVLOG_CMD[0]}: build it (go build -o govlog ./cmd/govlog) and set GOVLOG=./govlog"
[ ! -e "$OUT/logs" ] || die "$OUT/logs exists: not making new keys over old ones"

govlog() { "${GOVLOG_CMD[@]}" "$@" >/dev/null; }
# keygen NAME PREFIX [--witness]: PREFIX.key stays, PREFIX.vkey goes to public/.
keygen() {
	govlog keygen --name "$1" --out "$2" "${@:3}"
	mv "$2.vkey" "$OUT/public/$(basename "$2").vkey"
}
vkey() { cat "$OUT/public/$1.vkey"; }
password() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

umask 077
mkdir -p "$OUT"/{logs,roots,mysql,agency,monitor,public} "${WITNESSES[@]/#/$OUT/witness-}"
chmod 755 "$OUT" "$OUT/public"

for log in registry disclosures; do
	keygen "$OPERATOR/$log" "$OUT/logs/$log"
done
for i in 1 2 3; do
	keygen "root-$i" "$OUT/roots/root-$i"
done
for i in 0 1 2; do
	keygen "${WITNESS_NAMES[$i]}" "$OUT/witness-${WITNESSES[$i]}/witness" --witness
	mv "$OUT/public/witness.vkey" "$OUT/public/witness-${WITNESSES[$i]}.vkey"
done
keygen ministry-of-finance "$OUT/agency/ministry-of-finance"
password >"$OUT/mysql/password"
password >"$OUT/mysql/root-password"
password >"$OUT/monitor/webhook.secret"

umask 022
chmod 644 "$OUT"/public/*.vkey
# The genesis: one agency that may publish disclosures. Afterwards the
# registry log is the truth (govlog registry), not this file.
cat >"$OUT/public/registry.yaml" <<EOF
# The genesis of the registry log, written into it on the log server's
# first start and signed there by root-1 and root-2.
agencies:
  - id: ministry-of-finance
    name: Ministry of Finance
    roles: [discloser]
    keys:
      - vkey: $(vkey ministry-of-finance)
EOF
# The policy the logs publish under, and verifiers and monitors check:
# the logs' keys and two of the three witnesses.
{
	echo "log $(vkey registry)"
	echo "log $(vkey disclosures)"
	for i in 0 1 2; do
		echo "witness ${WITNESSES[$i]} $(vkey "witness-${WITNESSES[$i]}") ${URLS[$i]}"
	done
	echo "group witnesses 2 ${WITNESSES[*]}"
	echo "quorum witnesses"
} >"$OUT/public/policy.txt"

echo "made the keys, passwords and public files in $OUT"
