// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The command table: one entry per command.  A command is found by its exact
 * name or by a prefix that matches exactly one name (never a silent first
 * match).  Modules in cpu-mem-io/ add their entries here too.
 */
#include <stddef.h>

#include "ctl.h"

const struct ps_cmd ps_cmds[] = {
	{ "attach", cmd_attach, "IFACE [--mode native|generic|auto] [--no-xdp] [--no-tc] [--replace]",
	  "load and attach the XDP and TC accounting programs to IFACE, pin them, exit" },
	{ "detach", cmd_detach, "IFACE|--all",
	  "remove pktscope's programs, clsact filters and pins from IFACE" },
	{ "status", cmd_status, "",
	  "list every interface pktscope is attached to, in every network namespace" },
	{ "stats", cmd_stats, "IFACE [-i SECONDS] [-c COUNT]",
	  "packet and byte counters by direction, protocol, verdict; malformed packets" },
	{ "hist", cmd_hist, "size IFACE [--dir xdp|tc_ingress|tc_egress]",
	  "packet size histogram per direction, bpftrace style" },
	{ NULL, NULL, NULL, NULL },
};
