#!/usr/bin/python3
# Helpers of tests/test_soak.sh (run with /usr/bin/python3):
#
#   soak.py churn-server PORT COUNTFILE          in the server netns
#   soak.py churn-client IP4 IP6 PORT RATE COUNTFILE
#   soak.py sample OUTDIR NETNS IFACE URL NAME=PID...
#   soak.py check OUTDIR                         prints CHECK/INFO lines
#
# The churn pair makes short TCP connections: the client sends REQ bytes, the
# server answers RESP bytes, the client closes.  Both count what completed
# and write the count on SIGTERM, so the suite can hold tcplife to it.
#
# The sampler runs one `pktscope stats -j` process every 100 ms (the user's
# pattern), scrapes /metrics every second, reads the RSS of the long-running
# processes every second and the fill of every bounded map every ten
# seconds.  Counters are checked for monotonicity as they arrive, so nothing
# big is kept; a summary is written on SIGTERM.
import ctypes
import http.client
import json
import os
import re
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time

REQ = 100
RESP = 1000
STOP = False


def on_term(_sig, _frm):
	global STOP
	STOP = True


def write_atomic(path, text):
	with open(path + '.tmp', 'w') as f:
		f.write(text)
	os.rename(path + '.tmp', path)


# ---- churn ---------------------------------------------------------------

def recv_exact(s, n):
	buf = b''
	while len(buf) < n:
		d = s.recv(n - len(buf))
		if not d:
			break
		buf += d
	return buf


def churn_server(port, countfile):
	signal.signal(signal.SIGTERM, on_term)
	sel = selectors.DefaultSelector()
	for fam, addr in ((socket.AF_INET, '0.0.0.0'), (socket.AF_INET6, '::')):
		ls = socket.socket(fam, socket.SOCK_STREAM)
		ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
		if fam == socket.AF_INET6:
			ls.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
		ls.bind((addr, port))
		ls.listen(128)
		sel.register(ls, selectors.EVENT_READ)
	done = 0
	resp = b'r' * RESP
	while not STOP:
		for key, _ in sel.select(timeout=0.2):
			try:
				c, _ = key.fileobj.accept()
			except OSError:
				continue
			c.settimeout(5)
			try:
				if len(recv_exact(c, REQ)) == REQ:
					c.sendall(resp)
					# The client closes first (its side keeps TIME_WAIT).
					if c.recv(1) == b'':
						done += 1
			except OSError:
				pass
			c.close()
	write_atomic(countfile, '%d\n' % done)


def churn_client(ip4, ip6, port, rate, countfile):
	signal.signal(signal.SIGTERM, on_term)
	ok = fail = v6 = 0
	req = b'q' * REQ
	period = 1.0 / rate
	nxt = time.monotonic()
	i = 0
	while not STOP:
		# One connection in four over IPv6, so both L3 counters move.
		six = i % 4 == 3
		i += 1
		try:
			s = socket.socket(socket.AF_INET6 if six else socket.AF_INET)
			s.settimeout(5)
			s.connect((ip6 if six else ip4, port))
			s.sendall(req)
			got = recv_exact(s, RESP)
			s.close()
			if len(got) == RESP:
				ok += 1
				v6 += six
			else:
				fail += 1
		except OSError:
			fail += 1
		nxt += period
		d = nxt - time.monotonic()
		if d > 0:
			time.sleep(d)
		else:
			nxt = time.monotonic()
	write_atomic(countfile, '%d %d %d\n' % (ok, fail, v6))


# ---- sampler -------------------------------------------------------------

def setns(path):
	libc = ctypes.CDLL(None, use_errno=True)
	fd = os.open(path, os.O_RDONLY)
	if libc.setns(fd, 0x40000000) != 0:	# CLONE_NEWNET
		raise OSError(ctypes.get_errno(), 'setns ' + path)
	os.close(fd)


def flatten(d, prefix, out):
	for k, v in d.items():
		name = prefix + '.' + k if prefix else k
		if isinstance(v, dict):
			flatten(v, name, out)
		elif isinstance(v, (int, float)) and not isinstance(v, bool):
			out[name] = v


# stats -j leaves that are counters (everything under dirs, and the RTT
# sample counts; avg_us is a mean, not a counter).
def stats_counters(doc):
	out = {}
	flatten(doc.get('dirs', {}), 'dirs', out)
	for src, v in doc.get('rtt', {}).items():
		out['rtt.%s.samples' % src] = v['samples']
	return out


LINE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$')


# Prometheus text: {series: value} for counters and histogram parts, and
# {series: value} for gauges.
def parse_metrics(text):
	types = {}
	counters = {}
	gauges = {}
	for line in text.splitlines():
		if line.startswith('# TYPE '):
			_, _, name, typ = line.split(' ', 3)
			types[name] = typ
			continue
		if not line or line.startswith('#'):
			continue
		m = LINE_RE.match(line)
		if not m:
			raise ValueError('bad metrics line: ' + line)
		name, labels, val = m.group(1), m.group(2) or '', float(m.group(3))
		fam = name
		for suf in ('_bucket', '_sum', '_count'):
			if name.endswith(suf) and types.get(name[:-len(suf)]) == 'histogram':
				fam = name[:-len(suf)]
		typ = types.get(fam)
		if typ in ('counter', 'histogram'):
			counters[name + labels] = val
		else:
			gauges[name + labels] = val
	return counters, gauges


def rss(pid):
	vals = {}
	try:
		with open('/proc/%d/status' % pid) as f:
			for line in f:
				k, _, v = line.partition(':')
				if k in ('VmRSS', 'RssAnon', 'VmHWM'):
					vals[k] = int(v.split()[0])
	except OSError:
		return None
	return vals


def bpftool_count(path):
	# Counted by jq in its own process: parsing 16384 RTT flows here would
	# hold the interpreter lock and stall the stats and scrape threads.
	r = subprocess.run(['bash', '-o', 'pipefail', '-c',
			    'nice -n 10 bpftool -j map dump pinned "$1" | nice -n 10 jq "[.[].key] | unique | length"', '-', path],
			   capture_output=True, text=True)
	if r.returncode:
		return None
	return int(r.stdout)


def bpftool_max(path):
	r = subprocess.run(['bpftool', 'map', 'show', 'pinned', path, '-j'],
			   capture_output=True, text=True)
	if r.returncode:
		return None
	return json.loads(r.stdout)['max_entries']


class Mono:
	"""Counts decreases of every series between consecutive reads."""

	def __init__(self, what):
		self.what = what
		self.prev = None
		self.checked = 0
		self.violations = 0
		self.examples = []
		self.vanished = 0

	def feed(self, cur):
		if self.prev is not None:
			for k, v in self.prev.items():
				if k not in cur:
					self.vanished += 1
					if len(self.examples) < 10:
						self.examples.append('%s: %s vanished' % (self.what, k))
					continue
				self.checked += 1
				if cur[k] < v:
					self.violations += 1
					if len(self.examples) < 10:
						self.examples.append('%s: %s %s -> %s' % (self.what, k, v, cur[k]))
		self.prev = cur


def sample(outdir, netns, iface, url, procs):
	signal.signal(signal.SIGTERM, on_term)
	pktscope = os.environ['PKTSCOPE']
	# The daemon serves on the loopback of the bench's netns: join it (this
	# process only; pktscope enters it again with --netns, harmlessly).
	setns('/run/netns/' + netns)
	host, port = re.match(r'http://([^:/]+):(\d+)', url).groups()
	pins = dict(p.split('=', 1) for p in os.environ.get('SOAK_MAPS', '').split() if p)
	bounds = {k: bpftool_max(v) for k, v in pins.items()}
	fill = {k: 0 for k in pins}
	fill_reads = 0
	fill_fail = {}
	rtt_fill = {'flows': 0, 'outstanding': 0}
	rtt_bounds = {}
	tcp_flows_max = 0
	tcp_flows_limit = None

	st_mono = Mono('stats')
	sc_mono = Mono('metrics')
	cnt = {'stats': 0, 'stats_fail': 0, 'scrape': 0, 'scrape_fail': 0}
	errors = []
	rssf = open(os.path.join(outdir, 'rss.tsv'), 'w')
	t0 = time.monotonic()

	def err(msg):
		if len(errors) < 10:
			errors.append(msg)

	# every(period, fn): fn at a fixed rate, best effort: a late tick runs
	# now, missed ones are not made up.  Three threads, so that a slow map
	# dump never delays the 10 Hz stats or the 1 Hz scrape.
	def every(period, fn):
		nxt = time.monotonic()
		while not STOP:
			fn()
			nxt = max(nxt + period, time.monotonic())
			while not STOP and time.monotonic() < nxt:
				time.sleep(min(0.05, max(0.0, nxt - time.monotonic())))

	def stats_tick():
		r = subprocess.run([pktscope, '--netns', netns, 'stats', iface, '-j'],
				   capture_output=True, text=True)
		try:
			if r.returncode:
				raise ValueError('exit %d: %s' % (r.returncode, r.stderr.strip()))
			st_mono.feed(stats_counters(json.loads(r.stdout)))
			cnt['stats'] += 1
		except ValueError as e:
			cnt['stats_fail'] += 1
			err('stats: %s' % e)

	def sec_tick():
		nonlocal tcp_flows_max, tcp_flows_limit
		t = time.monotonic() - t0
		for name, pid in procs.items():
			v = rss(pid)
			if v is None:
				rssf.write('%.2f\t%s\tgone\t0\t0\n' % (t, name))
			else:
				rssf.write('%.2f\t%s\t%d\t%d\t%d\n' % (t, name, v['VmRSS'], v['RssAnon'],
								       v['VmHWM']))
		rssf.flush()
		# A new connection per scrape, as a fresh Prometheus target
		# connection does after an error: the per-connection path of
		# the daemon is the one that would leak.
		try:
			c = http.client.HTTPConnection(host, int(port), timeout=10)
			c.request('GET', '/metrics')
			resp = c.getresponse()
			body = resp.read().decode()
			c.close()
			if resp.status != 200:
				raise ValueError('HTTP %d' % resp.status)
			counters, gauges = parse_metrics(body)
			sc_mono.feed(counters)
			cnt['scrape'] += 1
			for k, v in gauges.items():
				if k.startswith('pktscope_tcp_flows{'):
					tcp_flows_max = max(tcp_flows_max, v)
				elif k.startswith('pktscope_tcp_flows_limit{'):
					tcp_flows_limit = v
		except (OSError, ValueError, http.client.HTTPException) as e:
			cnt['scrape_fail'] += 1
			err('scrape at %.1f s: %s: %s' % (time.monotonic() - t0, type(e).__name__, e))

	def fill_tick():
		nonlocal fill_reads
		# bpftool counts the entries itself: an independent reader.
		for k, path in pins.items():
			n = bpftool_count(path)
			if n is None:
				err('bpftool dump %s failed' % path)
				fill_fail[k] = fill_fail.get(k, 0) + 1
				continue
			fill[k] = max(fill[k], n)
		fill_reads += 1
		r = subprocess.run([pktscope, '--netns', netns, 'rtt', iface, '-j'],
				   capture_output=True, text=True)
		if r.returncode == 0:
			c = json.loads(r.stdout)['counters']
			for k in rtt_fill:
				rtt_fill[k] = max(rtt_fill[k], c[k])
				rtt_bounds[k] = c[k + '_max']

	threads = [threading.Thread(target=every, args=a) for a in
		   ((0.1, stats_tick), (1.0, sec_tick), (10.0, fill_tick))]
	for th in threads:
		th.start()
	# The main thread only waits, in short joins, so that SIGTERM's handler runs.
	while any(th.is_alive() for th in threads):
		threads[0].join(0.2)
	for th in threads:
		th.join()
	rssf.close()
	# Dumps taken while the churn adds and evicts flows are no snapshot (a
	# key evicted behind the walk and a new one ahead of it are both seen:
	# 326 "entries" of the 256-entry TCP LRU once).  The sampler is stopped
	# once the bench is quiet, so this last dump is exact.
	final_fill = {k: bpftool_count(path) for k, path in pins.items()}
	n_stats, n_stats_fail = cnt['stats'], cnt['stats_fail']
	n_scrape, n_scrape_fail = cnt['scrape'], cnt['scrape_fail']
	summary = {
		'duration_s': time.monotonic() - t0,
		'stats_samples': n_stats, 'stats_failures': n_stats_fail,
		'stats_values_checked': st_mono.checked, 'stats_violations': st_mono.violations,
		'stats_vanished': st_mono.vanished,
		'scrapes': n_scrape, 'scrape_failures': n_scrape_fail,
		'scrape_values_checked': sc_mono.checked, 'scrape_violations': sc_mono.violations,
		'scrape_vanished': sc_mono.vanished,
		'examples': st_mono.examples + sc_mono.examples, 'errors': errors,
		'map_fill': fill, 'map_bounds': bounds, 'map_fill_reads': fill_reads,
		'map_fill_failures': fill_fail,
		'map_fill_final': final_fill,
		'rtt_fill': rtt_fill, 'rtt_bounds': rtt_bounds,
		'tcp_flows_max': tcp_flows_max, 'tcp_flows_limit': tcp_flows_limit,
	}
	write_atomic(os.path.join(outdir, 'summary.json'), json.dumps(summary, indent=1))


# ---- final checks --------------------------------------------------------

def out(kind, name, *vals):
	print('\t'.join([kind, name] + [str(v) for v in vals]))


def rss_check(outdir, secs):
	rows = {}
	with open(os.path.join(outdir, 'rss.tsv')) as f:
		for line in f:
			t, name, vm, anon, hwm = line.split('\t')
			if vm == 'gone':
				rows.setdefault(name, []).append((float(t), None, None))
			else:
				rows.setdefault(name, []).append((float(t), int(vm), int(anon)))
	bound = int(os.environ.get('SOAK_RSS_KIB', 8))
	for name, r in sorted(rows.items()):
		gone = [x for x in r if x[1] is None]
		out('CHECK', 'alive/' + name, 0, len(gone))
		r = [x for x in r if x[1] is not None]
		if not r:
			continue
		# Growth is measured from the end of the warm-up (10 % of the
		# run, at least 5 s: first scrapes, first flows, first drop
		# reasons) to the end; RssAnon (heap and stacks) is what a leak
		# grows, file pages of code run for the first time are not one.
		warm_t = max(0.1 * secs, 5.0)
		warm = next((x for x in r if x[0] >= warm_t), r[-1])
		first, last = r[0], r[-1]
		out('INFO', 'rss/' + name,
		    'VmRSS first %d KiB last %d KiB; RssAnon first %d, after warm-up (%.0fs) %d, last %d KiB; '
		    'max %d KiB; %d reads' % (first[1], last[1], first[2], warm[0], warm[2], last[2],
					     max(x[1] for x in r), len(r)))
		growth = last[2] - warm[2]
		if os.environ.get('SOAK_ASAN') == '1':
			out('SKIP', 'rss_flat/' + name, 'ASan build: its quarantine holds freed memory')
			continue
		out('CHECK', 'rss_flat/' + name, 'growth<=%dKiB' % bound,
		    'growth<=%dKiB' % bound if growth <= bound else 'growth=%dKiB' % growth)


# RSS alone cannot see a small leak: the heap's free chunks (left by
# libbpf's load, by earlier responses) absorb it first; 4000 leaked 16-byte
# blocks in tcplife grew its RssAnon by 8 KiB.  pktscope memleak, started
# after the warm-up on each process, counts what is allocated and kept.
# Measured: the daemon frees all ~28 allocations of every scrape, stats -i
# the 6 of every interval, tcplife allocates nothing per event.  A leak of
# one block per scrape, interval or connection leaves dozens (short form) or
# hundreds (10 minutes) outstanding.  The bound (8) leaves room for one-off
# lazy allocations such as stdio's 4 KiB buffer at a streamer's first line
# after the warm-up (4 seen in tcpretrans).
def leak_check(outdir):
	bound = int(os.environ.get('SOAK_LEAK_ALLOCS', 8))
	for name in ('daemon', 'stats_i', 'tcplife', 'tcpretrans'):
		if os.environ.get('SOAK_ASAN') == '1':
			out('SKIP', 'memleak/' + name, "ASan build: its malloc is not libc's (LeakSanitizer checks leaks)")
			continue
		path = os.path.join(outdir, 'memleak_%s.jsonl' % name)
		lines = open(path).read().splitlines() if os.path.exists(path) else []
		out('CHECK', 'memleak_reports/' + name, 'yes', 'yes' if lines else 'no')
		if not lines:
			continue
		r = json.loads(lines[-1])
		c = r['counters']
		out('INFO', 'memleak/' + name, '%d reports; allocations after warm-up %d, frees %d; '
		    'outstanding older than %d ms: %d (%d bytes), dropped %d' %
		    (len(lines), c['allocs'], c['frees'], r['min_age_ms'], r['outstanding_allocs'],
		     r['outstanding_bytes'], c['dropped']))
		for st in r['stacks']:
			out('INFO', 'detail', '%d bytes in %d allocations from %s' % (st['bytes'], st['allocs'],
			    ' <- '.join(f.get('sym') or hex(f['addr']) for f in st['frames'][:6])))
		out('CHECK', 'memleak_outstanding/' + name, '<=%d' % bound,
		    '<=%d' % bound if r['outstanding_allocs'] <= bound else str(r['outstanding_allocs']))
		out('CHECK', 'memleak_dropped/' + name, 0, c['dropped'])


def check(outdir):
	s = json.load(open(os.path.join(outdir, 'summary.json')))
	secs = s['duration_s']
	out('INFO', 'duration', '%.1f s' % secs)
	out('INFO', 'samples', '%d stats -j samples (%.1f/s), %d scrapes, %d map-fill reads' %
	    (s['stats_samples'], s['stats_samples'] / max(secs, 1), s['scrapes'], s['map_fill_reads']))
	for e in s['errors'] + s['examples']:
		out('INFO', 'detail', e)
	out('CHECK', 'stats_failures', 0, s['stats_failures'])
	out('CHECK', 'scrape_failures', 0, s['scrape_failures'])
	# Samples are best effort on a loaded machine; at least one a second.
	out('CHECK', 'stats_samples_taken', 'yes', 'yes' if s['stats_samples'] >= int(secs) else
	    'no (%d in %.0f s)' % (s['stats_samples'], secs))
	out('CHECK', 'scrapes_taken', 'yes', 'yes' if s['scrapes'] >= int(secs * 0.5) else
	    'no (%d in %.0f s)' % (s['scrapes'], secs))
	out('INFO', 'monotonic', '%d stats values and %d metric values compared with the sample before' %
	    (s['stats_values_checked'], s['scrape_values_checked']))
	out('CHECK', 'monotonic/stats', 0, s['stats_violations'])
	out('CHECK', 'monotonic/metrics', 0, s['scrape_violations'])
	out('CHECK', 'series_kept/stats', 0, s['stats_vanished'])
	out('CHECK', 'series_kept/metrics', 0, s['scrape_vanished'])

	for k in sorted(s['map_fill']):
		b = s['map_bounds'][k]
		fin = s['map_fill_final'][k]
		out('INFO', 'map/' + k, 'max %d of %s entries in dumps during the load, %s at the end (bpftool)' %
		    (s['map_fill'][k], b, fin))
		out('CHECK', 'map_read_failures/' + k, 0, s['map_fill_failures'].get(k, 0))
		out('CHECK', 'map_bound/' + k, 'yes', 'yes' if b and fin is not None and fin <= b else 'no')
	out('CHECK', 'map_bound/tcp_flows_configured', 256, s['map_bounds'].get('tcp_flows'))
	for k in sorted(s['rtt_fill']):
		b = s['rtt_bounds'].get(k)
		out('INFO', 'map/rtt_' + k, 'max %d of %s entries (pktscope rtt -j)' % (s['rtt_fill'][k], b))
		out('CHECK', 'map_bound/rtt_' + k + '_reported', 'yes',
		    'yes' if b and s['rtt_fill'][k] <= b else 'no')
	out('INFO', 'map/tcp_flows_metric', 'max %d of %s (pktscope_tcp_flows)' %
	    (s['tcp_flows_max'], s['tcp_flows_limit']))
	out('CHECK', 'map_bound/tcp_flows_metric', 'yes',
	    'yes' if s['tcp_flows_limit'] and s['tcp_flows_max'] <= s['tcp_flows_limit'] else 'no')

	rss_check(outdir, secs)
	leak_check(outdir)

	# Final totals = initial totals + the sum of the deltas `stats -i -j`
	# printed, for every counter of every direction.
	s0 = stats_counters(json.load(open(os.path.join(outdir, 's0.json'))))
	s1 = stats_counters(json.load(open(os.path.join(outdir, 's1.json'))))
	sums = {k: 0 for k in s0 if k.startswith('dirs.')}
	n = 0
	with open(os.path.join(outdir, 'stats_i.jsonl')) as f:
		for line in f:
			d = stats_counters(json.loads(line))
			n += 1
			for k in sums:
				sums[k] += d[k]
	bad = [k for k in sums if s0[k] + sums[k] != s1[k]]
	out('INFO', 'deltas', '%d intervals printed by stats -i -j; %d counters summed' % (n, len(sums)))
	for k in bad[:10]:
		out('INFO', 'detail', '%s: initial %d + deltas %d != final %d' % (k, s0[k], sums[k], s1[k]))
	out('CHECK', 'deltas_sum_to_final/mismatches', 0, len(bad))
	out('CHECK', 'deltas_sum_to_final/xdp_packets', s1['dirs.xdp.packets'],
	    s0['dirs.xdp.packets'] + sums['dirs.xdp.packets'])
	out('CHECK', 'deltas_sum_to_final/tc_egress_bytes', s1['dirs.tc_egress.bytes'],
	    s0['dirs.tc_egress.bytes'] + sums['dirs.tc_egress.bytes'])
	for d in ('xdp', 'tc_ingress', 'tc_egress'):
		out('INFO', 'moved/' + d, '%d packets, %d bytes during the run' %
		    (s1['dirs.%s.packets' % d] - s0['dirs.%s.packets' % d],
		     s1['dirs.%s.bytes' % d] - s0['dirs.%s.bytes' % d]))

	# The last scrape (traffic stopped) against the final stats -j.
	counters, _ = parse_metrics(open(os.path.join(outdir, 'm1.txt')).read())
	doc = json.load(open(os.path.join(outdir, 's1.json')))
	lab = '{netns="%s",iface="%s",dir="%s"' % (doc['netns'], doc['iface'], '%s')
	pairs = 0
	bad = []
	for d, v in doc['dirs'].items():
		pre = lab % d
		want = {}
		for l3, x in v['l3_packets'].items():
			want['pktscope_packets_total%s,l3="%s"}' % (pre, l3)] = x
			want['pktscope_bytes_total%s,l3="%s"}' % (pre, l3)] = v['l3_bytes'][l3]
		for l4, x in v['l4_packets'].items():
			want['pktscope_l4_packets_total%s,l4="%s"}' % (pre, l4)] = x
			want['pktscope_l4_bytes_total%s,l4="%s"}' % (pre, l4)] = v['l4_bytes'][l4]
		for vd, x in v['verdict'].items():
			want['pktscope_verdicts_total%s,verdict="%s"}' % (pre, vd)] = x
		want['pktscope_packet_size_bytes_count%s}' % pre] = v['packets']
		want['pktscope_packet_size_bytes_sum%s}' % pre] = v['bytes']
		for k, x in want.items():
			pairs += 1
			if counters.get(k) != x:
				bad.append('%s: metrics %s, stats %s' % (k, counters.get(k), x))
	for b in bad[:10]:
		out('INFO', 'detail', b)
	out('INFO', 'metrics_vs_stats', '%d series of the last scrape compared with stats -j' % pairs)
	out('CHECK', 'metrics_equal_stats/mismatches', 0, len(bad))

	# The drop rule: exactly every N-th matching packet, the same numbers
	# in filter list -j, in the metrics and in the egress drop verdicts.
	every = int(os.environ['SOAK_EVERY'])
	rule = json.load(open(os.path.join(outdir, 'filter.json')))['rules'][0]
	out('INFO', 'filter', 'rule %d (%s): matched %d, dropped %d, %d bytes' %
	    (rule['id'], rule['action'], rule['matched'], rule['dropped'], rule['dropped_bytes']))
	out('CHECK', 'filter/dropped_every_n', rule['matched'] // every, rule['dropped'])
	m = '{netns="%s",iface="%s",where="tc_egress",rule="%d"}' % (doc['netns'], doc['iface'], rule['id'])
	out('CHECK', 'filter/metrics_dropped', rule['dropped'], int(counters.get('pktscope_drops_total' + m, -1)))
	out('CHECK', 'filter/metrics_matched', rule['matched'],
	    int(counters.get('pktscope_filter_matched_packets_total' + m, -1)))
	out('CHECK', 'filter/egress_drop_verdicts', rule['dropped'], doc['dirs']['tc_egress']['verdict']['drop'])

	# Short connections: the server's count, the client's, and the
	# server-side lines of the tcplife that streamed all along.
	port = int(os.environ['SOAK_CHURN_PORT'])
	srv = int(open(os.path.join(outdir, 'churn_server.count')).read())
	ok, failed, v6 = (int(x) for x in open(os.path.join(outdir, 'churn_client.count')).read().split())
	life = n_life = 0
	rx = tx = 0
	with open(os.path.join(outdir, 'tcplife.jsonl')) as f:
		for line in f:
			e = json.loads(line)
			n_life += 1
			if e['lport'] == port:
				life += 1
				rx += e['rx_bytes']
				tx += e['tx_bytes']
	retr = sum(1 for _ in open(os.path.join(outdir, 'tcpretrans.jsonl')))
	out('INFO', 'churn', '%d short connections (%d over IPv6), %d failed; tcplife printed %d lines '
	    '(%d of the churn server), tcpretrans %d' % (ok, v6, failed, n_life, life, retr))
	out('CHECK', 'churn/server_count', ok, srv)
	out('CHECK', 'churn/tcplife_lines', ok, life)
	out('CHECK', 'churn/tcplife_rx_bytes', ok * REQ, rx)
	out('CHECK', 'churn/tcplife_tx_bytes', ok * RESP, tx)


def main():
	cmd = sys.argv[1]
	a = sys.argv[2:]
	if cmd == 'churn-server':
		churn_server(int(a[0]), a[1])
	elif cmd == 'churn-client':
		churn_client(a[0], a[1], int(a[2]), float(a[3]), a[4])
	elif cmd == 'sample':
		procs = {p.split('=')[0]: int(p.split('=')[1]) for p in a[4:]}
		sample(a[0], a[1], a[2], a[3], procs)
	elif cmd == 'check':
		check(a[0])
	else:
		sys.exit('unknown command ' + cmd)


if __name__ == '__main__':
	main()
