#!/bin/sh
# tests/run.sh: kite's test runner (POSIX sh; `make check` runs `sh tests/run.sh UNIT_BINARIES`).
#
#   sh tests/run.sh [--interop-only] [build/unit/test_x ...] [tests/interop/t_y.sh ...]
#
# 1. Each cmocka unit binary runs (under timeout) with its output in build/test-logs/NAME.log;
#    cases are counted from cmocka's "[  PASSED  ] N test(s)." / "[  FAILED  ] N test(s)" /
#    "[  SKIPPED ] N test(s)" lines. A binary that crashes or exits non-zero without a FAILED
#    line (sanitizer report, abort, signal) counts as one more failure.
# 2. Each interop scenario (tests/interop/t_*.sh, or the ones named) runs as root under
#    timeout with its output in build/test-logs/interop-NAME.log; its "PASS: ", "FAIL: " and
#    "SKIP: " lines are counted. A scenario that exits non-zero without a FAIL line, or that
#    prints no result at all, counts as one failure. Not root: each is SKIPPED.
# 3. One summary line, alone: "N passed, N failed, N skipped"; exit 1 if anything failed.
#
# Environment: UNIT_TIMEOUT (s, default 300), INTEROP_TIMEOUT (s, default 300), KEEP=1/V=1
# (passed on to the scenarios).
set -u
LC_ALL=C
export LC_ALL
cd "$(dirname "$0")/.." || exit 2

LOGDIR=build/test-logs
UNIT_TIMEOUT=${UNIT_TIMEOUT:-300}
INTEROP_TIMEOUT=${INTEROP_TIMEOUT:-300}
passed=0
failed=0
skipped=0

interop_only=0
units=""
scenarios=""
for a in "$@"; do
	case $a in
	--interop-only) interop_only=1 ;;
	--help | -h)
		sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	-*)
		echo "run.sh: unknown option $a" >&2
		exit 2
		;;
	*.sh) scenarios="$scenarios $a" ;;
	*) units="$units $a" ;;
	esac
done
[ "$interop_only" = 1 ] && units=""
[ -n "$scenarios" ] || scenarios=$(ls tests/interop/t_*.sh 2>/dev/null)

mkdir -p "$LOGDIR" || exit 2
# cmocka's default (standard) message format is what is parsed below
unset CMOCKA_MESSAGE_OUTPUT CMOCKA_XML_FILE
have_timeout=0
command -v timeout >/dev/null 2>&1 && have_timeout=1

# run_limited SECONDS LOG CMD...: CMD with its output in LOG, killed after SECONDS
# (SIGTERM, SIGKILL 10 s later). Exit status 124 means it timed out.
run_limited() {
	_secs=$1
	_log=$2
	shift 2
	if [ "$have_timeout" = 1 ]; then
		timeout -k 10 "$_secs" "$@" >"$_log" 2>&1 </dev/null
	else
		"$@" >"$_log" 2>&1 </dev/null
	fi
}

# count PATTERN LOG: sum of N over "PATTERN N test(s)" occurrences (anywhere in a line: a cmocka
# line on stderr can follow unflushed stdout text on the same line).
count() {
	grep -o "$1 [0-9][0-9]* test(s)" "$2" 2>/dev/null |
		awk '{ n += $(NF - 1) } END { print n + 0 }'
}

tail_log() {
	echo "    --- last lines of $1"
	tail -n "${2:-20}" "$1" | sed 's/^/    | /'
}

status_text() {	# exit status -> words
	case $1 in
	0) echo "exit 0" ;;
	124) echo "timed out" ;;
	*) if [ "$1" -gt 128 ]; then echo "killed by signal $(($1 - 128))"; else echo "exit $1"; fi ;;
	esac
}

# ---- unit tests ------------------------------------------------------------------------
for bin in $units; do
	name=$(basename "$bin")
	log=$LOGDIR/$name.log
	if [ ! -x "$bin" ]; then
		echo "FAIL unit/$name: not built ($bin missing)"
		failed=$((failed + 1))
		continue
	fi
	run_limited "$UNIT_TIMEOUT" "$log" "$bin"
	rc=$?
	p=$(count '\[  PASSED  \]' "$log")
	f=$(count '\[  FAILED  \]' "$log")
	s=$(count '\[  SKIPPED \]' "$log")
	extra=""
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		f=1
		extra=" ($(status_text "$rc") without a FAILED line: crash, sanitizer or abort)"
	elif [ "$rc" = 0 ] && [ "$p" = 0 ] && [ "$s" = 0 ]; then
		f=1
		extra=" (no cmocka result lines)"
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
	if [ "$f" = 0 ]; then
		echo "PASS unit/$name: $p passed, $s skipped"
	else
		echo "FAIL unit/$name: $p passed, $f failed, $s skipped$extra"
		tail_log "$log" 30
	fi
done

# ---- interop scenarios -----------------------------------------------------------------
uid=$(id -u)
for t in $scenarios; do
	name=$(basename "$t" .sh)
	name=${name#t_}
	log=$LOGDIR/interop-$name.log
	if [ "$uid" != 0 ]; then
		echo "SKIP interop/$name: needs root (network namespaces)"
		skipped=$((skipped + 1))
		continue
	fi
	if [ ! -f "$t" ]; then
		echo "FAIL interop/$name: $t missing"
		failed=$((failed + 1))
		continue
	fi
	start=$(date +%s)
	run_limited "$INTEROP_TIMEOUT" "$log" bash "$t"
	rc=$?
	secs=$(($(date +%s) - start))
	p=$(grep -c '^PASS: ' "$log")
	f=$(grep -c '^FAIL: ' "$log")
	s=$(grep -c '^SKIP: ' "$log")
	extra=""
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		f=1
		extra=" ($(status_text "$rc") without a FAIL line)"
	elif [ "$((p + f + s))" = 0 ]; then
		f=1
		extra=" (no PASS/FAIL/SKIP lines)"
	elif [ "$rc" = 124 ]; then
		extra=" (timed out after ${INTEROP_TIMEOUT} s)"
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
	if [ "$f" = 0 ]; then
		echo "PASS interop/$name: $p passed, $s skipped (${secs} s)"
		grep '^SKIP: ' "$log" | sed 's/^/    /'
	else
		echo "FAIL interop/$name: $p passed, $f failed, $s skipped (${secs} s)$extra"
		grep '^FAIL: ' "$log" | sed 's/^/    /'
		tail_log "$log" 40
	fi
done

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
