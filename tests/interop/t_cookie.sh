#!/bin/bash
# t_cookie: the gateway demands a COOKIE (RFC 7296 2.6) before it creates state for kite's
# IKE_SA_INIT; kite must return the cookie (first payload of a repeated IKE_SA_INIT, otherwise
# unchanged) and establish.
#
# How the gateway is made to demand it (strongSwan 5.9.8, src/libcharon/network/receiver.c
# drop_ike_sa_init/cookie_required): a COOKIE is demanded when the number of half-open responder
# IKE_SAs, counted BEFORE the new request, is >= charon.cookie_threshold (0 disables cookies).
# So cookie_threshold = 1 alone never challenges the first initiator. A "primer" is needed: a
# strongSwan client in the lan namespace starts an IKE_SA, and its IKE_AUTH (UDP 4500) is dropped
# by nftables in the gateway namespace, leaving one half-open SA (half_open_timeout 30 s). The
# gateway then logs "sending COOKIE notify to 198.51.100.10" (net level 2) for kite, and a
# capture on the gateway's eth0 shows the round.
#
# strongSwan 5.9.8 bug worked around here: cookie_verify() rejects a cookie as expired when
# "t < now - secret_offset - COOKIE_LIFETIME", computed in uint32; secret_offset is
# random() % now (fixed when charon starts), so when now - secret_offset < 10 the subtraction
# wraps and EVERY cookie is rejected ("received cookie lifetime expired, rejecting") until the
# gateway's clock passes 10. That happens for ~10/uptime_seconds of gateway starts (often on a
# freshly booted CI VM). When the capture proves it (kite echoed the gateway's cookie time field
# unchanged, and that field is < 10), the case is retried with a fresh gateway (new offset), at
# most 3 attempts; any other rejection is kite's failure.
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/lib.sh"
require_root
require_tools
require_kite
setup

NAME=$KITE_NAME
CONF=$RUN/vpn.ini
C="cookie/gateway-demands-cookie"
IKE=aes256gcm16-prfsha384-x25519
CAP=$RUN/gw-eth0.txt
kite_conf "$CONF" "$NAME" ike=$IKE esp=aes256gcm16

# The primer's IKE_AUTH never reaches the gateway (the namespace outlives gateway restarts).
if ! n_gw nft -f - <<EOF2
table inet kite_primer {
	chain in {
		type filter hook input priority 0; policy accept;
		ip saddr $LAN_ADDR udp dport 4500 counter drop
	}
}
EOF2
then
	fail "$C" "nft rule for the primer failed"
	t_done
fi

# True when the gateway rejected kite's cookie only because of strongSwan's underflow (above).
strongswan_cookie_bug() {
	local -a t
	gw_log_has "received cookie lifetime expired" || return 1
	mapfile -t t < <(cap_cookie_times "$CAP")
	# [0] the gateway's cookie, [1] kite's echo of it
	[ "${#t[@]}" -ge 2 ] && [ "${t[0]}" = "${t[1]}" ] && [ "${t[0]}" -lt 10 ]
}

# attempt: 0 established (kite still running), 1 failed (reported), 2 strongSwan's bug (retry).
attempt() {
	local r
	start_gateway "$IKE" aes256gcm16 "  cookie_threshold = 1" || {
		fail "$C" "strongSwan gateway did not start"
		show_logs
		return 1
	}
	if ! sw_client_setup lan "$IKE" aes256gcm16 start ||
		! slowwait 5 gw_sa_from "$LAN_ADDR" CONNECTING; then
		fail "$C" "could not leave a half-open IKE_SA on the gateway (primer from $LAN_ADDR)"
		gw_list_sas | indent
		show_tail "$RUN/sw-lan.charon.log"
		return 1
	fi
	info "primer: one half-open IKE_SA from $LAN_ADDR on the gateway"
	if ! capture_start "$GW" "$CAP" udp port 500; then
		fail "$C" "tcpdump did not start in the gateway namespace"
		show_tail "$CAP.err"
		return 1
	fi
	kite_start "$CONF" "$NAME"
	kite_wait_established 10
	r=$?
	capture_stop
	if [ "$r" = 0 ]; then
		info "kite: IKE SA established after $KITE_UP_MS ms"
		return 0
	fi
	if [ "$r" = 1 ] && strongswan_cookie_bug; then
		info "strongSwan 5.9.8 cookie_verify underflow: the gateway's cookie time field is" \
			"$(cap_cookie_times "$CAP" | head -n 1) (< 10), so it rejects every cookie; retrying with a fresh gateway"
		return 2
	fi
	if [ "$r" = 1 ]; then
		fail "$C" "kite exited ($KITE_RC) before establishing: $(kite_last_line)"
	else
		fail "$C" "no 'IKE SA established' from kite within 10 s"
		kite_stop 5
	fi
	info "cookie time fields in the capture (gateway, kite, ...): $(cap_cookie_times "$CAP" | tr '\n' ' ')"
	show_logs
	return 1
}

run_case() {
	local _ r=2 times
	for _ in 1 2 3; do
		attempt
		r=$?
		[ "$r" = 2 ] || break
	done
	if [ "$r" = 2 ]; then
		fail "$C" "strongSwan's cookie underflow on 3 fresh gateways in a row (machine just booted?)"
		return
	fi
	[ "$r" = 0 ] || return
	if ! gw_log_has "sending COOKIE notify to $RW_ADDR"; then
		fail "$C" "the gateway did not demand a cookie from kite (no 'sending COOKIE notify to $RW_ADDR')"
		kite_stop 5
		show_logs
		return
	fi
	# kite's second IKE_SA_INIT, as the gateway parsed it: the COOKIE notify first
	if ! grep -q "parsed IKE_SA_INIT request 0 \[ N(COOKIE) " "$RUN/gw.charon.log"; then
		fail "$C" "the gateway never received an IKE_SA_INIT starting with the COOKIE"
		kite_stop 5
		show_logs
		return
	fi
	# on the wire: the gateway's COOKIE, and kite's echo with the same time field
	times=$(cap_cookie_times "$CAP" | head -n 2 | tr '\n' ' ')
	if [ "$(echo "$times" | wc -w)" != 2 ] || [ "${times%% *}" != "$(echo "$times" | cut -d' ' -f2)" ]; then
		fail "$C" "the capture does not show the COOKIE round (cookie time fields: ${times:-none})"
		kite_stop 5
		show_logs
		return
	fi
	if ! gw_ike_state_is "$RW_ID" ESTABLISHED; then
		fail "$C" "gateway lists no ESTABLISHED IKE_SA for '$RW_ID'"
		kite_stop 5
		show_logs
		return
	fi
	if ! kite_stop 5 || [ "$KITE_RC" != 0 ]; then
		fail "$C" "kite did not exit 0 after SIGTERM (status $KITE_RC)"
		show_logs
		return
	fi
	pass "$C"
}

run_case
t_done
