/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Small helpers shared by the IO commands (bio.c, filetop.c). */
#ifndef PKTSCOPE_IOUTIL_H
#define PKTSCOPE_IOUTIL_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "ctl.h"

/* Local time "HH:MM:SS" (with ".mmm" when ms). */
static inline void io_wall_time(char *buf, size_t len, bool ms)
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, len, "%H:%M:%S", &tm);
	if (ms && n < len)
		snprintf(buf + n, len - n, ".%03ld", ts.tv_nsec / 1000000);
}

/*
 * getopt would read "-1" as an unknown option "-1"; say what is wrong with a
 * negative positional value instead.  Returns -1 (error printed) if one is there.
 */
static inline int io_no_negative(int argc, char **argv, const char *cmd, const char *what)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (a[0] == '-' && (a[1] == '.' || (a[1] >= '0' && a[1] <= '9'))) {
			ps_err("%s: %s %s is negative: give a value >= 0 (see --help)", cmd, what, a);
			return -1;
		}
	}
	return 0;
}

/* Disk name ("loop3") of a kernel dev_t (PS_IO_MKDEV), or "MAJ:MIN" (bio.c). */
const char *bio_disk_name(__u32 dev);

#endif /* PKTSCOPE_IOUTIL_H */
