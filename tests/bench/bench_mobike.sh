#!/bin/bash
# bench_mobike: how fast traffic through the tunnel comes back after an address change or a gateway
# restart, kite vs a strongSwan client (charon + kernel-libipsec, tuned as testbed.md's road
# warrior: mobike, dpd_delay 2s, dpd_action restart, retransmits 1 s x 1.4, 3 tries) against the
# same strongSwan gateway, in the same namespaces, in one run. Not a test: it prints figures.
# Called at the end of tests/bench/bench.sh; runs alone too (as root).
#
#   RUNS=10        runs per figure and client (the median is printed)
#   KITE_RT=500ms  kite's retransmit_timeout for the gateway-restart figure (with 3 tries it gives
#                  up 7.5 s after the first send; strongSwan's tuned client after 7.1 s)
#   FIGURES="handover renumber restart family", CLIENTS="kite strongSwan": a subset (default: all)
#   V=1 prints each run; KEEP=1 keeps the run directory (kite's logs kite.N.*.log, probes probe.N.txt)
#
# Topology: tests/interop/mobike_lib.sh (rw with wlan0 198.51.100.10 and wwan0 100.64.0.10 behind a
# NAT, a router, the gateway 192.0.2.1, the LAN host 10.1.0.10). A fresh IKE SA per run. A prober
# sends an ICMP echo through the tunnel every 10 ms; event times come from `ip -ts monitor address`
# in rw (testbed.md gotcha 8), or the shell's clock just before `kill` for the restart; the figure is
# the first reply to a request sent after the event, minus the event.
#
#   handover      wlan0's address (in use) removed, wwan0 up -> first reply
#   renumber      the only uplink's address removed; 1 s later 198.51.100.20 + default route added
#                 -> first reply (from the new address's event); also the total outage
#   gw restart    the gateway's charon SIGKILLed and started again at once (config loaded) -> first
#                 reply; kite with dpd = 2s like the strongSwan client
#   v4 -> v6      wlan0 has IPv4 and IPv6, the gateway 192.0.2.1 and 2001:db8:2::1 (announced as
#                 ADDITIONAL_IP6_ADDRESS); the IPv4 address removed -> first reply (over IPv6)
#   lost          pings without a reply (10 ms spacing), median per run
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/../interop/lib.sh"
# shellcheck source=tests/interop/mobike_lib.sh
. "$KITE_ROOT/tests/interop/mobike_lib.sh"
T_NAME=bench-mobike
RUNS=${RUNS:-10}
KITE_RT=${KITE_RT:-500ms}
FIGURES=${FIGURES:-handover renumber restart family}
CLIENTS=${CLIENTS:-kite strongSwan}

[ "$(id -u)" = 0 ] || { echo "bench_mobike: needs root (network namespaces)"; exit 3; }
require_tools
require_kite
command -v tcpdump >/dev/null || { echo "bench_mobike: tcpdump missing (make deps)"; exit 1; }
echo "bench_mobike: handover, renumber and gateway-restart recovery, kite vs strongSwan, $RUNS runs each"
setup
mb_kite_copy
CONF=$RUN/vpn.ini
mb_gateway yes "$GW_ADDR, $GW_ADDR6" >/dev/null || { echo "bench_mobike: gateway did not start"; exit 1; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'; }

# One measured run: the prober is running, EV_MS set by the caller after the event. Records
# R_MS (first reply - event, "-" if none within SECS) and R_LOST.
measure() {	# SECS
	local secs=$1
	if slowwait "$secs" probe_resumed "$EV_MS"; then
		sleep 0.3
	fi
	probe_stop
	eval "$(probe_stats "$PROBE_FILE" "$EV_MS" "$PROBE_END_MS")"
	R_MS=${P_RESUME:--}
	R_LOST=$P_LOST
	[ "${V:-0}" = 1 ] && echo "    run: ${R_MS} ms, lost $R_LOST" >&2
	return 0
}

# Client hooks: up/down for kite or strongSwan.
client_up() {
	if [ "$CLIENT" = kite ]; then
		mb_kite_up "$CONF" 10
	else
		mb_sw_up
	fi
}
client_down() {
	if [ "$CLIENT" = kite ]; then
		kite_stop 5
	else
		mb_sw_down
	fi
}

run_handover() {
	mb_uplinks both
	client_up || { echo "bench_mobike: $CLIENT did not connect" >&2; R_MS=- R_LOST=-; return 1; }
	probe_start || { R_MS=- R_LOST=-; probe_stop; client_down; return 1; }
	sleep 0.2
	mb_mon_mark
	ip -n "$RW" addr del "$RW_WLAN/24" dev wlan0
	mb_mon_wait "$(ev_del wlan0 "$RW_WLAN")" || { now_ms; EV_MS=$NOW_MS; }
	measure 5
	client_down
}

run_renumber() {
	local del
	mb_uplinks wlan
	client_up || { echo "bench_mobike: $CLIENT did not connect" >&2; R_MS=- R_LOST=- R_OUT=-; return 1; }
	probe_start || { R_MS=- R_LOST=- R_OUT=-; probe_stop; client_down; return 1; }
	sleep 0.2
	mb_mon_mark
	ip -n "$RW" addr del "$RW_WLAN/24" dev wlan0
	mb_mon_wait "$(ev_del wlan0 "$RW_WLAN")" || { now_ms; EV_MS=$NOW_MS; }
	del=$EV_MS
	sleep_until $((del + 1000))
	mb_mon_mark
	ip -n "$RW" -batch - <<EOF
addr add $RW_WLAN2/24 dev wlan0
route add default via $AP_ADDR dev wlan0 metric 100
EOF
	mb_mon_wait "$(ev_add wlan0 "$RW_WLAN2")" || { now_ms; EV_MS=$NOW_MS; }
	measure 5
	R_OUT=$(awk -v r="$R_MS" -v a="$EV_MS" -v d="$del" 'BEGIN { if (r == "-") print "-"; else printf "%.1f", r + a - d }')
	client_down
}

run_restart() {
	mb_uplinks wlan
	client_up || { echo "bench_mobike: $CLIENT did not connect" >&2; R_MS=- R_LOST=-; return 1; }
	probe_start || { R_MS=- R_LOST=-; probe_stop; client_down; return 1; }
	sleep 0.2
	mb_gw_crash_restart >/dev/null || echo "bench_mobike: the gateway did not start again" >&2
	EV_MS=$MB_KILL_MS
	measure 30
	client_down
}

run_family() {
	mb_uplinks v6
	client_up || { echo "bench_mobike: $CLIENT did not connect" >&2; R_MS=- R_LOST=-; return 1; }
	probe_start || { R_MS=- R_LOST=-; probe_stop; client_down; return 1; }
	sleep 0.2
	mb_mon_mark
	ip -n "$RW" addr del "$RW_WLAN/24" dev wlan0
	mb_mon_wait "$(ev_del wlan0 "$RW_WLAN")" || { now_ms; EV_MS=$NOW_MS; }
	measure 3
	client_down
}

declare -A RES=()
# collect CLIENT FIGURE: RUNS runs of run_FIGURE; RES[client.figure] = "ms ms ...", .lost, .out
collect() {
	local fig=$1 i ms=() lost=() out=()
	[[ " $FIGURES " == *" $fig "* ]] || return 0
	for ((i = 1; i <= RUNS; i++)); do
		R_MS=- R_LOST=- R_OUT=-
		"run_$fig"
		ms+=("$R_MS")
		lost+=("$R_LOST")
		out+=("$R_OUT")
	done
	RES[$CLIENT.$fig]="${ms[*]}"
	RES[$CLIENT.$fig.lost]="${lost[*]}"
	RES[$CLIENT.$fig.out]="${out[*]}"
	echo "  $CLIENT $fig: ${ms[*]} (ms); lost ${lost[*]}" >&2
}

med() { tr ' ' '\n' <<<"$1" | grep -E '^[0-9.]+$' | median; }
nfail() { if [ -z "$1" ]; then echo -; else tr ' ' '\n' <<<"$1" | grep -c '^-$'; fi; }

# ---- kite ------------------------------------------------------------------------------------
if [[ " $CLIENTS " == *" kite "* ]]; then
	CLIENT=kite
	kite_conf "$CONF" "$KITE_NAME" "ike=$IKE" "esp=$ESP"
	collect handover
	collect renumber
	collect family
	kite_conf "$CONF" "$KITE_NAME" "ike=$IKE" "esp=$ESP" "dpd=2s" "retransmit_timeout=$KITE_RT"
	collect restart
fi

# ---- strongSwan ------------------------------------------------------------------------------
if [[ " $CLIENTS " == *" strongSwan "* ]]; then
	CLIENT=strongSwan
	mb_uplinks both
	mb_sw_client_setup >/dev/null || { echo "bench_mobike: strongSwan client did not start"; exit 1; }
	collect handover
	collect renumber
	collect family
	collect restart
	sw_client_stop rw
fi

# ---- table -----------------------------------------------------------------------------------
res() { echo "${RES[$1]:-}"; }
row() {	# LABEL KITE_VALUE SW_VALUE [noratio]
	if [ "${4:-}" = noratio ]; then
		printf '%-52s %12s %12s\n' "$1" "$2" "$3"
	else
		printf '%-52s %12s %12s %8s\n' "$1" "$2" "$3" "$(ratio "$2" "$3")"
	fi
}
kh=$(med "$(res kite.handover)") sh=$(med "$(res strongSwan.handover)")
kr=$(med "$(res kite.renumber)") sr=$(med "$(res strongSwan.renumber)")
ko=$(med "$(res kite.renumber.out)") so=$(med "$(res strongSwan.renumber.out)")
kg=$(med "$(res kite.restart)") sg=$(med "$(res strongSwan.restart)")
s2() { awk -v v="$1" 'BEGIN { if (v == "-") print "-"; else printf "%.2f", v / 1000 }'; }
printf '\nMOBIKE / reconnect (median of %s runs; ratio = kite / strongSwan; "-" = no reply within the bound)\n' "$RUNS"
printf '%-52s %12s %12s %8s\n' "figure" "kite" "strongSwan" "ratio"
row "handover: address removed -> first reply (ms)" "$kh" "$sh"
row "  pings lost (10 ms spacing)" "$(med "$(res kite.handover.lost)")" "$(med "$(res strongSwan.handover.lost)")" noratio
row "renumber: new address -> first reply (ms)" "$kr" "$sr"
row "  outage: old address removed -> first reply (ms)" "$ko" "$so"
row "  pings lost (10 ms spacing)" "$(med "$(res kite.renumber.lost)")" "$(med "$(res strongSwan.renumber.lost)")" noratio
kf=$(med "$(res kite.family)") sf=$(med "$(res strongSwan.family)")
row "IPv4 -> IPv6: IPv4 address removed -> first reply (ms)" "$kf" "$sf"
row "  pings lost (10 ms spacing)" "$(med "$(res kite.family.lost)")" "$(med "$(res strongSwan.family.lost)")" noratio
row "gateway restart: SIGKILL -> first reply (s)" "$(s2 "$kg")" "$(s2 "$sg")"
row "  pings lost (10 ms spacing)" "$(med "$(res kite.restart.lost)")" "$(med "$(res strongSwan.restart.lost)")" noratio
row "runs without recovery (handover/renumber/v6/restart)" \
	"$(nfail "$(res kite.handover)")/$(nfail "$(res kite.renumber)")/$(nfail "$(res kite.family)")/$(nfail "$(res kite.restart)")" \
	"$(nfail "$(res strongSwan.handover)")/$(nfail "$(res strongSwan.renumber)")/$(nfail "$(res strongSwan.family)")/$(nfail "$(res strongSwan.restart)")" noratio
rt_ms() { case $1 in *ms) echo "${1%ms}" ;; *s) echo $((${1%s} * 1000)) ;; *) echo $(($1 * 1000)) ;; esac; }
printf 'settings: kite dpd 30s (2s for the restart), retransmit_timeout %s x3 tries (restart; gives up %s after the first send); strongSwan dpd 2s, retransmit 1 s x1.4, 3 tries (7.1 s)\n' \
	"$KITE_RT" "$(awk -v t="$(rt_ms "$KITE_RT")" 'BEGIN { printf "%.1f s", t * 15 / 1000 }')"
for f in handover renumber family restart; do
	printf 'runs %-9s (ms): kite %s; strongSwan %s\n' "$f" "$(res kite.$f)" "$(res strongSwan.$f)"
done
