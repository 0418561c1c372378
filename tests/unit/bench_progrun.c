// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Per-packet cost of pktscope's XDP and TC programs, through BPF_PROG_TEST_RUN
 * with a large repeat count, next to an empty program of the same hook
 * (tests/bpf/empty.bpf.c) measured in the same run.  The empty program's time
 * is the fixed cost of the test_run loop itself; the ratio says how much the
 * parse + accounting adds on top.
 *
 * Runs interleave (empty, full, empty, full, ... with the order flipped every
 * round) and the median of the rounds is reported, so a noisy neighbour on a
 * shared machine moves both sides alike.
 *
 *   bench_progrun [-r repeat] [-n rounds] [-o out.json] [-v]
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "pktscope.h"
#include "xdp_stats.skel.h"
#include "tc_stats.skel.h"
#include "empty.skel.h"
#include "frames.h"

#define MAX_ROUNDS	101

struct bench_frame {
	const char *name;
	const char *what;
	struct frame f;
};

struct sample {
	double cpu;	/* ns per packet, this thread's CPU time around the call */
	__u32 kernel;	/* ns per packet as test_run reports it (integer) */
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(const double *v, int n)
{
	double s[MAX_ROUNDS];

	memcpy(s, v, n * sizeof(*v));
	qsort(s, n, sizeof(*s), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/*
 * The thread's CPU time, not the wall clock: on a loaded machine the test
 * run is preempted (it yields on need_resched) and wall time would count the
 * other tasks; the CPU time of this thread counts only the test_run loop.
 */
static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int run(int prog_fd, const struct frame *f, __u32 repeat, __u32 want_rc,
	       struct sample *s)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = f->b,
		.data_size_in = f->len,
		.repeat = repeat,
	);
	double t0, t1;
	int err;

	t0 = now_ns();
	err = bpf_prog_test_run_opts(prog_fd, &opts);
	t1 = now_ns();
	if (err)
		return -errno;
	if (opts.retval != want_rc)
		return -EPROTO;
	s->cpu = (t1 - t0) / repeat;
	s->kernel = opts.duration;
	return 0;
}

static void build_frames(struct bench_frame *bf)
{
	struct frame *f;

	bf[0].name = "udp4_64";
	bf[0].what = "64-byte UDP/IPv4";
	f = &bf[0].f;
	f_init(f); f_eth(f, ETH_IP); f_ipv4(f, P_UDP, 5, 0); f_udp(f);
	f_pad_to(f, 64); f_fin(f);

	bf[1].name = "tcp6_1500";
	bf[1].what = "1500-byte TCP/IPv6 (timestamps)";
	f = &bf[1].f;
	f_init(f); f_eth(f, ETH_IPV6); f_ipv6(f, P_TCP); f_tcp(f, 8);
	f_pad_to(f, 1500); f_fin(f);

	bf[2].name = "qinq_udp4_64";
	bf[2].what = "64-byte QinQ (802.1ad + 802.1Q) UDP/IPv4";
	f = &bf[2].f;
	f_init(f); f_eth(f, ETH_8021AD); f_vlan(f, 10, ETH_8021Q); f_vlan(f, 20, ETH_IP);
	f_ipv4(f, P_UDP, 5, 0); f_udp(f); f_pad_to(f, 64); f_fin(f);
}

/* libbpf's notes (e.g. on libxdp's .xdp_run_config section) only with -v. */
static int verbose;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	if (!verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static void usage(FILE *out)
{
	fprintf(out, "usage: bench_progrun [-r repeat] [-n rounds] [-o out.json] [-v]\n"
		"  -r  runs per BPF_PROG_TEST_RUN call (default 1000000)\n"
		"  -n  interleaved rounds, median reported (default 7, at most %d)\n"
		"  -o  JSON output file (default build/bench/progrun.json)\n"
		"  -v  libbpf's messages (verifier log on a load failure)\n",
		MAX_ROUNDS);
}

int main(int argc, char **argv)
{
	static struct bench_frame frames[3];
	const char *json_path = "build/bench/progrun.json";
	struct xdp_stats_bpf *xdp = NULL;
	struct tc_stats_bpf *tc = NULL;
	struct empty_bpf *empty = NULL;
	unsigned long repeat = 1000000, rounds = 7;
	double e_cpu[3][2][MAX_ROUNDS], p_cpu[3][2][MAX_ROUNDS];
	double e_kern[3][2][MAX_ROUNDS], p_kern[3][2][MAX_ROUNDS];
	const char *hook_name[2] = { "xdp", "tc" };
	FILE *js = NULL;
	int opt, err = 1;
	char *end;

	while ((opt = getopt(argc, argv, "r:n:o:vh")) != -1) {
		switch (opt) {
		case 'r':
			errno = 0;
			repeat = strtoul(optarg, &end, 10);
			if (errno || *end || !repeat || repeat > 0xffffffffUL) {
				fprintf(stderr, "bench_progrun: bad repeat '%s': want 1..4294967295\n", optarg);
				return 2;
			}
			break;
		case 'n':
			errno = 0;
			rounds = strtoul(optarg, &end, 10);
			if (errno || *end || !rounds || rounds > MAX_ROUNDS) {
				fprintf(stderr, "bench_progrun: bad rounds '%s': want 1..%d\n", optarg, MAX_ROUNDS);
				return 2;
			}
			break;
		case 'o':
			json_path = optarg;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}

	libbpf_set_print(libbpf_print);
	build_frames(frames);
	xdp = xdp_stats_bpf__open_and_load();
	tc = tc_stats_bpf__open_and_load();
	empty = empty_bpf__open_and_load();
	if (!xdp || !tc || !empty) {
		fprintf(stderr, "bench_progrun: load %s: %s (run as root after 'make')\n",
			!xdp ? "xdp_stats.bpf.o" : !tc ? "tc_stats.bpf.o" : "empty.bpf.o",
			strerror(errno));
		goto out;
	}

	for (unsigned long r = 0; r < rounds; r++) {
		for (int fi = 0; fi < 3; fi++) {
			for (int h = 0; h < 2; h++) {
				int full_fd = h ? bpf_program__fd(tc->progs.ps_tc_in) :
						  bpf_program__fd(xdp->progs.ps_xdp);
				int empty_fd = h ? bpf_program__fd(empty->progs.empty_tc) :
						   bpf_program__fd(empty->progs.empty_xdp);
				__u32 rc = h ? 0 : XDP_PASS;
				struct sample se, sp;

				/* Flip the order every round: neither side always runs first. */
				if (r % 2) {
					err = run(full_fd, &frames[fi].f, repeat, rc, &sp);
					err = err ?: run(empty_fd, &frames[fi].f, repeat, rc, &se);
				} else {
					err = run(empty_fd, &frames[fi].f, repeat, rc, &se);
					err = err ?: run(full_fd, &frames[fi].f, repeat, rc, &sp);
				}
				if (err) {
					fprintf(stderr, "bench_progrun: BPF_PROG_TEST_RUN %s on %s: %s\n",
						hook_name[h], frames[fi].name,
						err == -EPROTO ? "unexpected return code" : strerror(-err));
					err = 1;
					goto out;
				}
				e_cpu[fi][h][r] = se.cpu;
				p_cpu[fi][h][r] = sp.cpu;
				e_kern[fi][h][r] = se.kernel;
				p_kern[fi][h][r] = sp.kernel;
			}
		}
	}

	js = fopen(json_path, "w");
	if (!js)
		fprintf(stderr, "bench_progrun: cannot write %s: %s (table only)\n",
			json_path, strerror(errno));
	if (js)
		fprintf(js, "{\"repeat\": %lu, \"rounds\": %lu, \"statistic\": \"median\", "
			"\"unit\": \"ns/packet\", \"results\": [", repeat, rounds);

	printf("BPF_PROG_TEST_RUN, repeat %lu, median of %lu interleaved rounds\n",
	       repeat, rounds);
	printf("%-14s %-4s %5s  %14s  %16s  %6s  %16s\n", "frame", "hook", "bytes",
	       "empty ns/pkt", "pktscope ns/pkt", "ratio", "kernel ns e/p");
	for (int fi = 0; fi < 3; fi++) {
		for (int h = 0; h < 2; h++) {
			double ec = median(e_cpu[fi][h], rounds);
			double pc = median(p_cpu[fi][h], rounds);
			double ratios[MAX_ROUNDS], rm;
			double ek = median(e_kern[fi][h], rounds);
			double pk = median(p_kern[fi][h], rounds);

			/*
			 * The ratio is the median of the per-round ratios: the two
			 * runs of a round are adjacent in time and see the same load.
			 */
			for (unsigned long r = 0; r < rounds; r++)
				ratios[r] = p_cpu[fi][h][r] / e_cpu[fi][h][r];
			rm = median(ratios, rounds);
			printf("%-14s %-4s %5zu  %14.2f  %16.2f  %5.2fx  %7.1f/%-7.1f\n",
			       frames[fi].name, hook_name[h], frames[fi].f.len,
			       ec, pc, rm, ek, pk);
			if (!js)
				continue;
			fprintf(js, "%s\n  {\"frame\": \"%s\", \"description\": \"%s\", "
				"\"bytes\": %zu, \"hook\": \"%s\", \"empty_ns\": %.3f, "
				"\"pktscope_ns\": %.3f, \"added_ns\": %.3f, \"ratio\": %.3f, "
				"\"ratio_of_medians\": %.3f, "
				"\"empty_kernel_ns\": %.1f, \"pktscope_kernel_ns\": %.1f, "
				"\"pktscope_ns_rounds\": [",
				fi || h ? "," : "", frames[fi].name, frames[fi].what,
				frames[fi].f.len, hook_name[h], ec, pc, pc - ec, rm, pc / ec,
				ek, pk);
			for (unsigned long r = 0; r < rounds; r++)
				fprintf(js, "%s%.3f", r ? ", " : "", p_cpu[fi][h][r]);
			fprintf(js, "], \"empty_ns_rounds\": [");
			for (unsigned long r = 0; r < rounds; r++)
				fprintf(js, "%s%.3f", r ? ", " : "", e_cpu[fi][h][r]);
			fprintf(js, "]}");
		}
	}
	printf("ns/pkt: CPU time of the calling thread / repeat (median); ratio: median of\n"
	       "the per-round pktscope/empty ratios; kernel ns: test_run's own duration\n"
	       "(rounded down to whole ns), empty/pktscope.  Target: ratio <= 2.00x.\n");
	if (js) {
		fprintf(js, "\n]}\n");
		if (fclose(js))
			fprintf(stderr, "bench_progrun: write %s: %s\n", json_path, strerror(errno));
		else
			printf("JSON: %s\n", json_path);
	}
	err = 0;
out:
	empty_bpf__destroy(empty);
	tc_stats_bpf__destroy(tc);
	xdp_stats_bpf__destroy(xdp);
	return err;
}
