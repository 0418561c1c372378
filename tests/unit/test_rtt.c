// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Passive RTT logic (bpf/rtt.h) through BPF_PROG_TEST_RUN: egress frames run
 * through TC egress, their answers through XDP (maps shared as attach shares
 * them), and the exact counters, histogram counts and per-flow values are
 * checked after each step: TSval/TSecr first-match, option walking, seq/ack
 * with Karn's rule, the handshake, ICMP echo, and RTT off leaving all empty.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "pktscope.h"
#include "rtt.h"
#include "drops.h"	/* struct ps_filter_ctl, which the skeletons embed */
#include "xdp_stats.skel.h"
#include "tc_stats.skel.h"
#include "frames.h"

static int fails;
static struct frame fr;

static void check(const char *name, unsigned long long want, unsigned long long got)
{
	if (want == got) {
		printf("PASS rtt/%s\n", name);
	} else {
		printf("FAIL rtt/%s: expected %llu, got %llu\n", name, want, got);
		fails++;
	}
}

static int ncpus;

static unsigned long long ctr(int fd, size_t off)
{
	struct ps_rtt_counters *v = calloc(ncpus, sizeof(*v));
	unsigned long long s = 0;
	__u32 k = 0;
	int i;

	if (v && !bpf_map_lookup_elem(fd, &k, v))
		for (i = 0; i < ncpus; i++)
			s += *(__u64 *)((char *)&v[i] + off);
	free(v);
	return s;
}

static unsigned long long samples(int fd, __u32 src)
{
	struct ps_rtt_hist *v = calloc(ncpus, sizeof(*v));
	unsigned long long s = 0;
	int i;

	if (v && !bpf_map_lookup_elem(fd, &src, v))
		for (i = 0; i < ncpus; i++)
			s += v[i].count;
	free(v);
	return s;
}

static unsigned long long entries(int fd, size_t ksz)
{
	char k[64], n[64];
	void *prev = NULL;
	unsigned long long c = 0;

	while (!bpf_map_get_next_key(fd, prev, n)) {
		memcpy(k, n, ksz);
		prev = k;
		c++;
	}
	return c;
}

/* Pending slots of the timestamp table (t > 1), through a mapping. */
static unsigned long long ts_pending(int fd)
{
	size_t len = PS_RTT_TS_SLOTS * sizeof(struct ps_rtt_ts_slot);
	const struct ps_rtt_ts_slot *s;
	unsigned long long n = 0;
	__u32 i;

	s = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (s == MAP_FAILED)
		return ~0ull;
	for (i = 0; i < PS_RTT_TS_SLOTS; i++)
		n += s[i].t > 1;
	munmap((void *)s, len);
	return n;
}

/* Put the local port of the frame built last (out: source, else destination). */
static void local_port(bool out, __u16 port)
{
	put16(fr.b + 34 + (out ? 0 : 2), port);
}

static int run(int prog_fd)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = fr.b, .data_size_in = fr.len, .repeat = 1);

	return bpf_prog_test_run_opts(prog_fd, &o) ? -errno : 0;
}

/*
 * A TCP/IPv4 segment.  out: 10.0.0.1:40000 -> 10.0.0.2:80 (as sent), else
 * the reverse (an answer).  opts/optlen: raw option bytes (multiple of 4).
 */
static void tcp(bool out, __u8 flags, __u32 seq, __u32 ack, const void *opts, size_t optlen,
		size_t payload)
{
	__u8 *ip, *t;

	f_init(&fr);
	f_eth(&fr, ETH_IP);
	ip = fr.b + fr.len;
	f_ipv4(&fr, P_TCP, 5, 0);
	t = fr.b + fr.len;
	f_tcp(&fr, 5 + optlen / 4);
	if (!out) {
		memcpy(ip + 12, "\x0a\x00\x00\x02\x0a\x00\x00\x01", 8);
		put16(t, 80);
		put16(t + 2, 40000);
	}
	t[13] = flags;
	seq = htonl(seq);
	ack = htonl(ack);
	memcpy(t + 4, &seq, 4);
	memcpy(t + 8, &ack, 4);
	if (optlen)
		memcpy(t + 20, opts, optlen);
	f_payload(&fr, payload);
	f_fin(&fr);
}

static void ts_opt(__u8 *o, __u32 val, __u32 ecr)
{
	memcpy(o, "\x01\x01\x08\x0a", 4);
	val = htonl(val);
	ecr = htonl(ecr);
	memcpy(o + 4, &val, 4);
	memcpy(o + 8, &ecr, 4);
}

/*
 * A segment with timestamps (TSval val, TSecr ecr) of the flow with local
 * port lport, through prog: out = sent (data of payload bytes from sequence
 * number 7000, or a SYN when flags say so), else an answer (ACK, or
 * SYN-ACK) acknowledging it (up to 100 bytes).
 */
static void ts_seg(int prog, bool out, __u8 flags, __u32 val, __u32 ecr, size_t payload,
		   __u16 lport)
{
	__u8 o[12];

	ts_opt(o, val, ecr);
	tcp(out, flags, out ? 7000 : 3000, out ? 1 : 7101, o, sizeof(o), payload);
	local_port(out, lport);
	run(prog);
}

/*
 * Every 32-bit word of both addresses differs, so each one counts in the
 * timestamp table's index (ps_rtt_ts_index), which ingress computes off the
 * packet before it builds a key (ps_rtt_ts_maybe_in).
 */
static const __u8 a6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x11, 0, 0x22,
			     0, 0x33, 0, 0x44, 0, 0x55, 0, 0x01 };
static const __u8 b6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x66, 0, 0x77,
			     0, 0x88, 0, 0x99, 0, 0xaa, 0, 0x02 };

/*
 * A TCP/IPv6 segment with the 12 option bytes o: out = a6:lport -> b6:443
 * (sent), else the reverse; vlan: in an 802.1Q tag (the IP header 4 bytes on).
 */
static void tcp6(bool out, bool vlan, __u16 lport, __u8 flags, const __u8 *o, size_t payload)
{
	__u8 *ip, *t;

	f_init(&fr);
	if (vlan) {
		f_eth(&fr, ETH_8021Q);
		f_vlan(&fr, 10, ETH_IPV6);
	} else {
		f_eth(&fr, ETH_IPV6);
	}
	ip = fr.b + fr.len;
	f_ipv6(&fr, P_TCP);
	memcpy(ip + 8, out ? a6 : b6, 16);
	memcpy(ip + 24, out ? b6 : a6, 16);
	t = fr.b + fr.len;
	f_tcp(&fr, 8);
	put16(t, out ? lport : 443);
	put16(t + 2, out ? 443 : lport);
	t[13] = flags;
	/* Sent from sequence number 0; an answer acknowledges 4096 bytes. */
	put16(t + 10, out ? 0 : 4096);
	memcpy(t + 20, o, 12);
	f_payload(&fr, payload);
	f_fin(&fr);
}

static void icmp(bool out, __u8 type, __u16 id, __u16 seq)
{
	__u8 *ip, *p;

	f_init(&fr);
	f_eth(&fr, ETH_IP);
	ip = fr.b + fr.len;
	f_ipv4(&fr, P_ICMP, 5, 0);
	if (!out)
		memcpy(ip + 12, "\x0a\x00\x00\x02\x0a\x00\x00\x01", 8);
	p = fr.b + fr.len;
	f_icmp(&fr);
	p[0] = type;
	put16(p + 4, id);
	put16(p + 6, seq);
	f_pad_to(&fr, 98);
	f_fin(&fr);
}

static int verbose;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	return verbose ? vfprintf(stderr, fmt, ap) : 0;
}

#define C(field) offsetof(struct ps_rtt_counters, field)

int main(void)
{
	struct tc_stats_bpf *tc = NULL, *off = NULL, *tcin = NULL;
	struct xdp_stats_bpf *xdp = NULL;
	int out_fd, in_fd, tcin_fd, ctrs, hist, outm, flows, tsm;
	__u8 o[16];
	struct ps_rtt_flow key = { .laddr = { htonl(0x0a000001) }, .raddr = { htonl(0x0a000002) },
				   .lport = 40000, .rport = 80, .family = 4, .proto = 6 };
	struct ps_rtt_flowval fv;

	verbose = getenv("PS_TEST_VERBOSE") != NULL;
	libbpf_set_print(libbpf_print);
	ncpus = libbpf_num_possible_cpus();

	tc = tc_stats_bpf__open();
	xdp = xdp_stats_bpf__open();
	off = tc_stats_bpf__open();
	tcin = tc_stats_bpf__open();
	if (!tc || !xdp || !off || !tcin)
		goto load_err;
	tc->rodata->ps_rtt_on = 1;
	tc->rodata->ps_rtt_xdp = 1;
	xdp->rodata->ps_rtt_on = 1;
	/* TC ingress closing the samples itself, as attach --no-xdp --rtt loads it. */
	tcin->rodata->ps_rtt_on = 1;
	tcin->rodata->ps_rtt_xdp = 0;
	if (tc_stats_bpf__load(tc) || tc_stats_bpf__load(off))
		goto load_err;
	if (share_rtt_maps(xdp->obj, tc->obj) || xdp_stats_bpf__load(xdp) ||
	    share_rtt_maps(tcin->obj, tc->obj) || tc_stats_bpf__load(tcin))
		goto load_err;
	out_fd = bpf_program__fd(tc->progs.ps_tc_out);
	in_fd = bpf_program__fd(xdp->progs.ps_xdp);
	tcin_fd = bpf_program__fd(tcin->progs.ps_tc_in);
	ctrs = bpf_map__fd(tc->maps.ps_rtt_ctrs);
	hist = bpf_map__fd(tc->maps.ps_rtt_hist);
	outm = bpf_map__fd(tc->maps.ps_rtt_out);
	flows = bpf_map__fd(tc->maps.ps_rtt_flows);
	tsm = bpf_map__fd(tc->maps.ps_rtt_ts);

	/* RTT off: the same egress segment records nothing. */
	ts_opt(o, 100, 0);
	tcp(true, 0x18, 1, 1, o, 12, 100);
	run(bpf_program__fd(off->progs.ps_tc_out));
	check("off_records_nothing", 0,
	      entries(bpf_map__fd(off->maps.ps_rtt_out), sizeof(struct ps_rtt_outkey)) +
	      ts_pending(bpf_map__fd(off->maps.ps_rtt_ts)));

	/* Timestamps: recorded once, matched once, by the reverse flow only. */
	run(out_fd);
	check("ts_recorded", 1, ctr(ctrs, C(ts_recorded)));
	run(out_fd);
	check("ts_same_tsval_is_dup", 1, ctr(ctrs, C(ts_dup)));
	ts_opt(o, 100, 0);		/* pure ACK: nothing to time */
	tcp(true, 0x10, 101, 1, o, 12, 0);
	run(out_fd);
	check("ts_pure_ack_not_recorded", 1, ctr(ctrs, C(ts_recorded)));
	ts_opt(o, 7, 100);		/* same orientation as sent: not an answer */
	tcp(true, 0x10, 1, 1, o, 12, 0);
	run(in_fd);
	check("ts_wrong_direction_no_sample", 0, samples(hist, PS_RTT_SRC_TS));
	tcp(false, 0x10, 1, 101, o, 12, 0);
	run(in_fd);
	check("ts_echo_sample", 1, samples(hist, PS_RTT_SRC_TS));
	run(in_fd);
	check("ts_first_match_only", 1, samples(hist, PS_RTT_SRC_TS));
	check("ts_outstanding_empty", 0, entries(outm, sizeof(struct ps_rtt_outkey)) +
	      ts_pending(tsm));
	check("ts_flow_count", 1, bpf_map_lookup_elem(flows, &key, &fv) ? 0 : fv.count);
	/*
	 * The timestamp clock ticks once a millisecond, so a flow sends many
	 * segments with one TSval.  The next one (101..201, TSval 100 again)
	 * is timed; an echo of 100 that acknowledges only data sent before it
	 * (ACK 101) closes nothing, the one that covers it (ACK 201) does.
	 */
	ts_opt(o, 100, 0);
	tcp(true, 0x18, 101, 1, o, 12, 100);
	run(out_fd);
	check("ts_same_tsval_timed_again", 2, ctr(ctrs, C(ts_recorded)));
	ts_opt(o, 7, 100);
	tcp(false, 0x10, 1, 101, o, 12, 0);
	run(in_fd);
	check("ts_echo_before_segment_no_sample", 1, samples(hist, PS_RTT_SRC_TS));
	check("ts_echo_before_segment_still_pending", 1, ts_pending(tsm));
	tcp(false, 0x10, 1, 201, o, 12, 0);
	run(in_fd);
	check("ts_echo_covering_segment_sample", 2, samples(hist, PS_RTT_SRC_TS));
	check("ts_echo_covering_segment_freed", 0, ts_pending(tsm));

	/* Option walk: MSS, SACK-permitted, then timestamps. */
	{
		__u8 ob[20] = { 2, 4, 0x05, 0xb4, 4, 2 };

		ts_opt(ob + 6, 200, 0);
		ob[18] = 1;
		ob[19] = 0;
		tcp(true, 0x18, 1000, 1, ob, 20, 10);
		run(out_fd);
		check("opt_walk_ts_after_mss_sackok", 3, ctr(ctrs, C(ts_recorded)));
		/* A zero-length option ends the walk: no timestamp read. */
		memcpy(ob, "\x01\x05\x00\x00", 4);
		ts_opt(ob + 4, 300, 0);
		tcp(true, 0x18, 2000, 1, ob, 16, 10);
		run(out_fd);
		check("opt_bad_len_stops", 3, ctr(ctrs, C(ts_recorded)));
	}

	/* seq/ack without timestamps, Karn's rule. */
	tcp(true, 0x18, 5000, 1, NULL, 0, 100);
	run(out_fd);
	tcp(false, 0x10, 1, 5100, NULL, 0, 0);
	run(in_fd);
	check("seq_sample", 1, samples(hist, PS_RTT_SRC_SEQACK));
	run(in_fd);
	check("seq_dup_ack_no_sample", 1, samples(hist, PS_RTT_SRC_SEQACK));
	tcp(true, 0x18, 5100, 1, NULL, 0, 100);
	run(out_fd);
	run(out_fd);			/* the same range again: a retransmission */
	check("seq_retrans_seen", 1, ctr(ctrs, C(retrans)));
	tcp(false, 0x10, 1, 5200, NULL, 0, 0);
	run(in_fd);
	check("karn_no_sample", 1, samples(hist, PS_RTT_SRC_SEQACK));
	check("karn_skipped", 1, ctr(ctrs, C(karn_skipped)));
	/* Two segments, one ACK: one sample. */
	tcp(true, 0x18, 5200, 1, NULL, 0, 100);
	run(out_fd);
	tcp(true, 0x18, 5300, 1, NULL, 0, 100);
	run(out_fd);
	tcp(false, 0x10, 1, 5400, NULL, 0, 0);
	run(in_fd);
	check("cumulative_ack_one_sample", 2, samples(hist, PS_RTT_SRC_SEQACK));

	/* Handshake: SYN (with timestamps) -> SYN-ACK. */
	ts_opt(o, 500, 0);
	tcp(true, 0x02, 9000, 0, o, 12, 0);
	{
		__u8 *t = fr.b + 34;

		put16(t, 40001);	/* a new connection */
	}
	run(out_fd);
	ts_opt(o, 77, 500);
	tcp(false, 0x12, 3000, 9001, o, 12, 0);
	put16(fr.b + 34 + 2, 40001);
	run(in_fd);
	check("handshake_sample", 1, samples(hist, PS_RTT_SRC_HANDSHAKE));
	check("handshake_not_ts", 2, samples(hist, PS_RTT_SRC_TS));

	/* ICMP echo by (id, seq). */
	icmp(true, 8, 7, 1);
	run(out_fd);
	icmp(false, 0, 7, 2);		/* another sequence number */
	run(in_fd);
	check("icmp_other_seq_no_sample", 0, samples(hist, PS_RTT_SRC_ICMP));
	icmp(false, 0, 7, 1);
	run(in_fd);
	check("icmp_sample", 1, samples(hist, PS_RTT_SRC_ICMP));
	run(in_fd);
	check("icmp_first_match_only", 1, samples(hist, PS_RTT_SRC_ICMP));

	/* The timestamp table: one pending TSval per flow. */
	{
		unsigned long long p0 = ts_pending(tsm), rec0 = ctr(ctrs, C(ts_recorded));
		unsigned long long ts0 = samples(hist, PS_RTT_SRC_TS);
		unsigned long long hs0 = samples(hist, PS_RTT_SRC_HANDSHAKE);
		struct ps_rtt_flow a = key, b = key, c3;
		__u16 p;

		/* An echo later than the pending TSval frees it, no sample. */
		ts_seg(out_fd, true, 0x18, 1000, 0, 100, 41001);
		check("ts_table_pending", p0 + 1, ts_pending(tsm));
		ts_seg(in_fd, false, 0x10, 9, 1001, 0, 41001);
		check("ts_later_echo_unmatched", 1, ctr(ctrs, C(ts_unmatched)));
		check("ts_later_echo_no_sample", ts0, samples(hist, PS_RTT_SRC_TS));
		check("ts_later_echo_frees_slot", p0, ts_pending(tsm));

		/* An earlier echo leaves it pending; its own echo closes it. */
		ts_seg(out_fd, true, 0x18, 2000, 0, 100, 41002);
		ts_seg(in_fd, false, 0x10, 9, 1999, 0, 41002);
		check("ts_earlier_echo_no_sample", ts0, samples(hist, PS_RTT_SRC_TS));
		check("ts_earlier_echo_keeps_pending", p0 + 1, ts_pending(tsm));
		ts_seg(in_fd, false, 0x10, 9, 2000, 0, 41002);
		check("ts_own_echo_sample", ts0 + 1, samples(hist, PS_RTT_SRC_TS));
		check("ts_own_echo_frees_slot", p0, ts_pending(tsm));

		/* A resent SYN replaces the pending TSval; the SYN-ACK's echo picks. */
		ts_seg(out_fd, true, 0x02, 3000, 0, 0, 41003);
		ts_seg(out_fd, true, 0x02, 4000, 0, 0, 41003);
		check("syn_resent_recorded", rec0 + 4, ctr(ctrs, C(ts_recorded)));
		ts_seg(in_fd, false, 0x12, 50, 3000, 0, 41003);
		check("syn_ack_of_first_syn_no_sample", hs0, samples(hist, PS_RTT_SRC_HANDSHAKE));
		ts_seg(in_fd, false, 0x12, 50, 4000, 0, 41003);
		check("syn_ack_of_resent_syn_sample", hs0 + 1, samples(hist, PS_RTT_SRC_HANDSHAKE));

		/* Three flows on one pair of slots: the third waits for a free one. */
		a.lport = 41004;
		for (p = 41005; p; p++) {
			b.lport = p;
			if (ps_rtt_ts_index(&b) >> 1 == ps_rtt_ts_index(&a) >> 1)
				break;
		}
		c3 = key;
		for (p = b.lport + 1; p; p++) {
			c3.lport = p;
			if (ps_rtt_ts_index(&c3) >> 1 == ps_rtt_ts_index(&a) >> 1)
				break;
		}
		ts_seg(out_fd, true, 0x18, 5000, 0, 100, a.lport);
		ts_seg(out_fd, true, 0x18, 5500, 0, 100, b.lport);
		check("ts_pair_holds_two", p0 + 2, ts_pending(tsm));
		ts_seg(out_fd, true, 0x18, 6000, 0, 100, c3.lport);
		check("ts_pair_busy", 1, ctr(ctrs, C(ts_busy)));
		ts_seg(in_fd, false, 0x10, 9, 6000, 0, c3.lport);
		check("ts_busy_flow_no_sample", ts0 + 1, samples(hist, PS_RTT_SRC_TS));
		ts_seg(in_fd, false, 0x10, 9, 5000, 0, a.lport);
		ts_seg(in_fd, false, 0x10, 9, 5500, 0, b.lport);
		check("ts_pair_flows_samples", ts0 + 3, samples(hist, PS_RTT_SRC_TS));
		ts_seg(out_fd, true, 0x18, 6001, 0, 100, c3.lport);
		ts_seg(in_fd, false, 0x10, 9, 6001, 0, c3.lport);
		check("ts_third_flow_after_free_sample", ts0 + 4, samples(hist, PS_RTT_SRC_TS));
		check("ts_table_back_to_start", p0, ts_pending(tsm));

		/*
		 * Two flows of the same index: the second waits in the
		 * neighbour slot, and its echo, once the first flow's slot is
		 * free again, still finds it there.
		 */
		a.lport = 42000;
		for (p = 42001; p; p++) {
			b.lport = p;
			if (ps_rtt_ts_index(&b) == ps_rtt_ts_index(&a))
				break;
		}
		ts_seg(out_fd, true, 0x18, 7000, 0, 100, a.lport);
		ts_seg(out_fd, true, 0x18, 7500, 0, 100, b.lport);
		ts_seg(in_fd, false, 0x10, 9, 7000, 0, a.lport);
		ts_seg(in_fd, false, 0x10, 9, 7500, 0, b.lport);
		check("ts_neighbour_slot_sample", ts0 + 6, samples(hist, PS_RTT_SRC_TS));
		check("ts_neighbour_slot_freed", p0, ts_pending(tsm));

		/*
		 * A slot pending for another flow is taken over after 1 s
		 * (PS_RTT_TS_STALE_NS), not before: the jiffies stamp says
		 * "younger" only while it is sure (ps_rtt_ts_older).
		 */
		for (p = 1024; p; p++) {
			c3.lport = p;
			if (p != a.lport && p != b.lport &&
			    ps_rtt_ts_index(&c3) >> 1 == ps_rtt_ts_index(&a) >> 1)
				break;
		}
		check("ts_stale_third_flow_found", 1, p != 0);
		{
			unsigned long long busy0 = ctr(ctrs, C(ts_busy));
			unsigned long long rec1 = ctr(ctrs, C(ts_recorded));

			ts_seg(out_fd, true, 0x18, 8000, 0, 100, a.lport);
			ts_seg(out_fd, true, 0x18, 8500, 0, 100, b.lport);
			ts_seg(out_fd, true, 0x18, 9000, 0, 100, c3.lport);
			check("ts_stale_not_before_1s", busy0 + 1, ctr(ctrs, C(ts_busy)));
			nanosleep(&(struct timespec){ .tv_sec = 1, .tv_nsec = 100000000 }, NULL);
			ts_seg(out_fd, true, 0x18, 9001, 0, 100, c3.lport);
			check("ts_stale_taken_after_1s", rec1 + 3, ctr(ctrs, C(ts_recorded)));
			check("ts_stale_taken_not_busy", busy0 + 1, ctr(ctrs, C(ts_busy)));
			ts_seg(in_fd, false, 0x10, 9, 9001, 0, c3.lport);
			check("ts_stale_taker_sample", ts0 + 7, samples(hist, PS_RTT_SRC_TS));
			/* One of a, b lost its slot; the other's echo still samples. */
			ts_seg(in_fd, false, 0x10, 9, 8000, 0, a.lport);
			ts_seg(in_fd, false, 0x10, 9, 8500, 0, b.lport);
			check("ts_stale_survivor_sample", ts0 + 8, samples(hist, PS_RTT_SRC_TS));
			check("ts_stale_table_back_to_start", p0, ts_pending(tsm));
		}
	}

	/*
	 * IPv6, plain and in a VLAN, answered at XDP and at TC ingress: a
	 * TSval sent; an echo of an older one closes nothing and leaves it
	 * pending; its own echo closes one sample.
	 */
	for (int v = 0; v < 4; v++) {
		struct ps_rtt_flow k6 = { .lport = 40100 + v, .rport = 443, .family = 6, .proto = 6 };
		unsigned long long s0 = samples(hist, PS_RTT_SRC_TS), p0 = ts_pending(tsm);
		int ans = v & 2 ? tcin_fd : in_fd;
		char n[5][64];

		for (int i = 0; i < 5; i++)
			snprintf(n[i], sizeof(n[i]), "ts_ipv6%s%s_%s", v & 1 ? "_vlan" : "",
				 v & 2 ? "_tc_in" : "",
				 (const char *[]){ "pending", "older_echo_keeps", "echo_sample",
						   "flow_count", "slot_freed" }[i]);
		memcpy(k6.laddr, a6, 16);
		memcpy(k6.raddr, b6, 16);
		ts_opt(o, 500, 0);
		tcp6(true, v & 1, k6.lport, 0x18, o, 100);
		run(out_fd);
		check(n[0], p0 + 1, ts_pending(tsm));
		ts_opt(o, 9, 499);
		tcp6(false, v & 1, k6.lport, 0x10, o, 0);
		run(ans);
		check(n[1], p0 + 1, ts_pending(tsm) + samples(hist, PS_RTT_SRC_TS) - s0);
		ts_opt(o, 9, 500);
		tcp6(false, v & 1, k6.lport, 0x10, o, 0);
		run(ans);
		check(n[2], s0 + 1, samples(hist, PS_RTT_SRC_TS));
		check(n[3], 1, bpf_map_lookup_elem(flows, &k6, &fv) ? 0 : fv.count);
		check(n[4], p0, ts_pending(tsm));
	}

	/* IPv4 at TC ingress: the echo of a pending TSval closes one sample. */
	{
		unsigned long long s0 = samples(hist, PS_RTT_SRC_TS), p0 = ts_pending(tsm);

		ts_seg(out_fd, true, 0x18, 12000, 0, 100, 43000);
		check("ts_tc_in_pending", p0 + 1, ts_pending(tsm));
		ts_seg(tcin_fd, false, 0x10, 9, 12000, 0, 43000);
		check("ts_tc_in_echo_sample", s0 + 1, samples(hist, PS_RTT_SRC_TS));
		check("ts_tc_in_slot_freed", p0, ts_pending(tsm));
	}

	goto out;
load_err:
	printf("FAIL rtt/load: open/load the XDP/TC objects with RTT on: %s\n", strerror(errno));
	fails++;
out:
	xdp_stats_bpf__destroy(xdp);
	tc_stats_bpf__destroy(tc);
	tc_stats_bpf__destroy(off);
	tc_stats_bpf__destroy(tcin);
	return fails ? 1 : 0;
}
