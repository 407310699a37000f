#!/bin/bash
# shellcheck disable=SC2317
# (SC2317: the case_* functions are called through run_cases)
# t_reconnect: kite builds a new IKE SA by itself when the old one cannot be kept, project issue #5
# scenarios 6 and 7, against a strongSwan gateway (kernel-libipsec) in network namespaces.
#
#   k<PID>-rw (kite)                   k<PID>-inet (router)           k<PID>-gw (strongSwan)      k<PID>-lan
#   wlan0 198.51.100.10/24 ---------- wlan-ap 198.51.100.1/24
#                                     gw-r 192.0.2.254/24 ----------- eth0 192.0.2.1/24
#   wwan0 100.64.0.10/24 --- k<PID>-nat: bs0 100.64.0.1/24           lan0 10.1.0.1/24 -------- eth0 10.1.0.10/24
#                            [masquerade] up0 203.0.113.2/24 ------- nat-r 203.0.113.1/24 (inet)
#   rw: default via wlan0 metric 100, via wwan0 metric 200 (tests/interop/mobike_lib.sh)
#
# Every case: a fresh gateway, kite connected (gateway = 192.0.2.1; retransmissions 500 ms x 3 as
# lib.sh's kite_conf sets them: gives up 7.5 s after the first send), ping rw -> 10.1.0.10 through
# the tunnel every 10 ms, tcpdump on both uplinks with "ip and net 10.1.0.0/24". A case passes when
#   - a reply to a request sent after the event arrives (bounded wait) and the requests of the last
#     second before the end are all answered,
#   - kite reconnected (its counter grew) to a NEW IKE SA (other SPIs), which the gateway shows
#     established, and kite's state is "established",
#   - the captures saw no plaintext packet for 10.1.0.0/24 on any uplink at any time (kite keeps its
#     tunnel device and routes while it reconnects),
#   - and the case's own checks below hold.
#
#   reconnect/gateway-restart  kite with dpd = 2s (as the testbed's strongSwan client); the gateway's
#                           charon is SIGKILLed and started again at once with the same config (it
#                           forgot the SA and drops kite's liveness checks silently, testbed.md
#                           gotcha 12): kite notices by its liveness check running out of
#                           retransmissions and reconnects; recovery time printed (strongSwan
#                           client baseline: 8.83 s with a 7.1 s retransmission budget).
#   reconnect/no-mobike     the gateway has mobike = no; wlan0's address (in use) is removed with wwan0
#                           up: kite cannot move the SA and reconnects from 100.64.0.10 instead.
#
# V=1 echoes commands; KEEP=1 keeps the run directory; CASES="no_mobike" runs only that one
# (names: gateway_restart no_mobike).
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/interop/mobike_lib.sh
. "$(dirname "$0")/mobike_lib.sh"
require_root
require_tools
require_kite
command -v tcpdump >/dev/null 2>&1 || { skip "$T_NAME" "tcpdump not installed (run 'make deps')"; exit 0; }

setup
mb_kite_copy

# ---- 6 ---------------------------------------------------------------------------------------
case_gateway_restart() {
	sc_begin reconnect/gateway-restart wlan yes "$GW_ADDR" dpd=2s || return
	if ! mb_gw_crash_restart; then
		fail "$SC" "test setup: the gateway did not start again after SIGKILL"
		probe_stop
		leak_stop
		show_logs
		kite_stop 5
		return
	fi
	EV_MS=$MB_KILL_MS
	sc_wait_resume 25
	sc_collect
	sc_check_common new
	# either the old SA ran out of retransmissions, or a new IKE SA tried meanwhile took over
	sc_kite_log_has "connection lost" || sc_kite_log_has "switched to a new IKE SA" ||
		SC_ERRS+=("kite's log says neither 'connection lost' nor 'switched to a new IKE SA'")
	info "kill -> first reply: ${P_RESUME:-never} ms; kite: lost at $(sc_kite_log_time 'connection lost'), reconnect started $(sc_kite_log_time "reconnecting '"), up again $(grep -E 'IKE SA established' "$KITE_LOG" | sed -n 2p | awk '{ print $1 }')"
	info "kite's account: $(grep -E 'connection lost|reconnecting|new IKE SA' "$KITE_LOG" | sed 's/^[^ ]* [^ ]* //' | tr '\n' ';')"
	sc_verdict
}

# ---- 7 ---------------------------------------------------------------------------------------
case_no_mobike() {
	sc_begin reconnect/no-mobike both no "$GW_ADDR" || return
	[ "$KS_MOBIKE" = no ] || SC_ERRS+=("kite's status says mobike enabled=$KS_MOBIKE with a gateway that has mobike = no")
	ip -n "$RW" addr del "$RW_WLAN/24" dev wlan0
	if ! mb_mon_wait "$(ev_del wlan0 "$RW_WLAN")"; then
		now_ms
		EV_MS=$NOW_MS
		SC_ERRS+=("the address monitor missed the removal")
	fi
	sc_wait_resume 10
	sc_collect
	sc_check_common new
	case $KS_LOCAL in
	"$RW_WWAN":*) ;;
	*) SC_ERRS+=("kite's local address is $KS_LOCAL, want $RW_WWAN (wwan0)") ;;
	esac
	sc_kite_log_has "does not support MOBIKE: reconnecting" ||
		SC_ERRS+=("kite's log does not say that it reconnects because the gateway lacks MOBIKE")
	sc_kite_log_has "UPDATE_SA_ADDRESSES" && SC_ERRS+=("kite sent UPDATE_SA_ADDRESSES to a gateway without MOBIKE")
	info "removal -> first reply: ${P_RESUME:-never} ms"
	sc_verdict
}

run_cases gateway_restart no_mobike
t_done
