// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rtt: passive round-trip times measured by the XDP/TC programs of an
 * interface attached with --rtt (bpf/rtt.h): a log2 histogram per sample
 * source, a per-flow table, or one line per sample (--events).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ctl.h"
#include "output.h"
#include "rtt.h"
#include "report.h"

static const char *const src_names[PS_RTT_SRC_MAX] = { "ts", "seqack", "icmp", "handshake" };

struct rtt_pins {
	int flows_fd, out_fd, ts_fd, hist_fd, ctrs_fd, ctl_fd, events_fd;
	__u32 out_max, flows_max, ts_max;
};

static void rtt_close(struct rtt_pins *r)
{
	int *fds[] = { &r->flows_fd, &r->out_fd, &r->ts_fd, &r->hist_fd, &r->ctrs_fd,
		       &r->ctl_fd, &r->events_fd };
	size_t i;

	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

/* Open one pin and check its value size: the fd, -1 when absent, -2 when of another build. */
static int open_pin(const char *dir, const char *name, __u32 value_size, __u32 *max,
		    bool quiet)
{
	char fix[96];
	const struct ps_pin_map m = { name, 0, value_size, 0, fix };
	int fd;

	snprintf(fix, sizeof(fix), "detach and attach again with this pktscope (RTT layout %d)",
		 PS_RTT_LAYOUT_VERSION);
	fd = ps_pin_map_open(dir, &m, quiet ? PS_PIN_QUIET_OPEN : 0, max);
	return fd >= 0 ? fd : fd == -EPROTO ? -2 : -1;
}

/*
 * Open the RTT pins of dir.  Returns 0, 1 when RTT tracking is not on there
 * (no pins; nothing printed when quiet), -1 on an error (printed).
 */
static int rtt_open(const char *dir, struct rtt_pins *r, bool quiet)
{
	memset(r, 0, sizeof(*r));
	r->flows_fd = r->out_fd = r->ts_fd = r->hist_fd = r->ctrs_fd = r->ctl_fd = -1;
	r->events_fd = -1;
	r->hist_fd = open_pin(dir, "rtt_hist", sizeof(struct ps_rtt_hist), NULL, true);
	if (r->hist_fd == -1)
		return 1;
	if (r->hist_fd < 0)
		return -1;
	r->flows_fd = open_pin(dir, "rtt_flows", sizeof(struct ps_rtt_flowval), &r->flows_max,
			       quiet);
	r->out_fd = open_pin(dir, "rtt_outstanding", sizeof(__u64), &r->out_max, quiet);
	r->ctrs_fd = open_pin(dir, "rtt_counters", sizeof(struct ps_rtt_counters), NULL, quiet);
	/*
	 * An attachment of RTT layout 1 has no rtt_ts; its counters' size
	 * already said which pktscope made it and what to do: one message.
	 */
	if (r->ctrs_fd >= 0)
		r->ts_fd = open_pin(dir, "rtt_ts", sizeof(struct ps_rtt_ts_set), &r->ts_max, quiet);
	r->ts_max *= 2;		/* slots: two a set */
	r->ctl_fd = open_pin(dir, "rtt_ctl", sizeof(struct ps_rtt_ctl), NULL, quiet);
	r->events_fd = open_pin(dir, "rtt_events", 0, NULL, quiet);
	if (r->flows_fd < 0 || r->out_fd < 0 || r->ts_fd < 0 || r->ctrs_fd < 0 ||
	    r->ctl_fd < 0 || r->events_fd < 0) {
		rtt_close(r);
		return -1;
	}
	return 0;
}

/* Sum the per-CPU values of key (a struct of __u64 of size sz) into out. */
static int read_percpu(int fd, __u32 key, void *out, size_t sz)
{
	int ncpu = ps_ncpus(), cpu;
	size_t n = sz / sizeof(__u64), i;
	__u64 *vals, *o = out;

	vals = calloc((size_t)ncpu, sz);
	if (!vals)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &key, vals)) {
		free(vals);
		return -errno;
	}
	memset(out, 0, sz);
	for (cpu = 0; cpu < ncpu; cpu++)
		for (i = 0; i < n; i++)
			o[i] += vals[(size_t)cpu * n + i];
	free(vals);
	return 0;
}

static int read_hists(const struct rtt_pins *r, struct ps_rtt_hist h[PS_RTT_SRC_MAX])
{
	__u32 s;

	for (s = 0; s < PS_RTT_SRC_MAX; s++)
		if (read_percpu(r->hist_fd, s, &h[s], sizeof(h[s])))
			return -1;
	return 0;
}

/* Entries of a hash map, by walking its keys (the map is bounded). */
static __u32 count_entries(int fd, size_t key_size)
{
	char key[64], next[64];
	void *prev = NULL;
	__u32 n = 0;

	if (key_size > sizeof(key))
		return 0;
	while (!bpf_map_get_next_key(fd, prev, next)) {
		memcpy(key, next, key_size);
		prev = key;
		n++;
	}
	return n;
}

/*
 * Pending slots of the timestamp table (t > 1, see struct ps_rtt_ts_slot),
 * read through a read-only mapping of the array: one pass over memory, no
 * syscall per slot.
 */
static __u32 count_ts_pending(int fd, __u32 slots)
{
	size_t len = (size_t)slots * sizeof(struct ps_rtt_ts_slot);
	const struct ps_rtt_ts_slot *s;
	__u32 i, n = 0;

	s = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (s == MAP_FAILED)
		return 0;
	for (i = 0; i < slots; i++)
		n += *(volatile const __u64 *)&s[i].t > 1;
	munmap((void *)s, len);
	return n;
}

struct flow_row {
	struct ps_rtt_flow k;
	struct ps_rtt_flowval v;
	__u64 p50_ns;
};

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

/* Median of the recent-sample ring (the last PS_RTT_RECENT samples), in ns. */
static __u64 recent_p50(const struct ps_rtt_flowval *v)
{
	__u32 s[PS_RTT_RECENT], n = v->recent_idx < PS_RTT_RECENT ? v->recent_idx : PS_RTT_RECENT;

	if (!n)
		return 0;
	memcpy(s, v->recent_us, sizeof(s));
	qsort(s, n, sizeof(s[0]), cmp_u32);
	return n % 2 ? s[n / 2] * 1000ull : (s[n / 2 - 1] + (__u64)s[n / 2]) * 500ull;
}

enum sort_by { SORT_P50, SORT_MAX, SORT_COUNT };
static enum sort_by sort_by = SORT_P50;

static int cmp_rows(const void *a, const void *b)
{
	const struct flow_row *x = a, *y = b;
	__u64 vx, vy;

	switch (sort_by) {
	case SORT_MAX:	vx = x->v.max_ns; vy = y->v.max_ns; break;
	case SORT_COUNT: vx = x->v.count; vy = y->v.count; break;
	default:	vx = x->p50_ns; vy = y->p50_ns; break;
	}
	return vx < vy ? 1 : vx > vy ? -1 : 0;
}

/* Flows with at least one sample or one Karn skip, sorted. */
static int read_flows(const struct rtt_pins *r, struct flow_row **rows, size_t *n)
{
	struct ps_rtt_flow key, next, *prev = NULL;
	size_t cap = 0;

	*rows = NULL;
	*n = 0;
	while (!bpf_map_get_next_key(r->flows_fd, prev, &next)) {
		struct ps_rtt_flowval v;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(r->flows_fd, &key, &v))
			continue;	/* evicted meanwhile */
		if (!v.count && !v.karn_skipped && !v.retrans)
			continue;
		if (*n == cap) {
			struct flow_row *nr;

			cap = cap ? cap * 2 : 64;
			nr = realloc(*rows, cap * sizeof(**rows));
			if (!nr) {
				free(*rows);
				*rows = NULL;
				return -ENOMEM;
			}
			*rows = nr;
		}
		(*rows)[*n].k = key;
		(*rows)[*n].v = v;
		(*rows)[*n].p50_ns = recent_p50(&v);
		(*n)++;
	}
	if (*n)
		qsort(*rows, *n, sizeof(**rows), cmp_rows);
	return 0;
}

static void addr_str(const __u32 *a, int family, char *buf, size_t len)
{
	if (!inet_ntop(family == 6 ? AF_INET6 : AF_INET, a, buf, len))
		snprintf(buf, len, "?");
}

static void endpoint(const __u32 *a, __u16 port, const struct ps_rtt_flow *k, char *buf,
		     size_t len)
{
	char ab[INET6_ADDRSTRLEN];
	bool icmp = k->proto == 1 || k->proto == 58;

	addr_str(a, k->family, ab, sizeof(ab));
	if (icmp)
		snprintf(buf, len, "%s", ab);
	else
		snprintf(buf, len, k->family == 6 ? "[%s]:%u" : "%s:%u", ab, port);
}

static const char *proto_name(__u8 p)
{
	return p == 6 ? "tcp" : p == 1 ? "icmp" : p == 58 ? "icmp6" : "other";
}

static void print_flow_fields(const struct ps_rtt_flow *k)
{
	char l[INET6_ADDRSTRLEN + 8], r[INET6_ADDRSTRLEN + 8], ab[INET6_ADDRSTRLEN];

	endpoint(k->laddr, k->lport, k, l, sizeof(l));
	endpoint(k->raddr, k->rport, k, r, sizeof(r));
	out_str("proto", "%-5s ", proto_name(k->proto));
	out_text("%-28s %-28s ", l, r);
	addr_str(k->laddr, k->family, ab, sizeof(ab));
	out_str("local_addr", NULL, ab);
	addr_str(k->raddr, k->family, ab, sizeof(ab));
	out_str("remote_addr", NULL, ab);
	if (k->proto == 6) {
		out_u64("local_port", NULL, k->lport);
		out_u64("remote_port", NULL, k->rport);
	} else {
		out_u64("echo_id", NULL, k->lport);
	}
}

static void print_flows(const struct rtt_pins *r, uint64_t top)
{
	struct flow_row *rows;
	size_t n, i, s;

	if (read_flows(r, &rows, &n)) {
		ps_err("read the RTT flow table: out of memory");
		return;
	}
	out_text("%-5s %-28s %-28s %9s %9s %9s %9s %9s %8s %7s %5s %s\n", "PROTO", "LOCAL",
		 "REMOTE", "MIN_us", "P50_us", "AVG_us", "MAX_us", "LAST_us", "SAMPLES", "RETRANS",
		 "KARN", "SOURCES");
	out_arr_open("flows");
	for (i = 0; i < n && (!top || i < top); i++) {
		const struct ps_rtt_flowval *v = &rows[i].v;
		char srcs[64] = "";

		out_obj_open(NULL);
		print_flow_fields(&rows[i].k);
		out_f64("min_us", "%9.1f ", v->min_ns / 1e3);
		out_f64("p50_us", "%9.1f ", rows[i].p50_ns / 1e3);
		out_f64("avg_us", "%9.1f ", v->count ? v->sum_ns / 1e3 / v->count : 0);
		out_f64("max_us", "%9.1f ", v->max_ns / 1e3);
		out_f64("last_us", "%9.1f ", v->last_ns / 1e3);
		out_u64("samples", "%8llu ", v->count);
		out_u64("retrans", "%7llu ", v->retrans);
		out_u64("karn_skipped", "%5llu ", v->karn_skipped);
		out_str("last_source", NULL, v->count ? src_names[v->last_src % PS_RTT_SRC_MAX] : "");
		out_obj_open("samples_by_source");
		for (s = 0; s < PS_RTT_SRC_MAX; s++) {
			out_u64(src_names[s], NULL, v->count_src[s]);
			if (v->count_src[s] && !out_json()) {
				size_t l = strlen(srcs);

				snprintf(srcs + l, sizeof(srcs) - l, "%s%s:%u", l ? "," : "",
					 src_names[s], v->count_src[s]);
			}
		}
		out_obj_close();
		out_text("%s\n", srcs[0] ? srcs : "-");
		out_obj_close();
	}
	out_arr_close();
	if (!n)
		out_text("(no flow has an RTT sample yet)\n");
	free(rows);
}

static void print_counters(const struct rtt_pins *r)
{
	struct ps_rtt_counters c;

	if (read_percpu(r->ctrs_fd, 0, &c, sizeof(c)))
		return;
	out_obj_open("counters");
	out_u64("ts_recorded", "recorded: ts %llu", c.ts_recorded);
	out_u64("ts_dup", " (dup %llu", c.ts_dup);
	out_u64("ts_busy", ", slot busy %llu", c.ts_busy);
	out_u64("ts_unmatched", ", unmatched %llu)", c.ts_unmatched);
	out_u64("icmp_recorded", ", icmp %llu", c.icmp_recorded);
	out_u64("seq_recorded", ", seq %llu", c.seq_recorded);
	out_u64("seq_full", " (slots full %llu)", c.seq_full);
	out_u64("retrans", "; retransmitted %llu", c.retrans);
	out_u64("karn_skipped", ", karn skipped %llu", c.karn_skipped);
	out_u64("events", "; events %llu", c.events);
	out_u64("events_limited", " (rate-limited %llu", c.events_limited);
	out_u64("events_lost", ", lost %llu)\n", c.events_lost);
	out_u64("outstanding", "outstanding entries %llu", count_entries(r->out_fd,
						sizeof(struct ps_rtt_outkey)));
	out_u64("outstanding_max", " of %llu", r->out_max);
	out_u64("ts_pending", ", timestamps pending %llu", count_ts_pending(r->ts_fd, r->ts_max));
	out_u64("ts_slots", " of %llu", r->ts_max);
	out_u64("flows", ", flows %llu", count_entries(r->flows_fd, sizeof(struct ps_rtt_flow)));
	out_u64("flows_max", " of %llu\n", r->flows_max);
	out_obj_close();
}

static void print_hists(const struct ps_rtt_hist *h)
{
	int s;

	out_obj_open("sources");
	for (s = 0; s < PS_RTT_SRC_MAX; s++) {
		out_obj_open(src_names[s]);
		out_u64("samples", NULL, h[s].count);
		out_f64("avg_us", NULL, h[s].count ? h[s].sum_ns / 1e3 / h[s].count : 0);
		if (h[s].count) {
			out_text("%s: %llu samples, avg %.1f us\n", src_names[s],
				 (unsigned long long)h[s].count, h[s].sum_ns / 1e3 / h[s].count);
			ps_print_log2_hist("hist", h[s].slots, PS_RTT_SLOTS, "usecs");
		} else if (out_json()) {
			out_arr_open("hist");
			out_arr_close();
		}
		out_obj_close();
	}
	out_obj_close();
}

/* `stats` adds this when the interface has RTT pins: totals per source. */
void ps_rtt_stats_summary(const char *dir)
{
	struct ps_rtt_hist h[PS_RTT_SRC_MAX];
	struct rtt_pins r;
	int s;

	if (rtt_open(dir, &r, true) || read_hists(&r, h)) {
		rtt_close(&r);
		return;
	}
	out_obj_open("rtt");
	out_text("rtt (since attach)    ");
	for (s = 0; s < PS_RTT_SRC_MAX; s++) {
		out_obj_open(src_names[s]);
		out_text(" %s", src_names[s]);
		out_u64("samples", " %llu", h[s].count);
		out_f64("avg_us", " avg %.1fus", h[s].count ? h[s].sum_ns / 1e3 / h[s].count : 0);
		out_obj_close();
	}
	out_text("\n");
	out_obj_close();
	rtt_close(&r);
}

/* ---- --events --------------------------------------------------------------- */

static int on_event(void *ctx, void *data, size_t len)
{
	const struct ps_rtt_event *e = data;
	struct timespec rt, mono;
	long long wall;
	char when[32];
	time_t sec;
	struct tm tm;

	(void)ctx;
	if (len < sizeof(*e))
		return 0;
	/* ktime -> wall clock, by the offset between the two clocks now. */
	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	wall = (rt.tv_sec - mono.tv_sec) * 1000000000LL + (rt.tv_nsec - mono.tv_nsec) +
	       (long long)e->time_ns;
	sec = wall / 1000000000LL;
	localtime_r(&sec, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	out_obj_open(NULL);
	out_text("%s.%06lld ", when, wall % 1000000000LL / 1000);
	out_u64("time_ns", NULL, wall);
	out_u64("ktime_ns", NULL, e->time_ns);
	out_str("source", "%-9s ", src_names[e->src % PS_RTT_SRC_MAX]);
	print_flow_fields(&e->f);
	out_f64("rtt_us", "%10.1f\n", e->rtt_ns / 1e3);
	out_obj_close();
	out_event_end();
	return 0;
}

static int run_events(const struct rtt_pins *r, uint64_t gap_ms, double duration)
{
	struct ps_rtt_ctl ctl = { .events = 1, .gap_us = gap_ms * 1000 };
	struct ring_buffer *rb;
	__u32 key = 0;
	double end = duration > 0 ? ps_now() + duration : 0;
	int err = 0;

	rb = ring_buffer__new(r->events_fd, on_event, NULL, NULL);
	if (!rb) {
		ps_err("open the RTT event ring buffer: %s", strerror(errno));
		return EXIT_RUNTIME;
	}
	/* Events written before we started are stale: drain them unseen. */
	ring_buffer__consume(rb);
	if (bpf_map_update_elem(r->ctl_fd, &key, &ctl, 0)) {
		ps_err("enable RTT events: %s", strerror(errno));
		ring_buffer__free(rb);
		return EXIT_RUNTIME;
	}
	out_text("%-15s %-9s %-5s %-28s %-28s %10s\n", "TIME", "SOURCE", "PROTO", "LOCAL",
		 "REMOTE", "RTT_us");
	if (!out_json())
		out_doc_end();	/* the header now; in JSON each event is a document */
	ps_install_signals();
	err = ps_rb_stream(rb, end, "rtt --events");
	ctl.events = 0;
	bpf_map_update_elem(r->ctl_fd, &key, &ctl, 0);
	ring_buffer__free(rb);
	return err ? EXIT_RUNTIME : EXIT_OK;
}

/* ---- command ------------------------------------------------------------------ */

#define RTT_HELP							\
	"  -i, --interval SECONDS  print every interval (histograms: per-interval deltas)\n" \
	"  -c, --count N           stop after N intervals\n"		\
	"  --flows                 the per-flow table only\n"		\
	"  --top N                 at most N flows (default 20; 0: all)\n" \
	"  --sort p50|max|count    flow order (default p50, the median of the flow's\n" \
	"                          last 16 samples)\n"			\
	"  --events                one line per RTT sample (rate-limited per flow)\n" \
	"  --gap-ms MS             --events: at most one event per flow per MS (default 100)\n" \
	"  -d, --duration SECONDS  --events: stop after SECONDS\n"

int cmd_rtt(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "interval",	required_argument,	NULL, 'i' },
		{ "count",	required_argument,	NULL, 'c' },
		{ "duration",	required_argument,	NULL, 'd' },
		{ "flows",	no_argument,		NULL, 'F' },
		{ "top",	required_argument,	NULL, 'T' },
		{ "sort",	required_argument,	NULL, 'S' },
		{ "events",	no_argument,		NULL, 'E' },
		{ "gap-ms",	required_argument,	NULL, 'G' },
		PS_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct ps_rtt_hist prev[PS_RTT_SRC_MAX], cur[PS_RTT_SRC_MAX], delta[PS_RTT_SRC_MAX];
	uint64_t count = 0, top = 20, gap_ms = PS_RTT_EV_GAP_US / 1000, n;
	double interval = 0, duration = 0;
	bool flows_only = false, events = false;
	struct ps_pins p;
	struct rtt_pins r;
	int c, rc, s;
	size_t i;

	sort_by = SORT_P50;
	while ((c = ps_getopt(argc, argv, "i:c:d:" PS_COMMON_SHORTOPTS, opts)) != -1) {
		switch (c) {
		case 'i':
			if (parse_seconds("interval", optarg, 0.01, 86400, &interval))
				return EXIT_USAGE;
			break;
		case 'c':
			if (parse_u64("count", optarg, 1, UINT32_MAX, &count))
				return EXIT_USAGE;
			break;
		case 'd':
			if (parse_seconds("duration", optarg, 0.01, 1e7, &duration))
				return EXIT_USAGE;
			break;
		case 'F': flows_only = true; break;
		case 'E': events = true; break;
		case 'T':
			if (parse_u64("--top", optarg, 0, UINT32_MAX, &top))
				return EXIT_USAGE;
			break;
		case 'G':
			if (parse_u64("--gap-ms", optarg, 0, 3600 * 1000, &gap_ms))
				return EXIT_USAGE;
			break;
		case 'S':
			if (!strcmp(optarg, "p50"))
				sort_by = SORT_P50;
			else if (!strcmp(optarg, "max"))
				sort_by = SORT_MAX;
			else if (!strcmp(optarg, "count"))
				sort_by = SORT_COUNT;
			else {
				ps_err("unknown --sort '%s': give p50, max or count", optarg);
				return EXIT_USAGE;
			}
			break;
		default:
			rc = ps_common_opt(c, optarg);
			if (rc > 0) {
				ps_cmd_help("rtt", RTT_HELP);
				return EXIT_OK;
			}
			if (rc < 0)
				return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		ps_err("rtt takes one interface: pktscope rtt IFACE (see --help)");
		return EXIT_USAGE;
	}
	if (count && interval <= 0) {
		ps_err("-c/--count needs -i/--interval");
		return EXIT_USAGE;
	}
	if (events && (flows_only || interval > 0)) {
		ps_err("--events streams samples: it excludes --flows and -i");
		return EXIT_USAGE;
	}
	if (duration > 0 && !events) {
		ps_err("-d/--duration applies to --events only (use -i and -c otherwise)");
		return EXIT_USAGE;
	}
	rc = ps_pins_open_iface(argv[optind], &p);
	if (rc)
		return rc;
	rc = rtt_open(p.dir, &r, false);
	if (rc) {
		if (rc > 0)
			ps_err("%s is attached without RTT tracking: run 'pktscope attach %s "
			       "--replace --rtt'", argv[optind], argv[optind]);
		ps_pins_close(&p);
		return EXIT_RUNTIME;
	}
	if (events) {
		rc = run_events(&r, gap_ms, duration);
		goto out;
	}
	if (read_hists(&r, cur)) {
		ps_err("read %s/rtt_hist: %s", p.dir, strerror(errno));
		rc = EXIT_RUNTIME;
		goto out;
	}
	if (interval > 0)
		ps_install_signals();
	for (n = 0;; n++) {
		struct ps_rtt_hist *h = cur;

		if (interval > 0) {
			memcpy(prev, cur, sizeof(cur));
			if (ps_sleep(interval))
				break;
			if (read_hists(&r, cur)) {
				ps_err("read %s/rtt_hist: %s", p.dir, strerror(errno));
				rc = EXIT_RUNTIME;
				goto out;
			}
			for (s = 0; s < PS_RTT_SRC_MAX; s++) {
				const __u64 *a = (const __u64 *)&cur[s], *b = (const __u64 *)&prev[s];
				__u64 *d = (__u64 *)&delta[s];

				for (i = 0; i < sizeof(delta[s]) / sizeof(__u64); i++)
					d[i] = a[i] - b[i];
			}
			h = delta;
		}
		out_obj_open(NULL);
		out_str("iface", "%s", p.meta.ifname);
		if (interval > 0)
			out_f64("interval_s", "  interval %.3gs", interval);
		out_text("\n");
		if (!flows_only) {
			print_hists(h);
			print_counters(&r);
			out_text("\n");
		}
		print_flows(&r, top);
		out_obj_close();
		out_doc_end();
		if (interval <= 0 || (count && n + 1 >= count) || ps_exiting)
			break;
		out_text("\n");
	}
	rc = EXIT_OK;
out:
	rtt_close(&r);
	ps_pins_close(&p);
	return rc;
}

/* ---- for `pktscope report` --------------------------------------------------- */

_Static_assert(REP_RTT_SLOTS == PS_RTT_SLOTS, "report's RTT histogram size");

int rtt_collect_read(const char *dir, unsigned long long slots[REP_RTT_SLOTS],
		     unsigned long long *count, double *sum_us, struct rep_rtt_flow *flows,
		     int max, int *nflows)
{
	struct ps_rtt_hist h[PS_RTT_SRC_MAX];
	enum sort_by saved = sort_by;
	struct flow_row *rows = NULL;
	struct rtt_pins r;
	size_t n = 0, i;
	int s, k, rc;

	rc = rtt_open(dir, &r, true);
	if (rc)
		return rc > 0 ? 1 : -1;
	if (read_hists(&r, h)) {
		rtt_close(&r);
		return -1;
	}
	memset(slots, 0, REP_RTT_SLOTS * sizeof(*slots));
	*count = 0;
	*sum_us = 0;
	for (s = 0; s < PS_RTT_SRC_MAX; s++) {
		for (k = 0; k < PS_RTT_SLOTS; k++)
			slots[k] += h[s].slots[k];
		*count += h[s].count;
		*sum_us += h[s].sum_ns / 1e3;
	}
	*nflows = 0;
	if (flows && max > 0) {
		sort_by = SORT_COUNT;
		rc = read_flows(&r, &rows, &n);
		sort_by = saved;
		for (i = 0; !rc && i < n && (int)i < max; i++) {
			const struct flow_row *w = &rows[i];
			struct rep_rtt_flow *f = &flows[i];

			memset(f, 0, sizeof(*f));
			snprintf(f->proto, sizeof(f->proto), "%s", proto_name(w->k.proto));
			endpoint(w->k.laddr, w->k.lport, &w->k, f->l, sizeof(f->l));
			endpoint(w->k.raddr, w->k.rport, &w->k, f->r, sizeof(f->r));
			f->samples = w->v.count;
			f->retrans = w->v.retrans;
			f->min_us = w->v.min_ns / 1e3;
			f->p50_us = w->p50_ns / 1e3;
			f->avg_us = w->v.count ? w->v.sum_ns / 1e3 / w->v.count : 0;
			f->max_us = w->v.max_ns / 1e3;
			(*nflows)++;
		}
		free(rows);
	}
	rtt_close(&r);
	return 0;
}
