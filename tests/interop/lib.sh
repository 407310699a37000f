# shellcheck shell=bash disable=SC2034
# (SC2034: variables set here are read by the scenarios)
# tests/interop/lib.sh: helpers shared by the interop scenarios (tests/interop/t_*.sh, bash).
# Sourced, never run. Each scenario gets its own namespaces, named after its PID:
#
#   k<PID>-rw  (kite)                k<PID>-gw  (strongSwan gateway)           k<PID>-lan
#   eth0 198.51.100.10/24 --veth---- eth0 198.51.100.1/24
#   no default route (LAN only       lan0 10.1.0.1/24 ---------veth------------ eth0 10.1.0.10/24
#   reachable through the tunnel)    ip_forward=1                               default via 10.1.0.1
#                                    virtual IP pool 10.3.0.0/24, local_ts 10.1.0.0/24
#
# * Nothing is ever added to the root namespace: veths are created from inside a namespace
#   (ip -n A link add ... peer ... netns B) and there is no route out of the machine.
# * The gateway is charon-systemd + swanctl from Debian (strongSwan 5.9.8) with its own
#   strongswan.conf (STRONGSWAN_CONF), log file and vici socket in the run directory. It uses
#   kernel-libipsec (the host kernel has no ESP), which forces UDP encapsulation: both ends
#   see a "NAT" and IKE_AUTH and ESP go to port 4500.
# * swanctl talks to a charon through its unix socket, which is a file: it needs no netns.
# * Cleanup (trap on EXIT/INT/TERM) stops kite and every charon by PID, deletes the
#   namespaces and the run directory (kept when KEEP=1). V=1 echoes every command.
#
# Scenario contract: print "PASS: name", "FAIL: name: reason" or "SKIP: name: reason"
# lines (tests/run.sh counts them); exit 0 unless something failed.
#
# kite contract used here: `kite -c CONF -v connect NAME --foreground` (global options before the
# command, as src/main.c parses them) logs one line containing "IKE SA established" and keeps
# running; on SIGTERM it sends an IKE DELETE and exits 0; on failure it exits 1 after a line
# naming the reason ("kite: error: ..."; with -v "HH:MM:SS.mmm func: error: ...").

set -u
export LC_ALL=C
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

KITE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$KITE_ROOT" || exit 1
KITE=${KITE:-$KITE_ROOT/kite}
T_NAME=$(basename "$0" .sh)
T_NAME=${T_NAME#t_}

RW=k$$-rw
GW=k$$-gw
LAN=k$$-lan
RW_ADDR=198.51.100.10
GW_ADDR=198.51.100.1
GW_LAN_ADDR=10.1.0.1
LAN_ADDR=10.1.0.10
LAN_NET=10.1.0.0/24
VIP_POOL=10.3.0.0/24
KITE_NAME=kt$$		# kite profile name (its control socket is /run/kite/NAME.sock on the host)
RW_ID=rw@kite.test
GW_ID=gw.kite.test

CHARON=/usr/sbin/charon-systemd
# openssl first (AES-GCM, ChaCha20-Poly1305, ECP/MODP from OpenSSL); kernel-libipsec before
# kernel-netlink: the first kernel-ipsec backend wins (testbed.md)
CHARON_PLUGINS="random nonce openssl pem pkcs1 pkcs8 x509 revocation constraints pubkey curve25519"
CHARON_PLUGINS="$CHARON_PLUGINS aes sha1 sha2 hmac gcm chapoly kdf kernel-libipsec kernel-netlink"
CHARON_PLUGINS="$CHARON_PLUGINS socket-default vici eap-identity eap-mschapv2 eap-md5"

RUN=""			# per-run directory (configs, logs, sockets, PSK files)
NS_LIST=""		# namespaces created by this run
declare -A CHARON_PID=()	# role -> PID
KITE_PID=""
KITE_LOG=""
KITE_RC=""		# exit status of the last kite that ended
KITE_RUNS=0
WAIT_RC=""
GW_PSK=""
T_PASSED=0
T_FAILED=0
T_SKIPPED=0
_QUIET=0

# ---- output ---------------------------------------------------------------------------

info() { echo "  $*"; }
pass() { echo "PASS: $1"; T_PASSED=$((T_PASSED + 1)); }
fail() { local n=$1; shift; echo "FAIL: $n: $*"; T_FAILED=$((T_FAILED + 1)); }
skip() { local n=$1; shift; echo "SKIP: $n: $*"; T_SKIPPED=$((T_SKIPPED + 1)); }

_pretty() {	# ROLE CMD: echo a command run in a namespace (V=1); stderr, so that captured
	# output ($(...), pipes) stays clean
	[ "${V:-0}" = 1 ] && [ "$_QUIET" = 0 ] && echo "  [$1] $2" >&2
	return 0
}

indent() { sed 's/^/    | /'; }

# Indented tail of a file, for failure reports.
show_tail() {	# FILE [LINES]
	[ -s "$1" ] || { echo "    ($1: empty or missing)"; return 0; }
	echo "    --- tail of $(basename "$1")"
	tail -n "${2:-25}" "$1" | indent
}

# Everything worth seeing after a failed case: kite's log and the gateway's.
show_logs() {
	[ -n "$KITE_LOG" ] && show_tail "$KITE_LOG" 30
	[ -n "$RUN" ] && show_tail "$RUN/gw.charon.log" 30
	return 0
}

# Finish a scenario: exit status follows the FAIL count (cleanup prints the tally).
t_done() {
	[ "$T_FAILED" = 0 ]
	exit $?
}

# ---- preconditions (call before setup) -------------------------------------------------

require_root() {
	if [ "$(id -u)" != 0 ]; then
		skip "$T_NAME" "needs root (network namespaces)"
		exit 0
	fi
}

require_tools() {
	local t
	for t in ip nft ping "$CHARON" swanctl; do
		if ! command -v "$t" >/dev/null 2>&1; then
			skip "$T_NAME" "$t not installed (run 'make deps' as root)"
			exit 0
		fi
	done
	if [ ! -e /usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so ]; then
		skip "$T_NAME" "strongSwan kernel-libipsec plugin missing (libcharon-extra-plugins; run 'make deps')"
		exit 0
	fi
}

# The lead builds kite; a missing binary is a failure, never a skip.
require_kite() {
	if [ ! -x "$KITE" ]; then
		fail "$T_NAME" "kite binary missing ($KITE; run 'make kite')"
		exit 1
	fi
}

# ---- time, polling, processes ----------------------------------------------------------

# NOW_MS = milliseconds since the epoch (no fork).
now_ms() { local t=${EPOCHREALTIME//[!0-9]/}; NOW_MS=$((t / 1000)); }

# slowwait SECONDS CMD...: run CMD every 50 ms until it succeeds. Bounded in time and in
# count; returns 1 when SECONDS (integer) have passed without success. CMD's output is discarded.
slowwait() {
	local secs=$1 i=0 max deadline
	shift
	max=$((secs * 20 + 1))
	now_ms
	deadline=$((NOW_MS + secs * 1000))
	_QUIET=1
	while :; do
		if "$@" >/dev/null 2>&1; then
			_QUIET=0
			return 0
		fi
		i=$((i + 1))
		now_ms
		if [ "$i" -ge "$max" ] || [ "$NOW_MS" -ge "$deadline" ]; then
			_QUIET=0
			return 1
		fi
		sleep 0.05
	done
}

# alive PID: the process exists and is not a zombie (reaping can lag, testbed.md gotcha 10).
alive() {
	local st
	[ -n "$1" ] || return 1
	read -r st 2>/dev/null </proc/"$1"/stat || return 1
	st=${st##*) }
	[ "${st%% *}" != Z ]
}
not_alive() { ! alive "$1"; }

# wait_exit PID SECONDS: bounded wait for a child to end; WAIT_RC = its exit status.
# Returns 1 (WAIT_RC empty) when it is still running.
wait_exit() {
	WAIT_RC=""
	slowwait "$2" not_alive "$1" || return 1
	wait "$1" 2>/dev/null
	WAIT_RC=$?
	return 0
}

# stop_pid PID [NAME]: SIGTERM, bounded wait, then SIGKILL. Only PIDs this script started.
stop_pid() {
	local pid=$1
	alive "$pid" || { wait "$pid" 2>/dev/null; return 0; }
	kill -TERM "$pid" 2>/dev/null
	wait_exit "$pid" 5 && return 0
	echo "  warning: ${2:-pid $pid} ignored SIGTERM for 5 s, sending SIGKILL"
	kill -KILL "$pid" 2>/dev/null
	wait_exit "$pid" 2
	return 0
}

# ---- namespaces ---------------------------------------------------------------------------

n_rw() { _pretty rw "$*"; ip netns exec "$RW" "$@"; }
n_gw() { _pretty gw "$*"; ip netns exec "$GW" "$@"; }
n_lan() { _pretty lan "$*"; ip netns exec "$LAN" "$@"; }

_ns_add() {
	# a namespace with this PID's name can only be left from a killed earlier run (PID reuse)
	if ip netns list | grep -q "^$1\( \|$\)"; then
		echo "  warning: deleting stale namespace $1 (left by a killed run)"
		ip netns del "$1"
	fi
	ip netns add "$1" || return 1
	NS_LIST="$NS_LIST $1"
	ip -n "$1" link set lo up
}

# Create the run directory, the cleanup trap and the topology drawn at the top of this file.
setup() {
	RUN=$(mktemp -d "${TMPDIR:-/tmp}/kite-interop.XXXXXX") || { fail "$T_NAME" "mktemp failed"; exit 1; }
	chmod 700 "$RUN"
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	GW_PSK=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
	if ! _topology; then
		fail "$T_NAME" "could not create the namespaces/veths"
		exit 1
	fi
	info "run dir $RUN, namespaces $RW $GW $LAN"
}

_topology() {
	_ns_add "$RW" && _ns_add "$GW" && _ns_add "$LAN" || return 1
	# veths are created inside the namespaces: nothing appears in the root namespace
	ip -n "$RW" link add eth0 type veth peer name eth0 netns "$GW" || return 1
	ip -n "$GW" link add lan0 type veth peer name eth0 netns "$LAN" || return 1
	ip -n "$RW" addr add "$RW_ADDR/24" dev eth0 &&
	ip -n "$RW" link set eth0 up &&
	ip -n "$GW" addr add "$GW_ADDR/24" dev eth0 &&
	ip -n "$GW" link set eth0 up &&
	ip -n "$GW" addr add "$GW_LAN_ADDR/24" dev lan0 &&
	ip -n "$GW" link set lan0 up &&
	ip -n "$LAN" addr add "$LAN_ADDR/24" dev eth0 &&
	ip -n "$LAN" link set eth0 up &&
	ip -n "$LAN" route add default via "$GW_LAN_ADDR" || return 1
	ip netns exec "$GW" sysctl -qw net.ipv4.ip_forward=1 || return 1
	# both veths are up once the gateway answers a ping on each side (bounded)
	slowwait 5 ip netns exec "$RW" ping -c1 -W1 "$GW_ADDR" &&
	slowwait 5 ip netns exec "$LAN" ping -c1 -W1 "$GW_LAN_ADDR"
}

cleanup() {
	local rc=$? role ns pid left=""
	trap - EXIT INT TERM
	set +e
	if [ -n "$KITE_PID" ]; then
		stop_pid "$KITE_PID" kite
		KITE_PID=""
	fi
	for role in "${!CHARON_PID[@]}"; do
		stop_pid "${CHARON_PID[$role]}" "charon ($role)"
	done
	for pid in "${BG_PIDS[@]}"; do
		stop_pid "$pid"
	done
	for ns in $NS_LIST; do
		# last resort: anything still running inside our own namespaces was started by us
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			left="$left $pid:$(cat /proc/"$pid"/comm 2>/dev/null)@$ns"
			kill -KILL "$pid" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null || echo "  warning: could not delete namespace $ns"
	done
	# kite and every charon were stopped above: whatever still ran in the namespaces was
	# left behind (e.g. by kite). A failure, unless the scenario was interrupted.
	if [ -n "$left" ]; then
		if [ "$rc" -lt 128 ]; then
			fail "$T_NAME/cleanup" "processes left in the test namespaces (killed):$left"
			rc=1
		else
			echo "  killed leftover processes:$left"
		fi
	fi
	if [ -e "/run/kite/$KITE_NAME.sock" ]; then
		echo "  warning: kite left /run/kite/$KITE_NAME.sock behind; removed"
		rm -f "/run/kite/$KITE_NAME.sock"
	fi
	info "$T_NAME: $T_PASSED passed, $T_FAILED failed, $T_SKIPPED skipped"
	if [ -n "$RUN" ] && [ -d "$RUN" ]; then
		if [ "${KEEP:-0}" = 1 ]; then
			echo "  KEEP=1: run directory kept: $RUN"
		else
			rm -rf "$RUN"
		fi
	fi
	exit "$rc"
}

BG_PIDS=()
# bg_track PID: a helper process (tcpdump, ...) that cleanup must stop.
bg_track() { BG_PIDS+=("$1"); }

# capture_start NS FILE [FILTER...]: tcpdump -l -n -vv on NS's eth0, decoded text into FILE;
# returns once it listens (bounded). capture_stop ends it (the file is complete afterwards).
CAPTURE_PID=""
capture_start() {
	local ns=$1 file=$2
	shift 2
	_pretty cap "tcpdump -l -n -vv -i eth0 $* (in $ns)"
	# an old FILE.err already says "listening on": remove it before the new tcpdump starts
	rm -f "$file" "$file.err"
	ip netns exec "$ns" tcpdump -l -n -vv -i eth0 "$@" >"$file" 2>"$file.err" &
	CAPTURE_PID=$!
	bg_track "$CAPTURE_PID"
	slowwait 5 grep -q "listening on" "$file.err"
}
capture_stop() {
	[ -n "$CAPTURE_PID" ] && stop_pid "$CAPTURE_PID" tcpdump
	CAPTURE_PID=""
}

# cap_cookie_times FILE: the time field (first 4 bytes, host order as strongSwan writes it:
# little-endian here) of each COOKIE notify in a capture, in order, one a line.
cap_cookie_times() {
	local h
	grep -o 'type=16390(cookie) data=([0-9a-f]\{8\}' "$1" 2>/dev/null | sed 's/.*data=(//' |
		while read -r h; do
			echo $((16#${h:6:2}${h:4:2}${h:2:2}${h:0:2}))
		done
}

# ---- strongSwan ------------------------------------------------------------------------

# swanctl against one charon: sw ROLE ARGS... (ctl-only strongswan.conf: fast, no plugins needed
# for PSK configs)
sw() {
	local role=$1
	shift
	_pretty "$role" "swanctl $*"
	STRONGSWAN_CONF="$RUN/swanctl.strongswan.conf" swanctl "$@" --uri "unix://$RUN/$role.vici"
}

# charon_start ROLE NS [EXTRA]: write ROLE's strongswan.conf (EXTRA: more lines inside
# charon {}), start charon-systemd in NS, wait (bounded) for its vici socket.
charon_start() {
	local role=$1 ns=$2 extra=${3:-} d=$RUN/$1 pid
	mkdir -p "$d"
	[ -f "$RUN/swanctl.strongswan.conf" ] ||
		printf 'swanctl {\n  load = pem pkcs1 pkcs8 x509 pubkey openssl random\n}\n' \
			>"$RUN/swanctl.strongswan.conf"
	cat >"$d/strongswan.conf" <<EOF
# generated by tests/interop/lib.sh for role $role (namespace $ns)
charon {
  load_modular = no
  load = $CHARON_PLUGINS
  half_open_timeout = 30
  filelog {
    main {
      path = $RUN/$role.charon.log
      time_add_ms = yes
      flush_line = yes
      append = no
      default = 1
      ike = 2
      net = 2
      cfg = 1
      knl = 1
      enc = 1
    }
  }
  plugins {
    vici {
      socket = unix://$RUN/$role.vici
    }
  }
$extra
}
# charon-systemd turns its journal logger on by itself; off here
charon-systemd {
  journal {
    default = -1
  }
}
EOF
	rm -f "$RUN/$role.vici"
	_pretty "$role" "charon-systemd (STRONGSWAN_CONF=$d/strongswan.conf)"
	# Backgrounded directly (not through a function): $! is charon's own PID (gotcha 7).
	ip netns exec "$ns" env STRONGSWAN_CONF="$d/strongswan.conf" "$CHARON" \
		>"$RUN/$role.charon.out" 2>&1 &
	pid=$!
	CHARON_PID[$role]=$pid
	if ! slowwait 10 _charon_ready "$role" "$pid"; then
		echo "  charon ($role) did not open its vici socket within 10 s"
		show_tail "$RUN/$role.charon.out" 10
		show_tail "$RUN/$role.charon.log" 10
		return 1
	fi
	alive "$pid" || { echo "  charon ($role) exited at start-up"; show_tail "$RUN/$role.charon.log" 10; return 1; }
	return 0
}
_charon_ready() { [ -S "$RUN/$1.vici" ] || ! alive "$2"; }

charon_stop() {	# ROLE
	local role=$1
	[ -n "${CHARON_PID[$role]:-}" ] || return 0
	stop_pid "${CHARON_PID[$role]}" "charon ($role)"
	unset "CHARON_PID[$role]"
	rm -f "$RUN/$role.vici"
}

# Credential directories swanctl --load-all --file reads (missing ones only cause warnings).
_sw_dirs() {
	local d
	for d in x509 x509ca x509aa x509ocsp x509crl x509ac pubkey private rsa ecdsa bliss pkcs8 pkcs12; do
		mkdir -p "$1/$d"
	done
}

# gw_conf IKE_PROPOSALS ESP_PROPOSALS: (re)write the gateway's swanctl.conf.
gw_conf() {
	local d=$RUN/gw/swanctl
	mkdir -p "$d"
	_sw_dirs "$d"
	cat >"$d/swanctl.conf" <<EOF
connections {
  rw {
    version = 2
    local_addrs = $GW_ADDR
    remote_addrs = %any
    proposals = $1
    pools = rw_pool
    local {
      auth = psk
      id = $GW_ID
    }
    remote {
      auth = psk
      id = $RW_ID
    }
    children {
      rw {
        local_ts = $LAN_NET
        esp_proposals = $2
      }
    }
  }
}
pools {
  rw_pool {
    addrs = $VIP_POOL
  }
}
secrets {
  ike-rw {
    id-1 = $RW_ID
    id-2 = $GW_ID
    secret = 0x$GW_PSK
  }
}
EOF
}

# (Re)load the gateway's swanctl.conf.
gw_load() {
	local out
	_pretty gw "swanctl --load-all --file $RUN/gw/swanctl/swanctl.conf"
	if ! out=$(_QUIET=1 sw gw --load-all --file "$RUN/gw/swanctl/swanctl.conf" 2>&1); then
		echo "  swanctl --load-all (gw) failed:"
		indent <<<"$out"
		return 1
	fi
	[ "${V:-0}" = 1 ] && indent <<<"$out"
	return 0
}

# start_gateway IKE_PROPOSALS ESP_PROPOSALS [EXTRA charon {} lines]: a fresh gateway charon in
# the gw namespace (any previous one is stopped first) with the connection "rw".
start_gateway() {
	charon_stop gw
	gw_conf "$1" "$2"
	charon_start gw "$GW" "${3:-}" || return 1
	gw_load
}

gw_list_sas() { sw gw --list-sas; }

# gw_ike_state ID: the state of every gateway IKE_SA whose remote identity is ID, one a line
# (ESTABLISHED, CONNECTING, DELETING...). Empty when there is none.
gw_ike_state() {
	gw_list_sas 2>/dev/null | awk -v id="'$1'" '
		/^[^ ]/ { st = $3; sub(/,$/, "", st) }
		/^  remote / && index($0, id) { print st }'
}
# gw_ike_state_is ID STATE: true if one of ID's SAs is in STATE.
gw_ike_state_is() { gw_ike_state "$1" | grep -qx "$2"; }
gw_no_sa_for() { [ -z "$(gw_ike_state "$1")" ]; }
# gw_sa_from ADDR STATE: an IKE_SA with remote address ADDR in STATE (identity not known yet
# while half-open).
gw_sa_from() {
	gw_list_sas 2>/dev/null | awk -v a=" $1[" -v want="$2" '
		/^[^ ]/ { st = $3; sub(/,$/, "", st) }
		/^  remote / && index($0, a) && st == want { found = 1 }
		END { exit !found }'
}
# The CHILD_SA lines of the gateway (name, reqid, state, mode, proposal), for the record.
gw_child_info() { gw_list_sas 2>/dev/null | awk '/^  [^ ]+: #[0-9]+, reqid/ { sub(/^ +/, ""); print }'; }
# The IKE proposal line of the SA with remote identity ID.
gw_ike_proposal() {
	gw_list_sas 2>/dev/null | awk -v id="'$1'" '
		/^[^ ]/ { blk = 0 } /^  remote / && index($0, id) { blk = 1; next }
		blk && /^  [A-Z0-9_]+[-\/]/ { sub(/^ +/, ""); print; exit }'
}
gw_log_has() { grep -q -- "$1" "$RUN/gw.charon.log" 2>/dev/null; }

# ---- strongSwan as a client (validation of the gateway setup, benchmarks) ------------------

# sw_client_setup WHERE IKE ESP [START_ACTION]: a strongSwan client charon (role sw-WHERE) in
# namespace WHERE (rw or lan) with connection/child "sw" to the gateway, identity rw@kite.test.
# START_ACTION "start" initiates as soon as the config is loaded.
sw_client_setup() {
	local where=$1 ike=$2 esp=$3 start=${4:-none} ns role=sw-$1 d
	case $where in
	rw) ns=$RW ;;
	lan) ns=$LAN ;;
	*) echo "  sw_client_setup: unknown place $where"; return 1 ;;
	esac
	d=$RUN/$role/swanctl
	mkdir -p "$d"
	_sw_dirs "$d"
	cat >"$d/swanctl.conf" <<EOF
connections {
  sw {
    version = 2
    remote_addrs = $GW_ADDR
    vips = 0.0.0.0
    proposals = $ike
    local {
      auth = psk
      id = $RW_ID
    }
    remote {
      auth = psk
      id = $GW_ID
    }
    children {
      sw {
        remote_ts = $LAN_NET
        esp_proposals = $esp
        start_action = $start
      }
    }
  }
}
secrets {
  ike-gw {
    id-1 = $RW_ID
    id-2 = $GW_ID
    secret = 0x$GW_PSK
  }
}
EOF
	charon_stop "$role"
	charon_start "$role" "$ns" "  retransmit_timeout = 1.0
  retransmit_base = 1.4
  retransmit_tries = 3" || return 1
	sw "$role" --load-all --file "$d/swanctl.conf" >"$RUN/$role.load.out" 2>&1 || {
		show_tail "$RUN/$role.load.out"
		return 1
	}
}

# sw_client_connect IKE ESP [WHERE=rw]: strongSwan client connects to the gateway (blocks until
# the CHILD_SA is up or failed, at most 15 s). Returns swanctl's status. Stop it with
# sw_client_stop WHERE before kite uses the same namespace (both want UDP 500/4500).
sw_client_connect() {
	local where=${3:-rw}
	sw_client_setup "$where" "$1" "$2" none || return 1
	sw "sw-$where" --initiate --child sw --timeout 15 >"$RUN/sw-$where.initiate.out" 2>&1 || {
		show_tail "$RUN/sw-$where.initiate.out"
		return 1
	}
}
sw_client_stop() { charon_stop "sw-${1:-rw}"; }

# ---- kite ---------------------------------------------------------------------------------

# kite_psk FILE SECRET: a PSK file as kite wants it (root, 0600).
kite_psk() {
	(umask 077 && printf '%s\n' "$2" >"$1") && chown root:root "$1" && chmod 600 "$1"
}

# kite_conf FILE NAME [key=value...]: a one-profile vpn.ini for the test gateway. Defaults:
# PSK auth with the gateway's secret (file $RUN/rw.psk), kite's default proposals, 500 ms x 3
# retransmissions, dns = no (kite runs in rw's network namespace but shares the host's
# /etc/resolv.conf). Extra key=value pairs are appended (later keys must not repeat earlier
# ones: kite refuses duplicates, so the defaults above are left out when given).
kite_conf() {
	local f=$1 name=$2 kv k
	shift 2
	local -A set=()
	for kv in "$@"; do
		k=${kv%%=*}
		set[${k// /}]=1
	done
	[ -f "$RUN/rw.psk" ] || kite_psk "$RUN/rw.psk" "0x$GW_PSK"
	{
		echo "[$name]"
		echo "gateway = $GW_ADDR"
		echo "local_id = $RW_ID"
		echo "remote_id = $GW_ID"
		[ -n "${set[auth]:-}" ] || echo "auth = psk"
		[ -n "${set[psk_file]:-}" ] || echo "psk_file = $RUN/rw.psk"
		[ -n "${set[retransmit_timeout]:-}" ] || echo "retransmit_timeout = 500ms"
		[ -n "${set[retransmit_tries]:-}" ] || echo "retransmit_tries = 3"
		[ -n "${set[dns]:-}" ] || echo "dns = no"
		for kv in "$@"; do
			echo "${kv%%=*} = ${kv#*=}"
		done
	} >"$f"
	if [ "${V:-0}" = 1 ]; then indent <"$f"; fi
	return 0
}

# kite_start CONF NAME [ARGS...]: kite in the rw namespace, in the background, output to
# KITE_LOG. KITE_PID is kite's own PID (ip netns exec execs it), KITE_T0 the start time (ms).
kite_start() {
	local conf=$1 name=$2
	shift 2
	KITE_RUNS=$((KITE_RUNS + 1))
	KITE_LOG=$RUN/kite.$KITE_RUNS.$name.log
	KITE_RC=""
	_pretty rw "$KITE -c $conf -v connect $name --foreground $*"
	now_ms
	KITE_T0=$NOW_MS
	ip netns exec "$RW" "$KITE" -c "$conf" -v connect "$name" --foreground "$@" >"$KITE_LOG" 2>&1 &
	KITE_PID=$!
}

# kite_wait_established [SECONDS=10]: 0 once the log shows "IKE SA established" (kite still
# running), 1 if kite exited first (KITE_RC set), 2 on timeout. KITE_UP_MS = time to establish.
kite_wait_established() {
	slowwait "${1:-10}" _kite_up_or_gone
	if grep -q "IKE SA established" "$KITE_LOG" 2>/dev/null && alive "$KITE_PID"; then
		now_ms
		KITE_UP_MS=$((NOW_MS - KITE_T0))
		return 0
	fi
	if not_alive "$KITE_PID"; then
		wait_exit "$KITE_PID" 2
		KITE_RC=$WAIT_RC
		KITE_PID=""
		return 1
	fi
	return 2
}
_kite_up_or_gone() { grep -q "IKE SA established" "$KITE_LOG" || not_alive "$KITE_PID"; }

# kite_wait_exit SECONDS: bounded wait for kite to end by itself; KITE_RC = its status,
# KITE_EXIT_MS = ms since kite_start. 1 if still running.
kite_wait_exit() {
	wait_exit "$KITE_PID" "$1" || return 1
	now_ms
	KITE_EXIT_MS=$((NOW_MS - KITE_T0))
	KITE_RC=$WAIT_RC
	KITE_PID=""
}

# kite_stop [SECONDS=5]: SIGTERM (kite sends an IKE DELETE and exits 0), bounded wait;
# KITE_RC = exit status. Returns 1 if kite did not exit in time (it is then SIGKILLed).
kite_stop() {
	[ -n "$KITE_PID" ] || return 0
	kill -TERM "$KITE_PID" 2>/dev/null
	if wait_exit "$KITE_PID" "${1:-5}"; then
		KITE_RC=$WAIT_RC
		KITE_PID=""
		return 0
	fi
	kill -KILL "$KITE_PID" 2>/dev/null
	wait_exit "$KITE_PID" 2
	KITE_RC="killed"
	KITE_PID=""
	return 1
}

# The last non-empty line kite printed.
kite_last_line() { grep -v '^[[:space:]]*$' "$KITE_LOG" 2>/dev/null | tail -n 1; }
