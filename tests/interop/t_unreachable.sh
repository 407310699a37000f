#!/bin/bash
# t_unreachable: the gateway address is routed but nothing answers (nftables in the gateway
# namespace silently drops UDP 500/4500; no charon runs). kite with retransmit_timeout=200ms and
# retransmit_tries=2 must give up: exit non-zero, print a line saying the gateway is unreachable
# / gave no response, and do so within the retransmission budget plus slack. The gateway's drop
# counter must have seen exactly 1 + retransmit_tries IKE_SA_INIT copies.
#
# Budget (vpn.ini.example: the timeout doubles after each send): T*(2^(n+1)-1) = 200+400+800 =
# 1400 ms for T = 200 ms, n = 2. Allowed: 1350 ms (timer rounding) .. 1400 ms + 2 s (process
# start-up, exit, polling). Giving up much earlier means retransmissions were skipped.
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/lib.sh"
require_root
require_tools
require_kite
setup

NAME=$KITE_NAME
CONF=$RUN/vpn.ini
T_MS=200
TRIES=2
BUDGET_MS=$((T_MS * ((1 << (TRIES + 1)) - 1)))
MIN_MS=$((BUDGET_MS - 50))
MAX_MS=$((BUDGET_MS + 2000))
kite_conf "$CONF" "$NAME" retransmit_timeout=${T_MS}ms retransmit_tries=$TRIES

C1="unreachable/gives-up"
C2="unreachable/retransmit-count"

if ! n_gw nft -f - <<EOF2
table inet kite_blackhole {
	chain in {
		type filter hook input priority 0; policy accept;
		udp dport { 500, 4500 } counter drop
	}
}
EOF2
then
	fail "$C1" "nft rule failed"
	t_done
fi

run_case() {
	local secs=$(((MAX_MS + 999) / 1000)) sent
	kite_start "$CONF" "$NAME"
	if ! kite_wait_exit "$secs"; then
		fail "$C1" "kite still running after ${secs} s (budget $BUDGET_MS ms + 2 s slack)"
		kite_stop 5
		show_tail "$KITE_LOG"
		fail "$C2" "not counted: kite did not give up"
		return
	fi
	info "kite exited with status $KITE_RC after $KITE_EXIT_MS ms (allowed ${MIN_MS}..${MAX_MS} ms)"
	info "kite's last line: $(kite_last_line)"
	sent=$(n_gw nft list table inet kite_blackhole | sed -n 's/.*counter packets \([0-9]*\) .*/\1/p')
	info "gateway dropped ${sent:-?} IKE packets"
	if [ "$KITE_RC" = 0 ] || [ "$KITE_RC" -ge 128 ]; then
		fail "$C1" "kite exit status $KITE_RC, want a failure status (1..127)"
		show_tail "$KITE_LOG"
	elif [ "$KITE_EXIT_MS" -gt "$MAX_MS" ]; then
		fail "$C1" "kite gave up after $KITE_EXIT_MS ms, more than $MAX_MS ms"
		show_tail "$KITE_LOG"
	elif [ "$KITE_EXIT_MS" -lt "$MIN_MS" ]; then
		fail "$C1" "kite gave up after $KITE_EXIT_MS ms, shorter than the retransmission budget ($BUDGET_MS ms)"
		show_tail "$KITE_LOG"
	elif ! grep -qiE "no response|unreachable" "$KITE_LOG"; then
		fail "$C1" "no line saying the gateway is unreachable / gave no response"
		show_tail "$KITE_LOG"
	else
		pass "$C1"
	fi
	if [ "${sent:-x}" = $((TRIES + 1)) ]; then
		pass "$C2"
	else
		fail "$C2" "the gateway saw ${sent:-?} IKE packets, want $((TRIES + 1)) (1 + retransmit_tries)"
	fi
}

run_case
t_done
