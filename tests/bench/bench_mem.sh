#!/usr/bin/env bash
# Memory: how much a malloc-heavy program slows down under
#   pktscope memleak -p PID   (uprobe + uretprobe per allocation, user stack, map by address)
#   pktscope mallocstat -p PID (entry uprobes only, per-process counts and histogram)
#   bpftrace: the source document's uprobe script (sum of malloc sizes, malloc and
#             free counts per process, size histogram, printed every 10 s)
# One run each of build/tests/progs/mallocbench (N malloc+free pairs), same machine,
# same run; the ratios are what to compare, absolute times move between machines.
set -u
cd "$(dirname "$0")/../.."
PK=${PKTSCOPE:-$PWD/build/pktscope}
MB=$PWD/build/tests/progs/mallocbench
N=${N:-50000}
[ -x "$PK" ] && [ -x "$MB" ] || { echo "   build first: make"; exit 1; }
mkdir -p build/bench
T=$(mktemp -d build/bench/mem.XXXXXX)
BG=()
cleanup() {
	local p
	for p in "${BG[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT

wait_for() { # FILE REGEX SECONDS
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

LIBC=$(ldd "$MB" | awk '/libc\.so/ { print $3; exit }')

# run NAME [TRACER ARGS... with @PID@]: prints the loop's seconds.
run() {
	local name=$1 pid tp=""; shift
	"$MB" "$N" >"$T/$name.out" & pid=$!; BG+=("$pid")
	wait_for "$T/$name.out" '^ready' 10 || { echo "fail"; return; }
	if [ $# -gt 0 ]; then
		local a=("${@//@PID@/$pid}")
		"${a[@]}" >"$T/$name.tr" 2>&1 & tp=$!; BG+=("$tp")
		if ! wait_for "$T/$name.tr" 'tracing|Attaching' 30; then
			echo "fail"; kill -KILL "$pid" "$tp" 2>/dev/null; return
		fi
		sleep 0.5	# bpftrace prints "Attaching" just before it attaches
	fi
	kill -USR1 "$pid"
	wait "$pid" 2>/dev/null
	[ -n "$tp" ] && { kill -INT "$tp" 2>/dev/null; wait "$tp" 2>/dev/null; }
	tail -n 1 "$T/$name.out"
}

script='uprobe:'$LIBC':malloc { @bytes[comm] = sum(arg0); @mallocs[comm] = count(); @size = hist(arg0); }
uprobe:'$LIBC':free { @frees[comm] = count(); }
interval:s:10 { print(@bytes); print(@mallocs); print(@frees); print(@size);
	clear(@bytes); clear(@mallocs); clear(@frees); clear(@size); }'

base=$(run base)
ml=$(run memleak "$PK" memleak -p @PID@ 10)
ms=$(run mallocstat "$PK" mallocstat -p @PID@ -i 10)
if command -v bpftrace >/dev/null; then
	bt=$(run bpftrace bpftrace -p @PID@ -e "$script")
else
	bt=""
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0 && a != "fail") printf "x%.1f", a / b; else print "n/a" }'; }
per() { awk -v a="$1" -v b="$2" -v n="$N" 'BEGIN { if (a != "fail" && a != "") printf "%.2f us", (a - b) * 1e6 / n; else print "n/a" }'; }
printf '   mallocbench: %d malloc+free pairs, libc %s\n' "$N" "$LIBC"
printf '   %-34s %10s s  %8s  %s\n' "no tracer" "$base" "x1.0" ""
printf '   %-34s %10s s  %8s  +%s per pair\n' "pktscope memleak -p" "$ml" "$(ratio "$ml" "$base")" "$(per "$ml" "$base")"
printf '   %-34s %10s s  %8s  +%s per pair\n' "pktscope mallocstat -p" "$ms" "$(ratio "$ms" "$base")" "$(per "$ms" "$base")"
if [ -n "$bt" ]; then
	printf '   %-34s %10s s  %8s  +%s per pair\n' "bpftrace malloc/free script" "$bt" "$(ratio "$bt" "$base")" "$(per "$bt" "$base")"
	printf '   memleak vs bpftrace script: %s;  mallocstat vs bpftrace script: %s\n' \
		"$(ratio "$ml" "$bt")" "$(ratio "$ms" "$bt")"
else
	echo "   bpftrace not installed (make deps): no peer figure"
fi
