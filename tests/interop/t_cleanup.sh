#!/bin/bash
# t_cleanup: everything kite changes in the client's network namespace (addresses, routes of
# every table, rules of both families, links, the resolver file, /run/kite entries) is undone
# on every way out: `kite disconnect`, SIGTERM to the daemon, and kill -9 followed by the next
# `kite connect` (which must clean up what the killed daemon left).
#
#   k<PID>-rw (kite)                 k<PID>-gw (strongSwan, libipsec)        k<PID>-lan
#   eth0 198.51.100.10/24 --veth---- eth0 198.51.100.1/24
#   kt-kt<PID> (while connected)     lan0 10.1.0.1/24      ------veth------- eth0 10.1.0.10/24
#   /etc/netns/k<PID>-rw/resolv.conf pool 10.3.0.0/24, DNS 10.1.0.53 + 10.1.0.54
#     (ip netns exec bind-mounts it over /etc/resolv.conf; kite runs with dns = yes and
#      KITE_DNS_BACKEND=file so that its rewrite lands in that private copy only)
#
# Cases:
#   cleanup/not-connected        kite disconnect NAME while not connected: exit 4 (before and after)
#   cleanup/connected            while connected: kite's resolv.conf, one pair of rules per family
#   cleanup/disconnect           kite disconnect: snapshot equals the one before connect, the
#                                gateway has no SA (5 s), the daemon has ended
#   cleanup/sigterm              SIGTERM to the daemon: it exits within 5 s, same checks
#   cleanup/kill9-stale          kill -9: what is left is noted (rules, table routes, resolv.conf,
#                                socket, DNS backup)
#   cleanup/kill9-reconnect      kite connect again succeeds: stale socket replaced, exactly one
#                                pair of kite rules per family, resolv.conf backup = the original
#   cleanup/kill9-disconnect     then kite disconnect: snapshot equals the original
#   cleanup/host-untouched       the host's /etc/resolv.conf is unchanged, nothing kite-named left
#
# V=1 echoes commands; KEEP=1 keeps the run directory.
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/lib.sh"
require_root
require_tools
require_kite

setup
trap my_cleanup EXIT
# Test a copy: other work may rebuild ./kite while this script runs.
if ! cp "$KITE" "$RUN/kite" || ! "$RUN/kite" --version >/dev/null 2>&1; then
	fail "$T_NAME" "cannot copy and run $KITE"
	t_done
fi
KITE=$RUN/kite
# The host's resolver file before kite runs: it must be the same at the end.
HOST_RESOLV_SAVED=$RUN/host-resolv.conf
cp -p /etc/resolv.conf "$HOST_RESOLV_SAVED" 2>/dev/null || : >"$HOST_RESOLV_SAVED"

NAME=$KITE_NAME
TUNDEV=kt-$NAME
CONF=$RUN/vpn.ini
IKE=aes256gcm16-prfsha384-x25519
ESP=aes256gcm16
NETNS_ETC=/etc/netns/$RW
ETC_NETNS_MADE=0
MARKER=kite-cleanup-test-$$-$RANDOM
DNS1=10.1.0.53
DNS2=10.1.0.54

# ---- helpers (this script's own; lib.sh is shared) -------------------------------------

kite_daemon_pids() {
	local p c
	for p in $(ip netns pids "$RW" 2>/dev/null); do
		read -r c 2>/dev/null </proc/"$p"/comm || continue
		[ "$c" = kite ] && echo "$p"
	done
	return 0
}
no_kite_daemon() { [ -z "$(kite_daemon_pids)" ]; }

kite_kill_leftovers() {
	local p
	[ -n "$(kite_daemon_pids)" ] || return 0
	timeout 10 ip netns exec "$RW" "$KITE" -c "$CONF" disconnect "$NAME" >/dev/null 2>&1
	slowwait 5 no_kite_daemon && return 0
	for p in $(kite_daemon_pids); do kill -TERM "$p" 2>/dev/null; done
	slowwait 5 no_kite_daemon && return 0
	for p in $(kite_daemon_pids); do kill -KILL "$p" 2>/dev/null; done
	slowwait 2 no_kite_daemon
}

host_resolv_same() { cmp -s "$HOST_RESOLV_SAVED" /etc/resolv.conf; }

my_cleanup() {
	local rc=$?
	set +e
	kite_kill_leftovers
	rm -rf "$NETNS_ETC"
	[ "$ETC_NETNS_MADE" = 1 ] && rmdir /etc/netns 2>/dev/null
	if ! host_resolv_same; then
		echo "FAIL: $T_NAME/cleanup: the host's /etc/resolv.conf changed during the test; restored"
		diff "$HOST_RESOLV_SAVED" /etc/resolv.conf | indent
		cat "$HOST_RESOLV_SAVED" >/etc/resolv.conf
		[ "$rc" = 0 ] && rc=1
	fi
	rm -f "/run/kite/$NAME.resolv.conf"
	(exit "$rc")
	cleanup
}

KD_RUNS=0
KD_LOG=""
KD_OUT=""
KD_RC=""
# kite_connect_bg: `kite -c CONF connect NAME` in rw (bounded); KD_RC, KD_OUT, KD_LOG.
kite_connect_bg() {
	KD_RUNS=$((KD_RUNS + 1))
	KD_LOG=$RUN/kited.$KD_RUNS.log
	KITE_LOG=$KD_LOG
	_pretty rw "KITE_LOG_FILE=$KD_LOG KITE_DNS_BACKEND=file $KITE -c $CONF connect $NAME"
	KD_OUT=$(KITE_LOG_FILE=$KD_LOG KITE_DNS_BACKEND=file timeout 30 \
		ip netns exec "$RW" "$KITE" -c "$CONF" connect "$NAME" 2>&1)
	KD_RC=$?
}

# ---- the gateway: lib.sh's shape plus DNS servers in the pool ---------------------------

gw_conf_dns() {
	local d=$RUN/gw/swanctl
	mkdir -p "$d"
	_sw_dirs "$d"
	cat >"$d/swanctl.conf" <<EOF
connections {
  rw {
    version = 2
    local_addrs = $GW_ADDR
    remote_addrs = %any
    proposals = $IKE
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
        esp_proposals = $ESP
      }
    }
  }
}
pools {
  rw_pool {
    addrs = $VIP_POOL
    dns = $DNS1, $DNS2
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

# ---- the namespace's private resolv.conf -------------------------------------------------

DNS_OK=0
setup_resolv() {
	if [ -e "$NETNS_ETC" ]; then
		info "$NETNS_ETC already exists; not touching it"
		return 1
	fi
	if [ ! -d /etc/netns ]; then
		mkdir /etc/netns 2>/dev/null && ETC_NETNS_MADE=1
	fi
	[ -d /etc/netns ] || return 1
	mkdir "$NETNS_ETC" || return 1
	printf '# %s: resolv.conf of the test namespace\nnameserver 192.0.2.53\nsearch home.example\noptions edns0\n' \
		"$MARKER" >"$NETNS_ETC/resolv.conf"
	cp "$NETNS_ETC/resolv.conf" "$RUN/resolv.orig"
	# ip netns exec must bind-mount it, or kite would rewrite the host's file
	ip netns exec "$RW" grep -q "$MARKER" /etc/resolv.conf &&
		[ "$(ip netns exec "$RW" stat -L -c %d:%i /etc/resolv.conf)" = "$(stat -c %d:%i "$NETNS_ETC/resolv.conf")" ]
}

# ---- snapshots of the rw namespace ----------------------------------------------------------

# Everything kite may change, volatile details masked (DAD flags; no counters are listed).
snapshot() {	# FILE
	{
		echo "## addresses"
		ip -n "$RW" addr show | sed -E 's/ (tentative|dadfailed|optimistic)//g'
		echo "## routes v4 (all tables)"; ip -n "$RW" -4 route show table all
		echo "## routes v6 (all tables)"; ip -n "$RW" -6 route show table all
		echo "## rules v4"; ip -n "$RW" -4 rule show
		echo "## rules v6"; ip -n "$RW" -6 rule show
		echo "## links"; ip -n "$RW" -o link show | awk '{ print $2 }'
		echo "## resolv.conf (as seen in $RW)"; ip netns exec "$RW" cat /etc/resolv.conf
		echo "## /run/kite ($NAME*)"
		for f in "/run/kite/$NAME" "/run/kite/$NAME".*; do [ -e "$f" ] && echo "${f##*/}"; done
	} >"$1" 2>&1
}
_stable() { snapshot "$RUN/s1"; sleep 0.1; snapshot "$RUN/s2"; cmp -s "$RUN/s1" "$RUN/s2"; }

# same_as_before TAG: compare with the reference; prints the difference.
same_as_before() {
	snapshot "$RUN/snap.$1"
	cmp -s "$RUN/snap.before" "$RUN/snap.$1" && return 0
	echo "    --- difference (before connect -> after $1):"
	diff "$RUN/snap.before" "$RUN/snap.$1" | indent
	return 1
}

# Rules kite added: those of a family not in the reference.
kite_rules() {	# 4|6
	ip -n "$RW" -"$1" rule show | grep -vxF -f <(sed -n "/^## rules v$1\$/,/^## /p" "$RUN/snap.before" | grep -v '^## ')
}

# the gateway has no SA for the client (bounded)
gw_clear() { slowwait 5 gw_no_sa_for "$RW_ID"; }

disconnect_not_connected() {	# CASE
	local c=$1 out rc
	out=$(timeout 10 ip netns exec "$RW" "$KITE" -c "$CONF" disconnect "$NAME" 2>&1)
	rc=$?
	if [ "$rc" = 4 ]; then
		pass "$c"
	else
		fail "$c" "kite disconnect $NAME while not connected: exit $rc, want 4: $out"
	fi
}

# connect_or_fail CASE: kite connect must succeed; 1 (FAIL printed) otherwise
connect_or_fail() {
	kite_connect_bg
	if [ "$KD_RC" != 0 ]; then
		fail "$1" "kite connect exited $KD_RC: $KD_OUT"
		show_logs
		kite_kill_leftovers
		return 1
	fi
	return 0
}

# ---- set-up -----------------------------------------------------------------------------

charon_stop gw
gw_conf_dns
if ! charon_start gw "$GW" || ! gw_load; then
	fail "$T_NAME" "strongSwan gateway did not start"
	show_logs
	t_done
fi
if setup_resolv; then
	DNS_OK=1
	kite_conf "$CONF" "$NAME" "ike=$IKE" "esp=$ESP" "dns=yes"
else
	skip "cleanup/dns" "ip netns exec does not give $RW a private /etc/resolv.conf; DNS left out (dns = no)"
	kite_conf "$CONF" "$NAME" "ike=$IKE" "esp=$ESP"
fi
# IPv6 DAD on eth0 must be over (the link-local route appears with it), then the reference
no_tentative() { ! ip -n "$RW" addr show | grep -q tentative; }
slowwait 5 no_tentative || info "note: an address in $RW is still tentative after 5 s"
slowwait 5 _stable
snapshot "$RUN/snap.before"
[ "${V:-0}" = 1 ] && indent <"$RUN/snap.before"

disconnect_not_connected cleanup/not-connected

# ---- (a) kite disconnect ------------------------------------------------------------------

RULES4_REF=""
RULES6_REF=""
case_a() {
	local c=cleanup/connected errs=() out rc
	info "--- (a) connect, kite disconnect"
	connect_or_fail "$c" || return 1
	RULES4_REF=$(kite_rules 4)
	RULES6_REF=$(kite_rules 6)
	[ "$(grep -c . <<<"$RULES4_REF")" = 2 ] || errs+=("IPv4 kite rules: $(tr '\n' ';' <<<"$RULES4_REF"), want 2")
	[ "$(grep -c . <<<"$RULES6_REF")" = 2 ] || errs+=("IPv6 kite rules: $(tr '\n' ';' <<<"$RULES6_REF"), want 2")
	ip -n "$RW" link show "$TUNDEV" >/dev/null 2>&1 || errs+=("no $TUNDEV")
	if [ "$DNS_OK" = 1 ]; then
		out=$(ip netns exec "$RW" cat /etc/resolv.conf)
		grep -q "written by kite for $NAME" <<<"$out" || errs+=("resolv.conf has no kite header")
		grep -qx "nameserver $DNS1" <<<"$out" || errs+=("resolv.conf lacks nameserver $DNS1")
		cmp -s "/run/kite/$NAME.resolv.conf" "$RUN/resolv.orig" ||
			errs+=("/run/kite/$NAME.resolv.conf is not a copy of the original")
	fi
	host_resolv_same || errs+=("the HOST's /etc/resolv.conf changed")
	if [ ${#errs[@]} = 0 ]; then
		pass "$c"
		info "kite rules: $(tr '\n' ';' <<<"$RULES4_REF") / $(tr '\n' ';' <<<"$RULES6_REF")"
	else
		fail "$c" "$(IFS=';'; echo "${errs[*]}")"
		[ "$DNS_OK" = 1 ] && ip netns exec "$RW" cat /etc/resolv.conf | indent
		show_logs
	fi

	c=cleanup/disconnect
	errs=()
	out=$(timeout 15 ip netns exec "$RW" "$KITE" -c "$CONF" disconnect "$NAME" 2>&1)
	rc=$?
	[ "$rc" = 0 ] || errs+=("kite disconnect exited $rc: $out")
	slowwait 5 no_kite_daemon || errs+=("the daemon still runs 5 s after kite disconnect")
	gw_clear || errs+=("the gateway still has an SA 5 s after the disconnect")
	same_as_before disconnect || errs+=("namespace state differs from before connect (diff above)")
	if [ ${#errs[@]} = 0 ]; then
		pass "$c"
	else
		fail "$c" "$(IFS=';'; echo "${errs[*]}")"
		show_logs
		kite_kill_leftovers
	fi
}

# ---- (b) SIGTERM -------------------------------------------------------------------------

case_b() {
	local c=cleanup/sigterm errs=() pids pid t0
	info "--- (b) connect, SIGTERM to the daemon"
	connect_or_fail "$c" || return 1
	pids=$(kite_daemon_pids)
	if [ "$(grep -c . <<<"$pids")" != 1 ]; then
		fail "$c" "want one kite process in $RW, found: '$(tr '\n' ' ' <<<"$pids")'"
		kite_kill_leftovers
		return 1
	fi
	pid=$pids
	now_ms
	t0=$NOW_MS
	kill -TERM "$pid"
	if slowwait 5 not_alive "$pid"; then
		now_ms
		info "daemon (pid $pid) exited $((NOW_MS - t0)) ms after SIGTERM"
	else
		errs+=("the daemon (pid $pid) still runs 5 s after SIGTERM")
	fi
	gw_clear || errs+=("the gateway still has an SA 5 s after SIGTERM")
	grep -q "received DELETE for IKE_SA" "$RUN/gw.charon.log" || errs+=("the gateway's log shows no DELETE")
	same_as_before sigterm || errs+=("namespace state differs from before connect (diff above)")
	if [ ${#errs[@]} = 0 ]; then
		pass "$c"
	else
		fail "$c" "$(IFS=';'; echo "${errs[*]}")"
		show_logs
		kite_kill_leftovers
	fi
}

# ---- (c) kill -9, reconnect, disconnect -------------------------------------------------

case_c() {
	local c=cleanup/kill9-stale pids pid left=() r4 r6 t4 t6 table errs=() out rc p
	info "--- (c) connect, kill -9, connect again, disconnect"
	connect_or_fail "$c" || return 1
	pids=$(kite_daemon_pids)
	if [ "$(grep -c . <<<"$pids")" != 1 ]; then
		fail "$c" "want one kite process in $RW, found: '$(tr '\n' ' ' <<<"$pids")'"
		kite_kill_leftovers
		return 1
	fi
	pid=$pids
	kill -KILL "$pid"
	if ! slowwait 5 not_alive "$pid"; then
		fail "$c" "the daemon (pid $pid) survived kill -9 for 5 s"
		return 1
	fi
	# what a killed daemon leaves behind (nothing can undo it but the next start)
	r4=$(kite_rules 4)
	r6=$(kite_rules 6)
	table=$(grep -o 'lookup [0-9]*' <<<"$RULES4_REF" | awk '{ print $2; exit }')
	[ -n "$r4" ] && left+=("$(grep -c . <<<"$r4") IPv4 rules")
	[ -n "$r6" ] && left+=("$(grep -c . <<<"$r6") IPv6 rules")
	if [ -n "$table" ]; then
		t4=$(ip -n "$RW" -4 route show table "$table" 2>/dev/null)
		t6=$(ip -n "$RW" -6 route show table "$table" 2>/dev/null)
		[ -n "$t4" ] && left+=("table $table IPv4: $(tr '\n' ';' <<<"$t4")")
		[ -n "$t6" ] && left+=("table $table IPv6: $(tr '\n' ';' <<<"$t6")")
	fi
	ip -n "$RW" link show "$TUNDEV" >/dev/null 2>&1 && left+=("$TUNDEV")
	[ "$DNS_OK" = 1 ] && ! cmp -s "$RUN/resolv.orig" "$NETNS_ETC/resolv.conf" && left+=("kite's resolv.conf")
	[ -e "/run/kite/$NAME.sock" ] && left+=("/run/kite/$NAME.sock")
	[ -e "/run/kite/$NAME.resolv.conf" ] && left+=("/run/kite/$NAME.resolv.conf (DNS backup)")
	info "left after kill -9: $(IFS=';'; echo "${left[*]:-nothing}")"
	pass "$c"

	c=cleanup/kill9-reconnect
	connect_or_fail "$c" || return 1
	r4=$(kite_rules 4)
	r6=$(kite_rules 6)
	[ "$r4" = "$RULES4_REF" ] || errs+=("IPv4 kite rules after reconnect: $(tr '\n' ';' <<<"$r4"), want exactly $(tr '\n' ';' <<<"$RULES4_REF")")
	[ "$r6" = "$RULES6_REF" ] || errs+=("IPv6 kite rules after reconnect: $(tr '\n' ';' <<<"$r6"), want exactly $(tr '\n' ';' <<<"$RULES6_REF")")
	[ "$(ip -n "$RW" -6 route show table all | grep -c '^unreachable default')" -le 1 ] ||
		errs+=("more than one IPv6 unreachable default")
	[ "$(kite_daemon_pids | grep -c .)" = 1 ] || errs+=("want one kite process, found $(kite_daemon_pids | tr '\n' ' ')")
	[ -S "/run/kite/$NAME.sock" ] || errs+=("no control socket /run/kite/$NAME.sock")
	if [ "$DNS_OK" = 1 ]; then
		out=$(ip netns exec "$RW" cat /etc/resolv.conf)
		[ "$(grep -c "written by kite for $NAME" <<<"$out")" = 1 ] || errs+=("resolv.conf: want one kite header: $(tr '\n' ';' <<<"$out")")
		cmp -s "/run/kite/$NAME.resolv.conf" "$RUN/resolv.orig" ||
			errs+=("the DNS backup is not the original resolv.conf (kite saved its own file?)")
	fi
	info "the reconnecting daemon logged: $(grep -iE 'stale|earlier run|did not end cleanly' "$KD_LOG" | sed 's/^kite: //' | tr '\n' ';')"
	out=$(timeout 10 ip netns exec "$RW" "$KITE" -c "$CONF" status "$NAME" 2>&1)
	grep -q established <<<"$out" || grep -q "Broken pipe" <<<"$out" ||
		errs+=("kite status after the reconnect: $out")
	if [ ${#errs[@]} = 0 ]; then
		pass "$c"
	else
		fail "$c" "$(IFS=';'; echo "${errs[*]}")"
		show_logs
	fi

	c=cleanup/kill9-disconnect
	errs=()
	out=$(timeout 15 ip netns exec "$RW" "$KITE" -c "$CONF" disconnect "$NAME" 2>&1)
	rc=$?
	[ "$rc" = 0 ] || errs+=("kite disconnect exited $rc: $out")
	slowwait 5 no_kite_daemon || errs+=("the daemon still runs 5 s after kite disconnect")
	gw_clear || errs+=("the gateway still has an SA for $RW_ID 5 s after the disconnect: $(gw_ike_state "$RW_ID" | tr '\n' ' ')")
	same_as_before kill9 || errs+=("namespace state differs from before the first connect (diff above)")
	if [ ${#errs[@]} = 0 ]; then
		pass "$c"
	else
		fail "$c" "$(IFS=';'; echo "${errs[*]}")"
		show_logs
		kite_kill_leftovers
	fi
}

host_case() {
	local c=cleanup/host-untouched errs=()
	host_resolv_same || errs+=("the host's /etc/resolv.conf changed")
	[ -e "/run/kite/$NAME.sock" ] && errs+=("/run/kite/$NAME.sock exists")
	[ -e "/run/kite/$NAME.resolv.conf" ] && errs+=("/run/kite/$NAME.resolv.conf exists")
	no_kite_daemon || errs+=("kite still running in $RW")
	if [ ${#errs[@]} = 0 ]; then
		pass "$c"
	else
		fail "$c" "$(IFS=';'; echo "${errs[*]}")"
	fi
}

case_a
case_b
case_c
disconnect_not_connected cleanup/not-connected-after
host_case
t_done
