// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * leakloop KIB_PER_S [SECONDS]: leaks steadily, KIB_PER_S KiB a second in
 * 4 KiB blocks from leak_steady() (main -> grow -> leak_steady), every 50 ms,
 * and frees nothing; it also mallocs and frees a block per tick from
 * churn() so that balanced traffic is present.  Prints "ready" once
 * started; runs SECONDS (default 60).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void *volatile sink;

__attribute__((noinline)) void leak_steady(int blocks)
{
	for (int i = 0; i < blocks; i++) {
		char *p = malloc(4096);

		if (p)
			memset(p, i, 4096);
		sink = p;
	}
}

__attribute__((noinline)) void grow(int blocks)
{
	leak_steady(blocks);
	sink = (char *)sink + 0;	/* keep the call from being a tail call */
}

__attribute__((noinline)) void churn(void)
{
	void *p = malloc(512);

	sink = p;
	free(p);
}

int main(int argc, char **argv)
{
	struct timespec tick = { 0, 50 * 1000 * 1000 };
	long kib = argc > 1 ? atol(argv[1]) : 0, secs = argc > 2 ? atol(argv[2]) : 60;
	int blocks = kib / 4 / 20;

	if (argc < 2 || kib <= 0 || secs <= 0 || blocks < 1) {
		fprintf(stderr, "usage: leakloop KIB_PER_S (>= 80) [SECONDS]\n");
		return 2;
	}
	printf("ready\n");
	fflush(stdout);
	for (long t = 0; t < secs * 20; t++) {
		grow(blocks);
		churn();
		nanosleep(&tick, NULL);
	}
	return 0;
}
