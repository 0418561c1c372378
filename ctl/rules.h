/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The drop filter's pinned maps, shared by `filter` and `drops`. */
#ifndef PKTSCOPE_CTL_RULES_H
#define PKTSCOPE_CTL_RULES_H

#include "ctl.h"
#include "drops.h"

struct ps_filter_pins {
	int rules_fd;
	int ctl_fd;
	int stats_fd;
	int lock_fd;		/* the pin directory, flock()ed by add/del */
};

/* Open the filter maps of a pin directory; checks their sizes. */
int ps_filter_open(const char *dir, struct ps_filter_pins *fp);
void ps_filter_close(struct ps_filter_pins *fp);
/* Sum the per-CPU counters: out[slot * PS_DIR_MAX + dir]. */
int ps_filter_read_stats(const struct ps_filter_pins *fp,
			 struct ps_rule_stats out[PS_RULE_STATS_ENTRIES]);

/* `filter add` options into *r: 0 (IFACE at argv[optind]), 1 --help printed, -1 bad. */
int ps_filter_parse_add(int argc, char **argv, struct ps_rule *r);

#endif /* PKTSCOPE_CTL_RULES_H */
