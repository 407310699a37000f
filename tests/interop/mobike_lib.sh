# shellcheck shell=bash disable=SC2034
# (SC2034: variables set here are read by the scenarios)
# tests/interop/mobike_lib.sh: the road-warrior topology with two uplinks for the MOBIKE,
# reconnect and handover scenarios (t_mobike.sh, t_reconnect.sh, tests/bench/bench_mobike.sh).
# Sourced after tests/interop/lib.sh, never run. It replaces lib.sh's topology (lib.sh's setup()
# calls _topology, redefined here) and adds a 10 ms ICMP prober, leak captures, an address
# monitor, SPI readers, a scenario frame (sc_*) and a strongSwan road-warrior client for the
# benchmark. Everything else (cleanup trap, charon_start, kite_start, sw) is lib.sh's.
#
#   k<PID>-rw (kite)                   k<PID>-inet (router)           k<PID>-gw (strongSwan)      k<PID>-lan
#   wlan0 198.51.100.10/24 ---------- wlan-ap 198.51.100.1/24
#         2001:db8:1::10/64 (v6 mode)         2001:db8:1::1/64
#                                     gw-r 192.0.2.254/24 ----------- eth0 192.0.2.1/24
#                                          2001:db8:2::fe/64                2001:db8:2::1/64
#   wwan0 100.64.0.10/24 --- k<PID>-nat: bs0 100.64.0.1/24           lan0 10.1.0.1/24 -------- eth0 10.1.0.10/24
#                            [masquerade] up0 203.0.113.2/24 ------- nat-r 203.0.113.1/24 (inet)
#
#   rw: default via 198.51.100.1 dev wlan0 metric 100, default via 100.64.0.1 dev wwan0 metric 200
#       (v6 mode: default via 2001:db8:1::1 dev wlan0); net.ipv4.conf.all.promote_secondaries = 1
#       (as systemd sets it), so removing the first address of a subnet keeps a second one.
#   inet: forwards, knows only its connected networks (nothing routes 10.1.0.0/24 outside the tunnel).
#   nat: masquerade on up0 to ports 20000-20999 (mb_nat_rule 30000-30999 + mb_nat_flush: a new NAT
#        mapping for the same client socket).
#   gw: default via 192.0.2.254 (and 2001:db8:2::fe); strongSwan with kernel-libipsec, pool
#       10.3.0.0/24, local_ts 10.1.0.0/24, dpd_delay 30s, mobike per scenario.
#
# The same namespaces serve every scenario of a script: mb_uplinks MODE puts rw's uplinks back into a
# known state (addresses and default routes) between scenarios; each scenario starts a fresh gateway.
# Setup also proves the tools: `ip -ts monitor address` reports an event, and the leak capture sees
# plaintext pings to the LAN sent without a tunnel (mb_leak_selftest).

RW_WLAN=198.51.100.10
RW_WLAN2=198.51.100.20
AP_ADDR=198.51.100.1
RW_WWAN=100.64.0.10
BS_ADDR=100.64.0.1
NAT_UP=203.0.113.2
NAT_R=203.0.113.1
GW_R=192.0.2.254
GW_ADDR=192.0.2.1
RW_ADDR=$RW_WLAN
RW_WLAN6=2001:db8:1::10
AP_ADDR6=2001:db8:1::1
GW_R6=2001:db8:2::fe
GW_ADDR6=2001:db8:2::1
INET=k$$-inet
NAT=k$$-nat
UPLINKS="wlan0 wwan0"
TUNDEV=kt-$KITE_NAME
IKE=aes128gcm16-prfsha256-x25519
ESP=aes128gcm16
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

n_inet() { _pretty inet "$*"; ip netns exec "$INET" "$@"; }
n_nat() { _pretty nat "$*"; ip netns exec "$NAT" "$@"; }

# ---- topology (called by lib.sh's setup) ---------------------------------------------------

_topology() {
	local ns
	_ns_add "$RW" && _ns_add "$INET" && _ns_add "$NAT" && _ns_add "$GW" && _ns_add "$LAN" || return 1
	for ns in "$RW" "$INET" "$NAT" "$GW" "$LAN"; do
		# no DAD, no router solicitations: addresses are usable at once and no late events
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
			net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0 >/dev/null 2>&1
	done
	ip netns exec "$RW" sysctl -qw net.ipv4.conf.all.promote_secondaries=1 \
		net.ipv4.conf.default.promote_secondaries=1 || return 1
	ip -n "$RW" link add wlan0 type veth peer name wlan-ap netns "$INET" || return 1
	ip -n "$RW" link add wwan0 type veth peer name bs0 netns "$NAT" || return 1
	ip -n "$NAT" link add up0 type veth peer name nat-r netns "$INET" || return 1
	ip -n "$INET" link add gw-r type veth peer name eth0 netns "$GW" || return 1
	ip -n "$GW" link add lan0 type veth peer name eth0 netns "$LAN" || return 1
	ip -n "$INET" -batch - <<EOF || return 1
addr add $AP_ADDR/24 dev wlan-ap
addr add $AP_ADDR6/64 dev wlan-ap nodad
addr add $GW_R/24 dev gw-r
addr add $GW_R6/64 dev gw-r nodad
addr add $NAT_R/24 dev nat-r
link set wlan-ap up
link set gw-r up
link set nat-r up
EOF
	ip netns exec "$INET" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 || return 1
	ip -n "$NAT" -batch - <<EOF || return 1
addr add $BS_ADDR/24 dev bs0
addr add $NAT_UP/24 dev up0
link set bs0 up
link set up0 up
route add default via $NAT_R
EOF
	ip netns exec "$NAT" sysctl -qw net.ipv4.ip_forward=1 || return 1
	mb_nat_rule 20000-20999 || return 1
	ip -n "$GW" -batch - <<EOF || return 1
addr add $GW_ADDR/24 dev eth0
addr add $GW_ADDR6/64 dev eth0 nodad
addr add $GW_LAN_ADDR/24 dev lan0
link set eth0 up
link set lan0 up
route add default via $GW_R
route add ::/0 via $GW_R6
EOF
	ip netns exec "$GW" sysctl -qw net.ipv4.ip_forward=1 || return 1
	ip -n "$LAN" -batch - <<EOF || return 1
addr add $LAN_ADDR/24 dev eth0
link set eth0 up
route add default via $GW_LAN_ADDR
EOF
	ip -n "$RW" link set wlan0 up && ip -n "$RW" link set wwan0 up || return 1
	mb_uplinks both || return 1
	# every path works before anything else runs (bounded)
	slowwait 5 ip netns exec "$LAN" ping -c1 -W1 "$GW_LAN_ADDR" || { echo "  setup: lan -> gw failed"; return 1; }
	slowwait 5 ip netns exec "$RW" ping -c1 -W1 -I wlan0 "$GW_ADDR" || { echo "  setup: rw wlan0 -> gw failed"; return 1; }
	slowwait 5 ip netns exec "$RW" ping -c1 -W1 -I wwan0 "$GW_ADDR" || { echo "  setup: rw wwan0 -> NAT -> gw failed"; return 1; }
	# nothing outside the tunnel reaches the LAN (a plaintext packet dies at the router)
	if ip netns exec "$RW" ping -c1 -W1 "$LAN_ADDR" >/dev/null 2>&1; then
		echo "  setup: rw reaches $LAN_ADDR without a tunnel"
		return 1
	fi
	mb_mon_start || return 1
	mb_leak_selftest
}

# mb_leak_selftest: the leak captures must see a plaintext packet: without a tunnel, rw's pings
# to the LAN host leave on wlan0 unencrypted (and die at the router).
mb_leak_selftest() {
	leak_start || return 1
	ip netns exec "$RW" ping -c2 -i0.2 -W1 "$LAN_ADDR" >/dev/null 2>&1
	leak_stop
	if [ "$LEAKS" -lt 2 ]; then
		echo "  setup: the leak capture did not see 2 plaintext pings sent without a tunnel (saw $LEAKS)"
		return 1
	fi
	return 0
}

# mb_nat_rule PORTS: the NAT box masquerades to PORTS (first-last) from now on (existing
# conntrack entries keep their mapping; mb_nat_flush drops them).
mb_nat_rule() {
	ip netns exec "$NAT" nft -f - <<EOF
table ip nat
flush table ip nat
table ip nat {
	chain postrouting {
		type nat hook postrouting priority 100; policy accept;
		oifname "up0" meta l4proto { tcp, udp } masquerade to :$1
		oifname "up0" masquerade
	}
}
EOF
}

# mb_nat_flush: empty the NAT box's conntrack table (ctnetlink IPCTNL_MSG_CT_DELETE without
# attributes = flush; the conntrack tool is not installed by default). Prints the error if any.
mb_nat_flush() {
	ip netns exec "$NAT" "$PY" - <<'EOF'
import socket, struct, sys
NETLINK_NETFILTER = 12
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
s.bind((0, 0))
typ = (1 << 8) | 2          # NFNL_SUBSYS_CTNETLINK, IPCTNL_MSG_CT_DELETE
nfgen = struct.pack("=BBH", socket.AF_INET, 0, 0)
hdr = struct.pack("=LHHLL", 16 + len(nfgen), typ, 0x1 | 0x4, 1, 0)   # NLM_F_REQUEST | NLM_F_ACK
s.send(hdr + nfgen)
ack = s.recv(4096)
err = struct.unpack("=i", ack[16:20])[0]
if err:
    print("conntrack flush: error %d" % -err)
    sys.exit(1)
EOF
}

# mb_nat_mappings: the NAT box's UDP mappings towards the gateway, "orig_sport -> nat_port" per line
# (from /proc/net/nf_conntrack when the kernel has it; empty otherwise).
mb_nat_mappings() {
	ip netns exec "$NAT" cat /proc/net/nf_conntrack 2>/dev/null | awk -v gw="$GW_ADDR" -v rw="$RW_WWAN" '
		/udp/ && index($0, "src=" rw " dst=" gw " ") {
			n = 0
			for (i = 1; i <= NF; i++) if ($i ~ /^(sport|dport)=/) p[++n] = substr($i, index($i, "=") + 1)
			print p[1] " -> " p[4]
		}'
}

# mb_uplinks MODE: rw's uplinks from scratch. MODE: both (wlan0 + wwan0, wlan0 preferred),
# wlan (wlan0 only), wwan (wwan0 only, behind the NAT), v6 (wlan0 with IPv4 and IPv6, wwan0 none),
# none (no address at all).
mb_uplinks() {
	local m=$1 cmds="" w4=0 w6=0 ww=0
	case $m in
	both) w4=1; ww=1 ;;
	wlan) w4=1 ;;
	wwan) ww=1 ;;
	v6) w4=1; w6=1 ;;
	none) ;;
	*) echo "  mb_uplinks: unknown mode $m"; return 1 ;;
	esac
	ip -n "$RW" -4 addr flush dev wlan0
	ip -n "$RW" -4 addr flush dev wwan0
	ip -n "$RW" -6 addr flush dev wlan0 scope global
	ip -n "$RW" -6 addr flush dev wwan0 scope global
	ip -n "$RW" -4 route flush exact 0.0.0.0/0 2>/dev/null
	ip -n "$RW" -6 route flush exact ::/0 2>/dev/null
	[ $w4 = 1 ] && cmds+="addr add $RW_WLAN/24 dev wlan0
route add default via $AP_ADDR dev wlan0 metric 100
"
	[ $ww = 1 ] && cmds+="addr add $RW_WWAN/24 dev wwan0
route add default via $BS_ADDR dev wwan0 metric 200
"
	[ $w6 = 1 ] && cmds+="addr add $RW_WLAN6/64 dev wlan0 nodad
route add ::/0 via $AP_ADDR6 dev wlan0 metric 100
"
	[ -n "$cmds" ] || return 0
	_pretty rw "ip -batch: $(tr '\n' ';' <<<"$cmds")"
	ip -n "$RW" -batch - <<<"$cmds"
}

# The source address rw's kernel picks towards the gateway now (plain route lookup).
mb_rw_src() { ip -n "$RW" route get "${1:-$GW_ADDR}" 2>/dev/null | grep -o 'src [^ ]*' | cut -d' ' -f2; }

# ---- the gateway ---------------------------------------------------------------------------

# mb_gw_conf MOBIKE [LOCAL_ADDRS]: the gateway's swanctl.conf (connection "rw", PSK, pool,
# dpd_delay 30s as in testbed.md; mobike yes|no).
mb_gw_conf() {
	local d=$RUN/gw/swanctl
	mkdir -p "$d"
	_sw_dirs "$d"
	cat >"$d/swanctl.conf" <<EOF
connections {
  rw {
    version = 2
    local_addrs = ${2:-$GW_ADDR}
    remote_addrs = %any
    proposals = $IKE
    mobike = $1
    dpd_delay = 30s
    pools = rw_pool
    local {
      auth = psk
      id = $GW_ID
    }
    remote {
      auth = psk
      id = $RW_ID
    }
    children {
      rw {
        local_ts = $LAN_NET
        esp_proposals = $ESP
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
  ike-rw {
    id-1 = $RW_ID
    id-2 = $GW_ID
    secret = 0x$GW_PSK
  }
}
EOF
}

# mb_gateway MOBIKE [LOCAL_ADDRS]: a fresh gateway charon (any previous one stopped; its log kept
# as gw.charon.log.N).
MB_GW_RUNS=0
mb_gateway() {
	charon_stop gw
	mb_gw_log_rotate
	mb_gw_conf "$@"
	charon_start gw "$GW" && gw_load
}
mb_gw_log_rotate() {
	if [ -s "$RUN/gw.charon.log" ]; then
		MB_GW_RUNS=$((MB_GW_RUNS + 1))
		mv "$RUN/gw.charon.log" "$RUN/gw.charon.log.$MB_GW_RUNS"
	fi
}

# mb_gw_crash_restart: SIGKILL the gateway's charon (no DELETE, SAs forgotten), then start it again
# at once and load the same config. MB_KILL_MS = the time of the kill (ms since the epoch).
mb_gw_crash_restart() {
	local pid=${CHARON_PID[gw]:-}
	[ -n "$pid" ] || return 1
	now_ms
	MB_KILL_MS=$NOW_MS
	# (stderr: bash's "Killed" job notice)
	{
		kill -KILL "$pid"
		wait_exit "$pid" 2
	} 2>/dev/null
	unset "CHARON_PID[gw]"
	rm -f "$RUN/gw.vici"
	mb_gw_log_rotate
	charon_start gw "$GW" && gw_load
}

# mb_gw_sas: the gateway's SAs in one line each: "IKE <spi_i> <spi_r> <state> <remote addr[port]>" and
# "CHILD <spi_in> <spi_out> <state>" (spi_in = the gateway's inbound = kite's outbound).
mb_gw_sas() {
	gw_list_sas 2>/dev/null | awk '
		/^[^ ].*IKEv2/ { st = $3; sub(/,$/, "", st); si = $5; sr = $6; sub(/_i\*?$/, "", si); sub(/_r\*?$/, "", sr); ike = 1; next }
		/^  remote / && ike { print "IKE", si, sr, st, $NF; ike = 0; next }
		/^  [^ ]+: #[0-9]+, reqid/ { cst = $5; sub(/,$/, "", cst); next }
		/^    in  / { cin = $2; sub(/,$/, "", cin); next }
		/^    out / { co = $2; sub(/,$/, "", co); print "CHILD", cin, co, cst; next }'
}
# mb_gw_ike_spis: "spi_i spi_r" of the gateway's established IKE_SAs, one a line.
mb_gw_ike_spis() { mb_gw_sas | awk '$1 == "IKE" && $4 == "ESTABLISHED" { print $2, $3 }'; }
mb_gw_child_spis() { mb_gw_sas | awk '$1 == "CHILD" { print $2, $3, $4 }'; }

# ---- kite ----------------------------------------------------------------------------------

# mb_kite_copy: run a private copy of ./kite (other work may rebuild it meanwhile).
mb_kite_copy() {
	if ! cp "$KITE" "$RUN/kite" || ! "$RUN/kite" --version >/dev/null 2>&1; then
		fail "$T_NAME" "cannot copy and run $KITE"
		exit 1
	fi
	KITE=$RUN/kite
}

# mb_kite_up CONF [SECONDS]: kite in the foreground (-v) in rw; 0 once established.
mb_kite_up() {
	kite_start "$1" "$KITE_NAME"
	kite_wait_established "${2:-10}"
}

# mb_kite_status: `kite status --json` into KS_JSON, and its fields into KS_* (empty when kite
# does not answer): KS_STATE KS_SPI_I KS_SPI_R KS_CIN KS_COUT KS_LOCAL KS_UPDATES KS_RECONNECTS
# KS_EVENT KS_GW KS_MOBIKE (yes/no: the gateway supports MOBIKE).
mb_kite_status() {
	local v
	KS_STATE="" KS_SPI_I="" KS_SPI_R="" KS_CIN="" KS_COUT="" KS_LOCAL="" KS_UPDATES="" KS_RECONNECTS="" KS_EVENT="" KS_GW="" KS_MOBIKE=""
	KS_JSON=$(timeout 5 "$KITE" -c "$CONF" status "$KITE_NAME" --json 2>&1) || return 1
	v=$("$PY" -c '
import json, sys
j = json.loads(sys.argv[1])
f = [j["state"], j["ike"]["spi_i"], j["ike"]["spi_r"], j["child"]["spi_in"], j["child"]["spi_out"],
     j["local"], str(j["mobike"]["updates"]), str(j["reconnects"]), j["gateway"],
     "yes" if j["mobike"]["enabled"] else "no"]
print("\t".join(x if x else "-" for x in f) + "\t" + (j.get("last_event") or "-"))' "$KS_JSON" 2>/dev/null) || return 1
	IFS=$'\t' read -r KS_STATE KS_SPI_I KS_SPI_R KS_CIN KS_COUT KS_LOCAL KS_UPDATES KS_RECONNECTS KS_GW KS_MOBIKE KS_EVENT <<<"$v"
}
mb_kite_state_is() { mb_kite_status && [ "$KS_STATE" = "$1" ]; }

# ---- the prober ----------------------------------------------------------------------------
#
# iputils ping cannot keep 10 ms: with -i 0.01 it sends every ~16 ms (blocking receive above its
# 10 ms minimum), with -i 0.0099 every 9 ms. So the prober is a small Python program (written
# into the run directory; /usr/bin/python3, testbed.md gotcha 8) that sends an ICMP echo request
# every INTERVAL ms on an exact schedule from a raw socket and logs, in epoch milliseconds:
#   "S seq t" per request, "R seq t" per reply (its own identifier only), "E t" when it stops.
# It prints "READY" once the socket is open.

_prober_write() {
	cat >"$RUN/prober.py" <<'PYEOF'
import os, select, signal, socket, struct, sys, time
dst, interval = sys.argv[1], float(sys.argv[2]) / 1000.0
out = sys.stdout
def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return ~s & 0xffff
ident = os.getpid() & 0xffff
sk = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
sk.setblocking(False)
stop = []
signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
signal.signal(signal.SIGINT, lambda *a: stop.append(1))
out.write("READY %s %d\n" % (dst, ident)); out.flush()
seq = 0
nxt = time.monotonic()
pad = b"kite-mobike-probe-" + b"." * 38
while not stop:
    now = time.monotonic()
    if now >= nxt:
        seq += 1
        s16 = seq & 0xffff
        h = struct.pack("!BBHHH", 8, 0, 0, ident, s16) + pad
        h = struct.pack("!BBHHH", 8, 0, csum(h), ident, s16) + pad
        t = time.time()
        try:
            sk.sendto(h, (dst, 0))
            out.write("S %d %.3f\n" % (seq, t * 1000))
        except OSError as e:
            out.write("S %d %.3f err %d\n" % (seq, t * 1000, e.errno))
        nxt += interval
        if nxt < now:
            nxt = now + interval
        continue
    try:
        r, _, _ = select.select([sk], [], [], nxt - now)
    except InterruptedError:
        continue
    if not r:
        continue
    while True:
        try:
            pkt = sk.recv(2048)
        except (BlockingIOError, InterruptedError):
            break
        t = time.time()
        ihl = (pkt[0] & 0x0f) * 4
        if len(pkt) < ihl + 8:
            continue
        typ, _, _, pid, ps = struct.unpack("!BBHHH", pkt[ihl:ihl + 8])
        if typ == 0 and pid == ident:
            # the 16-bit sequence back to the running counter (replies are never 32768 late)
            full = seq - ((seq - ps) & 0xffff)
            out.write("R %d %.3f\n" % (full, t * 1000))
    out.flush()
out.write("E %.3f\n" % (time.time() * 1000))
out.flush()
PYEOF
}

# probe_start [DST]: the prober in rw towards DST (default the LAN host) every PROBE_MS (10) ms,
# output in PROBE_FILE; returns once the first reply is in (bounded: 5 s).
PROBE_PID=""
PROBE_N=0
PROBE_MS=${PROBE_MS:-10}
# shellcheck disable=SC2120
probe_start() {
	[ -f "$RUN/prober.py" ] || _prober_write
	PROBE_N=$((PROBE_N + 1))
	PROBE_FILE=$RUN/probe.$PROBE_N.txt
	ip netns exec "$RW" "$PY" -u "$RUN/prober.py" "${1:-$LAN_ADDR}" "$PROBE_MS" >"$PROBE_FILE" 2>&1 &
	PROBE_PID=$!
	bg_track "$PROBE_PID"
	slowwait 5 grep -q "^R " "$PROBE_FILE"
}
# probe_stop: SIGTERM (the prober writes its end time), bounded wait.
probe_stop() {
	[ -n "$PROBE_PID" ] || return 0
	now_ms
	PROBE_END_MS=$NOW_MS
	kill -TERM "$PROBE_PID" 2>/dev/null
	wait_exit "$PROBE_PID" 3 || stop_pid "$PROBE_PID" prober
	PROBE_PID=""
}

# probe_stats FILE [EVENT_MS [END_MS]]: figures of a probe run as shell assignments (eval them).
# Requests sent in the last 200 ms before the end (END_MS, else the prober's "E" time) are in
# flight and not counted.
#   P_TX      requests sent;  P_RX  of these, answered
#   P_LOST    requests without a reply
#   P_GAP     largest gap between consecutive replies (ms), including the one from the last reply
#             to the end; P_GAP_AT its start (epoch ms)
#   P_RESUME  first reply to a request sent after EVENT_MS, minus EVENT_MS (ms); "" if none
#   P_FIRST_SENT  send time of that request minus EVENT_MS (ms)
#   P_TAIL    requests sent in the last second (before the in-flight 200 ms) without a reply
#   P_LAST    time of the last reply (epoch ms)
probe_stats() {
	awk -v ev="${2:-0}" -v endt="${3:-0}" '
		$1 == "S" { sent[$2] = $3 + 0; if ($2 + 0 > hi) hi = $2 + 0; next }
		$1 == "R" {
			s = $2; t = $3 + 0
			if (!(s in sent) || (s in got)) next
			got[s] = t; rx++
			if (prev && t - prev > gap) { gap = t - prev; gapat = prev }
			prev = t; last = t
			if (ev > 0 && sent[s] > ev && (!res || t - ev < res)) { res = t - ev; fs = sent[s] - ev }
			next
		}
		$1 == "E" { if (!endt) endt = $2 + 0 }
		END {
			if (!endt) endt = last
			if (last && endt - last > gap) { gap = endt - last; gapat = last }
			tx = 0; lost = 0; tail = 0; rx = 0
			for (s = 1; s <= hi; s++) {
				if (!(s in sent) || sent[s] > endt - 200) continue
				tx++
				if (s in got) rx++
				else { lost++; if (sent[s] > endt - 1200) tail++ }
			}
			printf "P_TX=%d P_RX=%d P_LOST=%d P_GAP=%.1f P_GAP_AT=%.0f P_TAIL=%d P_LAST=%.0f P_RESUME=%s P_FIRST_SENT=%s\n",
				tx, rx, lost, gap, gapat, tail, last, res ? sprintf("%.1f", res) : "\"\"", res ? sprintf("%.1f", fs) : "\"\""
		}' "$1"
}

# probe_resumed EVENT_MS: a reply to a request sent after EVENT_MS is in the probe's file.
probe_resumed() {
	eval "$(probe_stats "$PROBE_FILE" "$1")"
	[ -n "$P_RESUME" ]
}

# ---- leak captures -------------------------------------------------------------------------

# leak_start: on each rw uplink, a tcpdump for tunnelled destinations outside the tunnel
# ("ip and net 10.1.0.0/24": ESP-in-UDP goes to the gateway and does not match) and a control
# capture of the traffic to the gateway (it proves that the capture saw the uplink's packets).
CAP_PIDS=()
CAP_N=0
leak_start() {
	local ifc
	CAP_N=$((CAP_N + 1))
	CAP_PIDS=()
	for ifc in $UPLINKS; do
		_cap "$RUN/leak.$CAP_N.$ifc" "$ifc" ip and net "$LAN_NET" || return 1
		_cap "$RUN/ctl.$CAP_N.$ifc" "$ifc" udp and \( host "$GW_ADDR" or host "$GW_ADDR6" \) || return 1
	done
}
_cap() {
	local f=$1 ifc=$2 pid
	shift 2
	rm -f "$f" "$f.err"
	# -p: no promiscuous mode, so starting a capture changes no link flags (kite's netmon would see
	# a link event and check the path)
	ip netns exec "$RW" tcpdump -p -l -n -i "$ifc" "$@" >"$f" 2>"$f.err" &
	pid=$!
	bg_track "$pid"
	CAP_PIDS+=("$pid")
	slowwait 5 grep -q "listening on" "$f.err" || { echo "  tcpdump on $ifc did not start: $(head -c 300 "$f.err")"; return 1; }
}
# leak_stop: stop the captures; LEAKS = plaintext packets seen, LEAK_LINES = the first of them,
# CTL_PKTS = packets to/from the gateway per uplink ("wlan0=N wwan0=M").
leak_stop() {
	local pid ifc n
	for pid in "${CAP_PIDS[@]}"; do stop_pid "$pid" tcpdump; done
	CAP_PIDS=()
	LEAKS=0 LEAK_LINES="" CTL_PKTS=""
	for ifc in $UPLINKS; do
		n=$(grep -c . "$RUN/leak.$CAP_N.$ifc" 2>/dev/null)
		LEAKS=$((LEAKS + ${n:-0}))
		[ "${n:-0}" -gt 0 ] && LEAK_LINES+="$ifc: $(head -n 3 "$RUN/leak.$CAP_N.$ifc" | tr '\n' ';') "
		CTL_PKTS+="$ifc=$(grep -c . "$RUN/ctl.$CAP_N.$ifc" 2>/dev/null) "
	done
}

# ---- address events (ip -ts monitor, testbed.md gotcha 8) ------------------------------------

# mb_mon_start: `ip -ts monitor address` in rw for the whole run, into MON_FILE.
mb_mon_start() {
	MON_FILE=$RUN/addr-monitor.txt
	ip netns exec "$RW" ip -ts monitor address >"$MON_FILE" 2>&1 &
	bg_track $!
	# a throw-away address on lo proves that the monitor listens
	local i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		ip -n "$RW" addr add 127.0.0.99/8 dev lo 2>/dev/null
		ip -n "$RW" addr del 127.0.0.99/8 dev lo 2>/dev/null
		sleep 0.1
		grep -q 127.0.0.99 "$MON_FILE" && return 0
	done
	echo "  setup: ip monitor in rw saw nothing"
	return 1
}
# mb_mon_mark: remember where the monitor's file ends now.
mb_mon_mark() { MON_MARK=$(wc -l <"$MON_FILE"); }
# mb_mon_time REGEX: time (epoch ms) of the first event line after the mark matching REGEX
# (ERE, against the whole line; "Deleted" starts removals). Empty when there is none yet.
mb_mon_time() {
	local line ts
	line=$(tail -n +"$((MON_MARK + 1))" "$MON_FILE" | grep -E -m1 "$1") || return 1
	ts=${line#\[}
	ts=${ts%%\]*}
	date -d "$ts" +%s%3N
}
# mb_mon_wait REGEX [SECONDS=3]: bounded wait for such an event; EV_MS = its time.
mb_mon_wait() {
	EV_MS=""
	slowwait "${2:-3}" mb_mon_time "$1" || return 1
	EV_MS=$(mb_mon_time "$1")
	[ -n "$EV_MS" ]
}

# Regexes for address events on rw (the monitor prints "[ts] [Deleted ]N: IF    inet ADDR/LEN ...").
ev_del() { echo "^\[[^]]*\] Deleted [0-9]+: $1 +inet6? ${2//./\\.}/"; }
ev_add() { echo "^\[[^]]*\] [0-9]+: $1 +inet6? ${2//./\\.}/"; }

# ---- small things --------------------------------------------------------------------------

median() { sort -n | awk '{ a[NR] = $1 } END { if (NR == 0) { print "-"; exit } if (NR % 2) print a[(NR + 1) / 2]; else printf "%.1f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# ---- scenario frame (t_mobike.sh, t_reconnect.sh) ---------------------------------------------
#
#   sc_begin NAME UPLINKS GW_MOBIKE GW_LOCAL_ADDRS [kite key=value ...]
#       rw's uplinks (mb_uplinks UPLINKS), a fresh gateway, kite connected (foreground, -v), its
#       and the gateway's SPIs recorded (K0_*, G0_*), the function named by SC_BEFORE_PROBE run
#       if set (it prints its own FAIL), leak captures and the 10 ms prober running, the address
#       monitor marked. Returns 1 after printing FAIL when any of that failed.
#   ... the scenario acts, sets EV_MS (the event that traffic must recover from) ...
#   sc_wait_resume SECONDS: bounded wait for a reply to a request sent after EV_MS, then
#       SC_OBSERVE (default 1.5) seconds more of probing, so that a tunnel that breaks again right
#       after (e.g. by a CHILD SA rekey) is seen.
#   sc_collect: stops prober and captures, reads kite's and the gateway's state (P_*, KS_*, LEAKS).
#   sc_check_common same|new: the acceptance checks of issue #5 into SC_ERRS: pings resumed and are
#       stable at the end, no plaintext packet for 10.1.0.0/24 on any uplink (and the control
#       capture saw traffic), kite established; IKE SPIs unchanged and no reconnect (same) or new
#       SPIs after a reconnect (new); the gateway holds the SA kite reports.
#   sc_verdict: PASS or FAIL with every reason (logs shown on failure); kite stopped.

SC_OBSERVE=${SC_OBSERVE:-1.5}
SC=""
SC_ERRS=()
CONF=""

sc_begin() {
	SC=$1
	local mode=$2 mob=$3 la=$4
	shift 4
	SC_ERRS=()
	SC_NOTES=()
	EV_MS=""
	info "--- $SC"
	[ -n "$KITE_PID" ] && kite_stop
	CONF=$RUN/vpn.ini
	if ! mb_uplinks "$mode"; then
		fail "$SC" "could not set up rw's uplinks ($mode)"
		return 1
	fi
	if ! mb_gateway "$mob" "$la"; then
		fail "$SC" "the strongSwan gateway did not start"
		show_logs
		return 1
	fi
	kite_conf "$CONF" "$KITE_NAME" "ike=$IKE" "esp=$ESP" "$@"
	if ! mb_kite_up "$CONF" 10; then
		fail "$SC" "kite did not connect: $(kite_last_line)"
		show_logs
		kite_stop
		return 1
	fi
	if ! mb_kite_status; then
		fail "$SC" "kite status --json failed: $KS_JSON"
		kite_stop
		return 1
	fi
	K0_SPI="$KS_SPI_I/$KS_SPI_R" K0_CHILD="$KS_CIN/$KS_COUT" K0_LOCAL=$KS_LOCAL
	K0_UPD=$KS_UPDATES K0_REC=$KS_RECONNECTS
	G0_IKE=$(mb_gw_ike_spis | tr '\n' ';')
	G0_CHILD=$(mb_gw_child_spis | tr '\n' ';')
	# SC_BEFORE_PROBE: a function the scenario wants run after connecting, before the prober starts
	if [ -n "${SC_BEFORE_PROBE:-}" ] && ! "$SC_BEFORE_PROBE"; then
		SC_BEFORE_PROBE=""
		kite_stop
		return 1
	fi
	SC_BEFORE_PROBE=""
	if ! leak_start; then
		fail "$SC" "the captures did not start"
		kite_stop
		return 1
	fi
	if ! probe_start; then
		fail "$SC" "no ping reply through the tunnel before the event (kite local $KS_LOCAL)"
		probe_stop
		leak_stop
		show_logs
		kite_stop
		return 1
	fi
	sleep 0.3
	mb_mon_mark
	return 0
}

sc_wait_resume() {
	SC_RESUMED=0
	if [ -n "$EV_MS" ] && slowwait "$1" probe_resumed "$EV_MS"; then
		SC_RESUMED=1
		sleep "$SC_OBSERVE"
	fi
}

sc_collect() {
	probe_stop
	leak_stop
	eval "$(probe_stats "$PROBE_FILE" "${EV_MS:-0}" "$PROBE_END_MS")"
	mb_kite_status || KS_STATE="(kite status failed: $KS_JSON)"
	G1_IKE_L=$(mb_gw_ike_spis)
	G1_IKE=$(tr '\n' ';' <<<"$G1_IKE_L")
	G1_CHILD=$(mb_gw_child_spis | tr '\n' ';')
}

sc_check_common() {
	local want=$1 k1="$KS_SPI_I/$KS_SPI_R"
	if [ -z "$P_RESUME" ]; then
		SC_ERRS+=("pings did not resume (no reply to a request sent after the event; $P_RX of $P_TX answered in all)")
	elif [ "$P_TAIL" -gt 0 ]; then
		SC_ERRS+=("pings resumed after $P_RESUME ms but $P_TAIL requests of the last second went unanswered (not stable)")
	fi
	if [ "$LEAKS" -gt 0 ]; then
		SC_ERRS+=("$LEAKS plaintext packet(s) for $LAN_NET on the uplinks: $LEAK_LINES")
	fi
	case " $CTL_PKTS" in
	*" wlan0=0 wwan0=0 "*) SC_ERRS+=("the control captures saw no packet to the gateway on any uplink (capture broken?)") ;;
	esac
	[ "$KS_STATE" = established ] || SC_ERRS+=("kite's state at the end is '$KS_STATE' (last event: $KS_EVENT)")
	if [ "$want" = same ]; then
		[ "$k1" = "$K0_SPI" ] || SC_ERRS+=("IKE SPIs changed: $K0_SPI -> $k1")
		[ "$KS_RECONNECTS" = "$K0_REC" ] || SC_ERRS+=("kite reconnected ($K0_REC -> $KS_RECONNECTS reconnects)")
	else
		{ [ "$k1" != "$K0_SPI" ] && [ "$KS_SPI_I" != "-" ]; } || SC_ERRS+=("IKE SPIs did not change ($K0_SPI -> $k1): no new IKE SA")
		[ "${KS_RECONNECTS:-0}" -gt "${K0_REC:-0}" ] 2>/dev/null || SC_ERRS+=("kite's reconnect counter did not grow ($K0_REC -> $KS_RECONNECTS)")
	fi
	if [ -n "$KS_SPI_I" ] && [ "$KS_SPI_I" != "-" ] && ! grep -qx "$KS_SPI_I $KS_SPI_R" <<<"$G1_IKE_L"; then
		SC_ERRS+=("the gateway has no established IKE_SA $KS_SPI_I/$KS_SPI_R (it has: ${G1_IKE:-none})")
	fi
}

# sc_report: one info line with the figures of the run.
sc_report() {
	info "resume ${P_RESUME:-never} ms after the event; $P_RX/$P_TX replies, $P_LOST lost, largest gap $P_GAP ms; leaks $LEAKS; to-gateway packets: $CTL_PKTS"
	info "kite: $KS_STATE, local $K0_LOCAL -> $KS_LOCAL, gateway $KS_GW, IKE $K0_SPI -> $KS_SPI_I/$KS_SPI_R, CHILD $K0_CHILD -> $KS_CIN/$KS_COUT, updates $K0_UPD -> $KS_UPDATES, reconnects $K0_REC -> $KS_RECONNECTS; last event: $KS_EVENT"
	info "gateway: IKE ${G0_IKE:-none} -> ${G1_IKE:-none}; CHILD (in out state) ${G0_CHILD:-none} -> ${G1_CHILD:-none}"
}

# The known cause of lost traffic after an address update with a kernel-libipsec gateway
# (testbed.md gotcha 4): the gateway rekeys the CHILD_SA and kite refuses the rekey.
sc_rekey_note() {
	if grep -q "peer seems to not support CHILD_SA rekeying" "$RUN/gw.charon.log" 2>/dev/null; then
		echo "the gateway (kernel-libipsec cannot update SAs) rekeyed the CHILD_SA after the address update, kite answered NO_ADDITIONAL_SAS, the gateway logged 'peer seems to not support CHILD_SA rekeying' / '$(grep -o 'initiator did not reauthenticate[^,]*' "$RUN/gw.charon.log" | head -n 1)' and kept sending ESP to the old address: needs kite's CHILD SA rekey responder"
	fi
}

sc_verdict() {
	local note
	sc_report
	if [ ${#SC_ERRS[@]} = 0 ]; then
		pass "$SC"
	else
		note=$(sc_rekey_note)
		[ -n "$note" ] && SC_ERRS+=("cause: $note")
		fail "$SC" "$(IFS=';'; echo "${SC_ERRS[*]}")"
		show_logs
	fi
	kite_stop
}

# sc_kite_log_has REGEX: kite's log of this scenario has a line matching REGEX (ERE).
sc_kite_log_has() { grep -Eq -- "$1" "$KITE_LOG" 2>/dev/null; }
# sc_kite_log_time REGEX: the HH:MM:SS.mmm stamp of the first such line.
sc_kite_log_time() { grep -E -m1 -- "$1" "$KITE_LOG" 2>/dev/null | awk '{ print $1 }'; }

# sleep_until MS: sleep until the epoch time MS (ms); at once if it has passed.
sleep_until() {
	now_ms
	[ "$1" -gt "$NOW_MS" ] || return 0
	sleep "$(awk -v r=$(($1 - NOW_MS)) 'BEGIN { printf "%.3f", r / 1000 }')"
}

# run_cases NAME...: run the named case functions (case_NAME), or only those in CASES (env, space
# separated) when it is set.
run_cases() {
	local c
	for c in "$@"; do
		if [ -n "${CASES:-}" ] && [[ " $CASES " != *" $c "* ]]; then
			continue
		fi
		"case_$c"
	done
}

# ---- a strongSwan client in rw (benchmarks) ---------------------------------------------------

# mb_sw_client_setup: a strongSwan client charon (role sw-rw) in rw with connection/child "sw" as
# testbed.md's road warrior: mobike = yes, dpd_delay = 2s, keyingtries = 0, dpd_action and
# close_action = restart, and the tuned retransmissions (1 s x 1.4, 3 tries: gives up after 7.1 s).
mb_sw_client_setup() {
	local role=sw-rw d
	d=$RUN/$role/swanctl
	mkdir -p "$d"
	_sw_dirs "$d"
	cat >"$d/swanctl.conf" <<EOF2
connections {
  sw {
    version = 2
    remote_addrs = $GW_ADDR
    vips = 0.0.0.0
    proposals = $IKE
    mobike = yes
    dpd_delay = 2s
    keyingtries = 0
    local {
      auth = psk
      id = $RW_ID
    }
    remote {
      auth = psk
      id = $GW_ID
    }
    children {
      sw {
        remote_ts = $LAN_NET
        esp_proposals = $ESP
        dpd_action = restart
        close_action = restart
      }
    }
  }
}
secrets {
  ike-gw {
    id-1 = $RW_ID
    id-2 = $GW_ID
    secret = 0x$GW_PSK
  }
}
EOF2
	charon_stop "$role"
	charon_start "$role" "$RW" "  retransmit_timeout = 1.0
  retransmit_base = 1.4
  retransmit_tries = 3" || return 1
	sw "$role" --load-all --file "$d/swanctl.conf" >"$RUN/$role.load.out" 2>&1 || {
		show_tail "$RUN/$role.load.out"
		return 1
	}
}
mb_sw_up() { sw sw-rw --initiate --child sw --timeout 15 >"$RUN/sw-rw.initiate.out" 2>&1; }
mb_sw_down() { sw sw-rw --terminate --ike sw --timeout 5 >/dev/null 2>&1; }
