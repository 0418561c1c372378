/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Ring buffer records that do not wake the reader one by one.
 *
 * A wakeup (irq_work, then the reader's context switch, its poll, one
 * record and one write) cost about 16 us of CPU per event on this project's
 * machines: more than a streaming tool's whole work for the event.  So
 * records go in with BPF_RB_NO_WAKEUP, and one wakes the reader only when
 * an eighth of the ring is waiting, so that a burst cannot fill the ring
 * between two reads.  Every reader drains the ring after each poll timeout
 * (ps_rb_stream and the tcp and drops loops: at most 250 ms), so a line is
 * printed at most that long after its event, and drains it once more when
 * it stops.
 *
 *   bpf_ringbuf_submit(e, ps_rb_flags(&events, RING_BYTES));
 */
#ifndef PKTSCOPE_RB_H
#define PKTSCOPE_RB_H

#define ps_rb_flags(rb, ring_bytes)						\
	(bpf_ringbuf_query((rb), BPF_RB_AVAIL_DATA) >= (ring_bytes) / 8 ?	\
	 BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP)

#endif /* PKTSCOPE_RB_H */
