#!/usr/bin/env bash
# CPU module: profile, syscount, syslat against test programs with known
# behaviour (tests/progs/cpuhog, sysrw, sleeper).
source "$(dirname "$0")/lib.sh"

PROGS=$BUILD_DIR/tests/progs
TMP=$(mktemp -d)
BG=()
cleanup() {
	local p
	for p in "${BG[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rm -rf "$TMP"
}
trap cleanup EXIT

for p in cpuhog sysrw sleeper; do
	[ -x "$PROGS/$p" ] || { fail "build" "$PROGS/$p missing: run make"; exit 1; }
done

# wait_for FILE PATTERN: poll until FILE contains PATTERN (10 s at most).
wait_for() {
	local i
	for i in $(seq 100); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# json EXPR FILE: evaluate a python expression on the JSON document "d".
json() {
	python3 -c 'import json,sys; d=json.load(open(sys.argv[2])); print(eval(sys.argv[1]))' "$1" "$2" 2>&1
}

# ---- profile -------------------------------------------------------------
"$PROGS/cpuhog" >/dev/null &
hog=$!; BG+=("$hog")
if timeout 60 "$PKTSCOPE" -j profile -p "$hog" -F 199 -d 3 --folded --svg "$TMP/p.svg" \
	>"$TMP/p.json" 2>"$TMP/p.err"; then
	pass "profile-runs"
else
	fail "profile-runs" "$(cat "$TMP/p.err")"
fi
check_eq "profile-hottest-is-hot" "hot" "$(json 'd["top"][0]["function"]' "$TMP/p.json")"
check_eq "profile-hot-module" "cpuhog" "$(json 'd["top"][0]["module"]' "$TMP/p.json")"
# cpuhog spends nearly all of its time in hot(): the issue's ">80%".
check_eq "profile-hot-over-80pct" "True" "$(json 'd["top"][0]["self_pct"] > 80' "$TMP/p.json")"
check_eq "profile-chain-main-outer-hot" "True" \
	"$(json 'any(";main;outer;hot" in s["folded"] for s in d["stacks"])' "$TMP/p.json")"
# Every sample is counted once: the stacks sum to the sample total.
check_eq "profile-stacks-sum-to-samples" "True" \
	"$(json 'sum(s["count"] for s in d["stacks"]) == d["samples"]' "$TMP/p.json")"
if python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' "$TMP/p.svg" 2>"$TMP/x.err"; then
	pass "profile-svg-well-formed"
else
	fail "profile-svg-well-formed" "$(head -c 300 "$TMP/x.err")"
fi
if command -v xmllint >/dev/null; then
	check_cmd "profile-svg-xmllint" xmllint --noout "$TMP/p.svg"
fi
check_eq "profile-svg-has-hot" "True" "$(python3 -c '
import sys, xml.etree.ElementTree as E
ns = "{http://www.w3.org/2000/svg}"
t = E.parse(sys.argv[1]).getroot()
names = [g.get("data-n") for g in t.iter(ns + "g")]
titles = [x.text for x in t.iter(ns + "title")]
print("hot" in names and "outer" in names and any(x.startswith("hot (") for x in titles))' "$TMP/p.svg" 2>&1)"

# Text folded output: "comm;...;main;outer;hot COUNT" lines, nothing else on stdout.
timeout 60 "$PKTSCOPE" profile -p "$hog" -d 1 --folded >"$TMP/f.txt" 2>/dev/null
check_eq "profile-folded-format" "0" "$(grep -cvE '^[^ ]+( [^ ]+)* [0-9]+$' "$TMP/f.txt")"
check_eq "profile-folded-chain" "True" "$(grep -q ';main;outer;hot [0-9]*$' "$TMP/f.txt" && echo True)"
kill -KILL "$hog"; wait "$hog" 2>/dev/null

# ---- syscount: exactly N reads and M writes -----------------------------------
N=1234 M=567
# run_sysrw NAME ARGS...: sysrw waits for SIGUSR1, pktscope prints its
# "Tracing" line once attached, then the calls happen and sysrw exits.
run_sysrw() {
	local name=$1; shift
	"$PROGS/sysrw" $N $M &
	local rw=$! i
	BG+=("$rw")
	# Only once sysrw sleeps in sigwait: its start-up system calls (and the
	# entry of that wait) must come before the tracing does, and syscount
	# can be attached in less time than sysrw takes to get there.
	for i in $(seq 200); do
		grep -q sigtimedwait "/proc/$rw/wchan" 2>/dev/null && break
		sleep 0.02
	done
	grep -q sigtimedwait "/proc/$rw/wchan" 2>/dev/null ||
		fail "$name-sysrw-waiting" "sysrw is not in sigwait: wchan $(cat "/proc/$rw/wchan" 2>&1)"
	timeout 60 "$PKTSCOPE" -j syscount -p "$rw" "$@" >"$TMP/$name.json" 2>"$TMP/$name.err" &
	local sc=$!; BG+=("$sc")
	if ! wait_for "$TMP/$name.err" "Tracing"; then
		fail "$name-ready" "no 'Tracing' line: $(cat "$TMP/$name.err")"
		return 1
	fi
	kill -USR1 "$rw"
	wait "$rw" 2>/dev/null
	if wait "$sc"; then pass "$name-exits-with-pid"; else fail "$name-exits-with-pid" "$(cat "$TMP/$name.err")"; fi
}
run_sysrw syscount
check_eq "syscount-read-N" "$N" "$(json '[s["count"] for s in d["syscalls"] if s["syscall"]=="read"]' "$TMP/syscount.json" | tr -d '[]')"
check_eq "syscount-write-M" "$M" "$(json '[s["count"] for s in d["syscalls"] if s["syscall"]=="write"]' "$TMP/syscount.json" | tr -d '[]')"
# Nothing but the N reads, M writes and exit_group after the signal.
check_eq "syscount-total" "$((N + M + 1))" "$(json 'd["total"]' "$TMP/syscount.json")"

run_sysrw syscount-lat -L
check_eq "syscount-L-read-N" "$N" "$(json '[s["count"] for s in d["syscalls"] if s["syscall"]=="read"]' "$TMP/syscount-lat.json" | tr -d '[]')"
check_eq "syscount-L-write-M" "$M" "$(json '[s["count"] for s in d["syscalls"] if s["syscall"]=="write"]' "$TMP/syscount-lat.json" | tr -d '[]')"
check_eq "syscount-L-avg-consistent" "True" \
	"$(json 'all(s["total_ns"] >= s["count"] and s["max_us"]*1e3 <= s["total_ns"] for s in d["syscalls"])' "$TMP/syscount-lat.json")"

run_sysrw syscount-proc --by-process
check_eq "syscount-by-process" "$((N + M + 1))" "$(json 'd["processes"][0]["count"]' "$TMP/syscount-proc.json")"
check_eq "syscount-by-process-comm" "sysrw" "$(json 'd["processes"][0]["comm"]' "$TMP/syscount-proc.json")"

# ---- syslat: 5 sleeps of 40 ms land in [32768, 65536) us -------------------------
"$PROGS/sleeper" 5 40 &
sl=$!; BG+=("$sl")
timeout 60 "$PKTSCOPE" -j syslat clock_nanosleep -p "$sl" >"$TMP/lat.json" 2>"$TMP/lat.err" &
sc=$!; BG+=("$sc")
if wait_for "$TMP/lat.err" "Tracing"; then
	kill -USR1 "$sl"
	wait "$sl" 2>/dev/null
	wait "$sc"
	check_eq "syslat-count" "5" "$(json 'd["syscalls"][0]["count"]' "$TMP/lat.json")"
	check_eq "syslat-bucket" "[(32768, 65536, 5)]" \
		"$(json '[(b["lo"], b["hi"], b["count"]) for b in d["syscalls"][0]["usecs"]]' "$TMP/lat.json")"
else
	fail "syslat-ready" "$(cat "$TMP/lat.err")"
fi

# ---- bad input: exit 2, one clear line ------------------------------------------
# A PID that cannot exist (above pid_max).
nopid=$(( $(cat /proc/sys/kernel/pid_max) + 1 ))
check_rc "bad-pid-profile" 2 "$PKTSCOPE" profile -p "$nopid" -d 1
echo "$LAST_ERR" | grep -q "no process with PID" && pass "bad-pid-message" || fail "bad-pid-message" "$LAST_ERR"
check_rc "bad-pid-syscount" 2 "$PKTSCOPE" syscount -p "$nopid"
check_rc "bad-freq-0" 2 "$PKTSCOPE" profile -F 0
check_rc "bad-freq-10001" 2 "$PKTSCOPE" profile -F 10001
echo "$LAST_ERR" | grep -q "1 to 10000" && pass "bad-freq-message" || fail "bad-freq-message" "$LAST_ERR"
check_rc "bad-user-and-kernel" 2 "$PKTSCOPE" profile --user --kernel
check_rc "bad-syscall-name" 2 "$PKTSCOPE" syslat no_such_syscall
echo "$LAST_ERR" | grep -q "unknown syscall 'no_such_syscall'" && pass "bad-syscall-message" || fail "bad-syscall-message" "$LAST_ERR"
check_rc "syslat-no-name" 2 "$PKTSCOPE" syslat
check_rc "bad-duration" 2 "$PKTSCOPE" syscount -d abc

suite_end
