/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Drop accounting and the drop filter: structs shared by the BPF programs
 * (after vmlinux.h) and user space (after <linux/types.h>).
 *
 * The filter maps are pinned beside an attachment's stats; their sizes are
 * checked by the reader (value size and entries), so a change here needs no
 * PS_LAYOUT_VERSION bump, only a new PS_FILTER_VERSION.
 */
#ifndef PKTSCOPE_DROPS_H
#define PKTSCOPE_DROPS_H

#include "pktscope.h"

#define PS_FILTER_VERSION	2
#define PS_RULES_MAX		16	/* rule ids are 1..PS_RULES_MAX (slot + 1) */

/* Where a rule applies (ps_rule.dirs). */
#define PS_RULE_INGRESS		(1u << 0)
#define PS_RULE_EGRESS		(1u << 1)

/* Which fields of a rule must match (ps_rule.match). */
#define PS_RM_PROTO		(1u << 0)
#define PS_RM_SPORT		(1u << 1)
#define PS_RM_DPORT		(1u << 2)
#define PS_RM_SRC		(1u << 3)
#define PS_RM_DST		(1u << 4)

enum ps_rule_mode {
	PS_RULE_ALL = 0,	/* drop every matching packet */
	PS_RULE_EVERY,		/* drop the N-th, 2N-th, ... matching packet */
	PS_RULE_RATE,		/* drop with probability thresh / 2^32 */
};

/*
 * One slot of the "filter_rules" array.  Written by user space only while
 * its bit is clear in every mask of ps_filter_ctl; "seen" is the one field
 * the programs write (atomically, shared by all CPUs, EVERY mode only).
 */
struct ps_rule {
	__u8 active;
	__u8 dirs;		/* PS_RULE_INGRESS | PS_RULE_EGRESS */
	__u8 match;		/* PS_RM_* */
	__u8 mode;		/* enum ps_rule_mode */
	__u8 family;		/* 0 (any), 4 or 6: set by --src/--dst */
	__u8 proto;		/* IP protocol (IPv6: last next header) */
	__u8 src_prefix;
	__u8 dst_prefix;
	__u16 sport;		/* host order */
	__u16 dport;
	__u32 every;		/* PS_RULE_EVERY */
	__u64 thresh;		/* PS_RULE_RATE: drop when prandom_u32 < thresh */
	__u8 src[16];		/* network order, host bits already cleared */
	__u8 dst[16];
	__u64 seen;		/* matching packets, EVERY mode (atomic) */
	__u64 created;		/* CLOCK_REALTIME seconds */
	__u32 rate_ppm;		/* the --rate given, for listing */
	__u32 _pad;
};
_Static_assert(sizeof(struct ps_rule) == 80, "struct ps_rule layout changed");

/*
 * The one value of "filter_ctl": per enum ps_dir, the bitmask of rule slots
 * to try.  An ingress rule is set in the XDP mask when XDP is attached, else
 * in the TC ingress mask, so a packet is judged once.  With no rules a
 * packet costs one array lookup and one branch.
 *
 * skip[dir] is a prefilter on the destination port, written with the mask
 * (ps_filter_skip below): bit b set means that no rule of mask[dir] can
 * match a packet whose destination port is b modulo 64, or that has no
 * port at all (b = 0).  Such a packet is passed without trying the rules:
 * the rule walk costs more than the whole accounting step, and most packets
 * match no drop rule.  It is 0 (try every packet) as soon as one rule of the
 * mask names no destination port.
 */
struct ps_filter_ctl {
	__u32 mask[PS_DIR_MAX];
	__u32 version;		/* PS_FILTER_VERSION */
	__u64 skip[PS_DIR_MAX];
};
_Static_assert(sizeof(struct ps_filter_ctl) == 40, "struct ps_filter_ctl layout changed");

#ifndef __bpf__
/*
 * The skip bits for the rules of mask (rules: all PS_RULES_MAX slots).  A
 * rule that is not active matches nothing and adds nothing.  Only ever a
 * subset of what can be skipped: a packet it skips matches no rule.
 */
static inline __u64 ps_filter_skip(const struct ps_rule *rules, __u32 mask)
{
	__u64 need = 0;
	int i;

	for (i = 0; i < PS_RULES_MAX; i++) {
		if (!(mask & (1u << i)) || !rules[i].active)
			continue;
		if (!(rules[i].match & PS_RM_DPORT))
			return 0;
		need |= 1ull << (rules[i].dport & 63);
	}
	return ~need;
}
#endif

/* Per-CPU counters of "filter_stats", key slot * PS_DIR_MAX + dir. */
struct ps_rule_stats {
	__u64 matched;
	__u64 dropped;
	__u64 dropped_bytes;
};
_Static_assert(sizeof(struct ps_rule_stats) == 24, "struct ps_rule_stats layout changed");

#define PS_RULE_STATS_ENTRIES	(PS_RULES_MAX * PS_DIR_MAX)

/* ---- kernel drop accounting (bpf/drops.bpf.c) ---- */

/* What produced a drop record (ps_drop_key.kind). */
enum ps_drop_kind {
	PS_DK_SKB = 0,		/* skb:kfree_skb, reason = enum skb_drop_reason */
	PS_DK_XDP_EXCEPTION,	/* xdp:xdp_exception, reason = XDP action */
	PS_DK_XDP_REDIRECT_ERR,	/* xdp:xdp_redirect_err, reason = -errno */
	PS_DK_MAX
};

struct ps_drop_key {
	__u32 ifindex;		/* 0: the skb had no device */
	__u32 reason;
	__u32 prog_id;		/* XDP kinds: the program; 0 otherwise */
	__u16 l3proto;		/* EtherType, host order (skb kinds) */
	__u8 l4proto;		/* IP protocol when the IP header was readable */
	__u8 kind;		/* enum ps_drop_kind */
};
_Static_assert(sizeof(struct ps_drop_key) == 16, "struct ps_drop_key layout changed");

/* Per-CPU value of "drop_counts". */
struct ps_drop_val {
	__u64 pkts;
	__u64 bytes;		/* skb->len; 0 for the XDP kinds */
};
_Static_assert(sizeof(struct ps_drop_val) == 16, "struct ps_drop_val layout changed");

struct ps_drop_loc_key {
	__u64 location;		/* kernel address that freed the skb */
	__u32 reason;
	__u32 _pad;
};
_Static_assert(sizeof(struct ps_drop_loc_key) == 16, "struct ps_drop_loc_key layout changed");

/* One record of the "--events" ring buffer. */
struct ps_drop_event {
	__u64 ts_ns;		/* bpf_ktime_get_ns() */
	__u64 location;
	__u32 ifindex;
	__u32 reason;
	__u32 prog_id;
	__u16 l3proto;
	__u8 l4proto;
	__u8 kind;
	__u8 saddr[16];		/* IPv4 in the first 4 bytes */
	__u8 daddr[16];
	__u16 sport;		/* host order, 0 when unknown */
	__u16 dport;
	__u8 has_addr;		/* addresses are valid */
	__u8 has_ports;
	__u8 _pad[2];
	__u32 len;		/* skb->len */
	__u32 _pad2;
};
_Static_assert(sizeof(struct ps_drop_event) == 80, "struct ps_drop_event layout changed");

/*
 * The persistent mode (`drops --persist attach`) pins "drop_counts",
 * "drop_misc", "drop_ifnames" and this one-entry "drops_meta" under
 * PS_PIN_ROOT/drops-<netns inode>/.  A reader checks magic and version
 * and refuses what it does not know.
 */
#define PS_DROPS_MAGIC		0x70734472u	/* "psDr" */
#define PS_DROPS_LAYOUT_VERSION	1
/*
 * Bound of "drop_counts": a key is (ifindex, reason, kind, prog, l3, l4),
 * so 4096 holds e.g. 16 interfaces x 32 reasons x 8 protocols.  An LRU: at
 * the bound the least recently bumped entry goes (its counter restarts).
 */
#define PS_DROP_COUNTS_MAX	4096
#define PS_DROP_IFNAMES_MAX	1024

struct ps_drops_meta {
	__u32 magic;		/* PS_DROPS_MAGIC */
	__u32 layout_version;	/* PS_DROPS_LAYOUT_VERSION */
	__u64 netns_ino;
	__u64 attach_time;	/* CLOCK_REALTIME seconds */
	__u32 max_entries;	/* of drop_counts */
	__u32 key_size;		/* sizeof(struct ps_drop_key) */
};
_Static_assert(sizeof(struct ps_drops_meta) == 32, "struct ps_drops_meta layout changed");

/* Value of "drop_ifnames" (key: ifindex): the device name when first seen. */
struct ps_drop_ifname {
	char name[16];
};
_Static_assert(sizeof(struct ps_drop_ifname) == 16, "struct ps_drop_ifname layout changed");

/* Events above the rate limit are only counted: map "drop_misc", key 0. */
struct ps_drop_misc {
	__u64 events_suppressed;
	__u64 other_netns;	/* drops in namespaces we do not watch */
	__u64 no_netns;		/* drops with neither device nor socket */
};
_Static_assert(sizeof(struct ps_drop_misc) == 24, "struct ps_drop_misc layout changed");

#endif /* PKTSCOPE_DROPS_H */
