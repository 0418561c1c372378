// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * stats and hist: read an interface's pinned counters.
 *
 * Every counter is described once in a field table (JSON group, name, offset
 * in struct ps_counters).  JSON walks it per direction, the text table per
 * field with one column per direction; both take the names from the table.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "output.h"

struct field {
	const char *group;	/* JSON object inside the direction, NULL: top level */
	const char *name;
	size_t off;		/* offset of a __u64 in struct ps_counters */
	bool quiet;		/* text: skip the row when it is zero in every direction */
};

#define MAX_FIELDS 64
static struct field fields[MAX_FIELDS];
static int nfields;

static void add(const char *group, const char *name, size_t off, bool quiet)
{
	if (nfields < MAX_FIELDS)
		fields[nfields++] = (struct field){ group, name, off, quiet };
}

#define OFF(member) offsetof(struct ps_counters, member)
#define OFFI(member, i) (offsetof(struct ps_counters, member) + (i) * sizeof(__u64))

static void build_fields(void)
{
	int i;

	if (nfields)
		return;
	add(NULL, "packets", OFF(pkts), false);
	add(NULL, "bytes", OFF(bytes), false);
	for (i = 0; i < PS_L3_MAX; i++)
		add("l3_packets", ps_l3_names[i], OFFI(l3_pkts, i), true);
	for (i = 0; i < PS_L3_MAX; i++)
		add("l3_bytes", ps_l3_names[i], OFFI(l3_bytes, i), true);
	for (i = 0; i < PS_L4_MAX; i++)
		add("l4_packets", ps_l4_names[i], OFFI(l4_pkts, i), true);
	for (i = 0; i < PS_L4_MAX; i++)
		add("l4_bytes", ps_l4_names[i], OFFI(l4_bytes, i), true);
	for (i = 0; i < PS_V_MAX; i++)
		add("verdict", ps_verdict_names[i], OFFI(verdict, i),
		    i != PS_V_PASS && i != PS_V_DROP);
	for (i = 0; i < PS_LAYER_MAX; i++)
		add("truncated", ps_layer_names[i], OFFI(truncated, i), true);
	for (i = 0; i < PS_LAYER_MAX; i++)
		add("malformed", ps_layer_names[i], OFFI(malformed, i), true);
	add(NULL, "vlan", OFF(vlan), true);
	add(NULL, "qinq", OFF(qinq), true);
	add(NULL, "ipv4_frag", OFF(ipv4_frag), true);
	add(NULL, "ipv6_frag", OFF(ipv6_frag), true);
	add(NULL, "ipv4_options", OFF(ipv4_options), true);
	add(NULL, "ipv6_ext", OFF(ipv6_ext), true);
}

static __u64 get(const struct ps_counters *c, const struct field *f)
{
	return *(const __u64 *)((const char *)c + f->off);
}

/* Which directions this attachment has. */
static bool dir_on(const struct ps_meta *m, int d)
{
	switch (d) {
	case PS_DIR_XDP:	return m->flags & PS_META_XDP;
	case PS_DIR_TC_IN:	return m->flags & PS_META_TC_IN;
	default:		return m->flags & PS_META_TC_OUT;
	}
}

static void print_header(const struct ps_pins *p, double interval)
{
	char ns[64], when[32];
	time_t t = interval > 0 ? time(NULL) : (time_t)p->meta.attach_time;
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	out_str("iface", "%s", p->meta.ifname);
	out_u64("ifindex", " (ifindex %llu", p->meta.ifindex);
	out_str("netns", ", netns %s)", ps_netns_name(p->meta.netns_ino, ns, sizeof(ns)));
	out_str("xdp_mode", "  xdp %s", ps_xdp_mode_names[p->meta.xdp_mode < 3 ?
							   p->meta.xdp_mode : 0]);
	if (interval > 0) {
		out_f64("interval_s", "  interval %.3gs", interval);
		out_str("time", "  %s\n", when);
	} else {
		out_u64("attach_time", NULL, p->meta.attach_time);
		out_text("  since %s\n", when);
	}
}

/*
 * Print one sample: totals, or deltas over interval seconds (interval > 0),
 * with pps/bps rates.
 */
static void print_stats(const struct ps_pins *p, const struct ps_counters *c,
			double interval)
{
	const char *group = NULL;
	int d, i;

	build_fields();
	out_obj_open(NULL);
	print_header(p, interval);

	if (out_json()) {
		out_obj_open("dirs");
		for (d = 0; d < PS_DIR_MAX; d++) {
			if (!dir_on(&p->meta, d))
				continue;
			out_obj_open(ps_dir_names[d]);
			if (interval > 0) {
				out_f64("pps", NULL, c[d].pkts / interval);
				out_f64("bps", NULL, c[d].bytes * 8.0 / interval);
			}
			group = NULL;
			for (i = 0; i < nfields; i++) {
				const struct field *f = &fields[i];

				if (f->group != group) {
					if (group)
						out_obj_close();
					if (f->group)
						out_obj_open(f->group);
					group = f->group;
				}
				out_u64(f->name, NULL, get(&c[d], f));
			}
			if (group)
				out_obj_close();
			out_obj_close();
		}
		out_obj_close();
		ps_rtt_stats_summary(p->dir);
		out_obj_close();
		out_doc_end();
		return;
	}

	out_text("%-22s", "");
	for (d = 0; d < PS_DIR_MAX; d++)
		if (dir_on(&p->meta, d))
			out_text(" %14s", ps_dir_names[d]);
	out_text("\n");
	for (i = 0; i < nfields; i++) {
		const struct field *f = &fields[i];
		char label[48];
		bool any = false;

		for (d = 0; d < PS_DIR_MAX; d++)
			any |= dir_on(&p->meta, d) && get(&c[d], f);
		if (f->quiet && !any)
			continue;
		snprintf(label, sizeof(label), "%s%s%s", f->group ? f->group : "",
			 f->group ? " " : "", f->name);
		out_text("%-22s", label);
		for (d = 0; d < PS_DIR_MAX; d++)
			if (dir_on(&p->meta, d))
				out_text(" %14llu", (unsigned long long)get(&c[d], f));
		out_text("\n");
		/* Rates right after their totals. */
		if (interval > 0 && f->off == OFF(bytes)) {
			out_text("%-22s", "pps");
			for (d = 0; d < PS_DIR_MAX; d++)
				if (dir_on(&p->meta, d))
					out_text(" %14.1f", c[d].pkts / interval);
			out_text("\n%-22s", "bps");
			for (d = 0; d < PS_DIR_MAX; d++)
				if (dir_on(&p->meta, d))
					out_text(" %14.1f", c[d].bytes * 8.0 / interval);
			out_text("\n");
		}
	}
	ps_rtt_stats_summary(p->dir);
	out_text("\n");
	out_obj_close();
	out_doc_end();
}

static void sub(struct ps_counters *d, const struct ps_counters *a, const struct ps_counters *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;
	__u64 *o = (__u64 *)d;
	size_t i;

	for (i = 0; i < sizeof(*d) / sizeof(__u64); i++)
		o[i] = x[i] - y[i];
}

#define STATS_HELP							\
	"  -i, --interval SECONDS  print per-interval deltas and rates\n" \
	"  -c, --count N           stop after N intervals (default: until Ctrl-C)\n" \
	"  --tcp                   the pinned TCP probe totals of this netns (no IFACE)\n"

int cmd_stats(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "interval",	required_argument,	NULL, 'i' },
		{ "count",	required_argument,	NULL, 'c' },
		{ "tcp",	no_argument,		NULL, 'P' },
		PS_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct ps_counters prev[PS_DIR_MAX], cur[PS_DIR_MAX], delta[PS_DIR_MAX];
	struct ps_pins p;
	double interval = 0, t0, t1;
	uint64_t count = 0, n;
	bool tcp = false;
	int c, r, rc;

	while ((c = ps_getopt(argc, argv, "i:c:" PS_COMMON_SHORTOPTS, opts)) != -1) {
		switch (c) {
		case 'i':
			if (parse_seconds("interval", optarg, 0.01, 86400, &interval))
				return EXIT_USAGE;
			break;
		case 'c':
			if (parse_u64("count", optarg, 1, UINT32_MAX, &count))
				return EXIT_USAGE;
			break;
		case 'P':
			tcp = true;
			break;
		default:
			r = ps_common_opt(c, optarg);
			if (r > 0) {
				ps_cmd_help("stats", STATS_HELP);
				return EXIT_OK;
			}
			if (r < 0)
				return EXIT_USAGE;
		}
	}
	if (count && interval <= 0) {
		ps_err("-c/--count needs -i/--interval");
		return EXIT_USAGE;
	}
	if (tcp && optind == argc)
		return tcp_persist_stats(interval, count);
	if (optind != argc - 1) {
		ps_err("stats takes one interface: pktscope stats IFACE, or stats --tcp (see --help)");
		return EXIT_USAGE;
	}
	if (count && interval <= 0) {
		ps_err("-c/--count needs -i/--interval");
		return EXIT_USAGE;
	}
	rc = ps_pins_open_iface(argv[optind], &p);
	if (rc)
		return rc;
	if (ps_read_counters(p.stats_fd, cur)) {
		ps_err("read %s/stats: %m", p.dir);
		ps_pins_close(&p);
		return EXIT_RUNTIME;
	}
	if (interval <= 0) {
		print_stats(&p, cur, 0);
		ps_pins_close(&p);
		return EXIT_OK;
	}

	ps_install_signals();
	t0 = ps_now();
	for (n = 0; !count || n < count; n++) {
		memcpy(prev, cur, sizeof(cur));
		if (ps_sleep(interval))
			break;
		if (ps_read_counters(p.stats_fd, cur)) {
			ps_err("read %s/stats: %m", p.dir);
			ps_pins_close(&p);
			return EXIT_RUNTIME;
		}
		/* Rates over the time that really passed, not the nominal one. */
		t1 = ps_now();
		for (c = 0; c < PS_DIR_MAX; c++)
			sub(&delta[c], &cur[c], &prev[c]);
		print_stats(&p, delta, t1 - t0);
		t0 = t1;
	}
	ps_pins_close(&p);
	return EXIT_OK;
}

int cmd_hist(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		PS_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct ps_counters cur[PS_DIR_MAX];
	struct ps_pins p;
	int c, r, rc, d, only = -1;

	while ((c = ps_getopt(argc, argv, "d:" PS_COMMON_SHORTOPTS, opts)) != -1) {
		switch (c) {
		case 'd':
			for (d = 0; d < PS_DIR_MAX; d++)
				if (!strcmp(optarg, ps_dir_names[d]))
					only = d;
			if (only < 0) {
				ps_err("unknown direction '%s': give xdp, tc_ingress or tc_egress",
				       optarg);
				return EXIT_USAGE;
			}
			break;
		default:
			r = ps_common_opt(c, optarg);
			if (r > 0) {
				ps_cmd_help("hist", "  -d, --dir DIR   one direction only\n");
				return EXIT_OK;
			}
			if (r < 0)
				return EXIT_USAGE;
		}
	}
	if (optind != argc - 2 || strcmp(argv[optind], "size")) {
		ps_err("usage: pktscope hist size IFACE (the histogram kind, then the interface)");
		return EXIT_USAGE;
	}
	rc = ps_pins_open_iface(argv[optind + 1], &p);
	if (rc)
		return rc;
	if (ps_read_counters(p.stats_fd, cur)) {
		ps_err("read %s/stats: %m", p.dir);
		ps_pins_close(&p);
		return EXIT_RUNTIME;
	}
	out_obj_open(NULL);
	print_header(&p, 0);
	out_text("\n");
	out_obj_open("size");
	for (d = 0; d < PS_DIR_MAX; d++) {
		if (!dir_on(&p.meta, d) || (only >= 0 && d != only))
			continue;
		ps_print_bounds_hist(ps_dir_names[d], cur[d].hist, ps_hist_bounds_user,
				     PS_HIST_BUCKETS);
	}
	out_obj_close();
	out_obj_close();
	out_doc_end();
	ps_pins_close(&p);
	return EXIT_OK;
}
