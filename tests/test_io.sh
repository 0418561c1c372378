#!/usr/bin/env bash
# IO module: biosnoop, biotop, biolatency, filetop, fileslower.
#
# Everything happens on a loop device with ext4 that this suite makes in a
# temporary directory (no journal, inode tables initialised at mkfs, lazytime:
# no background writes of its own).  Block counts are checked against the
# loop device's /sys/block/loopN/stat deltas; file counts against what
# tests/progs/io_rw did; slowness is real block throttling (blkio cgroup).
source "$(dirname "$0")/lib.sh"

IO_RW=$BUILD_DIR/tests/progs/io_rw
for t in losetup mkfs.ext4 mount dd jq; do
	command -v $t >/dev/null || { skip setup "$t not installed (make deps)"; exit 0; }
done
[ -x "$IO_RW" ] || { fail setup "$IO_RW missing: run make"; exit 1; }

T=$(mktemp -d /tmp/pktscope-io.XXXXXX)
LOOP="" CG="" TOOLS=""
cleanup() {
	local n
	for n in $TOOLS; do stop_tool "$n"; done
	mountpoint -q "$T/mnt" && umount "$T/mnt"
	[ -n "$LOOP" ] && losetup -d "$LOOP"
	[ -n "$CG" ] && [ -d "$CG" ] && rmdir "$CG"
	rm -rf "$T"
}
trap cleanup EXIT

truncate -s 64M "$T/img"
LOOP=$(losetup -f --show "$T/img") || { fail setup "losetup failed"; exit 1; }
DISK=$(basename "$LOOP")
DEVNO=$(cat /sys/block/$DISK/dev)
mkfs.ext4 -q -O ^has_journal -E lazy_itable_init=0,lazy_journal_init=0 "$LOOP" &&
	mkdir "$T/mnt" && mount -o noatime,lazytime "$LOOP" "$T/mnt" ||
	{ fail setup "mkfs/mount of $LOOP failed"; exit 1; }

command -v udevadm >/dev/null && udevadm settle 2>/dev/null

# start_tool NAME ARGS...: run pktscope in the background, output in $T/NAME.out,
# and wait until it says it is tracing.
start_tool() {
	local name=$1 i; shift
	"$PKTSCOPE" "$@" >"$T/$name.out" 2>"$T/$name.err" &
	eval "PID_$name=$!"
	TOOLS="$TOOLS $name"
	for i in $(seq 100); do
		grep -q tracing "$T/$name.err" && return 0
		kill -0 "$(eval echo "\$PID_$name")" 2>/dev/null || break
		sleep 0.1
	done
	fail "$name-start" "not tracing after 10 s: $(cat "$T/$name.err")"
	return 1
}

# stop_tool NAME: Ctrl-C, then wait (the tool prints what it still holds).
stop_tool() {
	local var=PID_$1
	[ -n "${!var:-}" ] || return 0
	kill -INT "${!var}" 2>/dev/null
	wait "${!var}" 2>/dev/null
	eval "$var="
}

# Completed IOs and sectors of the loop disk: reads, writes, discards, flushes.
disk_ios() { awk '{ print $1 + $5 + $12 + $15 }' /sys/block/$DISK/stat; }
disk_sectors() { awk '{ print $3 + $7 + $14 }' /sys/block/$DISK/stat; }

# ---- block IO: dd oflag=direct, N blocks of S bytes ------------------------
N=12 S=65536
dd if=/dev/zero of="$T/mnt/f" bs=$S count=$N conv=fsync status=none
sync

if start_tool snoop biosnoop -d "$DISK" -j && start_tool top biotop -d "$DISK" -C -j 1 &&
	start_tool lat biolatency -d "$DISK" -j && start_tool latd biolatency -D -d "$DISK" -j &&
	start_tool latq biolatency -Q -d "$DISK" -j; then
	ios0=$(disk_ios) sec0=$(disk_sectors)
	dd if=/dev/zero of="$T/mnt/f" bs=$S count=$N oflag=direct conv=notrunc status=none &
	DD=$!
	wait $DD
	ios1=$(disk_ios) sec1=$(disk_sectors)
	stop_tool snoop
	stop_tool top
	stop_tool lat
	stop_tool latd
	stop_tool latq
	dios=$((ios1 - ios0)) dbytes=$(( (sec1 - sec0) * 512 ))

	ev=$T/snoop.out
	check_eq biosnoop-dd-writes "$N" \
		"$(jq -s "[.[] | select(.pid == $DD and .comm == \"dd\" and .t == \"W\")] | length" "$ev")"
	check_eq biosnoop-dd-bytes "$((N * S))" \
		"$(jq -s "[.[] | select(.pid == $DD) | .bytes] | add // 0" "$ev")"
	check_eq biosnoop-disk-name "$DISK $DEVNO" \
		"$(jq -rs "[.[] | select(.pid == $DD)][0] | \"\(.disk) \(.dev)\"" "$ev")"
	check_eq biosnoop-vs-sysfs-ios "$dios" "$(jq -s length "$ev")"
	check_eq biosnoop-vs-sysfs-bytes "$dbytes" "$(jq -s '[.[].bytes] | add // 0' "$ev")"
	check_eq biosnoop-latency-positive 0 \
		"$(jq -s '[.[] | select(.lat_ns <= 0)] | length' "$ev")"

	check_eq biolatency-total-vs-sysfs "$dios" "$(jq -s '[.[].total] | add' "$T/lat.out")"
	check_eq biolatency-buckets-sum "$dios" \
		"$(jq -s '[.[].hists[][] | .count] | add // 0' "$T/lat.out")"
	# -D (per disk) and -Q (from creation): other programs, other tables.
	check_eq biolatency-per-disk "$dios $DISK" \
		"$(jq -rs '"\([.[].hists[][] | .count] | add // 0) \([.[].hists | keys[]] | unique | join(","))"' "$T/latd.out")"
	check_eq biolatency-queued-total-vs-sysfs "$dios" "$(jq -s '[.[].total] | add' "$T/latq.out")"

	top=$T/top.out
	check_eq biotop-dd-ios "$N" \
		"$(jq -s "[.[].rows[] | select(.pid == $DD and .comm == \"dd\" and .d == \"W\") | .ios] | add // 0" "$top")"
	check_eq biotop-dd-bytes "$((N * S))" \
		"$(jq -s "[.[].rows[] | select(.pid == $DD) | .bytes] | add // 0" "$top")"
	check_eq biotop-vs-sysfs-ios "$dios" "$(jq -s '[.[].rows[].ios] | add // 0' "$top")"
fi

# ---- merges: concurrent small buffered writes under mq-deadline ----------
# Merged requests must neither leak an in-flight entry nor make up an event:
# events and bytes equal the disk's completed IOs and sectors, and once the
# disk is idle the tool's in-flight map (reqs) is empty.
map_entries() {	# PID MAPNAME: entries of a map the process holds open
	local f id
	for f in /proc/$1/fdinfo/*; do
		id=$(awk '/^map_id:/ { print $2 }' "$f" 2>/dev/null)
		[ -n "$id" ] || continue
		if [ "$(bpftool -j map show id "$id" | jq -r .name)" = "$2" ]; then
			bpftool -j map dump id "$id" | jq length
			return
		fi
	done
	echo "no map $2"
}
sched=/sys/block/$DISK/queue/scheduler
grep -qw mq-deadline "$sched" && echo mq-deadline >"$sched"
if command -v bpftool >/dev/null && start_tool merge biosnoop -d "$DISK" -j; then
	ios0=$(disk_ios) sec0=$(disk_sectors)
	m0=$(awk '{ print $2 + $6 }' /sys/block/$DISK/stat)
	ddp=""
	for i in 1 2 3 4 5 6 7 8; do
		dd if=/dev/urandom of="$T/mnt/m$i" bs=4k count=64 status=none &
		ddp="$ddp $!"
	done
	wait $ddp
	sync
	ios1=$(disk_ios) sec1=$(disk_sectors)
	m1=$(awk '{ print $2 + $6 }' /sys/block/$DISK/stat)
	inflight=$(map_entries "$PID_merge" reqs)
	stop_tool merge
	if [ "$m1" = "$m0" ]; then
		skip merges-happened "the kernel merged nothing this time"
	else
		pass merges-happened
	fi
	check_eq merged-vs-sysfs-ios "$((ios1 - ios0))" "$(jq -s length "$T/merge.out")"
	check_eq merged-vs-sysfs-bytes "$(( (sec1 - sec0) * 512 ))" \
		"$(jq -s '[.[].bytes] | add // 0' "$T/merge.out")"
	check_eq no-leaked-requests 0 "$inflight"
fi

# ---- filetop: R reads of B bytes on a named file, a socket, every syscall --
R=7 B=3000
dd if=/dev/urandom of="$T/mnt/data" bs=$((R * B)) count=1 status=none
if start_tool ft filetop -a -C -r 10240 -j 1 &&
	start_tool ftreg filetop -C -r 10240 -j 1; then
	"$IO_RW" read "$T/mnt/data" $R $B & P1=$!; wait $P1
	"$IO_RW" sock 9 500 & P2=$!; wait $P2
	"$IO_RW" mixed "$T/mnt/mixed" 1000 & P3=$!; wait $P3
	stop_tool ft
	stop_tool ftreg
	out=$T/ft.out
	sel() { jq -s "[.[].rows[] | select(.pid == $1 ${2:-})]" "$out"; }
	check_eq filetop-file-reads "$R $((R * B)) R $T/mnt/data" \
		"$(sel $P1 "and .file == \"$T/mnt/data\"" | jq -r '[(map(.reads) | add), (map(.rbytes) | add), .[0].t, .[0].file] | join(" ")')"
	check_eq filetop-socket "9 4500 S" \
		"$(sel $P2 'and .t == "S" and .reads > 0' | jq -r '[(map(.reads) | add), (map(.rbytes) | add), .[0].t] | join(" ")')"
	check_eq filetop-socket-writer "9 4500 S" \
		"$(sel $P2 'and .t == "S" and .writes > 0' | jq -r '[(map(.writes) | add), (map(.wbytes) | add), .[0].t] | join(" ")')"
	check_eq filetop-all-syscalls "5 5000 5 5000 $T/mnt/mixed" \
		"$(sel $P3 "and .file == \"$T/mnt/mixed\"" | jq -r '[(map(.reads) | add), (map(.rbytes) | add), (map(.writes) | add), (map(.wbytes) | add), .[0].file] | join(" ")')"
	check_eq filetop-regular-only "0 $R" \
		"$(jq -s "([.[].rows[] | select(.pid == $P2 and .t != \"R\")] | length), ([.[].rows[] | select(.pid == $P1 and .file == \"$T/mnt/data\") | .reads] | add)" \
			"$T/ftreg.out" | paste -sd' ')"
fi

# ---- filetop -p PID: that process's reads only, exactly ---------------------
# The process waits on a FIFO (not a regular file: not counted) so that its
# PID is known before it reads; another reader of the same file runs first.
mkfifo "$T/go"
( read -r _ <"$T/go"; exec "$IO_RW" read "$T/mnt/data" $R $B ) & PP=$!
if start_tool ftpid filetop -p "$PP" -C -r 10240 -j 1; then
	"$IO_RW" read "$T/mnt/data" 3 $B & PO=$!; wait $PO
	echo go >"$T/go"; wait $PP
	stop_tool ftpid
	check_eq filetop-pid-only "$PP" "$(jq -rs '[.[].rows[].pid] | unique | join(",")' "$T/ftpid.out")"
	check_eq filetop-pid-reads "$R $((R * B))" \
		"$(jq -rs "[.[].rows[] | select(.file == \"$T/mnt/data\")] | [(map(.reads) | add), (map(.rbytes) | add)] | join(\" \")" "$T/ftpid.out")"
else
	kill "$PP" 2>/dev/null
fi

# ---- fileslower: throttled reads are reported, cached ones are not --------
# Throttle reads of the loop disk to 64 KiB/s for one cgroup: a 16 KiB
# O_DIRECT read then takes about 250 ms.
if [ -w /sys/fs/cgroup/blkio/blkio.throttle.read_bps_device ]; then
	CG=/sys/fs/cgroup/blkio/pktscope-io-$$
	mkdir "$CG" && echo "$DEVNO 65536" >"$CG/blkio.throttle.read_bps_device"
elif grep -qw io /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
	CG=/sys/fs/cgroup/pktscope-io-$$
	echo +io >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null
	mkdir "$CG" && echo "$DEVNO rbps=65536" >"$CG/io.max"
fi
if [ -z "$CG" ] || [ ! -d "$CG" ]; then
	skip fileslower-throttled "no blkio (v1) or io (v2) cgroup controller to slow the disk"
else
	dd if=/dev/urandom of="$T/mnt/slow" bs=16k count=4 conv=fsync status=none
	dd if=/dev/zero of="$T/mnt/fast" bs=16k count=4 status=none	# stays cached
	if start_tool slow fileslower 10 -j; then
		(echo $BASHPID >"$CG/cgroup.procs" &&
			exec dd if="$T/mnt/slow" of=/dev/null bs=16k count=4 iflag=direct status=none) &
		S1=$!; wait $S1
		dd if="$T/mnt/fast" of=/dev/null bs=16k count=4 status=none & S2=$!; wait $S2
		stop_tool slow
		out=$T/slow.out
		check_eq fileslower-slow-reads "4 4 65536 $T/mnt/slow" \
			"$(jq -rs "[.[] | select(.pid == $S1)] | [length, ([.[] | select(.lat_ms > 10 and .d == \"R\")] | length), (map(.bytes) | add), .[0].file] | join(\" \")" "$out")"
		check_eq fileslower-offsets "0 16 32 48" \
			"$(jq -rs "[.[] | select(.pid == $S1) | .off_kb] | sort | join(\" \")" "$out")"
		check_eq fileslower-skips-fast 0 \
			"$(jq -s "[.[] | select(.pid == $S2 or .file == \"$T/mnt/fast\")] | length" "$out")"
	fi
fi

# ---- bad input: clear error, exit 2 ----------------------------------------
check_rc bad-disk 2 "$PKTSCOPE" biosnoop -d nosuchdisk0
check_eq bad-disk-message 1 "$(echo "$LAST_ERR" | grep -c "unknown disk 'nosuchdisk0'")"
check_rc bad-disk-biolatency 2 "$PKTSCOPE" biolatency -d nosuchdisk0
check_rc bad-disk-biotop 2 "$PKTSCOPE" biotop -d nosuchdisk0 1 1
check_rc negative-threshold 2 "$PKTSCOPE" fileslower -5
check_eq negative-threshold-message 1 "$(echo "$LAST_ERR" | grep -c "negative")"
check_rc bad-threshold 2 "$PKTSCOPE" fileslower 10ms
check_rc bad-sort 2 "$PKTSCOPE" filetop --sort size
check_rc bad-interval 2 "$PKTSCOPE" biotop 0
check_rc negative-interval 2 "$PKTSCOPE" biolatency -- -1

suite_end
