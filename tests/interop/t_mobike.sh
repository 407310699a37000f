#!/bin/bash
# shellcheck disable=SC2317
# (SC2317: the case_* functions are called through run_cases)
# t_mobike: kite keeps its IKE SA across address changes (MOBIKE, RFC 4555), project issue #5
# scenarios 1-5 and 8, against a strongSwan gateway (kernel-libipsec) in network namespaces.
#
#   k<PID>-rw (kite)                   k<PID>-inet (router)           k<PID>-gw (strongSwan)      k<PID>-lan
#   wlan0 198.51.100.10/24 ---------- wlan-ap 198.51.100.1/24
#         2001:db8:1::10/64 (case 8)          2001:db8:1::1/64
#                                     gw-r 192.0.2.254/24 ----------- eth0 192.0.2.1/24
#                                          2001:db8:2::fe/64                2001:db8:2::1/64
#   wwan0 100.64.0.10/24 --- k<PID>-nat: bs0 100.64.0.1/24           lan0 10.1.0.1/24 -------- eth0 10.1.0.10/24
#                            [masquerade] up0 203.0.113.2/24 ------- nat-r 203.0.113.1/24 (inet)
#   rw: default via wlan0 metric 100, via wwan0 metric 200 (tests/interop/mobike_lib.sh)
#
# Every case: a fresh gateway (mobike = yes, dpd_delay 30s), kite connected (gateway = 192.0.2.1),
# ping rw -> 10.1.0.10 through the tunnel every 10 ms, tcpdump on both uplinks with
# "ip and net 10.1.0.0/24". A case passes when
#   - a reply to a request sent after the event arrives (bounded wait) and the last 100 requests
#     before the end are all answered (the tunnel stays up after the gateway's follow-up exchanges),
#   - the IKE SPIs in `kite status --json` are unchanged, kite did not reconnect, kite and the gateway
#     show the same established IKE SA, kite's state is "established",
#   - the captures saw no plaintext packet for 10.1.0.0/24 on any uplink at any time,
#   - and the case's own checks below hold. CHILD SPIs are reported, not checked (a kernel-libipsec
#     gateway rekeys the CHILD SA after each update: testbed.md gotcha 4).
#
#   mobike/two-uplinks      wlan0's address (in use) is removed; wwan0 (behind the NAT) is up:
#                           kite moves to 100.64.0.10 and counts a MOBIKE update.
#   mobike/renumber         one uplink; its address is removed, 198.51.100.20 appears 1 s later:
#                           kite is "roaming" meanwhile and resumes the same SA from .20.
#   mobike/make-before-break  198.51.100.20 appears (with the default route's source), 1 s later
#                           .10 is removed: kite moves while the old address still works, no
#                           request is lost.
#   mobike/nat-remap        kite behind the NAT only; pings flow from the start; the NAT box's
#                           masquerade moves to other ports and its conntrack table is flushed (a
#                           new mapping; the gateway's ESP goes to the old one); kite (dpd=2s)
#                           notices with NAT-D in its liveness check and sends an update; the
#                           gateway lists the new mapping.
#   mobike/nat-remap-after-dpd  the same, but kite is idle until it has done one liveness check
#                           (so it has seen the old mapping in a NAT-D answer) before the change.
#   mobike/outage-10s       both addresses gone for 10 s (wwan0's, then at once wlan0's), then back:
#                           kite is "roaming" meanwhile, 10.1.0.10 still routed into its tunnel
#                           device (blocked, not leaked), and the same SA resumes from the same address.
#   mobike/ipv4-to-ipv6     wlan0 has IPv4 and IPv6, the gateway 192.0.2.1 and 2001:db8:2::1 (it
#                           announces the latter as ADDITIONAL_IP6_ADDRESS); the IPv4 address goes:
#                           kite must continue over IPv6 with the same IKE SA.
#
# CASES="nat_remap outage" runs only those (names: two_uplinks renumber mbb nat_remap
# nat_remap_after_dpd outage v4_to_v6).
#
# V=1 echoes commands; KEEP=1 keeps the run directory; SC_OBSERVE (s, default 1.5) = how long
# the probe keeps running after traffic resumed.
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

# ---- 1 ---------------------------------------------------------------------------------------
case_two_uplinks() {
	sc_begin mobike/two-uplinks both yes "$GW_ADDR" || return
	ip -n "$RW" addr del "$RW_WLAN/24" dev wlan0
	mb_mon_wait "$(ev_del wlan0 "$RW_WLAN")" || SC_ERRS+=("the address monitor missed the removal")
	sc_wait_resume 5
	sc_collect
	sc_check_common same
	case $KS_LOCAL in
	"$RW_WWAN":*) ;;
	*) SC_ERRS+=("kite's local address is $KS_LOCAL, want $RW_WWAN (wwan0)") ;;
	esac
	[ "${KS_UPDATES:-0}" -gt "${K0_UPD:-0}" ] 2>/dev/null || SC_ERRS+=("no MOBIKE update counted ($K0_UPD -> $KS_UPDATES)")
	sc_verdict
}

# ---- 2 ---------------------------------------------------------------------------------------
case_renumber() {
	local del_ms st
	sc_begin mobike/renumber wlan yes "$GW_ADDR" || return
	ip -n "$RW" addr del "$RW_WLAN/24" dev wlan0
	if ! mb_mon_wait "$(ev_del wlan0 "$RW_WLAN")"; then
		now_ms
		EV_MS=$NOW_MS
		SC_ERRS+=("the address monitor missed the removal")
	fi
	del_ms=$EV_MS
	sleep 0.4
	mb_kite_status
	st=$KS_STATE
	[ "$st" = roaming ] || SC_ERRS+=("while rw had no address kite's state was '$st', want roaming (last event: $KS_EVENT)")
	sleep_until $((del_ms + 1000))
	mb_mon_mark
	ip -n "$RW" -batch - <<EOF
addr add $RW_WLAN2/24 dev wlan0
route add default via $AP_ADDR dev wlan0 metric 100
EOF
	mb_mon_wait "$(ev_add wlan0 "$RW_WLAN2")" || SC_ERRS+=("the address monitor missed the new address")
	sc_wait_resume 5
	sc_collect
	sc_check_common same
	case $KS_LOCAL in
	"$RW_WLAN2":*) ;;
	*) SC_ERRS+=("kite's local address is $KS_LOCAL, want $RW_WLAN2") ;;
	esac
	info "state during the outage: $st; outage (removal -> first reply): $(awk -v r="$P_RESUME" -v a="$EV_MS" -v d="$del_ms" 'BEGIN { if (r == "") print "-"; else printf "%.1f ms", r + a - d }')"
	sc_verdict
}

# ---- 3 ---------------------------------------------------------------------------------------
# _mbb_late_esp: the ESP the gateway still sent to kite's old address:port after kite had moved
# its socket (from the control capture on wlan0), as a sentence for the failure reason.
_mbb_late_esp() {
	local mv n
	mv=$(sc_kite_log_time "roam: moving to $RW_WLAN2")
	[ -n "$mv" ] || return 0
	n=$(awk -v mv="$mv" -v old="${K0_LOCAL%:*}.${K0_LOCAL##*:}:" '
		function sec(t,  a) { split(t, a, ":"); return a[1] * 3600 + a[2] * 60 + a[3] }
		index($0, "> " old) && /ESP/ && sec($1) > sec(mv) { n++ }
		END { print n + 0 }' "$RUN/ctl.$CAP_N.wlan0")
	[ "$n" -gt 0 ] && printf '; the gateway sent %s ESP packet(s) to the old %s after kite had moved its socket to %s at %s (kite closes the old socket at once, so they were dropped although the old address still existed)' \
		"$n" "$K0_LOCAL" "$RW_WLAN2" "$mv"
	return 0
}
_kite_local_is() { mb_kite_status && [[ $KS_LOCAL == "$1":* ]]; }
case_mbb() {
	local add_ms moved=0
	sc_begin mobike/make-before-break wlan yes "$GW_ADDR" || return
	ip -n "$RW" -batch - <<EOF
addr add $RW_WLAN2/24 dev wlan0
route replace default via $AP_ADDR dev wlan0 src $RW_WLAN2 metric 100
EOF
	if ! mb_mon_wait "$(ev_add wlan0 "$RW_WLAN2")"; then
		now_ms
		EV_MS=$NOW_MS
		SC_ERRS+=("the address monitor missed the new address")
	fi
	add_ms=$EV_MS
	# kite must move while the old address still works
	slowwait 1 _kite_local_is "$RW_WLAN2" && moved=1
	[ "$moved" = 1 ] || SC_ERRS+=("kite did not move to $RW_WLAN2 within 1 s while $RW_WLAN was still there (local $KS_LOCAL)")
	sleep_until $((add_ms + 1000))
	mb_mon_mark
	ip -n "$RW" addr del "$RW_WLAN/24" dev wlan0
	mb_mon_wait "$(ev_del wlan0 "$RW_WLAN")" || SC_ERRS+=("the address monitor missed the removal")
	ip -n "$RW" -4 addr show dev wlan0 | grep -q "$RW_WLAN2/" || SC_ERRS+=("test setup: $RW_WLAN2 went with $RW_WLAN (promote_secondaries)")
	EV_MS=$add_ms
	sc_wait_resume 3
	sc_collect
	sc_check_common same
	case $KS_LOCAL in
	"$RW_WLAN2":*) ;;
	*) SC_ERRS+=("kite's local address is $KS_LOCAL, want $RW_WLAN2") ;;
	esac
	if [ "$P_LOST" != 0 ]; then
		SC_ERRS+=("$P_LOST requests lost (make-before-break must lose none; largest gap $P_GAP ms)$(_mbb_late_esp)")
	fi
	sc_verdict
}

# ---- 4 ---------------------------------------------------------------------------------------
# _nat_remap NAME: the NAT box gets a new masquerade port range and its conntrack table is flushed
# while pings flow; kite (dpd=2s) must notice with NAT-D in a liveness check and send an update.
_nat_remap() {
	local m0 m1
	mb_nat_rule 20000-20999
	sc_begin "$1" wwan yes "$GW_ADDR" dpd=2s || return
	m0=$(mb_nat_mappings | tr '\n' ' ')
	mb_nat_rule 30000-30999 || SC_ERRS+=("test setup: nft could not change the masquerade rule")
	mb_nat_flush || SC_ERRS+=("test setup: could not flush the NAT box's conntrack table")
	# the event: the old mapping is gone once the flush returned
	now_ms
	EV_MS=$NOW_MS
	sc_wait_resume 10
	m1=$(mb_nat_mappings | tr '\n' ' ')
	sc_collect
	sc_check_common same
	info "NAT mappings (kite port -> public port): before: ${m0:-?}; after: ${m1:-?}; kite's liveness checks: $(grep -c 'liveness check (message' "$KITE_LOG")"
	[ "$m0" != "$m1" ] || SC_ERRS+=("test setup: the NAT mapping did not change ($m0)")
	if ! sc_kite_log_has "NAT mapping changed"; then
		if [ -n "${NAT_BASELINE:-}" ]; then
			SC_ERRS+=("kite did not notice the new NAT mapping (no 'NAT mapping changed' in its log)")
		else
			SC_ERRS+=("kite did not notice the new NAT mapping (no 'NAT mapping changed' in its log): its first liveness check came after the change, and kite compares NAT-D only with earlier liveness checks (none while traffic flows), not with anything recorded at connect (strongSwan's client has the same blind spot)")
		fi
	fi
	[ "${KS_UPDATES:-0}" -gt "${K0_UPD:-0}" ] 2>/dev/null || SC_ERRS+=("no MOBIKE update counted ($K0_UPD -> $KS_UPDATES)")
	grep -q "remote.*$NAT_UP\[3[0-9][0-9][0-9][0-9]\]" <<<"$(gw_list_sas 2>/dev/null)" ||
		SC_ERRS+=("the gateway does not list the new mapping ${NAT_UP}[30000-30999] as the remote address: $(gw_list_sas 2>/dev/null | grep -m1 '^  remote' | sed 's/^ *//')")
	sc_verdict
	mb_nat_rule 20000-20999
}
# traffic flows from the moment kite is up, so kite has done no liveness check before the change
case_nat_remap() {
	NAT_BASELINE=""
	_nat_remap mobike/nat-remap
}
# kite is idle for a liveness check first (its NAT-D answer is the mapping kite knows), then the
# prober starts and the mapping changes
_dpd_once() {
	if ! slowwait 6 grep -q "the gateway answered the liveness check" "$KITE_LOG"; then
		fail "$SC" "test setup: kite (dpd=2s, idle) did no liveness check within 6 s"
		show_logs
		return 1
	fi
}
case_nat_remap_after_dpd() {
	NAT_BASELINE=1
	SC_BEFORE_PROBE=_dpd_once
	_nat_remap mobike/nat-remap-after-dpd
}

# ---- 5 ---------------------------------------------------------------------------------------
case_outage() {
	local del_ms st blocked
	sc_begin mobike/outage-10s both yes "$GW_ADDR" || return
	# both at once, the unused one first (removing wlan0's first would make kite hand over to
	# wwan0 for the microseconds until its address goes too: mobike/two-uplinks covers handovers)
	ip -n "$RW" -batch - <<EOF
addr del $RW_WWAN/24 dev wwan0
addr del $RW_WLAN/24 dev wlan0
EOF
	if ! mb_mon_wait "$(ev_del wlan0 "$RW_WLAN")"; then
		now_ms
		EV_MS=$NOW_MS
		SC_ERRS+=("the address monitor missed the removal")
	fi
	del_ms=$EV_MS
	sleep 0.5
	mb_kite_status
	st=$KS_STATE
	[ "$st" = roaming ] || SC_ERRS+=("without any uplink kite's state was '$st', want roaming (last event: $KS_EVENT)")
	blocked=$(ip -n "$RW" route get "$LAN_ADDR" 2>&1 | head -n 1)
	[[ $blocked == *"dev $TUNDEV"* ]] || SC_ERRS+=("during the outage $LAN_ADDR is not routed into kite's tunnel device: $blocked")
	sleep_until $((del_ms + 10000))
	mb_mon_mark
	mb_uplinks both
	mb_mon_wait "$(ev_add wlan0 "$RW_WLAN")" || SC_ERRS+=("the address monitor missed the new address")
	sc_wait_resume 8
	sc_collect
	sc_check_common same
	[ "${KS_LOCAL%:*}" = "${K0_LOCAL%:*}" ] || SC_ERRS+=("kite's local address is $KS_LOCAL, want ${K0_LOCAL%:*} again")
	info "state during the outage: $st; $LAN_ADDR routed: $blocked; outage (removal -> first reply): $(awk -v r="$P_RESUME" -v a="$EV_MS" -v d="$del_ms" 'BEGIN { if (r == "") print "-"; else printf "%.1f ms", r + a - d }')"
	sc_verdict
}

# ---- 8 ---------------------------------------------------------------------------------------
case_v4_to_v6() {
	local c=mobike/ipv4-to-ipv6 nad
	mb_uplinks v6
	if ! slowwait 3 ip netns exec "$RW" ping -6 -c1 -W1 "$GW_ADDR6"; then
		fail "$c" "test setup: rw cannot reach the gateway's $GW_ADDR6 over IPv6"
		return
	fi
	sc_begin "$c" v6 yes "$GW_ADDR, $GW_ADDR6" || return
	ip -n "$RW" addr del "$RW_WLAN/24" dev wlan0
	mb_mon_wait "$(ev_del wlan0 "$RW_WLAN")" || SC_ERRS+=("the address monitor missed the removal")
	sc_wait_resume 5
	sc_collect
	sc_check_common same
	nad=$(grep -o 'the gateway announced [0-9]* additional address' "$KITE_LOG" | head -n 1)
	info "kite: ${nad:-no 'announced additional address' line}; gateway IKE_AUTH: $(grep -o 'generating IKE_AUTH response.*' "$RUN/gw.charon.log" | head -n 1)"
	case $KS_LOCAL in
	"[$RW_WLAN6]":*) ;;
	*) SC_ERRS+=("kite's local address is $KS_LOCAL, want [$RW_WLAN6]") ;;
	esac
	case $KS_GW in
	"[$GW_ADDR6]":*) ;;
	*) SC_ERRS+=("kite's gateway address is $KS_GW, want [$GW_ADDR6]") ;;
	esac
	if sc_kite_log_has "no route to the gateway"; then
		SC_ERRS+=("kite held the SA ('$(grep -o 'roam: no route to the gateway[^:]*' "$KITE_LOG" | head -n 1)') instead of trying the gateway's IPv6 address it was told about (${nad:-ADDITIONAL_IP6_ADDRESS}): kite's roam only looks up a route to the configured gateway address (strongSwan's client moves to 2001:db8:2::1 in ~110 ms here: tests/bench/bench_mobike.sh FIGURES=family)")
	fi
	sc_verdict
}

run_cases two_uplinks renumber mbb nat_remap nat_remap_after_dpd outage v4_to_v6
t_done
