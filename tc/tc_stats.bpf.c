// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* TC clsact accounting, one program per direction, same parser as XDP. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "account.h"

#define TC_ACT_OK	0

/*
 * Headers walked by the parser, at most: Ethernet, two VLAN tags, IPv6 and a
 * few extension headers, TCP with options.  A non-linear skb whose linear
 * part is shorter is pulled up to this much (or its whole length), once, so
 * that a header split across fragments is not mistaken for a truncated one.
 */
#define PS_TC_PULL	256

static __always_inline int ps_tc(struct __sk_buff *skb, __u32 dir)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	__u32 want = skb->len < PS_TC_PULL ? skb->len : PS_TC_PULL;
	struct ps_pkt p;

	if (data + want > data_end) {
		bpf_skb_pull_data(skb, want);
		data = (void *)(long)skb->data;
		data_end = (void *)(long)skb->data_end;
	}
	ps_parse(&p, data, data_end);
	/* skb->len: the whole packet, GSO super-packets included. */
	ps_account(dir, &p, skb->len, PS_V_PASS);
	return TC_ACT_OK;
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
