// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The pktscope side of the differential parser test (tests/test_diffparse.sh):
 * reads a pcap, runs every frame once through ps_xdp and ps_tc_in with
 * BPF_PROG_TEST_RUN and prints the classification read back from the
 * counter deltas, one line per frame:
 *
 *   <frame number> xdp <l3> <l4> <ok|trunc|malf> <layer|-> tc <same, or "refused">
 *
 * Not a self-contained test (it needs a pcap and a reference to compare
 * with), so it is not named test_* and tests/test_unit.sh does not run it.
 *   difftest_parser FILE.pcap
 * Exit status: 0 when every frame was run, 1 on a setup or run error.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "pktscope.h"
#include "drops.h"	/* struct ps_filter_ctl, which the skeletons embed */
#include "xdp_stats.skel.h"
#include "tc_stats.skel.h"

/* Largest frame the tool hands on: XDP test_run takes one page plus frags. */
#define SNAP_MAX	(64 * 1024)

static const char *const l3_names[PS_L3_MAX] = { "ipv4", "ipv6", "arp", "other" };
static const char *const l4_names[PS_L4_MAX] = {
	"tcp", "udp", "icmp", "icmpv6", "other", "none" };
static const char *const layer_names[PS_LAYER_MAX] = {
	"eth", "vlan", "arp", "ipv4", "ipv6", "ipv6_ext", "tcp", "udp", "icmp", "icmpv6" };

static int ncpus;

struct slot {
	int map_fd;
	__u32 key;
	struct ps_counters sum;		/* last read */
	struct ps_pcpu_counters *percpu;
};

static int slot_read(struct slot *s, struct ps_counters *out)
{
	int err;

	/* libbpf returns -errno itself; errno alone could be 0 here. */
	err = bpf_map_lookup_elem(s->map_fd, &s->key, s->percpu);
	if (err)
		return err;
	memset(out, 0, sizeof(*out));
	for (int c = 0; c < ncpus; c++)
		ps_counters_add(out, &s->percpu[c]);
	return 0;
}

/* Index of the one slot of arr[n] that moved by exactly 1; -1 when none, -2 when ambiguous. */
static int moved(const __u64 *a, const __u64 *b, int n)
{
	int k = -1;

	for (int i = 0; i < n; i++) {
		__u64 d = a[i] - b[i];

		if (!d)
			continue;
		if (d != 1 || k != -1)
			return -2;
		k = i;
	}
	return k;
}

/* Run the frame, print " <l3> <l4> <verdict> <layer>" from the deltas. */
static int run(struct slot *s, int prog_fd, const __u8 *buf, __u32 len, int is_tc)
{
	struct ps_counters now;
	int l3, l4, tr, ml, err;
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = buf,
		.data_size_in = len,
		.repeat = 1,
	);

	err = bpf_prog_test_run_opts(prog_fd, &opts);
	if (err && errno == EINVAL && is_tc) {
		/* TC test_run wants a full IP header after an IP EtherType. */
		printf(" refused");
		return 0;
	}
	if (err) {
		fprintf(stderr, "BPF_PROG_TEST_RUN of a %u-byte frame: %s\n", len, strerror(errno));
		return -1;
	}
	err = slot_read(s, &now);
	if (err) {
		fprintf(stderr, "read ps_stats: %s\n", strerror(-err));
		return -1;
	}
	if (now.pkts - s->sum.pkts != 1) {
		fprintf(stderr, "ps_stats.pkts moved by %llu, not 1\n",
			(unsigned long long)(now.pkts - s->sum.pkts));
		return -1;
	}
	l3 = moved(now.l3_pkts, s->sum.l3_pkts, PS_L3_MAX);
	l4 = moved(now.l4_pkts, s->sum.l4_pkts, PS_L4_MAX);
	tr = moved(now.truncated, s->sum.truncated, PS_LAYER_MAX);
	ml = moved(now.malformed, s->sum.malformed, PS_LAYER_MAX);
	s->sum = now;
	if (l3 < 0 || l4 < 0 || tr < -1 || ml < -1 || (tr >= 0 && ml >= 0)) {
		fprintf(stderr, "counter deltas are not one classification (l3 %d l4 %d trunc %d malf %d)\n",
			l3, l4, tr, ml);
		return -1;
	}
	printf(" %s %s %s %s", l3_names[l3], l4_names[l4],
	       tr >= 0 ? "trunc" : ml >= 0 ? "malf" : "ok",
	       tr >= 0 ? layer_names[tr] : ml >= 0 ? layer_names[ml] : "-");
	return 0;
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level != LIBBPF_WARN || !getenv("PS_TEST_VERBOSE"))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static __u32 rd32(const __u8 *p, int swap)
{
	__u32 v;

	memcpy(&v, p, 4);
	return swap ? __builtin_bswap32(v) : v;
}

int main(int argc, char **argv)
{
	struct xdp_stats_bpf *xdp = NULL;
	struct tc_stats_bpf *tc = NULL;
	struct slot sx = { .key = PS_DIR_XDP }, st = { .key = PS_DIR_TC_IN };
	__u8 gh[24], rh[16];
	static __u8 buf[SNAP_MAX];
	unsigned long n = 0;
	int swap, ret = 1;
	FILE *f;

	if (argc != 2) {
		fprintf(stderr, "usage: %s FILE.pcap\n", argv[0]);
		return 2;
	}
	f = fopen(argv[1], "rb");
	if (!f) {
		fprintf(stderr, "open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	/* pcap global header: magic, version, zone, sigfigs, snaplen, linktype. */
	if (fread(gh, 1, sizeof(gh), f) != sizeof(gh)) {
		fprintf(stderr, "%s: shorter than a pcap header\n", argv[1]);
		goto out;
	}
	if (rd32(gh, 0) == 0xa1b2c3d4)
		swap = 0;
	else if (rd32(gh, 1) == 0xa1b2c3d4)
		swap = 1;
	else {
		fprintf(stderr, "%s: not a microsecond pcap file (pcapng is not read)\n", argv[1]);
		goto out;
	}
	if (rd32(gh + 20, swap) != 1) {
		fprintf(stderr, "%s: link type %u, want 1 (Ethernet)\n", argv[1], rd32(gh + 20, swap));
		goto out;
	}

	libbpf_set_print(libbpf_quiet);
	ncpus = libbpf_num_possible_cpus();
	if (ncpus <= 0) {
		fprintf(stderr, "cannot count possible CPUs\n");
		goto out;
	}
	xdp = xdp_stats_bpf__open_and_load();
	tc = tc_stats_bpf__open_and_load();
	if (!xdp || !tc) {
		fprintf(stderr, "open and load the XDP/TC objects: %s (PS_TEST_VERBOSE=1 for the verifier log)\n",
			strerror(errno));
		goto out;
	}
	sx.map_fd = bpf_map__fd(xdp->maps.ps_stats);
	st.map_fd = bpf_map__fd(tc->maps.ps_stats);
	sx.percpu = calloc(ncpus, sizeof(struct ps_pcpu_counters));
	st.percpu = calloc(ncpus, sizeof(struct ps_pcpu_counters));
	if (!sx.percpu || !st.percpu || slot_read(&sx, &sx.sum) || slot_read(&st, &st.sum)) {
		fprintf(stderr, "read ps_stats: %s\n", strerror(errno));
		goto out;
	}

	while (fread(rh, 1, sizeof(rh), f) == sizeof(rh)) {
		__u32 caplen = rd32(rh + 8, swap);

		n++;
		if (caplen > sizeof(buf) || fread(buf, 1, caplen, f) != caplen) {
			fprintf(stderr, "%s: record %lu: bad length %u or short file\n",
				argv[1], n, caplen);
			goto out;
		}
		printf("%lu xdp", n);
		/* XDP test_run refuses frames shorter than an Ethernet header. */
		if (caplen < 14)
			printf(" refused");
		else if (run(&sx, bpf_program__fd(xdp->progs.ps_xdp), buf, caplen, 0))
			goto out;
		printf(" tc");
		if (caplen < 14)
			printf(" refused");
		else if (run(&st, bpf_program__fd(tc->progs.ps_tc_in), buf, caplen, 1))
			goto out;
		printf("\n");
	}
	if (ferror(f) || !feof(f)) {
		fprintf(stderr, "%s: read error after record %lu\n", argv[1], n);
		goto out;
	}
	ret = 0;
out:
	fflush(stdout);
	free(sx.percpu);
	free(st.percpu);
	tc_stats_bpf__destroy(tc);
	xdp_stats_bpf__destroy(xdp);
	fclose(f);
	return ret;
}
