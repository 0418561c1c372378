// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Per-packet cost of pktscope's XDP and TC programs, through BPF_PROG_TEST_RUN
 * with a large repeat count, next to an empty program of the same hook
 * (tests/bpf/empty.bpf.c) measured in the same run.  The empty program's time
 * is the fixed cost of the test_run loop itself; the ratio says how much the
 * parse + accounting adds on top.
 *
 * Five feature sets, each its own loaded copy of the programs, configured
 * the way `pktscope attach` does it:
 *   counters  attach without --rtt: RTT code removed (rodata flag off), no rule
 *   rtt       attach --rtt (TC: --rtt --no-xdp, so TC ingress does the RTT
 *             matching XDP would otherwise do)
 *   filter    counters + one drop rule that does not match (UDP dport 10)
 *   all       rtt + that rule
 *   alltried  all, with the port prefilter's bits cleared: the rule is tried
 *             on every frame, as it is for a packet whose port shares the
 *             rule's bit (the frame's port modulo 64)
 *
 * And count (tests/bpf/empty.bpf.c's count_xdp / count_tc): packets and bytes
 * in a per-CPU array, no parsing, the cheapest accounting there is.
 *
 * And, at XDP, the peer a user would load for the drop rule: xdp-filter of
 * xdp-tools, whose BPF objects libxdp installs (found where xdp-filter finds
 * them: $LIBXDP_OBJECT_PATH, else /usr/lib/x86_64-linux-gnu/bpf).
 * `xdp-filter load IFACE` loads xdpfilt_alw_all.o (policy allow, all
 * features: the defaults), `xdp-filter load -f udp IFACE` xdpfilt_alw_udp.o;
 * `xdp-filter port 10 -p udp` then sets the rule pktscope's filter sets have.  Both peers are loaded and
 * given that rule here the same way (see peer_load), and must drop a UDP
 * frame to port 10 and pass the bench's frames, as pktscope's rule must.
 * Without the objects the peer rows are left out, with a note on stderr.
 *
 * Every round runs every (frame, hook) pair through the empty program, the
 * five sets and count back to back, in an order rotated every round, so a noisy
 * neighbour on a shared machine moves all sides alike.  Output: one line per
 * (frame, hook, program) with the ns/packet of every round, for
 * tests/bench/bench_progrun.sh to turn into figures:
 *
 *   RAW frame hook program ns1 ns2 ...
 *
 *   bench_progrun [-r repeat] [-n rounds] [-v]
 */
#include <arpa/inet.h>
#include <linux/bpf.h>
#include "pktscope.h"
#include "drops.h"
#include "xdp_stats.skel.h"
#include "tc_stats.skel.h"
#include "empty.skel.h"
#include "bench.h"

#define MAX_ROUNDS	BENCH_MAX_ROUNDS
#define NFRAMES		4
#define NHOOKS		2
#define NSETS		5	/* feature sets; program index 0 is the empty one */
#define P_COUNT		(NSETS + 1)	/* count_xdp / count_tc */
#define NPEERS		2	/* then the XDP peers, xdp-filter default and -f udp */
#define NPROGS		(P_COUNT + 1 + NPEERS)

static const char *const prog_name[NPROGS] = { "empty", "counters", "rtt", "filter", "all",
						      "alltried", "count", "xdpfilter",
						      "xdpfilter-udp" };
static const char *const peer_file[NPEERS] = { "xdpfilt_alw_all.o", "xdpfilt_alw_udp.o" };
static const char *const hook_name[NHOOKS] = { "xdp", "tc" };

struct bench_frame {
	const char *name;
	struct frame f;
};

static int run(int prog_fd, const struct frame *f, __u32 repeat, __u32 want_rc, double *ns)
{
	__u32 rc = 0;
	int err = bench_run(prog_fd, f, repeat, ns, &rc);

	return err ? err : rc != want_rc ? -EPROTO : 0;
}

static void build_frames(struct bench_frame *bf)
{
	struct frame *f;

	bf[0].name = "udp4_64";
	f = &bf[0].f;
	f_init(f); f_eth(f, ETH_IP); f_ipv4(f, P_UDP, 5, 0); f_udp(f);
	f_pad_to(f, 64); f_fin(f);

	bf[1].name = "tcp6_1500";
	f = &bf[1].f;
	f_init(f); f_eth(f, ETH_IPV6); f_ipv6(f, P_TCP); f_tcp(f, 8);
	/* Options as Linux sends them on an established connection: NOP, NOP,
	 * timestamps (TSval 1000, TSecr 2000). */
	memcpy(f->b + f->len - 12, "\x01\x01\x08\x0a\x00\x00\x03\xe8\x00\x00\x07\xd0", 12);
	f_pad_to(f, 1500); f_fin(f);

	bf[2].name = "qinq_udp4_64";
	f = &bf[2].f;
	f_init(f); f_eth(f, ETH_8021AD); f_vlan(f, 10, ETH_8021Q); f_vlan(f, 20, ETH_IP);
	f_ipv4(f, P_UDP, 5, 0); f_udp(f); f_pad_to(f, 64); f_fin(f);

	/* Last fragment at offset 1480: no L4 header to read. */
	bf[3].name = "frag4_64";
	f = &bf[3].f;
	f_init(f); f_eth(f, ETH_IP); f_ipv4(f, P_UDP, 5, 1480 / 8);
	f_pad_to(f, 64); f_fin(f);
}

/*
 * One rule that never matches these frames (UDP to port 10; they go to 9,
 * 80 or have no port), the control map written as `pktscope filter add`
 * writes it: the port prefilter (ps_filter_skip) passes these frames without
 * trying the rule.  bench_filter times the rule tried too.
 */
static int set_rule(int rules_fd, int ctl_fd, int dir, bool prefilter)
{
	struct ps_filter_ctl ctl = { .version = PS_FILTER_VERSION };
	struct ps_rule rules[PS_RULES_MAX] = {
		{ .active = 1, .match = PS_RM_PROTO | PS_RM_DPORT, .proto = 17, .dport = 10 },
	};
	__u32 k = 0;

	ctl.mask[dir] = 1;
	ctl.skip[dir] = prefilter ? ps_filter_skip(rules, ctl.mask[dir]) : 0;
	if (bpf_map_update_elem(rules_fd, &k, &rules[0], 0) ||
	    bpf_map_update_elem(ctl_fd, &k, &ctl, 0))
		return -errno;
	return 0;
}

/*
 * xdp-filter's rule flags in its filter_ports map (xdp-tools'
 * xdp-filter/common_kern_user.h): the value of a port, in network byte
 * order as the key, is the set of these it applies to; the bits from 6 up
 * count the packets it matched.
 */
#define XF_FLAG_DST	(1u << 1)
#define XF_FLAG_UDP	(1u << 3)

/*
 * Open and load xdp-filter's object file in dir and give it the rule
 * `xdp-filter port 10 -p udp` (destination port, UDP) gives it: *prog_fd
 * is its XDP program.  xdp-filter pins the maps by name; here every pin path
 * is cleared before the load, so nothing is pinned.  NULL, errno set, on
 * failure.
 */
static struct bpf_object *peer_load(const char *dir, const char *file, int *prog_fd)
{
	int ncpu = libbpf_num_possible_cpus(), err = 0;
	__u32 key = htons(10);
	struct bpf_program *prog;
	struct bpf_object *obj;
	struct bpf_map *m;
	char path[4096];
	__u64 *v = NULL;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	obj = bpf_object__open_file(path, NULL);
	if (!obj)
		return NULL;
	for (m = bpf_object__next_map(obj, NULL); m; m = bpf_object__next_map(obj, m))
		bpf_map__set_pin_path(m, NULL);
	prog = bpf_object__next_program(obj, NULL);
	m = bpf_object__find_map_by_name(obj, "filter_ports");
	if (!prog || !m || ncpu < 1) {
		err = ENOENT;
		goto fail;
	}
	if (bpf_object__load(obj)) {
		err = errno;
		goto fail;
	}
	v = calloc(ncpu, sizeof(*v));
	if (!v) {
		err = ENOMEM;
		goto fail;
	}
	for (int i = 0; i < ncpu; i++)
		v[i] = XF_FLAG_DST | XF_FLAG_UDP;
	if (bpf_map_update_elem(bpf_map__fd(m), &key, v, 0)) {
		err = errno;
		goto fail;
	}
	free(v);
	*prog_fd = bpf_program__fd(prog);
	return obj;
fail:
	free(v);
	bpf_object__close(obj);
	errno = err;
	return NULL;
}

int main(int argc, char **argv)
{
	static struct bench_frame frames[NFRAMES];
	static double t[NFRAMES][NHOOKS][NPROGS][MAX_ROUNDS];
	struct xdp_stats_bpf *xdp[NSETS] = { 0 };
	struct tc_stats_bpf *tc[NSETS] = { 0 };
	struct bpf_object *peer[NPEERS] = { 0 };
	struct empty_bpf *empty = NULL;
	unsigned long repeat = 1000000, rounds = 7;
	const char *objdir = getenv("LIBXDP_OBJECT_PATH");
	int fds[NHOOKS][NPROGS];
	struct frame *to10;
	int err = 1, s, done;

	done = bench_options(argc, argv, "bench_progrun", &repeat, &rounds, MAX_ROUNDS);
	if (done >= 0)
		return done;
	build_frames(frames);
	/* -1: not at this hook (the peers are XDP only), or not here. */
	memset(fds, 0xff, sizeof(fds));
	empty = empty_bpf__open_and_load();
	if (!empty) {
		fprintf(stderr, "bench_progrun: load empty.bpf.o: %s (run as root after 'make')\n",
			strerror(errno));
		goto out;
	}
	fds[0][0] = bpf_program__fd(empty->progs.empty_xdp);
	fds[1][0] = bpf_program__fd(empty->progs.empty_tc);
	fds[0][P_COUNT] = bpf_program__fd(empty->progs.count_xdp);
	fds[1][P_COUNT] = bpf_program__fd(empty->progs.count_tc);
	for (s = 0; s < NSETS; s++) {
		int rtt = s == 1 || s >= 3, rule = s >= 2;

		xdp[s] = xdp_stats_bpf__open();
		tc[s] = tc_stats_bpf__open();
		if (!xdp[s] || !tc[s]) {
			fprintf(stderr, "bench_progrun: open the XDP/TC objects: %s\n", strerror(errno));
			goto out;
		}
		xdp[s]->rodata->ps_rtt_on = rtt;
		tc[s]->rodata->ps_rtt_on = rtt;
		tc[s]->rodata->ps_rtt_xdp = 0;
		if (xdp_stats_bpf__load(xdp[s]) || tc_stats_bpf__load(tc[s])) {
			fprintf(stderr, "bench_progrun: load %s set: %s (run as root after 'make'; "
				"-v for the verifier log)\n", prog_name[s + 1], strerror(errno));
			goto out;
		}
		if (rule && (set_rule(bpf_map__fd(xdp[s]->maps.ps_rules),
				      bpf_map__fd(xdp[s]->maps.data_fctl), PS_DIR_XDP, s != 4) ||
			     set_rule(bpf_map__fd(tc[s]->maps.ps_rules),
				      bpf_map__fd(tc[s]->maps.data_fctl), PS_DIR_TC_IN, s != 4))) {
			fprintf(stderr, "bench_progrun: set the filter rule: %s\n", strerror(errno));
			goto out;
		}
		fds[0][s + 1] = bpf_program__fd(xdp[s]->progs.ps_xdp);
		fds[1][s + 1] = bpf_program__fd(tc[s]->progs.ps_tc_in);
	}
	if (!objdir || !*objdir)
		objdir = "/usr/lib/x86_64-linux-gnu/bpf";
	for (s = 0; s < NPEERS; s++) {
		peer[s] = peer_load(objdir, peer_file[s], &fds[0][P_COUNT + 1 + s]);
		if (!peer[s])
			fprintf(stderr, "bench_progrun: note: no %s row: load %s/%s: %s (xdp-tools' "
				"BPF objects come with libxdp; set LIBXDP_OBJECT_PATH to their "
				"directory)\n", prog_name[P_COUNT + 1 + s], objdir, peer_file[s],
				strerror(errno));
	}

	/*
	 * The rule is live where it is set: a UDP frame to port 10 is dropped by
	 * pktscope's rule and by xdp-filter's (the bench's frames, below, must
	 * all pass).
	 */
	to10 = calloc(1, sizeof(*to10));
	if (!to10) {
		fprintf(stderr, "bench_progrun: %s\n", strerror(ENOMEM));
		goto out;
	}
	f_init(to10); f_eth(to10, ETH_IP); f_ipv4(to10, P_UDP, 5, 0); f_udp(to10);
	put16(to10->b + to10->udp + 2, 10);
	f_pad_to(to10, 64); f_fin(to10);
	for (int p = 3; p < NPROGS; p++) {
		double ns;

		if (p == P_COUNT || fds[0][p] < 0)
			continue;
		if (run(fds[0][p], to10, 1, XDP_DROP, &ns)) {
			fprintf(stderr, "bench_progrun: %s does not drop a UDP frame to port 10: "
				"its rule is not set as the bench means it\n", prog_name[p]);
			free(to10);
			goto out;
		}
	}
	free(to10);

	for (unsigned long r = 0; r < rounds; r++) {
		for (int fi = 0; fi < NFRAMES; fi++) {
			for (int h = 0; h < NHOOKS; h++) {
				__u32 rc = h ? 0 : XDP_PASS;

				/* Rotate the order every round: none always runs first. */
				for (int k = 0; k < NPROGS; k++) {
					int p = (k + r) % NPROGS;

					if (fds[h][p] < 0)
						continue;
					err = run(fds[h][p], &frames[fi].f, repeat, rc, &t[fi][h][p][r]);
					if (err) {
						fprintf(stderr, "bench_progrun: BPF_PROG_TEST_RUN %s %s on %s: %s\n",
							hook_name[h], prog_name[p], frames[fi].name,
							err == -EPROTO ? "unexpected return code" :
							strerror(-err));
						err = 1;
						goto out;
					}
				}
			}
		}
	}

	for (int fi = 0; fi < NFRAMES; fi++)
		for (int h = 0; h < NHOOKS; h++)
			for (int p = 0; p < NPROGS; p++) {
				if (fds[h][p] < 0)
					continue;
				printf("RAW %s %s %s", frames[fi].name, hook_name[h], prog_name[p]);
				for (unsigned long r = 0; r < rounds; r++)
					printf(" %.3f", t[fi][h][p][r]);
				printf("\n");
			}
	err = 0;
out:
	for (s = 0; s < NSETS; s++) {
		tc_stats_bpf__destroy(tc[s]);
		xdp_stats_bpf__destroy(xdp[s]);
	}
	for (s = 0; s < NPEERS; s++)
		bpf_object__close(peer[s]);
	empty_bpf__destroy(empty);
	return err;
}
