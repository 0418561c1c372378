#!/usr/bin/env bash
# Start-up time and peak RSS of pktscope tcplife, profile, biolatency and
# syscount next to libbpf-tools' (Debian package libbpf-tools, /usr/sbin)
# and bpftrace scripts doing the same.
#
# "Ready" is the same for all three: the time from exec to the first line
# the tool prints once all its BPF programs are attached -- pktscope's
# "... Ctrl-C to end." line, libbpf-tools' header (printed after
# *_bpf__attach), bpftrace's printf in BEGIN (bpftrace runs BEGIN after it
# has attached every other probe).  Tools run on a pseudo-terminal
# (tests/bench/ready.py), so their output is line-buffered as in a shell.
# Peak RSS is VmHWM of the process 0.2 s after it is ready.
# Each rep runs every tool once, in an order rotated every rep; medians of
# REPS (default 5).  Targets: start-up no slower than libbpf-tools, >= 5x
# faster and >= 5x smaller than bpftrace.  About 2 minutes.
set -u
cd "$(dirname "$0")/../.."
BENCH_NAME=startup; . tests/bench/lib.sh
PK=${PKTSCOPE:-${BUILD_DIR:-$PWD/build}/pktscope}
[ -x "$PK" ] || { echo "   build first: make"; exit 1; }
READY=tests/bench/ready.py
have_bt=1; command -v bpftrace >/dev/null || have_bt=0

# bpftrace equivalents, tracepoints only, each printing READY from BEGIN.
BT_tcplife='tracepoint:sock:inet_sock_set_state
/ args->protocol == 6 /
{
	if (args->newstate < 4 && @birth[args->skaddr] == 0) { @birth[args->skaddr] = nsecs; }
	if (args->newstate == 7 && @birth[args->skaddr]) {
		printf("%-5d %-16s %d -> %d %d ms\n", pid, comm, args->sport, args->dport,
		       (nsecs - @birth[args->skaddr]) / 1000000);
		delete(@birth[args->skaddr]);
	}
}
BEGIN { printf("READY\n"); }'
BT_profile='profile:hz:99 { @[kstack, ustack, comm] = count(); } BEGIN { printf("READY\n"); }'
BT_biolatency='tracepoint:block:block_rq_issue { @start[args->dev, args->sector] = nsecs; }
tracepoint:block:block_rq_complete /@start[args->dev, args->sector]/ {
	@usecs = hist((nsecs - @start[args->dev, args->sector]) / 1000);
	delete(@start[args->dev, args->sector]);
}
BEGIN { printf("READY\n"); }'
BT_syscount='tracepoint:raw_syscalls:sys_enter { @[args->id] = count(); } BEGIN { printf("READY\n"); }'

# The libbpf-tools peer of each command and the line it prints when ready
# (Debian's libbpf-tools has no profile).
declare -A LT=([tcplife]=/usr/sbin/tcplife [biolatency]=/usr/sbin/biolatency [syscount]=/usr/sbin/syscount)
declare -A LT_PAT=([tcplife]='^PID' [biolatency]='^Tracing block' [syscount]='^Tracing syscalls')
declare -A PK_ARGS=([tcplife]="tcplife" [profile]="profile -F 99 -d 60" [biolatency]="biolatency" [syscount]="syscount")

for cmd in ${STARTUP_CMDS:-tcplife profile biolatency syscount}; do
	declare -a pk_t=() pk_m=() lt_t=() lt_m=() bt_t=() bt_m=()
	lt=${LT[$cmd]:-}
	[ -n "$lt" ] && [ ! -x "$lt" ] && lt=""
	for ((r = 0; r < BENCH_REPS; r++)); do
		for k in 0 1 2; do
			case $(((k + r) % 3)) in
			0)	read -r t m < <($READY 'Ctrl-C to end' $PK ${PK_ARGS[$cmd]})
				pk_t+=("$t"); pk_m+=("$m") ;;
			1)	[ -n "$lt" ] || continue
				read -r t m < <($READY "${LT_PAT[$cmd]}" "$lt")
				lt_t+=("$t"); lt_m+=("$m") ;;
			2)	[ $have_bt = 1 ] || continue
				v=BT_$cmd
				read -r t m < <($READY '^READY' bpftrace -e "${!v}")
				bt_t+=("$t"); bt_m+=("$m") ;;
			esac
		done
	done
	mb() { local v o=""; for v in "$@"; do o+=" $(awk -v k="$v" 'BEGIN { if (k == "nan") print k; else printf "%.1f", k / 1024 }')"; done; echo $o; }
	if [ -n "$lt" ]; then
		bench_figure "startup.$cmd.libbpf-tools" "$cmd: exec to attached and ready" ms \
			"pktscope $cmd" "${pk_t[*]}" "libbpf-tools $cmd" "${lt_t[*]}" "<= 1x" lower
		bench_figure "rss.$cmd.libbpf-tools" "$cmd: peak RSS (VmHWM)" MiB \
			"pktscope $cmd" "$(mb "${pk_m[@]}")" "libbpf-tools $cmd" "$(mb "${lt_m[@]}")" "" lower
	fi
	if [ $have_bt = 1 ]; then
		bench_figure "startup.$cmd.bpftrace" "$cmd: exec to attached and ready" ms \
			"pktscope $cmd" "${pk_t[*]}" "bpftrace script" "${bt_t[*]}" "<= 0.2x" lower
		bench_figure "rss.$cmd.bpftrace" "$cmd: peak RSS (VmHWM)" MiB \
			"pktscope $cmd" "$(mb "${pk_m[@]}")" "bpftrace script" "$(mb "${bt_m[@]}")" "<= 0.2x" lower
	fi
done
