/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Metrics of pktscope's pinned maps in the Prometheus text exposition
 * format (0.0.4) or in OpenMetrics 1.0.0, for `pktscope daemon`.
 */
#ifndef PKTSCOPE_METRICS_H
#define PKTSCOPE_METRICS_H

#include <stdbool.h>
#include <stdio.h>

#define PS_METRICS_CT_TEXT	"text/plain; version=0.0.4; charset=utf-8"
#define PS_METRICS_CT_OM	"application/openmetrics-text; version=1.0.0; charset=utf-8"

struct ps_metrics_info {
	double start_time;	/* CLOCK_REALTIME seconds the daemon started */
	unsigned long long scrapes;	/* scrapes served before this one */
	unsigned long long refused;	/* connections refused: all slots busy */
	unsigned long long bad_requests;	/* 4xx answers */
	int conns;		/* open client connections, this one included */
};

/*
 * Write every metric of every attachment (all network namespaces) and of
 * the pinned TCP probes to f.  openmetrics selects the format (and the
 * closing "# EOF").  Returns 0, or -1 when f failed (out of memory).
 */
int ps_metrics_write(FILE *f, bool openmetrics, const struct ps_metrics_info *info);

#endif /* PKTSCOPE_METRICS_H */
