#!/bin/bash
# make bench: kite and a strongSwan client (charon + kernel-libipsec) against the same strongSwan
# gateway, in the same namespaces, in one run; printed side by side as ratios (kite / strongSwan).
# Not a test: nothing here passes or fails; it prints figures. Topology: tests/interop/lib.sh.
#
#   RUNS=10      connect runs per client
#   SECS=10      seconds per throughput run
#   RATE=200M    offered rate for the fixed-rate UDP run (the libipsec gateway caps the total)
#
# Figures:
#   connect      command start -> first ping reply through the tunnel (median of RUNS), and
#                IKE_SA_INIT sent -> IKE_AUTH response received, from a capture (µs timestamps)
#   cpu/GB       client CPU seconds (utime+stime of kite's daemon / of the client charon) per GB
#                moved, TCP and UDP at RATE (the gateway caps absolute throughput, so this is the
#                fair comparison)
#   max rate     highest offered UDP rate with < 1 % loss (sweep)
#   kite alone   kite's own data-plane cost per packet, from its CPU time in the UDP flood,
#                expressed as the rate one core would sustain (compare perf.md 5b)
#   memory       kite's RSS and thread count with the tunnel up
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/../interop/lib.sh"
T_NAME=bench
RUNS=${RUNS:-10}
SECS=${SECS:-10}
RATE=${RATE:-200M}
IKE=aes128gcm16-prfsha256-x25519
ESP=aes128gcm16

[ "$(id -u)" = 0 ] || { echo "bench: needs root (network namespaces)"; exit 3; }
require_tools
require_kite
command -v iperf3 >/dev/null || { echo "bench: iperf3 missing (make deps)"; exit 1; }
setup
start_gateway "$IKE" "$ESP" || { echo "bench: gateway did not start"; exit 1; }
CONF=$RUN/vpn.ini
kite_conf "$CONF" "$KITE_NAME" "ike=$IKE" "esp=$ESP"
export KITE_LOG_FILE=$RUN/kite.log
KITE_LOG=$KITE_LOG_FILE

median() { sort -n | awk '{a[NR]=$1} END {if (NR==0) {print "nan"; exit} if (NR%2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b+0 == 0 || a == "nan" || b == "nan") print "n/a"; else printf "%.2f", a/b }'; }

kite_pid() {
	local p
	for p in $(ip netns pids "$RW"); do
		[ "$(cat /proc/"$p"/comm 2>/dev/null)" = kite ] && { echo "$p"; return 0; }
	done
	return 1
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# A prober sending an ICMP echo to the LAN host every 2 ms from before the command starts (raw
# socket: send errors while there is no route are ignored, unlike ping); the first reply's wall
# time minus the command's start is the connect time (testbed.md "Measurement method").
cat >"$RUN/prober.py" <<'PYEOF'
import os, select, signal, socket, struct, sys, time
dst, interval = sys.argv[1], float(sys.argv[2]) / 1000.0
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return ~s & 0xffff
ident = os.getpid() & 0xffff
sk = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
sk.setblocking(False)
stop = []
signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
print("READY", flush=True)
seq, nxt, pad = 0, time.monotonic(), b"kite-bench-probe" * 2
deadline = time.monotonic() + 20
while not stop and time.monotonic() < deadline:
    now = time.monotonic()
    if now >= nxt:
        seq = (seq + 1) & 0xffff
        h = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + pad
        h = struct.pack("!BBHHH", 8, 0, csum(h), ident, seq) + pad
        try:
            sk.sendto(h, (dst, 0))
        except OSError:
            pass
        nxt = max(nxt + interval, now)
        continue
    r, _, _ = select.select([sk], [], [], nxt - now)
    while r:
        try:
            pkt = sk.recv(2048)
        except (BlockingIOError, InterruptedError):
            break
        ihl = (pkt[0] & 0x0f) * 4
        if len(pkt) >= ihl + 8 and pkt[ihl] == 0 and struct.unpack("!H", pkt[ihl + 4:ihl + 6])[0] == ident:
            print("R %.3f" % (time.time() * 1000), flush=True)
            sys.exit(0)
PYEOF
prober_start() {
	ip netns exec "$RW" /usr/bin/python3 -u "$RUN/prober.py" "$LAN_ADDR" 2 >"$1" 2>&1 &
	PROBER=$!
	slowwait 5 grep -q READY "$1"
}
prober_first_ms() {	# FILE T0_MS: ms from T0 to the first reply (waits up to 5 s)
	local i t
	for i in $(seq 1 100); do
		t=$(awk '$1 == "R" { print $2; exit }' "$1")
		[ -n "$t" ] && { awk -v t="$t" -v t0="$2" 'BEGIN { printf "%.1f\n", t - t0 }'; return 0; }
		sleep 0.05
	done
	echo nan
}
prober_stop() { kill "$PROBER" 2>/dev/null; wait "$PROBER" 2>/dev/null; }

# ---- connect time --------------------------------------------------------------------------
k_conn=() s_conn=() k_ike=()
for i in $(seq 1 "$RUNS"); do
	ip netns exec "$RW" tcpdump -i eth0 -nn -tt -l udp >"$RUN/cap.$i" 2>/dev/null &
	cap=$!
	prober_start "$RUN/probe.k.$i"
	now_ms; t0=$NOW_MS
	ip netns exec "$RW" "$KITE" -c "$CONF" connect "$KITE_NAME" >/dev/null 2>&1 || { echo "bench: kite connect failed"; show_logs; exit 1; }
	k_conn+=("$(prober_first_ms "$RUN/probe.k.$i" "$t0")")
	prober_stop
	ip netns exec "$RW" "$KITE" disconnect "$KITE_NAME" >/dev/null 2>&1
	sleep 0.2
	kill "$cap" 2>/dev/null; wait "$cap" 2>/dev/null
	# first IKE_SA_INIT out (to :500) -> first packet back on 4500 that follows the IKE_AUTH request
	k_ike+=("$(awk '/> 198.51.100.1.500:/ && !t0 {t0=$1} /198.51.100.1.4500 >/ && t0 && !t1 {t1=$1} END {if (t0 && t1) printf "%.3f\n", (t1-t0)*1000}' "$RUN/cap.$i")")
	sleep 0.2
done
sw_client_setup rw "$IKE" "$ESP" none >/dev/null || { echo "bench: strongSwan client did not start"; exit 1; }
for i in $(seq 1 "$RUNS"); do
	prober_start "$RUN/probe.s.$i"
	now_ms; t0=$NOW_MS
	sw sw-rw --initiate --child sw --timeout 15 >/dev/null 2>&1 || echo "bench: strongSwan initiate failed"
	s_conn+=("$(prober_first_ms "$RUN/probe.s.$i" "$t0")")
	prober_stop
	sw sw-rw --terminate --ike sw --timeout 5 >/dev/null 2>&1
	sleep 0.3
done
kc=$(printf '%s\n' "${k_conn[@]}" | median)
sc=$(printf '%s\n' "${s_conn[@]}" | median)
ki=$(printf '%s\n' "${k_ike[@]}" | grep -v '^$' | median)

# ---- throughput ------------------------------------------------------------------------------
ip netns exec "$LAN" iperf3 -s -D -1 >/dev/null 2>&1
iperf_srv() { ip netns exec "$LAN" iperf3 -s -1 >/dev/null 2>&1 & bg_track $!; sleep 0.3; }
# run_iperf PID ARGS...: prints "bytes cpu_seconds lost_percent" for the client process PID
run_iperf() {
	local pid=$1 c0 c1 out
	shift
	iperf_srv
	c0=$(cpu_ticks "$pid")
	out=$(ip netns exec "$RW" iperf3 -c "$LAN_ADDR" -J "$@" 2>/dev/null)
	c1=$(cpu_ticks "$pid")
	echo "$out" | python3 -c '
import json, sys
d = json.load(sys.stdin)
e = d["end"]
s = e.get("sum_received") or e.get("sum")
lost = e.get("sum", {}).get("lost_percent", 0.0)
print(s["bytes"], (int(sys.argv[1]) - int(sys.argv[2])) / float(sys.argv[3]), lost)
' "$c1" "$c0" "$(getconf CLK_TCK)" 2>/dev/null || echo "0 0 100"
}
cpu_per_gb() { awk -v b="$1" -v c="$2" 'BEGIN { if (b > 0) printf "%.2f", c / (b / 1e9); else print "nan" }'; }
mbps() { awk -v b="$1" -v s="$SECS" 'BEGIN { printf "%.0f", b * 8 / s / 1e6 }'; }
sweep() {	# PID: highest offered UDP rate with < 1 % loss
	local pid=$1 best=0 r res
	for r in 50 100 150 200 300 400 600 800 1000; do
		res=$(run_iperf "$pid" -u -b "${r}M" -l 1400 -t 3)
		awk -v l="$(echo "$res" | cut -d' ' -f3)" 'BEGIN { exit !(l < 1) }' || break
		best=$r
	done
	echo "$best"
}

# strongSwan client first (it is up already after the connect runs)
sw sw-rw --initiate --child sw --timeout 15 >/dev/null 2>&1
spid=${CHARON_PID[sw-rw]}
read -r s_tb s_tc _ <<<"$(run_iperf "$spid" -t "$SECS")"
read -r s_ub s_uc s_ul <<<"$(run_iperf "$spid" -u -b "$RATE" -l 1400 -t "$SECS")"
s_max=$(sweep "$spid")
sw sw-rw --terminate --ike sw --timeout 5 >/dev/null 2>&1
sw_client_stop rw

ip netns exec "$RW" "$KITE" -c "$CONF" connect "$KITE_NAME" >/dev/null 2>&1 || { echo "bench: kite connect failed"; exit 1; }
kpid=$(kite_pid)
read -r k_tb k_tc _ <<<"$(run_iperf "$kpid" -t "$SECS")"
read -r k_ub k_uc k_ul <<<"$(run_iperf "$kpid" -u -b "$RATE" -l 1400 -t "$SECS")"
k_max=$(sweep "$kpid")
# kite alone: the gateway's charon is stopped (SIGSTOP) so it takes no CPU and the ESP packets are
# dropped at its socket; an unlimited UDP flood into the tunnel then saturates kite's encap path.
pkts() { ip netns exec "$RW" "$KITE" status "$KITE_NAME" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["child"]["packets_out"])'; }
kill -STOP "${CHARON_PID[gw]}"
# a sink: ESP dropped at the gateway's ingress, so its receive path costs (almost) nothing
ip netns exec "$GW" nft add table netdev kitebench
ip netns exec "$GW" nft add chain netdev kitebench in '{ type filter hook ingress device eth0 priority -500; }'
ip netns exec "$GW" nft add rule netdev kitebench in udp dport 4500 drop
gcc -O2 -o "$RUN/udpflood" "$(dirname "$0")/udpflood.c" || { echo "bench: cannot build udpflood"; exit 1; }
ip netns exec "$RW" "$RUN/udpflood" "$LAN_ADDR" 9 1400 $((SECS + 2)) >/dev/null &
flood=$!
sleep 1
f0=$(pkts); c0=$(cpu_ticks "$kpid"); now_ms; w0=$NOW_MS
sleep "$SECS"
f1=$(pkts); c1=$(cpu_ticks "$kpid"); now_ms; w1=$NOW_MS
[ "${V:-0}" = 1 ] && echo "flood: packets $f0 -> $f1, ticks $c0 -> $c1"
wait "$flood" 2>/dev/null
ip netns exec "$GW" nft delete table netdev kitebench
kill -CONT "${CHARON_PID[gw]}"
rss=$(awk '/VmRSS/ {print $2}' "/proc/$kpid/status")
thr=$(awk '/Threads/ {print $2}' "/proc/$kpid/status")
ip netns exec "$RW" "$KITE" disconnect "$KITE_NAME" >/dev/null 2>&1
kalone=$(awk -v p=$((f1 - f0)) -v c=$((c1 - c0)) -v w=$((w1 - w0)) -v hz="$(getconf CLK_TCK)" 'BEGIN {
	if (c == 0 || p == 0) { print "n/a"; exit }
	us = c / hz / p * 1e6
	printf "%.0f kpps = %.2f Gbit/s at %.0f %% of a core; %.2f us/packet -> %.2f Gbit/s per core (1400 B)",
		p / w, p * 1400 * 8 / w / 1e6, c / hz / (w / 1000) * 100, us, 1400 * 8 / us / 1000 }')
printf '\n%-44s %14s %14s %8s\n' "figure" "kite" "strongSwan" "ratio"
printf '%-44s %14s %14s %8s\n' "connect: command -> first reply (ms, median)" "$kc" "$sc" "$(ratio "$kc" "$sc")"
printf '%-44s %14s %14s\n' "connect: IKE_SA_INIT -> IKE_AUTH reply (ms)" "$ki" "-"
printf '%-44s %14s %14s %8s\n' "TCP ${SECS}s: Mbit/s" "$(mbps "$k_tb")" "$(mbps "$s_tb")" "$(ratio "$(mbps "$k_tb")" "$(mbps "$s_tb")")"
printf '%-44s %14s %14s %8s\n' "TCP: client CPU s per GB" "$(cpu_per_gb "$k_tb" "$k_tc")" "$(cpu_per_gb "$s_tb" "$s_tc")" "$(ratio "$(cpu_per_gb "$k_tb" "$k_tc")" "$(cpu_per_gb "$s_tb" "$s_tc")")"
printf '%-44s %14s %14s %8s\n' "UDP at $RATE: client CPU s per GB" "$(cpu_per_gb "$k_ub" "$k_uc")" "$(cpu_per_gb "$s_ub" "$s_uc")" "$(ratio "$(cpu_per_gb "$k_ub" "$k_uc")" "$(cpu_per_gb "$s_ub" "$s_uc")")"
printf '%-44s %14s %14s\n' "UDP at $RATE: loss %" "$k_ul" "$s_ul"
printf '%-44s %14s %14s %8s\n' "UDP: highest rate with < 1 % loss (Mbit/s)" "$k_max" "$s_max" "$(ratio "$k_max" "$s_max")"
printf '%-44s %14s\n' "kite RSS (kB) / threads" "$rss / $thr"
printf '%-44s %s\n' "kite alone (UDP flood)" "$kalone"
printf 'connect runs (ms): kite %s; strongSwan %s\n' "${k_conn[*]}" "${s_conn[*]}"
if [ "${MOBIKE:-1}" = 1 ] && [ -f "$KITE_ROOT/tests/bench/bench_mobike.sh" ]; then env -u KITE_LOG_FILE bash "$KITE_ROOT/tests/bench/bench_mobike.sh"; fi
