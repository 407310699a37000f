#!/bin/bash
# t_cli: kite's command line as users meet it (README.md, design.md 3): connect in the
# background, status (table and JSON), disconnect, exit codes and error lines, the updown hook.
#
#   k<PID>-rw (kite)                 k<PID>-gw (strongSwan, libipsec)        k<PID>-lan
#   eth0 198.51.100.10/24 --veth---- eth0 198.51.100.1/24
#   kt-kt<PID> (while connected)     lan0 10.1.0.1/24      ------veth------- eth0 10.1.0.10/24
#   (198.51.100.77: nobody)          pool 10.3.0.0/24, local_ts 10.1.0.0/24
#
# Cases:
#   cli/connect                 kite connect (background) exits 0 and prints one line
#   cli/already-connected       a second connect of the connected profile: non-zero, "already connected"
#   cli/status-table            kite status NAME: 'established', the gateway, the virtual IP
#   cli/status-json             parses; every field of design.md 3 with the right type/format
#   cli/status-spis             IKE SPIs (and CHILD SPIs, crossed) equal the gateway's
#   cli/status-ctl              20 kite status calls in a row all succeed
#   cli/not-root                as uid 65534: connect / status / disconnect exit 3 with a clear
#                               line; the connection is untouched
#   cli/updown                  the hook ran on connect and on disconnect with the right env
#   cli/disconnect              kite disconnect exits 0; daemon, socket, device gone; gateway clear
#   cli/not-connected           disconnect / status of a profile not running: exit 4
#   cli/config-unknown-key, cli/config-duplicate-section, cli/config-psk-mode: exit 2, FILE:LINE
#                               (or the PSK file's name), no daemon started
#   cli/wrong-psk               exit 1, an authentication line; no process, socket or kt-* left
#   cli/unreachable             gateway nobody answers (200 ms x 1 retransmission): exit 1,
#                               "no response", bounded time; nothing left
#   cli/help                    kite help, kite help connect, kite --version: exit 0, commands named
#   cli/host-untouched          host /etc/resolv.conf unchanged, nothing kite-named left
#
# V=1 echoes commands; KEEP=1 keeps the run directory.
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/lib.sh"
require_root
require_tools
require_kite

PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
PUB=""	# a world-readable directory for the non-root case

setup
trap my_cleanup EXIT
# Test a copy: other work may rebuild ./kite while this script runs.
if ! cp "$KITE" "$RUN/kite" || ! "$RUN/kite" --version >/dev/null 2>&1; then
	fail "$T_NAME" "cannot copy and run $KITE"
	t_done
fi
KITE=$RUN/kite
HOST_RESOLV_SAVED=$RUN/host-resolv.conf
cp -p /etc/resolv.conf "$HOST_RESOLV_SAVED" 2>/dev/null || : >"$HOST_RESOLV_SAVED"

NAME=$KITE_NAME
TUNDEV=kt-$NAME
CONF=$RUN/vpn.ini
IKE=aes256gcm16-prfsha384-x25519
ESP=aes256gcm16
NOBODY_ADDR=198.51.100.77

# ---- helpers (this script's own; lib.sh is shared) -------------------------------------

kite_daemon_pids() {
	local p c
	for p in $(ip netns pids "$RW" 2>/dev/null); do
		read -r c 2>/dev/null </proc/"$p"/comm || continue
		[ "$c" = kite ] && echo "$p"
	done
	return 0
}
no_kite_daemon() { [ -z "$(kite_daemon_pids)" ]; }

kite_kill_leftovers() {
	local p
	[ -n "$(kite_daemon_pids)" ] || return 0
	timeout 10 ip netns exec "$RW" "$KITE" -c "$CONF" disconnect "$NAME" >/dev/null 2>&1
	slowwait 5 no_kite_daemon && return 0
	for p in $(kite_daemon_pids); do kill -TERM "$p" 2>/dev/null; done
	slowwait 5 no_kite_daemon && return 0
	for p in $(kite_daemon_pids); do kill -KILL "$p" 2>/dev/null; done
	slowwait 2 no_kite_daemon
}

host_resolv_same() { cmp -s "$HOST_RESOLV_SAVED" /etc/resolv.conf; }

my_cleanup() {
	local rc=$?
	set +e
	kite_kill_leftovers
	[ -n "$PUB" ] && rm -rf "$PUB"
	if ! host_resolv_same; then
		echo "FAIL: $T_NAME/cleanup: the host's /etc/resolv.conf changed during the test; restored"
		diff "$HOST_RESOLV_SAVED" /etc/resolv.conf | indent
		cat "$HOST_RESOLV_SAVED" >/etc/resolv.conf
		[ "$rc" = 0 ] && rc=1
	fi
	(exit "$rc")
	cleanup
}

# kite_run OUTVAR-less: K_OUT = output (stdout+stderr), K_RC = status; bounded; in rw.
# kite_run [env...] -- ARGS...  (ARGS are kite's arguments, -c included)
kite_run() {
	local envs=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	_pretty rw "${envs[*]} $KITE $*"
	K_OUT=$(env "${envs[@]}" timeout 30 ip netns exec "$RW" "$KITE" "$@" 2>&1)
	K_RC=$?
}
KD_RUNS=0
# kite_connect_bg [CONF]: background connect with the daemon's log in KD_LOG.
kite_connect_bg() {
	KD_RUNS=$((KD_RUNS + 1))
	KD_LOG=$RUN/kited.$KD_RUNS.log
	KITE_LOG=$KD_LOG
	kite_run KITE_LOG_FILE="$KD_LOG" -- -c "${1:-$CONF}" connect "$NAME"
}

# kite_status ARGS: K_OUT/K_RC of `kite status ARGS`. A control client that sends the request
# and its newline in two send()s fails with "Broken pipe" when the daemon answers and closes in
# between (kite had this bug; cli/status-ctl fails on it). Such a failure is repeated (at most
# 20 tries, 0.1 s apart) so the other cases are judged on their own; CTL_EPIPE counts them.
CTL_EPIPE=0
kite_status() {
	local i
	for ((i = 0; i < 20; i++)); do
		[ "$i" -gt 0 ] && sleep 0.1
		kite_run -- -c "$CONF" status "$@"
		grep -q "Broken pipe" <<<"$K_OUT" || return 0
		CTL_EPIPE=$((CTL_EPIPE + 1))
	done
	return 0
}

nothing_left() {	# -> LEFT (empty when clean)
	LEFT=""
	no_kite_daemon || LEFT="$LEFT kite process $(kite_daemon_pids | tr '\n' ' ');"
	[ -e "/run/kite/$NAME.sock" ] && LEFT="$LEFT /run/kite/$NAME.sock;"
	ip -n "$RW" -o link show | grep -q ' kt-' && LEFT="$LEFT a kt-* device;"
	[ -z "$LEFT" ]
}

one_error_line() {	# TEXT: exactly one line, starting "kite: error: "
	[ "$(grep -c . <<<"$1")" = 1 ] && grep -q '^kite: error: ' <<<"$1"
}

# ---- gateway, updown hook ---------------------------------------------------------------

if ! start_gateway "$IKE" "$ESP"; then
	fail "$T_NAME" "strongSwan gateway did not start"
	show_logs
	t_done
fi

UPDOWN=$RUN/updown.sh
UPDOWN_OUT=$RUN/updown.records
cat >"$UPDOWN" <<EOF
#!/bin/sh
# kite updown hook (test): one record per call
{
	printf 'record arg1=%s' "\$1"
	for v in reason TUNDEV VPNGATEWAY INTERNAL_IP4_ADDRESS CISCO_SPLIT_INC \\
		CISCO_SPLIT_INC_0_ADDR CISCO_SPLIT_INC_0_MASK CISCO_SPLIT_INC_0_MASKLEN; do
		eval "printf ' %s=%s' \$v \"\\\${\$v-<unset>}\""
	done
	printf '\n'
} >>"$UPDOWN_OUT"
EOF
chown root:root "$UPDOWN"
chmod 700 "$UPDOWN"
kite_conf "$CONF" "$NAME" "ike=$IKE" "esp=$ESP" "updown=$UPDOWN"

# ---- connected: second connect, status, non-root ------------------------------------------

VIP=""
case_connect() {
	local c=cli/connect
	kite_connect_bg
	if [ "$K_RC" != 0 ]; then
		fail "$c" "kite connect exited $K_RC: $K_OUT"
		show_logs
		kite_kill_leftovers
		return 1
	fi
	if [ "$(grep -c . <<<"$K_OUT")" != 1 ]; then
		fail "$c" "kite connect printed more than one line: $(tr '\n' '|' <<<"$K_OUT")"
		return 0
	fi
	info "kite connect: $K_OUT"
	pass "$c"
}

case_already() {
	local c=cli/already-connected pids
	kite_run KITE_LOG_FILE="$RUN/kited.second.log" -- -c "$CONF" connect "$NAME"
	pids=$(kite_daemon_pids | grep -c .)
	if [ "$K_RC" = 0 ]; then
		fail "$c" "second kite connect exited 0: $K_OUT"
	elif ! grep -qi "already connected" <<<"$K_OUT"; then
		fail "$c" "second kite connect (exit $K_RC) does not say 'already connected': $K_OUT"
	elif ! one_error_line "$K_OUT"; then
		fail "$c" "want one 'kite: error: ' line, got: $(tr '\n' '|' <<<"$K_OUT")"
	elif [ "$pids" != 1 ]; then
		fail "$c" "want one kite daemon after the second connect, found $pids"
	else
		info "exit $K_RC: $K_OUT"
		pass "$c"
	fi
}

case_status_table() {
	local c=cli/status-table errs=()
	kite_status "$NAME" --json
	VIP=$("$PY" -c 'import json,sys; print(json.load(sys.stdin)["virtual_ip"][0])' <<<"$K_OUT" 2>/dev/null)
	kite_status "$NAME"
	[ "$K_RC" = 0 ] || errs+=("exit $K_RC")
	grep -q "established" <<<"$K_OUT" || errs+=("no 'established'")
	grep -q "$GW_ADDR" <<<"$K_OUT" || errs+=("gateway $GW_ADDR not shown")
	[ -n "$VIP" ] || errs+=("no virtual IP known from --json")
	[ -n "$VIP" ] && ! grep -qF "$VIP" <<<"$K_OUT" && errs+=("virtual IP $VIP not shown")
	if [ ${#errs[@]} = 0 ]; then
		pass "$c"
	else
		fail "$c" "$(IFS=';'; echo "${errs[*]}")"
		indent <<<"$K_OUT"
	fi
}

JSON=""
case_status_json() {
	local c=cli/status-json out
	kite_status "$NAME" --json
	JSON=$K_OUT
	if [ "$K_RC" != 0 ]; then
		fail "$c" "kite status --json exited $K_RC: $K_OUT"
		return
	fi
	if ! "$PY" -c 'import json,sys; json.load(sys.stdin)' <<<"$JSON" >/dev/null 2>&1; then
		fail "$c" "not JSON: $JSON"
		return
	fi
	out=$("$PY" - "$NAME" "$GW_ADDR" "$JSON" <<'EOF' 2>&1
import json, re, sys
name, gw = sys.argv[1], sys.argv[2]
j = json.loads(sys.argv[3])
errs = []
def get(path):
    o = j
    for k in path.split("."):
        if not isinstance(o, dict) or k not in o:
            raise KeyError(path)
        o = o[k]
    return o
def want(path, test, what):
    try:
        v = get(path)
    except KeyError:
        errs.append("missing " + path); return
    if not test(v):
        errs.append("%s=%r (want %s)" % (path, v, what))
isint = lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0
isstr = lambda v: isinstance(v, str) and v != ""
hexn = lambda n: (lambda v: isinstance(v, str) and re.fullmatch("[0-9a-f]{%d}" % n, v) is not None)
want("name", lambda v: v == name, repr(name))
want("state", lambda v: v == "established", "'established'")
want("dataplane", isstr, "a string")
want("local", lambda v: isstr(v) and v.startswith("198.51.100.10:"), "198.51.100.10:PORT")
want("gateway", lambda v: isstr(v) and v.startswith(gw + ":"), gw + ":PORT")
want("virtual_ip", lambda v: isinstance(v, list) and len(v) >= 1 and all(isstr(x) for x in v), "a non-empty array of strings")
want("ike.spi_i", hexn(16), "16 lower-case hex digits")
want("ike.spi_r", hexn(16), "16 lower-case hex digits")
want("ike.proposal", lambda v: v == "AES_GCM_16_256/PRF_HMAC_SHA2_384/CURVE_25519", "AES_GCM_16_256/PRF_HMAC_SHA2_384/CURVE_25519")
want("child.spi_in", hexn(8), "8 lower-case hex digits")
want("child.spi_out", hexn(8), "8 lower-case hex digits")
want("child.proposal", lambda v: v == "AES_GCM_16_256", "AES_GCM_16_256")
for k in ("bytes_in", "bytes_out", "packets_in", "packets_out"):
    want("child." + k, isint, "an integer >= 0")
want("mobike.enabled", lambda v: v is True, "true (mobike = yes is the default)")
want("mobike.updates", isint, "an integer >= 0")
want("reconnects", isint, "an integer >= 0")
want("established_for_s", isint, "an integer >= 0")
print("; ".join(errs))
EOF
)
	if [ -z "$out" ]; then
		pass "$c"
	else
		fail "$c" "$out"
		indent <<<"$JSON"
	fi
}

case_status_spis() {
	local c=cli/status-spis gw_ike gw_child k
	# gateway: "rw: #1, ESTABLISHED, IKEv2, <spi_i>_i <spi_r>_r*", then the CHILD_SA's
	# "    in  <spi>, N bytes, ..." and "    out <spi>, ..." lines
	gw_ike=$(gw_list_sas | sed -n 's/.*IKEv2, \([0-9a-f]\{16\}\)_i\*\{0,1\} \([0-9a-f]\{16\}\)_r\*\{0,1\}.*/\1 \2/p' | head -n 1)
	gw_child=$(gw_list_sas | awk '$1 == "in" && $2 ~ /^[0-9a-f]+,$/ && length($2) == 9 { i = substr($2, 1, 8) }
		$1 == "out" && $2 ~ /^[0-9a-f]+,$/ && length($2) == 9 { o = substr($2, 1, 8) }
		END { if (i != "" && o != "") print i, o }')
	k=$("$PY" -c 'import json,sys; j=json.load(sys.stdin); print(j["ike"]["spi_i"], j["ike"]["spi_r"], j["child"]["spi_out"], j["child"]["spi_in"])' <<<"$JSON" 2>/dev/null)
	if [ -z "$gw_ike" ] || [ -z "$gw_child" ]; then
		fail "$c" "could not read the SPIs from swanctl --list-sas"
		gw_list_sas | indent
	elif [ "$k" != "$gw_ike $gw_child" ]; then
		fail "$c" "kite (spi_i spi_r child.spi_out child.spi_in) '$k' != gateway (IKE i r, CHILD in out) '$gw_ike $gw_child'"
		gw_list_sas | indent
	else
		info "IKE SPIs $gw_ike, CHILD SPIs (gateway in/out) $gw_child"
		pass "$c"
	fi
}

case_status_ctl() {
	local c=cli/status-ctl i bad=0 line=""
	for ((i = 0; i < 20; i++)); do
		K_OUT=$(timeout 10 ip netns exec "$RW" "$KITE" -c "$CONF" status "$NAME" --json 2>&1)
		K_RC=$?
		if [ "$K_RC" != 0 ]; then
			bad=$((bad + 1))
			line=$K_OUT
		fi
	done
	if [ "$bad" = 0 ] && [ "$CTL_EPIPE" = 0 ]; then
		pass "$c"
	else
		fail "$c" "$bad of 20 consecutive 'kite status' calls failed (and $CTL_EPIPE retried earlier): $line"
	fi
}

case_not_root() {
	local c=cli/not-root errs=() nb=(setpriv --reuid=65534 --regid=65534 --clear-groups) out rc pconf pk cmd
	if ! PUB=$(mktemp -d "${TMPDIR:-/tmp}/kite-cli-pub.XXXXXX"); then
		fail "$c" "mktemp failed"
		return
	fi
	chmod 755 "$PUB"
	# the user must be able to run kite and read the config: $RUN is root-only
	cp "$KITE" "$PUB/kite" && chmod 755 "$PUB/kite"
	pk=$PUB/kite
	pconf=$PUB/vpn.ini
	kite_conf "$pconf" "$NAME" "ike=$IKE" "esp=$ESP"
	chmod 644 "$pconf"
	# connect of the profile (a config file the user can read): refused before anything else
	out=$(timeout 10 ip netns exec "$RW" "${nb[@]}" "$pk" -c "$pconf" connect "$NAME" 2>&1)
	rc=$?
	if [ "$rc" != 3 ] || ! one_error_line "$out" || ! grep -qiE 'root|permi' <<<"$out"; then
		errs+=("connect as uid 65534: exit $rc, want 3 and one clear line: $(tr '\n' '|' <<<"$out")")
	else
		info "connect as uid 65534: exit 3: $out"
	fi
	for cmd in status disconnect; do
		out=$(timeout 10 ip netns exec "$RW" "${nb[@]}" "$pk" -c "$pconf" "$cmd" "$NAME" 2>&1)
		rc=$?
		if [ "$rc" != 3 ] || ! grep -qiE 'root|permi|sudo' <<<"$out"; then
			errs+=("$cmd as uid 65534 while connected: exit $rc, want 3 and a clear line: $(tr '\n' '|' <<<"$out")")
		else
			info "$cmd as uid 65534: exit 3: $out"
		fi
	done
	kite_status "$NAME"
	grep -q established <<<"$K_OUT" || errs+=("the connection did not survive the non-root attempts: $K_OUT")
	[ "$(kite_daemon_pids | grep -c .)" = 1 ] || errs+=("want 1 kite daemon, found $(kite_daemon_pids | grep -c .)")
	if [ ${#errs[@]} = 0 ]; then
		pass "$c"
	else
		fail "$c" "$(IFS=';'; echo "${errs[*]}")"
	fi
}

case_disconnect() {
	local c=cli/disconnect errs=()
	kite_run -- -c "$CONF" disconnect "$NAME"
	[ "$K_RC" = 0 ] || errs+=("kite disconnect exited $K_RC: $K_OUT")
	slowwait 5 no_kite_daemon || errs+=("the daemon still runs 5 s after kite disconnect")
	slowwait 5 gw_no_sa_for "$RW_ID" || errs+=("the gateway still has an SA 5 s after the disconnect")
	nothing_left || errs+=("left:$LEFT")
	if [ ${#errs[@]} = 0 ]; then
		info "kite disconnect: $K_OUT"
		pass "$c"
	else
		fail "$c" "$(IFS=';'; echo "${errs[*]}")"
		show_logs
		kite_kill_leftovers
	fi
}

case_updown() {
	local c=cli/updown errs=() con dis v want
	if [ ! -s "$UPDOWN_OUT" ]; then
		fail "$c" "the updown script wrote no record ($UPDOWN_OUT missing or empty)"
		show_logs
		return
	fi
	info "updown records:"
	indent <"$UPDOWN_OUT"
	con=$(grep -c ' reason=connect ' "$UPDOWN_OUT")
	dis=$(grep -c ' reason=disconnect ' "$UPDOWN_OUT")
	[ "$con" = 1 ] || errs+=("$con connect records, want 1")
	[ "$dis" = 1 ] || errs+=("$dis disconnect records, want 1")
	[ "$(grep -c . "$UPDOWN_OUT")" = 2 ] || errs+=("$(grep -c . "$UPDOWN_OUT") records, want 2")
	grep -n . "$UPDOWN_OUT" | head -n 1 | grep -q ' reason=connect ' || errs+=("the first record is not the connect one")
	for r in connect disconnect; do
		v=$(grep " reason=$r " "$UPDOWN_OUT" | head -n 1)
		[ -n "$v" ] || continue
		for want in "arg1=$r" "TUNDEV=$TUNDEV" "VPNGATEWAY=$GW_ADDR" "INTERNAL_IP4_ADDRESS=${VIP:-?}" \
			"CISCO_SPLIT_INC=1" "CISCO_SPLIT_INC_0_ADDR=10.1.0.0" "CISCO_SPLIT_INC_0_MASK=255.255.255.0" \
			"CISCO_SPLIT_INC_0_MASKLEN=24"; do
			grep -q " $want\( \|\$\)" <<<"$v" || errs+=("$r record lacks $want")
		done
	done
	if [ ${#errs[@]} = 0 ]; then
		pass "$c"
	else
		fail "$c" "$(IFS=';'; echo "${errs[*]}")"
	fi
}

case_not_connected() {
	local c=cli/not-connected errs=()
	kite_run -- -c "$CONF" disconnect "$NAME"
	[ "$K_RC" = 4 ] || errs+=("disconnect: exit $K_RC, want 4: $K_OUT")
	grep -qi "not connected" <<<"$K_OUT" || errs+=("disconnect does not say 'not connected': $K_OUT")
	kite_run -- -c "$CONF" status "$NAME"
	[ "$K_RC" = 4 ] || errs+=("status: exit $K_RC, want 4: $K_OUT")
	if [ ${#errs[@]} = 0 ]; then
		pass "$c"
	else
		fail "$c" "$(IFS=';'; echo "${errs[*]}")"
	fi
}

# ---- configuration errors ------------------------------------------------------------------

# config_case CASE FILE WANT_TEXT: kite connect exits 2 with one error line containing WANT_TEXT
config_case() {
	local c=$1 f=$2 want=$3
	kite_run KITE_LOG_FILE="$RUN/kited.cfg.log" -- -c "$f" connect "$NAME"
	if [ "$K_RC" != 2 ]; then
		fail "$c" "exit $K_RC, want 2: $K_OUT"
	elif ! grep -qF -- "$want" <<<"$K_OUT"; then
		fail "$c" "the error does not name '$want': $K_OUT"
	elif ! one_error_line "$K_OUT"; then
		fail "$c" "want one 'kite: error: ' line: $(tr '\n' '|' <<<"$K_OUT")"
	elif ! nothing_left; then
		fail "$c" "left:$LEFT"
		kite_kill_leftovers
	else
		info "$K_OUT"
		pass "$c"
	fi
}

case_config() {
	local f
	f=$RUN/unknown.ini
	kite_conf "$f" "$NAME" "ike=$IKE"
	echo "no_such_key = 1" >>"$f"
	config_case cli/config-unknown-key "$f" "$f:$(grep -c '' "$f")"

	f=$RUN/dup.ini
	kite_conf "$f" "$NAME" "ike=$IKE"
	echo "" >>"$f"
	local second=$(($(grep -c '' "$f") + 1))
	kite_conf "$RUN/dup2.ini" "$NAME" "ike=$IKE"
	cat "$RUN/dup2.ini" >>"$f"
	config_case cli/config-duplicate-section "$f" "$f:$second"

	f=$RUN/mode.ini
	kite_psk "$RUN/loose.psk" "0x$GW_PSK"
	chmod 644 "$RUN/loose.psk"
	kite_conf "$f" "$NAME" "ike=$IKE" "psk_file=$RUN/loose.psk"
	config_case cli/config-psk-mode "$f" "$RUN/loose.psk"
}

# ---- connection failures --------------------------------------------------------------------

case_wrong_psk() {
	local c=cli/wrong-psk f=$RUN/wrong.ini t0
	kite_psk "$RUN/wrong.psk" "0x$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
	kite_conf "$f" "$NAME" "ike=$IKE" "esp=$ESP" "psk_file=$RUN/wrong.psk"
	now_ms
	t0=$NOW_MS
	kite_connect_bg "$f"
	now_ms
	if [ "$K_RC" != 1 ]; then
		fail "$c" "exit $K_RC, want 1: $K_OUT"
		show_logs
	elif ! grep -qi "authentication" <<<"$K_OUT" || ! one_error_line "$K_OUT"; then
		fail "$c" "want one error line naming the authentication failure: $(tr '\n' '|' <<<"$K_OUT")"
	elif ! slowwait 3 nothing_left; then
		nothing_left
		fail "$c" "left 3 s after the failure:$LEFT"
		kite_kill_leftovers
	else
		info "exit 1 after $((NOW_MS - t0)) ms: $K_OUT"
		pass "$c"
	fi
}

case_unreachable() {
	local c=cli/unreachable f=$RUN/unreach.ini t0 ms
	kite_conf "$f" "$NAME" "ike=$IKE" "esp=$ESP" "retransmit_timeout=200ms" "retransmit_tries=1"
	sed -i "s/^gateway = .*/gateway = $NOBODY_ADDR/" "$f"
	now_ms
	t0=$NOW_MS
	kite_connect_bg "$f"
	now_ms
	ms=$((NOW_MS - t0))
	if [ "$K_RC" != 1 ]; then
		fail "$c" "exit $K_RC, want 1: $K_OUT"
		show_logs
	elif ! grep -qi "no response" <<<"$K_OUT" || ! one_error_line "$K_OUT"; then
		fail "$c" "want one error line saying 'no response': $(tr '\n' '|' <<<"$K_OUT")"
		show_logs
	elif [ "$ms" -gt 5000 ]; then
		fail "$c" "took $ms ms (200 ms + 400 ms of retransmissions configured)"
	elif ! slowwait 3 nothing_left; then
		nothing_left
		fail "$c" "left 3 s after the failure:$LEFT"
		kite_kill_leftovers
	else
		info "exit 1 after $ms ms: $K_OUT"
		pass "$c"
	fi
}

case_help() {
	local c=cli/help errs=() out rc
	out=$("$KITE" help 2>&1)
	rc=$?
	[ "$rc" = 0 ] || errs+=("kite help: exit $rc")
	for w in connect disconnect status help; do
		grep -qw "$w" <<<"$out" || errs+=("kite help does not mention '$w'")
	done
	out=$("$KITE" help connect 2>&1)
	rc=$?
	[ "$rc" = 0 ] || errs+=("kite help connect: exit $rc")
	grep -q "connect" <<<"$out" || errs+=("kite help connect does not mention connect")
	grep -q -- "--foreground" <<<"$out" || errs+=("kite help connect does not mention --foreground")
	out=$("$KITE" --version 2>&1)
	rc=$?
	[ "$rc" = 0 ] || errs+=("kite --version: exit $rc")
	grep -qE '^kite [0-9]+\.[0-9]+' <<<"$out" || errs+=("kite --version does not print 'kite X.Y': $out")
	if [ ${#errs[@]} = 0 ]; then
		pass "$c"
	else
		fail "$c" "$(IFS=';'; echo "${errs[*]}")"
	fi
}

case_host() {
	local c=cli/host-untouched errs=()
	host_resolv_same || errs+=("the host's /etc/resolv.conf changed")
	[ -e "/run/kite/$NAME.sock" ] && errs+=("/run/kite/$NAME.sock exists")
	[ -e "/run/kite/$NAME.resolv.conf" ] && errs+=("/run/kite/$NAME.resolv.conf exists")
	no_kite_daemon || errs+=("kite still running in $RW")
	if [ ${#errs[@]} = 0 ]; then
		pass "$c"
	else
		fail "$c" "$(IFS=';'; echo "${errs[*]}")"
	fi
}

if case_connect; then
	case_already
	case_status_table
	case_status_json
	case_status_spis
	case_status_ctl
	case_not_root
	case_disconnect
	case_updown
fi
case_not_connected
case_config
case_wrong_psk
case_unreachable
case_help
case_host
t_done
