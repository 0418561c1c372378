/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The drop filter, shared by the XDP and the TC programs: rules in a small
 * array, tried in slot order; the first rule that drops a packet counts it.
 *
 * Include after vmlinux.h, the libbpf headers and parse.h.  The maps are
 * declared in both objects; user space creates them once (TC object) and
 * hands their fds to the XDP object, like the stats maps of account.h.
 */
#ifndef PKTSCOPE_FILTER_H
#define PKTSCOPE_FILTER_H

#include "drops.h"
#include "parse.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PS_RULES_MAX);
	__type(key, __u32);
	__type(value, struct ps_rule);
} ps_rules SEC(".maps");

/*
 * The one value of "filter_ctl", a global of its own data section: libbpf
 * makes the section a one-entry array map of exactly this struct (the
 * skeleton's maps.data_fctl), user space writes it like any map, and the
 * programs read it with plain loads, not a lookup, on every packet.
 */
struct ps_filter_ctl ps_fctl SEC(".data.fctl");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PS_RULE_STATS_ENTRIES);
	__type(key, __u32);
	__type(value, struct ps_rule_stats);
} ps_fstats SEC(".maps");

/*
 * Farthest header offset the filter reads.  The parser stops at the same
 * depth in practice (two VLAN tags, eight IPv6 extension headers); the bound
 * is what lets the verifier accept a variable offset into the packet.
 */
#define PS_FILTER_MAX_OFF	1024

/*
 * What the rules match on.  Nothing is copied: the rules read the addresses
 * where they are, in the IP header the parser has already checked, and only
 * when a rule names an address.  (An earlier version filled a 40-byte flow
 * struct before the first rule: about 5 ns per packet at XDP, more than the
 * whole accounting step.)
 */
struct ps_flow {
	__u32 saddr_off;	/* offsets in the packet, network order */
	__u32 daddr_off;
	__u32 words;		/* 32-bit words of an address: 1 (IPv4) or 4 */
	__u32 family;		/* 0: not IP, 4 or 6 */
	__u32 has_ports;
	__u16 sport;		/* network order */
	__u16 dport;
};

static __always_inline void ps_flow_read(struct ps_flow *f, const struct ps_pkt *p,
					 void *data, void *data_end)
{
	__u32 off = p->l3_off;

	/* Every field, always: an undefined one lets clang reuse whatever
	 * register it likes, a packet pointer too, which the verifier refuses. */
	__builtin_memset(f, 0, sizeof(*f));
	if (p->bad && p->bad_layer <= PS_LAYER_IPV6)
		return;		/* the IP header itself is not trustworthy */
	if (off > PS_FILTER_MAX_OFF)
		return;
	if (p->l3 == PS_L3_IPV4) {
		struct iphdr *ip = data + off;

		if ((void *)(ip + 1) > data_end)
			return;
		f->family = 4;
		f->words = 1;
		f->saddr_off = off + offsetof(struct iphdr, saddr);
		f->daddr_off = off + offsetof(struct iphdr, daddr);
	} else if (p->l3 == PS_L3_IPV6) {
		struct ipv6hdr *ip6 = data + off;

		if ((void *)(ip6 + 1) > data_end)
			return;
		f->family = 6;
		f->words = 4;
		f->saddr_off = off + offsetof(struct ipv6hdr, saddr);
		f->daddr_off = off + offsetof(struct ipv6hdr, daddr);
	} else {
		return;
	}

	off = p->l4_off;
	if (!p->bad && off && off <= PS_FILTER_MAX_OFF &&
	    (p->l4 == PS_L4_TCP || p->l4 == PS_L4_UDP)) {
		__be16 *ports = data + off;

		if ((void *)(ports + 2) > data_end)
			return;
		f->sport = ports[0];
		f->dport = ports[1];
		f->has_ports = 1;
	}
}

/*
 * The address of words 32-bit words at off in the packet (network order)
 * lies in net/prefix; net has its host bits clear and is zero past words.
 * The header was checked whole before, but the verifier tracks that range on
 * another register: each word is checked again where it is read.
 */
static __always_inline bool ps_prefix_match(void *data, void *data_end, __u32 off,
					    __u32 words, const __u8 *net8, __u32 prefix)
{
	const __u32 *net = (const __u32 *)net8;
	const __u32 *addr;
	int i;

	if (off > PS_FILTER_MAX_OFF + 64)
		return false;
	addr = data + off;

#pragma unroll
	for (i = 0; i < 4; i++) {
		__u32 bits = prefix > 32 * i ? prefix - 32 * i : 0;
		__u32 mask;

		if (i >= words)
			break;
		if ((void *)(addr + i + 1) > data_end)
			return false;
		if (bits >= 32)
			mask = ~0u;
		else if (bits)
			mask = bpf_htonl(~0u << (32 - bits));
		else
			mask = 0;
		if ((addr[i] & mask) != net[i])
			return false;
	}
	return true;
}

/*
 * The address part of a rule, out of line: inlined, clang hoists the address
 * arithmetic of every unrolled word out of the rule loop and spills it, a
 * cost every packet paid before the first rule even when no rule names an
 * address.
 */
static __noinline bool ps_addr_match(void *data, void *data_end, const struct ps_flow *f,
				     const struct ps_rule *r)
{
	__u8 m = r->match;

	if (f->family != r->family)
		return false;
	if ((m & PS_RM_SRC) && !ps_prefix_match(data, data_end, f->saddr_off, f->words,
						r->src, r->src_prefix))
		return false;
	if ((m & PS_RM_DST) && !ps_prefix_match(data, data_end, f->daddr_off, f->words,
						r->dst, r->dst_prefix))
		return false;
	return true;
}

static __always_inline bool ps_rule_match(const struct ps_rule *r, const struct ps_pkt *p,
					  const struct ps_flow *f, void *data, void *data_end)
{
	__u8 m = r->match;

	if ((m & PS_RM_PROTO) && (!f->family || p->ip_proto != r->proto))
		return false;
	if ((m & (PS_RM_SPORT | PS_RM_DPORT)) && !f->has_ports)
		return false;
	/* The rule's ports are in host order; a swap of a register is cheaper
	 * than a load. */
	if ((m & PS_RM_SPORT) && f->sport != bpf_htons(r->sport))
		return false;
	if ((m & PS_RM_DPORT) && f->dport != bpf_htons(r->dport))
		return false;
	if (m & (PS_RM_SRC | PS_RM_DST))
		return ps_addr_match(data, data_end, f, r);
	return true;
}

/*
 * The rules of mask, in slot order; 1 when one of them drops the packet.
 * Each program wraps this in a global (non-static, __noinline) function of
 * its own context type: the verifier then checks the rule loop once, not
 * once for every parser path that reaches it (which multiplies past its
 * one-million-instruction budget).
 */
static __always_inline int ps_filter_run(void *data, void *data_end, const struct ps_pkt *p,
					 __u32 dir, __u32 mask, __u64 len)
{
	struct ps_flow f;
	__u32 i;

	if (!p || dir >= PS_DIR_MAX)
		return 0;
	ps_flow_read(&f, p, data, data_end);

	/* mask shifts down as slots are tried: the loop ends after the last rule. */
	for (i = 0; i < PS_RULES_MAX && mask; i++, mask >>= 1) {
		struct ps_rule_stats *st;
		struct ps_rule *r;
		__u32 key = i, skey;
		bool drop;

		if (!(mask & 1))
			continue;
		/* A copy for the key: i itself must stay a register the verifier tracks. */
		r = bpf_map_lookup_elem(&ps_rules, &key);
		if (!r || !r->active || !ps_rule_match(r, p, &f, data, data_end))
			continue;

		drop = true;
		if (r->mode == PS_RULE_EVERY) {
			/* Shared by all CPUs: exactly one packet in N, not one per CPU. */
			__u64 n = __sync_fetch_and_add(&r->seen, 1) + 1;
			__u32 every = r->every;

			drop = every && n % every == 0;
		} else if (r->mode == PS_RULE_RATE) {
			drop = bpf_get_prandom_u32() < r->thresh;
		}
		skey = i * PS_DIR_MAX + dir;
		st = bpf_map_lookup_elem(&ps_fstats, &skey);
		if (st) {
			st->matched++;
			if (drop) {
				st->dropped++;
				st->dropped_bytes += len;
			}
		}
		if (drop)
			return 1;
	}
	return 0;
}

/* The control word's mask of dir: the rule slots that apply there at all. */
static __always_inline __u32 ps_filter_word(__u32 dir)
{
	return dir < PS_DIR_MAX ? ps_fctl.mask[dir] : 0;
}

/*
 * The rule slots to try for packet p at dir, of mask (ps_filter_word).  The
 * common case, no rule, costs one load and one branch in the caller; with
 * rules, a packet whose destination port no rule names (skip, struct
 * ps_filter_ctl) costs a shift and a branch more, and no call.
 */
static __always_inline __u32 ps_filter_slots(__u32 dir, __u32 mask, const struct ps_pkt *p)
{
	if (mask && dir < PS_DIR_MAX && ((ps_fctl.skip[dir] >> (p->dport & 63)) & 1))
		return 0;
	return mask;
}

/* Both steps at once, where the word is read when it is needed. */
static __always_inline __u32 ps_filter_mask(__u32 dir, const struct ps_pkt *p)
{
	return ps_filter_slots(dir, ps_filter_word(dir), p);
}

#endif /* PKTSCOPE_FILTER_H */
