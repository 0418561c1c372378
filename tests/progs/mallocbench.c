// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A malloc-heavy loop for the memory benchmark: after SIGUSR1, N rounds of
 * malloc(size) + free, with sizes cycling over 16..2048 bytes; prints the
 * elapsed seconds of the loop.  "ready" first, so a tracer can attach.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static void *volatile sink;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	long i, n = argc > 1 ? atol(argv[1]) : 1000000;
	sigset_t set;
	double t0;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	printf("ready\n");
	fflush(stdout);
	sigwait(&set, &sig);
	t0 = now();
	for (i = 0; i < n; i++) {
		sink = malloc(16 << (i & 7));
		free(sink);
	}
	printf("%.6f\n", now() - t0);
	fflush(stdout);
	return 0;
}
