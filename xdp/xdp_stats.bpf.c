// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* XDP ingress accounting: parse once, count, pass. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <xdp/xdp_helpers.h>
#include "account.h"
#include "filter.h"
#include "rtt.h"

/*
 * Run first among the programs of libxdp's dispatcher (lower runs earlier) so
 * pktscope sees what the others may drop, and let the chain go on after PASS.
 */
struct {
	__uint(priority, 5);
	__uint(XDP_PASS, 1);
} XDP_RUN_CONFIG(ps_xdp);

/* The drop filter, verified once (see ps_filter_run). */
__noinline int ps_filter_xdp(struct xdp_md *ctx, const struct ps_pkt *p, __u32 dir,
			     __u32 mask, __u64 len)
{
	return ps_filter_run((void *)(long)ctx->data, (void *)(long)ctx->data_end, p, dir,
			     mask, len);
}

/* Passive RTT, ingress side (bpf/rtt.h), verified once. */
__noinline int ps_rtt_xdp_in(struct xdp_md *ctx, const struct ps_pkt *p)
{
	return ps_rtt_run((void *)(long)ctx->data, (void *)(long)ctx->data_end, p, 0, true);
}

extern void *bpf_cast_to_kern_ctx(void *obj) __ksym;

/*
 * The frame's length.  bpf_xdp_get_buff_len() is a helper call on every
 * packet; the kernel's own xdp_buff says whether there are fragments at all
 * (bpf_cast_to_kern_ctx is rewritten into a plain register move), so the
 * call is made only for multi-buffer frames.
 */
static __always_inline __u64 ps_xdp_len(struct xdp_md *ctx, void *data, void *data_end)
{
	struct xdp_buff *xdp = bpf_cast_to_kern_ctx(ctx);

	if (xdp->flags & XDP_FLAGS_HAS_FRAGS)
		return bpf_xdp_get_buff_len(ctx);
	return data_end - data;
}

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
	__u64 len = ps_xdp_len(ctx, data, data_end);
	__u32 mask, drop = 0, verdict;
	struct ps_pkt p;

	ps_parse(&p, data, data_end);
	mask = ps_filter_mask(PS_DIR_XDP, &p);
	if (mask)
		drop = ps_filter_xdp(ctx, &p, PS_DIR_XDP, mask, len);
	/* No branch on drop: one verifier state for the accounting below. */
	verdict = PS_V_PASS - (drop & 1);
	ps_account(PS_DIR_XDP, &p, len, verdict);
	/* A packet dropped here never reaches the stack: it answers nothing. */
	if (ps_rtt_on && !drop && ps_rtt_wants(&p) && !ps_rtt_in_idle(&p, data, data_end))
		ps_rtt_xdp_in(ctx, &p);
	/* enum ps_verdict is numbered like enum xdp_action. */
	return verdict;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
