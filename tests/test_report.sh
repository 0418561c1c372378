#!/usr/bin/env bash
# pktscope report: four synthetic workloads, each started here, and the
# verdict must name the right class with evidence naming the right function,
# stack, device or flow:
#   cpu      tests/progs/cpuhog (all its time in hot())
#   memory   tests/progs/leakloop (4 MiB/s leaked in 4 KiB blocks from leak_steady())
#   io       tests/progs/coldio on an ext4 loop device (cold reads, O_DIRECT writes)
#   network  tests/progs/tcpxfer through a two-host netns bench, pktscope's drop
#            filter losing 2% of the client's egress TCP packets to port 5201
# With them: mallocstat (leaker's exact allocation count), filetop (io_rw's
# exact reads of a file), tcplife (a short connection's exact bytes) and the
# RTT of the attached interface (against 'pktscope rtt').
# Then: the HTML is well-formed, renders in headless Chromium without console
# errors into a screenshot that is not blank; bad input is a usage error;
# Ctrl-C during collection still writes the report, marked partial.
source "$(dirname "$0")/lib.sh"
source "$REPO_DIR/netns-scripts/two-hosts.sh"

PROGS=$BUILD_DIR/tests/progs
# Debian's python3-* packages (PIL) are for the system interpreter.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
for t in jq losetup mkfs.ext4 python3; do
	command -v $t >/dev/null || { skip setup "$t not installed (make deps)"; exit 0; }
done
for p in cpuhog leakloop coldio tcpxfer leaker io_rw; do
	[ -x "$PROGS/$p" ] || { fail setup "$PROGS/$p missing: run make"; exit 1; }
done

T=$(mktemp -d /tmp/pktscope-report.XXXXXX)
TAG="$(uniq_tag)r"
BG="" LOOP="" NET_UP=""
cleanup() {
	local p
	for p in $BG; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	if [ -n "$NET_UP" ]; then
		"$PKTSCOPE" --netns "$TAG-a" detach veth0 >/dev/null 2>&1
		two_hosts_down "$TAG"
	fi
	mountpoint -q "$T/mnt" && umount "$T/mnt"
	[ -n "$LOOP" ] && losetup -d "$LOOP"
	rm -rf "$T"
}
trap cleanup EXIT

# wait_for FILE REGEX: poll (10 s at most) until FILE has a line matching REGEX.
wait_for() {
	local i
	for i in $(seq 100); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# run_report NAME ARGS...: report -d 5 into $T/NAME.{html,json,out,err}.
run_report() {
	local name=$1; shift
	"$PKTSCOPE" "$@" -o "$T/$name.html" -j "$T/$name.json" >"$T/$name.out" 2>"$T/$name.err"
}

# run_report_bg NAME ARGS...: as run_report, in the background; sets RPT.
run_report_bg() {
	local name=$1; shift
	"$PKTSCOPE" "$@" -o "$T/$name.html" -j "$T/$name.json" >"$T/$name.out" 2>"$T/$name.err" &
	RPT=$!; BG="$BG $RPT"
}

# class_ev NAME CLASS CHECK REGEX: some evidence line of CLASS (ranked or not) matches.
class_ev() {
	if jq -r --arg c "$2" '.classes[] | select(.class == $c) | .evidence[]' "$T/$1.json" \
		2>/dev/null | grep -qE "$4"; then
		pass "$3"
	else
		fail "$3" "no $2 evidence line matches /$4/: $(jq -c --arg c "$2" \
			'.classes[] | select(.class == $c) | .evidence' "$T/$1.json" 2>&1)"
	fi
}

# jqv NAME FILTER: a value of NAME's JSON report.
jqv() { jq -r "$2" "$T/$1.json" 2>/dev/null; }

# evidence_has NAME CHECK REGEX: some evidence line of the verdict matches.
evidence_has() {
	if jq -r '.verdict.evidence[]' "$T/$1.json" 2>/dev/null | grep -qE "$3"; then
		pass "$2"
	else
		fail "$2" "no evidence line matches /$3/: $(jq -c '.verdict.evidence' "$T/$1.json" 2>&1)"
	fi
}

# ---- bad input ------------------------------------------------------------------
check_rc badinput_d0 2 "$PKTSCOPE" report -d 0 -o "$T/bad.html"
echo "$LAST_ERR" | grep -q "duration" && pass badinput_d0_msg || fail badinput_d0_msg "$LAST_ERR"
check_rc badinput_dneg 2 "$PKTSCOPE" report -d -3 -o "$T/bad.html"
echo "$LAST_ERR" | grep -q "out of range" && pass badinput_dneg_msg || fail badinput_dneg_msg "$LAST_ERR"
sh -c 'exit 0' & gone=$!; wait $gone
check_rc badinput_nopid 2 "$PKTSCOPE" report -d 1 -p "$gone" -o "$T/bad.html"
echo "$LAST_ERR" | grep -q "no process with PID $gone" && pass badinput_nopid_msg ||
	fail badinput_nopid_msg "$LAST_ERR"
check_rc badinput_iface 2 "$PKTSCOPE" report -d 1 --iface nosuchif0 -o "$T/bad.html"
[ ! -e "$T/bad.html" ] && pass badinput_nofile || fail badinput_nofile "a report was written"

# ---- cpu: cpuhog -----------------------------------------------------------------
"$PROGS/cpuhog" 60 >/dev/null & HOG=$!; BG="$BG $HOG"
utime() { awk '{ sub(/.*\) /, ""); print $12 }' "/proc/$1/stat"; }
u0=$(utime "$HOG"); w0=$(date +%s.%N)
run_report cpu report -d 5 -p "$HOG"
check_eq cpu_rc 0 $?
u1=$(utime "$HOG"); w1=$(date +%s.%N)
check_eq cpu_verdict cpu "$(jqv cpu .verdict.class)"
evidence_has cpu cpu_evidence_function '% of [0-9]+ samples in hot\(\) \(cpuhog\)'
evidence_has cpu cpu_evidence_stack 'hottest stack .*main;outer;hot'
# The hog's user time in the report's window against the kernel's account
# over the enclosing window (the whole command): never more, and less by at
# most what the hog can run during set-up and teardown (one CPU's worth).
hz=$(getconf CLK_TCK)
u=$(jqv cpu '.cpu.pid_user_pct') e=$(jqv cpu '.elapsed_s')
awk -v u="$u" -v e="$e" -v d=$((u1 - u0)) -v hz="$hz" -v w0="$w0" -v w1="$w1" '
	BEGIN { r = u / 100 * e; ref = d / hz; w = w1 - w0
		exit !(r <= ref + 0.05 && r >= ref - (w - e) - 0.05) }' && pass cpu_user_time ||
	fail cpu_user_time "report: $u% of $e s; /proc: $((u1 - u0)) ticks over the whole command"
check_eq cpu_partial false "$(jqv cpu .partial)"
grep -qE 'report: +[0-9]+/5 s, profile 99 Hz, syscount, memleak, biolatency' "$T/cpu.err" && pass cpu_progress ||
	fail cpu_progress "no progress line on stderr: $(head -2 "$T/cpu.err")"
kill "$HOG"; wait "$HOG" 2>/dev/null

# ---- memory: leakloop ------------------------------------------------------------
"$PROGS/leakloop" 4096 60 >"$T/leak.prog" & LEAK=$!; BG="$BG $LEAK"
wait_for "$T/leak.prog" '^ready' || fail leak_start "leakloop did not start"
run_report mem report -d 5 -p "$LEAK"
check_eq mem_rc 0 $?
check_eq mem_verdict memory "$(jqv mem .verdict.class)"
evidence_has mem mem_evidence_stack 'under stack leak_steady <- grow <- main'
evidence_has mem mem_evidence_rate 'grew [0-9.]+ MiB in [0-9.]+ s: [0-9.]+ MiB/s \(threshold 1 MiB/s\)'
# Every block leak_steady() keeps is 4096 bytes: bytes = 4096 x allocations, exactly.
b=$(jqv mem '.memory.stacks[0].bytes') a=$(jqv mem '.memory.stacks[0].allocs')
check_eq mem_stack_bytes "$((a * 4096))" "$b"
# 4096 KiB/s nominal, less the loop's own time: 3.0 .. 4.1 MiB/s.
r=$(jqv mem '.memory.growth_bytes_per_s')
awk -v r="$r" 'BEGIN { exit !(r >= 3.0 * 1048576 && r <= 4.1 * 1048576) }' &&
	pass mem_rate || fail mem_rate "growth $r B/s, leakloop leaks 4 MiB/s"
kill "$LEAK"; wait "$LEAK" 2>/dev/null

# ---- mallocstat and filetop: known work, done while two reports run side by side ----
# leaker stat N S waits for SIGUSR1, then makes exactly N malloc(S), each freed.
# For filetop the PID is known before the reads: a shell waits on a FIFO, then
# execs io_rw (reads of a FIFO are not regular-file IO, which is all the
# report's filetop keeps).
"$PROGS/leaker" stat 5000 100 >"$T/ms.prog" & LKR=$!; BG="$BG $LKR"
truncate -s 4M "$T/ft.dat"
mkfifo "$T/go"
bash -c 'read -r _ <"$1"; exec "$2" read "$3" 64 65536' _ "$T/go" "$PROGS/io_rw" "$T/ft.dat" \
	>"$T/ft.prog" 2>&1 & FTP=$!; BG="$BG $FTP"
wait_for "$T/ms.prog" '^ready' || fail ms_start "leaker did not start"
run_report_bg ms report -d 2 -p "$LKR"; RPT_MS=$RPT
run_report_bg ft report -d 2 -p "$FTP"; RPT_FT=$RPT
wait_for "$T/ms.err" 'report: *0/2 s' || fail ms_attach "no progress: $(cat "$T/ms.err")"
kill -USR1 "$LKR"
wait_for "$T/ft.err" 'report: *0/2 s' || fail ft_attach "no progress: $(cat "$T/ft.err")"
echo go >"$T/go"
wait "$FTP"; check_eq ft_workload_rc 0 $?
wait_for "$T/ms.prog" '^done' || fail ms_done "leaker did not finish"
wait "$RPT_MS"; check_eq ms_rc 0 $?
wait "$RPT_FT"; check_eq ft_rc 0 $?

check_eq ms_mallocs 5000 "$(jqv ms '.memory.mallocstat.mallocs')"
check_eq ms_frees 5000 "$(jqv ms '.memory.mallocstat.frees')"
check_eq ms_bytes 500000 "$(jqv ms '.memory.mallocstat.bytes')"
check_eq ms_size_hist '64-128:5000' \
	"$(jqv ms '.memory.mallocstat.size_hist | map("\(.lo)-\(.hi):\(.count)") | join(",")')"
class_ev ms memory ms_evidence 'mallocstat: 5000 allocation calls requesting 0.5 MiB, 5000 frees; most requests 64..127 bytes'
grep -qE 'id="mallocstat">.*<tr><td class="n">5000</td><td class="n">5000</td><td class="n">500000</td>' \
	<(tr -d '\n' <"$T/ms.html") && pass ms_html_table || fail ms_html_table "no mallocstat row 5000/5000/500000"
kill "$LKR"; wait "$LKR" 2>/dev/null

row=$(jq -c --arg f "/$(basename "$T")/ft.dat" \
	'[.io.files[] | select(.file | endswith($f))][0] | [.comm, .reads, .read_bytes, .writes]' \
	"$T/ft.json")
check_eq ft_row '["io_rw",64,4194304,0]' "$row"
class_ev ft io ft_evidence 'top file by bytes of the target: .*/ft\.dat, 64 reads \(4\.0 MiB\), 0 writes'
grep -qE 'id="files">.*ft\.dat</td><td class="n">'"$FTP"'</td><td>io_rw</td><td class="n">64</td><td class="n">4194304</td>' \
	<(tr -d '\n' <"$T/ft.html") && pass ft_html_table || fail ft_html_table "no filetop row for ft.dat with 64 reads, 4194304 bytes"

# ---- network: 2% egress drops on a TCP transfer ------------------------------------
if two_hosts_up "$TAG"; then
	NET_UP=1
	if "$PKTSCOPE" --netns "$NS_A" attach veth0 --rtt >/dev/null 2>"$T/attach.err" &&
	   "$PKTSCOPE" --netns "$NS_A" filter add veth0 --drop --proto tcp --dport 5201 --rate 0.02 \
		--dir egress >/dev/null 2>>"$T/attach.err"; then
		ip netns exec "$NS_A" ping -c 1 -W 2 "$IP_B" >/dev/null 2>&1
		ip netns exec "$NS_B" "$PROGS/tcpxfer" server "$IP_B" 5201 0 >"$T/srv.out" 2>&1 &
		SRV=$!; BG="$BG $SRV"
		wait_for "$T/srv.out" '^ready' || fail net_server "tcpxfer server did not start"
		ip netns exec "$NS_A" "$PROGS/tcpxfer" client "$IP_B" 5201 1000000000000 \
			>/dev/null 2>&1 &
		CLI=$!; BG="$BG $CLI"
		# A second, short connection that closes inside the window: tcplife.
		ip netns exec "$NS_B" "$PROGS/tcpxfer" server "$IP_B" 5202 12345 >"$T/srv2.out" 2>&1 &
		SRV2=$!; BG="$BG $SRV2"
		wait_for "$T/srv2.out" '^ready' || fail net_server2 "tcpxfer server did not start"
		# ip netns exec execs the client: $CLI is the client itself.
		run_report_bg net --netns "$NS_A" report -d 5 -p "$CLI" --iface veth0
		wait_for "$T/net.err" 'report: *0/5 s' || fail net_attach "no progress: $(cat "$T/net.err")"
		ip netns exec "$NS_A" timeout 4 "$PROGS/tcpxfer" client "$IP_B" 5202 777777 \
			>"$T/cli2.out" 2>&1
		check_eq net_short_conn_rc 0 $?
		wait "$RPT"
		check_eq net_rc 0 $?
		check_eq net_verdict network "$(jqv net .verdict.class)"
		evidence_has net net_evidence_flow "on flow $IP_A:[0-9]+ -> $IP_B:5201: "
		evidence_has net net_evidence_drops "veth0 tc_egress: [0-9.]+% of packets dropped"
		# The kernel's own account of the same drops (skb:kfree_skb reason).
		evidence_has net net_evidence_reason 'dropped by the kernel in netns [^:]+: .*TC_EGRESS [0-9]+ \(tc\)'
		check_eq net_flow_remote "$IP_B:5201" "$(jqv net '.network.flows[0].remote')"
		check_eq net_drop_hook tc_egress "$(jqv net '.network.iface_drop_hook')"
		# The drop rate against the rule's own counter: pktscope filter list.
		p=$(jqv net '.network.iface_hook_drops') q=$(jqv net '.network.iface_hook_packets')
		awk -v p="$p" -v q="$q" 'BEGIN { exit !(q > 500 && p / q >= 0.012 && p / q <= 0.03) }' &&
			pass net_drop_rate || fail net_drop_rate "$p of $q egress packets dropped, rule says 2%"
		# tcplife: the short connection, with the bytes tcpxfer sent and got back.
		check_eq net_tcplife_conn '["tcpxfer",777777,12345]' "$(jq -c --arg r "$IP_B:5202" \
			'[.network.connections[] | select(.remote == $r)][0] | [.comm, .tx_bytes, .rx_bytes]' \
			"$T/net.json")"
		evidence_has net net_evidence_tcplife 'TCP connections? closed, lasting [0-9.e+-]+ ms on average'
		grep -qE 'id="conns">.*'"$IP_B"':5202</td><td class="n">[0-9]+</td><td>tcpxfer</td><td class="n">777777</td><td class="n">12345</td>' \
			<(tr -d '\n' <"$T/net.html") && pass net_html_conns || fail net_html_conns "no tcplife row for :5202"
		# RTT (attach --rtt): the closed connection's flow against 'pktscope rtt'
		# read afterwards, which sees the same pinned flow table.
		check_eq net_rtt_measured true "$(jqv net '.network.rtt.measured')"
		evidence_has net net_evidence_rtt "RTT on veth0 of flow $IP_A:[0-9]+ -> $IP_B:5201: p50 [0-9.e+-]+ ms, max [0-9.e+-]+ ms"
		ref=$("$PKTSCOPE" --netns "$NS_A" rtt veth0 -j | jq -c --arg a "$IP_B" \
			'[.flows[] | select(.remote_addr == $a and .remote_port == 5202)][0] | [.samples, .max_us, .p50_us]')
		got=$(jq -c --arg r "$IP_B:5202" \
			'[.network.rtt.flows[] | select(.remote == $r)][0] | [.samples, .max_us, .p50_us]' "$T/net.json")
		[ "$ref" != "null" ] && [ "$ref" != "[null,null,null]" ] && check_eq net_rtt_flow "$ref" "$got" ||
			fail net_rtt_flow "no :5202 flow in 'pktscope rtt veth0': $ref"
		grep -q '<title>RTT samples on veth0, log2 microseconds</title>' "$T/net.html" &&
			pass net_html_rtt_svg || fail net_html_rtt_svg "no RTT histogram SVG"
		kill "$CLI" "$SRV" "$SRV2" 2>/dev/null; wait "$CLI" "$SRV" "$SRV2" 2>/dev/null
	else
		fail net_setup "attach/filter failed: $(cat "$T/attach.err")"
	fi
	"$PKTSCOPE" --netns "$NS_A" detach veth0 >/dev/null 2>&1
	two_hosts_down "$TAG"; NET_UP=""
else
	fail net_setup "two_hosts_up $TAG failed"
fi

# ---- io: cold reads and direct writes on a loop device --------------------------------
truncate -s 128M "$T/img"
if LOOP=$(losetup -f --show "$T/img") &&
   mkfs.ext4 -q -O ^has_journal -E lazy_itable_init=0,lazy_journal_init=0 "$LOOP" &&
   mkdir "$T/mnt" && mount -o noatime "$LOOP" "$T/mnt"; then
	DISK=$(basename "$LOOP")
	"$PROGS/coldio" "$T/mnt" 60 >"$T/io.prog" 2>&1 & IOP=$!; BG="$BG $IOP"
	wait_for "$T/io.prog" '^ready' || fail io_start "coldio did not start: $(cat "$T/io.prog")"
	run_report io report -d 5 -p "$IOP"
	check_eq io_rc 0 $?
	check_eq io_verdict io "$(jqv io .verdict.class)"
	evidence_has io io_evidence_device "p99 block IO latency [0-9.e+-]+ ms on $DISK "
	evidence_has io io_evidence_cache 'cache hit ratio [0-9.]+%'
	evidence_has io io_evidence_file 'top file by bytes of the target: .*/cold, [0-9]+ reads'
	check_eq io_busiest_disk "$DISK" \
		"$(jq -r '.io.disks | max_by(.pid_requests) | .disk' "$T/io.json")"
	kill "$IOP"; wait "$IOP" 2>/dev/null
else
	fail io_setup "loop device / ext4 set-up failed"
fi

# ---- HTML: well-formed, renders, not blank -----------------------------------------
cat >"$T/wellformed.py" <<'EOF'
import sys
from html.parser import HTMLParser
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
        "source", "track", "wbr"}
class P(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors = [], []
    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k in ("src", "href") and v and not v.startswith(("data:", "#")):
                self.errors.append("external reference %s=%s" % (k, v[:60]))
        if tag not in VOID:
            self.stack.append((tag, self.getpos()))
    def handle_startendtag(self, tag, attrs):
        pass
    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1][0] != tag:
            self.errors.append("unexpected </%s> at %s (open: %s)" %
                               (tag, self.getpos(), self.stack[-1] if self.stack else None))
            return
        self.stack.pop()
p = P()
p.feed(open(sys.argv[1], encoding="utf-8").read())
p.close()
if p.stack:
    p.errors.append("unclosed: %s" % p.stack[-3:])
print("\n".join(p.errors[:5]))
sys.exit(1 if p.errors else 0)
EOF
for n in cpu mem net io; do
	[ -s "$T/$n.html" ] || continue
	out=$("$PY" "$T/wellformed.py" "$T/$n.html" 2>&1) && pass "html_wellformed_$n" ||
		fail "html_wellformed_$n" "$out"
done

CHROME=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROME" ] || ! "$PY" -c 'import PIL' 2>/dev/null; then
	skip html_chromium "chromium or python3-pil not installed (make deps)"
else
	for n in cpu net; do
		[ -s "$T/$n.html" ] || continue
		timeout 90 "$CHROME" --headless --disable-gpu --no-sandbox --enable-logging=stderr \
			--v=0 --user-data-dir="$T/chrome-$n" --screenshot="$T/$n.png" \
			--window-size=1280,2000 "file://$T/$n.html" >/dev/null 2>"$T/$n.chrome" ||
			fail "html_chromium_$n" "chromium failed: $(tail -3 "$T/$n.chrome")"
		if grep -E 'CONSOLE|Uncaught|SyntaxError|ReferenceError|TypeError' "$T/$n.chrome" |
		   grep -v 'dbus' >"$T/$n.console"; then
			fail "html_console_$n" "$(head -3 "$T/$n.console")"
		else
			pass "html_console_$n"
		fi
		# Not blank: the verdict box, charts and flame graph colour a good part of it.
		frac=$("$PY" -c '
import sys
from PIL import Image
im = Image.open(sys.argv[1]).convert("RGB")
px = im.getdata()
print("%.4f" % (sum(1 for p in px if min(p) < 235) / float(len(px))))' "$T/$n.png" 2>&1)
		awk -v f="$frac" 'BEGIN { exit !(f >= 0.03) }' && pass "html_screenshot_$n" ||
			fail "html_screenshot_$n" "non-white fraction $frac of the screenshot"
	done
fi

# ---- Ctrl-C: a partial report of what was collected ----------------------------------
"$PROGS/cpuhog" 60 >/dev/null & HOG=$!; BG="$BG $HOG"
"$PKTSCOPE" report -d 60 -p "$HOG" -o "$T/part.html" -j "$T/part.json" \
	>"$T/part.out" 2>"$T/part.err" &
REP=$!; BG="$BG $REP"
wait_for "$T/part.err" 'report: *2/60 s' || fail partial_start "no progress: $(cat "$T/part.err")"
kill -INT "$REP"; wait "$REP"; rc=$?
check_eq partial_rc 0 "$rc"
check_eq partial_flag true "$(jqv part .partial)"
e=$(jqv part .elapsed_s)
awk -v e="$e" 'BEGIN { exit !(e >= 2 && e < 60) }' && pass partial_elapsed ||
	fail partial_elapsed "elapsed $e s"
check_eq partial_verdict cpu "$(jqv part .verdict.class)"
grep -q 'PARTIAL' "$T/part.html" && pass partial_html || fail partial_html "no PARTIAL mark"
kill "$HOG"; wait "$HOG" 2>/dev/null

suite_end
