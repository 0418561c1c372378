// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Baselines for bench_progrun: the cheapest programs of each hook, so the
 * per-packet cost of pktscope's accounting is read as a ratio against the
 * fixed cost of BPF_PROG_TEST_RUN itself, measured in the same run.
 *
 * count_xdp / count_tc are the cheapest accounting there is: packets and
 * bytes per verdict in a per-CPU array, the frame never parsed.  Next to
 * them, pktscope's figures say what its parsing and classification cost on
 * top of counting at all.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define TC_ACT_OK	0

struct count_rec {
	__u64 pkts;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XDP_REDIRECT + 1);
	__type(key, __u32);
	__type(value, struct count_rec);
} count_recs SEC(".maps");

SEC("xdp")
int empty_xdp(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("tc")
int empty_tc(struct __sk_buff *skb)
{
	return TC_ACT_OK;
}

static __always_inline void count(__u32 verdict, __u64 len)
{
	struct count_rec *r = bpf_map_lookup_elem(&count_recs, &verdict);

	if (r) {
		r->pkts++;
		r->bytes += len;
	}
}

SEC("xdp")
int count_xdp(struct xdp_md *ctx)
{
	count(XDP_PASS, ctx->data_end - ctx->data);
	return XDP_PASS;
}

SEC("tc")
int count_tc(struct __sk_buff *skb)
{
	count(XDP_PASS, skb->len);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
