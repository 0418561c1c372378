#!/usr/bin/env bash
# Cost of the IO tools on small-IO workloads, measured side by side in one run:
#   A. 4 KiB O_DIRECT reads from a file on a loop device (every read is a
#      block request): no tracing, pktscope biolatency, libbpf-tools'
#      biolatency, pktscope filetop
#   B. 512-byte reads of a cached file (syscalls only): no tracing, pktscope
#      filetop and fileslower, bpftrace doing filetop's counting on the same
#      syscall tracepoints (tests/bench/bt/filetop.bt), and bpftrace with
#      empty programs on those tracepoints: the floor that any tracer of
#      these syscalls pays (the kernel's syscall-tracing path, taken by every
#      syscall of every process once one syscall tracepoint is in use)
# Figures: IOPS under each tracer vs untraced (1.00 = free), and the
# tracers' own BPF time per IO, pktscope vs libbpf-tools; REPS rounds
# (default 5) interleaved, medians.  About 3 minutes.
set -u
cd "$(dirname "$0")/../.."
BENCH_NAME=io; . tests/bench/lib.sh
: "${PKTSCOPE:=${BUILD_DIR:-$PWD/build}/pktscope}"
PEER=$(command -v biolatency || echo /usr/sbin/biolatency)
BT=${BPFTRACE:-$(command -v bpftrace)}
# filetop's 20 tracepoints (enter and exit of the ten read/write calls), empty.
BT_EMPTY=$(for d in enter exit; do for c in read write readv writev pread64 pwrite64 \
	preadv pwritev preadv2 pwritev2; do echo "tracepoint:syscalls:sys_${d}_$c"; done; done |
	paste -sd,)" { }"
NA=${NA:-10000}		# reads in workload A
NB=${NB:-200000}	# reads in workload B

T=$(mktemp -d /tmp/pktscope-bench-io.XXXXXX)
LOOP="" TPID=""
cleanup() {
	[ -n "$TPID" ] && kill -INT "$TPID" 2>/dev/null && wait "$TPID" 2>/dev/null
	mountpoint -q "$T/mnt" && umount "$T/mnt"
	[ -n "$LOOP" ] && losetup -d "$LOOP"
	rm -rf "$T"
}
trap cleanup EXIT

truncate -s 512M "$T/img"
LOOP=$(losetup -f --show "$T/img") || { echo "losetup failed" >&2; exit 1; }
DISK=$(basename "$LOOP")
mkfs.ext4 -q -O ^has_journal -E lazy_itable_init=0,lazy_journal_init=0 "$LOOP"
mkdir "$T/mnt" && mount -o noatime "$LOOP" "$T/mnt"
dd if=/dev/urandom of="$T/mnt/big" bs=1M count=$((NA * 4 / 1024 + 1)) status=none conv=fsync
dd if=/dev/zero of="$T/mnt/cached" bs=512 count="$NB" status=none

# start READY_REGEX CMD...: background tracer, wait until it is attached.
start() {
	local re=$1 i; shift
	stdbuf -oL -eL "$@" >"$T/tool.out" 2>&1 &
	TPID=$!
	for i in $(seq 150); do
		grep -qiE "$re" "$T/tool.out" && return 0
		sleep 0.1
	done
	echo "   tracer did not start: $(head -3 "$T/tool.out")" >&2
	stop
	return 1
}
stop() {
	kill -INT "$TPID" 2>/dev/null
	wait "$TPID" 2>/dev/null
	TPID=""
}

# IOPS of a dd run.
iops() {	# COUNT DD-ARGS...
	local n=$1 t0 t1; shift
	t0=$(date +%s.%N)
	dd "$@" status=none
	t1=$(date +%s.%N)
	echo "$n $t0 $t1" | awk '{ printf "%.0f", $1 / ($3 - $2) }'
}
wl_a() { iops "$NA" if="$T/mnt/big" of=/dev/null bs=4k count="$NA" iflag=direct; }
wl_b() { iops "$NB" if="$T/mnt/cached" of=/dev/null bs=512 count="$NB"; }

row() {	# LABEL IOPS BASE
	printf '   %-38s %10s IOPS  ratio %s\n' "$1" "$2" \
		"$(awk -v a="$2" -v b="$3" 'BEGIN { printf "%.3f", b ? a / b : 0 }')"
}

# BPF run time (ns) of every program the tracer holds open (kernel.bpf_stats_enabled).
bpf_ns() {
	local ids
	ids=$(awk '/^prog_id:/ { print $2 }' /proc/$1/fdinfo/* 2>/dev/null | paste -sd, -)
	bpftool -j prog show 2>/dev/null |
		jq "[.[] | select(.id as \$i | [$ids] | index(\$i)) | .run_time_ns // 0] | add // 0"
}

# measure WORKLOAD N READY_REGEX CMD...: "IOPS ns-per-call" under the tracer
# (no CMD: untraced).  ns-per-call is the tracer's BPF time over N calls: it
# does not move with the machine's load the way IOPS does.  The two come
# from two runs of the workload under one start of the tracer: IOPS with
# kernel.bpf_stats_enabled off, since the statistics cost every program run
# two clock reads (about 200 ns per 512-byte read() under filetop here, as
# much as filetop's own work), then the BPF time with it on.
measure() {
	local wl=$1 n=$2 re=$3 v ns; shift 3
	if [ $# = 0 ]; then
		echo "$($wl) 0"
	elif start "$re" "$@"; then
		v=$($wl)
		sysctl -qw kernel.bpf_stats_enabled=1 2>/dev/null
		ns=$(bpf_ns "$TPID")
		$wl >/dev/null
		ns=$(( $(bpf_ns "$TPID") - ns ))
		sysctl -qw kernel.bpf_stats_enabled=0 2>/dev/null
		stop
		echo "$v $((ns / n))"
	else
		echo "0 0"
	fi
}

# The machine is shared: every configuration runs ROUNDS times, interleaved
# with the others, and keeps its best IOPS and its lowest BPF time per call.
ROUNDS=$BENCH_REPS
stats_was=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null || echo 0)
sysctl -qw kernel.bpf_stats_enabled=0 2>/dev/null
restore_stats() { sysctl -qw kernel.bpf_stats_enabled="$stats_was" 2>/dev/null; }
trap 'restore_stats; cleanup' EXIT

declare -A R
run() {	# KEY WORKLOAD N READY_REGEX CMD...
	local key=$1; shift
	R[$key]+="$(measure "$@"),"
}
col() { echo "${R[$1]}" | tr ',' '\n' | awk -v c="$2" 'NF { print $c }' | paste -sd' '; }
report() {	# ID LABEL KEY BASEKEY
	bench_figure "$1" "$2: IOPS traced vs untraced" IOPS "$2" "$(col "$3" 1)" \
		"no tracing" "$(col "$4" 1)" ">= 0.95x" higher
}
echo "A. $NA x 4 KiB O_DIRECT reads on $DISK (ext4 on a loop device), $ROUNDS rounds"
wl_a >/dev/null	# warm the loop file's page cache on the host side
for r in $(seq "$ROUNDS"); do
	run a-none wl_a "$NA" x
	run a-ps wl_a "$NA" tracing "$PKTSCOPE" biolatency -d "$DISK"
	[ -x "$PEER" ] && run a-peer wl_a "$NA" tracing "$PEER" -d "$DISK"
	run a-ft wl_a "$NA" tracing "$PKTSCOPE" filetop -C 60
done
report io.biolatency "pktscope biolatency, 4 KiB O_DIRECT reads" a-ps a-none
if [ -x "$PEER" ]; then
	report io.biolatency.peer "libbpf-tools biolatency, 4 KiB O_DIRECT reads" a-peer a-none
	bench_figure io.biolatency.bpfns "biolatency: BPF run time per IO (kernel.bpf_stats_enabled), pktscope vs libbpf-tools" ns/IO \
		"pktscope biolatency" "$(col a-ps 2)" "libbpf-tools biolatency" "$(col a-peer 2)" "<= 1x" lower
else
	echo "   libbpf-tools biolatency: not installed (apt-get install libbpf-tools)"
fi
report io.filetop.direct "pktscope filetop, 4 KiB O_DIRECT reads" a-ft a-none

echo "B. $NB x 512-byte read() calls on a cached file (no block IO), $ROUNDS rounds"
wl_b >/dev/null
for r in $(seq "$ROUNDS"); do
	run b-none wl_b "$NB" x
	run b-ft wl_b "$NB" tracing "$PKTSCOPE" filetop -C 60
	run b-fs wl_b "$NB" tracing "$PKTSCOPE" fileslower 10
	if [ -n "$BT" ]; then
		run b-bt wl_b "$NB" attaching "$BT" tests/bench/bt/filetop.bt
		run b-empty wl_b "$NB" attaching "$BT" -e "$BT_EMPTY"
	fi
done
report io.filetop.cached "pktscope filetop, 512 B cached reads" b-ft b-none
report io.fileslower.cached "pktscope fileslower 10, 512 B cached reads" b-fs b-none
if [ -n "$BT" ]; then
	bench_figure io.filetop.cached.floor "empty programs on filetop's 20 syscall tracepoints (bpftrace), 512 B cached reads: IOPS traced vs untraced (the floor of syscall tracing)" IOPS \
		"empty programs" "$(col b-empty 1)" "no tracing" "$(col b-none 1)" "" higher
	bench_figure io.filetop.cached.overfloor "512 B cached reads: IOPS under pktscope filetop vs under empty programs on the same tracepoints (what filetop's own work costs)" IOPS \
		"pktscope filetop" "$(col b-ft 1)" "empty programs" "$(col b-empty 1)" ">= 0.95x" higher
	bench_figure io.filetop.cached.bpftrace "512 B cached reads: IOPS under pktscope filetop vs under bpftrace doing its counting (tests/bench/bt/filetop.bt)" IOPS \
		"pktscope filetop" "$(col b-ft 1)" "bpftrace filetop.bt" "$(col b-bt 1)" ">= 1x" higher
	bench_figure io.filetop.cached.bpfns "filetop, 512 B cached reads: BPF run time per read (kernel.bpf_stats_enabled), pktscope vs bpftrace doing its counting" ns/IO \
		"pktscope filetop" "$(col b-ft 2)" "bpftrace filetop.bt" "$(col b-bt 2)" "<= 1x" lower
else
	echo "   bpftrace: not installed (make deps installs it)"
fi
echo "   (BPF ns/IO: the tracer's own BPF run time per read, from kernel.bpf_stats_enabled;"
echo "    for biolatency it also includes the block requests of other processes on $DISK)"
