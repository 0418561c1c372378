// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Baselines for bench_progrun: the cheapest programs of each hook, so the
 * per-packet cost of pktscope's accounting is read as a ratio against the
 * fixed cost of BPF_PROG_TEST_RUN itself, measured in the same run.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define TC_ACT_OK	0

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

char LICENSE[] SEC("license") = "Dual BSD/GPL";
