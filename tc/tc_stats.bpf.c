// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* TC clsact accounting, one program per direction, same parser as XDP. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "account.h"
#include "filter.h"
#include "rtt.h"

#define TC_ACT_UNSPEC	(-1)
#define TC_ACT_OK	0
#define TC_ACT_SHOT	2

/*
 * What a packet that no rule drops is answered with.  Attached as a classic
 * cls_bpf filter (direct action), TC_ACT_OK.  Attached with a TCX link
 * (attach --tcx), TC_ACT_UNSPEC, which TCX calls TCX_NEXT: TC_ACT_OK there
 * would be TCX_PASS, which ends the hook at once and skips the TCX programs
 * after ours and every classic tc filter of the device.  An observer lets
 * them all run.  (TC_ACT_SHOT is TCX_DROP in both.)
 */
const volatile int ps_tc_pass = TC_ACT_OK;

/*
 * Headers walked by the parser, at most: Ethernet, two VLAN tags, IPv6 and a
 * few extension headers, TCP with options.  A non-linear skb whose linear
 * part is shorter is pulled up to this much (or its whole length), once, so
 * that a header split across fragments is not mistaken for a truncated one.
 */
#define PS_TC_PULL	256

/* The drop filter, verified once (see ps_filter_run). */
__noinline int ps_filter_tc(struct __sk_buff *skb, const struct ps_pkt *p, __u32 dir,
			    __u32 mask, __u64 len)
{
	return ps_filter_run((void *)(long)skb->data, (void *)(long)skb->data_end, p, dir,
			     mask, len);
}

/* Passive RTT (bpf/rtt.h), verified once. */
__noinline int ps_rtt_tc(struct __sk_buff *skb, const struct ps_pkt *p, __u32 ingress)
{
	return ps_rtt_run((void *)(long)skb->data, (void *)(long)skb->data_end, p,
			  skb->len, ingress != 0);
}

extern void *bpf_cast_to_kern_ctx(void *obj) __ksym;

/*
 * At TC ingress the hook pushes the data back by skb->mac_len bytes, so the
 * program sees the frame from its MAC header.  An skb that generic XDP had
 * to copy (skb_pp_cow_data(): every packet of a veth with a generic XDP
 * program) arrives with mac_len 0, its data at the network header.  The
 * bytes between the MAC header and the data, 0 on every other path (the
 * kernel's own skb: bpf_cast_to_kern_ctx is a register move).
 */
static __always_inline __u32 ps_tc_mac_hidden(struct __sk_buff *skb)
{
	struct sk_buff *k = bpf_cast_to_kern_ctx(skb);
	__u64 data_off = (__u64)k->data - (__u64)k->head;
	__u16 mac = k->mac_header;

	if (mac == (__u16)~0u || data_off <= mac || data_off - mac > 64)
		return 0;
	return data_off - mac;
}

/* The frame from the MAC header, or (hidden) from the network layer. */
static __always_inline void ps_tc_parse(struct ps_pkt *p, void *data, void *data_end,
					__u32 hidden, __u16 proto)
{
	if (hidden) {
		ps_pkt_init(p);
		ps_parse_l3(p, data, data_end, 0, proto);
	} else {
		ps_parse(p, data, data_end);
	}
}

/*
 * Between two runs of a TC program the stack runs (at egress a whole
 * sendmsg, at ingress the rest of the receive path), and the lines the
 * program reads besides the packet are rarely still in the cache: the stats
 * array's per-CPU pointer, then its value, and the filter's control word,
 * about 30 ns each here, one after the other where they are used.  So the
 * counters are looked up and the control word is read first thing: their
 * misses overlap with the parse (on live traffic, bench_throughput's
 * progns figures, -20 to -30 ns a run at each hook).  XDP does not: a
 * driver runs it over a NAPI batch of frames back to back, lines stay in L1
 * from one frame to the next, and there the longer-lived registers would
 * cost more than the early loads save.
 */
static __always_inline int ps_tc(struct __sk_buff *skb, __u32 dir)
{
	struct ps_pcpu_counters *c = ps_stats_of(dir);
	__u32 fword = ps_filter_word(dir);
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	__u32 want = skb->len < PS_TC_PULL ? skb->len : PS_TC_PULL;
	__u32 hidden = dir == PS_DIR_TC_IN ? ps_tc_mac_hidden(skb) : 0;
	__u32 mask, drop = 0, verdict;
	struct ps_pkt p;
	__u64 len;

	ps_tc_parse(&p, data, data_end, hidden, skb->protocol);
	/*
	 * Pull only when the headers really continue in the fragments.  The
	 * stack's own packets (every TCP segment, GSO or not) carry their
	 * headers in the linear part, and a pull of a cloned skb (every TCP
	 * transmit) copies its head: about 1 us per packet at TC egress.
	 */
	if (p.bad == PS_BAD_TRUNC && data + want > data_end) {
		bpf_skb_pull_data(skb, want);
		data = (void *)(long)skb->data;
		data_end = (void *)(long)skb->data_end;
		ps_tc_parse(&p, data, data_end, hidden, skb->protocol);
	}
	/*
	 * On receive the stack moves the outer VLAN tag out of the data into
	 * skb->vlan_tci before TC ingress runs (skb_vlan_untag(), or the NIC
	 * did it).  Count that tag as the wire had it, and its 4 bytes, so TC
	 * and XDP agree on tags and sizes.
	 */
	/* Sizes as on the wire: the MAC header the data does not show included. */
	len = skb->len + hidden;
	if (skb->vlan_present) {
		/*
		 * With the outer tag stripped the parser walked one tag deeper
		 * than XDP does on the wire frame: a second tag in the data is
		 * the wire's third, where parsing stops on purpose (L3 other),
		 * even when that tag itself is cut short.
		 */
		if ((p.flags & PS_F_VLAN2) ||
		    (p.bad == PS_BAD_TRUNC && p.bad_layer == PS_LAYER_VLAN &&
		     (p.flags & PS_F_VLAN1))) {
			ps_pkt_init(&p);
			p.flags = PS_F_VLAN1;
			p.l3_off = sizeof(struct ethhdr) + sizeof(struct ps_vlan_hdr);
		}
		p.flags |= (p.flags & PS_F_VLAN1) ? PS_F_VLAN2 : PS_F_VLAN1;
		len += 4;
	}
	mask = ps_filter_slots(dir, fword, &p);
	if (mask)
		drop = ps_filter_tc(skb, &p, dir, mask, len);
	/* No branch on drop: one verifier state for the accounting below. */
	verdict = PS_V_PASS - (drop & 1);
	/* skb->len: the whole packet, GSO super-packets included. */
	ps_account_in(c, &p, len, verdict);
	/*
	 * A segment dropped here never left: the stack sees the transmit fail
	 * and sends it again later as a first transmission, not a retransmit.
	 * Ingress only when no XDP program of this attachment already did it.
	 */
	if (ps_rtt_on && !drop && ps_rtt_wants(&p)) {
		if (dir == PS_DIR_TC_OUT)
			ps_rtt_tc(skb, &p, 0);
		else if (!ps_rtt_xdp && !ps_rtt_in_idle(&p, data, data_end))
			ps_rtt_tc(skb, &p, 1);
	}
	return verdict == PS_V_DROP ? TC_ACT_SHOT : ps_tc_pass;
}

SEC("tc")
int ps_tc_in(struct __sk_buff *skb)
{
	return ps_tc(skb, PS_DIR_TC_IN);
}

SEC("tc")
int ps_tc_out(struct __sk_buff *skb)
{
	return ps_tc(skb, PS_DIR_TC_OUT);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
