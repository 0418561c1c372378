// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * attach / detach / status: the lifecycle of pktscope's packet accounting on
 * an interface.
 *
 * attach is all-or-nothing: each step that succeeded is undone in reverse
 * order when a later one fails, so a refused attach leaves no program, no
 * filter and no pin behind.  detach removes only what pktscope attached: the
 * XDP program whose id it recorded, the TC filters at its own handle and
 * priority whose program ids match, and the clsact qdisc only when pktscope
 * created it and no other filter uses it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/pkt_sched.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "ctl.h"
#include "output.h"
#include "tc_stats.skel.h"
#include "xdp_stats.skel.h"
#include "rtt.h"

/* pktscope's own TC filter slot ("pS"); nobody else's filter is touched. */
#define PS_TC_HANDLE	0x7053
#define PS_TC_PRIO	0x7053

struct attach_opts {
	enum xdp_attach_mode mode;	/* XDP_MODE_UNSPEC means auto */
	bool no_xdp, no_tc, replace;
	bool tcp;			/* also the TCP tracepoint probes (ctl/tcp.c) */
	uint64_t tcp_flows;		/* their flow table bound */
	bool rtt;			/* passive RTT tracking (bpf/rtt.h, ctl/rtt.c) */
};

/* ---- TC ------------------------------------------------------------------- */

/* Number of filters on a clsact parent, by an rtnetlink dump. */
static int tc_count_filters(int ifindex, __u32 parent)
{
	struct {
		struct nlmsghdr nh;
		struct tcmsg tc;
	} req = {
		.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct tcmsg)),
		.nh.nlmsg_type = RTM_GETTFILTER,
		.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		.nh.nlmsg_seq = 1,
		.tc.tcm_family = AF_UNSPEC,
		.tc.tcm_ifindex = ifindex,
		.tc.tcm_parent = parent,
	};
	char buf[16384];
	int fd, n = 0, done = 0;
	ssize_t len;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (send(fd, &req, req.nh.nlmsg_len, 0) < 0) {
		n = -errno;
		goto out;
	}
	while (!done && (len = recv(fd, buf, sizeof(buf), 0)) > 0) {
		struct nlmsghdr *nh;

		for (nh = (void *)buf; NLMSG_OK(nh, len); nh = NLMSG_NEXT(nh, len)) {
			if (nh->nlmsg_type == NLMSG_DONE) {
				done = 1;
				break;
			}
			if (nh->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(nh);

				n = e->error;
				done = 1;
				break;
			}
			if (nh->nlmsg_type == RTM_NEWTFILTER)
				n++;
		}
	}
out:
	close(fd);
	return n;
}

/* Id of the program in pktscope's filter slot at ap, 0 when none. */
static __u32 tc_prog_at(int ifindex, enum bpf_tc_attach_point ap)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = ap);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = PS_TC_HANDLE, .priority = PS_TC_PRIO);

	return bpf_tc_query(&hook, &opts) ? 0 : opts.prog_id;
}

/* Detach our filter at attach point ap if the program there is ours. */
static void tc_detach_one(int ifindex, enum bpf_tc_attach_point ap, __u32 prog_id)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = ap);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = PS_TC_HANDLE, .priority = PS_TC_PRIO);

	if (bpf_tc_query(&hook, &opts))
		return;
	if (prog_id && opts.prog_id != prog_id) {
		ps_warn("TC filter %x:%x on ifindex %d runs program %u, not pktscope's %u: left alone",
			PS_TC_HANDLE, PS_TC_PRIO, ifindex, opts.prog_id, prog_id);
		return;
	}
	opts.prog_fd = opts.prog_id = 0;
	opts.flags = 0;
	bpf_tc_detach(&hook, &opts);
}

static void tc_detach(int ifindex, const struct ps_meta *m)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);

	if (m->flags & PS_META_TC_IN)
		tc_detach_one(ifindex, BPF_TC_INGRESS, m->tc_in_prog_id);
	if (m->flags & PS_META_TC_OUT)
		tc_detach_one(ifindex, BPF_TC_EGRESS, m->tc_out_prog_id);
	/* The qdisc goes only if we made it and nobody else put a filter on it. */
	if ((m->flags & PS_META_CLSACT_OURS) &&
	    tc_count_filters(ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS)) == 0 &&
	    tc_count_filters(ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS)) == 0)
		bpf_tc_hook_destroy(&hook);
}

static int tc_attach(struct tc_stats_bpf *skel, int ifindex, const char *ifname,
		     struct ps_meta *m)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = PS_TC_HANDLE, .priority = PS_TC_PRIO);
	int err;

	err = bpf_tc_hook_create(&hook);
	if (!err)
		m->flags |= PS_META_CLSACT_OURS;
	else if (err != -EEXIST) {
		ps_err("create clsact qdisc on %s: %s", ifname, strerror(-err));
		return err;
	}
	opts.prog_fd = bpf_program__fd(skel->progs.ps_tc_in);
	err = bpf_tc_attach(&hook, &opts);
	if (err) {
		ps_err("attach TC ingress to %s: %s%s", ifname, strerror(-err),
		       err == -EEXIST ? " (a filter already uses pktscope's handle 0x7053 "
		       "and priority 0x7053: see 'tc filter show dev IFACE ingress')" : "");
		goto fail;
	}
	m->flags |= PS_META_TC_IN;
	m->tc_in_prog_id = opts.prog_id;

	hook.attach_point = BPF_TC_EGRESS;
	opts.prog_fd = bpf_program__fd(skel->progs.ps_tc_out);
	opts.prog_id = 0;
	err = bpf_tc_attach(&hook, &opts);
	if (err) {
		ps_err("attach TC egress to %s: %s", ifname, strerror(-err));
		goto fail;
	}
	m->flags |= PS_META_TC_OUT;
	m->tc_out_prog_id = opts.prog_id;
	return 0;
fail:
	tc_detach(ifindex, m);
	m->flags &= ~(PS_META_TC_IN | PS_META_TC_OUT | PS_META_CLSACT_OURS);
	return err;
}

/* ---- XDP ------------------------------------------------------------------ */

static const char *mode_name(enum xdp_attach_mode mode)
{
	return mode == XDP_MODE_SKB ? "generic" : mode == XDP_MODE_NATIVE ? "native" : "auto";
}

static int xdp_attach(struct xdp_stats_bpf *skel, int ifindex, const char *ifname,
		      enum xdp_attach_mode mode, struct ps_meta *m)
{
	DECLARE_LIBXDP_OPTS(xdp_program_opts, xopts, .obj = skel->obj,
			    .prog_name = "ps_xdp");
	struct xdp_program *prog;
	int err;

	prog = xdp_program__create(&xopts);
	err = libxdp_get_error(prog);
	if (err) {
		ps_err("prepare XDP program for %s: %s", ifname, strerror(-err));
		return err;
	}
	if (mode == XDP_MODE_UNSPEC) {
		err = xdp_program__attach(prog, ifindex, XDP_MODE_NATIVE, 0);
		mode = XDP_MODE_NATIVE;
		/* A permission error is not the driver's refusal: no fallback. */
		if (err && err != -EPERM && err != -EACCES) {
			ps_warn("native XDP on %s refused (%s); falling back to generic mode",
				ifname, strerror(-err));
			mode = XDP_MODE_SKB;
			err = xdp_program__attach(prog, ifindex, mode, 0);
		}
	} else {
		err = xdp_program__attach(prog, ifindex, mode, 0);
	}
	if (err) {
		ps_err("attach XDP to %s in %s mode: %s%s", ifname, mode_name(mode),
		       strerror(-err), mode == XDP_MODE_NATIVE ?
		       " (the driver may not support native XDP: try --mode generic)" : "");
		xdp_program__close(prog);
		return err;
	}
	m->flags |= PS_META_XDP;
	m->xdp_mode = mode == XDP_MODE_NATIVE ? PS_XDP_MODE_NATIVE : PS_XDP_MODE_GENERIC;
	m->xdp_prog_id = xdp_program__id(prog);
	xdp_program__close(prog);
	return 0;
}

/*
 * Remove our program from the interface's XDP: from libxdp's dispatcher when
 * there is one, or the legacy single program when it is ours.
 */
static int xdp_detach(int ifindex, const struct ps_meta *m)
{
	struct xdp_multiprog *mp;
	struct xdp_program *p;
	int err = 0;

	if (!(m->flags & PS_META_XDP))
		return 0;
	mp = xdp_multiprog__get_from_ifindex(ifindex);
	if (libxdp_get_error(mp))
		return 0;	/* nothing attached any more */
	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		if (p && xdp_program__id(p) == m->xdp_prog_id)
			err = xdp_multiprog__detach(mp);
		xdp_multiprog__close(mp);
		return err;
	}
	for (p = xdp_multiprog__next_prog(NULL, mp); p; p = xdp_multiprog__next_prog(p, mp)) {
		if (xdp_program__id(p) != m->xdp_prog_id)
			continue;
		err = xdp_program__detach(p, ifindex, xdp_multiprog__attach_mode(mp), 0);
		break;
	}
	xdp_multiprog__close(mp);
	return err;
}

/* ---- pins ------------------------------------------------------------------ */

/* Check (and create) /sys/fs/bpf/pktscope: a directory of ours, 0700. */
static int pin_root_ok(bool create)
{
	struct stat st;

	if (lstat(PS_PIN_ROOT, &st)) {
		if (errno != ENOENT || !create)
			return errno == ENOENT ? 0 : -1;
		if (mkdir(PS_PIN_ROOT, 0700)) {
			ps_err("create %s: %s", PS_PIN_ROOT, strerror(errno));
			return -1;
		}
		return 0;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 0077)) {
		ps_err("%s exists but is not a private directory of uid %u (mode %o, owner %u): "
		       "it is not pktscope's; move it away and retry", PS_PIN_ROOT,
		       geteuid(), st.st_mode & 07777, st.st_uid);
		return -1;
	}
	return 0;
}

/* ---- attach ------------------------------------------------------------------ */

static int do_detach(const char *dir, bool quiet);
static const char *live_state(const struct ps_meta *m);

static int parse_mode(const char *s, enum xdp_attach_mode *mode)
{
	if (!strcmp(s, "native") || !strcmp(s, "drv"))
		*mode = XDP_MODE_NATIVE;
	else if (!strcmp(s, "generic") || !strcmp(s, "skb"))
		*mode = XDP_MODE_SKB;
	else if (!strcmp(s, "auto"))
		*mode = XDP_MODE_UNSPEC;
	else {
		ps_err("unknown XDP mode '%s': give native, generic or auto", s);
		return -1;
	}
	return 0;
}

#define ATTACH_HELP							\
	"  --mode MODE     XDP mode: native, generic or auto (default: auto,\n" \
	"                  native with a fallback to generic)\n"	\
	"  --no-xdp        TC ingress and egress only\n"		\
	"  --no-tc         XDP only (no egress accounting)\n"	\
	"  --replace       detach an existing attachment first\n"	\
	"  --tcp           also pin the TCP probes of this netns (alone: without IFACE)\n" \
	"  --tcp-flows N   bound of their per-flow LRU table (default 65536)\n" \
	"  --rtt           passive RTT tracking (see 'pktscope rtt')\n"

int cmd_attach(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mode",	required_argument,	NULL, 'm' },
		{ "no-xdp",	no_argument,		NULL, 'X' },
		{ "no-tc",	no_argument,		NULL, 'T' },
		{ "replace",	no_argument,		NULL, 'r' },
		{ "tcp",	no_argument,		NULL, 'P' },
		{ "tcp-flows",	required_argument,	NULL, 'F' },
		{ "rtt",	no_argument,		NULL, 'R' },
		PS_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct attach_opts ao = { .mode = XDP_MODE_UNSPEC, .tcp_flows = 65536 };
	struct tc_stats_bpf *tc = NULL;
	struct xdp_stats_bpf *xdp = NULL;
	struct ps_meta m = {};
	char dir[PATH_MAX], ifname[IF_NAMESIZE];
	const char *iface;
	uint64_t ino;
	__u32 key = 0;
	int c, ifindex, err, r;

	while ((c = getopt_long(argc, argv, "m:" PS_COMMON_SHORTOPTS, opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (parse_mode(optarg, &ao.mode))
				return EXIT_USAGE;
			break;
		case 'X': ao.no_xdp = true; break;
		case 'T': ao.no_tc = true; break;
		case 'r': ao.replace = true; break;
		case 'P': ao.tcp = true; break;
		case 'R': ao.rtt = true; break;
		case 'F':
			if (parse_u64("--tcp-flows", optarg, 16, 1u << 24, &ao.tcp_flows))
				return EXIT_USAGE;
			break;
		default:
			r = ps_common_opt(c, optarg);
			if (r > 0) {
				ps_cmd_help("attach", ATTACH_HELP);
				return EXIT_OK;
			}
			if (r < 0)
				return EXIT_USAGE;
		}
	}
	if (ao.tcp && optind == argc)
		return tcp_persist_attach_flows(ao.tcp_flows);
	if (optind != argc - 1) {
		ps_err("attach takes one interface: pktscope attach IFACE [--tcp], or attach --tcp "
		       "(see --help)");
		return EXIT_USAGE;
	}
	if (ao.no_xdp && ao.no_tc) {
		ps_err("--no-xdp and --no-tc together leave nothing to attach: drop one");
		return EXIT_USAGE;
	}
	if (ao.rtt && ao.no_tc) {
		ps_err("--rtt needs TC egress, where requests are timed: drop --no-tc");
		return EXIT_USAGE;
	}
	iface = argv[optind];
	if (parse_ifindex(iface, &ifindex))
		return EXIT_USAGE;
	if (ps_need_root("attach") || ps_mount_bpffs() || ps_netns_ino(&ino) ||
	    pin_root_ok(true))
		return EXIT_RUNTIME;
	ps_pin_dir(ino, ifindex, dir, sizeof(dir));

	if (!access(dir, F_OK)) {
		struct ps_pins old;
		const char *st;

		if (ps_pins_open(dir, &old))
			return EXIT_RUNTIME;
		st = live_state(&old.meta);
		ps_pins_close(&old);
		/*
		 * Namespace inodes are reused once a namespace is gone, so pins
		 * left by a deleted netns can carry this directory's name: pins
		 * whose programs are no longer attached are stale, not ours.
		 */
		if (!strcmp(st, "ok") && !ao.replace) {
			ps_info("%s: pktscope is already attached (%s); nothing changed "
				"(use --replace to attach anew)", iface, dir);
			return EXIT_OK;
		}
		if (strcmp(st, "ok"))
			ps_info("%s: removing stale pins in %s (%s)", iface, dir, st);
		if (do_detach(dir, true))
			return EXIT_RUNTIME;
	}

	/* The TC object creates the maps; XDP reuses them. */
	tc = tc_stats_bpf__open();
	if (!tc) {
		err = -errno;
		ps_err("open TC program: %s", strerror(-err));
		return EXIT_RUNTIME;
	}
	if (ao.rtt) {
		tc->rodata->ps_rtt_on = 1;
		tc->rodata->ps_rtt_xdp = !ao.no_xdp;
	} else {
		/* Off: the RTT maps exist (both objects declare them) but hold nothing. */
		bpf_map__set_max_entries(tc->maps.ps_rtt_out, 1);
		bpf_map__set_max_entries(tc->maps.ps_rtt_flows, 1);
		bpf_map__set_max_entries(tc->maps.ps_rtt_events, 4096);
	}
	err = tc_stats_bpf__load(tc);
	if (err) {
		ps_err("load TC program: %s (run with -v for the verifier log)", strerror(-err));
		goto out_tc;
	}
	if_indextoname(ifindex, ifname);
	m.magic = PS_MAGIC;
	m.layout_version = PS_LAYOUT_VERSION;
	m.counters_size = sizeof(struct ps_counters);
	m.netns_ino = ino;
	m.ifindex = ifindex;
	m.tc_handle = PS_TC_HANDLE;
	m.tc_priority = PS_TC_PRIO;
	m.attach_time = time(NULL);
	snprintf(m.ifname, sizeof(m.ifname), "%s", ifname);

	/*
	 * Pin first, under a directory only we create: a concurrent attach of
	 * the same interface loses the mkdir race and stops here.
	 */
	if (mkdir(dir, 0700)) {
		err = -errno;
		if (err == -EEXIST)
			ps_info("%s: pktscope is already attached (%s); nothing changed", iface, dir);
		else
			ps_err("create %s: %s", dir, strerror(-err));
		goto out_tc;
	}
	if (ps_pin_fd(bpf_map__fd(tc->maps.ps_stats), dir, "stats") ||
	    ps_pin_fd(bpf_map__fd(tc->maps.ps_meta), dir, "meta") ||
	    ps_pin_fd(bpf_map__fd(tc->maps.ps_rules), dir, "filter_rules") ||
	    ps_pin_fd(bpf_map__fd(tc->maps.ps_fctl), dir, "filter_ctl") ||
	    ps_pin_fd(bpf_map__fd(tc->maps.ps_fstats), dir, "filter_stats")) {
		err = -1;
		goto out_pins;
	}
	if (ao.rtt &&
	    (ps_pin_fd(bpf_map__fd(tc->maps.ps_rtt_flows), dir, "rtt_flows") ||
	     ps_pin_fd(bpf_map__fd(tc->maps.ps_rtt_out), dir, "rtt_outstanding") ||
	     ps_pin_fd(bpf_map__fd(tc->maps.ps_rtt_hist), dir, "rtt_hist") ||
	     ps_pin_fd(bpf_map__fd(tc->maps.ps_rtt_ctrs), dir, "rtt_counters") ||
	     ps_pin_fd(bpf_map__fd(tc->maps.ps_rtt_ctl), dir, "rtt_ctl") ||
	     ps_pin_fd(bpf_map__fd(tc->maps.ps_rtt_events), dir, "rtt_events"))) {
		err = -1;
		goto out_pins;
	}
	/* Meta is complete only at the end; until then status shows no flags. */
	bpf_map_update_elem(bpf_map__fd(tc->maps.ps_meta), &key, &m, 0);

	if (!ao.no_xdp) {
		xdp = xdp_stats_bpf__open();
		if (!xdp) {
			err = -errno;
			ps_err("open XDP program: %s", strerror(-err));
			goto out_pins;
		}
		if (bpf_map__reuse_fd(xdp->maps.ps_stats, bpf_map__fd(tc->maps.ps_stats)) ||
		    bpf_map__reuse_fd(xdp->maps.ps_meta, bpf_map__fd(tc->maps.ps_meta)) ||
		    bpf_map__reuse_fd(xdp->maps.ps_rules, bpf_map__fd(tc->maps.ps_rules)) ||
		    bpf_map__reuse_fd(xdp->maps.ps_fctl, bpf_map__fd(tc->maps.ps_fctl)) ||
		    bpf_map__reuse_fd(xdp->maps.ps_fstats, bpf_map__fd(tc->maps.ps_fstats)) ||
		    bpf_map__reuse_fd(xdp->maps.ps_rtt_out, bpf_map__fd(tc->maps.ps_rtt_out)) ||
		    bpf_map__reuse_fd(xdp->maps.ps_rtt_flows, bpf_map__fd(tc->maps.ps_rtt_flows)) ||
		    bpf_map__reuse_fd(xdp->maps.ps_rtt_hist, bpf_map__fd(tc->maps.ps_rtt_hist)) ||
		    bpf_map__reuse_fd(xdp->maps.ps_rtt_ctrs, bpf_map__fd(tc->maps.ps_rtt_ctrs)) ||
		    bpf_map__reuse_fd(xdp->maps.ps_rtt_ctl, bpf_map__fd(tc->maps.ps_rtt_ctl)) ||
		    bpf_map__reuse_fd(xdp->maps.ps_rtt_events,
				      bpf_map__fd(tc->maps.ps_rtt_events))) {
			err = -errno;
			ps_err("share maps with the XDP program: %s", strerror(-err));
			goto out_pins;
		}
		xdp->rodata->ps_rtt_on = ao.rtt;
		err = xdp_attach(xdp, ifindex, iface, ao.mode, &m);
		if (err)
			goto out_pins;
	}
	if (!ao.no_tc) {
		err = tc_attach(tc, ifindex, iface, &m);
		if (err)
			goto out_xdp;
	}
	if (bpf_map_update_elem(bpf_map__fd(tc->maps.ps_meta), &key, &m, 0)) {
		err = -errno;
		ps_err("write %s/meta: %s", dir, strerror(-err));
		goto out_tcdet;
	}

	out_obj_open(NULL);
	out_str("iface", "attached to %s", iface);
	out_u64("ifindex", " (ifindex %llu)", ifindex);
	out_str("xdp_mode", ": xdp %s", ps_xdp_mode_names[m.xdp_mode]);
	out_u64("xdp_prog_id", NULL, m.xdp_prog_id);
	out_str("tc", ", tc %s", ao.no_tc ? "none" : "ingress+egress");
	out_u64("tc_ingress_prog_id", NULL, m.tc_in_prog_id);
	out_u64("tc_egress_prog_id", NULL, m.tc_out_prog_id);
	out_bool("rtt", ao.rtt ? ", rtt on" : NULL, ao.rtt);
	out_str("pin_dir", ", pinned at %s\n", dir);
	out_obj_close();
	out_doc_end();
	xdp_stats_bpf__destroy(xdp);
	tc_stats_bpf__destroy(tc);
	/* All or nothing: a refused TCP attach takes the interface's back. */
	if (ao.tcp) {
		r = tcp_persist_attach_flows(ao.tcp_flows);
		if (r) {
			do_detach(dir, true);
			return r;
		}
	}
	return EXIT_OK;

out_tcdet:
	tc_detach(ifindex, &m);
out_xdp:
	xdp_detach(ifindex, &m);
out_pins:
	ps_unpin_all(dir);
out_tc:
	xdp_stats_bpf__destroy(xdp);
	tc_stats_bpf__destroy(tc);
	return EXIT_RUNTIME;
}

/* ---- detach ------------------------------------------------------------------ */

/*
 * Detach what the pins in dir describe.  The interface is looked up in the
 * namespace recorded in the meta map; when the namespace or the interface is
 * gone, so are the attachments, and only the pins are left to remove.
 */
static int do_detach(const char *dir, bool quiet)
{
	struct ps_pins p;
	uint64_t cur;
	char path[PATH_MAX], name[64];
	int oldns = -1, nsfd = -1, err = 0;
	bool iface_ok = false;

	if (ps_pins_open(dir, &p))
		return -1;
	ps_netns_ino(&cur);
	if (p.meta.netns_ino != cur) {
		/* Find the namespace by its inode among the named ones. */
		ps_netns_name(p.meta.netns_ino, name, sizeof(name));
		snprintf(path, sizeof(path), "/run/netns/%s", name);
		nsfd = open(path, O_RDONLY | O_CLOEXEC);
		oldns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		if (nsfd >= 0 && oldns >= 0 && !setns(nsfd, CLONE_NEWNET))
			iface_ok = true;
	} else {
		iface_ok = true;
	}
	if (iface_ok) {
		char ifname[IF_NAMESIZE];

		iface_ok = if_indextoname(p.meta.ifindex, ifname) != NULL;
	}
	if (iface_ok) {
		err = xdp_detach(p.meta.ifindex, &p.meta);
		if (err)
			ps_warn("detach XDP from %s: %s", p.meta.ifname, strerror(-err));
		tc_detach(p.meta.ifindex, &p.meta);
	}
	if (oldns >= 0) {
		if (setns(oldns, CLONE_NEWNET))
			ps_warn("return to the original netns: %s", strerror(errno));
		close(oldns);
	}
	if (nsfd >= 0)
		close(nsfd);
	ps_pins_close(&p);
	ps_unpin_all(dir);
	if (!quiet)
		ps_info("detached from %s%s", p.meta.ifname,
			iface_ok ? "" : " (interface or netns already gone; pins removed)");
	return err ? -1 : 0;
}

int cmd_detach(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "tcp", no_argument, NULL, 'P' },
		PS_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	char dir[PATH_MAX];
	uint64_t ino;
	bool all = false, tcp = false;
	int c, r, ifindex, rc = EXIT_OK;

	while ((c = getopt_long(argc, argv, "a" PS_COMMON_SHORTOPTS, opts, NULL)) != -1) {
		if (c == 'a') {
			all = true;
			continue;
		}
		if (c == 'P') {
			tcp = true;
			continue;
		}
		r = ps_common_opt(c, optarg);
		if (r > 0) {
			ps_cmd_help("detach", "  -a, --all       every attachment, in every netns\n"
				    "  --tcp           the TCP probes of this netns (with or without IFACE)\n");
			return EXIT_OK;
		}
		if (r < 0)
			return EXIT_USAGE;
	}
	if (tcp && !all && optind == argc)
		return tcp_persist_detach();
	if (all ? optind != argc : optind != argc - 1) {
		ps_err("detach takes one interface, or --all: pktscope detach IFACE");
		return EXIT_USAGE;
	}
	if (all) {
		struct dirent *de;
		DIR *d;

		if (ps_need_root("detach") || ps_mount_bpffs())
			return EXIT_RUNTIME;
		d = opendir(PS_PIN_ROOT);
		if (!d)
			return EXIT_OK;
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(dir, sizeof(dir), "%s/%s", PS_PIN_ROOT, de->d_name);
			if (!strncmp(de->d_name, "tcp-", 4) || !strncmp(de->d_name, "drops-", 6)) {
				/* Pinned links: unpinning the last reference detaches. */
				ps_unpin_all(dir);
				continue;
			}
			if (do_detach(dir, false))
				rc = EXIT_RUNTIME;
		}
		closedir(d);
		return rc;
	}
	if (parse_ifindex(argv[optind], &ifindex))
		return EXIT_USAGE;
	if (ps_need_root("detach") || ps_mount_bpffs() || ps_netns_ino(&ino))
		return EXIT_RUNTIME;
	ps_pin_dir(ino, ifindex, dir, sizeof(dir));
	if (access(dir, F_OK)) {
		ps_err("%s has no pktscope attached (no %s): see 'pktscope status'",
		       argv[optind], dir);
		return EXIT_RUNTIME;
	}
	rc = do_detach(dir, false) ? EXIT_RUNTIME : EXIT_OK;
	if (tcp && rc == EXIT_OK)
		rc = tcp_persist_detach();
	return rc;
}

/* ---- status ------------------------------------------------------------------ */

/* Is the recorded XDP program still on the interface?  Run inside its netns. */
static const char *live_state(const struct ps_meta *m)
{
	char ifname[IF_NAMESIZE];
	struct xdp_multiprog *mp;
	struct xdp_program *p;
	bool found = false;

	if (!if_indextoname(m->ifindex, ifname))
		return "interface gone";
	if ((m->flags & PS_META_TC_IN) &&
	    tc_prog_at(m->ifindex, BPF_TC_INGRESS) != m->tc_in_prog_id)
		return "tc program gone";
	if ((m->flags & PS_META_TC_OUT) &&
	    tc_prog_at(m->ifindex, BPF_TC_EGRESS) != m->tc_out_prog_id)
		return "tc program gone";
	if (!(m->flags & PS_META_XDP))
		return "ok";
	mp = xdp_multiprog__get_from_ifindex(m->ifindex);
	if (libxdp_get_error(mp))
		return "xdp program gone";
	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		found = p && xdp_program__id(p) == m->xdp_prog_id;
	} else {
		for (p = xdp_multiprog__next_prog(NULL, mp); p && !found;
		     p = xdp_multiprog__next_prog(p, mp))
			found = xdp_program__id(p) == m->xdp_prog_id;
	}
	xdp_multiprog__close(mp);
	return found ? "ok" : "xdp program gone";
}

static const char *state_in_netns(const struct ps_meta *m, uint64_t cur, char *nsname,
				  size_t len)
{
	char path[PATH_MAX];
	const char *st = "netns gone";
	int nsfd, oldns;

	ps_netns_name(m->netns_ino, nsname, len);
	if (m->netns_ino == cur)
		return live_state(m);
	snprintf(path, sizeof(path), "/run/netns/%s", nsname);
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0)
		return st;
	oldns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (oldns >= 0 && !setns(nsfd, CLONE_NEWNET)) {
		st = live_state(m);
		if (setns(oldns, CLONE_NEWNET))
			ps_warn("return to the original netns: %s", strerror(errno));
	}
	if (oldns >= 0)
		close(oldns);
	close(nsfd);
	return st;
}

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		PS_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct dirent **ents = NULL;
	uint64_t cur;
	int c, r, i, n, shown = 0;

	while ((c = getopt_long(argc, argv, PS_COMMON_SHORTOPTS, opts, NULL)) != -1) {
		r = ps_common_opt(c, optarg);
		if (r > 0) {
			ps_cmd_help("status", "");
			return EXIT_OK;
		}
		if (r < 0)
			return EXIT_USAGE;
	}
	if (optind != argc) {
		ps_err("status takes no arguments");
		return EXIT_USAGE;
	}
	if (ps_need_root("status") || ps_mount_bpffs() || ps_netns_ino(&cur) ||
	    pin_root_ok(false))
		return EXIT_RUNTIME;

	n = scandir(PS_PIN_ROOT, &ents, NULL, alphasort);
	out_obj_open(NULL);
	out_arr_open("attachments");
	out_text("%-12s %-8s %-12s %-8s %-8s %-9s %-9s %-16s %s\n", "IFACE", "IFINDEX", "NETNS",
		 "XDP", "XDP_ID", "TC_IN_ID", "TC_OUT_ID", "STATE", "PIN_DIR");
	for (i = 0; i < n; i++) {
		char dir[PATH_MAX], nsname[64];
		struct ps_pins p;
		const char *st;

		/*
		 * TCP and drop probe pins (tcp-/drops-<netns>) are not interface
		 * attachments: stats --tcp and drops read them.
		 */
		if (ents[i]->d_name[0] == '.' || !strncmp(ents[i]->d_name, "tcp-", 4) ||
		    !strncmp(ents[i]->d_name, "drops-", 6))
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", PS_PIN_ROOT, ents[i]->d_name);
		if (ps_pins_open(dir, &p))
			continue;
		st = state_in_netns(&p.meta, cur, nsname, sizeof(nsname));
		out_obj_open(NULL);
		out_str("iface", "%-12s ", p.meta.ifname);
		out_u64("ifindex", "%-8llu ", p.meta.ifindex);
		out_str("netns", "%-12s ", nsname);
		out_u64("netns_ino", NULL, p.meta.netns_ino);
		out_str("xdp_mode", "%-8s ",
			ps_xdp_mode_names[p.meta.xdp_mode < 3 ? p.meta.xdp_mode : 0]);
		out_u64("xdp_prog_id", "%-8llu ", p.meta.xdp_prog_id);
		out_u64("tc_ingress_prog_id", "%-9llu ", p.meta.tc_in_prog_id);
		out_u64("tc_egress_prog_id", "%-9llu ", p.meta.tc_out_prog_id);
		out_str("state", "%-16s ", st);
		out_str("pin_dir", "%s\n", dir);
		out_u64("attach_time", NULL, p.meta.attach_time);
		out_obj_close();
		ps_pins_close(&p);
		shown++;
	}
	for (i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	out_arr_close();
	out_obj_close();
	if (!shown)
		out_text("(pktscope is not attached anywhere)\n");
	out_doc_end();
	return EXIT_OK;
}
