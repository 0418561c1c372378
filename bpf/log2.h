/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * log2 histograms (latency, sizes), shared by BPF programs and the printer.
 * Slot 0 holds the value 0, slot 1 the value 1, slot k >= 2 holds
 * [2^(k-1), 2^k): the buckets bpftrace's hist() prints as [0], [1], [2, 4).
 */
#ifndef PKTSCOPE_LOG2_H
#define PKTSCOPE_LOG2_H

#define PS_LOG2_SLOTS	64

/* Branch-light floor(log2(v)) + 1 for v > 0, 0 for v == 0; at most 64. */
static inline __u32 ps_log2_slot(__u64 v)
{
	__u32 r = 0, s;

	if (!v)
		return 0;
	s = (v > 0xFFFFFFFFull) << 5; v >>= s; r |= s;
	s = (v > 0xFFFF) << 4; v >>= s; r |= s;
	s = (v > 0xFF) << 3; v >>= s; r |= s;
	s = (v > 0xF) << 2; v >>= s; r |= s;
	s = (v > 0x3) << 1; v >>= s; r |= s;
	r |= (v >> 1);
	return r + 1 < PS_LOG2_SLOTS ? r + 1 : PS_LOG2_SLOTS - 1;
}

#endif /* PKTSCOPE_LOG2_H */
