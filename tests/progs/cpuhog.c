// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * cpuhog [SECONDS]: spends nearly all its CPU in hot(), called as
 * main -> outer -> hot, for SECONDS (default: until killed), then prints
 * "iterations N" (calls of hot, a throughput figure for benchmarks).
 * Built with frame pointers and without inlining (see the Makefile).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static volatile unsigned long sink;

/*
 * hot() calls this once so that it is not a leaf: GCC on x86 may build
 * leaf functions without a frame pointer (-momit-leaf-frame-pointer),
 * and a frame-pointer unwinder would then skip hot's caller.
 */
__attribute__((noinline)) void touch(unsigned long x)
{
	sink = x;
}

__attribute__((noinline)) unsigned long hot(unsigned long seed)
{
	unsigned long x = seed;
	int i;

	for (i = 0; i < 200000; i++)
		x = x * 6364136223846793005ul + 1442695040888963407ul;
	touch(x);
	return x;
}

__attribute__((noinline)) unsigned long outer(unsigned long seed)
{
	unsigned long r = hot(seed);

	/* Use the result after the call so the call is not a tail call. */
	sink += r;
	return r ^ seed;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 0, end = now() + secs;
	unsigned long n = 0, seed = 1;

	for (;;) {
		seed = outer(seed);
		n++;
		/* Checking the clock every 64 calls keeps it out of the profile. */
		if (secs > 0 && !(n & 63) && now() >= end)
			break;
	}
	printf("iterations %lu\n", n);
	return 0;
}
