#!/bin/bash
# t_eap: EAP-MSCHAPv2 sign-in against a strongSwan gateway that authenticates with an ECDSA
# certificate (RFC 7296 2.16), and the refusals: wrong password, gateway certificate from
# another CA, for another name, expired; then client certificates (ECDSA and RSA).
# Certificates are made per run with strongSwan's pki tool.
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/lib.sh"
require_root
require_tools
require_kite
command -v pki >/dev/null || { skip "$T_NAME" "strongswan-pki not installed (run 'make deps')"; exit 0; }
setup

PKI=$RUN/pki
mkdir -p "$PKI"
# mkca NAME: an ECDSA P-256 CA; mkcert CA NAME SAN: a gateway certificate signed by CA
# pki loads strongswan.conf's plugin list; a minimal one keeps it quiet (no TPM probing)
printf 'pki {\n  load = random pem pkcs1 pkcs8 x509 pubkey openssl\n}\n' >"$RUN/pki.strongswan.conf"
export STRONGSWAN_CONF=$RUN/pki.strongswan.conf
mkca() {
	pki --gen --type ecdsa --size 256 --outform pem >"$PKI/$1.key" &&
	pki --self --ca --lifetime 30 --in "$PKI/$1.key" --type ecdsa --dn "C=XX, O=kite test, CN=$1" \
		--outform pem >"$PKI/$1.pem"
}
mkcert() {	# CA NAME SAN [extra pki --issue args]
	local ca=$1 name=$2 san=$3
	shift 3
	pki --gen --type ecdsa --size 256 --outform pem >"$PKI/$name.key" &&
	pki --pub --in "$PKI/$name.key" --type ecdsa |
		pki --issue --lifetime 30 "$@" --cacert "$PKI/$ca.pem" --cakey "$PKI/$ca.key" \
			--dn "C=XX, O=kite test, CN=$san" --san "$san" --flag serverAuth --flag ikeIntermediate \
			--outform pem >"$PKI/$name.pem"
}
mkca ca && mkca otherca && mkcert ca gw "$GW_ID" && mkcert otherca gw-other "$GW_ID" &&
	mkcert ca gw-wrongname vpn.elsewhere.test &&
	mkcert ca gw-expired "$GW_ID" --dateform "%Y-%m-%d" --not-before 2020-01-01 --not-after 2020-06-01 &&
	mkcert ca rw-ecdsa "$RW_ID" &&
	pki --gen --type rsa --size 3072 --outform pem >"$PKI/gw-rsa.key" &&
	pki --pub --in "$PKI/gw-rsa.key" --type rsa |
		pki --issue --lifetime 30 --cacert "$PKI/ca.pem" --cakey "$PKI/ca.key" \
			--dn "C=XX, O=kite test, CN=$GW_ID" --san "$GW_ID" --flag serverAuth \
			--outform pem >"$PKI/gw-rsa.pem" &&
	pki --gen --type rsa --size 2048 --outform pem >"$PKI/rw-rsa.key" &&
	pki --pub --in "$PKI/rw-rsa.key" --type rsa |
		pki --issue --lifetime 30 --cacert "$PKI/ca.pem" --cakey "$PKI/ca.key" \
			--dn "C=XX, O=kite test, CN=$RW_ID" --san "$RW_ID" --outform pem >"$PKI/rw-rsa.pem" ||
	{ fail "$T_NAME" "pki could not make certificates"; exit 1; }
unset STRONGSWAN_CONF

EAP_PW=correct-horse-battery-$$

# gw_eap CERTNAME: gateway config: certificate auth for itself, EAP-MSCHAPv2 for clients
gw_eap() {
	local d=$RUN/gw/swanctl
	mkdir -p "$d"
	_sw_dirs "$d"
	cp "$PKI/$1.pem" "$d/x509/gw.pem"
	cp "$PKI/$1.key" "$d/private/gw.key"
	cp "$PKI/ca.pem" "$d/x509ca/ca.pem"
	cat >"$d/swanctl.conf" <<EOF2
connections {
  eap {
    version = 2
    local_addrs = $GW_ADDR
    remote_addrs = %any
    proposals = aes256gcm16-prfsha384-x25519
    pools = rw_pool
    send_cert = always
    fragmentation = ${GW_FRAG:-yes}
    local {
      auth = pubkey
      certs = gw.pem
      id = $GW_ID
    }
    remote {
      auth = ${GW_EAP:-eap-mschapv2}
      eap_id = %any
    }
    children {
      eap {
        local_ts = $LAN_NET
        esp_proposals = aes256gcm16
      }
    }
  }
  cert {
    version = 2
    local_addrs = $GW_ADDR
    remote_addrs = %any
    proposals = aes256gcm16-prfsha384-x25519
    pools = rw_pool
    send_cert = always
    local {
      auth = pubkey
      certs = gw.pem
      id = $GW_ID
    }
    remote {
      auth = pubkey
      id = $RW_ID
    }
    children {
      cert {
        local_ts = $LAN_NET
        esp_proposals = aes256gcm16
      }
    }
  }
}
pools {
  rw_pool {
    addrs = $VIP_POOL
  }
}
secrets {
  eap-carol {
    id = carol
    secret = "$EAP_PW"
  }
}
EOF2
}

CONF=$RUN/vpn.ini
kite_psk "$RUN/rw.pass" "$EAP_PW"
kite_psk "$RUN/wrong.pass" "not-the-password"
eap_conf() {	# PASSFILE CA, or: cert CERT KEY CA
	if [ "$1" = cert ]; then
		cat >"$CONF" <<EOF2
[$KITE_NAME]
gateway = $GW_ADDR
local_id = $RW_ID
remote_id = $GW_ID
auth = cert
cert = $2
key = $3
ca = $4
retransmit_timeout = 500ms
retransmit_tries = 2
dns = no
EOF2
		return
	fi
	cat >"$CONF" <<EOF2
[$KITE_NAME]
gateway = $GW_ADDR
local_id = $RW_ID
remote_id = $GW_ID
auth = eap
username = carol
password_file = $1
ca = $2
${KITE_EAP:-}
retransmit_timeout = 500ms
retransmit_tries = 2
dns = no
${KITE_EXTRA:-}
EOF2
}

# case NAME CERT PASSFILE CA EXPECT(ok|fail) PATTERN
eap_case() {
	local name=$1 cert=$2 pass=$3 ca=$4 expect=$5 pattern=$6 out rc
	info "--- eap/$name"
	charon_stop gw
	gw_eap "$cert"
	charon_start gw "$GW" "${GW_CHARON_EXTRA:-}" || { fail "eap/$name" "gateway did not start"; return; }
	gw_load || { fail "eap/$name" "gateway config did not load"; show_logs; return; }
	if [ "$pass" = cert ]; then
		eap_conf cert "$PKI/$ca.pem" "$KEYDIR/$ca.key" "$PKI/ca.pem"
	else
		eap_conf "$pass" "$ca"
	fi
	KITE_LOG=$RUN/kite.$name.log
	out=$(KITE_LOG_FILE=$KITE_LOG timeout 20 ip netns exec "$RW" "$KITE" -c "$CONF" connect "$KITE_NAME" 2>&1)
	rc=$?
	if [ "$expect" = ok ]; then
		if [ "$rc" != 0 ]; then
			fail "eap/$name" "connect failed ($rc): $out"
			show_logs
			return
		fi
		if ! ip netns exec "$RW" ping -c3 -i0.2 -W2 "$LAN_ADDR" >/dev/null; then
			fail "eap/$name" "no ping through the tunnel"
		elif ! gw_ike_state_is carol ESTABLISHED && ! gw_list_sas | grep -q "ESTABLISHED"; then
			fail "eap/$name" "the gateway lists no established SA"
		else
			pass "eap/$name"
		fi
		ip netns exec "$RW" "$KITE" disconnect "$KITE_NAME" >/dev/null 2>&1
		return
	fi
	if [ "$rc" = 0 ]; then
		fail "eap/$name" "kite connected, but it must refuse"
		ip netns exec "$RW" "$KITE" disconnect "$KITE_NAME" >/dev/null 2>&1
		return
	fi
	if ! grep -qi -- "$pattern" <<<"$out"; then
		fail "eap/$name" "exit $rc, but the message does not name the cause ('$pattern'): $out"
		show_logs
		return
	fi
	# no credential sent before the gateway proved itself: no EAP response from kite at all
	if [ "$name" != wrong-password ] && gw_log_has "EAP_RESPONSE\|EAP/RES"; then
		fail "eap/$name" "kite sent an EAP response to an unverified gateway"
		return
	fi
	info "kite: $out"
	pass "eap/$name"
}

eap_case mschapv2-ecdsa gw "$RUN/rw.pass" "$PKI/ca.pem" ok ""
eap_case mschapv2-rsa gw-rsa "$RUN/rw.pass" "$PKI/ca.pem" ok ""
eap_case wrong-password gw "$RUN/wrong.pass" "$PKI/ca.pem" fail "EAP authentication failed\|AUTHENTICATION_FAILED"
eap_case unknown-ca gw-other "$RUN/rw.pass" "$PKI/ca.pem" fail "not trusted"
eap_case wrong-name gw-wrongname "$RUN/rw.pass" "$PKI/ca.pem" fail "does not match"
eap_case expired gw-expired "$RUN/rw.pass" "$PKI/ca.pem" fail "expired"
# no password_file and no terminal: the password comes over the control socket
info "--- eap/password-over-control-socket"
charon_stop gw
gw_eap gw
if charon_start gw "$GW" && gw_load; then
	sed '/^password_file/d' "$CONF" >"$CONF.nopw"
	sed -i "s|^password_file = .*||" "$CONF.nopw"
	KITE_LOG=$RUN/kite.ctlpw.log
	KITE_LOG_FILE=$KITE_LOG setsid ip netns exec "$RW" "$KITE" -c "$CONF.nopw" connect "$KITE_NAME" \
		</dev/null >"$RUN/ctlpw.out" 2>&1 &
	cpid=$!
	if slowwait 5 test -S "/run/kite/$KITE_NAME.sock" &&
		printf '%s\n' "$EAP_PW" | ip netns exec "$RW" "$KITE" password "$KITE_NAME"; then
		if wait "$cpid" && ip netns exec "$RW" ping -c2 -i0.2 -W2 "$LAN_ADDR" >/dev/null; then
			pass "eap/password-over-control-socket"
		else
			fail "eap/password-over-control-socket" "no tunnel after the password: $(cat "$RUN/ctlpw.out")"
			show_logs
		fi
	else
		fail "eap/password-over-control-socket" "kite did not take the password: $(cat "$RUN/ctlpw.out")"
		kill "$cpid" 2>/dev/null
	fi
	ip netns exec "$RW" "$KITE" disconnect "$KITE_NAME" >/dev/null 2>&1
	wait "$cpid" 2>/dev/null
else
	fail "eap/password-over-control-socket" "gateway did not start"
fi
GW_EAP=eap-md5 KITE_EAP="eap_method = md5" eap_case md5-ecdsa gw "$RUN/rw.pass" "$PKI/ca.pem" ok ""
# client certificates: kite wants its key 0600 and root-owned
KEYDIR=$RUN/keys
mkdir -m 700 "$KEYDIR"
for k in rw-ecdsa rw-rsa; do
	install -m 600 -o root -g root "$PKI/$k.key" "$KEYDIR/$k.key"
done
eap_case cert-ecdsa gw cert rw-ecdsa ok ""
eap_case cert-rsa gw cert rw-rsa ok ""
# RFC 7383 both ways: small fragment sizes on both ends, an RSA client certificate one way and
# the gateway's certificate the other way make IKE_AUTH messages larger than one fragment
GW_FRAG=force GW_CHARON_EXTRA="  fragment_size = 576" KITE_EXTRA="fragment_size = 576" \
	eap_case fragments gw cert rw-rsa ok ""
if grep -q "sent as [0-9]* fragments" "$RUN/kite.fragments.log" &&
	gw_log_has "received fragment" ; then
	pass "eap/fragments-both-ways"
else
	fail "eap/fragments-both-ways" "no fragments seen (kite: $(grep -c 'fragments' "$RUN/kite.fragments.log"), gateway: $(grep -c 'fragment' "$RUN/gw.charon.log"))"
fi
t_done
