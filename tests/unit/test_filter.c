// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The drop filter (bpf/filter.h) through BPF_PROG_TEST_RUN: a crafted frame,
 * rules written into the objects' own maps, the expected verdict, and the
 * exact rule and verdict counter deltas, on XDP, TC ingress and TC egress.
 *
 * Prints "PASS unit/filter/<case>" or "FAIL unit/filter/<case>: why".
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "pktscope.h"
#include "drops.h"
#include "xdp_stats.skel.h"
#include "tc_stats.skel.h"
#include "frames.h"

static struct xdp_stats_bpf *xdp;
static struct tc_stats_bpf *tc;
static int failures, ncpus;

static void pass(const char *name)
{
	printf("PASS unit/filter/%s\n", name);
}

static void fail(const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("FAIL unit/filter/%s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	failures++;
}

/* The maps of the object that runs dir. */
static int rules_fd(int dir)
{
	return dir == PS_DIR_XDP ? bpf_map__fd(xdp->maps.ps_rules) : bpf_map__fd(tc->maps.ps_rules);
}

static int ctl_fd(int dir)
{
	return dir == PS_DIR_XDP ? bpf_map__fd(xdp->maps.data_fctl) : bpf_map__fd(tc->maps.data_fctl);
}

static int fstats_fd(int dir)
{
	return dir == PS_DIR_XDP ? bpf_map__fd(xdp->maps.ps_fstats) : bpf_map__fd(tc->maps.ps_fstats);
}

static int stats_fd(int dir)
{
	return dir == PS_DIR_XDP ? bpf_map__fd(xdp->maps.ps_stats) : bpf_map__fd(tc->maps.ps_stats);
}

static int prog_fd(int dir)
{
	if (dir == PS_DIR_XDP)
		return bpf_program__fd(xdp->progs.ps_xdp);
	return bpf_program__fd(dir == PS_DIR_TC_IN ? tc->progs.ps_tc_in : tc->progs.ps_tc_out);
}

/* Remove every rule and zero every counter of both objects. */
static void reset(void)
{
	struct ps_rule_stats *zs = calloc(ncpus, sizeof(*zs));
	struct ps_pcpu_counters *zc = calloc(ncpus, sizeof(*zc));
	struct ps_filter_ctl ctl = { .version = PS_FILTER_VERSION };
	struct ps_rule empty = {};
	__u32 k;
	int d;

	for (d = 0; d < 2; d++) {
		int dir = d ? PS_DIR_TC_IN : PS_DIR_XDP;

		k = 0;
		bpf_map_update_elem(ctl_fd(dir), &k, &ctl, 0);
		for (k = 0; k < PS_RULES_MAX; k++)
			bpf_map_update_elem(rules_fd(dir), &k, &empty, 0);
		for (k = 0; k < PS_RULE_STATS_ENTRIES; k++)
			bpf_map_update_elem(fstats_fd(dir), &k, zs, 0);
		for (k = 0; k < PS_DIR_MAX; k++)
			bpf_map_update_elem(stats_fd(dir), &k, zc, 0);
	}
	free(zs);
	free(zc);
}

/*
 * The control map of dir's object with the port prefilter as `pktscope
 * filter add` computes it (on), or cleared (off: every packet tries the rules).
 */
static void set_prefilter(int dir, bool on)
{
	struct ps_rule rules[PS_RULES_MAX];
	struct ps_filter_ctl ctl;
	__u32 k, z = 0;

	for (k = 0; k < PS_RULES_MAX; k++)
		bpf_map_lookup_elem(rules_fd(dir), &k, &rules[k]);
	bpf_map_lookup_elem(ctl_fd(dir), &z, &ctl);
	ctl.skip[dir] = on ? ps_filter_skip(rules, ctl.mask[dir]) : 0;
	bpf_map_update_elem(ctl_fd(dir), &z, &ctl, 0);
}

/* Put rule r in slot, tried at the directions in dirs (bitmask of 1 << dir). */
static void add_rule(int slot, struct ps_rule r, unsigned int dirs)
{
	struct ps_filter_ctl ctl;
	__u32 k = slot, z = 0;
	int d;

	r.active = r.active ? r.active : 1;
	for (d = 0; d < PS_DIR_MAX; d++) {
		if (!(dirs & (1u << d)))
			continue;
		bpf_map_update_elem(rules_fd(d), &k, &r, 0);
		bpf_map_lookup_elem(ctl_fd(d), &z, &ctl);
		ctl.mask[d] |= 1u << slot;
		bpf_map_update_elem(ctl_fd(d), &z, &ctl, 0);
		set_prefilter(d, true);
	}
}

static struct ps_rule_stats rule_stats(int slot, int dir)
{
	struct ps_rule_stats *v = calloc(ncpus, sizeof(*v)), sum = {};
	__u32 k = slot * PS_DIR_MAX + dir;
	int c;

	if (!bpf_map_lookup_elem(fstats_fd(dir), &k, v))
		for (c = 0; c < ncpus; c++) {
			sum.matched += v[c].matched;
			sum.dropped += v[c].dropped;
			sum.dropped_bytes += v[c].dropped_bytes;
		}
	free(v);
	return sum;
}

static __u64 verdict_count(int dir, int verdict)
{
	struct ps_pcpu_counters *v = calloc(ncpus, sizeof(*v));
	__u32 k = dir;
	__u64 sum = 0;
	int c;

	if (!bpf_map_lookup_elem(stats_fd(dir), &k, v))
		for (c = 0; c < ncpus; c++)
			sum += v[c].verdict[verdict];
	free(v);
	return sum;
}

/* Run the frame repeat times at dir; the program's return value or -errno. */
static int run(int dir, const struct frame *f, __u32 repeat)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f->b, .data_size_in = f->len,
		    .repeat = repeat);

	if (bpf_prog_test_run_opts(prog_fd(dir), &opts))
		return -errno;
	return opts.retval;
}

static const char *dir_tag[PS_DIR_MAX] = { "xdp", "tc_in", "tc_out" };

/*
 * One case: with the rules already in place, run f once at dir and check
 * whether it was dropped, and the drop counted under slot (-1: none).
 */
static void expect(const char *cname, int dir, const struct frame *f, bool drop, int slot)
{
	char name[128];
	int want = dir == PS_DIR_XDP ? (drop ? 1 : 2) : (drop ? 2 : 0);
	int rc;
	struct ps_rule_stats st;

	snprintf(name, sizeof(name), "%s/%s", cname, dir_tag[dir]);
	rc = run(dir, f, 1);
	if (rc != want) {
		fail(name, "return value %d, wanted %d (%s)", rc, want, drop ? "drop" : "pass");
		return;
	}
	if (verdict_count(dir, drop ? PS_V_DROP : PS_V_PASS) != 1 ||
	    verdict_count(dir, drop ? PS_V_PASS : PS_V_DROP) != 0) {
		fail(name, "verdict counters: drop %llu pass %llu",
		     (unsigned long long)verdict_count(dir, PS_V_DROP),
		     (unsigned long long)verdict_count(dir, PS_V_PASS));
		return;
	}
	if (slot >= 0) {
		st = rule_stats(slot, dir);
		/* Without sampling a rule drops exactly what it matches. */
		if (st.matched != (drop ? 1u : 0u) || st.dropped != (drop ? 1u : 0u) ||
		    st.dropped_bytes != (drop ? f->len : 0)) {
			fail(name, "rule %d counted matched %llu dropped %llu bytes %llu", slot + 1,
			     (unsigned long long)st.matched, (unsigned long long)st.dropped,
			     (unsigned long long)st.dropped_bytes);
			return;
		}
	}
	pass(name);
}

static struct frame udp4, udp6, tcp4, icmp4, frag4;

static void build_frames(void)
{
	f_init(&udp4); f_eth(&udp4, ETH_IP); f_ipv4(&udp4, P_UDP, 5, 0); f_udp(&udp4);
	f_pad_to(&udp4, 64); f_fin(&udp4);
	f_init(&udp6); f_eth(&udp6, ETH_IPV6); f_ipv6(&udp6, P_UDP); f_udp(&udp6);
	f_pad_to(&udp6, 100); f_fin(&udp6);
	f_init(&tcp4); f_eth(&tcp4, ETH_IP); f_ipv4(&tcp4, P_TCP, 5, 0); f_tcp(&tcp4, 5);
	f_pad_to(&tcp4, 64); f_fin(&tcp4);
	f_init(&icmp4); f_eth(&icmp4, ETH_IP); f_ipv4(&icmp4, P_ICMP, 5, 0); f_icmp(&icmp4);
	f_pad_to(&icmp4, 64); f_fin(&icmp4);
	/* A later fragment of a UDP datagram: no ports to match. */
	f_init(&frag4); f_eth(&frag4, ETH_IP); f_ipv4(&frag4, P_UDP, 5, 100); f_pad_to(&frag4, 64);
	f_fin(&frag4);
}

static void cidr(__u8 *out, int family, const char *s)
{
	memset(out, 0, 16);
	inet_pton(family == 4 ? AF_INET : AF_INET6, s, out);
}

/* Each case on every direction: rules in one object do not leak into another. */
static void each_dir(const char *cname, struct ps_rule r, const struct frame *f, bool drop)
{
	int d;

	for (d = 0; d < PS_DIR_MAX; d++) {
		reset();
		add_rule(3, r, 1u << d);
		expect(cname, d, f, drop, 3);
	}
}

static void test_matches(void)
{
	struct ps_rule r;
	int d;

	for (d = 0; d < PS_DIR_MAX; d++) {
		reset();
		expect("no_rules", d, &udp4, false, -1);
	}
	/* A rule for another direction is not tried here. */
	reset();
	add_rule(0, (struct ps_rule){ .match = PS_RM_PROTO, .proto = 17 }, 1u << PS_DIR_TC_OUT);
	expect("other_dir_rule", PS_DIR_TC_IN, &udp4, false, -1);

	each_dir("all", (struct ps_rule){ 0 }, &udp4, true);
	each_dir("proto_udp", (struct ps_rule){ .match = PS_RM_PROTO, .proto = 17 }, &udp4, true);
	each_dir("proto_tcp_on_udp",
		 (struct ps_rule){ .match = PS_RM_PROTO, .proto = 6 }, &udp4, false);
	each_dir("proto_tcp", (struct ps_rule){ .match = PS_RM_PROTO, .proto = 6 }, &tcp4, true);
	each_dir("proto_icmp", (struct ps_rule){ .match = PS_RM_PROTO, .proto = 1 }, &icmp4, true);
	each_dir("dport_9", (struct ps_rule){ .match = PS_RM_DPORT, .dport = 9 }, &udp4, true);
	each_dir("dport_10", (struct ps_rule){ .match = PS_RM_DPORT, .dport = 10 }, &udp4, false);
	each_dir("sport_40000",
		 (struct ps_rule){ .match = PS_RM_SPORT, .sport = 40000 }, &udp4, true);
	each_dir("dport_on_icmp", (struct ps_rule){ .match = PS_RM_DPORT, .dport = 9 }, &icmp4,
		 false);
	each_dir("dport_on_later_fragment",
		 (struct ps_rule){ .match = PS_RM_DPORT, .dport = 9 }, &frag4, false);
	each_dir("proto_on_later_fragment",
		 (struct ps_rule){ .match = PS_RM_PROTO, .proto = 17 }, &frag4, true);

	r = (struct ps_rule){ .match = PS_RM_SRC, .family = 4, .src_prefix = 24 };
	cidr(r.src, 4, "10.0.0.0");
	each_dir("src_10.0.0.0/24", r, &udp4, true);
	cidr(r.src, 4, "10.0.1.0");
	each_dir("src_10.0.1.0/24", r, &udp4, false);
	r = (struct ps_rule){ .match = PS_RM_DST, .family = 4, .dst_prefix = 32 };
	cidr(r.dst, 4, "10.0.0.2");
	each_dir("dst_10.0.0.2/32", r, &udp4, true);
	cidr(r.dst, 4, "10.0.0.1");
	each_dir("dst_10.0.0.1/32", r, &udp4, false);
	r = (struct ps_rule){ .match = PS_RM_DST, .family = 4, .dst_prefix = 0 };
	each_dir("dst_0/0", r, &udp4, true);
	each_dir("v4_rule_on_v6", r, &udp6, false);

	r = (struct ps_rule){ .match = PS_RM_SRC | PS_RM_PROTO | PS_RM_DPORT, .family = 6,
			      .src_prefix = 64, .proto = 17, .dport = 9 };
	cidr(r.src, 6, "fd00::");
	each_dir("v6_src_fd00::/64_udp_9", r, &udp6, true);
	r.src_prefix = 127;
	cidr(r.src, 6, "fd00::");
	each_dir("v6_src_fd00::/127", r, &udp6, true);
	r.src_prefix = 128;
	each_dir("v6_src_fd00::/128", r, &udp6, false);
	cidr(r.src, 6, "fd01::");
	r.src_prefix = 16;
	each_dir("v6_src_fd01::/16", r, &udp6, false);
	r.src_prefix = 7;
	cidr(r.src, 6, "fc00::");
	each_dir("v6_src_fc00::/7", r, &udp6, true);

	r = (struct ps_rule){ .match = PS_RM_PROTO, .proto = 17 };
	for (d = 0; d < PS_DIR_MAX; d++) {
		reset();
		add_rule(5, r, 1u << d);
		/* In the mask but inactive: skipped. */
		{
			struct ps_rule off = {};
			__u32 k = 5;

			bpf_map_update_elem(rules_fd(d), &k, &off, 0);
		}
		expect("inactive_slot", d, &udp4, false, -1);
	}
}

static void test_order(void)
{
	struct ps_rule_stats a, b;
	int d, rc;
	char name[64];

	/* The first rule matches but keeps the packet; the second drops it. */
	for (d = 0; d < PS_DIR_MAX; d++) {
		reset();
		add_rule(1, (struct ps_rule){ .mode = PS_RULE_EVERY, .every = 1000000 }, 1u << d);
		add_rule(9, (struct ps_rule){ .match = PS_RM_PROTO, .proto = 17 }, 1u << d);
		add_rule(12, (struct ps_rule){ 0 }, 1u << d);
		rc = run(d, &udp4, 1);
		a = rule_stats(1, d);
		b = rule_stats(9, d);
		snprintf(name, sizeof(name), "first_dropping_rule_counts/%s", dir_tag[d]);
		if (rc != (d == PS_DIR_XDP ? 1 : 2) || a.matched != 1 || a.dropped != 0 ||
		    b.matched != 1 || b.dropped != 1 || rule_stats(12, d).matched != 0)
			fail(name, "rc %d, rule 2 %llu/%llu, rule 10 %llu/%llu, rule 13 matched %llu",
			     rc, (unsigned long long)a.matched, (unsigned long long)a.dropped,
			     (unsigned long long)b.matched, (unsigned long long)b.dropped,
			     (unsigned long long)rule_stats(12, d).matched);
		else
			pass(name);
	}
}

static void test_sampling(void)
{
	struct ps_rule_stats st;
	struct ps_rule r;
	char name[64];
	int d;

	/* --every 7 over 700 runs: exactly 100, and "seen" says 700. */
	for (d = 0; d < PS_DIR_MAX; d++) {
		__u32 k = 2;

		reset();
		add_rule(2, (struct ps_rule){ .mode = PS_RULE_EVERY, .every = 7 }, 1u << d);
		run(d, &udp4, 700);
		st = rule_stats(2, d);
		bpf_map_lookup_elem(rules_fd(d), &k, &r);
		snprintf(name, sizeof(name), "every_7_of_700/%s", dir_tag[d]);
		if (st.matched != 700 || st.dropped != 100 || r.seen != 700 ||
		    verdict_count(d, PS_V_DROP) != 100 || verdict_count(d, PS_V_PASS) != 600)
			fail(name, "matched %llu dropped %llu seen %llu verdicts %llu/%llu",
			     (unsigned long long)st.matched, (unsigned long long)st.dropped,
			     (unsigned long long)r.seen,
			     (unsigned long long)verdict_count(d, PS_V_DROP),
			     (unsigned long long)verdict_count(d, PS_V_PASS));
		else
			pass(name);
	}
	/* --rate 0.25 over 40000 runs: within 4 sd (sd = sqrt(40000 * .25 * .75) = 86.6). */
	for (d = 0; d < PS_DIR_MAX; d++) {
		reset();
		add_rule(0, (struct ps_rule){ .mode = PS_RULE_RATE, .thresh = 1ull << 30 }, 1u << d);
		run(d, &udp4, 40000);
		st = rule_stats(0, d);
		snprintf(name, sizeof(name), "rate_0.25_of_40000/%s", dir_tag[d]);
		if (st.matched != 40000 || fabs((double)st.dropped - 10000) > 4 * 86.6)
			fail(name, "matched %llu dropped %llu (want 10000 +- 346)",
			     (unsigned long long)st.matched, (unsigned long long)st.dropped);
		else
			pass(name);
	}
	/* rate 1: thresh 2^32 is above every 32-bit random value. */
	for (d = 0; d < PS_DIR_MAX; d++) {
		reset();
		add_rule(0, (struct ps_rule){ .mode = PS_RULE_RATE, .thresh = 1ull << 32 }, 1u << d);
		run(d, &udp4, 1000);
		snprintf(name, sizeof(name), "rate_1_drops_all/%s", dir_tag[d]);
		st = rule_stats(0, d);
		if (st.dropped != 1000)
			fail(name, "dropped %llu of 1000", (unsigned long long)st.dropped);
		else
			pass(name);
	}
}

/* A frame to port dport (TCP or UDP over IPv4, or UDP over IPv6). */
static void port_frame(struct frame *f, int kind, __u16 dport)
{
	size_t l4;

	f_init(f);
	if (kind == 2) {
		f_eth(f, ETH_IPV6); f_ipv6(f, P_UDP);
	} else {
		f_eth(f, ETH_IP); f_ipv4(f, kind ? P_TCP : P_UDP, 5, 0);
	}
	l4 = f->len;
	if (kind == 1)
		f_tcp(f, 5);
	else
		f_udp(f);
	put16(f->b + l4 + 2, dport);
	f_pad_to(f, 100);
	f_fin(f);
}

/*
 * The port prefilter never changes a verdict: rule sets with and without
 * ports (those with ports only are the ones it acts on), frames to every
 * port 0..299 (and ports with the rules' bits: 64, 73, 128, 137, 65535),
 * TCP, UDP and UDP/IPv6, and frames without ports.  Each frame is run with
 * the prefilter as `filter add` writes it and with it cleared; the two runs
 * must agree, and agree with the rules' own meaning.
 */
static void test_prefilter(void)
{
	static const struct {
		const char *name;
		int n;
		struct ps_rule r[3];
		bool skips;	/* the prefilter has bits set for this set */
	} sets[] = {
		{ "dport_9", 1, { { .match = PS_RM_DPORT, .dport = 9 } }, true },
		{ "udp_dport_73_tcp_dport_80", 2,
		  { { .match = PS_RM_PROTO | PS_RM_DPORT, .proto = 17, .dport = 73 },
		    { .match = PS_RM_PROTO | PS_RM_DPORT, .proto = 6, .dport = 80 } }, true },
		{ "dport_64_sport_40000", 1,
		  { { .match = PS_RM_DPORT | PS_RM_SPORT, .dport = 64, .sport = 40000 } }, true },
		{ "dport_10_and_proto_udp", 2,
		  { { .match = PS_RM_DPORT, .dport = 10 }, { .match = PS_RM_PROTO, .proto = 17 } },
		  false },
	};
	static const __u16 extra[] = { 64, 73, 128, 137, 65535 };
	int d, i, kind, j;

	for (i = 0; i < (int)(sizeof(sets) / sizeof(sets[0])); i++) {
		for (d = 0; d < PS_DIR_MAX; d++) {
			char name[128];
			int bad = 0, skipped = 0, tried = 0;
			struct ps_filter_ctl ctl;
			__u32 z = 0;

			reset();
			for (j = 0; j < sets[i].n; j++)
				add_rule(j, sets[i].r[j], 1u << d);
			bpf_map_lookup_elem(ctl_fd(d), &z, &ctl);
			snprintf(name, sizeof(name), "prefilter_%s/%s", sets[i].name, dir_tag[d]);
			if (!!ctl.skip[d] != sets[i].skips) {
				fail(name, "skip bits %#llx", (unsigned long long)ctl.skip[d]);
				continue;
			}
			for (kind = 0; kind < 3; kind++) {
				for (j = 0; j < 300 + (int)(sizeof(extra) / sizeof(extra[0])); j++) {
					__u16 port = j < 300 ? j : extra[j - 300];
					bool want = false;
					struct frame f;
					int on, off, k;

					port_frame(&f, kind, port);
					for (k = 0; k < sets[i].n; k++) {
						const struct ps_rule *r = &sets[i].r[k];
						__u8 proto = kind == 1 ? 6 : 17;

						if ((!(r->match & PS_RM_PROTO) || r->proto == proto) &&
						    (!(r->match & PS_RM_DPORT) || r->dport == port) &&
						    (!(r->match & PS_RM_SPORT) || r->sport == 40000))
							want = true;
					}
					set_prefilter(d, true);
					on = run(d, &f, 1);
					set_prefilter(d, false);
					off = run(d, &f, 1);
					if (on != off ||
					    on != (d == PS_DIR_XDP ? (want ? 1 : 2) : (want ? 2 : 0))) {
						if (!bad++)
							fail(name, "kind %d port %u: return %d with the "
							     "prefilter, %d without, rule says %s", kind,
							     port, on, off, want ? "drop" : "pass");
					}
					if ((ctl.skip[d] >> (port & 63)) & 1)
						skipped++;
					else
						tried++;
				}
			}
			/*
			 * Frames without ports, the ICMP frame and a later UDP
			 * fragment: only a rule naming no port can take them.
			 */
			for (kind = 0; kind < 2; kind++) {
				__u8 proto = kind ? 17 : 1;
				bool want = false;
				int rc;

				for (j = 0; j < sets[i].n; j++) {
					const struct ps_rule *r = &sets[i].r[j];

					if (!(r->match & (PS_RM_DPORT | PS_RM_SPORT)) &&
					    (!(r->match & PS_RM_PROTO) || r->proto == proto))
						want = true;
				}
				set_prefilter(d, true);
				rc = run(d, kind ? &frag4 : &icmp4, 1);
				if (rc != (d == PS_DIR_XDP ? (want ? 1 : 2) : (want ? 2 : 0)) &&
				    !bad++)
					fail(name, "%s without ports: return %d, rule says %s",
					     kind ? "later fragment" : "ICMP", rc, want ? "drop" : "pass");
			}
			if (!bad && sets[i].skips && (!skipped || !tried))
				fail(name, "%d frames skipped, %d tried: both kinds expected", skipped,
				     tried);
			else if (!bad)
				pass(name);
		}
	}
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG || !getenv("PS_TEST_VERBOSE"))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

int main(void)
{
	libbpf_set_print(libbpf_quiet);
	ncpus = libbpf_num_possible_cpus();
	xdp = xdp_stats_bpf__open_and_load();
	tc = tc_stats_bpf__open_and_load();
	if (!xdp || !tc) {
		fail("setup/load", "open and load %s: %s", !xdp ? "xdp_stats" : "tc_stats",
		     strerror(errno));
		return 1;
	}
	build_frames();
	test_matches();
	test_order();
	test_sampling();
	test_prefilter();
	xdp_stats_bpf__destroy(xdp);
	tc_stats_bpf__destroy(tc);
	return failures ? 1 : 0;
}
