#!/bin/bash
# t_cookie: the gateway demands a COOKIE (RFC 7296 2.6) before it creates state for kite's
# IKE_SA_INIT; kite must return the cookie (first payload of a repeated IKE_SA_INIT) and establish.
#
# How the gateway is made to demand it (strongSwan 5.9.8, src/libcharon/network/receiver.c
# drop_ike_sa_init/cookie_required): a COOKIE is demanded when the number of half-open responder
# IKE_SAs, counted BEFORE the new request, is >= charon.cookie_threshold (0 disables cookies).
# So cookie_threshold = 1 alone never challenges the first initiator. A "primer" is needed: a
# strongSwan client in the lan namespace starts an IKE_SA, and its IKE_AUTH (UDP 4500) is dropped
# by nftables in the gateway namespace, leaving one half-open SA (half_open_timeout 30 s). The
# gateway then logs "sending COOKIE notify to 198.51.100.10" (net level 2) for kite.
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
kite_conf "$CONF" "$NAME" ike=$IKE esp=aes256gcm16

run_case() {
	local r
	start_gateway "$IKE" aes256gcm16 "  cookie_threshold = 1" || {
		fail "$C" "strongSwan gateway did not start"
		show_logs
		return
	}
	# the primer's IKE_AUTH never reaches the gateway
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
		return
	fi
	if ! sw_client_setup lan "$IKE" aes256gcm16 start ||
		! slowwait 5 gw_sa_from "$LAN_ADDR" CONNECTING; then
		fail "$C" "could not leave a half-open IKE_SA on the gateway (primer from $LAN_ADDR)"
		gw_list_sas | indent
		show_tail "$RUN/sw-lan.charon.log"
		return
	fi
	info "primer: one half-open IKE_SA from $LAN_ADDR on the gateway"
	kite_start "$CONF" "$NAME"
	kite_wait_established 10
	r=$?
	if [ "$r" = 1 ]; then
		fail "$C" "kite exited ($KITE_RC) before establishing: $(kite_last_line)"
		show_logs
		return
	elif [ "$r" != 0 ]; then
		fail "$C" "no 'IKE SA established' from kite within 10 s"
		kite_stop 5
		show_logs
		return
	fi
	info "kite: IKE SA established after $KITE_UP_MS ms"
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
