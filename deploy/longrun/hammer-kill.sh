#!/usr/bin/env bash
# hammer-kill.sh: the hammer's long run (issue 19): nothing admitted is lost
# while the parts of a deployment are killed and restarted under load.
#
# It builds govlog and runs a deployment as separate processes on this
# machine: `govlog serve` on MariaDB, three `govlog witness` (the policy
# wants two of the three) and `govlog monitor`. It drives it with
# `govlog hammer` for DURATION while it kill -9s and restarts, in turn, the
# server, one of the witnesses and the monitor, one every KILL_EVERY seconds,
# and restarts MariaDB MARIADB_RESTARTS times. Then it waits for the
# hammer's final check (every promise kept by its deadline, every bundle
# verified, every refusal absent, every duplicate answered with its first
# receipt, every conflict won once, one consistent cosigned history), for
# the monitor to verify every log up to its checkpoint, and prints a
# summary. It exits non-zero on any receipt lost or other problem the hammer
# reports, on a monitor alert, or on evidence held by a witness.
#
# The first start is prepared by `govlog dev --mysql` (keys, the registry
# genesis with a demo agency holding every role, dev's demo campaign and
# application kinds, the policy), which is then stopped; the witness
# processes take over dev's three witness keys and databases.
#
# Usage: deploy/longrun/hammer-kill.sh [DURATION]        (default 10m)
# Environment, each optional:
#   GOVLOG_LONGRUN_DSN  MariaDB DSN without a database
#                       (default root@tcp(127.0.0.1:3306)/)
#   GOVLOG_LONGRUN_DB   database, dropped and made again (govlog_longrun)
#   KILL_EVERY          seconds between kills (30)
#   MARIADB_RESTARTS    MariaDB restarts during the run (2; 0 for none)
#   MARIADB_START       command that starts MariaDB again after
#                       `mariadb-admin shutdown` (default: start-stop-daemon
#                       --start --oknodo --background --exec /usr/sbin/mariadbd
#                       -- --user=mysql); run this only where restarting
#                       MariaDB is yours to do
#   CLIENTS             hammer clients (16)
#   WORK                working folder (default: a new one under /tmp)
# Everything it starts is stopped at exit by process id; MariaDB is left
# running.
set -euo pipefail

DURATION=${1:-10m}
DSN=${GOVLOG_LONGRUN_DSN:-root@tcp(127.0.0.1:3306)/}
DB=${GOVLOG_LONGRUN_DB:-govlog_longrun}
KILL_EVERY=${KILL_EVERY:-30}
MARIADB_RESTARTS=${MARIADB_RESTARTS:-2}
CLIENTS=${CLIENTS:-16}
WORK=${WORK:-$(mktemp -d /tmp/govlog-longrun.XXXXXX)}
REPO=$(cd "$(dirname "$0")/../.." && pwd)

mkdir -p "$WORK/logs"
BIN=$WORK/govlog
DATA=$WORK/data
say() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*"; }
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
die() { say "FAIL: $*"; exit 1; }

# seconds converts a Go duration of whole s, m or h to seconds.
seconds() {
	case $1 in
	*h) echo $((${1%h} * 3600)) ;;
	*m) echo $((${1%m} * 60)) ;;
	*s) echo "${1%s}" ;;
	*) die "DURATION must be like 90s, 10m or 1h, not $1" ;;
	esac
}
RUN_SECONDS=$(seconds "$DURATION")

# The MariaDB client's arguments, from the DSN's user and address.
DB_USER=${DSN%%@*}
DB_ADDR=${DSN#*tcp(}
DB_ADDR=${DB_ADDR%%)*}
DB_ARGS=(-u"$DB_USER" -h"${DB_ADDR%:*}" -P"${DB_ADDR#*:}")
mariadb_up() { mariadb-admin "${DB_ARGS[@]}" ping >/dev/null 2>&1; }

# Free loopback ports, picked once: the policy names the witnesses' URLs.
# Admin listeners (/metrics, /healthz) too, so that several parts on one
# machine do not share their default ports.
read -r SERVER_PORT HTTP_PORT DEV_PORT W1_PORT W2_PORT W3_PORT MON_PORT SERVER_ADMIN W1_ADMIN W2_ADMIN W3_ADMIN MON_ADMIN < <(python3 -c '
import socket
ss = [socket.socket() for _ in range(12)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])')
SERVER=127.0.0.1:$SERVER_PORT
W_PORTS=("$W1_PORT" "$W2_PORT" "$W3_PORT")
W_ADMINS=("$W1_ADMIN" "$W2_ADMIN" "$W3_ADMIN")

SERVER_PID="" MONITOR_PID="" HAMMER_PID="" DEV_PID=""
W_PIDS=("" "" "")
MARIADB_DOWN=0
cleanup() {
	local pid
	for pid in "$HAMMER_PID" "$MONITOR_PID" "$SERVER_PID" "${W_PIDS[@]}" "$DEV_PID"; do
		[ -n "$pid" ] && kill "$pid" 2>/dev/null || true
	done
	if [ "$MARIADB_DOWN" = 1 ] && ! mariadb_up; then
		say "starting MariaDB again"
		for ((i = 0; i < 600; i++)); do
			pidof mariadbd >/dev/null || break
			sleep 0.05
		done
		start_mariadb || true
	fi
	wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# restart_mariadb shuts MariaDB down, waits for its process to end (it stops
# answering before it has exited, and would not be started again), starts
# it again and waits until it answers.
restart_mariadb() {
	local pids i
	pids=$(pidof mariadbd || true)
	MARIADB_DOWN=1
	mariadb-admin "${DB_ARGS[@]}" shutdown || true
	for ((i = 0; i < 600; i++)); do
		# shellcheck disable=SC2086 # one or more process ids
		kill -0 $pids 2>/dev/null || break
		sleep 0.05
	done
	start_mariadb
	for ((i = 0; i < 600; i++)); do
		mariadb_up && break
		sleep 0.05
	done
	mariadb_up || die "MariaDB did not come back"
	MARIADB_DOWN=0
}

start_mariadb() {
	if [ -n "${MARIADB_START:-}" ]; then
		sh -c "$MARIADB_START"
	else
		start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql
	fi
}

# wait_port waits until something listens on 127.0.0.1:$1, for up to $2 s,
# while process $3 lives.
wait_port() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		kill -0 "$3" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

say "work folder $WORK; building govlog"
(cd "$REPO" && go build -o "$BIN" ./cmd/govlog)
mariadb_up || die "MariaDB does not answer at $DB_ADDR"
mariadb "${DB_ARGS[@]}" -e "DROP DATABASE IF EXISTS \`$DB\`; CREATE DATABASE \`$DB\`"

# The first start, by dev: keys, registry genesis, demo statements, policy.
say "preparing the deployment with govlog dev --mysql"
"$BIN" dev --data "$DATA" --mysql "$DSN$DB" --listen "127.0.0.1:$DEV_PORT" >"$WORK/logs/dev.log" 2>&1 &
DEV_PID=$!
for ((i = 0; i < 1800; i++)); do
	grep -qx ready "$WORK/logs/dev.log" && break
	kill -0 "$DEV_PID" 2>/dev/null || die "govlog dev exited: $(tail -5 "$WORK/logs/dev.log")"
	sleep 0.1
done
grep -qx ready "$WORK/logs/dev.log" || die "govlog dev never said ready"
kill -TERM "$DEV_PID"
wait "$DEV_PID" || true
DEV_PID=""
mapfile -t LOGS < <(sed -n 's/^log \([a-z]*\): origin .*/\1/p' "$WORK/logs/dev.log")
mapfile -t ORIGINS < <(sed -n 's/^log [a-z]*: origin \([^ ,]*\).*/\1/p' "$WORK/logs/dev.log")
[ "${#LOGS[@]}" -gt 1 ] || die "no logs in dev's output"

# The policy, with the witness processes' URLs.
awk -v u1="http://127.0.0.1:$W1_PORT" -v u2="http://127.0.0.1:$W2_PORT" -v u3="http://127.0.0.1:$W3_PORT" '
	$1 == "witness" { url["witness-1"] = u1; url["witness-2"] = u2; url["witness-3"] = u3; print $1, $2, $3, url[$2]; next }
	{ print }' "$DATA/policy.txt" >"$WORK/policy.txt"
mkdir -p "$WORK/hammer-data"
ln -sfn "$DATA/keys" "$WORK/hammer-data/keys"
cp "$WORK/policy.txt" "$WORK/hammer-data/policy.txt"

roots_yaml() {
	echo "registry_roots:"
	echo "  quorum: 2"
	echo "  keys: [$DATA/keys/root-1.vkey, $DATA/keys/root-2.vkey, $DATA/keys/root-3.vkey]"
}
{
	echo "listen: $SERVER"
	echo "http_listen: 127.0.0.1:$HTTP_PORT"
	echo "admin_listen: 127.0.0.1:$SERVER_ADMIN"
	echo "storage: mysql"
	echo "mysql: {dsn: '$DSN$DB'}"
	echo "registry: $DATA/registry.yaml"
	roots_yaml
	echo "policy: $WORK/policy.txt"
	echo "checkpoint_dir: $DATA/checkpoints"
	echo "tiles_dir: $DATA/tiles"
	echo "logs:"
	for i in "${!LOGS[@]}"; do
		echo "  - name: ${LOGS[$i]}"
		echo "    origin: ${ORIGINS[$i]}"
		echo "    key: $DATA/keys/log-${LOGS[$i]}.key"
		if [ -f "$DATA/keys/${LOGS[$i]}-rules.key" ]; then
			echo "    rule_key: $DATA/keys/${LOGS[$i]}-rules.key"
		fi
	done
} >"$WORK/serve.yaml"
for w in 1 2 3; do
	{
		echo "listen: 127.0.0.1:${W_PORTS[$((w - 1))]}"
		echo "admin_listen: 127.0.0.1:${W_ADMINS[$((w - 1))]}"
		echo "key: $DATA/keys/witness-$w.key"
		echo "database: $DATA/witness-$w.db"
		echo "poll_interval: 5s"
		echo "peers:"
		for p in 1 2 3; do
			[ "$p" != "$w" ] && echo "  - http://127.0.0.1:${W_PORTS[$((p - 1))]}"
		done
		echo "logs:"
		for i in "${!LOGS[@]}"; do
			echo "  - {origin: ${ORIGINS[$i]}, vkey: $DATA/keys/log-${LOGS[$i]}.vkey, url: '$SERVER', name: ${LOGS[$i]}}"
		done
	} >"$WORK/witness-$w.yaml"
done
{
	echo "listen: 127.0.0.1:$MON_PORT"
	echo "admin_listen: 127.0.0.1:$MON_ADMIN"
	echo "database: $WORK/monitor.db"
	echo "poll_interval: 5s"
	roots_yaml
	echo "logs:"
	for i in "${!LOGS[@]}"; do
		echo "  - {origin: ${ORIGINS[$i]}, url: '$SERVER', name: ${LOGS[$i]}, policy: $WORK/policy.txt}"
	done
} >"$WORK/monitor.yaml"

# Starting each part, again after each kill. A port a client held for a
# moment while the part was down is tried again.
# start_part starts a part and sets STARTED to its process id.
start_part() { # name, port, command...
	local name=$1 port=$2 try
	shift 2
	for try in 1 2 3 4 5 6 7 8 9 10; do
		"$@" >>"$WORK/logs/$name.log" 2>&1 &
		STARTED=$!
		if wait_port "$port" 60 "$STARTED" && kill -0 "$STARTED" 2>/dev/null; then
			return 0
		fi
		kill -9 "$STARTED" 2>/dev/null || true
		say "$name did not start (try $try): $(tail -2 "$WORK/logs/$name.log" | tr '\n' ' ')"
		sleep 1
	done
	return 1
}
start_server() {
	start_part server "$SERVER_PORT" "$BIN" serve -c "$WORK/serve.yaml" || die "the server does not start"
	SERVER_PID=$STARTED
}
start_witness() {
	start_part "witness-$1" "${W_PORTS[$1 - 1]}" "$BIN" witness -c "$WORK/witness-$1.yaml" || die "witness-$1 does not start"
	W_PIDS[$1 - 1]=$STARTED
}
start_monitor() {
	start_part monitor "$MON_PORT" "$BIN" monitor -c "$WORK/monitor.yaml" || die "the monitor does not start"
	MONITOR_PID=$STARTED
}

say "starting 3 witnesses, the server (${#LOGS[@]} logs on MariaDB database $DB) and the monitor"
for w in 1 2 3; do start_witness "$w"; done
start_server
start_monitor
for ((i = 0; i < 600; i++)); do
	"$BIN" checkpoint --server "$SERVER" --log registry --policy "$WORK/policy.txt" --timeout 2s >/dev/null 2>&1 && break
	sleep 0.1
done

say "hammer: $DURATION with $CLIENTS clients; a kill every ${KILL_EVERY}s, $MARIADB_RESTARTS MariaDB restarts"
"$BIN" hammer --server "$SERVER" --data "$WORK/hammer-data" --duration "$DURATION" --clients "$CLIENTS" --retry-for 3m \
	>"$WORK/hammer.out" 2>"$WORK/hammer.err" &
HAMMER_PID=$!
# The hammer's submissions start after its setup.
for ((i = 0; i < 1200; i++)); do
	grep -q "^hammer .*: sent" "$WORK/hammer.err" 2>/dev/null && break
	kill -0 "$HAMMER_PID" 2>/dev/null || break
	sleep 0.1
done
START=$(date +%s)

KILLS_SERVER=0 KILLS_WITNESS=0 KILLS_MONITOR=0 RESTARTS_MARIADB=0 EXITED=0
KILLS_W=(0 0 0)
MARIADB_OUTAGES=""
# check_alive restarts a part that exited by itself: a finding, counted.
check_alive() {
	local w
	if ! kill -0 "$SERVER_PID" 2>/dev/null; then
		EXITED=$((EXITED + 1)); say "the server exited by itself: $(tail -3 "$WORK/logs/server.log" | tr '\n' ' ')"; start_server
	fi
	for w in 1 2 3; do
		if ! kill -0 "${W_PIDS[$w - 1]}" 2>/dev/null; then
			EXITED=$((EXITED + 1)); say "witness-$w exited by itself"; start_witness "$w"
		fi
	done
	if ! kill -0 "$MONITOR_PID" 2>/dev/null; then
		EXITED=$((EXITED + 1)); say "the monitor exited by itself"; start_monitor
	fi
}
progress() { grep "^hammer [0-9]" "$WORK/hammer.err" 2>/dev/null | tail -1 || true; }

# The kills: server, a witness, the monitor, in turn; MariaDB restarts at
# even intervals; nothing is killed in the last 20 s of the submissions.
STOP_KILLS=$((RUN_SECONDS - 20))
NEXT_DB=0
if [ "$MARIADB_RESTARTS" -gt 0 ]; then NEXT_DB=$((RUN_SECONDS / (MARIADB_RESTARTS + 1))); fi
turn=0
while kill -0 "$HAMMER_PID" 2>/dev/null; do
	sleep $((KILL_EVERY - 5 + RANDOM % 11))
	kill -0 "$HAMMER_PID" 2>/dev/null || break
	elapsed=$(($(date +%s) - START))
	[ "$elapsed" -ge "$STOP_KILLS" ] && break
	check_alive
	if [ "$NEXT_DB" -gt 0 ] && [ "$elapsed" -ge "$NEXT_DB" ] && [ "$RESTARTS_MARIADB" -lt "$MARIADB_RESTARTS" ]; then
		down=$(date +%s.%N)
		restart_mariadb
		outage=$(since "$down")
		RESTARTS_MARIADB=$((RESTARTS_MARIADB + 1))
		MARIADB_OUTAGES="$MARIADB_OUTAGES ${outage}s"
		say "MariaDB restarted (down ${outage}s); $(progress)"
		NEXT_DB=$((NEXT_DB + RUN_SECONDS / (MARIADB_RESTARTS + 1)))
		continue
	fi
	case $((turn % 3)) in
	0)
		kill -9 "$SERVER_PID" || true
		wait "$SERVER_PID" 2>/dev/null || true
		KILLS_SERVER=$((KILLS_SERVER + 1))
		t0=$(date +%s.%N)
		start_server
		say "server killed (kill -9), listening again after $(since "$t0")s; $(progress)"
		;;
	1)
		w=$((KILLS_WITNESS % 3 + 1))
		kill -9 "${W_PIDS[$w - 1]}" || true
		wait "${W_PIDS[$w - 1]}" 2>/dev/null || true
		KILLS_WITNESS=$((KILLS_WITNESS + 1)); KILLS_W[$w - 1]=$((KILLS_W[$w - 1] + 1))
		sleep $((1 + RANDOM % 5))
		start_witness "$w"
		say "witness-$w killed (kill -9) and restarted; $(progress)"
		;;
	2)
		kill -9 "$MONITOR_PID" || true
		wait "$MONITOR_PID" 2>/dev/null || true
		KILLS_MONITOR=$((KILLS_MONITOR + 1))
		sleep $((1 + RANDOM % 5))
		start_monitor
		say "monitor killed (kill -9) and restarted; $(progress)"
		;;
	esac
	turn=$((turn + 1))
done
check_alive

say "kills done; waiting for the hammer's final check"
set +e
wait "$HAMMER_PID"
HAMMER_RC=$?
set -e
HAMMER_PID=""
RUN_ELAPSED=$(($(date +%s) - START))
check_alive

# The monitor verifies every log up to the server's checkpoint, with no
# alert; no witness holds evidence.
say "waiting for the monitor to verify every log up to its checkpoint"
MONITOR_BEHIND=""
for ((i = 0; i < 120; i++)); do
	MONITOR_BEHIND=""
	metrics=$(curl -sf "http://127.0.0.1:$MON_ADMIN/metrics" || true)
	for j in "${!LOGS[@]}"; do
		size=$("$BIN" checkpoint --server "$SERVER" --log "${LOGS[$j]}" --timeout 10s 2>/dev/null | sed -n 2p)
		verified=$(printf '%s\n' "$metrics" | awk -v o="${ORIGINS[$j]}" 'index($0, "govlog_monitor_verified_tree_size{") == 1 && index($0, "log=\"" o "\"") { printf "%d", $NF + 0 }')
		if [ -z "$size" ] || [ "$verified" != "$size" ]; then
			MONITOR_BEHIND="$MONITOR_BEHIND ${LOGS[$j]}(${verified:-?}/${size:-?})"
		fi
	done
	[ -z "$MONITOR_BEHIND" ] && break
	sleep 5
done
ALERTS=$(curl -sf -D - -o /dev/null "http://127.0.0.1:$MON_PORT/alerts" | tr -d '\r' | awk -F': ' 'tolower($1) == "x-total-count" { print $2 }')
EVIDENCE=0
for w in 1 2 3; do
	n=$(curl -sf "http://127.0.0.1:${W_PORTS[$w - 1]}/evidence" | grep -c . || true)
	EVIDENCE=$((EVIDENCE + n))
done

# The summary.
TOTAL=$(grep '^TOTAL' "$WORK/hammer.out" || true)
read -r _ SENT ADMITTED DUPS REFUSED CONFLICTS PROMISES BUNDLES LOST CPS _ <<<"${TOTAL:-TOTAL ? ? ? ? ? ? ? ? ?}"
echo
echo "=== govlog long run: $(date -u +%Y-%m-%dT%H:%M:%SZ) ==="
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/^Mem/ {print $2}') GiB, $(mariadb --version | sed 's/.*Distrib \([^,]*\),.*/MariaDB \1/')"
echo "hammer: $DURATION of submissions with $CLIENTS clients ($RUN_ELAPSED s with its final check), work folder $WORK"
echo "kills (kill -9, then restarted): server $KILLS_SERVER, witnesses $KILLS_WITNESS (${KILLS_W[*]}), monitor $KILLS_MONITOR; MariaDB restarts $RESTARTS_MARIADB${MARIADB_OUTAGES:+ (down$MARIADB_OUTAGES)}; parts that exited by themselves $EXITED"
echo "statements sent $SENT, receipted $((${PROMISES:-0} + ${BUNDLES:-0} + ${LOST:-0})) ($PROMISES promises kept, $BUNDLES bundles, $LOST promises lost), admitted $ADMITTED, duplicates $DUPS, refused $REFUSED, conflicts $CONFLICTS, checkpoints $CPS"
echo "receipts lost: $LOST; hammer exit $HAMMER_RC; monitor alerts ${ALERTS:-?}${MONITOR_BEHIND:+ (behind:$MONITOR_BEHIND)}; witness evidence $EVIDENCE"
echo
cat "$WORK/hammer.out"
FAIL=""
[ "$HAMMER_RC" = 0 ] || FAIL="$FAIL hammer-exit-$HAMMER_RC"
[ "$LOST" = 0 ] || FAIL="$FAIL lost-$LOST"
[ "${ALERTS:-x}" = 0 ] || FAIL="$FAIL monitor-alerts-${ALERTS:-unknown}"
[ -z "$MONITOR_BEHIND" ] || FAIL="$FAIL monitor-behind"
[ "$EVIDENCE" = 0 ] || FAIL="$FAIL witness-evidence-$EVIDENCE"
if [ -n "$FAIL" ]; then
	grep -A1000 'problems:' "$WORK/hammer.err" | head -40 || true
	say "FAIL:$FAIL"
	exit 1
fi
say "OK: nothing lost"
