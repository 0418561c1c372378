// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_tcx: a classic cls_bpf filter (tc filter ... bpf da) that drops every
 * packet.  Placed behind pktscope's TCX program, it still runs only if
 * pktscope answers TCX_NEXT, not TCX_PASS.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define TC_ACT_SHOT	2

SEC("tc")
int drop_tc(struct __sk_buff *skb)
{
	return TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
