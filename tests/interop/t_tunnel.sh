#!/bin/bash
# t_tunnel: traffic through kite's tunnel, with kite started the way users start it
# (`kite connect NAME`: a background daemon, the command returns once traffic can flow).
#
#   k<PID>-rw (kite)                 k<PID>-gw (strongSwan, libipsec)        k<PID>-lan
#   eth0 198.51.100.10/24 --veth---- eth0 198.51.100.1/24
#   kt-kt<PID>: virtual IP           lan0 10.1.0.1/24      ------veth------- eth0 10.1.0.10/24
#                                         fd00:1::1/64 (v6 case)                fd00:1::10/64 (v6 case)
#                                    pools 10.3.0.0/24 (+ fd00:3::/120 in the v6 case)
#
# Cases (IKE aes256gcm16-prfsha384-x25519 each; a fresh gateway per case):
#   tunnel/<esp> for ESP aes256gcm16, chacha20poly1305, aes128-sha256:
#     kite connect (background) exits 0; 5 pings rw -> 10.1.0.10 (0.2 s apart) all answered;
#     pings from the LAN host to the client's virtual IP answered; a 5 s iperf3 TCP transfer
#     rw -> LAN host completes without error and moves bytes (rate printed); kite status --json
#     shows packets_in/packets_out > 0 and the child proposal; kite disconnect exits 0, the
#     daemon ends, the gateway drops the SA, kt-<name> is gone.
#   tunnel/ipv6-inner: the gateway also has an IPv6 pool (fd00:3::/120) and IPv6 local_ts
#     (fd00:1::/64): kite must get an IPv6 virtual IP, ping6 fd00:1::10 through the tunnel,
#     and the LAN host must reach the v6 virtual IP. Failing to do so is a FAIL, not a skip.
#   tunnel/status-ctl: every `kite status` call against the running daemon worked the first time.
#   tunnel/leftovers: after all cases nothing kite-named is left (no daemon, socket, device,
#     DNS backup) and the host's /etc/resolv.conf is unchanged.
#
# V=1 echoes commands; KEEP=1 keeps the run directory.
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/lib.sh"
require_root
require_tools
require_kite

PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
HAVE_IPERF=1
command -v iperf3 >/dev/null 2>&1 || HAVE_IPERF=0

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

# ---- helpers (this script's own; lib.sh is shared) -------------------------------------

# PIDs of kite processes in the rw namespace (the background daemon).
kite_daemon_pids() {
	local p c
	for p in $(ip netns pids "$RW" 2>/dev/null); do
		read -r c 2>/dev/null </proc/"$p"/comm || continue
		[ "$c" = kite ] && echo "$p"
	done
	return 0
}
no_kite_daemon() { [ -z "$(kite_daemon_pids)" ]; }

# Stop whatever kite daemon is left: disconnect, then SIGTERM, then SIGKILL (bounded).
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
# kite_connect_bg: `kite -c CONF connect NAME` in rw (bounded); KD_RC, KD_OUT (its output),
# KD_LOG (the daemon's KITE_LOG_FILE).
kite_connect_bg() {
	local conf=$CONF
	KD_RUNS=$((KD_RUNS + 1))
	KD_LOG=$RUN/kited.$KD_RUNS.log
	KITE_LOG=$KD_LOG	# lib.sh's show_logs shows it
	_pretty rw "KITE_LOG_FILE=$KD_LOG $KITE -c $conf connect $NAME"
	KD_OUT=$(KITE_LOG_FILE=$KD_LOG timeout 30 ip netns exec "$RW" "$KITE" -c "$conf" connect "$NAME" 2>&1)
	KD_RC=$?
}
kite_cmd() { ip netns exec "$RW" "$KITE" -c "$CONF" "$@"; }

# kite_status ARGS...: `kite status ARGS` with its output in ST_OUT and status in ST_RC.
# A control client that sends the request and its newline in two send()s fails with "Broken
# pipe" when the daemon answers and closes in between (kite had this bug). Such a failure is
# counted (CTL_EPIPE; tunnel/status-ctl fails at the end) and the call is repeated (at most
# 20 tries, 0.1 s apart), so that the traffic cases are judged on their own.
CTL_EPIPE=0
CTL_CALLS=0
kite_status() {
	local i
	for ((i = 0; i < 20; i++)); do
		[ "$i" -gt 0 ] && sleep 0.1
		CTL_CALLS=$((CTL_CALLS + 1))
		ST_OUT=$(timeout 10 ip netns exec "$RW" "$KITE" -c "$CONF" status "$@" 2>&1)
		ST_RC=$?
		grep -q "Broken pipe" <<<"$ST_OUT" || return 0
		CTL_EPIPE=$((CTL_EPIPE + 1))
		CTL_EPIPE_LINE=$ST_OUT
	done
	return 0
}

# json_get JSON EXPR: a python expression over j (the parsed object); prints the value.
json_get() { "$PY" -c 'import json,sys; j=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"; }

link_gone() { ! ip -n "$RW" link show "$TUNDEV" >/dev/null 2>&1; }

# disconnect_check CASE: kite disconnect exits 0, the daemon ends (5 s), the gateway drops the
# SA (5 s), the TUN device is gone. Prints FAIL itself; 0 when all good.
disconnect_check() {
	local c=$1 out rc
	out=$(timeout 15 ip netns exec "$RW" "$KITE" -c "$CONF" disconnect "$NAME" 2>&1)
	rc=$?
	if [ "$rc" != 0 ]; then
		fail "$c" "kite disconnect exited $rc: $out"
		show_logs
		kite_kill_leftovers
		return 1
	fi
	if ! slowwait 5 no_kite_daemon; then
		fail "$c" "the kite daemon still runs 5 s after 'kite disconnect'"
		show_logs
		kite_kill_leftovers
		return 1
	fi
	if ! slowwait 5 gw_no_sa_for "$RW_ID"; then
		fail "$c" "the gateway still has an IKE_SA 5 s after the disconnect ($(gw_ike_state "$RW_ID" | tr '\n' ' '))"
		show_logs
		return 1
	fi
	if ! link_gone; then
		fail "$c" "$TUNDEV still exists after the disconnect"
		return 1
	fi
	if [ -e "/run/kite/$NAME.sock" ]; then
		fail "$c" "/run/kite/$NAME.sock left after the disconnect"
		return 1
	fi
	return 0
}

IPERF_PID=""
iperf_server_start() {
	rm -f "$RUN/iperf-s.out"
	ip netns exec "$LAN" iperf3 -s -B "$LAN_ADDR" -p 5201 >"$RUN/iperf-s.out" 2>&1 &
	IPERF_PID=$!
	bg_track "$IPERF_PID"
	slowwait 5 _iperf_listening
}
_iperf_listening() { ip netns exec "$LAN" ss -Hltn "sport = :5201" | grep -q 5201; }
iperf_server_stop() {
	[ -n "$IPERF_PID" ] && stop_pid "$IPERF_PID" iperf3
	IPERF_PID=""
}

# ---- the cases --------------------------------------------------------------------------

# traffic_case ESP WANT_CHILD_PROPOSAL
traffic_case() {
	local esp=$1 want=$2 c="tunnel/$1" js vip out v rate
	info "--- $c (IKE $IKE)"
	if ! start_gateway "$IKE" "$esp"; then
		fail "$c" "strongSwan gateway did not start"
		show_logs
		return
	fi
	kite_conf "$CONF" "$NAME" "ike=$IKE" "esp=$esp"
	now_ms
	local t0=$NOW_MS
	kite_connect_bg
	now_ms
	if [ "$KD_RC" != 0 ]; then
		fail "$c" "kite connect exited $KD_RC: $KD_OUT"
		show_logs
		kite_kill_leftovers
		return
	fi
	info "kite connect returned 0 after $((NOW_MS - t0)) ms"

	# rw -> LAN host
	out=$(ip netns exec "$RW" ping -n -c5 -i0.2 -W2 "$LAN_ADDR" 2>&1)
	if ! grep -q " 5 received" <<<"$out"; then
		fail "$c" "ping rw -> $LAN_ADDR: not all 5 answered: $(grep -E 'transmitted|rror' <<<"$out" | head -n 2)"
		show_logs
		kite_kill_leftovers
		return
	fi

	kite_status "$NAME" --json
	js=$ST_OUT
	vip=$(json_get "$js" 'j["virtual_ip"][0]' 2>/dev/null)
	if [ -z "$vip" ]; then
		fail "$c" "no virtual IP in kite status --json (exit $ST_RC): $js"
		info "kite daemon(s) running: $(kite_daemon_pids | tr '\n' ' ')"
		show_logs
		kite_kill_leftovers
		return
	fi
	# LAN host -> the client's virtual IP (the other direction through the tunnel)
	out=$(ip netns exec "$LAN" ping -n -c3 -i0.2 -W2 "$vip" 2>&1)
	if ! grep -q " 3 received" <<<"$out"; then
		fail "$c" "ping LAN host -> virtual IP $vip: not all 3 answered: $(grep -E 'transmitted|rror' <<<"$out" | head -n 2)"
		show_logs
		kite_kill_leftovers
		return
	fi

	if [ "$HAVE_IPERF" = 1 ]; then
		if ! iperf_server_start; then
			fail "$c" "iperf3 server did not listen within 5 s"
			show_tail "$RUN/iperf-s.out"
			iperf_server_stop
			kite_kill_leftovers
			return
		fi
		ip netns exec "$RW" timeout 30 iperf3 -c "$LAN_ADDR" -p 5201 -t 5 -J >"$RUN/iperf-c.json" 2>"$RUN/iperf-c.err"
		local irc=$?
		iperf_server_stop
		v=$("$PY" - "$RUN/iperf-c.json" <<'EOF' 2>&1
import json, sys
j = json.load(open(sys.argv[1]))
if "error" in j:
    print("ERR " + j["error"]); sys.exit(0)
s = j["end"]["sum_sent"]; r = j["end"]["sum_received"]
print("%d %d %.1f %d" % (s["bytes"], r["bytes"], r["bits_per_second"] / 1e6, s.get("retransmits", -1)))
EOF
)
		read -r sb rb rate retr <<<"$v"
		if [ "$irc" != 0 ] || [ "${sb:-}" = ERR ] || ! [ "${rb:-0}" -gt 0 ] 2>/dev/null; then
			fail "$c" "iperf3 rw -> $LAN_ADDR failed (exit $irc): $v $(head -c 300 "$RUN/iperf-c.err")"
			show_logs
			kite_kill_leftovers
			return
		fi
		info "iperf3 TCP 5 s rw -> lan ($esp): $rate Mbit/s received, $rb bytes, $retr retransmits"
	else
		info "iperf3 not installed: throughput step left out"
	fi

	kite_status "$NAME" --json
	js=$ST_OUT
	if [ "$ST_RC" != 0 ]; then
		fail "$c" "kite status --json exited $ST_RC after the traffic: $js"
		show_logs
		kite_kill_leftovers
		return
	fi
	v=$(json_get "$js" '"%s %s %s %s" % (j["child"]["packets_in"], j["child"]["packets_out"], j["child"]["proposal"], j["state"])' 2>&1)
	read -r pin pout prop st <<<"$v"
	if ! [ "${pin:-0}" -gt 0 ] 2>/dev/null || ! [ "${pout:-0}" -gt 0 ] 2>/dev/null ||
		[ "$prop" != "$want" ] || [ "$st" != established ]; then
		fail "$c" "kite status --json: packets_in=$pin packets_out=$pout proposal=$prop state=$st (want >0, >0, $want, established): $js"
		kite_kill_leftovers
		return
	fi
	info "status: packets in $pin, out $pout, child $prop; gateway CHILD_SA: $(gw_child_info | head -n 1)"

	disconnect_check "$c" || return
	pass "$c"
}

# The IPv6-inner gateway: v4 + v6 pools, v4 + v6 local_ts.
V6_GW_LAN=fd00:1::1
V6_LAN=fd00:1::10
V6_NET=fd00:1::/64
V6_POOL=fd00:3::/120
gw_conf_v6() {
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
    pools = rw_pool, rw_pool6
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
        local_ts = $LAN_NET, $V6_NET
        esp_proposals = $2
      }
    }
  }
}
pools {
  rw_pool {
    addrs = $VIP_POOL
  }
  rw_pool6 {
    addrs = $V6_POOL
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

v6_case() {
	local c="tunnel/ipv6-inner" js vip4 vip6 out r4 r6
	info "--- $c (gateway pools $VIP_POOL + $V6_POOL, local_ts $LAN_NET + $V6_NET)"
	# IPv6 on the LAN side (no DAD: usable at once)
	if ! { ip -n "$GW" -6 addr add "$V6_GW_LAN/64" dev lan0 nodad &&
		ip -n "$LAN" -6 addr add "$V6_LAN/64" dev eth0 nodad &&
		ip -n "$LAN" -6 route add default via "$V6_GW_LAN" &&
		ip netns exec "$GW" sysctl -qw net.ipv6.conf.all.forwarding=1; }; then
		fail "$c" "could not add the IPv6 addresses on the LAN side"
		return
	fi
	if ! slowwait 5 ip netns exec "$LAN" ping -6 -n -c1 -W1 "$V6_GW_LAN"; then
		fail "$c" "LAN host cannot ping6 the gateway's LAN address (test setup)"
		return
	fi
	charon_stop gw
	gw_conf_v6 "$IKE" aes256gcm16
	if ! charon_start gw "$GW" || ! gw_load; then
		fail "$c" "strongSwan gateway did not start with the IPv6 pool"
		show_logs
		return
	fi
	kite_conf "$CONF" "$NAME" "ike=$IKE" "esp=aes256gcm16"
	kite_connect_bg
	if [ "$KD_RC" != 0 ]; then
		fail "$c" "kite connect exited $KD_RC: $KD_OUT"
		show_logs
		kite_kill_leftovers
		return
	fi
	kite_status "$NAME" --json
	js=$ST_OUT
	vip4=$(json_get "$js" '" ".join(v for v in j["virtual_ip"] if "." in v)' 2>/dev/null)
	vip6=$(json_get "$js" '" ".join(v for v in j["virtual_ip"] if ":" in v)' 2>/dev/null)
	info "virtual IPs: v4 '$vip4' v6 '$vip6'; gateway: $(gw_list_sas | grep -E 'local|remote' | grep -c .) TS lines"
	gw_list_sas | grep -E '^    (local|remote) ' | indent
	if [ -z "$vip6" ]; then
		if gw_list_sas | grep -q "fd00:3::"; then
			fail "$c" "the gateway assigned an IPv6 virtual IP (see above) but kite status shows none: $js"
		else
			fail "$c" "no IPv6 virtual IP assigned (kite status: $js)"
		fi
		grep -iE 'ipv6|v6|INTERNAL_IP6|TS|virtual' "$RUN/gw.charon.log" | tail -n 15 | indent
		show_logs
		kite_kill_leftovers
		return
	fi
	r4=$(ip -n "$RW" -6 route show table all | grep -E "fd00:1::/64|unreachable" | head -n 3)
	info "rw IPv6 routes: $(tr '\n' ';' <<<"$r4")"
	out=$(ip netns exec "$RW" ping -6 -n -c5 -i0.2 -W2 "$V6_LAN" 2>&1)
	if ! grep -q " 5 received" <<<"$out"; then
		fail "$c" "ping6 rw -> $V6_LAN through the tunnel: not all 5 answered: $(grep -E 'transmitted|rror|nreachable' <<<"$out" | head -n 2)"
		ip -n "$RW" -6 route show table all | indent
		ip -n "$RW" -6 rule | indent
		ip -n "$RW" -6 addr show dev "$TUNDEV" | indent
		show_logs
		kite_kill_leftovers
		return
	fi
	out=$(ip netns exec "$LAN" ping -6 -n -c3 -i0.2 -W2 "$vip6" 2>&1)
	if ! grep -q " 3 received" <<<"$out"; then
		fail "$c" "ping6 LAN host -> v6 virtual IP $vip6: not all 3 answered: $(grep -E 'transmitted|rror' <<<"$out" | head -n 2)"
		show_logs
		kite_kill_leftovers
		return
	fi
	# IPv4 still works next to IPv6 in the same CHILD_SA
	out=$(ip netns exec "$RW" ping -n -c2 -i0.2 -W2 "$LAN_ADDR" 2>&1)
	if ! grep -q " 2 received" <<<"$out"; then
		fail "$c" "IPv4 ping rw -> $LAN_ADDR failed next to IPv6: $(grep -E 'transmitted' <<<"$out")"
		kite_kill_leftovers
		return
	fi
	# with IPv6 in the tunnel kite must not install the IPv6 leak block
	r6=$(ip -n "$RW" -6 route show table all | grep '^unreachable default' | grep -v 'table local')
	[ -n "$r6" ] && info "note: an IPv6 unreachable default is installed although the tunnel carries IPv6: $r6"
	disconnect_check "$c" || return
	pass "$c"
}

status_ctl_case() {
	local c="tunnel/status-ctl"
	if [ "$CTL_EPIPE" = 0 ]; then
		pass "$c"
	else
		fail "$c" "$CTL_EPIPE of $CTL_CALLS 'kite status' calls against a running daemon failed: $CTL_EPIPE_LINE (control client and daemon disagree on the request framing)"
	fi
}

leftovers_case() {
	local c="tunnel/leftovers" errs=()
	[ -e "/run/kite/$NAME.sock" ] && errs+=("/run/kite/$NAME.sock exists")
	[ -e "/run/kite/$NAME.resolv.conf" ] && errs+=("/run/kite/$NAME.resolv.conf exists")
	no_kite_daemon || errs+=("kite process(es) still running in $RW: $(kite_daemon_pids | tr '\n' ' ')")
	ip -n "$RW" -o link show | grep -q ' kt-' && errs+=("a kt-* device is left in $RW")
	host_resolv_same || errs+=("the host's /etc/resolv.conf changed")
	if [ ${#errs[@]} = 0 ]; then
		pass "$c"
	else
		fail "$c" "$(IFS=';'; echo "${errs[*]}")"
	fi
}

traffic_case aes256gcm16 AES_GCM_16_256
traffic_case chacha20poly1305 CHACHA20_POLY1305
traffic_case aes128-sha256 AES_CBC_128/HMAC_SHA2_256_128
v6_case
status_ctl_case
leftovers_case
t_done
