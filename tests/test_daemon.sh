#!/usr/bin/env bash
# pktscope daemon: config errors, attach/reuse/detach-on-exit, the HTTP
# endpoint under bad clients, and a real Prometheus scraping it while a netns
# bench sends exactly N UDP packets: Prometheus's numbers must be exactly
# those of `pktscope stats -j` / `hist -j`.
#
# The daemon, Prometheus and every client run inside the bench's netns
# TAG-a, so their ports live on a loopback nobody else uses.
source "$(dirname "$0")/lib.sh"
source "$REPO_DIR/netns-scripts/two-hosts.sh"

export LC_ALL=C
TAG="$(uniq_tag)d"
TMP=$(mktemp -d /tmp/pktscope-daemon.XXXXXX)
PIDS=()
N=300		# UDP packets of the Prometheus run
M=50		# UDP packets after the restart
PAYLOAD=100	# bytes: frames of 142 bytes, bucket [128, 256)

cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	if [ -n "${NS_A:-}" ] && ip netns pids "$NS_A" >/dev/null 2>&1; then
		"$PKTSCOPE" --netns "$NS_A" detach veth0 >/dev/null 2>&1
		"$PKTSCOPE" --netns "$NS_A" detach vx0 >/dev/null 2>&1
		"$PKTSCOPE" --netns "$NS_A" detach --tcp >/dev/null 2>&1
		"$PKTSCOPE" --netns "$NS_A" drops --persist detach >/dev/null 2>&1
	fi
	two_hosts_down "$TAG"
	rm -rf "$TMP"
}
trap cleanup EXIT

for t in prometheus promtool curl jq python3; do
	command -v $t >/dev/null || { skip all "no $t (make deps installs it)"; exit 0; }
done
two_hosts_up "$TAG" || { fail setup "two_hosts_up $TAG failed"; exit 1; }
# (background processes: call ip netns exec directly, so $! is their pid)
nsa() { ip netns exec "$NS_A" "$@"; }
# A second interface in TAG-a, for what the daemon attaches itself.
ip -n "$NS_A" link add vx0 type veth peer name vx1 &&
	ip -n "$NS_A" link set vx0 up && ip -n "$NS_A" link set vx1 up ||
	{ fail setup "veth vx0"; exit 1; }
ip netns exec "$NS_B" ping -c1 -W2 "$IP_A" >/dev/null

INO=$(stat -L -c %i "/run/netns/$NS_A")
pin_dir() { echo "/sys/fs/bpf/pktscope/$INO-$(ip -n "$NS_A" -o link show "$1" | cut -d: -f1)"; }
PIN_VETH=$(pin_dir veth0)
PIN_VX=$(pin_dir vx0)
PIN_TCP=/sys/fs/bpf/pktscope/tcp-$INO
PIN_DROPS=/sys/fs/bpf/pktscope/drops-$INO

# A TCP port nobody listens on in TAG-a (it is a fresh netns, but check).
free_port() {
	local p i
	for i in $(seq 50); do
		p=$((20000 + RANDOM % 40000))
		[ -z "$(nsa ss -Hltn "sport = :$p")" ] && { echo "$p"; return 0; }
	done
	return 1
}
DPORT=$(free_port)
PPORT=$(free_port)
[ "$DPORT" != "$PPORT" ] || PPORT=$((DPORT + 1))
URL=http://127.0.0.1:$DPORT

http_code() { nsa curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@"; }

# start_daemon NAME CONF: wait until /healthz answers.
DPID=""
start_daemon() {
	local name=$1 conf=$2 i
	"$PKTSCOPE" --netns "$NS_A" daemon --config "$conf" >"$TMP/$name.out" 2>"$TMP/$name.err" &
	DPID=$!
	PIDS+=("$DPID")
	for i in $(seq 100); do
		[ "$(http_code "$URL/healthz")" = 200 ] && return 0
		kill -0 "$DPID" 2>/dev/null || break
		sleep 0.1
	done
	fail "start-$name" "daemon not serving: $(cat "$TMP/$name.err")"
	return 1
}
# stop_daemon NAME: SIGTERM; its exit status must be 0.
stop_daemon() {
	local rc
	kill -TERM "$DPID"
	wait "$DPID"; rc=$?
	check_eq "$1-sigterm-exit-0" 0 "$rc"
}

# ---- bad configs: exit 2 (1 for a busy port), file:line, nothing attached ----
nothing_attached() {
	if [ -e "$PIN_VETH" ] || [ -e "$PIN_VX" ] || [ -e "$PIN_TCP" ] || [ -e "$PIN_DROPS" ]; then
		fail "$1-nothing-attached" "pins left: $(ls -d "$PIN_VETH" "$PIN_VX" "$PIN_TCP" "$PIN_DROPS" 2>/dev/null)"
	else
		pass "$1-nothing-attached"
	fi
}
# bad_conf NAME RC PATTERN: the config in $TMP/NAME.conf
bad_conf() {
	local name=$1 rc=$2 pat=$3
	check_rc "$name-exit-$rc" "$rc" "$PKTSCOPE" --netns "$NS_A" daemon --config "$TMP/$name.conf"
	if grep -qF -- "$pat" <<<"$LAST_ERR"; then pass "$name-message"; else
		fail "$name-message" "wanted '$pat' in: $LAST_ERR"; fi
	nothing_attached "$name"
}

printf 'listen = 127.0.0.1:%s\n[iface vx0]\nfoo = 1\n' "$DPORT" >"$TMP/unknown-key.conf"
bad_conf unknown-key 2 "unknown-key.conf:3: unknown key 'foo' in [iface vx0] (expected one of: mode, xdp, tc, rtt, tcx)"
printf '[iface vx0]\ntc = no\ntcx = yes\n' >"$TMP/tcx-no-tc.conf"
bad_conf tcx-no-tc 2 "tcx-no-tc.conf:1: [iface vx0]: tcx = yes says how to attach TC, tc = no not to attach it"
printf '[iface vx0]\ntcx = maybe\n' >"$TMP/bad-tcx.conf"
bad_conf bad-tcx 2 "bad-tcx.conf:2: bad value 'maybe' for tcx (expected yes, no or auto)"
printf '# tcp\n\ntcp = maybe\n[iface vx0]\n' >"$TMP/bad-value.conf"
bad_conf bad-value 2 "bad-value.conf:3: bad value 'maybe' for tcp (expected yes or no)"
printf '[iface vx0]\nmode = turbo\n' >"$TMP/bad-mode.conf"
bad_conf bad-mode 2 "bad-mode.conf:2: bad value 'turbo' for mode (expected native, generic or auto)"
printf 'listen = localhost:80\n' >"$TMP/bad-listen.conf"
bad_conf bad-listen 2 "bad-listen.conf:1: bad value 'localhost:80' for listen"
printf 'tcp = yes\n[iface vx0]\n[iface veth0]\nmode = generic\n[iface vx0]\n' >"$TMP/dup-iface.conf"
bad_conf dup-iface 2 "dup-iface.conf:5: interface vx0 is configured twice (first at line 2)"
printf 'tcp = yes\n[iface veth0]\n[iface nosuch9]\n' >"$TMP/no-iface.conf"
bad_conf no-iface 2 "no-iface.conf:3: no interface 'nosuch9'"
printf 'bogus = 1\n' >"$TMP/global-key.conf"
bad_conf global-key 2 "global-key.conf:1: unknown key 'bogus' (expected one of: listen, tcp,"

# The shipped example is valid (its eth0 made veth0 of the bench).
sed 's/^\[iface eth0\]/[iface veth0]/' "$REPO_DIR/ctl/pktscope.conf.example" >"$TMP/example.conf"
check_rc example-config-checks 0 "$PKTSCOPE" --netns "$NS_A" daemon --config "$TMP/example.conf" --check
check_rc flags-dup-iface-exit-2 2 "$PKTSCOPE" --netns "$NS_A" daemon --iface vx0 --iface vx0
check_rc flags-and-config-exit-2 2 "$PKTSCOPE" --netns "$NS_A" daemon --config "$TMP/example.conf" --tcp
nothing_attached flags

# A port in use: exit 1, and the interfaces and TCP probes are left alone.
ip netns exec "$NS_A" python3 -c 'import socket,sys,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); print("ready", flush=True); time.sleep(60)' \
	"$DPORT" >"$TMP/busy.out" &
BUSY=$!
PIDS+=("$BUSY")
for i in $(seq 50); do grep -q ready "$TMP/busy.out" && break; sleep 0.1; done
printf 'listen = 127.0.0.1:%s\ntcp = yes\ndrops = yes\n[iface veth0]\n[iface vx0]\n' "$DPORT" >"$TMP/port-busy.conf"
bad_conf port-busy 1 "Address already in use"
kill "$BUSY"; wait "$BUSY" 2>/dev/null

# ---- first daemon: attaches veth0 and the TCP probes, keeps them on exit ----
cat >"$TMP/d1.conf" <<EOF
# first run: counts must survive a restart
listen = 127.0.0.1:$DPORT
tcp = yes
drops = yes
detach_on_exit = no

[iface veth0]
mode = native
rtt = yes
EOF
start_daemon d1 "$TMP/d1.conf" || exit 1
[ -d "$PIN_VETH" ] && [ -d "$PIN_TCP" ] && pass d1-attached || fail d1-attached "no $PIN_VETH or $PIN_TCP"
[ -d "$PIN_DROPS" ] && pass d1-drops-attached || fail d1-drops-attached "no $PIN_DROPS"

# Kernel drops: exactly K datagrams dropped by nftables in TAG-a.
K=37 KPORT=39120
KSER="pktscope_kernel_drops_total{netns=\"$NS_A\",iface=\"veth0\",where=\"stack\",reason=\"NETFILTER_DROP\"}"
kscrape() { nsa curl -s --max-time 5 "$URL/metrics" | awk -v s="$KSER" 'index($0, s " ") == 1 {print $2}'; }
nsa nft add table inet pst && nsa nft add chain inet pst c '{ type filter hook input priority 0; }' &&
	nsa nft add rule inet pst c udp dport $KPORT drop || fail nft-setup "nft in $NS_A"
ip netns exec "$NS_B" python3 -c 'import socket,sys
s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(int(sys.argv[3])): s.sendto(b"k" * 30, (sys.argv[1], int(sys.argv[2])))' "$IP_A" $KPORT $K
for i in $(seq 40); do [ "$(kscrape)" = $K ] && break; sleep 0.1; done
check_eq kernel-drops-netfilter-exact $K "$(kscrape)"

nsa curl -s --max-time 5 "$URL/metrics" >"$TMP/scrape.txt"
if out=$(promtool check metrics <"$TMP/scrape.txt" 2>&1); then pass promtool-check-metrics; else
	fail promtool-check-metrics "$out"; fi
dups=$(grep -v '^#' "$TMP/scrape.txt" | awk '{print $1}' | sort | uniq -d | head -3)
check_eq no-duplicate-series "" "$dups"
nsa curl -s --max-time 5 -D "$TMP/om.hdr" -H 'Accept: application/openmetrics-text; version=1.0.0' \
	"$URL/metrics" >"$TMP/om.txt"
grep -qi '^content-type: application/openmetrics-text; version=1.0.0' "$TMP/om.hdr" &&
	pass openmetrics-content-type || fail openmetrics-content-type "$(cat "$TMP/om.hdr")"
check_eq openmetrics-ends-with-eof "# EOF" "$(tail -1 "$TMP/om.txt")"
check_eq openmetrics-counter-type "# TYPE pktscope_packets counter" \
	"$(grep '^# TYPE pktscope_packets ' "$TMP/om.txt")"

# ---- a real Prometheus scrapes every second while N packets are sent ----
cat >"$TMP/prom.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: pktscope
    static_configs:
      - targets: ['127.0.0.1:$DPORT']
EOF
ip netns exec "$NS_A" prometheus --config.file="$TMP/prom.yml" --storage.tsdb.path="$TMP/prom" \
	--web.listen-address="127.0.0.1:$PPORT" --log.level=warn >"$TMP/prom.log" 2>&1 &
PROM=$!
PIDS+=("$PROM")
PROM_URL=http://127.0.0.1:$PPORT
for i in $(seq 150); do
	[ "$(http_code "$PROM_URL/-/ready")" = 200 ] && break
	sleep 0.1
done
[ "$(http_code "$PROM_URL/-/ready")" = 200 ] && pass prometheus-ready ||
	{ fail prometheus-ready "$(tail -5 "$TMP/prom.log")"; exit 1; }

# promq EXPR: the value of the single series of EXPR ("" when none).
promq() {
	nsa curl -s --max-time 5 -G --data-urlencode "query=$1" "$PROM_URL/api/v1/query" |
		jq -r 'if (.data.result | length) == 1 then .data.result[0].value[1] else "" end'
}
stats() { "$PKTSCOPE" --netns "$NS_A" stats veth0 -j | jq -r "$1"; }
hist128() { "$PKTSCOPE" --netns "$NS_A" hist size veth0 -j | jq -r ".size.$1[] | select(.lo == 128) | .count"; }
# prom_equals NAME EXPR JQ: poll until Prometheus's last value of EXPR equals
# what `pktscope stats -j` shows (read again each time), up to 15 s.
prom_equals() {
	local name=$1 expr=$2 want got i
	for i in $(seq 60); do
		want=$(eval "$3")
		got=$(promq "$expr")
		[ "$got" = "$want" ] && break
		sleep 0.25
	done
	check_eq "$name" "$want" "$got"
}
SEL="netns=\"$NS_A\",iface=\"veth0\""

send_udp() {
	ip netns exec "$NS_B" python3 -c 'import socket,sys,time
s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(int(sys.argv[3])):
    s.sendto(b"x" * int(sys.argv[4]), (sys.argv[1], int(sys.argv[2])))
    if i % 20 == 19: time.sleep(0.002)' "$IP_A" 9 "$1" "$PAYLOAD"
}

# wait for a first scrape, then count
for i in $(seq 40); do [ -n "$(promq "pktscope_up")" ] && break; sleep 0.25; done
x0=$(stats '.dirs.xdp.l3_packets.ipv4'); h0=$(hist128 xdp)
send_udp "$N"
x1=$(stats '.dirs.xdp.l3_packets.ipv4'); h1=$(hist128 xdp)
check_eq stats-counts-n-sent "$N" "$((x1 - x0))"
check_eq hist-counts-n-sent "$N" "$((h1 - h0))"
prom_equals prom-xdp-ipv4-equals-stats \
	"pktscope_packets_total{$SEL,dir=\"xdp\",l3=\"ipv4\"}" "stats .dirs.xdp.l3_packets.ipv4"
prom_equals prom-tc-ingress-ipv4-equals-stats \
	"pktscope_packets_total{$SEL,dir=\"tc_ingress\",l3=\"ipv4\"}" "stats .dirs.tc_ingress.l3_packets.ipv4"
prom_equals prom-xdp-udp-equals-stats \
	"pktscope_l4_packets_total{$SEL,dir=\"xdp\",l4=\"udp\"}" "stats .dirs.xdp.l4_packets.udp"
prom_equals prom-xdp-bytes-equals-stats \
	"pktscope_bytes_total{$SEL,dir=\"xdp\",l3=\"ipv4\"}" "stats .dirs.xdp.l3_bytes.ipv4"
prom_equals prom-hist-count-equals-packets \
	"pktscope_packet_size_bytes_count{$SEL,dir=\"xdp\"}" "stats .dirs.xdp.packets"
prom_equals prom-hist-sum-equals-bytes \
	"pktscope_packet_size_bytes_sum{$SEL,dir=\"xdp\"}" "stats .dirs.xdp.bytes"
prom_equals prom-hist-bucket-128-255 \
	"pktscope_packet_size_bytes_bucket{$SEL,dir=\"xdp\",le=\"255\"} - ignoring(le) pktscope_packet_size_bytes_bucket{$SEL,dir=\"xdp\",le=\"127\"}" \
	"hist128 xdp"
# within one scrape: the histogram's _count is the sum of the L3 series
check_eq prom-count-minus-packets-same-scrape 0 \
	"$(promq "pktscope_packet_size_bytes_count{$SEL,dir=\"tc_ingress\"} - on() sum(pktscope_packets_total{$SEL,dir=\"tc_ingress\"})")"
# RTT: each echo request timed at TC egress and closed by its reply: one sample each.
ip netns exec "$NS_A" ping -c 5 -i 0.2 -W 2 "$IP_B" >/dev/null
prom_equals prom-rtt-icmp-count-equals-pings \
	"pktscope_rtt_seconds_count{$SEL,src=\"icmp\"}" "echo 5"
check_eq prom-rtt-inf-bucket-equals-count 5 \
	"$(promq "pktscope_rtt_seconds_bucket{$SEL,src=\"icmp\",le=\"+Inf\"}")"
check_eq prometheus-scrape-healthy 1 "$(promq "up{job=\"pktscope\"}")"
kill -TERM "$PROM"; wait "$PROM" 2>/dev/null

stop_daemon d1
[ -d "$PIN_VETH" ] && [ -d "$PIN_TCP" ] && pass d1-detach-on-exit-no-keeps-pins ||
	fail d1-detach-on-exit-no-keeps-pins "pins gone"

# ---- restart: pins reused (totals kept), vx0 attached anew ----
cat >"$TMP/d2.conf" <<EOF
listen = 127.0.0.1:$DPORT
tcp = yes
drops = yes
detach_on_exit = yes
read_timeout = 3

[iface veth0]
mode = native
[iface vx0]
mode = generic
tcx = no
EOF
before=$(stats '.dirs.xdp.l3_packets.ipv4')
start_daemon d2 "$TMP/d2.conf" || exit 1
scrape() { nsa curl -s --max-time 5 "$URL/metrics" | awk -v s="$1" 'index($0, s " ") == 1 {print $2}'; }
check_eq restart-totals-kept "$before" "$(scrape "pktscope_packets_total{$SEL,dir=\"xdp\",l3=\"ipv4\"}")"
grep -q "veth0: reusing the existing attachment" "$TMP/d2.err" && pass restart-reuses-pins ||
	fail restart-reuses-pins "$(cat "$TMP/d2.err")"
grep -q "kernel drop probes: reusing the existing pins" "$TMP/d2.err" &&
	pass restart-reuses-drop-pins || fail restart-reuses-drop-pins "$(cat "$TMP/d2.err")"
check_eq restart-kernel-drops-kept $K "$(kscrape)"
send_udp "$M"
check_eq restart-counts-continue "$((before + M))" \
	"$(scrape "pktscope_packets_total{$SEL,dir=\"xdp\",l3=\"ipv4\"}")"
check_eq vx0-exported 1 \
	"$(scrape "pktscope_attachment_info{netns=\"$NS_A\",iface=\"vx0\",ifindex=\"$(basename "$PIN_VX" | cut -d- -f2)\",xdp_mode=\"generic\"}")"
# veth0 kept tcx = auto (the default: TCX links on this kernel), vx0 said no.
check_eq veth0-tc-mode-default "tcx ok" \
	"$("$PKTSCOPE" status -j 2>/dev/null | jq -r --arg d "$PIN_VETH" '.attachments[] | select(.pin_dir == $d) | "\(.tc_mode) \(.state)"')"
check_eq vx0-tcx-no "clsact ok" \
	"$("$PKTSCOPE" status -j 2>/dev/null | jq -r --arg d "$PIN_VX" '.attachments[] | select(.pin_dir == $d) | "\(.tc_mode) \(.state)"')"

# ---- bad HTTP, with the daemon serving throughout ----
check_eq http-unknown-path-404 404 "$(http_code "$URL/nope")"
check_eq http-post-405 405 "$(http_code -X POST -d x "$URL/metrics")"
check_eq http-healthz-200 200 "$(http_code "$URL/healthz")"
check_eq http-huge-headers-431 431 \
	"$(http_code -H "X-Big: $(head -c 16384 /dev/zero | tr '\0' a)" "$URL/metrics")"

# Slowloris: one byte every 0.2 s.  A scrape meanwhile is served at once,
# and the trickler is cut off by read_timeout (3 s), not served.
ip netns exec "$NS_A" python3 -c 'import socket,sys,time
s=socket.create_connection(("127.0.0.1", int(sys.argv[1]))); t=time.time()
req=b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100
try:
    for b in req:
        s.send(bytes([b])); time.sleep(0.2)
    print("not cut off")
except OSError:
    print("cut off after %.0f s" % (time.time() - t))' "$DPORT" >"$TMP/slow.out" 2>&1 &
SLOW=$!
PIDS+=("$SLOW")
sleep 0.5
t0=$(date +%s%N)
code=$(http_code "$URL/metrics")
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check_eq slowloris-concurrent-scrape-200 200 "$code"
[ "$ms" -lt 2000 ] && pass slowloris-scrape-not-blocked || fail slowloris-scrape-not-blocked "took $ms ms"
wait "$SLOW"
case "$(cat "$TMP/slow.out")" in
"cut off after 3 s"|"cut off after 4 s") pass slowloris-cut-off-by-read-timeout ;;
*) fail slowloris-cut-off-by-read-timeout "$(cat "$TMP/slow.out")" ;;
esac

# 200 clients at once: all connect first, then ask.  Each gets a 200 or a
# clean 503 (slots are bounded); the refusals are counted by the daemon.
ref0=$(scrape pktscope_http_refused_connections_total)
nsa python3 -c 'import socket,sys,select
port=int(sys.argv[1]); socks=[socket.create_connection(("127.0.0.1", port)) for _ in range(200)]
res={}
# refusals are sent at accept: read them before writing anything
r,_,_=select.select(socks, [], [], 0.5)
def answer(s):
    data=b""
    s.settimeout(10)
    while True:
        try: d=s.recv(65536)
        except OSError as e: return "error " + type(e).__name__
        if not d: break
        data+=d
    return data.split(b"\r\n", 1)[0].decode(errors="replace")
for s in r: res[s]=answer(s)
for s in socks:
    if s not in res: s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
for s in socks:
    if s not in res: res[s]=answer(s)
ok=sum(1 for v in res.values() if v=="HTTP/1.1 200 OK")
busy=sum(1 for v in res.values() if v=="HTTP/1.1 503 Service Unavailable")
bad=[v for v in res.values() if v not in ("HTTP/1.1 200 OK", "HTTP/1.1 503 Service Unavailable")]
print(ok, busy, len(bad), bad[:3])' "$DPORT" >"$TMP/par.out" 2>&1
read -r ok busy nbad rest <"$TMP/par.out"
check_eq parallel-200-all-answered-or-refused "200 0" "$((ok + busy)) $nbad"
[ "${ok:-0}" -ge 1 ] && pass parallel-some-served || fail parallel-some-served "$(cat "$TMP/par.out")"
ref1=$(scrape pktscope_http_refused_connections_total)
check_eq parallel-refusals-counted "$busy" "$((ref1 - ref0))"
check_eq parallel-still-serving 200 "$(http_code "$URL/healthz")"

# ---- SIGTERM: exit 0, only what d2 attached (vx0) is removed ----
stop_daemon d2
[ -d "$PIN_VETH" ] && pass d2-kept-reused-veth0 || fail d2-kept-reused-veth0 "$PIN_VETH gone"
[ -d "$PIN_TCP" ] && pass d2-kept-reused-tcp || fail d2-kept-reused-tcp "$PIN_TCP gone"
[ -d "$PIN_DROPS" ] && pass d2-kept-reused-drops || fail d2-kept-reused-drops "$PIN_DROPS gone"
[ ! -e "$PIN_VX" ] && pass d2-detached-own-vx0 || fail d2-detached-own-vx0 "$PIN_VX left"
ip -n "$NS_A" -d link show vx0 | grep -q 'xdp' && fail d2-vx0-xdp-gone "XDP still on vx0" ||
	pass d2-vx0-xdp-gone

# ---- drop probes the daemon attached itself go with detach_on_exit ----
check_cmd drops-detach-before-d3 "$PKTSCOPE" --netns "$NS_A" drops --persist detach
"$PKTSCOPE" --netns "$NS_A" daemon --drops --detach-on-exit --listen "127.0.0.1:$DPORT" \
	>"$TMP/d3.out" 2>"$TMP/d3.err" &
DPID=$!
PIDS+=("$DPID")
for i in $(seq 100); do [ "$(http_code "$URL/healthz")" = 200 ] && break; sleep 0.1; done
[ -d "$PIN_DROPS" ] && pass d3-drops-attached || fail d3-drops-attached "$(cat "$TMP/d3.err")"
stop_daemon d3
[ ! -e "$PIN_DROPS" ] && pass d3-detached-own-drops || fail d3-detached-own-drops "$PIN_DROPS left"

suite_end
