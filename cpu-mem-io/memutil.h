/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Small helpers shared by the memory commands (memleak.c, cachestat.c). */
#ifndef PKTSCOPE_MEMUTIL_H
#define PKTSCOPE_MEMUTIL_H

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

/* A pidfd polls readable when the process exits; -1 when pid is 0 or gone. */
static inline int mem_pidfd(int pid)
{
	return pid > 0 ? (int)syscall(SYS_pidfd_open, pid, 0) : -1;
}

enum mem_wake { MEM_WAKE_TIMEOUT, MEM_WAKE_EXITED, MEM_WAKE_SIGNAL };

/*
 * Wait secs seconds, or until the watched process exits (pidfd >= 0), or
 * until Ctrl-C/SIGTERM.
 */
static inline enum mem_wake mem_wait(int pidfd, double secs)
{
	double end = ps_now() + secs, left;
	struct pollfd p = { .fd = pidfd, .events = POLLIN };

	while (!ps_exiting && (left = end - ps_now()) > 0) {
		int ms = (int)(left * 1000) + 1;

		if (pidfd < 0) {
			if (ps_sleep(left))
				break;
			continue;
		}
		if (poll(&p, 1, ms) > 0)
			return MEM_WAKE_EXITED;
	}
	return ps_exiting ? MEM_WAKE_SIGNAL : MEM_WAKE_TIMEOUT;
}

static inline const char *mem_timestr(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(buf, len, "%H:%M:%S", &tm);
	return buf;
}

/* INTERVAL [COUNT] positional arguments, shared by cachestat and memleak. */
static inline int mem_interval_args(const char *cmd, int argc, char **argv, double *interval,
			 uint64_t *count)
{
	if (argc > 2) {
		ps_err("%s takes at most INTERVAL and COUNT, got '%s': see --help", cmd, argv[2]);
		return -1;
	}
	if (argc >= 1 && parse_seconds("interval", argv[0], 0.01, 86400, interval))
		return -1;
	if (argc == 2 && parse_u64("count", argv[1], 1, UINT32_MAX, count))
		return -1;
	return 0;
}

/*
 * memleak on one process as a collector (for `pktscope report`): start
 * attaches the libc uprobes (errors printed), read sums what is outstanding
 * now and, with stacks, groups it by allocating stack, largest first.
 */
#define MEM_SUM_TOP	5
struct mem_leak_stack {
	unsigned long long bytes, allocs;
	char frames[512];		/* "caller <- its caller <- ...", leaf first */
};
struct mem_leak_sum {
	unsigned long long bytes, allocs;	/* outstanding now */
	unsigned long long total_allocs, total_frees, dropped;
	long nstacks;
	struct mem_leak_stack top[MEM_SUM_TOP];
};
struct mem_session;
struct mem_session *memleak_start(int pid);
int memleak_read(struct mem_session *s, struct mem_leak_sum *out, bool stacks);
const char *memleak_libc(const struct mem_session *s);
void memleak_end(struct mem_session *s);

#endif /* PKTSCOPE_MEMUTIL_H */
