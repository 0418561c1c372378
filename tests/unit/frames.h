/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A small frame builder for the BPF_PROG_TEST_RUN unit tests and the
 * per-packet benchmark: headers are appended in wire order, fin() then
 * writes the length fields (IPv4 total length, IPv6 payload length, UDP
 * length) from what was built, so a test that wants an impossible field sets
 * it after fin(), and a truncated frame is a finished one cut short.
 */
#ifndef PS_TEST_FRAMES_H
#define PS_TEST_FRAMES_H

#include <stddef.h>
#include <bpf/libbpf.h>
#include <string.h>
#include <linux/types.h>

/* Room for the largest frame XDP test_run takes: one page, 17 frag pages. */
#define FRAME_MAX	(18 * 4096)

#define ETH_IP		0x0800
#define ETH_ARP		0x0806
#define ETH_IPV6	0x86DD
#define ETH_8021Q	0x8100
#define ETH_8021AD	0x88A8

#define P_HOPOPTS	0
#define P_ICMP		1
#define P_TCP		6
#define P_UDP		17
#define P_ROUTING	43
#define P_FRAGMENT	44
#define P_GRE		47
#define P_ESP		50
#define P_AH		51
#define P_ICMPV6	58
#define P_NONE		59
#define P_DSTOPTS	60

struct frame {
	__u8 b[FRAME_MAX];
	size_t len;
	long ip4, ip6, udp;	/* header offsets for fin(), -1 when absent */
};

static inline void f_init(struct frame *f)
{
	f->len = 0;
	f->ip4 = f->ip6 = f->udp = -1;
}

static inline __u8 *f_put(struct frame *f, size_t n)
{
	__u8 *p = f->b + f->len;

	if (f->len + n > FRAME_MAX)
		n = FRAME_MAX - f->len;
	memset(p, 0, n);
	f->len += n;
	return p;
}

static inline void put16(__u8 *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static inline void f_eth(struct frame *f, __u16 proto)
{
	__u8 *p = f_put(f, 14);

	memcpy(p, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
	put16(p + 12, proto);
}

/* The tag after the TPID that the previous header named: TCI, inner type. */
static inline void f_vlan(struct frame *f, __u16 vid, __u16 proto)
{
	__u8 *p = f_put(f, 4);

	put16(p, vid);
	put16(p + 2, proto);
}

static inline void f_arp(struct frame *f)
{
	__u8 *p = f_put(f, 28);

	put16(p, 1);			/* Ethernet */
	put16(p + 2, ETH_IP);
	p[4] = 6;
	p[5] = 4;
	put16(p + 6, 1);		/* request */
	memcpy(p + 8, "\x02\x00\x00\x00\x00\x01\x0a\x00\x00\x01", 10);
	memcpy(p + 24, "\x0a\x00\x00\x02", 4);
}

/* IPv4 with ihl 32-bit words of header; the options are NOPs and an EOL. */
static inline void f_ipv4(struct frame *f, __u8 proto, __u8 ihl, __u16 frag_off)
{
	size_t hlen = ihl * 4u;
	__u8 *p;

	f->ip4 = f->len;
	p = f_put(f, hlen < 20 ? 20 : hlen);
	p[0] = 0x40 | (ihl & 0xf);
	put16(p + 4, 0x1234);
	put16(p + 6, frag_off);
	p[8] = 64;
	p[9] = proto;
	memcpy(p + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
	if (hlen > 20) {
		memset(p + 20, 1, hlen - 20);
		p[hlen - 1] = 0;
	}
}

static inline void f_ipv6(struct frame *f, __u8 nexthdr)
{
	__u8 *p;

	f->ip6 = f->len;
	p = f_put(f, 40);
	p[0] = 0x60;
	p[6] = nexthdr;
	p[7] = 64;
	p[8] = 0xfd;
	p[23] = 1;
	p[24] = 0xfd;
	p[39] = 2;
}

/* Hop-by-hop, routing or destination options: (hdrlen + 1) * 8 bytes. */
static inline void f_ext6(struct frame *f, __u8 nexthdr, __u8 hdrlen)
{
	size_t len = (hdrlen + 1) * 8u;
	__u8 *p = f_put(f, len);

	p[0] = nexthdr;
	p[1] = hdrlen;
	p[2] = 1;			/* PadN over the rest */
	p[3] = len - 4;
}

static inline void f_frag6(struct frame *f, __u8 nexthdr, __u16 offset8, int more)
{
	__u8 *p = f_put(f, 8);

	p[0] = nexthdr;
	put16(p + 2, (__u16)(offset8 << 3) | (more ? 1 : 0));
	memcpy(p + 4, "\x00\x00\xbe\xef", 4);
}

/* Authentication header: payload length in 32-bit words minus 2. */
static inline void f_ah(struct frame *f, __u8 nexthdr, __u8 plen)
{
	__u8 *p = f_put(f, (plen + 2) * 4u);

	p[0] = nexthdr;
	p[1] = plen;
	memcpy(p + 4, "\x00\x00\x01\x00", 4);	/* SPI */
}

static inline void f_udp(struct frame *f)
{
	__u8 *p;

	f->udp = f->len;
	p = f_put(f, 8);
	put16(p, 40000);
	put16(p + 2, 9);
}

/* TCP with doff 32-bit words of header; options are NOPs. */
static inline void f_tcp(struct frame *f, __u8 doff)
{
	size_t hlen = doff * 4u;
	__u8 *p = f_put(f, hlen < 20 ? 20 : hlen);

	put16(p, 40000);
	put16(p + 2, 80);
	p[12] = doff << 4;
	p[13] = 0x10;			/* ACK */
	put16(p + 14, 65535);
	if (hlen > 20)
		memset(p + 20, 1, hlen - 20);
}

static inline void f_icmp(struct frame *f)
{
	__u8 *p = f_put(f, 8);

	p[0] = 8;			/* echo request */
}

static inline void f_icmp6(struct frame *f)
{
	__u8 *p = f_put(f, 8);

	p[0] = 128;			/* echo request */
}

static inline void f_payload(struct frame *f, size_t n)
{
	size_t start = f->len;
	__u8 *p = f_put(f, n);

	for (size_t i = 0; i < f->len - start; i++)
		p[i] = (__u8)(start + i);
}

static inline void f_pad_to(struct frame *f, size_t total)
{
	if (total > f->len)
		f_payload(f, total - f->len);
}

static inline void f_fin(struct frame *f)
{
	if (f->ip4 >= 0)
		put16(f->b + f->ip4 + 2, f->len - f->ip4);
	if (f->ip6 >= 0)
		put16(f->b + f->ip6 + 4, f->len - f->ip6 - 40);
	if (f->udp >= 0)
		put16(f->b + f->udp + 4, f->len - f->udp);
}

/*
 * Make obj (not loaded yet) use src's passive-RTT maps, as attach makes an
 * interface's XDP and TC objects share them: what one program records, the
 * other's ingress side answers.
 */
static inline int share_rtt_maps(struct bpf_object *obj, struct bpf_object *src)
{
	static const char *const names[] = { "ps_rtt_out", "ps_rtt_ts", "ps_rtt_flows",
					     "ps_rtt_hist", "ps_rtt_ctrs" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct bpf_map *m = bpf_object__find_map_by_name(obj, names[i]);
		struct bpf_map *from = bpf_object__find_map_by_name(src, names[i]);

		if (!m || !from || bpf_map__reuse_fd(m, bpf_map__fd(from)))
			return -1;
	}
	return 0;
}

#endif /* PS_TEST_FRAMES_H */
