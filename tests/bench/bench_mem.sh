#!/usr/bin/env bash
# Memory: how much a malloc-heavy program slows down under
#   pktscope memleak -p PID   (uprobe + uretprobe per allocation, user stack, map by address)
#   pktscope mallocstat -p PID (entry uprobes only, per-process counts and histogram)
#   bpftrace: the source document's uprobe script (sum of malloc sizes, malloc and
#             free counts per process, size histogram, printed every 10 s)
#   bpftrace memleak equivalent: the same work as pktscope memleak -- uprobe on
#             malloc saving size and user stack (a stack id) per thread, uretprobe
#             filing them by the returned address, free deleting them -- so the
#             two compare like for like (mallocbench calls only malloc and free,
#             so memleak's other allocator probes never fire)
# build/tests/progs/mallocbench (N malloc+free pairs) alone and under each tracer,
# one after the other in a rep, REPS reps (default 5); medians, per-rep ratios.
# PKTSCOPE_ALT=other/pktscope adds that build's memleak and mallocstat to every
# rep, and figures mem.memleak.alt / mem.mallocstat.alt (this build vs that
# one): a before/after side by side.
# About 2 minutes.
set -u
cd "$(dirname "$0")/../.."
BENCH_NAME=mem; . tests/bench/lib.sh
PK=${PKTSCOPE:-${BUILD_DIR:-$PWD/build}/pktscope}
MB=${BUILD_DIR:-$PWD/build}/tests/progs/mallocbench
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

leak='uprobe:'$LIBC':malloc { @size[tid] = arg0; @stk[tid] = ustack; }
uretprobe:'$LIBC':malloc /@size[tid]/ { @addr[retval] = @size[tid]; @astk[retval] = @stk[tid];
	delete(@size[tid]); delete(@stk[tid]); }
uprobe:'$LIBC':free { delete(@addr[arg0]); delete(@astk[arg0]); }'

have_bt=1; command -v bpftrace >/dev/null || have_bt=0
ALT=${PKTSCOPE_ALT:-}
nk=5; [ -n "$ALT" ] && nk=7
declare -a B ML MS BL BS AL AS
# The order rotates every rep: none of them always runs first or last.
for ((r = 0; r < BENCH_REPS; r++)); do
	for ((k = 0; k < nk; k++)); do
		case $(((k + r) % nk)) in
		0) B+=("$(run base)") ;;
		1) ML+=("$(run memleak "$PK" memleak -p @PID@ 10)") ;;
		2) MS+=("$(run mallocstat "$PK" mallocstat -p @PID@ -i 10)") ;;
		3) [ $have_bt = 1 ] && BL+=("$(run btleak bpftrace -p @PID@ -e "$leak")") ;;
		4) [ $have_bt = 1 ] && BS+=("$(run btstat bpftrace -p @PID@ -e "$script")") ;;
		5) AL+=("$(run altleak "$ALT" memleak -p @PID@ 10)") ;;
		6) AS+=("$(run altstat "$ALT" mallocstat -p @PID@ -i 10)") ;;
		esac
	done
done
echo "   mallocbench: $N malloc+free pairs, libc $LIBC; seconds of the loop"
bench_figure mem.memleak.overhead "mallocbench run time under pktscope memleak -p vs alone" s \
	"pktscope memleak" "${ML[*]}" "alone" "${B[*]}" "" lower
bench_figure mem.mallocstat.overhead "mallocbench run time under pktscope mallocstat -p vs alone" s \
	"pktscope mallocstat" "${MS[*]}" "alone" "${B[*]}" "" lower
if [ -n "$ALT" ]; then
	bench_figure mem.memleak.alt "mallocbench run time: pktscope memleak, this build vs $ALT" s \
		"pktscope memleak" "${ML[*]}" "alt memleak" "${AL[*]}" "" lower
	bench_figure mem.mallocstat.alt "mallocbench run time: pktscope mallocstat, this build vs $ALT" s \
		"pktscope mallocstat" "${MS[*]}" "alt mallocstat" "${AS[*]}" "" lower
fi
if [ $have_bt = 1 ]; then
	bench_figure mem.memleak.bpftrace "mallocbench run time: pktscope memleak vs bpftrace doing the same (size+ustack, uretprobe, free)" s \
		"pktscope memleak" "${ML[*]}" "bpftrace memleak script" "${BL[*]}" "<= 1x" lower
	bench_figure mem.mallocstat.bpftrace "mallocbench run time: pktscope mallocstat vs bpftrace malloc/free counting script" s \
		"pktscope mallocstat" "${MS[*]}" "bpftrace counting script" "${BS[*]}" "<= 1x" lower
else
	echo "   bpftrace not installed (make deps): no peer figure"
fi
