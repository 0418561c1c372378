// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Per-packet cost of the drop filter: pktscope's XDP and TC ingress programs
 * on a 64-byte UDP/IPv4 frame through BPF_PROG_TEST_RUN, with no rule, with
 * one rule that does not match (dport 10; the frame goes to 9: the port
 * prefilter passes the packet), with one rule that does not match but whose
 * port (73) shares the prefilter's bit with 9 (73 % 64), so the rule itself
 * is tried, with one rule that matches and keeps the packet (--every 10^9)
 * and with 16 rules that do not match (ports 73, 137, ...: tried too).  The
 * control map is written as `pktscope filter add` writes it
 * (ps_filter_skip).  Interleaved rounds, the median reported; the ratio to
 * "no rule" is what to read, absolute times move between machines.
 *
 *   bench_filter [-r repeat] [-n rounds] [-v]
 */
#include <linux/bpf.h>
#include "pktscope.h"
#include "drops.h"
#include "xdp_stats.skel.h"
#include "tc_stats.skel.h"
#include "bench.h"

#define MAX_ROUNDS 51

enum setup { S_NONE, S_ONE_MISS, S_ONE_MISS_TRIED, S_ONE_MATCH, S_16_MISS, S_MAX };
static const char *setup_name[S_MAX] = {
	"no rule", "1 rule, no match", "1 rule, no match, tried", "1 rule, match, kept",
	"16 rules, no match",
};

static void set_rules(int rules_fd, int ctl_fd, int dir, enum setup s)
{
	struct ps_filter_ctl ctl = { .version = PS_FILTER_VERSION };
	struct ps_rule rules[PS_RULES_MAX] = { 0 };
	__u32 k, n = s == S_16_MISS ? PS_RULES_MAX : s == S_NONE ? 0 : 1;

	for (k = 0; k < n; k++) {
		struct ps_rule *r = &rules[k];

		r->active = 1;
		r->match = PS_RM_PROTO | PS_RM_DPORT;
		r->proto = 17;
		/* 73, 137, ...: 9 modulo 64, the prefilter lets the frame through. */
		r->dport = s == S_ONE_MATCH ? 9 : s == S_ONE_MISS ? 10 : 9 + 64 * (k + 1);
		if (s == S_ONE_MATCH) {
			r->mode = PS_RULE_EVERY;
			r->every = 1000000000;
		}
		ctl.mask[dir] |= 1u << k;
	}
	for (k = 0; k < PS_RULES_MAX; k++)
		bpf_map_update_elem(rules_fd, &k, &rules[k], 0);
	ctl.skip[dir] = ps_filter_skip(rules, ctl.mask[dir]);
	k = 0;
	bpf_map_update_elem(ctl_fd, &k, &ctl, 0);
}

int main(int argc, char **argv)
{
	static double t[2][S_MAX][MAX_ROUNDS];
	unsigned long repeat = 1000000, rounds = 7;
	struct xdp_stats_bpf *xdp;
	struct tc_stats_bpf *tc;
	struct frame f;
	int h, s, done;
	unsigned long r;

	done = bench_options(argc, argv, "bench_filter", &repeat, &rounds, MAX_ROUNDS);
	if (done >= 0)
		return done;
	xdp = xdp_stats_bpf__open_and_load();
	tc = tc_stats_bpf__open_and_load();
	if (!xdp || !tc) {
		fprintf(stderr, "bench_filter: load the XDP/TC programs: %s (run as root after "
			"'make')\n", strerror(errno));
		return 1;
	}
	f_init(&f); f_eth(&f, ETH_IP); f_ipv4(&f, P_UDP, 5, 0); f_udp(&f);
	f_pad_to(&f, 64); f_fin(&f);

	for (r = 0; r < rounds; r++) {
		for (s = 0; s < S_MAX; s++) {
			/* Flip the order every round: drift hits every setup alike. */
			int ss = r % 2 ? S_MAX - 1 - s : s;

			set_rules(bpf_map__fd(xdp->maps.ps_rules), bpf_map__fd(xdp->maps.data_fctl),
				  PS_DIR_XDP, ss);
			set_rules(bpf_map__fd(tc->maps.ps_rules), bpf_map__fd(tc->maps.data_fctl),
				  PS_DIR_TC_IN, ss);
			if (bench_run(bpf_program__fd(xdp->progs.ps_xdp), &f, repeat, &t[0][ss][r],
				      NULL) ||
			    bench_run(bpf_program__fd(tc->progs.ps_tc_in), &f, repeat, &t[1][ss][r],
				      NULL)) {
				fprintf(stderr, "bench_filter: BPF_PROG_TEST_RUN with %s: %s\n",
					setup_name[ss], strerror(errno));
				return 1;
			}
		}
	}
	printf("%-6s %-22s %12s %10s\n", "HOOK", "RULES", "NS/PACKET", "RATIO");
	for (h = 0; h < 2; h++) {
		double base = 0;

		for (s = 0; s < S_MAX; s++) {
			double m;

			qsort(t[h][s], rounds, sizeof(double), bench_cmp_double);
			m = t[h][s][rounds / 2];
			if (s == S_NONE)
				base = m;
			printf("%-6s %-22s %12.1f %9.2fx\n", h ? "tc_in" : "xdp", setup_name[s], m,
			       base > 0 ? m / base : 0);
		}
	}
	xdp_stats_bpf__destroy(xdp);
	tc_stats_bpf__destroy(tc);
	return 0;
}
