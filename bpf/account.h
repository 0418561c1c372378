/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Maps and the per-packet accounting step shared by the XDP and TC programs.
 *
 * Both objects declare the same maps; user space loads one, pins its maps and
 * hands their fds to the other (bpf_map__reuse_fd), so XDP and TC of one
 * interface fill one stats array, one slot per enum ps_dir.
 */
#ifndef PKTSCOPE_ACCOUNT_H
#define PKTSCOPE_ACCOUNT_H

#include "pktscope.h"
#include "parse.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PS_DIR_MAX);
	__type(key, __u32);
	__type(value, struct ps_pcpu_counters);
} ps_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ps_meta);
} ps_meta SEC(".maps");

/* The per-CPU counters of dir (NULL only for a dir out of range). */
static __always_inline struct ps_pcpu_counters *ps_stats_of(__u32 dir)
{
	return bpf_map_lookup_elem(&ps_stats, &dir);
}

/* Count one packet of len bytes in c (ps_stats_of), with the program's verdict. */
static __always_inline void ps_account_in(struct ps_pcpu_counters *c, const struct ps_pkt *p,
					  __u64 len, __u32 verdict)
{
	__u32 b, k;

	if (!c)
		return;

	k = ps_cls(p->l3, p->l4);
	if (k < PS_CLS_MAX) {
		c->cls_pkts[k]++;
		c->cls_bytes[k] += len;
	}
	if (verdict < PS_V_MAX)
		c->verdict[verdict]++;
	/*
	 * Rare flags, a bad header among them (PS_F_BAD), share one test so
	 * the common packet takes one branch.
	 */
	if (p->flags) {
		if (p->bad && p->bad_layer < PS_LAYER_MAX) {
			if (p->bad == PS_BAD_TRUNC)
				c->truncated[p->bad_layer]++;
			else
				c->malformed[p->bad_layer]++;
		}
		c->flagsets[p->flags & (PS_FLAGSETS - 1)]++;
	}

	b = ps_hist_bucket(len);
	if (b < PS_HIST_SLOTS)
		c->hist[b]++;
}

/* Count one packet of len bytes seen at dir, with the program's verdict. */
static __always_inline void ps_account(__u32 dir, const struct ps_pkt *p,
				       __u64 len, __u32 verdict)
{
	ps_account_in(ps_stats_of(dir), p, len, verdict);
}

#endif /* PKTSCOPE_ACCOUNT_H */
