#!/bin/bash
# t_psk_wrong: kite's PSK differs from the gateway's. The gateway rejects kite's AUTH
# (AUTHENTICATION_FAILED); kite must exit non-zero within 5 s, its last line must name the
# authentication failure, and the gateway must list no ESTABLISHED IKE_SA.
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/lib.sh"
require_root
require_tools
require_kite
setup

NAME=$KITE_NAME
CONF=$RUN/vpn.ini
C="psk_wrong/auth-failed"
IKE=aes256gcm16-prfsha384-x25519
kite_psk "$RUN/wrong.psk" "0x$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
kite_conf "$CONF" "$NAME" psk_file="$RUN/wrong.psk"

run_case() {
	local last
	start_gateway "$IKE" aes256gcm16 || {
		fail "$C" "strongSwan gateway did not start"
		show_logs
		return
	}
	kite_start "$CONF" "$NAME"
	if ! kite_wait_exit 5; then
		fail "$C" "kite still running 5 s after start (wrong PSK)"
		kite_stop 5
		show_logs
		return
	fi
	info "kite exited with status $KITE_RC after $KITE_EXIT_MS ms"
	last=$(kite_last_line)
	info "kite's last line: $last"
	if [ "$KITE_RC" = 0 ] || [ "$KITE_RC" -ge 128 ]; then
		fail "$C" "kite exit status $KITE_RC, want a failure status (1..127)"
		show_logs
		return
	fi
	if ! printf '%s\n' "$last" | grep -qi "authentication"; then
		fail "$C" "kite's last line does not name the authentication failure: $last"
		show_logs
		return
	fi
	if gw_ike_state_is "$RW_ID" ESTABLISHED; then
		fail "$C" "the gateway lists an ESTABLISHED IKE_SA for '$RW_ID' with a wrong PSK"
		show_logs
		return
	fi
	# the failure came from the gateway's AUTH check, not from something earlier
	gw_log_has "AUTH_FAILED" || info "note: the gateway's log has no AUTH_FAILED response"
	pass "$C"
}

run_case
t_done
