/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The persistent kernel drop probes (ctl/drops.c): pins under
 * PS_PIN_ROOT/drops-<netns inode>/, for the daemon and its metrics.
 */
#ifndef PKTSCOPE_KDROPS_H
#define PKTSCOPE_KDROPS_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>

#define PS_KDROPS_PREFIX	"drops-"

/* Attach / detach the probes of the caller's netns; exit codes (0, 1). */
int drops_persist_attach(void);
int drops_persist_detach(void);
/* Are they pinned in the caller's netns? */
bool drops_persist_exists(void);

/* One series of pktscope_kernel_drops_total: summed over l3/l4/program. */
struct ps_kdrop_series {
	char iface[20];		/* device name when first seen; "-": no device */
	const char *where;	/* stack, qdisc, queue, tc, xdp */
	char reason[64];	/* the kernel's name (NETFILTER_DROP, ...) */
	__u64 pkts, bytes;
};

/*
 * Read the pins of one drops-<inode> directory, quietly (a scrape must not
 * log): *out (malloc'd, free it) gets the series, *netns_ino the namespace.
 * Returns the number of series, or -1 when the directory is not readable
 * or has a layout this build does not know.
 */
int drops_pinned_series(const char *dir, uint64_t *netns_ino, __u64 *attach_time,
			struct ps_kdrop_series **out);

#endif /* PKTSCOPE_KDROPS_H */
