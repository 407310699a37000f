#!/bin/bash
# t_invalid_ke: the gateway accepts only ECP-384 while kite offers X25519 first
# (ike = aes256gcm16-prfsha384-x25519-ecp384), so kite's first KE payload is X25519. The gateway
# answers INVALID_KE_PAYLOAD (asking for ECP-384); kite must log it ("INVALID_KE_PAYLOAD"),
# retry with an ECP-384 KE and establish (RFC 7296 1.2/2.7).
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/lib.sh"
require_root
require_tools
require_kite
setup

NAME=$KITE_NAME
CONF=$RUN/vpn.ini
C="invalid_ke/x25519-to-ecp384"
kite_conf "$CONF" "$NAME" ike=aes256gcm16-prfsha384-x25519-ecp384 esp=aes256gcm16

run_case() {
	local r
	start_gateway aes256gcm16-prfsha384-ecp384 aes256gcm16 || {
		fail "$C" "strongSwan gateway did not start"
		show_logs
		return
	}
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
	# the gateway's own record that kite's first KE was X25519
	if ! gw_log_has "DH group CURVE_25519 unacceptable, requesting ECP_384"; then
		fail "$C" "the gateway never asked for another group: kite's first KE was not X25519"
		kite_stop 5
		show_logs
		return
	fi
	if ! grep -q "INVALID_KE_PAYLOAD" "$KITE_LOG"; then
		fail "$C" "kite's log has no line with INVALID_KE_PAYLOAD"
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
	info "gateway IKE_SA: $(gw_ike_proposal "$RW_ID")"
	if ! gw_ike_proposal "$RW_ID" | grep -q ECP_384; then
		fail "$C" "the IKE_SA does not use ECP_384: $(gw_ike_proposal "$RW_ID")"
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
