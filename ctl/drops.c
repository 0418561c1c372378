// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * drops: where packets are lost, while the command runs.
 *
 * Kernel drops come from skb:kfree_skb (reason named from the running
 * kernel's BTF, never from a table compiled in), xdp:xdp_exception and
 * xdp:xdp_redirect_err, filtered in BPF to the network namespace pktscope
 * runs in.  pktscope's own XDP/TC drops (filter rules) come from the pinned
 * counters of the attachments in this namespace, as deltas from the start.
 *
 * The persistent mode (drops --persist attach|detach) pins the same
 * programs, links and aggregate under PS_PIN_ROOT/drops-<netns inode>/:
 * the kernel drops are then counted from the attach on, with or without a
 * pktscope process, and `pktscope drops` and the daemon read the pins.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "ctl.h"
#include "output.h"
#include "rules.h"
#include "report.h"
#include "kdrops.h"
#include "drops.skel.h"

/* ---- names ------------------------------------------------------------------ */

struct reason_name {
	__u32 val;
	char name[56];
};

static struct reason_name *reasons, *subsys;
static int nreasons, nsubsys;

/* Values and names of an enum of the kernel's BTF, prefix stripped. */
static int load_enum(const struct btf *btf, const char *ename, const char *prefix,
		     struct reason_name **out)
{
	const struct btf_type *t;
	const struct btf_enum *e;
	size_t plen = strlen(prefix);
	int id, i, n;

	id = btf__find_by_name_kind(btf, ename, BTF_KIND_ENUM);
	if (id < 0)
		return 0;
	t = btf__type_by_id(btf, id);
	n = btf_vlen(t);
	e = btf_enum(t);
	*out = calloc(n, sizeof(**out));
	if (!*out)
		return 0;
	for (i = 0; i < n; i++) {
		const char *name = btf__name_by_offset(btf, e[i].name_off);

		if (name && !strncmp(name, prefix, plen))
			name += plen;
		(*out)[i].val = e[i].val;
		snprintf((*out)[i].name, sizeof((*out)[i].name), "%s", name ? name : "?");
	}
	return n;
}

static void load_reasons(void)
{
	static bool tried;	/* once: the daemon asks at every scrape */
	struct btf *btf;

	if (tried)
		return;
	tried = true;
	btf = btf__load_vmlinux_btf();
	if (!btf) {
		ps_warn("no kernel BTF (%s): drop reasons are shown as numbers", strerror(errno));
		return;
	}
	nreasons = load_enum(btf, "skb_drop_reason", "SKB_DROP_REASON_", &reasons);
	nsubsys = load_enum(btf, "skb_drop_reason_subsys", "SKB_DROP_REASON_SUBSYS_", &subsys);
	btf__free(btf);
}

/*
 * The kernel's name of a drop reason.  The high 16 bits name a subsystem
 * whose own reasons live in enums of that subsystem: shown as SUBSYS:code.
 */
static const char *reason_str(__u32 r, char *buf, size_t len)
{
	__u32 sub = r >> 16;
	int i;

	if (!sub) {
		for (i = 0; i < nreasons; i++)
			if (reasons[i].val == r)
				return reasons[i].name;
		snprintf(buf, len, "reason_%u", r);
		return buf;
	}
	for (i = 0; i < nsubsys; i++)
		if (subsys[i].val == sub) {
			snprintf(buf, len, "%s:%u", subsys[i].name, r & 0xffff);
			return buf;
		}
	snprintf(buf, len, "subsys_%u:%u", sub, r & 0xffff);
	return buf;
}

/* The part of the path a kernel reason points at. */
static const char *reason_where(const char *name)
{
	static const char *const qdisc[] = { "QDISC_", "CAKE_", "FQ_", "DUALPI2_" };
	size_t i;

	if (!strncmp(name, "TC_", 3))
		return "tc";
	for (i = 0; i < sizeof(qdisc) / sizeof(qdisc[0]); i++)
		if (!strncmp(name, qdisc[i], strlen(qdisc[i])))
			return "qdisc";
	if (!strcmp(name, "CPU_BACKLOG") || !strcmp(name, "NEIGH_QUEUEFULL") ||
	    !strcmp(name, "FULL_RING"))
		return "queue";
	if (!strcmp(name, "XDP"))
		return "xdp";
	return "stack";
}

static const char *l3_str(__u16 p, char *buf, size_t len)
{
	switch (p) {
	case 0x0800: return "ipv4";
	case 0x86dd: return "ipv6";
	case 0x0806: return "arp";
	case 0: return "-";
	}
	snprintf(buf, len, "0x%04x", p);
	return buf;
}

static const char *l4_str(__u8 p, char *buf, size_t len)
{
	switch (p) {
	case 6: return "tcp";
	case 17: return "udp";
	case 1: return "icmp";
	case 58: return "icmpv6";
	case 0: return "-";
	}
	snprintf(buf, len, "%u", p);
	return buf;
}

static const char *xdp_act_str(__u32 act)
{
	static const char *const n[] = { "ABORTED", "DROP", "PASS", "TX", "REDIRECT" };

	return act < 5 ? n[act] : "UNKNOWN";
}

static const char *ifname_str(__u32 ifindex, char *buf)
{
	if (!ifindex)
		return "-";
	if (!if_indextoname(ifindex, buf))
		snprintf(buf, IF_NAMESIZE, "if%u", ifindex);
	return buf;
}

/* ---- kallsyms --------------------------------------------------------------- */

struct ksym {
	unsigned long long addr;
	char *name;
};

static struct ksym *ksyms;
static size_t nksyms;

static int ksym_cmp(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static void load_kallsyms(void)
{
	char line[512], name[256], type;
	unsigned long long addr;
	size_t cap = 0;
	FILE *f;

	if (ksyms)
		return;
	nksyms = 0;
	f = fopen("/proc/kallsyms", "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %255s", &addr, &type, name) != 3 || !addr)
			continue;
		if (type != 't' && type != 'T')
			continue;
		if (nksyms == cap) {
			struct ksym *n;

			cap = cap ? cap * 2 : 65536;
			n = realloc(ksyms, cap * sizeof(*n));
			if (!n)
				break;
			ksyms = n;
		}
		ksyms[nksyms].addr = addr;
		ksyms[nksyms].name = strdup(name);
		nksyms++;
	}
	fclose(f);
	if (nksyms)
		qsort(ksyms, nksyms, sizeof(*ksyms), ksym_cmp);
}

static const char *ksym_str(unsigned long long addr, char *buf, size_t len)
{
	size_t lo = 0, hi = nksyms;

	if (!nksyms || addr < ksyms[0].addr) {
		snprintf(buf, len, "0x%llx", addr);
		return buf;
	}
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;

		if (ksyms[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	snprintf(buf, len, "%s+0x%llx", ksyms[lo].name, addr - ksyms[lo].addr);
	return buf;
}

/* ---- rows of the table ---------------------------------------------------- */

enum row_src { ROW_KERNEL, ROW_RULE, ROW_VERDICT };

struct row {
	int src;			/* enum row_src */
	struct ps_drop_key k;		/* ROW_KERNEL */
	int rule_id, dir;		/* ROW_RULE / ROW_VERDICT */
	__u32 ifindex;
	__u64 count, bytes, prev;
	bool seen;
};

static struct row *rows;
static size_t nrows, caprows;

static struct row *row_get(int src, const struct ps_drop_key *k, int rule_id, int dir,
			   __u32 ifindex)
{
	size_t i;

	for (i = 0; i < nrows; i++) {
		struct row *r = &rows[i];

		if (r->src == src && r->ifindex == ifindex && r->rule_id == rule_id &&
		    r->dir == dir && (!k || !memcmp(&r->k, k, sizeof(*k))))
			return r;
	}
	if (nrows == caprows) {
		struct row *n;

		caprows = caprows ? caprows * 2 : 64;
		n = realloc(rows, caprows * sizeof(*n));
		if (!n)
			return NULL;
		rows = n;
	}
	memset(&rows[nrows], 0, sizeof(rows[nrows]));
	rows[nrows].src = src;
	if (k)
		rows[nrows].k = *k;
	rows[nrows].rule_id = rule_id;
	rows[nrows].dir = dir;
	rows[nrows].ifindex = ifindex;
	return &rows[nrows++];
}

/* pktscope's attachments in this netns, with their counters at the start. */
struct att {
	struct ps_pins p;
	struct ps_filter_pins fp;
	bool has_filter;
	__u64 base_drop[PS_DIR_MAX];
	struct ps_rule_stats base[PS_RULE_STATS_ENTRIES];
};

static struct att *atts;
static int natts;

static void open_attachments(uint64_t ino, int ifindex)
{
	char prefix[32], dir[PATH_MAX];
	struct dirent *de;
	DIR *d;

	snprintf(prefix, sizeof(prefix), "%llu-", (unsigned long long)ino);
	d = opendir(PS_PIN_ROOT);
	if (!d)
		return;
	while ((de = readdir(d))) {
		struct ps_counters c[PS_DIR_MAX];
		struct att *a, *n;
		int i;

		if (strncmp(de->d_name, prefix, strlen(prefix)))
			continue;
		if (ifindex && atoi(de->d_name + strlen(prefix)) != ifindex)
			continue;
		n = realloc(atts, (natts + 1) * sizeof(*atts));
		if (!n)
			break;
		atts = n;
		a = &atts[natts];
		memset(a, 0, sizeof(*a));
		snprintf(dir, sizeof(dir), "%s/%s", PS_PIN_ROOT, de->d_name);
		if (ps_pins_open(dir, &a->p))
			continue;
		if (ps_read_counters(a->p.stats_fd, c)) {
			ps_pins_close(&a->p);
			continue;
		}
		for (i = 0; i < PS_DIR_MAX; i++)
			a->base_drop[i] = c[i].verdict[PS_V_DROP];
		a->fp.rules_fd = a->fp.ctl_fd = a->fp.stats_fd = a->fp.lock_fd = -1;
		/* Attachments of an older pktscope have no filter maps: verdicts only. */
		if (!access(strcat(dir, "/filter_rules"), F_OK)) {
			dir[strlen(dir) - strlen("/filter_rules")] = '\0';
			a->has_filter = !ps_filter_open(dir, &a->fp) &&
					!ps_filter_read_stats(&a->fp, a->base);
		}
		natts++;
	}
	closedir(d);
}

static void read_attachments(void)
{
	struct ps_rule_stats st[PS_RULE_STATS_ENTRIES];
	struct ps_counters c[PS_DIR_MAX];
	int i, d, s;

	for (i = 0; i < natts; i++) {
		struct att *a = &atts[i];
		__u64 ruled[PS_DIR_MAX] = {};

		/* Verdicts first: a rule counts before the verdict does. */
		if (ps_read_counters(a->p.stats_fd, c))
			continue;
		if (a->has_filter && !ps_filter_read_stats(&a->fp, st)) {
			for (s = 0; s < PS_RULES_MAX; s++) {
				for (d = 0; d < PS_DIR_MAX; d++) {
					int k = s * PS_DIR_MAX + d;
					struct row *r;
					__u64 v;

					/* A re-used slot starts from zero again. */
					if (st[k].dropped < a->base[k].dropped)
						a->base[k] = (struct ps_rule_stats){};
					v = st[k].dropped - a->base[k].dropped;
					if (!v)
						continue;
					ruled[d] += v;
					r = row_get(ROW_RULE, NULL, s + 1, d, a->p.meta.ifindex);
					if (r) {
						r->count = v;
						r->bytes = st[k].dropped_bytes -
							   a->base[k].dropped_bytes;
					}
				}
			}
		}
		for (d = 0; d < PS_DIR_MAX; d++) {
			__u64 v = c[d].verdict[PS_V_DROP] - a->base_drop[d];
			struct row *r;

			if (v <= ruled[d])
				continue;
			r = row_get(ROW_VERDICT, NULL, 0, d, a->p.meta.ifindex);
			if (r)
				r->count = v - ruled[d];
		}
	}
}

static void read_kernel_fd(int fd, int only_ifindex)
{
	int ncpu = ps_ncpus(), cpu;
	struct ps_drop_key k, next, *prev = NULL;
	struct ps_drop_val *v;

	v = calloc(ncpu, sizeof(*v));
	if (!v)
		return;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		struct row *r;

		k = next;
		prev = &k;
		if (only_ifindex && k.ifindex != (__u32)only_ifindex)
			continue;
		if (bpf_map_lookup_elem(fd, &k, v))
			continue;
		r = row_get(ROW_KERNEL, &k, 0, 0, k.ifindex);
		if (!r)
			continue;
		r->count = r->bytes = 0;
		for (cpu = 0; cpu < ncpu; cpu++) {
			r->count += v[cpu].pkts;
			r->bytes += v[cpu].bytes;
		}
	}
	free(v);
}

static void read_kernel(struct drops_bpf *skel)
{
	read_kernel_fd(bpf_map__fd(skel->maps.drop_counts), 0);
}

static void row_labels(const struct row *r, const char **where, char *reason, size_t rlen)
{
	char b[64];

	switch (r->src) {
	case ROW_RULE:
		*where = r->dir == PS_DIR_XDP ? "xdp" : "tc";
		snprintf(reason, rlen, "pktscope_rule_%d", r->rule_id);
		return;
	case ROW_VERDICT:
		*where = r->dir == PS_DIR_XDP ? "xdp" : "tc";
		snprintf(reason, rlen, "pktscope_verdict");
		return;
	}
	switch (r->k.kind) {
	case PS_DK_XDP_EXCEPTION:
		*where = "xdp";
		snprintf(reason, rlen, "xdp_exception:%s", xdp_act_str(r->k.reason));
		return;
	case PS_DK_XDP_REDIRECT_ERR:
		*where = "xdp";
		snprintf(reason, rlen, "xdp_redirect_err:%s", strerrorname_np(r->k.reason) ?
			 strerrorname_np(r->k.reason) : "?");
		return;
	}
	snprintf(reason, rlen, "%s", reason_str(r->k.reason, b, sizeof(b)));
	*where = reason_where(reason);
}

static int row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	if (x->src != y->src)
		return x->src - y->src;
	return memcmp(&x->k, &y->k, sizeof(x->k));
}

static void print_locations(struct drops_bpf *skel, int top)
{
	int fd = bpf_map__fd(skel->maps.drop_locs), ncpu = ps_ncpus(), cpu, i, n = 0, cap = 0;
	struct ps_drop_loc_key k, next, *prev = NULL;
	struct { struct ps_drop_loc_key k; __u64 n; } *l = NULL;
	__u64 *v;

	v = calloc(ncpu, sizeof(*v));
	if (!v)
		return;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, v))
			continue;
		if (n == cap) {
			void *nl;

			cap = cap ? cap * 2 : 64;
			nl = realloc(l, cap * sizeof(*l));
			if (!nl)
				break;
			l = nl;
		}
		l[n].k = k;
		l[n].n = 0;
		for (cpu = 0; cpu < ncpu; cpu++)
			l[n].n += v[cpu];
		n++;
	}
	/* Top N by count: a partial selection sort, N is small. */
	for (i = 0; i < n && i < top; i++) {
		int j, best = i;

		for (j = i + 1; j < n; j++)
			if (l[j].n > l[best].n)
				best = j;
		if (best != i) {
			typeof(*l) t = l[i];

			l[i] = l[best];
			l[best] = t;
		}
	}
	out_arr_open("locations");
	out_text("%-48s %-28s %12s\n", "LOCATION", "REASON", "COUNT");
	for (i = 0; i < n && i < top; i++) {
		char sym[256], rb[64];

		out_obj_open(NULL);
		out_str("location", "%-48s ", ksym_str(l[i].k.location, sym, sizeof(sym)));
		out_u64("address", NULL, l[i].k.location);
		out_str("reason", "%-28s ", reason_str(l[i].k.reason, rb, sizeof(rb)));
		out_u64("count", "%12llu\n", l[i].n);
		out_obj_close();
	}
	out_arr_close();
	free(l);
	free(v);
}

/* The kernel counters a table reads: a loaded skeleton's, or the pinned ones. */
struct ksrc {
	int counts_fd, misc_fd;
	int ifindex;		/* pinned: only this interface (0: all) */
	const struct ps_drops_meta *meta;	/* pinned: its meta, else NULL */
};

static void print_table(struct drops_bpf *skel, const struct ksrc *ks, const char *nsname,
			double elapsed, int top)
{
	static double last;	/* elapsed at the previous table */
	double interval = elapsed - last;
	struct ps_drop_misc m[256] = {}, tot = {};
	char when[32], ifb[IF_NAMESIZE], l3b[16], l4b[16], proto[40], reason[96];
	time_t t = time(NULL);
	__u32 key = 0;
	struct tm tm;
	size_t i;
	int cpu;

	last = elapsed;
	for (i = 0; i < nrows; i++)
		rows[i].prev = rows[i].count;
	read_kernel_fd(ks->counts_fd, ks->ifindex);
	read_attachments();
	if (nrows)
		qsort(rows, nrows, sizeof(*rows), row_cmp);

	if (ps_ncpus() <= 256 && !bpf_map_lookup_elem(ks->misc_fd, &key, m))
		for (cpu = 0; cpu < ps_ncpus(); cpu++) {
			tot.events_suppressed += m[cpu].events_suppressed;
			tot.no_netns += m[cpu].no_netns;
		}

	localtime_r(&t, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	out_obj_open(NULL);
	out_str("time", "%s", when);
	out_str("netns", "  drops in netns %s", nsname);
	out_f64("elapsed_s", " over %.1fs", elapsed);
	out_f64("interval_s", NULL, interval);
	out_u64("no_netns", NULL, tot.no_netns);
	if (ks->meta) {
		time_t at = ks->meta->attach_time;
		char ab[32];

		localtime_r(&at, &tm);
		strftime(ab, sizeof(ab), "%Y-%m-%d %H:%M:%S", &tm);
		out_bool("pinned", NULL, true);
		out_u64("attach_time", NULL, ks->meta->attach_time);
		out_str("since", "  (kernel drops: pinned, since %s)", ab);
	}
	out_text("\n%-6s %-12s %-32s %-12s %12s %12s %12s\n", "WHERE", "IFACE", "REASON",
		 "PROTO", "COUNT", "BYTES", "PPS");
	out_arr_open("drops");
	for (i = 0; i < nrows; i++) {
		const struct row *r = &rows[i];
		const char *where;

		if (!r->count)
			continue;
		row_labels(r, &where, reason, sizeof(reason));
		out_obj_open(NULL);
		out_str("where", "%-6s ", where);
		out_str("iface", "%-12s ", ifname_str(r->ifindex, ifb));
		out_u64("ifindex", NULL, r->ifindex);
		out_str("reason", "%-32s ", reason);
		if (r->src == ROW_KERNEL) {
			out_str("source", NULL, r->k.kind == PS_DK_SKB ? "kfree_skb" :
				r->k.kind == PS_DK_XDP_EXCEPTION ? "xdp_exception" :
				"xdp_redirect_err");
			out_u64("reason_code", NULL, r->k.reason);
			out_str("l3", NULL, l3_str(r->k.l3proto, l3b, sizeof(l3b)));
			out_str("l4", NULL, l4_str(r->k.l4proto, l4b, sizeof(l4b)));
			if (r->k.prog_id)
				out_u64("prog_id", NULL, r->k.prog_id);
			snprintf(proto, sizeof(proto), "%s%s%s",
				 l3_str(r->k.l3proto, l3b, sizeof(l3b)), r->k.l4proto ? "/" : "",
				 r->k.l4proto ? l4_str(r->k.l4proto, l4b, sizeof(l4b)) : "");
		} else {
			out_str("source", NULL, "pktscope");
			out_str("dir", NULL, ps_dir_names[r->dir]);
			if (r->rule_id)
				out_u64("rule_id", NULL, r->rule_id);
			snprintf(proto, sizeof(proto), "-");
		}
		out_text("%-12s ", proto);
		out_u64("count", "%12llu ", r->count);
		out_u64("bytes", "%12llu ", r->bytes);
		out_f64("pps", "%12.1f\n", interval > 0 ? (r->count - r->prev) / interval : 0);
		out_obj_close();
	}
	out_arr_close();
	if (top > 0)
		print_locations(skel, top);
	out_u64("events_suppressed", tot.events_suppressed ? "(%llu events over the rate "
		"limit not shown)\n" : NULL, tot.events_suppressed);
	out_obj_close();
	out_text("\n");
	out_doc_end();
}

/* ---- events ------------------------------------------------------------------ */

static long long mono_to_real_ns;	/* CLOCK_REALTIME - CLOCK_MONOTONIC */

static int on_event(void *ctx, void *data, size_t len)
{
	const struct ps_drop_event *e = data;
	char ts[48], tb[32], ifb[IF_NAMESIZE], l3b[16], l4b[16], reason[96], a[INET6_ADDRSTRLEN];
	char sym[256];
	struct row r = {};
	const char *where;
	double t;
	time_t sec;
	struct tm tm;
	int af;

	(void)ctx;
	if (len < sizeof(*e))
		return 0;
	t = (e->ts_ns + mono_to_real_ns) / 1e9;
	sec = (time_t)t;
	localtime_r(&sec, &tm);
	strftime(tb, sizeof(tb), "%H:%M:%S", &tm);
	snprintf(ts, sizeof(ts), "%s.%06ld", tb, (long)((t - sec) * 1e6));
	r.src = ROW_KERNEL;
	r.k.kind = e->kind;
	r.k.reason = e->reason;
	row_labels(&r, &where, reason, sizeof(reason));

	out_obj_open(NULL);
	out_str("time", "%s ", ts);
	out_u64("timestamp_ns", NULL, e->ts_ns + mono_to_real_ns);
	out_str("where", "%-5s ", where);
	out_str("iface", "%-10s ", ifname_str(e->ifindex, ifb));
	out_u64("ifindex", NULL, e->ifindex);
	out_str("reason", "%-24s ", reason);
	out_u64("reason_code", NULL, e->reason);
	if (e->kind == PS_DK_SKB) {
		out_str("l3", "%s", l3_str(e->l3proto, l3b, sizeof(l3b)));
		out_str("l4", e->l4proto ? "/%s" : NULL, l4_str(e->l4proto, l4b, sizeof(l4b)));
		out_u64("len", " len %llu", e->len);
		if (e->has_addr) {
			af = e->l3proto == 0x86dd ? AF_INET6 : AF_INET;
			inet_ntop(af, e->saddr, a, sizeof(a));
			out_str("src", af == AF_INET6 ? " [%s]" : " %s", a);
			if (e->has_ports)
				out_u64("sport", ":%llu", e->sport);
			inet_ntop(af, e->daddr, a, sizeof(a));
			out_str("dst", af == AF_INET6 ? " -> [%s]" : " -> %s", a);
			if (e->has_ports)
				out_u64("dport", ":%llu", e->dport);
		}
		out_str("location", " at %s", ksym_str(e->location, sym, sizeof(sym)));
	} else {
		out_u64("prog_id", " prog %llu", e->prog_id);
	}
	out_text("\n");
	out_obj_close();
	out_event_end();
	return 0;
}

/* ---- persistent mode ------------------------------------------------------------ */

static const struct ps_persist kpersist = {
	.name = "drops",
	.probes = "kernel drop probes",
	.detach = "pktscope drops --persist detach",
	.bound_key = "max_entries",
	.bound_what = "aggregate bound",
};

int drops_persist_attach(void)
{
	struct ps_drops_meta meta = {};
	struct drops_bpf *skel = NULL;
	char dir[PATH_MAX];
	static const char *const ln[] = { "link_kfree_skb", "link_xdp_exception",
					  "link_xdp_redirect_err" };
	struct bpf_link *links[3];
	uint64_t ino;
	__u32 zero = 0;
	int err, i, rc = EXIT_RUNTIME;
	bool made_dir = false;

	if (ps_need_root("drops --persist attach") || ps_mount_bpffs() || ps_mount_tracefs() ||
	    ps_persist_begin(&kpersist, dir, sizeof(dir), &ino))
		return EXIT_RUNTIME;
	skel = drops_bpf__open();
	if (!skel) {
		ps_err("open the drop tracepoint programs: %s", strerror(errno));
		return EXIT_RUNTIME;
	}
	skel->rodata->target_netns = (__u32)ino;
	/* no events and no locations in this mode: the smallest maps there are */
	bpf_map__set_max_entries(skel->maps.drop_events, getpagesize());
	bpf_map__set_max_entries(skel->maps.drop_locs, 1);
	err = drops_bpf__load(skel);
	if (err) {
		ps_err("load the drop tracepoint programs: %s (run with -v for the verifier log)",
		       strerror(-err));
		goto out;
	}
	ps_failpoint("drops-load");
	if (ps_persist_mkdir(&kpersist, dir))
		goto out;
	made_dir = true;
	meta.magic = PS_DROPS_MAGIC;
	meta.layout_version = PS_DROPS_LAYOUT_VERSION;
	meta.netns_ino = ino;
	meta.attach_time = time(NULL);
	meta.max_entries = bpf_map__max_entries(skel->maps.drop_counts);
	meta.key_size = sizeof(struct ps_drop_key);
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.drops_meta), &zero, &meta, BPF_ANY)) {
		ps_err("write %s/drops_meta: %s", dir, strerror(errno));
		goto out;
	}
	if (ps_pin_fd(bpf_map__fd(skel->maps.drops_meta), dir, "drops_meta") ||
	    ps_pin_fd(bpf_map__fd(skel->maps.drop_counts), dir, "drop_counts") ||
	    ps_pin_fd(bpf_map__fd(skel->maps.drop_misc), dir, "drop_misc") ||
	    ps_pin_fd(bpf_map__fd(skel->maps.drop_ifnames), dir, "drop_ifnames"))
		goto out;
	err = drops_bpf__attach(skel);
	if (err) {
		ps_err("attach to skb:kfree_skb / xdp:xdp_exception / xdp:xdp_redirect_err: %s",
		       strerror(-err));
		goto out;
	}
	ps_failpoint("drops-attach");
	links[0] = skel->links.ps_kfree_skb;
	links[1] = skel->links.ps_xdp_exception;
	links[2] = skel->links.ps_xdp_redirect_err;
	for (i = 0; i < 3; i++) {
		if (ps_pin_fd(bpf_link__fd(links[i]), dir, ln[i]))
			goto out;
		ps_failpoint("drops-pin-link");
	}
	ps_persist_attached(&kpersist, dir, ino, meta.max_entries);
	rc = EXIT_OK;
out:
	if (rc && made_dir)
		ps_unpin_all(dir);
	/* the pinned links keep the programs attached after this */
	drops_bpf__destroy(skel);
	return rc;
}

int drops_persist_detach(void)
{
	return ps_persist_detach(&kpersist, "drops --persist detach");
}

bool drops_persist_exists(void)
{
	char dir[PATH_MAX];
	uint64_t ino;

	return !ps_persist_dir(&kpersist, dir, sizeof(dir), &ino) && !access(dir, F_OK);
}

struct kpins {
	int meta_fd, counts_fd, misc_fd, names_fd;
	struct ps_drops_meta meta;
};

static void kpins_close(struct kpins *p)
{
	if (p->meta_fd >= 0)
		close(p->meta_fd);
	if (p->counts_fd >= 0)
		close(p->counts_fd);
	if (p->misc_fd >= 0)
		close(p->misc_fd);
	if (p->names_fd >= 0)
		close(p->names_fd);
	p->meta_fd = p->counts_fd = p->misc_fd = p->names_fd = -1;
}

static int kpins_open(const char *dir, struct kpins *p, bool quiet)
{
	static const struct ps_pin_map
		meta = { "drops_meta", 4, sizeof(struct ps_drops_meta), 0, NULL },
		counts = { "drop_counts", sizeof(struct ps_drop_key), sizeof(struct ps_drop_val),
			   0, NULL },
		misc = { "drop_misc", 4, sizeof(struct ps_drop_misc), 0, NULL },
		names = { "drop_ifnames", 4, sizeof(struct ps_drop_ifname), 0, NULL };
	int q = quiet ? PS_PIN_QUIET : 0;
	__u32 zero = 0;

	p->meta_fd = p->counts_fd = p->misc_fd = p->names_fd = -1;
	p->meta_fd = ps_pin_map_open(dir, &meta, q, NULL);
	if (p->meta_fd < 0)
		goto err;
	if (bpf_map_lookup_elem(p->meta_fd, &zero, &p->meta) || p->meta.magic != PS_DROPS_MAGIC ||
	    p->meta.layout_version != PS_DROPS_LAYOUT_VERSION) {
		if (!quiet)
			ps_err("pinned maps in %s have drops layout version %u, this build reads "
			       "%u: detach with the pktscope that attached them, or remove %s",
			       dir, p->meta.layout_version, PS_DROPS_LAYOUT_VERSION, dir);
		goto err;
	}
	p->counts_fd = ps_pin_map_open(dir, &counts, q, NULL);
	p->misc_fd = ps_pin_map_open(dir, &misc, q, NULL);
	/* names are a nicety: a missing map only costs "if<N>" labels */
	p->names_fd = ps_pin_map_open(dir, &names, PS_PIN_QUIET, NULL);
	if (p->counts_fd < 0 || p->misc_fd < 0)
		goto err;
	return 0;
err:
	kpins_close(p);
	return -1;
}

/* ---- the command --------------------------------------------------------------- */

#define DROPS_HELP							\
	"  -i, --interval SECONDS  print the table every SECONDS (default 1)\n" \
	"  -c, --count N           stop after N tables (default: until Ctrl-C)\n" \
	"  -d, --duration SECONDS  stop after SECONDS, print the final table\n" \
	"  --locations N           also the top N kernel functions that dropped\n" \
	"  --events                one line per drop instead of the table\n" \
	"  --rate-limit N          --events: at most N events per second per CPU\n" \
	"                          (default 100; the rest are counted)\n" \
	"  --persist attach|detach pin the kernel drop probes of this netns (or\n" \
	"                          remove them): counted from then on, without a\n" \
	"                          process; the table then shows those pinned totals\n"

int cmd_drops(int argc, char **argv)
{
	enum { O_LOC = 0x2000, O_EVENTS, O_RL, O_PERSIST };
	static const struct option opts[] = {
		{ "interval",	required_argument,	NULL, 'i' },
		{ "count",	required_argument,	NULL, 'c' },
		{ "duration",	required_argument,	NULL, 'd' },
		{ "locations",	required_argument,	NULL, O_LOC },
		{ "events",	no_argument,		NULL, O_EVENTS },
		{ "rate-limit",	required_argument,	NULL, O_RL },
		{ "persist",	required_argument,	NULL, O_PERSIST },
		PS_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct ring_buffer *rb = NULL;
	struct drops_bpf *skel = NULL;
	double interval = 1, duration = 0, t0, next;
	uint64_t count = 0, top = 0, rl = 100, shown = 0;
	bool events = false, other = false;
	const char *persist = NULL;
	struct kpins kp = { -1, -1, -1, -1, {} };
	struct ksrc ks = {};
	char nsname[64], pdir[PATH_MAX];
	struct timespec rt, mt;
	uint64_t ino;
	int c, r, err, ifindex = 0, rc = EXIT_RUNTIME;

	while ((c = ps_getopt(argc, argv, "i:c:d:" PS_COMMON_SHORTOPTS, opts)) != -1) {
		switch (c) {
		case 'i':
			other = true;
			if (parse_seconds("interval", optarg, 0.01, 86400, &interval))
				return EXIT_USAGE;
			break;
		case 'c':
			other = true;
			if (parse_u64("count", optarg, 1, UINT32_MAX, &count))
				return EXIT_USAGE;
			break;
		case 'd':
			other = true;
			if (parse_seconds("duration", optarg, 0.01, 31 * 86400.0, &duration))
				return EXIT_USAGE;
			break;
		case O_LOC:
			other = true;
			if (parse_u64("--locations", optarg, 1, 1000, &top))
				return EXIT_USAGE;
			break;
		case O_EVENTS:
			other = true;
			events = true;
			break;
		case O_RL:
			other = true;
			if (parse_u64("--rate-limit", optarg, 1, 1000000, &rl))
				return EXIT_USAGE;
			break;
		case O_PERSIST:
			if (strcmp(optarg, "attach") && strcmp(optarg, "detach")) {
				ps_err("unknown --persist action '%s': give attach or detach",
				       optarg);
				return EXIT_USAGE;
			}
			persist = optarg;
			break;
		default:
			r = ps_common_opt(c, optarg);
			if (r > 0) {
				ps_cmd_help("drops", DROPS_HELP);
				return EXIT_OK;
			}
			if (r < 0)
				return EXIT_USAGE;
		}
	}
	if (optind < argc - 1) {
		ps_err("drops takes at most one interface: pktscope drops [IFACE]");
		return EXIT_USAGE;
	}
	if (persist && (other || optind < argc)) {
		ps_err("--persist %s takes no other option nor interface: the probes count "
		       "every interface of the netns", persist);
		return EXIT_USAGE;
	}
	if (persist)
		return !strcmp(persist, "attach") ? drops_persist_attach() :
		       drops_persist_detach();
	if (optind == argc - 1 && parse_ifindex(argv[optind], &ifindex))
		return EXIT_USAGE;
	if (ps_need_root("drops") || ps_mount_tracefs() || ps_mount_bpffs() ||
	    ps_netns_ino(&ino))
		return EXIT_RUNTIME;
	ps_netns_name(ino, nsname, sizeof(nsname));
	load_reasons();
	if (events || top)
		load_kallsyms();

	/*
	 * Pinned probes count already: read them rather than load a second
	 * copy.  --events and --locations need the live programs.
	 */
	if (!events && !top && !ps_persist_dir(&kpersist, pdir, sizeof(pdir), &ino) &&
	    !access(pdir, F_OK)) {
		if (kpins_open(pdir, &kp, false))
			return EXIT_RUNTIME;
		ks = (struct ksrc){ kp.counts_fd, kp.misc_fd, ifindex, &kp.meta };
		open_attachments(ino, ifindex);
		ps_install_signals();
		ps_info("watching drops in netns %s%s%s, kernel drops from the pins in %s "
			"(Ctrl-C to stop)", nsname, ifindex ? " on " : "",
			ifindex ? argv[optind] : "", pdir);
		/* the first table's rates start from here */
		read_kernel_fd(kp.counts_fd, ifindex);
		goto loop;
	}

	skel = drops_bpf__open();
	if (!skel) {
		ps_err("open the drop tracepoint programs: %s", strerror(errno));
		return EXIT_RUNTIME;
	}
	skel->rodata->target_netns = (__u32)ino;
	skel->rodata->target_ifindex = ifindex;
	skel->rodata->want_locations = top > 0;
	skel->rodata->want_events = events;
	skel->rodata->events_per_sec = rl;
	err = drops_bpf__load(skel);
	if (err) {
		ps_err("load the drop tracepoint programs: %s (run with -v for the verifier log)",
		       strerror(-err));
		goto out;
	}
	err = drops_bpf__attach(skel);
	if (err) {
		ps_err("attach to skb:kfree_skb / xdp:xdp_exception / xdp:xdp_redirect_err: %s",
		       strerror(-err));
		goto out;
	}
	if (events) {
		rb = ring_buffer__new(bpf_map__fd(skel->maps.drop_events), on_event, NULL, NULL);
		if (!rb) {
			ps_err("open the drop event ring buffer: %s", strerror(errno));
			goto out;
		}
		clock_gettime(CLOCK_REALTIME, &rt);
		clock_gettime(CLOCK_MONOTONIC, &mt);
		mono_to_real_ns = (rt.tv_sec - mt.tv_sec) * 1000000000LL + (rt.tv_nsec - mt.tv_nsec);
	} else {
		open_attachments(ino, ifindex);
	}
	ks = (struct ksrc){ bpf_map__fd(skel->maps.drop_counts),
			    bpf_map__fd(skel->maps.drop_misc), 0, NULL };
	ps_install_signals();
	ps_info("watching drops in netns %s%s%s (Ctrl-C to stop)", nsname,
		ifindex ? " on " : "", ifindex ? argv[optind] : "");

loop:
	t0 = ps_now();
	next = t0 + interval;
	while (!ps_exiting) {
		double now = ps_now(), wait;

		if (duration > 0 && now - t0 >= duration)
			break;
		if (events) {
			wait = duration > 0 ? t0 + duration - now : 0.25;
			if (wait > 0.25)
				wait = 0.25;
			err = ring_buffer__poll(rb, (int)(wait * 1000) + 1);
			/* Most events come without a wakeup (bpf/rb.h). */
			if (err >= 0)
				err = ring_buffer__consume(rb);
			fflush(stdout);
			if (err < 0 && err != -EINTR) {
				ps_err("read drop events: %s", strerror(-err));
				goto out;
			}
			continue;
		}
		wait = next - now;
		if (duration > 0 && t0 + duration < next)
			wait = t0 + duration - now;
		if (ps_sleep(wait))
			break;
		if (duration > 0 && ps_now() - t0 >= duration)
			break;
		print_table(skel, &ks, nsname, ps_now() - t0, top);
		next += interval;
		if (count && ++shown >= count) {
			rc = EXIT_OK;
			goto out;
		}
	}
	/* The final table: what was counted up to the stop. */
	if (!events)
		print_table(skel, &ks, nsname, ps_now() - t0, top);
	else
		ring_buffer__consume(rb);
	rc = EXIT_OK;
out:
	ring_buffer__free(rb);
	drops_bpf__destroy(skel);
	kpins_close(&kp);
	return rc;
}

/* ---- collector for `pktscope report` (declared in report.h) ---------------- */

struct drops_bpf *drops_collect_start(void)
{
	struct drops_bpf *skel;
	uint64_t ino;
	int err;

	if (ps_netns_ino(&ino) || ps_mount_tracefs())
		return NULL;
	load_reasons();
	skel = drops_bpf__open();
	if (!skel)
		return NULL;
	skel->rodata->target_netns = (__u32)ino;
	err = drops_bpf__load(skel);
	if (!err)
		err = drops_bpf__attach(skel);
	if (err) {
		ps_warn("report: skb:kfree_skb / xdp tracepoints: %s; kernel drops left out",
			strerror(-err));
		drops_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

static int reason_cmp(const void *a, const void *b)
{
	const struct drop_reason *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->reason, y->reason);
}

/* Kernel drops in this netns since start, merged by reason, most first. */
int drops_collect_read(struct drops_bpf *skel, struct drop_reason *out, int max,
		       unsigned long long *total)
{
	struct drop_reason *all;
	size_t i;
	int n = 0, j;

	nrows = 0;
	*total = 0;
	read_kernel(skel);
	all = calloc(nrows ? nrows : 1, sizeof(*all));
	if (!all)
		return -ENOMEM;
	for (i = 0; i < nrows; i++) {
		const char *where;
		char reason[64];

		row_labels(&rows[i], &where, reason, sizeof(reason));
		*total += rows[i].count;
		for (j = 0; j < n; j++)
			if (!strcmp(all[j].reason, reason))
				break;
		if (j == n) {
			snprintf(all[n].reason, sizeof(all[n].reason), "%s", reason);
			snprintf(all[n].where, sizeof(all[n].where), "%s", where);
			n++;
		}
		all[j].count += rows[i].count;
		all[j].bytes += rows[i].bytes;
	}
	qsort(all, n, sizeof(*all), reason_cmp);
	for (j = 0; j < n && j < max; j++)
		out[j] = all[j];
	free(all);
	return j;
}

void drops_collect_end(struct drops_bpf *skel)
{
	drops_bpf__destroy(skel);
}

/* ---- the pinned aggregate for metrics (declared in kdrops.h) ---------------- */

int drops_pinned_series(const char *dir, uint64_t *netns_ino, __u64 *attach_time,
			struct ps_kdrop_series **out)
{
	struct ps_kdrop_series *s = NULL;
	struct ps_drop_ifname nm;
	struct kpins kp;
	size_t i;
	int j, n = 0;

	*out = NULL;
	if (kpins_open(dir, &kp, true))
		return -1;
	load_reasons();
	nrows = 0;
	read_kernel_fd(kp.counts_fd, 0);
	s = calloc(nrows ? nrows : 1, sizeof(*s));
	if (!s) {
		kpins_close(&kp);
		return -1;
	}
	for (i = 0; i < nrows; i++) {
		struct ps_kdrop_series cur = {};
		__u32 ifx = rows[i].ifindex;

		row_labels(&rows[i], &cur.where, cur.reason, sizeof(cur.reason));
		if (!ifx)
			snprintf(cur.iface, sizeof(cur.iface), "-");
		else if (kp.names_fd >= 0 && !bpf_map_lookup_elem(kp.names_fd, &ifx, &nm) &&
			 nm.name[0])
			snprintf(cur.iface, sizeof(cur.iface), "%.15s", nm.name);
		else
			snprintf(cur.iface, sizeof(cur.iface), "if%u", ifx);
		/* l3/l4/program are not labels: merge, never a duplicate series */
		for (j = 0; j < n; j++)
			if (!strcmp(s[j].iface, cur.iface) && !strcmp(s[j].where, cur.where) &&
			    !strcmp(s[j].reason, cur.reason))
				break;
		if (j == n)
			s[n++] = cur;
		s[j].pkts += rows[i].count;
		s[j].bytes += rows[i].bytes;
	}
	nrows = 0;
	*netns_ino = kp.meta.netns_ino;
	*attach_time = kp.meta.attach_time;
	kpins_close(&kp);
	*out = s;
	return n;
}
