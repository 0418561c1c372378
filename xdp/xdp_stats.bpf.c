// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* XDP ingress accounting: parse once, count, pass. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <xdp/xdp_helpers.h>
#include "account.h"

/*
 * Run first among the programs of libxdp's dispatcher (lower runs earlier) so
 * pktscope sees what the others may drop, and let the chain go on after PASS.
 */
struct {
	__uint(priority, 5);
	__uint(XDP_PASS, 1);
} XDP_RUN_CONFIG(ps_xdp);

/*
 * xdp.frags: multi-buffer frames (jumbo frames on drivers that split them,
 * and BPF_PROG_TEST_RUN of frames larger than a page) are accepted; the
 * parser reads the linear part, the size comes from bpf_xdp_get_buff_len().
 */
SEC("xdp.frags")
int ps_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ps_pkt p;

	ps_parse(&p, data, data_end);
	ps_account(PS_DIR_XDP, &p, bpf_xdp_get_buff_len(ctx), PS_V_PASS);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
