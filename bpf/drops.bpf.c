// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Where packets are lost: skb:kfree_skb (with the kernel's drop reason, as a
 * raw tracepoint),
 * xdp:xdp_exception and xdp:xdp_redirect_err, counted per interface, reason
 * and protocol, for the network namespace pktscope watches.  Loaded for as
 * long as `pktscope drops` runs, or pinned (`drops --persist attach`) with
 * drop_counts, drop_misc, drop_ifnames and drops_meta so it outlives it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "drops.h"
#include "rb.h"

#define PS_DROP_RB_SIZE	(256 * 1024)

#define PS_ETH_P_IP	0x0800
#define PS_ETH_P_IPV6	0x86DD

/* Set by user space before load. */
const volatile __u32 target_netns = 0;	/* ns.inum of the watched netns */
const volatile __u32 target_ifindex = 0;	/* 0: every interface */
const volatile __u8 want_locations = 0;
const volatile __u8 want_events = 0;
const volatile __u32 events_per_sec = 100;	/* per CPU */

/* Keys come from the kernel's traffic: bounded, least recently used go. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, PS_DROP_COUNTS_MAX);
	__type(key, struct ps_drop_key);
	__type(value, struct ps_drop_val);
} drop_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct ps_drop_loc_key);
	__type(value, __u64);
} drop_locs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ps_drop_misc);
} drop_misc SEC(".maps");

/* Interface names, written when a key is new: readers in another netns need them. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PS_DROP_IFNAMES_MAX);
	__type(key, __u32);
	__type(value, struct ps_drop_ifname);
} drop_ifnames SEC(".maps");

/* Written by user space only (persistent mode); here so it is in the object. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ps_drops_meta);
} drops_meta SEC(".maps");

struct ps_rl {
	__u64 window;	/* start of the current second, ns */
	__u64 n;	/* events sent in it */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ps_rl);
} drop_rl SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, PS_DROP_RB_SIZE);
} drop_events SEC(".maps");

static __always_inline struct ps_drop_misc *misc(void)
{
	__u32 k = 0;

	return bpf_map_lookup_elem(&drop_misc, &k);
}

/*
 * Is a drop in the network namespace inum ours to count?  have: there was a
 * device or a socket to take the namespace from.
 */
static __always_inline bool watched(bool have, __u32 inum)
{
	struct ps_drop_misc *m;

	if (have && inum == target_netns)
		return true;
	m = misc();
	if (m) {
		if (have)
			m->other_netns++;
		else
			m->no_netns++;
	}
	return false;
}

static __always_inline void count(const struct ps_drop_key *k, __u64 len,
				  const struct net_device *dev)
{
	struct ps_drop_val *v, init = { 1, len };
	struct ps_drop_ifname n = {};

	v = bpf_map_lookup_elem(&drop_counts, k);
	if (v) {
		v->pkts++;
		v->bytes += len;
		return;
	}
	if (dev && k->ifindex) {
		BPF_CORE_READ_STR_INTO(&n.name, dev, name);
		bpf_map_update_elem(&drop_ifnames, &k->ifindex, &n, BPF_ANY);
	}
	/* Another CPU may have made the entry since: then count in ours. */
	if (bpf_map_update_elem(&drop_counts, k, &init, BPF_NOEXIST)) {
		v = bpf_map_lookup_elem(&drop_counts, k);
		if (v) {
			v->pkts++;
			v->bytes += len;
		}
	}
}

/* Per CPU, at most events_per_sec events a second; the rest are counted. */
static __always_inline bool event_allowed(void)
{
	struct ps_drop_misc *m;
	struct ps_rl *rl;
	__u32 k = 0;
	__u64 now = bpf_ktime_get_ns();

	rl = bpf_map_lookup_elem(&drop_rl, &k);
	if (!rl)
		return false;
	if (now - rl->window >= 1000000000ull) {
		rl->window = now;
		rl->n = 0;
	}
	if (rl->n < events_per_sec) {
		rl->n++;
		return true;
	}
	m = misc();
	if (m)
		m->events_suppressed++;
	return false;
}

extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

/*
 * The kfree_skb program reads the skb, its device and socket and the IP
 * header with plain loads through typed pointers (bpf_rdonly_cast: the
 * verifier turns each into one load that cannot fault), not a
 * bpf_probe_read_kernel() call per field: a drop took about a dozen such
 * calls.  Addresses and ports, for events only, are still copied with
 * bpf_probe_read_kernel() (rate-limited, and whole headers at a time).
 */
static __always_inline void skb_addrs(__u64 at, __u16 l3proto, __u64 th_at,
				      struct ps_drop_event *e)
{
	__be16 ports[2];
	__u8 proto;

	if (l3proto == PS_ETH_P_IP) {
		struct iphdr ip;

		if (bpf_probe_read_kernel(&ip, sizeof(ip), (void *)at))
			return;
		__builtin_memcpy(e->saddr, &ip.saddr, 4);
		__builtin_memcpy(e->daddr, &ip.daddr, 4);
		proto = ip.protocol;
	} else {
		struct ipv6hdr ip6;

		if (bpf_probe_read_kernel(&ip6, sizeof(ip6), (void *)at))
			return;
		__builtin_memcpy(e->saddr, &ip6.saddr, 16);
		__builtin_memcpy(e->daddr, &ip6.daddr, 16);
		proto = ip6.nexthdr;
	}
	e->has_addr = 1;
	/* Ports only once the transport header was set past the IP header. */
	if ((proto == IPPROTO_TCP || proto == IPPROTO_UDP) && th_at &&
	    !bpf_probe_read_kernel(ports, sizeof(ports), (void *)th_at)) {
		e->sport = bpf_ntohs(ports[0]);
		e->dport = bpf_ntohs(ports[1]);
		e->has_ports = 1;
	}
}

/*
 * The L4 protocol from the IP header of skb, when its network header is set
 * and holds IPv4 or IPv6 as l3proto says; 0 otherwise.  With e, the
 * addresses and ports too.
 */
static __always_inline __u8 skb_l4(const struct sk_buff *skb, __u16 l3proto,
				   struct ps_drop_event *e)
{
	__u64 head = (__u64)skb->head;
	__u16 nh = skb->network_header, th = skb->transport_header;
	__u8 proto;

	if (nh == (__u16)~0u || !head)
		return 0;
	if (l3proto == PS_ETH_P_IP) {
		struct iphdr *ip = bpf_rdonly_cast((void *)(head + nh),
						   bpf_core_type_id_kernel(struct iphdr));

		if (BPF_CORE_READ_BITFIELD(ip, version) != 4)
			return 0;
		proto = ip->protocol;
	} else if (l3proto == PS_ETH_P_IPV6) {
		struct ipv6hdr *ip6 = bpf_rdonly_cast((void *)(head + nh),
						      bpf_core_type_id_kernel(struct ipv6hdr));

		if (BPF_CORE_READ_BITFIELD(ip6, version) != 6)
			return 0;
		proto = ip6->nexthdr;
	} else {
		return 0;
	}
	if (e)
		skb_addrs(head + nh, l3proto, th != (__u16)~0u && th > nh ? head + th : 0, e);
	return proto;
}

/*
 * A raw tracepoint: the arguments as the kernel passes them, without the
 * record a classic tracepoint fills in a perf buffer before the program
 * runs.  reason is enum skb_drop_reason (Linux 5.17+).
 */
SEC("raw_tp/kfree_skb")
int BPF_PROG(ps_kfree_skb, struct sk_buff *skb_arg, void *location, __u32 reason)
{
	struct sk_buff *skb;
	struct ps_drop_key k = {};
	struct ps_drop_event *e = NULL;
	struct net_device *dev;
	struct sock *sk;
	__u32 len, inum = 0;

	/* 0 and 1 (not dropped, consumed) are not drops. */
	if (reason <= 1)
		return 0;
	skb = bpf_rdonly_cast(skb_arg, bpf_core_type_id_kernel(struct sk_buff));
	dev = skb->dev;
	sk = skb->sk;
	if (dev)
		inum = dev->nd_net.net->ns.inum;
	else if (sk)
		inum = sk->__sk_common.skc_net.net->ns.inum;
	if (!watched(dev || sk, inum))
		return 0;
	k.ifindex = dev ? dev->ifindex : 0;
	if (target_ifindex && k.ifindex != target_ifindex)
		return 0;
	k.reason = reason;
	k.l3proto = bpf_ntohs(skb->protocol);
	k.kind = PS_DK_SKB;
	len = skb->len;

	if (want_events && event_allowed()) {
		e = bpf_ringbuf_reserve(&drop_events, sizeof(*e), 0);
		if (e)
			__builtin_memset(e, 0, sizeof(*e));
	}
	k.l4proto = skb_l4(skb, k.l3proto, e);
	count(&k, len, dev);

	if (want_locations) {
		struct ps_drop_loc_key lk = {
			.location = (__u64)location,
			.reason = reason,
		};
		__u64 one = 1, *v;

		v = bpf_map_lookup_elem(&drop_locs, &lk);
		if (v)
			(*v)++;
		else if (bpf_map_update_elem(&drop_locs, &lk, &one, BPF_NOEXIST)) {
			v = bpf_map_lookup_elem(&drop_locs, &lk);
			if (v)
				(*v)++;
		}
	}
	if (e) {
		e->ts_ns = bpf_ktime_get_ns();
		e->location = (__u64)location;
		e->ifindex = k.ifindex;
		e->reason = reason;
		e->l3proto = k.l3proto;
		e->l4proto = k.l4proto;
		e->kind = PS_DK_SKB;
		e->len = len;
		bpf_ringbuf_submit(e, ps_rb_flags(&drop_events, PS_DROP_RB_SIZE));
	}
	return 0;
}

static __always_inline void xdp_drop(const struct net_device *dev, const struct bpf_prog *prog,
				     __u32 kind, __u32 reason)
{
	struct ps_drop_key k = {};
	struct ps_drop_event *e;

	if (!watched(true, BPF_CORE_READ(dev, nd_net.net, ns.inum)))
		return;
	k.ifindex = BPF_CORE_READ(dev, ifindex);
	if (target_ifindex && k.ifindex != target_ifindex)
		return;
	k.reason = reason;
	k.prog_id = BPF_CORE_READ(prog, aux, id);
	k.kind = kind;
	count(&k, 0, dev);
	if (!want_events || !event_allowed())
		return;
	e = bpf_ringbuf_reserve(&drop_events, sizeof(*e), 0);
	if (!e)
		return;
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = bpf_ktime_get_ns();
	e->ifindex = k.ifindex;
	e->reason = reason;
	e->prog_id = k.prog_id;
	e->kind = kind;
	bpf_ringbuf_submit(e, ps_rb_flags(&drop_events, PS_DROP_RB_SIZE));
}

/* Raw tracepoints: the device pointer gives the namespace, not just an ifindex. */
SEC("raw_tp/xdp_exception")
int BPF_PROG(ps_xdp_exception, const struct net_device *dev, const struct bpf_prog *xdp,
	     __u32 act)
{
	xdp_drop(dev, xdp, PS_DK_XDP_EXCEPTION, act);
	return 0;
}

SEC("raw_tp/xdp_redirect_err")
int BPF_PROG(ps_xdp_redirect_err, const struct net_device *dev, const struct bpf_prog *xdp,
	     const void *tgt, int err)
{
	xdp_drop(dev, xdp, PS_DK_XDP_REDIRECT_ERR, err < 0 ? -err : err);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
