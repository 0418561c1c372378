/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the BPF_PROG_TEST_RUN benches (tests/unit/bench_*.c) share: their
 * options, the timing of one test_run call and the median of the rounds.
 * Header only: every program in tests/unit is built from its one .c file.
 */
#ifndef PKTSCOPE_BENCH_H
#define PKTSCOPE_BENCH_H

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "frames.h"

#define BENCH_MAX_ROUNDS	101

static int bench_verbose;

static inline int bench_libbpf_print(enum libbpf_print_level level, const char *fmt,
				     va_list ap)
{
	(void)level;
	return bench_verbose ? vfprintf(stderr, fmt, ap) : 0;
}

/*
 * bench [-r repeat] [-n rounds] [-v]: -1 to go on, else the exit code
 * (0 after -h, 2 for a bad option).  -v lets libbpf's messages through (the
 * verifier log on a load failure).
 */
static inline int bench_options(int argc, char **argv, const char *name,
				unsigned long *repeat, unsigned long *rounds,
				unsigned long max_rounds)
{
	unsigned long def_repeat = *repeat, def_rounds = *rounds;
	char *end;
	int opt;

	while ((opt = getopt(argc, argv, "r:n:vh")) != -1) {
		switch (opt) {
		case 'r':
			errno = 0;
			*repeat = strtoul(optarg, &end, 10);
			if (errno || *end || !*repeat || *repeat > 0xffffffffUL) {
				fprintf(stderr, "%s: bad repeat '%s': want 1..4294967295\n", name,
					optarg);
				return 2;
			}
			break;
		case 'n':
			errno = 0;
			*rounds = strtoul(optarg, &end, 10);
			if (errno || *end || !*rounds || *rounds > max_rounds) {
				fprintf(stderr, "%s: bad rounds '%s': want 1..%lu\n", name, optarg,
					max_rounds);
				return 2;
			}
			break;
		case 'v':
			bench_verbose = 1;
			break;
		default:
			fprintf(opt == 'h' ? stdout : stderr,
				"usage: %s [-r repeat] [-n rounds] [-v]\n"
				"  -r  runs per BPF_PROG_TEST_RUN call (default %lu)\n"
				"  -n  interleaved rounds (default %lu, at most %lu)\n"
				"  -v  libbpf's messages (verifier log on a load failure)\n",
				name, def_repeat, def_rounds, max_rounds);
			return opt == 'h' ? 0 : 2;
		}
	}
	libbpf_set_print(bench_libbpf_print);
	return -1;
}

/*
 * The thread's CPU time, not the wall clock: on a loaded machine the test
 * run is preempted (it yields on need_resched) and wall time would count the
 * other tasks; the CPU time of this thread counts only the test_run loop.
 */
static inline double bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/*
 * Run frame f through prog_fd repeat times in one BPF_PROG_TEST_RUN: *ns per
 * packet and, when retval is not NULL, the program's return code; 0 or -errno.
 */
static inline int bench_run(int prog_fd, const struct frame *f, __u32 repeat, double *ns,
			    __u32 *retval)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = f->b,
		.data_size_in = f->len,
		.repeat = repeat,
	);
	double t0;

	t0 = bench_now_ns();
	if (bpf_prog_test_run_opts(prog_fd, &opts))
		return -errno;
	*ns = (bench_now_ns() - t0) / repeat;
	if (retval)
		*retval = opts.retval;
	return 0;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median of n (<= BENCH_MAX_ROUNDS) values, v left as it is. */
static inline double bench_median(const double *v, unsigned long n)
{
	double s[BENCH_MAX_ROUNDS];

	memcpy(s, v, n * sizeof(*v));
	qsort(s, n, sizeof(*s), bench_cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

#endif /* PKTSCOPE_BENCH_H */
