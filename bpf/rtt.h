/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Passive RTT: the structs shared with user space, and (in BPF) the maps and
 * per-packet logic used by the XDP and TC programs.
 *
 * Samples are taken on the host the programs run on, for the traffic it
 * sends: egress (TC) records when something that elicits an answer left,
 * ingress (XDP, or TC ingress when no XDP program is attached) closes the
 * sample when the answer arrives.
 *  - ts:        TCP timestamps.  One TSval per flow is outstanding at a
 *               time, in a direct-mapped table (ps_rtt_ts, indexed by a hash
 *               of the flow, 2-way; no hash map on the packet path): egress
 *               records the TSval of a segment that carries data, SYN or FIN
 *               when the flow's slot is free; the first ingress segment of
 *               the reverse flow whose TSecr equals it and that acknowledges
 *               that segment closes the sample, one whose TSecr is later
 *               frees the slot without one (its echo was skipped or lost).
 *               So a flow gives about one sample per round trip, like a ping
 *               that rides on the flow's own segments.  A retransmitted
 *               SYN replaces its pending TSval: its fresh TSval tells which
 *               SYN the SYN-ACK answers (RFC 7323 RTTM), no Karn ambiguity.
 *  - seqack:    TCP without timestamps.  Up to PS_RTT_SEGS outstanding end
 *               sequence numbers per flow; an ACK covering them closes them,
 *               timed from the oldest.  Karn's rule: a segment whose range was
 *               sent before marks every outstanding segment it overlaps as
 *               retransmitted, and an ACK covering one gives no sample.
 *  - icmp:      ICMP / ICMPv6 echo, matched by (addresses, id, sequence).
 *  - handshake: the SYN (client: SYN -> SYN-ACK) or SYN-ACK (server:
 *               SYN-ACK -> ACK) of a connection, through the timestamp table
 *               when the SYN carries timestamps, else the seq/ack path.
 */
#ifndef PKTSCOPE_RTT_H
#define PKTSCOPE_RTT_H

#define PS_RTT_LAYOUT_VERSION	4

enum ps_rtt_src {
	PS_RTT_SRC_TS = 0,
	PS_RTT_SRC_SEQACK,
	PS_RTT_SRC_ICMP,
	PS_RTT_SRC_HANDSHAKE,
	PS_RTT_SRC_MAX
};

#define PS_RTT_SLOTS		32	/* log2 usec buckets: up to ~35 minutes */
#define PS_RTT_SEGS		8	/* outstanding segments per flow (seq/ack) */
#define PS_RTT_RECENT		16	/* recent samples per flow, for p50 */
#define PS_RTT_FLOWS_MAX	16384	/* per-flow LRU */
#define PS_RTT_OUT_MAX		16384	/* outstanding echo requests */
#define PS_RTT_TS_SLOTS		16384	/* timestamp table; a power of two */
#define PS_RTT_TS_STALE_NS	1000000000ull	/* another flow may take a slot after 1 s */
#define PS_RTT_TS_OWN_STALE_NS	10000000000ull	/* the flow itself replaces its TSval after 10 s */
#define PS_RTT_RB_SIZE		(256 * 1024)
#define PS_RTT_EV_GAP_US	100000	/* default: one event per flow per 100 ms */

/* A flow, oriented from this host: l = local (egress source), r = remote. */
struct ps_rtt_flow {
	__u32 laddr[4];		/* network order; IPv4 in [0] */
	__u32 raddr[4];
	__u16 lport;		/* host order; ICMP: echo identifier */
	__u16 rport;
	__u8 family;		/* 4 or 6 */
	__u8 proto;		/* IP protocol */
	__u16 _pad;
};
_Static_assert(sizeof(struct ps_rtt_flow) == 40, "struct ps_rtt_flow layout changed");

#define PS_RTT_OUT_ICMP	2

/* Key of the outstanding map; the value is the send time (ktime ns). */
struct ps_rtt_outkey {
	struct ps_rtt_flow f;
	__u32 id;		/* echo id << 16 | sequence */
	__u32 kind;		/* PS_RTT_OUT_ICMP */
};
_Static_assert(sizeof(struct ps_rtt_outkey) == 48, "struct ps_rtt_outkey layout changed");

#define PS_RTT_TS_SYN		(1u << 0)	/* the TSval of a SYN or SYN-ACK */

/*
 * A slot of the timestamp table: one cache line.  t is the send time and the
 * slot's state: 0 free, 1 being written by one CPU, else pending since t.
 * Writers claim a slot by a compare-and-swap of t and publish t last; a
 * reader takes t, then the rest, then checks t again, and closes a sample
 * only by swapping its t for 0: no torn slot yields a sample, and a TSval
 * is answered once.
 */
struct ps_rtt_ts_slot {
	struct ps_rtt_flow f;
	__u32 tsval;
	__u32 flags;		/* PS_RTT_TS_* */
	__u64 t;
	__u32 j;		/* jiffies (low 32 bits) when t was published
				 * (ps_rtt_ts_older) */
	__u32 end;		/* sequence number after the timed segment */
};
_Static_assert(sizeof(struct ps_rtt_ts_slot) == 64, "struct ps_rtt_ts_slot layout changed");

/*
 * An element of the timestamp table: the two neighbouring slots a flow may
 * use (slots 2i and 2i + 1, a 2-way set), so that one lookup finds both.  In
 * memory the table is still PS_RTT_TS_SLOTS slots in a row.
 */
struct ps_rtt_ts_set {
	struct ps_rtt_ts_slot slot[2];
};
_Static_assert(sizeof(struct ps_rtt_ts_set) == 128, "struct ps_rtt_ts_set layout changed");

#define PS_RTT_SEG_RETRANS	(1u << 0)
#define PS_RTT_SEG_SYN		(1u << 1)

struct ps_rtt_seg {
	__u32 end;		/* end sequence number; an ACK >= end covers it */
	__u32 flags;		/* PS_RTT_SEG_* */
	__u64 t;		/* send time, 0: slot free */
};

/* Per-flow value: samples and the seq/ack state. */
struct ps_rtt_flowval {
	__u64 min_ns;
	__u64 max_ns;
	__u64 sum_ns;
	__u64 count;
	__u64 last_ns;
	__u64 last_time;	/* ktime of the last sample */
	__u64 ev_time;		/* ktime of the last event (rate limit) */
	__u64 retrans;		/* egress segments whose range was sent before */
	__u64 karn_skipped;	/* ACKs that covered a retransmitted segment */
	__u32 count_src[PS_RTT_SRC_MAX];
	__u32 recent_us[PS_RTT_RECENT];	/* ring of the last samples, usec */
	__u32 recent_idx;	/* samples ever written to the ring */
	__u32 snd_nxt;		/* highest end sequence sent (seq/ack path) */
	__u8 seq_valid;
	__u8 last_src;		/* enum ps_rtt_src */
	__u8 _pad[6];
	struct ps_rtt_seg seg[PS_RTT_SEGS];
};
_Static_assert(sizeof(struct ps_rtt_flowval) ==
	       9 * 8 + 4 * PS_RTT_SRC_MAX + 4 * PS_RTT_RECENT + 16 + 16 * PS_RTT_SEGS,
	       "struct ps_rtt_flowval layout changed");

/* Per-CPU, one per enum ps_rtt_src. */
struct ps_rtt_hist {
	__u64 slots[PS_RTT_SLOTS];	/* log2 of the RTT in usec (bpf/log2.h) */
	__u64 count;
	__u64 sum_ns;
};
_Static_assert(sizeof(struct ps_rtt_hist) == 8 * (PS_RTT_SLOTS + 2),
	       "struct ps_rtt_hist layout changed");

/* Per-CPU, one entry. */
struct ps_rtt_counters {
	__u64 ts_recorded;	/* TSvals recorded at egress */
	__u64 ts_dup;		/* segments sent while the flow had a TSval pending */
	__u64 ts_busy;		/* not recorded: the slot pending for another flow */
	__u64 ts_unmatched;	/* pending TSvals freed by a later echo, no sample */
	__u64 icmp_recorded;	/* echo requests recorded */
	__u64 seq_recorded;	/* segments recorded for seq/ack (incl. SYN) */
	__u64 seq_full;		/* new segments not recorded: all slots in use */
	__u64 retrans;		/* retransmitted segments seen at egress */
	__u64 karn_skipped;	/* ACKs that gave no sample (Karn's rule) */
	__u64 events;		/* events written to the ring buffer */
	__u64 events_limited;	/* samples not sent as events: per-flow rate limit */
	__u64 events_lost;	/* ring buffer full */
};
_Static_assert(sizeof(struct ps_rtt_counters) == 96, "struct ps_rtt_counters layout changed");

/* Written by `pktscope rtt --events` while it runs. */
struct ps_rtt_ctl {
	__u32 events;		/* 1: write samples to the ring buffer */
	__u32 gap_us;		/* at most one event per flow per gap_us */
};
_Static_assert(sizeof(struct ps_rtt_ctl) == 8, "struct ps_rtt_ctl layout changed");

struct ps_rtt_event {
	__u64 time_ns;		/* ktime of the sample */
	__u64 rtt_ns;
	struct ps_rtt_flow f;
	__u8 src;		/* enum ps_rtt_src */
	__u8 _pad[7];
};
_Static_assert(sizeof(struct ps_rtt_event) == 64, "struct ps_rtt_event layout changed");

#define PS_RTT_TS_BITS		14	/* log2(PS_RTT_TS_SLOTS) */
_Static_assert(1u << PS_RTT_TS_BITS == PS_RTT_TS_SLOTS, "PS_RTT_TS_BITS");

/*
 * Index of flow f in the timestamp table: a multiplicative hash, no map.
 * The remote address is turned half-way round, so that its varying low
 * bits do not cancel the local address's or the ports'; then the top bits
 * of one multiplication by the golden ratio (Fibonacci hashing, which
 * spreads consecutive ports and hosts evenly).  One multiplication, not a
 * chain of three: the ingress check of every TCP segment with timestamps
 * waits for it.  Outside __bpf__: tests find colliding flows with it.
 */
static inline __u32 ps_rtt_ts_hash(__u32 l, __u32 r, __u16 lport, __u16 rport)
{
	__u32 x = l ^ (r << 16 | r >> 16) ^ ((__u32)lport << 16 | rport);

	return (x * 0x9e3779b1u) >> (32 - PS_RTT_TS_BITS);
}

/*
 * l and r: an address's first and last 32-bit words XORed, the top of an
 * IPv6 prefix and the bottom of the interface identifier, where addresses
 * differ (an IPv4 address is word 0, the others zero).  Two loads an
 * address, not four, on the ingress check of every TCP segment.
 */
static inline __u32 ps_rtt_ts_index(const struct ps_rtt_flow *f)
{
	return ps_rtt_ts_hash(f->laddr[0] ^ f->laddr[3], f->raddr[0] ^ f->raddr[3],
			      f->lport, f->rport);
}

#ifdef __bpf__	/* ---- BPF side -------------------------------------------- */

#include "log2.h"
#include "parse.h"
#include "rb.h"

/*
 * Set by user space before load.  Off: the verifier sees the RTT code as
 * dead and removes it.  ps_rtt_xdp (TC only): an XDP program of the same
 * attachment closes the ingress samples, TC ingress must not do it twice.
 */
const volatile __u32 ps_rtt_on = 0;
const volatile __u32 ps_rtt_xdp = 0;

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PS_RTT_OUT_MAX);
	__type(key, struct ps_rtt_outkey);
	__type(value, __u64);
} ps_rtt_out SEC(".maps");

/* Mappable: user space counts the pending slots without a syscall per slot. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PS_RTT_TS_SLOTS / 2);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct ps_rtt_ts_set);
} ps_rtt_ts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PS_RTT_FLOWS_MAX);
	__type(key, struct ps_rtt_flow);
	__type(value, struct ps_rtt_flowval);
} ps_rtt_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PS_RTT_SRC_MAX);
	__type(key, __u32);
	__type(value, struct ps_rtt_hist);
} ps_rtt_hist SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ps_rtt_counters);
} ps_rtt_ctrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ps_rtt_ctl);
} ps_rtt_ctl SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, PS_RTT_RB_SIZE);
} ps_rtt_events SEC(".maps");

/* Farthest L4 header offset looked at (same bound as the drop filter). */
#define PS_RTT_MAX_OFF		1024
/* TCP options walked looking for the timestamp (40 bytes of options). */
#define PS_RTT_OPT_MAX		10

#define PS_TCP_FIN	0x01
#define PS_TCP_SYN	0x02
#define PS_TCP_ACK	0x10

/* A new flow's value, in .rodata: ~350 bytes of zeros off the 512-byte stack. */
static const struct ps_rtt_flowval ps_rtt_zero_flow;

static __always_inline struct ps_rtt_counters *ps_rtt_ctr(void)
{
	__u32 k = 0;

	return bpf_map_lookup_elem(&ps_rtt_ctrs, &k);
}

/* Sequence comparison modulo 2^32. */
static __always_inline bool ps_seq_after_eq(__u32 a, __u32 b)
{
	return (__s32)(a - b) >= 0;
}

/*
 * Flow key from the IP header, oriented local -> remote: egress packets as
 * they are, ingress packets swapped.  Returns 0 for IPv4/IPv6.
 */
static __always_inline int ps_rtt_key(struct ps_rtt_flow *f, const struct ps_pkt *p,
				      void *data, void *data_end, bool ingress)
{
	__u32 off = p->l3_off;

	__builtin_memset(f, 0, sizeof(*f));
	if (off > PS_RTT_MAX_OFF)
		return -1;
	if (p->l3 == PS_L3_IPV4) {
		struct iphdr *ip = data + off;

		if ((void *)(ip + 1) > data_end)
			return -1;
		f->family = 4;
		f->laddr[0] = ingress ? ip->daddr : ip->saddr;
		f->raddr[0] = ingress ? ip->saddr : ip->daddr;
	} else if (p->l3 == PS_L3_IPV6) {
		struct ipv6hdr *ip6 = data + off;

		if ((void *)(ip6 + 1) > data_end)
			return -1;
		f->family = 6;
		if (ingress) {
			__builtin_memcpy(f->laddr, &ip6->daddr, 16);
			__builtin_memcpy(f->raddr, &ip6->saddr, 16);
		} else {
			__builtin_memcpy(f->laddr, &ip6->saddr, 16);
			__builtin_memcpy(f->raddr, &ip6->daddr, 16);
		}
	} else {
		return -1;
	}
	f->proto = p->ip_proto;
	return 0;
}

/*
 * Whether the options of the TCP header at tcp start as Linux and most
 * stacks send them (RFC 7323 appendix A): NOP, NOP, timestamps; one load
 * and compare.
 */
static __always_inline bool ps_rtt_ts_usual(struct tcphdr *tcp, void *data_end)
{
	__u8 *o = (__u8 *)(tcp + 1);

	return tcp->doff >= 8 && o + 12 <= (__u8 *)data_end &&
	       *(__u32 *)o == bpf_htonl(0x0101080a);
}

/*
 * TSval and TSecr of the TCP header at tcp (doff already checked by the
 * parser).  Options are walked kind by kind, at most PS_RTT_OPT_MAX of them;
 * each read is bounds-checked against the packet.  Returns 0 when found.
 */
static __always_inline int ps_rtt_tcp_ts(struct tcphdr *tcp, void *data_end, __u32 *tsval,
					 __u32 *tsecr)
{
	__u32 hlen = tcp->doff * 4, pos = sizeof(*tcp);
	__u8 *o = (__u8 *)(tcp + 1);
	int i;

	/* The usual layout: no walk. */
	if (ps_rtt_ts_usual(tcp, data_end)) {
		*tsval = bpf_ntohl(*(__be32 *)(o + 4));
		*tsecr = bpf_ntohl(*(__be32 *)(o + 8));
		return 0;
	}

	for (i = 0; i < PS_RTT_OPT_MAX; i++) {
		__u8 kind, len;

		if (pos >= hlen || pos > 60)
			return -1;
		o = (__u8 *)tcp + pos;
		if (o + 1 > (__u8 *)data_end)
			return -1;
		kind = o[0];
		if (kind == 0)		/* end of option list */
			return -1;
		if (kind == 1) {	/* NOP */
			pos++;
			continue;
		}
		if (o + 2 > (__u8 *)data_end)
			return -1;
		len = o[1];
		if (len < 2)
			return -1;
		if (kind == 8 && len == 10) {
			if (pos + 10 > hlen || o + 10 > (__u8 *)data_end)
				return -1;
			*tsval = bpf_ntohl(*(__be32 *)(o + 2));
			*tsecr = bpf_ntohl(*(__be32 *)(o + 6));
			return 0;
		}
		pos += len;
	}
	return -1;
}

static __always_inline void ps_rtt_emit(struct ps_rtt_flowval *v, const struct ps_rtt_flow *f,
					__u64 now, __u64 rtt, __u32 src)
{
	struct ps_rtt_counters *c = ps_rtt_ctr();
	struct ps_rtt_event *e;
	struct ps_rtt_ctl *ctl;
	__u32 k = 0;

	ctl = bpf_map_lookup_elem(&ps_rtt_ctl, &k);
	if (!ctl || !ctl->events)
		return;
	if (v->ev_time && now - v->ev_time < (__u64)ctl->gap_us * 1000) {
		if (c)
			c->events_limited++;
		return;
	}
	e = bpf_ringbuf_reserve(&ps_rtt_events, sizeof(*e), 0);
	if (!e) {
		if (c)
			c->events_lost++;
		return;
	}
	v->ev_time = now;
	e->time_ns = now;
	e->rtt_ns = rtt;
	__builtin_memcpy(&e->f, f, sizeof(*f));
	e->src = src;
	__builtin_memset(e->_pad, 0, sizeof(e->_pad));
	bpf_ringbuf_submit(e, ps_rb_flags(&ps_rtt_events, PS_RTT_RB_SIZE));
	if (c)
		c->events++;
}

/* One RTT sample of flow f: per-source histogram, per-flow summary, event. */
static __always_inline void ps_rtt_sample(const struct ps_rtt_flow *f,
					  struct ps_rtt_flowval *v, __u64 now, __u64 rtt,
					  __u32 src)
{
	struct ps_rtt_hist *h;
	__u64 us = rtt / 1000;
	__u32 slot, idx;

	if (src >= PS_RTT_SRC_MAX)
		return;
	h = bpf_map_lookup_elem(&ps_rtt_hist, &src);
	if (h) {
		slot = ps_log2_slot(us);
		if (slot >= PS_RTT_SLOTS)
			slot = PS_RTT_SLOTS - 1;
		/* Keep the compiler from checking one register and indexing another. */
		asm volatile("" : "+r"(slot));
		if (slot < PS_RTT_SLOTS)
			h->slots[slot]++;
		h->count++;
		h->sum_ns += rtt;
	}
	if (!v) {
		bpf_map_update_elem(&ps_rtt_flows, f, &ps_rtt_zero_flow, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&ps_rtt_flows, f);
		if (!v)
			return;
	}
	/* Ingress of one flow may run on several CPUs: the sums stay exact. */
	__sync_fetch_and_add(&v->count, 1);
	__sync_fetch_and_add(&v->sum_ns, rtt);
	if (!v->min_ns || rtt < v->min_ns)
		v->min_ns = rtt;
	if (rtt > v->max_ns)
		v->max_ns = rtt;
	v->last_ns = rtt;
	v->last_time = now;
	v->last_src = src;
	v->count_src[src & (PS_RTT_SRC_MAX - 1)]++;
	/* The ring index is not atomic: a lost race overwrites one sample. */
	idx = v->recent_idx++;
	v->recent_us[idx & (PS_RTT_RECENT - 1)] = us > 0xffffffffull ? 0xffffffffu : us;
	ps_rtt_emit(v, f, now, rtt, src);
}

/* Egress TCP segment without timestamps, or a SYN: remember its end sequence. */
static __always_inline void ps_rtt_seq_out(const struct ps_rtt_flow *f, __u32 seq,
					   __u32 seg_len, bool syn)
{
	__u64 now;
	struct ps_rtt_counters *c = ps_rtt_ctr();
	struct ps_rtt_flowval *v;
	__u32 end = seq + seg_len;
	int i, free_slot = -1;

	v = bpf_map_lookup_elem(&ps_rtt_flows, f);
	if (!v) {
		bpf_map_update_elem(&ps_rtt_flows, f, &ps_rtt_zero_flow, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&ps_rtt_flows, f);
		if (!v)
			return;
	}
	/* The clock is read only where a time is stored (a helper call). */
	now = bpf_ktime_get_ns();
	if (v->seq_valid && !ps_seq_after_eq(seq, v->snd_nxt)) {
		/*
		 * Part of this range was sent before: every outstanding segment
		 * it overlaps is ambiguous now (Karn), and so is this one.
		 */
		v->retrans++;
		if (c)
			c->retrans++;
		for (i = 0; i < PS_RTT_SEGS; i++)
			if (v->seg[i].t && !ps_seq_after_eq(seq, v->seg[i].end))
				v->seg[i].flags |= PS_RTT_SEG_RETRANS;
		if (!ps_seq_after_eq(v->snd_nxt, end)) {
			/* New data rides along: recorded, but as retransmitted. */
			v->snd_nxt = end;
			for (i = 0; i < PS_RTT_SEGS; i++) {
				if (!v->seg[i].t) {
					v->seg[i].end = end;
					v->seg[i].flags = PS_RTT_SEG_RETRANS;
					v->seg[i].t = now;
					break;
				}
			}
		}
		return;
	}
	v->snd_nxt = end;
	v->seq_valid = 1;
	for (i = 0; i < PS_RTT_SEGS; i++) {
		if (!v->seg[i].t) {
			free_slot = i;
			break;
		}
	}
	if (free_slot < 0 || free_slot >= PS_RTT_SEGS) {
		if (c)
			c->seq_full++;
		return;
	}
	v->seg[free_slot].end = end;
	v->seg[free_slot].flags = syn ? PS_RTT_SEG_SYN : 0;
	v->seg[free_slot].t = now;
	if (c)
		c->seq_recorded++;
}

/* Ingress ACK: close every outstanding segment it covers; timed from the oldest. */
static __always_inline void ps_rtt_seq_in(const struct ps_rtt_flow *f, __u32 ack)
{
	__u64 now;
	struct ps_rtt_flowval *v;
	__u64 oldest = ~0ull;
	bool found = false, retrans = false, syn = false;
	int i;

	v = bpf_map_lookup_elem(&ps_rtt_flows, f);
	if (!v || !v->seq_valid)
		return;
	for (i = 0; i < PS_RTT_SEGS; i++) {
		__u64 t = v->seg[i].t;

		if (!t || !ps_seq_after_eq(ack, v->seg[i].end))
			continue;
		found = true;
		if (v->seg[i].flags & PS_RTT_SEG_RETRANS)
			retrans = true;
		if (v->seg[i].flags & PS_RTT_SEG_SYN)
			syn = true;
		if (t < oldest)
			oldest = t;
		v->seg[i].t = 0;
	}
	if (!found)
		return;
	if (retrans) {
		struct ps_rtt_counters *c = ps_rtt_ctr();

		v->karn_skipped++;
		if (c)
			c->karn_skipped++;
		return;
	}
	now = bpf_ktime_get_ns();
	if (now > oldest)
		ps_rtt_sample(f, v, now, now - oldest,
			      syn ? PS_RTT_SRC_HANDSHAKE : PS_RTT_SRC_SEQACK);
}

static __always_inline bool ps_rtt_flow_eq(const struct ps_rtt_flow *a,
					   const struct ps_rtt_flow *b)
{
	const __u32 *x = (const __u32 *)a, *y = (const __u32 *)b;
	__u32 d = 0;
	int i;

#pragma unroll
	for (i = 0; i < (int)(sizeof(*a) / 4); i++)
		d |= x[i] ^ y[i];
	return !d;
}

/* A slot's age on the coarse clock (no clocksource read): good for seconds. */
static __always_inline __u64 ps_rtt_ts_age(__u64 t)
{
	__u64 now = bpf_ktime_get_coarse_ns();

	/* A slot written a moment ago may look younger than the coarse clock. */
	return now > t ? now - t : 0;
}

/*
 * Whether slot s, published at t, is at least ns old.  Its jiffies stamp
 * answers "younger" without a helper call while fewer than ns / 10 ms
 * jiffies have passed: with HZ >= 100 (every HZ x86 and arm64 offer) that is
 * less than ns.  The verifier inlines bpf_jiffies64() into one load;
 * bpf_ktime_get_coarse_ns() is a call, and a sender asks this of every
 * segment it sends while its flow's TSval is pending.  Past that bound the
 * coarse clock decides.  A stamp rewritten since t was read says "younger",
 * which the slot then is (and the compare-and-swap on t would fail anyway).
 */
static __always_inline bool ps_rtt_ts_older(const struct ps_rtt_ts_slot *s, __u64 t, __u64 ns)
{
	if ((__u32)bpf_jiffies64() - *(volatile __u32 *)&s->j < ns / 10000000)
		return false;
	return ps_rtt_ts_age(t) >= ns;
}

/*
 * The two slots a flow may use (2-way: a pair of neighbours, so that a flow
 * waits for another only when both are pending) and the one holding this
 * flow's pending TSval, if any.
 */
struct ps_rtt_ts_pair {
	struct ps_rtt_ts_slot *s[2];
	__u64 t[2];
	int own;		/* index into s of the flow's pending slot, or -1 */
};

static __always_inline int ps_rtt_ts_pair(struct ps_rtt_ts_pair *pr, const struct ps_rtt_flow *f)
{
	__u32 k = ps_rtt_ts_index(f), set = k / 2;
	struct ps_rtt_ts_set *st;

	/* The flow's first choice is slot k, the other one of its set second. */
	st = bpf_map_lookup_elem(&ps_rtt_ts, &set);
	if (!st)
		return -1;
	pr->s[0] = &st->slot[k & 1];
	pr->s[1] = &st->slot[(k & 1) ^ 1];
	pr->t[0] = *(volatile __u64 *)&pr->s[0]->t;
	pr->t[1] = *(volatile __u64 *)&pr->s[1]->t;
	pr->own = -1;
	if (pr->t[0] > 1 && ps_rtt_flow_eq(&pr->s[0]->f, f))
		pr->own = 0;
	else if (pr->t[1] > 1 && ps_rtt_flow_eq(&pr->s[1]->f, f))
		pr->own = 1;
	return 0;
}

/*
 * Egress segment with timestamps that elicits an answer, ending before
 * sequence number end: record its TSval unless the flow has one pending
 * (see struct ps_rtt_ts_slot).
 */
static __always_inline void ps_rtt_ts_out(const struct ps_rtt_flow *f, __u32 tsval, bool syn,
					  __u32 end)
{
	struct ps_rtt_counters *c = ps_rtt_ctr();
	struct ps_rtt_ts_pair pr;
	struct ps_rtt_ts_slot *s;
	__u64 t;
	int i;

	if (ps_rtt_ts_pair(&pr, f))
		return;
	if (pr.own >= 0) {
		i = pr.own & 1;
		/*
		 * The flow's own TSval waits for its echo; a resent SYN
		 * replaces it (its new TSval is what the SYN-ACK echoes).
		 */
		if (!(syn && (pr.s[i]->flags & PS_RTT_TS_SYN)) &&
		    !ps_rtt_ts_older(pr.s[i], pr.t[i], PS_RTT_TS_OWN_STALE_NS)) {
			if (c)
				c->ts_dup++;
			return;
		}
	} else if (!pr.t[0] || (pr.t[0] > 1 && ps_rtt_ts_older(pr.s[0], pr.t[0], PS_RTT_TS_STALE_NS))) {
		i = 0;
	} else if (!pr.t[1] || (pr.t[1] > 1 && ps_rtt_ts_older(pr.s[1], pr.t[1], PS_RTT_TS_STALE_NS))) {
		i = 1;
	} else {
		if (c)
			c->ts_busy++;
		return;
	}
	s = pr.s[i & 1];
	t = pr.t[i & 1];
	if (__sync_val_compare_and_swap(&s->t, t, 1) != t) {
		if (c)
			c->ts_busy++;
		return;
	}
	__builtin_memcpy(&s->f, f, sizeof(*f));
	s->tsval = tsval;
	s->end = end;
	s->flags = syn ? PS_RTT_TS_SYN : 0;
	s->j = bpf_jiffies64();	/* the low 32 bits: differences wrap right */
	/* Published last, by an atomic exchange: a full barrier. */
	__sync_lock_test_and_set(&s->t, bpf_ktime_get_ns());
	if (c)
		c->ts_recorded++;
}

/*
 * Ingress segment with timestamps: its TSecr answers the flow's pending
 * TSval, or passes it (the echo of that TSval was skipped or lost).
 */
static __always_inline void ps_rtt_ts_in(const struct ps_rtt_flow *f, __u32 tsecr, __u32 ack)
{
	struct ps_rtt_ts_pair pr;
	struct ps_rtt_ts_slot *s;
	__u32 tsval, flags, end;
	__u64 t;

	if (ps_rtt_ts_pair(&pr, f) || pr.own < 0)
		return;
	s = pr.s[pr.own & 1];
	t = pr.t[pr.own & 1];
	tsval = s->tsval;
	flags = s->flags;
	end = s->end;
	/*
	 * The swap of t for 0 commits: it fails if a writer took the slot
	 * since t was read (t never comes back to an old value), so the
	 * fields read above belong to t.
	 */
	if (tsecr == tsval) {
		__u64 now;

		/*
		 * An echo of tsval that does not acknowledge the timed segment
		 * answers a segment sent before it with the same TSval (Linux's
		 * timestamp clock ticks once a millisecond, and on a path
		 * shorter than that a bulk sender times a TSval again right
		 * after its echo): timed from this slot, it would be shorter than
		 * any round trip (one in 16 of a bulk transfer's samples over the
		 * veth bench, some of 0.06 us).  The ACK that covers the segment
		 * closes the sample.
		 */
		if (!ps_seq_after_eq(ack, end))
			return;
		now = bpf_ktime_get_ns();
		if (now > t && __sync_val_compare_and_swap(&s->t, t, 0) == t)
			ps_rtt_sample(f, NULL, now, now - t,
				      flags & PS_RTT_TS_SYN ? PS_RTT_SRC_HANDSHAKE : PS_RTT_SRC_TS);
	} else if ((__s32)(tsecr - tsval) > 0) {
		if (__sync_val_compare_and_swap(&s->t, t, 0) == t) {
			struct ps_rtt_counters *c = ps_rtt_ctr();

			if (c)
				c->ts_unmatched++;
		}
	}
}

/*
 * Whether slot s can answer an ingress segment that echoes tsecr: it is
 * pending, and tsecr is its TSval or later (ps_rtt_ts_in samples the one and
 * gives up on the other).  An echo of an earlier TSval changes nothing, and
 * that is most of what a sender receives: its flow has a TSval pending
 * nearly all the time, and the ACKs of the round trip before echo older
 * ones.  A slot rewritten between the two reads of t goes to the full check;
 * so does any slot whose TSval is at or before tsecr, whichever flow it
 * holds (ps_rtt_ts_in compares the flow).  tsval shares t's cache line.
 */
static __always_inline bool ps_rtt_ts_slot_answers(const struct ps_rtt_ts_slot *s, __u32 tsecr)
{
	__u64 t = *(volatile __u64 *)&s->t;
	__u32 tsval;

	if (t <= 1)
		return false;
	tsval = *(volatile __u32 *)&s->tsval;
	if (*(volatile __u64 *)&s->t != t)
		return true;
	return (__s32)(tsecr - tsval) >= 0;
}

/*
 * Whether either timestamp-table slot of an ingress segment's flow may be
 * answered by its TSecr (ps_rtt_ts_slot_answers): the index ps_rtt_ts_index
 * gives the key ps_rtt_key would build, computed off the packet.  Most
 * segments a host receives answer nothing (one TSval per flow per round
 * trip is pending, and most ACKs echo an earlier one), and they are done
 * here, without building the 40-byte key or calling the RTT function.
 */
static __always_inline bool ps_rtt_ts_maybe_in(const struct ps_pkt *p, void *data,
					       void *data_end, __u16 lport, __u16 rport,
					       __u32 tsecr)
{
	struct ps_rtt_ts_set *st;
	__u32 off = p->l3_off, l, r, set;

	if (off > PS_RTT_MAX_OFF)
		return false;
	if (p->l3 == PS_L3_IPV4) {
		struct iphdr *ip = data + off;

		if ((void *)(ip + 1) > data_end)
			return false;
		l = ip->daddr;
		r = ip->saddr;
	} else if (p->l3 == PS_L3_IPV6) {
		struct ipv6hdr *ip6 = data + off;
		const __u32 *d = (const __u32 *)&ip6->daddr, *sa = (const __u32 *)&ip6->saddr;

		if ((void *)(ip6 + 1) > data_end)
			return false;
		l = d[0] ^ d[3];
		r = sa[0] ^ sa[3];
	} else {
		return false;
	}
	set = ps_rtt_ts_hash(l, r, lport, rport) / 2;
	st = bpf_map_lookup_elem(&ps_rtt_ts, &set);
	if (!st)
		return false;
	return ps_rtt_ts_slot_answers(&st->slot[0], tsecr) ||
	       ps_rtt_ts_slot_answers(&st->slot[1], tsecr);
}

/* The key of the flow, with its ports (host order); 0 when built. */
static __always_inline int ps_rtt_tcp_key(struct ps_rtt_flow *f, const struct ps_pkt *p,
					  void *data, void *data_end, bool ingress,
					  __u16 lport, __u16 rport)
{
	if (ps_rtt_key(f, p, data, data_end, ingress))
		return -1;
	f->lport = lport;
	f->rport = rport;
	return 0;
}

static __always_inline void ps_rtt_tcp(struct ps_rtt_flow *f, const struct ps_pkt *p,
				       void *data, struct tcphdr *tcp, void *data_end,
				       __u64 len, __u32 l4_off, bool ingress)
{
	__u32 tsval = 0, tsecr = 0, seq, seg_len;
	__u8 flags = ((__u8 *)tcp)[13];
	bool has_ts, syn = flags & PS_TCP_SYN;
	__u16 lport, rport;

	lport = bpf_ntohs(ingress ? tcp->dest : tcp->source);
	rport = bpf_ntohs(ingress ? tcp->source : tcp->dest);
	has_ts = !ps_rtt_tcp_ts(tcp, data_end, &tsval, &tsecr);

	if (ingress) {
		if (!(flags & PS_TCP_ACK))
			return;
		/*
		 * Timestamps are on for the whole connection or for none of it
		 * (RFC 7323 negotiates them on the SYN): a segment with them
		 * answers through the table only, one without through seq/ack.
		 */
		if (has_ts) {
			if (tsecr && ps_rtt_ts_maybe_in(p, data, data_end, lport, rport, tsecr) &&
			    !ps_rtt_tcp_key(f, p, data, data_end, ingress, lport, rport))
				ps_rtt_ts_in(f, tsecr, bpf_ntohl(tcp->ack_seq));
			return;
		}
		if (!ps_rtt_tcp_key(f, p, data, data_end, ingress, lport, rport))
			ps_rtt_seq_in(f, bpf_ntohl(tcp->ack_seq));
		return;
	}

	seq = bpf_ntohl(tcp->seq);
	seg_len = len > l4_off + tcp->doff * 4 ? len - l4_off - tcp->doff * 4 : 0;
	seg_len += (flags & PS_TCP_SYN ? 1 : 0) + (flags & PS_TCP_FIN ? 1 : 0);
	/* Pure ACKs elicit no answer of their own: nothing to time. */
	if (!seg_len || ps_rtt_tcp_key(f, p, data, data_end, ingress, lport, rport))
		return;
	if (has_ts)
		ps_rtt_ts_out(f, tsval, syn, seq + seg_len);
	else
		ps_rtt_seq_out(f, seq, seg_len, syn);
}

static __always_inline void ps_rtt_icmp(struct ps_rtt_flow *f, __u8 *h, void *data_end,
					bool ingress)
{
	__u64 now;
	struct ps_rtt_outkey k = {};
	__u8 type, req, rep;
	__u64 *t, sent;

	if (h + 8 > (__u8 *)data_end)
		return;
	type = h[0];
	req = f->family == 4 ? 8 : 128;
	rep = f->family == 4 ? 0 : 129;
	if (type != (ingress ? rep : req))
		return;
	f->lport = bpf_ntohs(*(__be16 *)(h + 4));
	__builtin_memcpy(&k.f, f, sizeof(*f));
	k.id = (__u32)f->lport << 16 | bpf_ntohs(*(__be16 *)(h + 6));
	k.kind = PS_RTT_OUT_ICMP;
	if (!ingress) {
		struct ps_rtt_counters *c = ps_rtt_ctr();

		now = bpf_ktime_get_ns();

		/* A repeated (id, seq) keeps its first send time. */
		if (!bpf_map_lookup_elem(&ps_rtt_out, &k) &&
		    !bpf_map_update_elem(&ps_rtt_out, &k, &now, BPF_NOEXIST) && c)
			c->icmp_recorded++;
		return;
	}
	t = bpf_map_lookup_elem(&ps_rtt_out, &k);
	if (!t)
		return;
	sent = *t;
	now = bpf_ktime_get_ns();
	if (now > sent && !bpf_map_delete_elem(&ps_rtt_out, &k))
		ps_rtt_sample(f, NULL, now, now - sent, PS_RTT_SRC_ICMP);
}

/*
 * Whether p can carry an RTT sample at all: TCP, ICMP or ICMPv6 with a whole
 * L4 header.  Tested by the programs before they call the RTT function, so
 * that every other packet (UDP above all) does not pay for the call.
 */
static __always_inline bool ps_rtt_wants(const struct ps_pkt *p)
{
	if (p->flags & (PS_F_BAD | PS_F_LATERFRAG))
		return false;
	return p->l4 == PS_L4_TCP || p->l4 == PS_L4_ICMP || p->l4 == PS_L4_ICMPV6;
}

/*
 * Whether an ingress packet certainly has nothing to close: a TCP segment
 * with timestamps in the layout Linux sends (NOP, NOP, timestamps first)
 * whose TSecr answers neither slot of its flow's pair (none pending, or an
 * echo of an earlier TSval).  That is most of what a host receives, and the
 * programs test it before they call the RTT function: no call, no option
 * walk.  Anything else (other option layouts, segments
 * without timestamps, ICMP) goes to ps_rtt_run, which decides the same way.
 */
static __always_inline bool ps_rtt_in_idle(const struct ps_pkt *p, void *data, void *data_end)
{
	struct tcphdr *tcp;
	__u32 off = p->l4_off, tsecr;

	if (p->l4 != PS_L4_TCP || !off || off > PS_RTT_MAX_OFF)
		return false;
	tcp = data + off;
	if ((void *)(tcp + 1) > data_end || !ps_rtt_ts_usual(tcp, data_end))
		return false;
	/* TSecr (after NOP, NOP, kind, length, TSval); 0 echoes nothing. */
	tsecr = bpf_ntohl(*(__be32 *)((__u8 *)(tcp + 1) + 8));
	return !tsecr || !ps_rtt_ts_maybe_in(p, data, data_end, bpf_ntohs(tcp->dest),
					     bpf_ntohs(tcp->source), tsecr);
}

/*
 * The RTT step for one parsed packet.  Each program wraps it in a global
 * function of its own context type (verified once, like the drop filter).
 */
static __always_inline int ps_rtt_run(void *data, void *data_end, const struct ps_pkt *p,
				      __u64 len, bool ingress)
{
	struct ps_rtt_flow f;
	__u32 off;

	if (!p || !ps_rtt_wants(p))
		return 0;
	off = p->l4_off;
	if (!off || off > PS_RTT_MAX_OFF)
		return 0;
	if (p->l4 == PS_L4_TCP) {
		struct tcphdr *tcp = data + off;

		/* Builds the key only where it is needed (ps_rtt_ts_maybe_in). */
		if ((void *)(tcp + 1) <= data_end)
			ps_rtt_tcp(&f, p, data, tcp, data_end, len, off, ingress);
	} else if (!ps_rtt_key(&f, p, data, data_end, ingress)) {
		ps_rtt_icmp(&f, data + off, data_end, ingress);
	}
	return 0;
}

#endif /* __bpf__ */
#endif /* PKTSCOPE_RTT_H */
