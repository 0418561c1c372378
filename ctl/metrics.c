// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Prometheus / OpenMetrics exposition of the pinned maps.
 *
 * Every attachment under PS_PIN_ROOT is read first (all network namespaces:
 * the daemon is a node agent), then each family is written once with all of
 * its series, as both formats require.  The families are cut so that no
 * series repeats another's count under a different name:
 *
 *   pktscope_packets_total{dir,l3}	each packet of a direction once, by L3
 *   pktscope_l4_packets_total{dir,l4}	the same packets again, by L4: a second
 *					breakdown, never to be added to the first
 *   pktscope_packet_size_bytes		the same packets by size; _count is the
 *					sum of packets_total over l3
 *
 * and across directions a packet seen by XDP is seen again by TC ingress,
 * so summing over dir counts it twice: select one direction.
 *
 * Kernel drops (drops --persist, skb:kfree_skb reasons) are a family of
 * their own, pktscope_kernel_drops_total{netns,iface,where,reason}, not
 * more series of pktscope_drops_total{where,rule}: a packet that
 * pktscope's TC filter shoots is freed by the kernel with reason
 * TC_INGRESS/TC_EGRESS and would be counted twice in one family.
 *
 * A pin directory that vanishes or has a layout this build does not know is
 * skipped without a word: scrapes must not spam the log once a second.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ctl.h"
#include "kdrops.h"
#include "metrics.h"
#include "rules.h"
#include "rtt.h"
#include "tcp.h"

#ifndef PS_VERSION
#define PS_VERSION "0.1"
#endif

struct att {
	char netns[64];
	char iface[PS_IFNAMSIZ + 1];
	struct ps_meta meta;
	struct ps_counters c[PS_DIR_MAX];
	bool has_filter;
	bool rule_active[PS_RULES_MAX];
	struct ps_rule_stats fs[PS_RULE_STATS_ENTRIES];
	bool has_rtt;		/* attached with --rtt */
	struct ps_rtt_hist rtt[PS_RTT_SRC_MAX];
};

static const char *const rtt_src_names[PS_RTT_SRC_MAX] = { "ts", "seqack", "icmp", "handshake" };

struct tcpns {
	char netns[64];
	struct ps_tcp_meta meta;
	struct ps_tcp_totals t;
	long long flows;	/* entries in the flow LRU, -1 unread */
};

struct mw {
	FILE *f;
	bool om;
};

struct kdns {
	char netns[64];
	__u64 attach_time;
	struct ps_kdrop_series *s;
	int n;
};

/* ---- reading the pins, quietly ---------------------------------------------- */

/* A map that is not there, or of another build, is left out of the metrics. */
static int get_map(const char *dir, const char *name, __u32 value_size, __u32 entries)
{
	const struct ps_pin_map m = { name, 0, value_size, entries, NULL };

	return ps_pin_map_open(dir, &m, PS_PIN_QUIET, NULL);
}

/* The RTT histograms of an attachment made with --rtt (bpf/rtt.h). */
static int read_rtt(const char *dir, struct ps_rtt_hist h[PS_RTT_SRC_MAX])
{
	int ncpu = ps_ncpus(), fd, cpu, err = -1;
	const size_t n = sizeof(struct ps_rtt_hist) / sizeof(__u64);
	struct ps_rtt_hist *v;
	__u32 s;
	size_t i;

	fd = get_map(dir, "rtt_hist", sizeof(struct ps_rtt_hist), PS_RTT_SRC_MAX);
	if (fd < 0)
		return -1;
	v = calloc(ncpu, sizeof(*v));
	if (!v)
		goto out;
	memset(h, 0, sizeof(*h) * PS_RTT_SRC_MAX);
	for (s = 0; s < PS_RTT_SRC_MAX; s++) {
		if (bpf_map_lookup_elem(fd, &s, v))
			goto out;
		for (cpu = 0; cpu < ncpu; cpu++)
			for (i = 0; i < n; i++)
				((__u64 *)&h[s])[i] += ((__u64 *)&v[cpu])[i];
	}
	err = 0;
out:
	free(v);
	close(fd);
	return err;
}

static int read_att(const char *dir, struct att *a)
{
	struct ps_filter_pins fp = { .rules_fd = -1, .ctl_fd = -1, .lock_fd = -1 };
	__u32 key = 0;
	int meta_fd, stats_fd, err = -1;
	uint64_t ino;

	meta_fd = get_map(dir, "meta", sizeof(struct ps_meta), 1);
	if (meta_fd < 0)
		return -1;
	if (bpf_map_lookup_elem(meta_fd, &key, &a->meta) || a->meta.magic != PS_MAGIC ||
	    a->meta.layout_version != PS_LAYOUT_VERSION ||
	    a->meta.counters_size != sizeof(struct ps_pcpu_counters))
		goto out_meta;
	stats_fd = get_map(dir, "stats", sizeof(struct ps_pcpu_counters), PS_DIR_MAX);
	if (stats_fd < 0)
		goto out_meta;
	if (ps_read_counters(stats_fd, a->c))
		goto out_stats;
	ino = a->meta.netns_ino;
	ps_netns_name(ino, a->netns, sizeof(a->netns));
	snprintf(a->iface, sizeof(a->iface), "%.*s", PS_IFNAMSIZ, a->meta.ifname);

	/* The filter maps are optional: attachments of older builds have none. */
	fp.stats_fd = get_map(dir, "filter_stats", sizeof(struct ps_rule_stats),
			      PS_RULE_STATS_ENTRIES);
	fp.rules_fd = get_map(dir, "filter_rules", sizeof(struct ps_rule), PS_RULES_MAX);
	if (fp.stats_fd >= 0 && fp.rules_fd >= 0 && !ps_filter_read_stats(&fp, a->fs)) {
		struct ps_rule r;
		__u32 i;

		a->has_filter = true;
		for (i = 0; i < PS_RULES_MAX; i++)
			a->rule_active[i] = !bpf_map_lookup_elem(fp.rules_fd, &i, &r) && r.active;
	}
	ps_filter_close(&fp);
	a->has_rtt = !read_rtt(dir, a->rtt);
	err = 0;
out_stats:
	close(stats_fd);
out_meta:
	close(meta_fd);
	return err;
}

/*
 * Entries of the flow LRU.  Batch lookups, a few thousand entries per
 * system call: with 65,536 flows that is 16 calls instead of 131,072
 * get_next_key + lookup pairs.
 */
static long long count_flows(int fd, __u32 max_entries)
{
	const __u32 chunk = 4096;
	struct ps_tcp_flow *keys;
	struct ps_tcp_flow_val *vals;
	__u32 batch = 0, count;
	long long n = 0;
	bool first = true;
	LIBBPF_OPTS(bpf_map_batch_opts, opts);

	keys = calloc(chunk, sizeof(*keys));
	vals = calloc(chunk, sizeof(*vals));
	if (!keys || !vals) {
		n = -1;
		goto out;
	}
	for (;;) {
		int err;

		count = chunk;
		err = bpf_map_lookup_batch(fd, first ? NULL : &batch, &batch, keys, vals,
					   &count, &opts);
		first = false;
		if (err && errno != ENOENT) {
			if (n)
				break;
			/* No batch support: walk the keys. */
			struct ps_tcp_flow k, next;
			void *prev = NULL;

			while (!bpf_map_get_next_key(fd, prev, &next) &&
			       n <= (long long)max_entries) {
				k = next;
				prev = &k;
				n++;
			}
			break;
		}
		n += count;
		if (err)	/* ENOENT: that was the last chunk */
			break;
	}
out:
	free(keys);
	free(vals);
	return n;
}

static int read_tcp(const char *dir, struct tcpns *t)
{
	int ncpu = ps_ncpus(), meta_fd, fd, cpu, err = -1;
	struct ps_tcp_totals *v = NULL;
	struct bpf_map_info info = {};
	__u32 zero = 0, len = sizeof(info);
	size_t f;

	meta_fd = get_map(dir, "tcp_meta", sizeof(struct ps_tcp_meta), 0);
	if (meta_fd < 0)
		return -1;
	if (bpf_map_lookup_elem(meta_fd, &zero, &t->meta) || t->meta.magic != PS_TCP_MAGIC ||
	    t->meta.layout_version != PS_TCP_LAYOUT_VERSION)
		goto out_meta;
	fd = get_map(dir, "totals", sizeof(struct ps_tcp_totals), 1);
	if (fd < 0)
		goto out_meta;
	v = calloc(ncpu, sizeof(*v));
	if (!v || bpf_map_lookup_elem(fd, &zero, v)) {
		close(fd);
		goto out_meta;
	}
	close(fd);
	memset(&t->t, 0, sizeof(t->t));
	for (cpu = 0; cpu < ncpu; cpu++)
		for (f = 0; f < sizeof(t->t) / 8; f++)
			((__u64 *)&t->t)[f] += ((__u64 *)&v[cpu])[f];
	ps_netns_name(t->meta.netns_ino, t->netns, sizeof(t->netns));

	t->flows = -1;
	fd = get_map(dir, "flows", sizeof(struct ps_tcp_flow_val), 0);
	if (fd >= 0) {
		if (!bpf_obj_get_info_by_fd(fd, &info, &len))
			t->flows = count_flows(fd, info.max_entries);
		close(fd);
	}
	err = 0;
out_meta:
	free(v);
	close(meta_fd);
	return err;
}

/* ---- writing ------------------------------------------------------------------- */

static void esc(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n') {
			fputs("\\n", f);
			continue;
		}
		fputc(*s, f);
	}
}

/*
 * HELP and TYPE of a family.  A counter's family is named without _total in
 * OpenMetrics and with it (the sample's name) in the text format.
 */
static void fam(struct mw *w, const char *name, const char *type, const char *help)
{
	const char *sfx = !w->om && !strcmp(type, "counter") ? "_total" : "";

	fprintf(w->f, "# HELP %s%s %s\n# TYPE %s%s %s\n", name, sfx, help, name, sfx, type);
}

/* One sample: name, suffix, then label name/value pairs ended by END. */
#define END ((const char *)NULL)
static void sample(struct mw *w, const char *name, const char *sfx, const char *value, ...)
{
	const char *k, *v;
	va_list ap;
	bool first = true;

	fprintf(w->f, "%s%s", name, sfx);
	va_start(ap, value);
	while ((k = va_arg(ap, const char *))) {
		v = va_arg(ap, const char *);
		fprintf(w->f, "%s%s=\"", first ? "{" : ",", k);
		esc(w->f, v);
		fputc('"', w->f);
		first = false;
	}
	va_end(ap);
	fprintf(w->f, "%s %s\n", first ? "" : "}", value);
}

static const char *u64s(char *buf, unsigned long long v)
{
	snprintf(buf, 24, "%llu", v);
	return buf;
}

static const char *f64s(char *buf, double v)
{
	snprintf(buf, 32, "%.17g", v);
	return buf;
}

static bool dir_on(const struct ps_meta *m, int d)
{
	static const __u32 flag[PS_DIR_MAX] = { PS_META_XDP, PS_META_TC_IN, PS_META_TC_OUT };

	return m->flags & flag[d];
}

/* A per-direction counter family: one series per (attachment, dir, index). */
static void per_dir(struct mw *w, const struct att *a, int na, const char *name,
		    const char *label, const char *const *names, int n, size_t off)
{
	char b[24];
	int i, d, k;

	for (i = 0; i < na; i++)
		for (d = 0; d < PS_DIR_MAX; d++) {
			if (!dir_on(&a[i].meta, d))
				continue;
			for (k = 0; k < n; k++) {
				const __u64 *v = (const __u64 *)((const char *)&a[i].c[d] + off);

				sample(w, name, "_total", u64s(b, v[k]), "netns", a[i].netns,
				       "iface", a[i].iface, "dir", ps_dir_names[d], label,
				       names[k], END);
			}
		}
}

#define OFF(m) offsetof(struct ps_counters, m)

static void write_packets(struct mw *w, const struct att *a, int na)
{
	static const char *const kinds[2] = { "truncated", "malformed" };
	static const char *const feats[] = { "vlan", "qinq", "ipv4_frag", "ipv6_frag",
					     "ipv4_options", "ipv6_ext" };
	static const size_t feat_off[] = { OFF(vlan), OFF(qinq), OFF(ipv4_frag), OFF(ipv6_frag),
					   OFF(ipv4_options), OFF(ipv6_ext) };
	char b[24], le[24];
	int i, d, k, l;

	fam(w, "pktscope_packets", "counter",
	    "Packets seen, by direction (xdp, tc_ingress, tc_egress) and L3 protocol. "
	    "A packet seen at XDP is seen again at tc_ingress: select one dir.");
	per_dir(w, a, na, "pktscope_packets", "l3", ps_l3_names, PS_L3_MAX, OFF(l3_pkts));
	fam(w, "pktscope_bytes", "counter",
	    "Bytes of the packets of pktscope_packets_total (frame length), same labels.");
	per_dir(w, a, na, "pktscope_bytes", "l3", ps_l3_names, PS_L3_MAX, OFF(l3_bytes));
	fam(w, "pktscope_l4_packets", "counter",
	    "The packets of pktscope_packets_total again, by L4 protocol (none: no L4 header). "
	    "A second breakdown: do not add it to pktscope_packets_total.");
	per_dir(w, a, na, "pktscope_l4_packets", "l4", ps_l4_names, PS_L4_MAX, OFF(l4_pkts));
	fam(w, "pktscope_l4_bytes", "counter",
	    "Bytes of the packets of pktscope_l4_packets_total, same labels.");
	per_dir(w, a, na, "pktscope_l4_bytes", "l4", ps_l4_names, PS_L4_MAX, OFF(l4_bytes));
	fam(w, "pktscope_verdicts", "counter",
	    "Verdicts of pktscope's own programs (XDP action; TC ok/shot as pass/drop).");
	per_dir(w, a, na, "pktscope_verdicts", "verdict", ps_verdict_names, PS_V_MAX,
		OFF(verdict));

	fam(w, "pktscope_malformed", "counter",
	    "Packets whose parsing stopped at layer: truncated (header did not fit) or "
	    "malformed (a field was invalid).");
	for (i = 0; i < na; i++)
		for (d = 0; d < PS_DIR_MAX; d++) {
			if (!dir_on(&a[i].meta, d))
				continue;
			for (k = 0; k < 2; k++)
				for (l = 0; l < PS_LAYER_MAX; l++)
					sample(w, "pktscope_malformed", "_total",
					       u64s(b, k ? a[i].c[d].malformed[l] :
							   a[i].c[d].truncated[l]),
					       "netns", a[i].netns, "iface", a[i].iface,
					       "dir", ps_dir_names[d], "layer", ps_layer_names[l],
					       "kind", kinds[k], END);
		}

	fam(w, "pktscope_packet_features", "counter",
	    "Packets with a feature: vlan (one tag), qinq (two), ipv4_frag, ipv6_frag, "
	    "ipv4_options, ipv6_ext. A packet can have several.");
	for (i = 0; i < na; i++)
		for (d = 0; d < PS_DIR_MAX; d++) {
			if (!dir_on(&a[i].meta, d))
				continue;
			for (k = 0; k < (int)(sizeof(feats) / sizeof(feats[0])); k++)
				sample(w, "pktscope_packet_features", "_total",
				       u64s(b, *(const __u64 *)((const char *)&a[i].c[d] +
								feat_off[k])), "netns", a[i].netns,
				       "iface", a[i].iface, "dir", ps_dir_names[d],
				       "feature", feats[k], END);
		}

	/*
	 * Bucket k holds [bound[k], bound[k+1]): sizes are integers, so its
	 * inclusive upper bound ("le") is bound[k+1] - 1.  The bytes counter
	 * is the exact sum of the sizes counted.
	 */
	fam(w, "pktscope_packet_size_bytes", "histogram",
	    "Packet sizes (frame length) by direction; _count equals the packets, _sum the bytes.");
	for (i = 0; i < na; i++)
		for (d = 0; d < PS_DIR_MAX; d++) {
			const struct ps_counters *c = &a[i].c[d];
			__u64 cum = 0;

			if (!dir_on(&a[i].meta, d))
				continue;
			for (k = 0; k < PS_HIST_BUCKETS - 1; k++) {
				cum += c->hist[k];
				snprintf(le, sizeof(le), "%u", ps_hist_bounds_user[k + 1] - 1);
				/* per-CPU values are read one by one: stay monotonic */
				sample(w, "pktscope_packet_size_bytes", "_bucket",
				       u64s(b, cum < c->pkts ? cum : c->pkts), "netns", a[i].netns,
				       "iface", a[i].iface, "dir", ps_dir_names[d], "le", le, END);
			}
			sample(w, "pktscope_packet_size_bytes", "_bucket", u64s(b, c->pkts),
			       "netns", a[i].netns, "iface", a[i].iface, "dir", ps_dir_names[d],
			       "le", "+Inf", END);
			sample(w, "pktscope_packet_size_bytes", "_sum", u64s(b, c->bytes),
			       "netns", a[i].netns, "iface", a[i].iface, "dir", ps_dir_names[d],
			       END);
			sample(w, "pktscope_packet_size_bytes", "_count", u64s(b, c->pkts),
			       "netns", a[i].netns, "iface", a[i].iface, "dir", ps_dir_names[d],
			       END);
		}
}

/* Drop rules: slots in use now, or with counts left by a deleted rule. */
static void write_drops(struct mw *w, const struct att *a, int na)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} f[] = {
		{ "pktscope_drops", "Packets dropped by pktscope's drop filter, by rule id and "
		  "where (the program that dropped them).", offsetof(struct ps_rule_stats, dropped) },
		{ "pktscope_dropped_bytes", "Bytes of the packets of pktscope_drops_total.",
		  offsetof(struct ps_rule_stats, dropped_bytes) },
		{ "pktscope_filter_matched_packets", "Packets a drop rule matched (dropped or, "
		  "with --every/--rate, let through).", offsetof(struct ps_rule_stats, matched) },
	};
	char b[24], id[16];
	size_t j;
	int i, d, r;

	for (j = 0; j < sizeof(f) / sizeof(f[0]); j++) {
		fam(w, f[j].name, "counter", f[j].help);
		for (i = 0; i < na; i++) {
			if (!a[i].has_filter)
				continue;
			for (r = 0; r < PS_RULES_MAX; r++) {
				const struct ps_rule_stats *s = &a[i].fs[r * PS_DIR_MAX];
				bool any = a[i].rule_active[r];

				for (d = 0; d < PS_DIR_MAX; d++)
					any |= s[d].matched || s[d].dropped;
				if (!any)
					continue;
				snprintf(id, sizeof(id), "%d", r + 1);
				for (d = 0; d < PS_DIR_MAX; d++) {
					if (!dir_on(&a[i].meta, d))
						continue;
					sample(w, f[j].name, "_total",
					       u64s(b, *(const __u64 *)((const char *)&s[d] +
									f[j].off)),
					       "netns", a[i].netns, "iface", a[i].iface,
					       "where", ps_dir_names[d], "rule", id, END);
				}
			}
		}
	}
}

/*
 * RTT: log2 slots of microseconds (bpf/log2.h): slot 0 is 0 us, slot k holds
 * [2^(k-1), 2^k) us, so every sample of slot k is below 2^k us: that is its
 * "le".  The last slot is open-ended.
 */
static void write_rtt(struct mw *w, const struct att *a, int na)
{
	char b[32], le[32];
	int i, s, k;

	fam(w, "pktscope_rtt_seconds", "histogram",
	    "Round-trip times measured passively (attach --rtt), by source: ts (TCP "
	    "timestamps), seqack, icmp (echo), handshake.");
	for (i = 0; i < na; i++) {
		if (!a[i].has_rtt)
			continue;
		for (s = 0; s < PS_RTT_SRC_MAX; s++) {
			const struct ps_rtt_hist *h = &a[i].rtt[s];
			__u64 cum = 0;

			for (k = 0; k < PS_RTT_SLOTS - 1; k++) {
				cum += h->slots[k];
				snprintf(le, sizeof(le), "%.6f", (double)(1ull << k) * 1e-6);
				sample(w, "pktscope_rtt_seconds", "_bucket",
				       u64s(b, cum < h->count ? cum : h->count), "netns",
				       a[i].netns, "iface", a[i].iface, "src", rtt_src_names[s],
				       "le", le, END);
			}
			sample(w, "pktscope_rtt_seconds", "_bucket", u64s(b, h->count), "netns",
			       a[i].netns, "iface", a[i].iface, "src", rtt_src_names[s],
			       "le", "+Inf", END);
			sample(w, "pktscope_rtt_seconds", "_sum", f64s(b, h->sum_ns / 1e9),
			       "netns", a[i].netns, "iface", a[i].iface, "src", rtt_src_names[s],
			       END);
			sample(w, "pktscope_rtt_seconds", "_count", u64s(b, h->count), "netns",
			       a[i].netns, "iface", a[i].iface, "src", rtt_src_names[s], END);
		}
	}
}

static void write_kdrops(struct mw *w, const struct kdns *k, int nk)
{
	char b[24];
	int i, j;

	fam(w, "pktscope_kernel_drops", "counter",
	    "Packets the kernel dropped (skb:kfree_skb with its drop reason, XDP exceptions "
	    "and redirect errors) in a netns with pinned drop probes (drops --persist).");
	for (i = 0; i < nk; i++)
		for (j = 0; j < k[i].n; j++)
			sample(w, "pktscope_kernel_drops", "_total", u64s(b, k[i].s[j].pkts),
			       "netns", k[i].netns, "iface", k[i].s[j].iface, "where",
			       k[i].s[j].where, "reason", k[i].s[j].reason, END);
	fam(w, "pktscope_kernel_dropped_bytes", "counter",
	    "Bytes (skb->len) of the packets of pktscope_kernel_drops_total; 0 for XDP.");
	for (i = 0; i < nk; i++)
		for (j = 0; j < k[i].n; j++)
			sample(w, "pktscope_kernel_dropped_bytes", "_total",
			       u64s(b, k[i].s[j].bytes), "netns", k[i].netns, "iface",
			       k[i].s[j].iface, "where", k[i].s[j].where, "reason",
			       k[i].s[j].reason, END);
	fam(w, "pktscope_kernel_drops_attach_time_seconds", "gauge",
	    "When the drop probes of a netns were pinned (Unix time); counters start then.");
	for (i = 0; i < nk; i++)
		sample(w, "pktscope_kernel_drops_attach_time_seconds", "",
		       u64s(b, k[i].attach_time), "netns", k[i].netns, END);
}

static void write_attach_info(struct mw *w, const struct att *a, int na)
{
	char b[24], idx[16];
	int i;

	fam(w, "pktscope_attachment_info", "gauge",
	    "1 for each interface pktscope's programs are attached to (pinned), with its "
	    "ifindex and XDP mode.");
	for (i = 0; i < na; i++) {
		snprintf(idx, sizeof(idx), "%u", a[i].meta.ifindex);
		sample(w, "pktscope_attachment_info", "", "1", "netns", a[i].netns,
		       "iface", a[i].iface, "ifindex", idx, "xdp_mode",
		       ps_xdp_mode_names[a[i].meta.xdp_mode < 3 ? a[i].meta.xdp_mode : 0], END);
	}
	fam(w, "pktscope_attach_time_seconds", "gauge",
	    "When the attachment was made (Unix time); counters start at zero then.");
	for (i = 0; i < na; i++)
		sample(w, "pktscope_attach_time_seconds", "", u64s(b, a[i].meta.attach_time),
		       "netns", a[i].netns, "iface", a[i].iface, END);
}

static void write_tcp(struct mw *w, const struct tcpns *t, int nt)
{
	static const struct {
		const char *name, *help, *label, *value;
		size_t off;
	} f[] = {
#define T(m) offsetof(struct ps_tcp_totals, m)
		{ "pktscope_tcp_retransmits", "TCP retransmissions the kernel counted "
		  "(tcp_retransmit_skb).", NULL, NULL, T(retrans) },
		{ "pktscope_tcp_retransmitted_segments", "Segments of those retransmissions "
		  "(sums to the kernel's TcpRetransSegs).", NULL, NULL, T(retrans_segs) },
		{ "pktscope_tcp_retransmit_failures", "Retransmission attempts the kernel did "
		  "not send (e.g. -EBUSY).", NULL, NULL, T(retrans_fail) },
		{ "pktscope_tcp_synack_retransmits", "SYN-ACKs retransmitted.", NULL, NULL,
		  T(synack_retrans) },
		{ "pktscope_tcp_resets", "TCP resets sent or received.", "dir", "sent",
		  T(rst_sent) },
		{ NULL, NULL, "dir", "received", T(rst_rcvd) },
		{ "pktscope_tcp_opens", "TCP connections established: active (connect) or "
		  "passive (accept).", "side", "active", T(active_opens) },
		{ NULL, NULL, "side", "passive", T(passive_opens) },
		{ "pktscope_tcp_failed_connects", "Connects that went from SYN_SENT to CLOSE.",
		  NULL, NULL, T(failed_connects) },
		{ "pktscope_tcp_connections_closed", "TCP connections seen from birth to CLOSE.",
		  NULL, NULL, T(closed) },
		{ "pktscope_tcp_closed_bytes", "Payload bytes of the closed connections: "
		  "tx (sent and acked), rx (received in order).", "dir", "tx", T(tx_bytes) },
		{ NULL, NULL, "dir", "rx", T(rx_bytes) },
#undef T
	};
	const char *cur = NULL;
	char b[24];
	size_t j;
	int i;

	for (j = 0; j < sizeof(f) / sizeof(f[0]); j++) {
		if (f[j].name) {
			cur = f[j].name;
			fam(w, cur, "counter", f[j].help);
		}
		for (i = 0; i < nt; i++) {
			__u64 v = *(const __u64 *)((const char *)&t[i].t + f[j].off);

			if (f[j].label)
				sample(w, cur, "_total", u64s(b, v), "netns", t[i].netns,
				       f[j].label, f[j].value, END);
			else
				sample(w, cur, "_total", u64s(b, v), "netns", t[i].netns, END);
		}
		/* the series of a family must stay together: dir=received follows sent */
	}
	fam(w, "pktscope_tcp_flows", "gauge",
	    "Flows in the pinned per-flow table (an LRU: at the limit, the oldest go).");
	for (i = 0; i < nt; i++)
		if (t[i].flows >= 0)
			sample(w, "pktscope_tcp_flows", "", u64s(b, t[i].flows), "netns",
			       t[i].netns, END);
	fam(w, "pktscope_tcp_flows_limit", "gauge", "Bound of the per-flow table.");
	for (i = 0; i < nt; i++)
		sample(w, "pktscope_tcp_flows_limit", "", u64s(b, t[i].meta.max_flows), "netns",
		       t[i].netns, END);
}

int ps_metrics_write(FILE *f, bool openmetrics, const struct ps_metrics_info *info)
{
	struct mw w = { f, openmetrics };
	struct dirent **ents = NULL;
	struct att *a = NULL;
	struct tcpns *t = NULL;
	struct kdns *kd = NULL;
	int n, i, j, na = 0, nt = 0, nk = 0;
	double t0 = ps_now();
	char b[32];

	ps_bpffs_check();	/* bpffs unmounted under the daemon: re-pin first */
	n = scandir(PS_PIN_ROOT, &ents, NULL, alphasort);
	if (n > 0) {
		a = calloc(n, sizeof(*a));
		t = calloc(n, sizeof(*t));
		kd = calloc(n, sizeof(*kd));
	}
	for (i = 0; i < n && a && t && kd; i++) {
		char dir[PATH_MAX];

		if (ents[i]->d_name[0] == '.')
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", PS_PIN_ROOT, ents[i]->d_name);
		if (!strncmp(ents[i]->d_name, "tcp-", 4)) {
			if (!read_tcp(dir, &t[nt]))
				nt++;
			continue;
		}
		if (!strncmp(ents[i]->d_name, PS_KDROPS_PREFIX, strlen(PS_KDROPS_PREFIX))) {
			uint64_t ino;

			kd[nk].n = drops_pinned_series(dir, &ino, &kd[nk].attach_time, &kd[nk].s);
			if (kd[nk].n >= 0) {
				ps_netns_name(ino, kd[nk].netns, sizeof(kd[nk].netns));
				nk++;
			}
			continue;
		}
		if (read_att(dir, &a[na]))
			continue;
		/*
		 * Stale pins of a gone interface can carry the name of a live
		 * one in the same netns: keep the first, never a duplicate series.
		 */
		for (j = 0; j < na; j++)
			if (!strcmp(a[j].netns, a[na].netns) && !strcmp(a[j].iface, a[na].iface))
				break;
		if (j == na)
			na++;
	}
	for (i = 0; i < n; i++)
		free(ents[i]);
	free(ents);

	write_packets(&w, a, na);
	write_drops(&w, a, na);
	write_kdrops(&w, kd, nk);
	write_rtt(&w, a, na);
	write_attach_info(&w, a, na);
	write_tcp(&w, t, nt);

	fam(&w, "pktscope_up", "gauge", "1 while the pktscope daemon serves metrics.");
	sample(&w, "pktscope_up", "", "1", END);
	fam(&w, "pktscope_build_info", "gauge", "pktscope's version and map layouts, value 1.");
	{
		char lv[16], tv[16];

		snprintf(lv, sizeof(lv), "%d", PS_LAYOUT_VERSION);
		snprintf(tv, sizeof(tv), "%d", PS_TCP_LAYOUT_VERSION);
		sample(&w, "pktscope_build_info", "", "1", "version", PS_VERSION,
		       "layout", lv, "tcp_layout", tv, END);
	}
	fam(&w, "pktscope_daemon_start_time_seconds", "gauge",
	    "When the daemon started (Unix time).");
	sample(&w, "pktscope_daemon_start_time_seconds", "", f64s(b, info->start_time), END);
	fam(&w, "pktscope_scrapes", "counter", "Scrapes of /metrics served before this one.");
	sample(&w, "pktscope_scrapes", "_total", u64s(b, info->scrapes), END);
	fam(&w, "pktscope_http_refused_connections", "counter",
	    "Connections refused with 503 because every client slot was busy.");
	sample(&w, "pktscope_http_refused_connections", "_total", u64s(b, info->refused), END);
	fam(&w, "pktscope_http_bad_requests", "counter",
	    "Requests answered with a 4xx status.");
	sample(&w, "pktscope_http_bad_requests", "_total", u64s(b, info->bad_requests), END);
	fam(&w, "pktscope_http_connections", "gauge", "Open client connections.");
	sample(&w, "pktscope_http_connections", "", u64s(b, info->conns), END);
	fam(&w, "pktscope_attachments", "gauge", "Interfaces exported.");
	sample(&w, "pktscope_attachments", "", u64s(b, na), END);
	fam(&w, "pktscope_collect_duration_seconds", "gauge",
	    "Time this scrape took to read the pinned maps and format them.");
	sample(&w, "pktscope_collect_duration_seconds", "", f64s(b, ps_now() - t0), END);
	if (openmetrics)
		fputs("# EOF\n", f);
	free(a);
	free(t);
	for (i = 0; i < nk; i++)
		free(kd[i].s);
	free(kd);
	return ferror(f) ? -1 : 0;
}
