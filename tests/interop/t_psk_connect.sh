#!/bin/bash
# t_psk_connect: kite (its default proposal lists) connects with a PSK to a strongSwan gateway
# that accepts only one proposal set, for three sets: AES-GCM/X25519, AES-CBC+HMAC/MODP-2048,
# ChaCha20-Poly1305/ECP-256. Per set: kite logs "IKE SA established"; the gateway lists an
# ESTABLISHED IKE_SA with remote identity rw@kite.test; after SIGTERM kite exits 0 and the
# gateway receives the DELETE and drops the SA. Each set gets a fresh gateway.
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/lib.sh"
require_root
require_tools
require_kite
setup

NAME=$KITE_NAME
CONF=$RUN/vpn.ini
kite_conf "$CONF" "$NAME"	# no ike/esp keys: kite's defaults must cover all three sets

# connect_case IKE ESP: one proposal set, from a fresh gateway to a closed SA.
connect_case() {
	local ike=$1 esp=$2 c="psk_connect/$1" r
	info "--- $c (ESP $esp)"
	if ! start_gateway "$ike" "$esp"; then
		fail "$c" "strongSwan gateway did not start"
		show_logs
		return
	fi
	kite_start "$CONF" "$NAME"
	kite_wait_established 10
	r=$?
	if [ "$r" = 1 ]; then
		fail "$c" "kite exited ($KITE_RC) before establishing: $(kite_last_line)"
		show_logs
		return
	elif [ "$r" != 0 ]; then
		fail "$c" "no 'IKE SA established' from kite within 10 s"
		kite_stop 5
		show_logs
		return
	fi
	info "kite: IKE SA established after $KITE_UP_MS ms"
	if ! slowwait 2 gw_ike_state_is "$RW_ID" ESTABLISHED; then
		fail "$c" "gateway lists no ESTABLISHED IKE_SA for '$RW_ID' (states: $(gw_ike_state "$RW_ID" | tr '\n' ' '))"
		gw_list_sas | indent
		kite_stop 5
		show_logs
		return
	fi
	info "gateway IKE_SA: $(gw_ike_proposal "$RW_ID")"
	info "gateway CHILD_SA: $(gw_child_info | head -n 1)"
	if ! kite_stop 5; then
		fail "$c" "kite still running 5 s after SIGTERM"
		show_logs
		return
	fi
	if [ "$KITE_RC" != 0 ]; then
		fail "$c" "kite exited with status $KITE_RC after SIGTERM, want 0"
		show_logs
		return
	fi
	if ! slowwait 5 gw_no_sa_for "$RW_ID"; then
		fail "$c" "gateway still lists an IKE_SA for '$RW_ID' 5 s after kite exited ($(gw_ike_state "$RW_ID" | tr '\n' ' '))"
		show_logs
		return
	fi
	if ! gw_log_has "received DELETE for IKE_SA"; then
		fail "$c" "the gateway's SA is gone but its log shows no DELETE from kite"
		show_logs
		return
	fi
	pass "$c"
}

connect_case aes256gcm16-prfsha384-x25519 aes256gcm16
connect_case aes128-sha256-modp2048 aes128-sha256
connect_case chacha20poly1305-prfsha256-ecp256 chacha20poly1305
t_done
