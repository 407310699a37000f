#!/bin/bash
# t_route_dns: src/route.c and src/dns.c against the real kernel, through a small driver
# (tests/interop/route_drv.c, compiled here with ASan/UBSan from route.c, dns.c, log.c and
# libnl), in one namespace of their own. No gateway, no kite binary.
#
#   k<PID>-rd (the only namespace; nothing is added to the root namespace)
#   eth0 198.51.100.10/24, 2001:db8:1::10/64 ----veth---- eth1 (up, no address)
#   main: default via 198.51.100.1, default via 2001:db8:1::1 (added after the no-route lookups)
#   kt-rd<PID> TUN (made by the driver): 10.3.0.2/32, fd00:6b69::2/128, MTU 1400
#   kite's table T: default + 10.1.0.0/24 dev TUN; IPv6 unreachable default
#   rules (both families): P from all lookup main suppress_prefixlength 0
#                          P+1 not from all fwmark M lookup T
#   /etc/netns/k<PID>-rd/resolv.conf: ip netns exec bind-mounts it over /etc/resolv.conf,
#   so dns.c's in-place rewrite lands in this private copy (the driver also refuses to
#   touch a /etc/resolv.conf that is not that very file: same device and inode).
#
# Cases:
#   route/setup          rules, table, addresses, link as route.h describes them
#   route/lookup-none    route_lookup before the default routes exist: ENETUNREACH, both families
#   route/lookup-mark    route_lookup (fwmark) still leaves by eth0 for an off-link gateway,
#                        both families, while without the mark the kernel uses the TUN (IPv4)
#                        or kite's unreachable route (IPv6); the LAN stays on eth0
#   dns/apply            resolv.conf content (header, 3 nameservers, sanitised search line,
#                        options kept), backup saved 0644 and equal to the original
#   route/undo           after SIGTERM (route_close): rules, routes, addresses as before
#   dns/undo             resolv.conf byte-identical to the original, backup removed
#   route/undo-tun-gone  TUN closed before route_close: quiet, nothing left
#   crash/cleanup        kill -9 after setup leaves rules + unreachable route + DNS (plus
#                        three routes the test adds to table T via eth0 / blackhole);
#                        route_cleanup_stale + dns_cleanup_stale restore the pre-test state
#   crash/cleanup-idempotent   a second cleanup finds nothing and changes nothing
#   dns/crash-reapply    kill -9 with DNS applied, then apply again: the saved original is
#                        restored first, and the next undo restores it byte for byte
#   dns/foreign-change   resolv.conf rewritten by "someone else" while connected: undo keeps it
#   dns/resolvconf-cmd   detection + exact resolvconf -a/-d calls and stdin (fake resolvconf
#                        on an overlay in a private mount namespace)
#   dns/resolved-cmd     detection + exact resolvectl dns/domain/default-route/revert calls
#   dns/cmd-timeout      a hanging command is killed after 5 s and dns_apply fails
#   root-ns-untouched    no rule at P/P+1, nothing in table T, no kite line in /etc/resolv.conf
#                        of the root namespace
#
# V=1 echoes commands; KEEP=1 keeps the run directory.
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/lib.sh"
require_root

NS=k$$-rd
PROFILE=rd$$
TUN=kt-rd$$
NETNS_ETC=/etc/netns/$NS
MARKER=kite-test-$$-$RANDOM$RANDOM
RD_RUN=""
DRV=""
DRV_PID=""
NS_MADE=0
ETC_NETNS_MADE=0

rd_cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	set +e
	if [ -n "$DRV_PID" ] && alive "$DRV_PID"; then
		kill -KILL "$DRV_PID" 2>/dev/null
		wait "$DRV_PID" 2>/dev/null
	fi
	if [ "$NS_MADE" = 1 ]; then
		for pid in $(ip netns pids "$NS" 2>/dev/null); do
			echo "  warning: killing leftover pid $pid ($(cat /proc/"$pid"/comm 2>/dev/null)) in $NS"
			kill -KILL "$pid" 2>/dev/null
		done
		ip netns del "$NS" 2>/dev/null || echo "  warning: could not delete namespace $NS"
	fi
	rm -rf "$NETNS_ETC"
	[ "$ETC_NETNS_MADE" = 1 ] && rmdir /etc/netns 2>/dev/null
	if [ -n "$RD_RUN" ] && [ -d "$RD_RUN" ]; then
		if [ "${KEEP:-0}" = 1 ]; then
			echo "  KEEP=1: run directory kept: $RD_RUN"
		else
			rm -rf "$RD_RUN"
		fi
	fi
	exit "$rc"
}

v() { [ "${V:-0}" = 1 ] && echo "  [rd] $*"; "$@"; }

for t in ip gcc pkg-config cmp; do
	if ! command -v "$t" >/dev/null 2>&1; then
		skip "$T_NAME" "$t not installed (run 'make deps' as root)"
		exit 0
	fi
done
if ! pkg-config --exists libnl-route-3.0; then
	skip "$T_NAME" "libnl-route-3 development files missing (run 'make deps' as root)"
	exit 0
fi
if [ -e "$NETNS_ETC" ]; then
	fail "$T_NAME" "$NETNS_ETC already exists; not touching it"
	exit 1
fi

RD_RUN=$(mktemp -d "${TMPDIR:-/tmp}/kite-rd.XXXXXX") || { fail "$T_NAME" "mktemp failed"; exit 1; }
chmod 700 "$RD_RUN"
trap rd_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
DNS_DIR=$RD_RUN/run	# dns.c creates it
BACKUP=$DNS_DIR/$PROFILE.resolv.conf

# ---- build the driver ----------------------------------------------------------------------

DRV=$RD_RUN/route_drv
# shellcheck disable=SC2046
if ! gcc -std=gnu11 -O1 -g -Wall -Wextra -Werror -Wstrict-prototypes -Wmissing-prototypes \
	-Wshadow -Wcast-qual -Wsign-compare -Wformat=2 -Wno-unused-parameter -D_GNU_SOURCE \
	-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined \
	-Isrc $(pkg-config --cflags libnl-3.0) -o "$DRV" tests/interop/route_drv.c src/route.c \
	src/dns.c src/log.c $(pkg-config --libs libnl-route-3.0) >"$RD_RUN/build.log" 2>&1; then
	fail "$T_NAME" "could not build the test driver"
	show_tail "$RD_RUN/build.log" 30
	exit 1
fi
export ASAN_OPTIONS=abort_on_error=0:exitcode=66
export UBSAN_OPTIONS=print_stacktrace=1
read -r TABLE MARK PRIO < <("$DRV" ids "$PROFILE")
MARKHEX=$(printf '0x%x' "$MARK")
PRIO2=$((PRIO + 1))
info "profile $PROFILE: table $TABLE, fwmark $MARKHEX, rules $PRIO/$PRIO2; namespace $NS, run dir $RD_RUN"

# ---- the root namespace, for the final check (read only) ------------------------------------

# Only what this test could have put there: other programs may change the host meanwhile.
root_state() {
	ip -4 rule show | grep -E "^($PRIO|$PRIO2):"
	ip -6 rule show | grep -E "^($PRIO|$PRIO2):"
	ip -4 route show table "$TABLE" 2>&1
	ip -6 route show table "$TABLE" 2>&1
	grep -c -e "$MARKER" -e "written by kite for $PROFILE" /etc/resolv.conf
}
root_state >"$RD_RUN/root.before" 2>&1

# ---- namespace ------------------------------------------------------------------------------

topology() {
	v ip netns add "$NS" || return 1
	NS_MADE=1
	ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 &&
	v ip -n "$NS" link set lo up &&
	v ip -n "$NS" link add eth0 type veth peer name eth1 &&
	v ip -n "$NS" addr add 198.51.100.10/24 dev eth0 &&
	v ip -n "$NS" -6 addr add 2001:db8:1::10/64 dev eth0 nodad &&
	v ip -n "$NS" link set eth0 up &&
	v ip -n "$NS" link set eth1 up &&
	# no route yet: what route_lookup says then (checked below)
	ip netns exec "$NS" "$DRV" lookup "$PROFILE" 203.0.113.1 >"$RD_RUN/lookup.none" 2>&1
	ip netns exec "$NS" "$DRV" lookup "$PROFILE" 2001:db8:ee::1 >>"$RD_RUN/lookup.none" 2>&1
	v ip -n "$NS" route add default via 198.51.100.1 dev eth0 &&
	v ip -n "$NS" -6 route add default via 2001:db8:1::1 dev eth0 || return 1
	if [ ! -d /etc/netns ]; then
		mkdir /etc/netns 2>/dev/null && ETC_NETNS_MADE=1	# removed at the end only if empty
	fi
	[ -d /etc/netns ] || return 1
	mkdir "$NETNS_ETC" || return 1
	# tabs, comments and an options line: the restore must give back every byte
	printf '# %s: resolv.conf of the test namespace\nnameserver 192.0.2.53\n\tsearch home.example\noptions edns0 trust-ad\n# end\n' \
		"$MARKER" >"$NETNS_ETC/resolv.conf"
	cp "$NETNS_ETC/resolv.conf" "$RD_RUN/resolv.orig"
}
if ! topology; then
	fail "$T_NAME" "could not create the namespace"
	exit 1
fi
DNS_OK=1
if ! ip netns exec "$NS" grep -q "$MARKER" /etc/resolv.conf ||
	[ "$(ip netns exec "$NS" stat -L -c %d:%i /etc/resolv.conf)" != "$(stat -c %d:%i "$NETNS_ETC/resolv.conf")" ]; then
	DNS_OK=0
	info "ip netns exec did not bind-mount $NETNS_ETC/resolv.conf; DNS cases skipped"
fi

snapshot() {	# FILE: everything kite may touch in the namespace
	{
		echo "## rules v4"; ip -n "$NS" -4 rule show
		echo "## rules v6"; ip -n "$NS" -6 rule show
		echo "## routes v4"; ip -n "$NS" -4 route show table all
		echo "## routes v6"; ip -n "$NS" -6 route show table all
		echo "## addresses"; ip -n "$NS" addr show
	} >"$1" 2>&1
}
# The IPv6 link-local routes settle once eth0/eth1 are up: take the reference when stable.
_stable() { snapshot "$RD_RUN/s1"; sleep 0.1; snapshot "$RD_RUN/s2"; cmp -s "$RD_RUN/s1" "$RD_RUN/s2"; }
slowwait 5 _stable
snapshot "$RD_RUN/before"

same_as_before() {	# CASE: compare with the reference snapshot (quiet; see show_diff)
	snapshot "$RD_RUN/after.$1"
	cmp -s "$RD_RUN/before" "$RD_RUN/after.$1"
}
show_diff() {	# CASE
	cmp -s "$RD_RUN/before" "$RD_RUN/after.$1" && return 0
	echo "    --- difference (before -> after $1):"
	diff "$RD_RUN/before" "$RD_RUN/after.$1" | sed 's/^/    | /'
}

resolv_is_orig() { cmp -s "$RD_RUN/resolv.orig" "$NETNS_ETC/resolv.conf"; }

# After a failed case: back to the reference state so the next case stands on its own.
reset_state() {
	ip netns exec "$NS" "$DRV" cleanup "$PROFILE" "$DNS_DIR" >>"$RD_RUN/reset.log" 2>&1
	cp "$RD_RUN/resolv.orig" "$NETNS_ETC/resolv.conf"
	rm -f "$BACKUP"
}

# Why an undo case failed: WAIT_RC, the driver's log, the namespace's state.
undo_problems() {	# CASE
	local p=()
	[ "$WAIT_RC" = 0 ] || p+=("driver exit status $WAIT_RC")
	grep -q '^DONE' "$DRV_LOG" || p+=("no DONE line")
	log_clean "$DRV_LOG" || p+=("errors or sanitizer reports in the log")
	same_as_before "$1" || p+=("rules/routes/addresses differ from before")
	[ ${#p[@]} = 0 ] && return 1
	(IFS=';'; echo "${p[*]}")
}

# ---- driver control -------------------------------------------------------------------------

DRV_LOG=""
DRV_RUNS=0
drv_start() {	# NAME ARGS...: driver "hold" in the namespace, in the background
	local name=$1
	shift
	DRV_RUNS=$((DRV_RUNS + 1))
	DRV_LOG=$RD_RUN/drv.$DRV_RUNS.$name.log
	[ "${V:-0}" = 1 ] && echo "  [rd] route_drv hold $PROFILE $*"
	# ip netns exec and env exec: $! is the driver's own PID
	ip netns exec "$NS" env KITE_DNS_BACKEND=file KITE_TEST_RESOLV_FILE="$NETNS_ETC/resolv.conf" \
		"$DRV" hold "$PROFILE" --tun "$TUN" "$@" >"$DRV_LOG" 2>&1 &
	DRV_PID=$!
}
_drv_ready() { grep -q '^READY' "$DRV_LOG" || not_alive "$DRV_PID"; }
drv_wait_ready() {
	slowwait 10 _drv_ready
	grep -q '^READY' "$DRV_LOG" && alive "$DRV_PID"
}
drv_stop() {	# SIGTERM, bounded wait; WAIT_RC = exit status
	kill -TERM "$DRV_PID" 2>/dev/null
	if ! wait_exit "$DRV_PID" 10; then
		kill -KILL "$DRV_PID" 2>/dev/null
		wait_exit "$DRV_PID" 2
		WAIT_RC=killed
	fi
	DRV_PID=""
}
drv_kill() {
	disown "$DRV_PID" 2>/dev/null	# no "Killed" job report from bash
	kill -KILL "$DRV_PID" 2>/dev/null
	wait_exit "$DRV_PID" 5
	DRV_PID=""
}
# The driver's log must hold no error line and no sanitizer report.
log_clean() {	# LOG
	! grep -qE 'error:|ERROR: (Address|Leak)Sanitizer|runtime error:' "$1"
}

# ---- case 1: setup, lookups, DNS, undo ------------------------------------------------------

DNS_ARGS=()
[ "$DNS_OK" = 1 ] && DNS_ARGS=(--dns "$DNS_DIR")
drv_start main --lookup 203.0.113.1 --lookup 2001:db8:ee::1 "${DNS_ARGS[@]}"
if ! drv_wait_ready; then
	fail "route/setup" "the driver did not get ready"
	show_tail "$DRV_LOG" 40
	t_done
fi

errs=()
r4=$(ip -n "$NS" -4 rule show)
r6=$(ip -n "$NS" -6 rule show)
for fam in 4 6; do
	rules=$r4
	[ $fam = 6 ] && rules=$r6
	grep -qE "^$PRIO:[[:space:]]+from all lookup main suppress_prefixlength 0[[:space:]]*$" <<<"$rules" ||
		errs+=("IPv$fam rule $PRIO (lookup main suppress_prefixlength 0) missing")
	grep -qE "^$PRIO2:[[:space:]]+not from all fwmark $MARKHEX lookup ${TABLE}[[:space:]]*$" <<<"$rules" ||
		errs+=("IPv$fam rule $PRIO2 (not fwmark $MARKHEX lookup $TABLE) missing")
done
t4=$(ip -n "$NS" -4 route show table "$TABLE")
t6=$(ip -n "$NS" -6 route show table "$TABLE")
grep -q "^default dev $TUN " <<<"$t4" || errs+=("no IPv4 default route via $TUN in table $TABLE")
grep -q "^10.1.0.0/24 dev $TUN " <<<"$t4" || errs+=("no 10.1.0.0/24 route via $TUN in table $TABLE")
grep -q "^unreachable default " <<<"$t6" || errs+=("no IPv6 unreachable default in table $TABLE")
a=$(ip -n "$NS" addr show dev "$TUN")
grep -q "inet 10.3.0.2/32 " <<<"$a" || errs+=("10.3.0.2/32 missing on $TUN")
grep -q "inet6 fd00:6b69::2/128 .*nodad" <<<"$a" || errs+=("fd00:6b69::2/128 (nodad) missing on $TUN")
grep -q "tentative" <<<"$a" && errs+=("an address on $TUN is tentative (NODAD not applied)")
grep -qE "<[^>]*,UP[,>].* mtu 1400 " <<<"$a" || errs+=("$TUN not up with MTU 1400")
if [ ${#errs[@]} = 0 ]; then
	pass "route/setup"
else
	fail "route/setup" "$(IFS=';'; echo "${errs[*]}")"
	echo "$r4"; echo "$r6"; echo "$t4"; echo "$t6"; echo "$a"
fi

if grep -q "^lookup 203.0.113.1 error=ENETUNREACH" "$RD_RUN/lookup.none" &&
	grep -q "^lookup 2001:db8:ee::1 error=ENETUNREACH" "$RD_RUN/lookup.none" && log_clean "$RD_RUN/lookup.none"; then
	pass "route/lookup-none"
else
	fail "route/lookup-none" "want ENETUNREACH for both families without a route"
	show_tail "$RD_RUN/lookup.none" 10
fi

errs=()
grep -qx "lookup 203.0.113.1 src=198.51.100.10 oif=eth0" "$DRV_LOG" ||
	errs+=("route_lookup(203.0.113.1): $(grep '^lookup 203' "$DRV_LOG"), want src=198.51.100.10 oif=eth0")
grep -qx "lookup 2001:db8:ee::1 src=2001:db8:1::10 oif=eth0" "$DRV_LOG" ||
	errs+=("route_lookup(2001:db8:ee::1): $(grep '^lookup 2001:db8:ee' "$DRV_LOG"), want src=2001:db8:1::10 oif=eth0")
g=$(ip -n "$NS" route get 203.0.113.1 2>&1)
grep -q " dev $TUN " <<<"$g" || errs+=("without the mark 203.0.113.1 should go to $TUN: $g")
g=$(ip -n "$NS" route get 203.0.113.1 mark "$MARKHEX" 2>&1)
grep -q " dev eth0 " <<<"$g" || errs+=("with the mark 203.0.113.1 should go to eth0: $g")
g=$(ip -n "$NS" route get 198.51.100.1 2>&1)
grep -q " dev eth0 " <<<"$g" || errs+=("the LAN (198.51.100.1) should stay on eth0 (suppress_prefixlength rule): $g")
if g=$(ip -n "$NS" -6 route get 2001:db8:ee::1 2>&1); then
	errs+=("without the mark IPv6 should be unreachable: $g")
fi
if [ ${#errs[@]} = 0 ]; then
	pass "route/lookup-mark"
else
	fail "route/lookup-mark" "$(IFS=';'; echo "${errs[*]}")"
fi

if [ "$DNS_OK" = 1 ]; then
	printf '%s\n' "# written by kite for $PROFILE; restored on disconnect" \
		"nameserver 10.1.0.53" "nameserver 10.1.0.54" "nameserver fd00::53" \
		"search corp.example lab.example" "options edns0 trust-ad" >"$RD_RUN/resolv.want"
	errs=()
	cmp -s "$RD_RUN/resolv.want" "$NETNS_ETC/resolv.conf" || errs+=("unexpected resolv.conf content")
	[ -f "$BACKUP" ] || errs+=("no backup $BACKUP")
	[ -f "$BACKUP" ] && { cmp -s "$BACKUP" "$RD_RUN/resolv.orig" || errs+=("backup differs from the original"); }
	[ -f "$BACKUP" ] && [ "$(stat -c %a "$BACKUP")" != 644 ] && errs+=("backup mode $(stat -c %a "$BACKUP"), want 644")
	grep -q '^dns backend=resolv.conf' "$DRV_LOG" || errs+=("backend: $(grep '^dns backend' "$DRV_LOG")")
	if [ ${#errs[@]} = 0 ]; then
		pass "dns/apply"
	else
		fail "dns/apply" "$(IFS=';'; echo "${errs[*]}")"
		diff "$RD_RUN/resolv.want" "$NETNS_ETC/resolv.conf" | sed 's/^/    | /'
	fi
else
	skip "dns/apply" "no private resolv.conf in the namespace"
fi

drv_stop
BAD=0
if why=$(undo_problems undo); then
	fail "route/undo" "$why"
	show_diff undo
	show_tail "$DRV_LOG" 40
	BAD=1
else
	pass "route/undo"
fi
if [ "$DNS_OK" = 1 ]; then
	if resolv_is_orig && [ ! -e "$BACKUP" ]; then
		pass "dns/undo"
	else
		fail "dns/undo" "resolv.conf not byte-identical to the original, or backup left"
		diff "$RD_RUN/resolv.orig" "$NETNS_ETC/resolv.conf" | sed 's/^/    | /'
		BAD=1
	fi
else
	skip "dns/undo" "no private resolv.conf in the namespace"
fi
[ "$BAD" = 1 ] && reset_state

# ---- case 2: the TUN device disappears before the undo ---------------------------------------

drv_start tungone --close-tun-first
if ! drv_wait_ready; then
	fail "route/undo-tun-gone" "the driver did not get ready"
	show_tail "$DRV_LOG" 30
	[ -n "$DRV_PID" ] && drv_kill
	reset_state
else
	drv_stop
	if why=$(undo_problems tungone); then
		fail "route/undo-tun-gone" "$why"
		show_diff tungone
		show_tail "$DRV_LOG" 30
		reset_state
	else
		pass "route/undo-tun-gone"
	fi
fi

# ---- case 3: kill -9, then the next start's cleanup ------------------------------------------

drv_start crash "${DNS_ARGS[@]}"
if ! drv_wait_ready; then
	fail "crash/cleanup" "the driver did not get ready"
	show_tail "$DRV_LOG" 30
	[ -n "$DRV_PID" ] && drv_kill
	reset_state
else
	drv_kill
	errs=()
	ip -n "$NS" -4 rule show | grep -q "^$PRIO2:" || errs+=("no IPv4 rule left after kill -9")
	ip -n "$NS" -6 rule show | grep -q "^$PRIO:" || errs+=("no IPv6 rule left after kill -9")
	ip -n "$NS" -6 route show table "$TABLE" | grep -q unreachable || errs+=("no unreachable route left")
	if [ "$DNS_OK" = 1 ]; then
		resolv_is_orig && errs+=("resolv.conf not modified before the crash?")
		[ -f "$BACKUP" ] || errs+=("no backup left after kill -9")
	fi
	[ ${#errs[@]} = 0 ] || info "unexpected state after kill -9: $(IFS=';'; echo "${errs[*]}")"
	# leftovers on a device that outlives kite (eth0) and more than one per family
	v ip -n "$NS" route add 192.0.2.0/24 via 198.51.100.1 dev eth0 table "$TABLE" &&
	v ip -n "$NS" route add blackhole 192.0.2.128/25 table "$TABLE" &&
	v ip -n "$NS" -6 route add 2001:db8:99::/48 via 2001:db8:1::1 dev eth0 table "$TABLE" ||
		errs+=("could not add the extra leftover routes")
	CLOG=$RD_RUN/cleanup.1.log
	ip netns exec "$NS" "$DRV" cleanup "$PROFILE" "$DNS_DIR" >"$CLOG" 2>&1
	rc=$?
	if [ ${#errs[@]} = 0 ] && [ $rc = 0 ] && log_clean "$CLOG" && same_as_before crash &&
		{ [ "$DNS_OK" = 0 ] || { resolv_is_orig && [ ! -e "$BACKUP" ]; }; }; then
		pass "crash/cleanup"
		info "cleanup: $(grep -cE 'removed|restoring' "$CLOG") log lines of things removed or restored"
	else
		fail "crash/cleanup" "cleanup exit $rc, or state differs from before the test"
		show_diff crash
		show_tail "$CLOG" 20
		[ "$DNS_OK" = 1 ] && diff "$RD_RUN/resolv.orig" "$NETNS_ETC/resolv.conf" | sed 's/^/    | /'
	fi
	CLOG=$RD_RUN/cleanup.2.log
	ip netns exec "$NS" "$DRV" cleanup "$PROFILE" "$DNS_DIR" >"$CLOG" 2>&1
	rc=$?
	if [ $rc = 0 ] && log_clean "$CLOG" && ! grep -qE 'removed|restoring' "$CLOG" &&
		same_as_before cleanup2 && { [ "$DNS_OK" = 0 ] || resolv_is_orig; }; then
		pass "crash/cleanup-idempotent"
	else
		fail "crash/cleanup-idempotent" "second cleanup: exit $rc or it changed something"
		show_diff cleanup2
		show_tail "$CLOG" 20
	fi
fi

# ---- case 4: DNS crash, then a new apply; a foreign rewrite --------------------------------

if [ "$DNS_OK" = 1 ]; then
	drv_start dnscrash --no-route --dns "$DNS_DIR"
	if drv_wait_ready; then
		drv_kill
		drv_start dnsreapply --no-route --dns "$DNS_DIR"
		if drv_wait_ready && grep -q 'restoring /etc/resolv.conf saved by an earlier run' "$DRV_LOG" &&
			cmp -s "$RD_RUN/resolv.want" "$NETNS_ETC/resolv.conf" &&
			cmp -s "$BACKUP" "$RD_RUN/resolv.orig"; then
			drv_stop
			if [ "$WAIT_RC" = 0 ] && resolv_is_orig && [ ! -e "$BACKUP" ] && log_clean "$DRV_LOG"; then
				pass "dns/crash-reapply"
			else
				fail "dns/crash-reapply" "undo after the re-apply: exit $WAIT_RC, file or backup wrong"
				show_tail "$DRV_LOG" 20
			fi
		else
			fail "dns/crash-reapply" "the re-apply did not restore the saved original first"
			show_tail "$DRV_LOG" 20
			[ -n "$DRV_PID" ] && drv_kill
		fi
	else
		fail "dns/crash-reapply" "the driver did not get ready"
		show_tail "$DRV_LOG" 20
		[ -n "$DRV_PID" ] && drv_kill
	fi
	# restore the reference in case a case above failed half-way
	cp "$RD_RUN/resolv.orig" "$NETNS_ETC/resolv.conf"
	rm -f "$BACKUP"

	drv_start foreign --no-route --dns "$DNS_DIR"
	if drv_wait_ready; then
		# another program (DHCP client, NetworkManager) rewrites the file while connected
		printf '# %s: rewritten by dhclient\nnameserver 192.0.2.99\n' "$MARKER" >"$RD_RUN/resolv.foreign"
		cat "$RD_RUN/resolv.foreign" >"$NETNS_ETC/resolv.conf"
		drv_stop
		if [ "$WAIT_RC" = 0 ] && cmp -s "$RD_RUN/resolv.foreign" "$NETNS_ETC/resolv.conf" &&
			[ ! -e "$BACKUP" ] && grep -q 'changed by another program' "$DRV_LOG"; then
			pass "dns/foreign-change"
		else
			fail "dns/foreign-change" "exit $WAIT_RC; the newer content was not kept or the backup was left"
			show_tail "$DRV_LOG" 20
		fi
	else
		fail "dns/foreign-change" "the driver did not get ready"
		show_tail "$DRV_LOG" 20
		[ -n "$DRV_PID" ] && drv_kill
	fi
	cp "$RD_RUN/resolv.orig" "$NETNS_ETC/resolv.conf"
else
	skip "dns/crash-reapply" "no private resolv.conf in the namespace"
	skip "dns/foreign-change" "no private resolv.conf in the namespace"
fi

# ---- case 5: the command back ends, with fake resolvconf / resolvectl ------------------------
# Inside a private mount namespace (unshare -m, under ip netns exec): an overlay on /usr/sbin or
# /usr/bin adds the fake, a tmpfs on /run fakes resolved's varlink socket. The fakes append their
# arguments (and resolvconf its stdin) to $FAKE_LOG; a "hang" file makes them sleep instead.

FAKE_LOG=$RD_RUN/fake.log
FAKE_HANG=$RD_RUN/fake.hang
{
	echo '#!/bin/sh'
	echo "[ -e '$FAKE_HANG' ] && exec sleep 30"
	echo "echo \"ARGS \$*\" >>'$FAKE_LOG'"
	echo "case \"\$1\" in -a) cat >>'$FAKE_LOG'; echo END >>'$FAKE_LOG' ;; esac"
	echo 'exit 0'
} >"$RD_RUN/fake.sh"
chmod 755 "$RD_RUN/fake.sh"

drv_start_fake() {	# resolvconf|resolved NAME ARGS...
	local kind=$1 name=$2 dir exe prep
	shift 2
	if [ "$kind" = resolvconf ]; then
		dir=/usr/sbin exe=resolvconf prep=:
	else
		dir=/usr/bin exe=resolvectl
		prep="mount -t tmpfs kite-test /run && mkdir -p /run/systemd/resolve && : >/run/systemd/resolve/io.systemd.Resolve"
	fi
	DRV_RUNS=$((DRV_RUNS + 1))
	DRV_LOG=$RD_RUN/drv.$DRV_RUNS.$name.log
	mkdir -p "$RD_RUN/ovl"
	# The sh -c script is fixed text; everything variable comes in as positional parameters.
	# shellcheck disable=SC2016
	ip netns exec "$NS" unshare -m --propagation private sh -c '
		set -e
		mount -t tmpfs kite-test "$1/ovl"
		mkdir "$1/ovl/u" "$1/ovl/w"
		cp "$1/fake.sh" "$1/ovl/u/$3"
		mount -t overlay kite-test -o "lowerdir=$2,upperdir=$1/ovl/u,workdir=$1/ovl/w" "$2"
		eval "$4"
		shift 4
		exec env KITE_TEST_RESOLV_FILE="$0" "$@"' "$NETNS_ETC/resolv.conf" "$RD_RUN" "$dir" "$exe" "$prep" \
		"$DRV" hold "$PROFILE" --tun "$TUN" --no-route --dns "$DNS_DIR" "$@" >"$DRV_LOG" 2>&1 &
	DRV_PID=$!
}

# The record name wg-quick would use: the first "name*" line of interface-order as a prefix.
rc_record() {
	local l
	if [ -f /etc/resolvconf/interface-order ]; then
		while read -r l; do
			[[ $l =~ ^([A-Za-z0-9-]+)\*$ ]] && { echo "${BASH_REMATCH[1]}.$TUN.kite"; return; }
		done </etc/resolvconf/interface-order
	fi
	echo "$TUN.kite"
}

fake_case() {	# CASE KIND EXPECTED-FILE BACKEND-NAME
	local c=$1 kind=$2 want=$3 bname=$4
	rm -f "$FAKE_LOG"
	drv_start_fake "$kind" "$kind"
	if ! drv_wait_ready; then
		fail "$c" "the driver did not get ready (overlay/unshare problem?)"
		show_tail "$DRV_LOG" 20
		[ -n "$DRV_PID" ] && drv_kill
		return
	fi
	drv_stop
	if [ "$WAIT_RC" = 0 ] && grep -q "^dns backend=$bname\$" "$DRV_LOG" && log_clean "$DRV_LOG" &&
		cmp -s "$want" "$FAKE_LOG" && resolv_is_orig && [ ! -e "$BACKUP" ]; then
		pass "$c"
	else
		fail "$c" "exit $WAIT_RC, wrong back end, errors logged or unexpected commands"
		diff "$want" "$FAKE_LOG" | sed 's/^/    | /'
		show_tail "$DRV_LOG" 20
	fi
}

if [ "$DNS_OK" = 1 ] && command -v unshare >/dev/null && grep -qw overlay /proc/filesystems &&
	[ ! -e /usr/sbin/resolvconf ] && [ ! -e /usr/bin/resolvectl ]; then
	rec=$(rc_record)
	printf '%s\n' "ARGS -a $rec" "nameserver 10.1.0.53" "nameserver 10.1.0.54" "nameserver fd00::53" \
		"nameserver fd00::54" "search corp.example lab.example" END "ARGS -d $rec" >"$RD_RUN/want.resolvconf"
	fake_case dns/resolvconf-cmd resolvconf "$RD_RUN/want.resolvconf" resolvconf
	printf '%s\n' "ARGS dns $TUN 10.1.0.53 10.1.0.54 fd00::53 fd00::54" \
		"ARGS domain $TUN ~. corp.example lab.example" "ARGS default-route $TUN yes" \
		"ARGS revert $TUN" >"$RD_RUN/want.resolved"
	fake_case dns/resolved-cmd resolved "$RD_RUN/want.resolved" systemd-resolved

	# a command that hangs is killed after 5 s and the apply fails (nothing left behind)
	: >"$FAKE_HANG"
	now_ms
	t0=$NOW_MS
	drv_start_fake resolvconf hang
	if wait_exit "$DRV_PID" 10; then
		now_ms
		ms=$((NOW_MS - t0))
		DRV_PID=""
		if [ "$WAIT_RC" = 1 ] && grep -q '^DNS-FAILED' "$DRV_LOG" &&
			grep -q 'no answer after 5 s, killed' "$DRV_LOG" && [ "$ms" -ge 4900 ] && [ "$ms" -lt 8000 ] &&
			[ -z "$(ip netns pids "$NS")" ]; then
			pass "dns/cmd-timeout"
			info "hanging resolvconf killed, dns_apply failed after $ms ms"
		else
			fail "dns/cmd-timeout" "exit $WAIT_RC after $ms ms (want 1 after 5..8 s, log line, no process left)"
			show_tail "$DRV_LOG" 10
		fi
	else
		fail "dns/cmd-timeout" "the driver still runs after 10 s"
		drv_kill
	fi
	rm -f "$FAKE_HANG"
else
	skip "dns/resolvconf-cmd" "needs unshare, overlayfs and no real resolvconf/resolvectl"
	skip "dns/resolved-cmd" "needs unshare, overlayfs and no real resolvconf/resolvectl"
	skip "dns/cmd-timeout" "needs unshare, overlayfs and no real resolvconf/resolvectl"
fi

# ---- the root namespace was never touched ---------------------------------------------------

root_state >"$RD_RUN/root.after" 2>&1
if cmp -s "$RD_RUN/root.before" "$RD_RUN/root.after"; then
	pass "root-ns-untouched"
else
	fail "root-ns-untouched" "kite rules, table $TABLE routes or kite lines appeared in the root namespace"
	diff "$RD_RUN/root.before" "$RD_RUN/root.after" | sed 's/^/    | /'
fi

t_done
