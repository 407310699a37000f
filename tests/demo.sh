#!/bin/bash
# make demo: a local strongSwan gateway in a network namespace, kite connects to it, traffic goes
# through the tunnel, `kite status` shows it, kite disconnects, everything is cleaned up.
#
#   k<PID>-rw (kite)  eth0 198.51.100.10 ---- 198.51.100.1 k<PID>-gw (strongSwan) 10.1.0.1 ---- 10.1.0.10 k<PID>-lan
#                                                            virtual IPs 10.3.0.0/24          (web server)
#
# Nothing touches the root namespace: all addresses live in the three namespaces and are
# removed on exit (trap), also when a step fails.
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/interop/lib.sh"
T_NAME=demo

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '   $ %s\n' "$*"; "$@"; }
die() { echo "demo: $*" >&2; show_logs; exit 1; }

if [ "$(id -u)" != 0 ]; then
	echo "demo: needs root (it creates network namespaces): sudo make demo" >&2
	exit 3
fi
require_tools
require_kite

step "1. A strongSwan gateway in its own network namespace"
setup
start_gateway aes256gcm16-prfsha384-x25519 aes256gcm16 || die "the strongSwan gateway did not start"
info "gateway $GW_ADDR (identity $GW_ID), LAN $LAN_NET behind it, virtual IP pool $VIP_POOL"
ip netns exec "$LAN" python3 -m http.server 8080 --bind "$LAN_ADDR" --directory "$RUN" >/dev/null 2>&1 &
bg_track $!
echo "hello through the tunnel" >"$RUN/hello.txt"

step "2. kite's configuration"
CONF=$RUN/vpn.ini
kite_conf "$CONF" demo
sed 's/^/   | /' "$CONF"
info "(the PSK file $RUN/rw.psk is mode 0600, owned by root)"

step "3. Before connecting, the LAN behind the gateway is unreachable"
run ip netns exec "$RW" ping -c1 -W1 "$LAN_ADDR" >/dev/null 2>&1 && die "LAN reachable without the tunnel?"
info "ping $LAN_ADDR: no route (as expected)"

step "4. kite connect"
export KITE_LOG_FILE=$RUN/kite.log
KITE_LOG=$KITE_LOG_FILE
now_ms; t0=$NOW_MS
run ip netns exec "$RW" "$KITE" -c "$CONF" connect demo || die "kite connect failed"
now_ms; info "connected in $((NOW_MS - t0)) ms (command start to return, including process start-up)"

step "5. Traffic through the tunnel"
run ip netns exec "$RW" ping -c3 -i0.2 -W2 "$LAN_ADDR" || die "ping through the tunnel failed"
slowwait 5 ip netns exec "$RW" curl -sf -m2 -o /dev/null "http://$LAN_ADDR:8080/hello.txt" ||
	die "the web server behind the gateway did not answer"
run ip netns exec "$RW" curl -s -m5 "http://$LAN_ADDR:8080/hello.txt" || die "fetch through the tunnel failed"

step "6. kite status"
run ip netns exec "$RW" "$KITE" -c "$CONF" status demo || die "kite status failed"
run ip netns exec "$RW" "$KITE" -c "$CONF" status demo --json || die "kite status --json failed"
info "the gateway's view:"
gw_list_sas | sed 's/^/   | /'

step "7. kite disconnect"
run ip netns exec "$RW" "$KITE" -c "$CONF" disconnect demo || die "kite disconnect failed"
slowwait 5 gw_no_sa_for "$RW_ID" || die "the gateway still has an SA"
info "the gateway has no SA left; routes and rules in the client namespace:"
ip netns exec "$RW" ip route | sed 's/^/   | /'
ip netns exec "$RW" ip rule | sed 's/^/   | /'

step "Done: the demo's namespaces and processes are removed now."
