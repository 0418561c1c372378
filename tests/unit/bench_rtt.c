// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Per-packet cost of passive RTT tracking: the XDP and TC programs loaded
 * twice, RTT off (the default rodata) and on (attach --rtt), run side by side
 * through BPF_PROG_TEST_RUN on the same frames; the ratio on/off is the price
 * of --rtt per packet.  Rounds interleave (off, on, on, off, ...) and the
 * median is reported, like bench_progrun.
 *
 * The frames repeat, so the steady state measured is: egress a TSval already
 * outstanding (a duplicate: one failed hash insert), a segment range already
 * sent (a retransmission), ingress an echo that matches nothing (lookups).
 * tcp4_ts_ack is what a sender receives most: the ACK of tcp4_ts_100's flow,
 * while that flow's TSval (timed by the egress runs before it, the XDP and TC
 * objects sharing their RTT maps as attach makes them) is pending, echoing
 * an earlier TSval.
 *
 *   bench_rtt [-r repeat] [-n rounds] [-v]
 */
#include <linux/bpf.h>
#include "pktscope.h"
#include "drops.h"	/* struct ps_filter_ctl, which the skeletons embed */
#include "xdp_stats.skel.h"
#include "tc_stats.skel.h"
#include "bench.h"

#define MAX_ROUNDS	BENCH_MAX_ROUNDS
#define NFRAMES		5

struct bench_frame {
	const char *name;
	struct frame f;
};

/* TCP/IPv4 with NOP, NOP, timestamps and len bytes of payload. */
static void tcp_frame(struct frame *f, bool ts, size_t payload)
{
	__u8 *tcp;

	f_init(f);
	f_eth(f, ETH_IP);
	f_ipv4(f, P_TCP, 5, 0);
	tcp = f->b + f->len;
	f_tcp(f, ts ? 8 : 5);
	tcp[4] = 0x12;		/* sequence number */
	tcp[11] = 0x34;		/* acknowledgment number */
	if (ts)
		memcpy(tcp + 20, "\x01\x01\x08\x0a\x00\x01\x00\x00\x00\x02\x00\x00", 12);
	f_payload(f, payload);
	f_fin(f);
}

static void build_frames(struct bench_frame *bf)
{
	__u8 *p;

	bf[0].name = "udp4_64";
	f_init(&bf[0].f); f_eth(&bf[0].f, ETH_IP); f_ipv4(&bf[0].f, P_UDP, 5, 0);
	f_udp(&bf[0].f); f_pad_to(&bf[0].f, 64); f_fin(&bf[0].f);

	bf[1].name = "tcp4_ts_100";
	tcp_frame(&bf[1].f, true, 100);

	bf[2].name = "tcp4_nots_100";
	tcp_frame(&bf[2].f, false, 100);

	bf[3].name = "icmp4_echo";
	f_init(&bf[3].f); f_eth(&bf[3].f, ETH_IP); f_ipv4(&bf[3].f, P_ICMP, 5, 0);
	p = bf[3].f.b + bf[3].f.len;
	f_icmp(&bf[3].f);
	p[5] = 7;		/* id */
	p[7] = 1;		/* sequence */
	f_pad_to(&bf[3].f, 98); f_fin(&bf[3].f);

	/* tcp4_ts_100 answered: addresses and ports swapped, a pure ACK. */
	bf[4].name = "tcp4_ts_ack";
	tcp_frame(&bf[4].f, true, 0);
	p = bf[4].f.b + bf[4].f.ip4;
	memcpy(p + 12, "\x0a\x00\x00\x02\x0a\x00\x00\x01", 8);
	p += 20;
	put16(p, 80);
	put16(p + 2, 40000);
	memcpy(p + 20 + 4, "\x00\x00\x00\x07\x00\x00\xff\xff", 8);	/* TSval, TSecr */
	f_fin(&bf[4].f);
}

int main(int argc, char **argv)
{
	static struct bench_frame frames[NFRAMES];
	static const char *const hook_name[3] = { "xdp", "tc_in", "tc_out" };
	struct xdp_stats_bpf *xdp[2] = {};
	struct tc_stats_bpf *tc[2] = {};
	unsigned long repeat = 1000000, rounds = 7;
	static double ns[NFRAMES][3][2][MAX_ROUNDS];
	int err = 1, i, done;

	done = bench_options(argc, argv, "bench_rtt", &repeat, &rounds, MAX_ROUNDS);
	if (done >= 0)
		return done;
	build_frames(frames);
	for (i = 0; i < 2; i++) {
		xdp[i] = xdp_stats_bpf__open();
		tc[i] = tc_stats_bpf__open();
		if (!xdp[i] || !tc[i])
			goto load_err;
		xdp[i]->rodata->ps_rtt_on = i;
		tc[i]->rodata->ps_rtt_on = i;
		/* TC ingress does the ingress side here, as without XDP. */
		tc[i]->rodata->ps_rtt_xdp = 0;
		if (tc_stats_bpf__load(tc[i]) || share_rtt_maps(xdp[i]->obj, tc[i]->obj) ||
		    xdp_stats_bpf__load(xdp[i]))
			goto load_err;
	}

	for (unsigned long r = 0; r < rounds; r++) {
		for (int fi = 0; fi < NFRAMES; fi++) {
			for (int h = 0; h < 3; h++) {
				int fd[2];

				for (i = 0; i < 2; i++)
					fd[i] = h == 0 ? bpf_program__fd(xdp[i]->progs.ps_xdp) :
						h == 1 ? bpf_program__fd(tc[i]->progs.ps_tc_in) :
							 bpf_program__fd(tc[i]->progs.ps_tc_out);
				for (i = 0; i < 2; i++) {
					/* Flip the order every round. */
					int which = r % 2 ? 1 - i : i;

					err = bench_run(fd[which], &frames[fi].f, repeat,
							&ns[fi][h][which][r], NULL);
					if (err) {
						fprintf(stderr, "bench_rtt: BPF_PROG_TEST_RUN %s on %s: %s\n",
							hook_name[h], frames[fi].name, strerror(-err));
						err = 1;
						goto out;
					}
				}
			}
		}
	}

	printf("BPF_PROG_TEST_RUN, repeat %lu, median of %lu interleaved rounds\n", repeat, rounds);
	printf("%-14s %-6s %5s  %12s  %12s  %8s  %6s\n", "frame", "hook", "bytes", "rtt off ns",
	       "rtt on ns", "added ns", "ratio");
	for (int fi = 0; fi < NFRAMES; fi++) {
		for (int h = 0; h < 3; h++) {
			double off = bench_median(ns[fi][h][0], rounds);
			double on = bench_median(ns[fi][h][1], rounds);
			double ratios[MAX_ROUNDS] = { 0 };

			for (unsigned long r = 0; r < rounds; r++)
				ratios[r] = ns[fi][h][1][r] / ns[fi][h][0][r];
			printf("%-14s %-6s %5zu  %12.2f  %12.2f  %8.2f  %5.2fx\n", frames[fi].name,
			       hook_name[h], frames[fi].f.len, off, on, on - off,
			       bench_median(ratios, rounds));
		}
	}
	printf("ns: CPU time of the calling thread / repeat (median); ratio: median of the\n"
	       "per-round on/off ratios.  Off is the default attach (the RTT code is dead\n"
	       "and removed by the verifier); on is attach --rtt.\n");
	err = 0;
	goto out;
load_err:
	fprintf(stderr, "bench_rtt: load the XDP/TC objects: %s (run as root after 'make')\n",
		strerror(errno));
	err = 1;
out:
	for (i = 0; i < 2; i++) {
		tc_stats_bpf__destroy(tc[i]);
		xdp_stats_bpf__destroy(xdp[i]);
	}
	return err;
}
