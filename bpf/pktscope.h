/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The kernel/user contract of pktscope's packet accounting.
 *
 * Everything here is included both by BPF programs (after vmlinux.h) and by
 * user space (after <linux/types.h>).  Only fixed-width types, explicit
 * padding, and a size assert beside every struct.  Bump PS_LAYOUT_VERSION
 * whenever a struct or an enum below changes: a reader refuses a pinned map
 * whose version it does not know instead of misreading it.
 */
#ifndef PKTSCOPE_H
#define PKTSCOPE_H

#define PS_LAYOUT_VERSION	2
#define PS_MAGIC		0x70736370u	/* "pscp" */

/* Key of the per-CPU stats array: where the packet was seen. */
enum ps_dir {
	PS_DIR_XDP	= 0,	/* XDP, ingress */
	PS_DIR_TC_IN	= 1,	/* TC clsact ingress */
	PS_DIR_TC_OUT	= 2,	/* TC clsact egress */
	PS_DIR_MAX
};

enum ps_l3 {
	PS_L3_IPV4 = 0,
	PS_L3_IPV6,
	PS_L3_ARP,
	PS_L3_OTHER,
	PS_L3_MAX
};

enum ps_l4 {
	PS_L4_TCP = 0,
	PS_L4_UDP,
	PS_L4_ICMP,
	PS_L4_ICMPV6,
	PS_L4_OTHER,	/* IP with another protocol, or a non-first fragment */
	PS_L4_NONE,	/* no L4 at all: ARP, non-IP, or parsing stopped before it */
	PS_L4_MAX
};

/* The program's own verdict (XDP action, or TC_ACT_OK / TC_ACT_SHOT mapped). */
enum ps_verdict {
	PS_V_ABORTED = 0,	/* numbered like enum xdp_action */
	PS_V_DROP,
	PS_V_PASS,
	PS_V_TX,
	PS_V_REDIRECT,
	PS_V_MAX
};

/* The layer at which parsing stopped for a truncated or malformed packet. */
enum ps_layer {
	PS_LAYER_ETH = 0,
	PS_LAYER_VLAN,
	PS_LAYER_ARP,
	PS_LAYER_IPV4,
	PS_LAYER_IPV6,
	PS_LAYER_IPV6_EXT,
	PS_LAYER_TCP,
	PS_LAYER_UDP,
	PS_LAYER_ICMP,
	PS_LAYER_ICMPV6,
	PS_LAYER_MAX
};

/*
 * Packet size histogram.  Bucket i holds sizes in [bound[i], bound[i+1]).
 * The bounds are chosen so that the frame sizes people reason about land in
 * distinct buckets: 64, 128, 256, 512, 576 (IPv4 minimum reassembly), 1024,
 * 1280 (IPv6 minimum MTU), 1500, 1514 (1500 MTU + Ethernet header), 4096 and
 * 9000 (jumbo).  The last bucket is open-ended so GSO/GRO super-packets seen
 * at TC (up to 64 KiB and beyond with BIG TCP) are counted, never dropped.
 *
 * The table is padded with ~0 up to PS_HIST_SLOTS (a power of two) so that
 * the BPF side can binary-search it in a fixed number of steps.
 */
#define PS_HIST_BUCKETS	18
#define PS_HIST_SLOTS	32
#define PS_HB1	64
#define PS_HB2	128
#define PS_HB3	256
#define PS_HB4	512
#define PS_HB5	576
#define PS_HB6	1024
#define PS_HB7	1280
#define PS_HB8	1500
#define PS_HB9	1514
#define PS_HB10	2048
#define PS_HB11	4096
#define PS_HB12	8192
#define PS_HB13	9000
#define PS_HB14	16384
#define PS_HB15	32768
#define PS_HB16	65536
#define PS_HB17	131072
#define PS_HIST_BOUNDS_INIT {						\
	0, PS_HB1, PS_HB2, PS_HB3, PS_HB4, PS_HB5, PS_HB6, PS_HB7,	\
	PS_HB8, PS_HB9, PS_HB10, PS_HB11, PS_HB12, PS_HB13, PS_HB14,	\
	PS_HB15, PS_HB16, PS_HB17,					\
	~0u, ~0u, ~0u, ~0u, ~0u, ~0u, ~0u, ~0u,				\
	~0u, ~0u, ~0u, ~0u, ~0u, ~0u }

/*
 * Bucket of a size: the largest i with bound[i] <= len.  A balanced tree of
 * comparisons with constants (at most 5, no memory loads), generated from
 * the same PS_HBn bounds as the table the printer uses.
 */
static inline __u32 ps_hist_bucket(__u64 len)
{
	if (len < PS_HB9) {
		if (len < PS_HB5) {
			if (len < PS_HB3)
				return len < PS_HB1 ? 0 : len < PS_HB2 ? 1 : 2;
			return len < PS_HB4 ? 3 : 4;
		}
		if (len < PS_HB7)
			return len < PS_HB6 ? 5 : 6;
		return len < PS_HB8 ? 7 : 8;
	}
	if (len < PS_HB13) {
		if (len < PS_HB11)
			return len < PS_HB10 ? 9 : 10;
		return len < PS_HB12 ? 11 : 12;
	}
	if (len < PS_HB15)
		return len < PS_HB14 ? 13 : 14;
	if (len < PS_HB16)
		return 15;
	return len < PS_HB17 ? 16 : 17;
}

/*
 * What a packet carries besides its class, the low bits of the parser's
 * flags: each combination has its own counter (ps_pcpu_counters.flagsets),
 * so a tagged, fragmented or optioned packet costs one counter update
 * however many of these it has.
 */
#define PS_F_VLAN1	(1u << 0)	/* one VLAN tag (or more) */
#define PS_F_VLAN2	(1u << 1)	/* a second VLAN tag */
#define PS_F_V4FRAG	(1u << 2)	/* IPv4 fragment, first or later */
#define PS_F_V6FRAG	(1u << 3)	/* IPv6 with a fragment header */
#define PS_F_V4OPT	(1u << 4)	/* IPv4 header longer than 20 bytes */
#define PS_F_V6EXT	(1u << 5)	/* IPv6 with >= 1 extension header */
#define PS_FLAGSETS	64		/* combinations of the bits above */

/*
 * A packet's class, its (L3, L4) pair: the index of the per-class counters
 * of struct ps_pcpu_counters.
 */
#define PS_CLS_MAX	(PS_L3_MAX * PS_L4_MAX)

static inline __u32 ps_cls(__u32 l3, __u32 l4)
{
	return l3 * PS_L4_MAX + l4;
}

/*
 * One per-CPU value of the stats array as the programs write it, one array
 * slot per enum ps_dir.  Packets and bytes are counted once, per class; the
 * totals and the per-L3 and per-L4 figures of struct ps_counters are sums
 * of them (ps_counters_add), so the per-packet step updates two counters
 * where it updated six.
 */
struct ps_pcpu_counters {
	__u64 cls_pkts[PS_CLS_MAX];
	__u64 cls_bytes[PS_CLS_MAX];
	__u64 verdict[PS_V_MAX];
	__u64 truncated[PS_LAYER_MAX];	/* header did not fit in the packet */
	__u64 malformed[PS_LAYER_MAX];	/* header fit but a field was invalid */
	__u64 flagsets[PS_FLAGSETS];	/* by the packet's PS_F_VLAN1..V6EXT bits */
	__u64 hist[PS_HIST_SLOTS];	/* only PS_HIST_BUCKETS are used */
};
_Static_assert(sizeof(struct ps_pcpu_counters) ==
	       8 * (2 * PS_CLS_MAX + PS_V_MAX + 2 * PS_LAYER_MAX + PS_FLAGSETS + PS_HIST_SLOTS),
	       "struct ps_pcpu_counters has padding or a changed layout");

/* The counters of one direction as readers see them (all CPUs summed). */
struct ps_counters {
	__u64 pkts;
	__u64 bytes;
	__u64 l3_pkts[PS_L3_MAX];
	__u64 l3_bytes[PS_L3_MAX];
	__u64 l4_pkts[PS_L4_MAX];
	__u64 l4_bytes[PS_L4_MAX];
	__u64 verdict[PS_V_MAX];
	__u64 truncated[PS_LAYER_MAX];	/* header did not fit in the packet */
	__u64 malformed[PS_LAYER_MAX];	/* header fit but a field was invalid */
	__u64 vlan;			/* packets with one VLAN tag */
	__u64 qinq;			/* packets with two VLAN tags */
	__u64 ipv4_frag;		/* IPv4 fragments (first and later) */
	__u64 ipv6_frag;		/* IPv6 with a fragment header */
	__u64 ipv4_options;		/* IPv4 headers longer than 20 bytes */
	__u64 ipv6_ext;			/* IPv6 with >= 1 extension header */
	__u64 hist[PS_HIST_SLOTS];	/* only PS_HIST_BUCKETS are used */
};
_Static_assert(sizeof(struct ps_counters) ==
	       8 * (2 + 2 * PS_L3_MAX + 2 * PS_L4_MAX + PS_V_MAX +
		    2 * PS_LAYER_MAX + 6 + PS_HIST_SLOTS),
	       "struct ps_counters has padding or a changed layout");

#ifndef __bpf__
/* Add one per-CPU value v to c: its own counters, and the sums of its classes and flag sets. */
static inline void ps_counters_add(struct ps_counters *c, const struct ps_pcpu_counters *v)
{
	int i;

	for (i = 0; i < PS_CLS_MAX; i++) {
		c->pkts += v->cls_pkts[i];
		c->bytes += v->cls_bytes[i];
		c->l3_pkts[i / PS_L4_MAX] += v->cls_pkts[i];
		c->l3_bytes[i / PS_L4_MAX] += v->cls_bytes[i];
		c->l4_pkts[i % PS_L4_MAX] += v->cls_pkts[i];
		c->l4_bytes[i % PS_L4_MAX] += v->cls_bytes[i];
	}
	for (i = 0; i < PS_V_MAX; i++)
		c->verdict[i] += v->verdict[i];
	for (i = 0; i < PS_LAYER_MAX; i++) {
		c->truncated[i] += v->truncated[i];
		c->malformed[i] += v->malformed[i];
	}
	for (i = 1; i < PS_FLAGSETS; i++) {
		__u64 n = v->flagsets[i];

		if (i & PS_F_VLAN2)
			c->qinq += n;
		else if (i & PS_F_VLAN1)
			c->vlan += n;
		if (i & PS_F_V4FRAG)
			c->ipv4_frag += n;
		if (i & PS_F_V6FRAG)
			c->ipv6_frag += n;
		if (i & PS_F_V4OPT)
			c->ipv4_options += n;
		if (i & PS_F_V6EXT)
			c->ipv6_ext += n;
	}
	for (i = 0; i < PS_HIST_SLOTS; i++)
		c->hist[i] += v->hist[i];
}
#endif

/* Flags in ps_meta.flags. */
#define PS_META_XDP		(1u << 0)	/* XDP program attached */
#define PS_META_TC_IN		(1u << 1)	/* TC ingress filter attached */
#define PS_META_TC_OUT		(1u << 2)	/* TC egress filter attached */
#define PS_META_CLSACT_OURS	(1u << 3)	/* pktscope created the clsact qdisc */
#define PS_META_ATTACHING	(1u << 4)	/* attach not finished (ctl/attach.c) */
#define PS_META_TCX		(1u << 5)	/* TC through TCX links, not filters (--tcx) */

enum ps_xdp_mode {
	PS_XDP_MODE_NONE = 0,
	PS_XDP_MODE_NATIVE,
	PS_XDP_MODE_GENERIC,
};

#define PS_IFNAMSIZ 16

/*
 * The single value of the pinned "meta" array: what was attached, where and
 * how, written by `pktscope attach` and read by status/stats/detach.
 */
struct ps_meta {
	__u32 magic;			/* PS_MAGIC */
	__u32 layout_version;		/* PS_LAYOUT_VERSION of the writer */
	__u32 counters_size;		/* sizeof(struct ps_pcpu_counters) */
	__u32 flags;			/* PS_META_* */
	__u64 netns_ino;		/* inode of the network namespace */
	__u32 ifindex;
	__u32 xdp_mode;			/* enum ps_xdp_mode */
	__u32 xdp_prog_id;
	__u32 tc_in_prog_id;
	__u32 tc_out_prog_id;
	__u32 tc_handle;
	__u32 tc_priority;
	__u32 _pad0;
	__u64 attach_time;		/* CLOCK_REALTIME seconds */
	char ifname[PS_IFNAMSIZ];
};
_Static_assert(sizeof(struct ps_meta) == 80, "struct ps_meta layout changed");

#endif /* PKTSCOPE_H */
