/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The one packet parser, shared by the XDP and the TC programs.  Include it
 * after vmlinux.h and the libbpf BPF headers.
 *
 * It reads Ethernet, up to two VLAN tags (802.1Q / 802.1ad, any order), ARP,
 * IPv4 (options, fragments), IPv6 (a bounded walk over extension headers,
 * fragments), TCP, UDP, ICMP and ICMPv6, using direct packet access only.
 *
 * Classification rules (also in the README):
 *  - L3 comes from the (innermost parsed) EtherType; L4 from the IP protocol
 *    or the last IPv6 Next Header, once the L3 header itself was valid.
 *  - A non-first fragment is counted under its IP protocol (so fragmented
 *    UDP bytes are UDP bytes) but its L4 header is not read: there is none.
 *  - "truncated" means a header did not fit in the packet; "malformed" means
 *    it fit but a field is impossible (version, IHL < 5, total length below
 *    the header length, TCP data offset < 5, UDP length < 8).
 *  - Deliberate stops, not errors: a third VLAN tag (L3 other), an IPv6
 *    extension chain longer than PS_IPV6_EXT_MAX (L4 other), and IPv6
 *    "no next header" (L4 none).
 */
#ifndef PKTSCOPE_PARSE_H
#define PKTSCOPE_PARSE_H

#include "pktscope.h"

#define PS_ETH_P_IP	0x0800
#define PS_ETH_P_ARP	0x0806
#define PS_ETH_P_8021Q	0x8100
#define PS_ETH_P_8021AD	0x88A8
#define PS_ETH_P_IPV6	0x86DD

#define PS_IPPROTO_HOPOPTS	0
#define PS_IPPROTO_ICMP		1
#define PS_IPPROTO_TCP		6
#define PS_IPPROTO_UDP		17
#define PS_IPPROTO_ROUTING	43
#define PS_IPPROTO_FRAGMENT	44
#define PS_IPPROTO_AH		51
#define PS_IPPROTO_ICMPV6	58
#define PS_IPPROTO_NONE		59
#define PS_IPPROTO_DSTOPTS	60

/* Extension headers walked before giving up (deliberate stop, L4 other). */
#define PS_IPV6_EXT_MAX		8

/* Bits in ps_pkt.flags past the counted ones (PS_F_VLAN1.. in pktscope.h) */
#define PS_F_LATERFRAG	(1u << 6)	/* non-first fragment: no L4 header */
#define PS_F_BAD	(1u << 7)	/* bad != 0: one test of flags covers it */

enum ps_bad {
	PS_BAD_NONE = 0,
	PS_BAD_TRUNC,
	PS_BAD_MALFORMED,
};

/* The parser's result; BPF-internal, never crosses into user space. */
struct ps_pkt {
	__u8 l3;		/* enum ps_l3 */
	__u8 l4;		/* enum ps_l4 */
	__u8 bad;		/* enum ps_bad */
	__u8 bad_layer;		/* enum ps_layer, valid when bad != 0 */
	__u8 ip_proto;		/* IP protocol / last IPv6 next header */
	__u8 _pad;
	__u16 dport;		/* TCP/UDP destination port, host order, once
				 * that header was found whole and valid; else 0 */
	__u32 flags;		/* PS_F_* */
	__u16 l3_off;		/* offset of the IP/ARP header */
	__u16 l4_off;		/* offset of the L4 header (0 when none) */
};

struct ps_vlan_hdr {
	__be16 tci;
	__be16 proto;
};

struct ps_ip6_ext {
	__u8 nexthdr;
	__u8 hdrlen;
};

struct ps_ip6_frag {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off;	/* offset in 8-byte units << 3 | flags */
	__be32 id;
};

static __always_inline int ps_bad(struct ps_pkt *p, int kind, int layer)
{
	p->bad = kind;
	p->bad_layer = layer;
	p->flags |= PS_F_BAD;
	return 0;
}

static __always_inline int ps_l4_from_proto(__u8 proto)
{
	switch (proto) {
	case PS_IPPROTO_TCP:	return PS_L4_TCP;
	case PS_IPPROTO_UDP:	return PS_L4_UDP;
	case PS_IPPROTO_ICMP:	return PS_L4_ICMP;
	case PS_IPPROTO_ICMPV6:	return PS_L4_ICMPV6;
	case PS_IPPROTO_NONE:	return PS_L4_NONE;
	default:		return PS_L4_OTHER;
	}
}

/*
 * The L4 header of IP protocol proto at off: classified (the mapping of
 * ps_l4_from_proto) and checked in one switch, so the common packet takes
 * one multi-way branch here, not one to classify and one to check; sets bad
 * on truncation or an impossible field.
 */
static __always_inline int ps_parse_l4(struct ps_pkt *p, void *data,
				       void *data_end, __u32 off, __u8 proto)
{
	void *h = data + off;

	switch (proto) {
	case PS_IPPROTO_TCP: {
		struct tcphdr *tcp = h;
		__u32 doff;

		p->l4 = PS_L4_TCP;
		p->l4_off = off;
		if ((void *)(tcp + 1) > data_end)
			return ps_bad(p, PS_BAD_TRUNC, PS_LAYER_TCP);
		doff = tcp->doff;
		if (doff < 5)
			return ps_bad(p, PS_BAD_MALFORMED, PS_LAYER_TCP);
		if (h + doff * 4 > data_end)
			return ps_bad(p, PS_BAD_TRUNC, PS_LAYER_TCP);
		p->dport = bpf_ntohs(tcp->dest);
		return 0;
	}
	case PS_IPPROTO_UDP: {
		struct udphdr *udp = h;

		p->l4 = PS_L4_UDP;
		p->l4_off = off;
		if ((void *)(udp + 1) > data_end)
			return ps_bad(p, PS_BAD_TRUNC, PS_LAYER_UDP);
		if (bpf_ntohs(udp->len) < sizeof(*udp))
			return ps_bad(p, PS_BAD_MALFORMED, PS_LAYER_UDP);
		p->dport = bpf_ntohs(udp->dest);
		return 0;
	}
	case PS_IPPROTO_ICMP:
		/* Every ICMPv4 message has the 8-byte header of RFC 792. */
		p->l4 = PS_L4_ICMP;
		p->l4_off = off;
		if (h + 8 > data_end)
			return ps_bad(p, PS_BAD_TRUNC, PS_LAYER_ICMP);
		return 0;
	case PS_IPPROTO_ICMPV6:
		/* RFC 4443: type, code, checksum; the body depends on the type. */
		p->l4 = PS_L4_ICMPV6;
		p->l4_off = off;
		if (h + 4 > data_end)
			return ps_bad(p, PS_BAD_TRUNC, PS_LAYER_ICMPV6);
		return 0;
	case PS_IPPROTO_NONE:
		p->l4 = PS_L4_NONE;
		return 0;
	default:
		p->l4 = PS_L4_OTHER;
		return 0;
	}
}

static __always_inline int ps_parse_ipv4(struct ps_pkt *p, void *data,
					 void *data_end, __u32 off)
{
	struct iphdr *ip = data + off;
	__u32 hlen = sizeof(*ip);
	__u8 vihl;

	if ((void *)(ip + 1) > data_end)
		return ps_bad(p, PS_BAD_TRUNC, PS_LAYER_IPV4);
	/* Version 4 with a 20-byte header, nearly every packet: one test. */
	vihl = *(__u8 *)ip;
	if (vihl != 0x45) {
		if ((vihl >> 4) != 4 || (vihl & 15) < 5)
			return ps_bad(p, PS_BAD_MALFORMED, PS_LAYER_IPV4);
		hlen = (vihl & 15) * 4;
		if ((void *)ip + hlen > data_end)
			return ps_bad(p, PS_BAD_TRUNC, PS_LAYER_IPV4);
	}
	if (bpf_ntohs(ip->tot_len) < hlen)
		return ps_bad(p, PS_BAD_MALFORMED, PS_LAYER_IPV4);
	if (hlen > sizeof(*ip))
		p->flags |= PS_F_V4OPT;

	p->ip_proto = ip->protocol;
	/* MF set or a non-zero offset: a fragment. */
	if (ip->frag_off & bpf_htons(0x3fff)) {
		p->flags |= PS_F_V4FRAG;
		if (ip->frag_off & bpf_htons(0x1fff)) {
			p->flags |= PS_F_LATERFRAG;
			p->l4 = ps_l4_from_proto(ip->protocol);
			return 0;
		}
	}
	return ps_parse_l4(p, data, data_end, off + hlen, ip->protocol);
}

static __always_inline int ps_parse_ipv6(struct ps_pkt *p, void *data,
					 void *data_end, __u32 off)
{
	struct ipv6hdr *ip6 = data + off;
	__u8 nh;
	int i;

	if ((void *)(ip6 + 1) > data_end)
		return ps_bad(p, PS_BAD_TRUNC, PS_LAYER_IPV6);
	if (ip6->version != 6)
		return ps_bad(p, PS_BAD_MALFORMED, PS_LAYER_IPV6);

	nh = ip6->nexthdr;
	off += sizeof(*ip6);

#pragma unroll
	for (i = 0; i < PS_IPV6_EXT_MAX; i++) {
		struct ps_ip6_ext *ext = data + off;
		__u32 len;

		if (nh != PS_IPPROTO_HOPOPTS && nh != PS_IPPROTO_ROUTING &&
		    nh != PS_IPPROTO_DSTOPTS && nh != PS_IPPROTO_FRAGMENT &&
		    nh != PS_IPPROTO_AH)
			break;
		p->flags |= PS_F_V6EXT;
		if (nh == PS_IPPROTO_FRAGMENT) {
			struct ps_ip6_frag *fh = data + off;

			if ((void *)(fh + 1) > data_end)
				return ps_bad(p, PS_BAD_TRUNC, PS_LAYER_IPV6_EXT);
			p->flags |= PS_F_V6FRAG;
			nh = fh->nexthdr;
			off += sizeof(*fh);
			if (fh->frag_off & bpf_htons(0xfff8)) {
				p->flags |= PS_F_LATERFRAG;
				p->ip_proto = nh;
				p->l4 = ps_l4_from_proto(nh);
				return 0;
			}
			continue;
		}
		if ((void *)(ext + 1) > data_end)
			return ps_bad(p, PS_BAD_TRUNC, PS_LAYER_IPV6_EXT);
		/* AH counts its length in 4-byte units minus 2 (RFC 4302). */
		if (nh == PS_IPPROTO_AH)
			len = (ext->hdrlen + 2) * 4;
		else
			len = (ext->hdrlen + 1) * 8;
		nh = ext->nexthdr;
		if (data + off + len > data_end)
			return ps_bad(p, PS_BAD_TRUNC, PS_LAYER_IPV6_EXT);
		off += len;
	}
	p->ip_proto = nh;
	if (i == PS_IPV6_EXT_MAX &&
	    (nh == PS_IPPROTO_HOPOPTS || nh == PS_IPPROTO_ROUTING ||
	     nh == PS_IPPROTO_DSTOPTS || nh == PS_IPPROTO_FRAGMENT ||
	     nh == PS_IPPROTO_AH)) {
		/* Chain longer than we walk: stop on purpose. */
		p->l4 = PS_L4_OTHER;
		return 0;
	}
	return ps_parse_l4(p, data, data_end, off, nh);
}

/* The network layer at off, of EtherType proto (network order). */
static __always_inline int ps_parse_l3(struct ps_pkt *p, void *data, void *data_end, __u32 off,
				       __u16 proto)
{
	p->l3_off = off;
	switch (proto) {
	case bpf_htons(PS_ETH_P_IP):
		p->l3 = PS_L3_IPV4;
		return ps_parse_ipv4(p, data, data_end, off);
	case bpf_htons(PS_ETH_P_IPV6):
		p->l3 = PS_L3_IPV6;
		return ps_parse_ipv6(p, data, data_end, off);
	case bpf_htons(PS_ETH_P_ARP):
		p->l3 = PS_L3_ARP;
		/* The fixed part: hardware/protocol types, lengths, opcode. */
		if (data + off + 8 > data_end)
			return ps_bad(p, PS_BAD_TRUNC, PS_LAYER_ARP);
		return 0;
	default:
		/* Includes a third VLAN tag: deliberately not walked. */
		return 0;
	}
}

/*
 * The result before parsing: nothing found (L3 other, L4 none), every other
 * field and the padding zero (the filter function reads p as a whole).  The
 * parse steps below only ever set what they find on top of it.
 */
static __always_inline void ps_pkt_init(struct ps_pkt *p)
{
	__builtin_memset(p, 0, sizeof(*p));
	p->l3 = PS_L3_OTHER;
	p->l4 = PS_L4_NONE;
}

/*
 * Parse the frame in [data, data_end).  Always fills p (l3/l4 default to
 * other/none); the return value is unused by callers and exists so the
 * helpers above can "return ps_bad(...)" in one statement.
 */
static __always_inline int ps_parse(struct ps_pkt *p, void *data, void *data_end)
{
	struct ethhdr *eth = data;
	__u32 off = sizeof(*eth);
	__u16 proto;
	int i;

	ps_pkt_init(p);

	if ((void *)(eth + 1) > data_end)
		return ps_bad(p, PS_BAD_TRUNC, PS_LAYER_ETH);
	proto = eth->h_proto;

#pragma unroll
	for (i = 0; i < 2; i++) {
		struct ps_vlan_hdr *vh = data + off;

		if (proto != bpf_htons(PS_ETH_P_8021Q) &&
		    proto != bpf_htons(PS_ETH_P_8021AD))
			break;
		if ((void *)(vh + 1) > data_end)
			return ps_bad(p, PS_BAD_TRUNC, PS_LAYER_VLAN);
		p->flags |= i ? PS_F_VLAN2 : PS_F_VLAN1;
		proto = vh->proto;
		off += sizeof(*vh);
	}

	return ps_parse_l3(p, data, data_end, off, proto);
}

#endif /* PKTSCOPE_PARSE_H */
