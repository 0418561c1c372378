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
 * created it and no other filter uses it.  With --tcx the TC programs are
 * TCX links pinned beside the maps instead: no qdisc, no filter.
 *
 * A kill -9 can stop an attach between any two steps, so the meta map is the
 * record of what is attached at every moment: written (flagged "attaching")
 * and pinned before anything else, updated around each kernel step, cleared
 * of the flag last.  status names what such a leftover holds; detach removes
 * it and attach replaces it.  One flock per interface keeps two pktscopes
 * from doing this to the same interface at once.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
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
#include "drops.h"	/* struct ps_filter_ctl, which the skeletons embed */
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
	bool tcx;			/* TC through TCX links (Linux 6.6+) */
	bool tcx_given, clsact_given;	/* --tcx / --clsact; neither: TCX if the kernel has it */
};

/* ---- failpoints --------------------------------------------------------------- */
/*
 * Every step of an attach after which a kill -9 leaves a state of its own,
 * in the order they happen.  PKTSCOPE_FAILPOINT=STEP raises SIGKILL right
 * after STEP (tests/test_faults.sh kills at each); PKTSCOPE_FAILPOINT=list
 * prints these.  pin-* steps come from ps_pin_fd() (ctl/pins.c); the rtt ones
 * only with --rtt, the tcp ones with --tcp, the drops ones with drops
 * --persist attach.
 */
static const char *const failpoints[] = {
	/* attach IFACE */
	"load",			/* programs loaded, nothing pinned or attached */
	"mkdir",		/* pin directory made, still empty */
	"pin-meta",		/* meta pinned, flags "attaching" */
	"pin-stats", "pin-filter_rules", "pin-filter_ctl", "pin-filter_stats",
	"pin-rtt_flows", "pin-rtt_outstanding", "pin-rtt_ts", "pin-rtt_hist",
	"pin-rtt_counters", "pin-rtt_ctl", "pin-rtt_events",
	"xdp",			/* XDP program attached and recorded in meta */
	"tc-clsact",		/* clsact qdisc made by pktscope, recorded */
	"tc-ingress",		/* TC ingress filter attached and recorded */
	"tc-egress",		/* TC egress filter attached and recorded */
	"pin-tcx_ingress",	/* --tcx: ingress link pinned, not yet in meta */
	"tcx-ingress",		/* --tcx: ingress link recorded */
	"pin-tcx_egress", "tcx-egress",
	"meta",			/* meta complete: the attach is done */
	/* attach --tcp (ctl/tcp.c) */
	"tcp-load", "pin-tcp_meta", "pin-flows", "pin-totals", "tcp-attach",
	"tcp-pin-link",		/* after the first link pin of several */
	/* drops --persist attach (ctl/drops.c) */
	"drops-load", "pin-drops_meta", "pin-drop_counts", "pin-drop_misc",
	"pin-drop_ifnames", "drops-attach",
	"drops-pin-link",	/* after the first link pin of three */
};
#define NFAILPOINTS (sizeof(failpoints) / sizeof(failpoints[0]))

int ps_failpoint_check(void)
{
	const char *fp = getenv("PKTSCOPE_FAILPOINT");
	size_t i;

	if (!fp || !*fp)
		return 0;
	if (!strcmp(fp, "list")) {
		for (i = 0; i < NFAILPOINTS; i++)
			printf("%s\n", failpoints[i]);
		return 1;
	}
	for (i = 0; i < NFAILPOINTS; i++)
		if (!strcmp(fp, failpoints[i]))
			return 0;
	ps_err("unknown PKTSCOPE_FAILPOINT '%s': PKTSCOPE_FAILPOINT=list pktscope attach names "
	       "the steps", fp);
	return -1;
}

void ps_failpoint(const char *fmt, ...)
{
	const char *fp = getenv("PKTSCOPE_FAILPOINT");
	char step[64];
	va_list ap;

	if (!fp || !*fp)
		return;
	va_start(ap, fmt);
	vsnprintf(step, sizeof(step), fmt, ap);
	va_end(ap);
	if (strcmp(fp, step))
		return;
	fprintf(stderr, "pktscope: failpoint %s: SIGKILL\n", step);
	raise(SIGKILL);
}

/* ---- the per-interface lock ------------------------------------------------------ */
/*
 * attach and detach of one interface hold an flock on
 * /run/pktscope/<netns inode>-<ifindex>.lock (the pin directory's name):
 * bpffs holds no regular files, and one lock for all of bpffs would make
 * attaches of different interfaces fail.  A second attach or detach of the
 * same interface does not wait: it says who holds it and exits 1.  The lock
 * is unlinked while still held, so the file that a waiter opened may be a
 * dead one: the inode check retries on the live file.
 */
#define PS_LOCK_DIR	"/run/pktscope"

struct ps_lock {
	int fd;
	char path[PATH_MAX];
};

static void lock_path(const char *pin_dir, char *buf, size_t len)
{
	const char *base = strrchr(pin_dir, '/');

	snprintf(buf, len, "%s/%s.lock", PS_LOCK_DIR, base ? base + 1 : pin_dir);
}

/* 0 held, 1 busy (said so), -1 error (said so). */
static int lock_take(const char *pin_dir, const char *what, struct ps_lock *l)
{
	struct stat a, b;
	char pid[32];
	int n;

	l->fd = -1;
	lock_path(pin_dir, l->path, sizeof(l->path));
	if (mkdir(PS_LOCK_DIR, 0700) && errno != EEXIST) {
		ps_err("create %s for the attach lock: %s", PS_LOCK_DIR, strerror(errno));
		return -1;
	}
	for (;;) {
		l->fd = open(l->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (l->fd < 0) {
			ps_err("open lock %s: %s", l->path, strerror(errno));
			return -1;
		}
		if (flock(l->fd, LOCK_EX | LOCK_NB)) {
			int e = errno, tries = 0;

			/* The holder writes its pid just after it took the lock. */
			while ((n = pread(l->fd, pid, sizeof(pid) - 1, 0)) <= 0 && ++tries < 50)
				usleep(1000);
			pid[n > 0 ? n : 0] = '\0';
			pid[strcspn(pid, "\n")] = '\0';
			close(l->fd);
			l->fd = -1;
			if (e != EWOULDBLOCK) {
				ps_err("lock %s: %s", l->path, strerror(e));
				return -1;
			}
			ps_err("%s: another pktscope (pid %s) is attaching or detaching it right now: "
			       "nothing changed; see 'pktscope status' once it is done", what,
			       *pid ? pid : "?");
			return 1;
		}
		if (!fstat(l->fd, &a) && !stat(l->path, &b) && a.st_ino == b.st_ino &&
		    a.st_dev == b.st_dev)
			break;
		close(l->fd);	/* unlinked by the holder we waited for: take the new one */
	}
	n = snprintf(pid, sizeof(pid), "%d\n", getpid());
	if (ftruncate(l->fd, 0) || pwrite(l->fd, pid, n, 0) != n) {
		/* the pid is only for the message of a loser: go on without */
	}
	return 0;
}

static void lock_release(struct ps_lock *l)
{
	if (l->fd < 0)
		return;
	unlink(l->path);
	close(l->fd);
	l->fd = -1;
}

/*
 * Lock files left by attaches killed before they made their pin directory
 * (or of pins removed by hand): nobody holds them and nothing is pinned
 * under their name.  Unlinked while held, as lock_release() does.
 */
static void lock_stale_remove(void)
{
	char path[PATH_MAX], pin[PATH_MAX];
	struct dirent *de;
	size_t len;
	DIR *d;
	int fd;

	d = opendir(PS_LOCK_DIR);
	if (!d)
		return;
	while ((de = readdir(d))) {
		len = strlen(de->d_name);
		if (len < 6 || strcmp(de->d_name + len - 5, ".lock"))
			continue;
		snprintf(pin, sizeof(pin), "%s/%.*s", PS_PIN_ROOT, (int)(len - 5), de->d_name);
		if (!access(pin, F_OK))
			continue;
		snprintf(path, sizeof(path), "%s/%s", PS_LOCK_DIR, de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (!flock(fd, LOCK_EX | LOCK_NB))
			unlink(path);
		close(fd);
	}
	closedir(d);
}

/* Is an attach or detach of this pin directory running now? */
static bool lock_busy(const char *pin_dir)
{
	char path[PATH_MAX];
	bool busy = false;
	int fd;

	lock_path(pin_dir, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (flock(fd, LOCK_EX | LOCK_NB))
		busy = errno == EWOULDBLOCK;
	close(fd);
	return busy;
}

/* Write the meta map: the record of what is attached, kept current step by step. */
static int meta_write(int fd, const struct ps_meta *m)
{
	__u32 key = 0;

	return bpf_map_update_elem(fd, &key, m, 0) ? -errno : 0;
}

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

	if (m->flags & PS_META_TCX)
		return;		/* links: tcx_detach() */

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

/*
 * Each filter is recorded in meta as intended (flag set, program id 0: "what
 * sits in pktscope's slot") before it is attached and with its id right
 * after, so a kill -9 at any point leaves a meta that detach can act on.
 */
static int tc_attach(struct tc_stats_bpf *skel, int ifindex, const char *ifname,
		     struct ps_meta *m, int meta_fd)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = PS_TC_HANDLE, .priority = PS_TC_PRIO);
	struct ps_meta intent;
	int err;

	err = bpf_tc_hook_create(&hook);
	if (!err) {
		m->flags |= PS_META_CLSACT_OURS;
		meta_write(meta_fd, m);
		ps_failpoint("tc-clsact");
	} else if (err != -EEXIST) {
		ps_err("create clsact qdisc on %s: %s", ifname, strerror(-err));
		return err;
	}
	intent = *m;
	intent.flags |= PS_META_TC_IN;
	meta_write(meta_fd, &intent);
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
	meta_write(meta_fd, m);
	ps_failpoint("tc-ingress");

	intent = *m;
	intent.flags |= PS_META_TC_OUT;
	meta_write(meta_fd, &intent);
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
	meta_write(meta_fd, m);
	ps_failpoint("tc-egress");
	return 0;
fail:
	tc_detach(ifindex, m);
	m->flags &= ~(PS_META_TC_IN | PS_META_TC_OUT | PS_META_CLSACT_OURS);
	meta_write(meta_fd, m);
	return err;
}

/* ---- TCX ------------------------------------------------------------------ */
/*
 * attach --tcx: the two TC programs as TCX links (Linux 6.6+), pinned in the
 * pin directory as tcx_ingress and tcx_egress.  The hook then runs them
 * directly, without a clsact qdisc and without cls_bpf/tcf_classify around
 * them (half of the TC cost in the throughput bench's profile).  A link lives
 * as long as a reference to it: an attach killed before the pin leaves
 * nothing on the device, and unpinning detaches.  libbpf 1.1 has no
 * bpf_program__attach_tcx(), but bpf_link_create() passes any attach type
 * through; the kernel's numbers are fixed UAPI.
 */
#define PS_BPF_TCX_INGRESS	46
#define PS_BPF_TCX_EGRESS	47

static const char *const tcx_pin[2] = { "tcx_ingress", "tcx_egress" };
static const int tcx_type[2] = { PS_BPF_TCX_INGRESS, PS_BPF_TCX_EGRESS };

/*
 * Whether this kernel has TCX hooks: a query of the ingress hook succeeds
 * (with nothing attached, 0 programs) where the attach type exists, and
 * fails with EINVAL before Linux 6.6.  No side effect.
 */
static bool tcx_supported(int ifindex)
{
	LIBBPF_OPTS(bpf_prog_query_opts, q);

	return !bpf_prog_query_opts(ifindex, PS_BPF_TCX_INGRESS, &q);
}

/* Does the TCX hook (0 ingress, 1 egress) of ifindex run program prog_id? */
static bool tcx_runs(int ifindex, int egress, __u32 prog_id)
{
	__u32 ids[64] = { 0 }, i;
	LIBBPF_OPTS(bpf_prog_query_opts, q, .prog_ids = ids, .prog_cnt = 64);

	if (!prog_id || bpf_prog_query_opts(ifindex, tcx_type[egress], &q))
		return false;
	for (i = 0; i < q.prog_cnt && i < 64; i++)
		if (ids[i] == prog_id)
			return true;
	return false;
}

/*
 * Detach and unpin the links pinned in dir.  BPF_LINK_DETACH first, so the
 * program leaves the device even if another process still holds the link.
 */
static void tcx_detach(const char *dir)
{
	char path[PATH_MAX + 32];
	int i, fd;

	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, tcx_pin[i]);
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		bpf_link_detach(fd);
		close(fd);
		unlink(path);
	}
}

/* As tc_attach(): meta says what is intended before each link, and its id after. */
static int tcx_attach(struct tc_stats_bpf *skel, int ifindex, const char *ifname,
		      struct ps_meta *m, int meta_fd, const char *dir)
{
	struct bpf_program *progs[2] = { skel->progs.ps_tc_in, skel->progs.ps_tc_out };
	static const __u32 flag[2] = { PS_META_TC_IN, PS_META_TC_OUT };
	struct bpf_prog_info info;
	struct ps_meta intent;
	__u32 len;
	int i, fd, err;

	for (i = 0; i < 2; i++) {
		intent = *m;
		intent.flags |= flag[i] | PS_META_TCX;
		meta_write(meta_fd, &intent);
		fd = bpf_link_create(bpf_program__fd(progs[i]), ifindex, tcx_type[i], NULL);
		if (fd < 0) {
			err = fd;
			ps_err("attach TC %s to %s with a TCX link: %s%s", i ? "egress" : "ingress",
			       ifname, strerror(-err), err == -EINVAL ?
			       " (TCX links need Linux 6.6 or later: attach with --clsact)" : "");
			goto fail;
		}
		if (ps_pin_fd(fd, dir, tcx_pin[i])) {
			close(fd);	/* the last reference: detached */
			err = -EIO;
			goto fail;
		}
		close(fd);
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		bpf_obj_get_info_by_fd(bpf_program__fd(progs[i]), &info, &len);
		m->flags |= flag[i] | PS_META_TCX;
		if (i)
			m->tc_out_prog_id = info.id;
		else
			m->tc_in_prog_id = info.id;
		meta_write(meta_fd, m);
		ps_failpoint(i ? "tcx-egress" : "tcx-ingress");
	}
	return 0;
fail:
	tcx_detach(dir);
	m->flags &= ~(PS_META_TC_IN | PS_META_TC_OUT | PS_META_TCX);
	m->tc_in_prog_id = m->tc_out_prog_id = 0;
	meta_write(meta_fd, m);
	return err;
}

/* ---- XDP ------------------------------------------------------------------ */

static const char *mode_name(enum xdp_attach_mode mode)
{
	return mode == XDP_MODE_SKB ? "generic" : mode == XDP_MODE_NATIVE ? "native" : "auto";
}

static int xdp_attach(struct xdp_stats_bpf *skel, int ifindex, const char *ifname,
		      enum xdp_attach_mode mode, struct ps_meta *m, int meta_fd)
{
	DECLARE_LIBXDP_OPTS(xdp_program_opts, xopts, .obj = skel->obj,
			    .prog_name = "ps_xdp");
	struct xdp_program *prog;
	struct ps_meta intent = *m;
	int err;

	/* Intended, id 0: detach then looks for ps_xdp by name (see xdp_is_ours). */
	intent.flags |= PS_META_XDP;
	meta_write(meta_fd, &intent);

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
		meta_write(meta_fd, m);
		return err;
	}
	m->flags |= PS_META_XDP;
	m->xdp_mode = mode == XDP_MODE_NATIVE ? PS_XDP_MODE_NATIVE : PS_XDP_MODE_GENERIC;
	m->xdp_prog_id = xdp_program__id(prog);
	xdp_program__close(prog);
	meta_write(meta_fd, m);
	ps_failpoint("xdp");
	return 0;
}

/* Ours: the recorded id, or with id 0 (killed mid-attach) pktscope's ps_xdp by name. */
static bool xdp_is_ours(struct xdp_program *p, const struct ps_meta *m)
{
	if (m->xdp_prog_id)
		return xdp_program__id(p) == m->xdp_prog_id;
	return !strcmp(xdp_program__name(p) ? xdp_program__name(p) : "", "ps_xdp");
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
		if (p && xdp_is_ours(p, m))
			err = xdp_multiprog__detach(mp);
		xdp_multiprog__close(mp);
		return err;
	}
	for (p = xdp_multiprog__next_prog(NULL, mp); p; p = xdp_multiprog__next_prog(p, mp)) {
		if (!xdp_is_ours(p, m))
			continue;
		err = xdp_program__detach(p, ifindex, xdp_multiprog__attach_mode(mp), 0);
		break;
	}
	xdp_multiprog__close(mp);
	return err;
}

/* ---- pins ------------------------------------------------------------------ */

/* Check (and create) /sys/fs/bpf/pktscope: a directory of ours, 0700. */
int ps_pin_root_ok(bool create)
{
	struct stat st;

	if (lstat(PS_PIN_ROOT, &st)) {
		if (errno != ENOENT || !create)
			return errno == ENOENT ? 0 : -1;
		if (mkdir(PS_PIN_ROOT, 0700)) {
			ps_err("create %s: %s%s", PS_PIN_ROOT, strerror(errno), errno == EROFS ?
			       " (bpffs is mounted read-only: mount -o remount,rw " PS_BPFFS ")" : "");
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
	"  --rtt           passive RTT tracking (see 'pktscope rtt')\n" \
	"  --tcx           TC programs as TCX links (Linux 6.6+): no qdisc, a cheaper\n" \
	"                  hook, not in 'tc filter show' (default where the kernel has TCX)\n" \
	"  --clsact        TC programs as classic clsact filters (default before Linux 6.6)\n"

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
		{ "tcx",	no_argument,		NULL, 'C' },
		{ "clsact",	no_argument,		NULL, 'L' },
		PS_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct attach_opts ao = { .mode = XDP_MODE_UNSPEC, .tcp_flows = 65536 };
	struct tc_stats_bpf *tc = NULL;
	struct xdp_stats_bpf *xdp = NULL;
	struct ps_meta m = {}, old;
	struct ps_lock lk = { .fd = -1 };
	char dir[PATH_MAX], ifname[IF_NAMESIZE];
	const char *iface;
	uint64_t ino;
	int c, ifindex, err, r, meta_fd, rc = EXIT_RUNTIME;

	while ((c = ps_getopt(argc, argv, "m:" PS_COMMON_SHORTOPTS, opts)) != -1) {
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
		case 'C': ao.tcx_given = true; break;
		case 'L': ao.clsact_given = true; break;
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
	r = ps_failpoint_check();
	if (r)
		return r > 0 ? EXIT_OK : EXIT_USAGE;
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
	if ((ao.tcx_given || ao.clsact_given) && ao.no_tc) {
		ps_err("--%s says how to attach TC, --no-tc not to attach it: drop one",
		       ao.tcx_given ? "tcx" : "clsact");
		return EXIT_USAGE;
	}
	if (ao.tcx_given && ao.clsact_given) {
		ps_err("--tcx and --clsact are two ways to attach TC: give one");
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
	    ps_pin_root_ok(true))
		return EXIT_RUNTIME;
	/*
	 * TC as TCX links where the kernel has them (Linux 6.6+), as current
	 * libbpf-based loaders do: no qdisc, no cls_bpf around the programs, and a
	 * passing packet goes on to the hook's other programs and filters.  --clsact
	 * keeps the classic filters; --tcx insists on TCX.
	 */
	ao.tcx = !ao.no_tc && !ao.clsact_given && (ao.tcx_given || tcx_supported(ifindex));
	ps_pin_dir(ino, ifindex, dir, sizeof(dir));
	/* Held until the end: a concurrent attach or detach of iface exits 1 at once. */
	r = lock_take(dir, iface, &lk);
	if (r)
		return EXIT_RUNTIME;

	if (!access(dir, F_OK)) {
		const char *st;

		r = ps_meta_read(dir, &old, false);
		if (r == -EPROTO || (r && r != -ENOENT) || (!r && ps_stats_check(dir, false)))
			goto out_lock;
		/*
		 * Namespace inodes are reused once a namespace is gone, so pins
		 * left by a deleted netns can carry this directory's name: pins
		 * whose programs are no longer attached are stale, not ours.  So
		 * are the pins of an attach killed half-way (no meta, or meta
		 * still flagged "attaching" while nobody holds the lock).
		 */
		st = r ? "pins without meta" : (old.flags & PS_META_ATTACHING) ?
		     "partial" : live_state(&old);
		if (!strcmp(st, "ok") && !ao.replace) {
			ps_info("%s: pktscope is already attached (%s); nothing changed "
				"(use --replace to attach anew)", iface, dir);
			rc = EXIT_OK;
			goto out_lock;
		}
		if (strcmp(st, "ok"))
			ps_info("%s: removing stale pins in %s (%s)", iface, dir, st);
		if (do_detach(dir, true))
			goto out_lock;
	}

	/* The TC object creates the maps; XDP reuses them. */
	tc = tc_stats_bpf__open();
	if (!tc) {
		err = -errno;
		ps_err("open TC program: %s", strerror(-err));
		goto out_lock;
	}
	if (ao.tcx)
		tc->rodata->ps_tc_pass = -1;	/* TCX_NEXT: see tc/tc_stats.bpf.c */
	if (ao.rtt) {
		tc->rodata->ps_rtt_on = 1;
		tc->rodata->ps_rtt_xdp = !ao.no_xdp;
	} else {
		/* Off: the RTT maps exist (both objects declare them) but hold nothing. */
		bpf_map__set_max_entries(tc->maps.ps_rtt_out, 1);
		bpf_map__set_max_entries(tc->maps.ps_rtt_ts, 1);
		bpf_map__set_max_entries(tc->maps.ps_rtt_flows, 1);
		bpf_map__set_max_entries(tc->maps.ps_rtt_events, 4096);
	}
	err = tc_stats_bpf__load(tc);
	if (err) {
		ps_err("load TC program: %s (run with -v for the verifier log)", strerror(-err));
		goto out_tc;
	}
	ps_failpoint("load");
	meta_fd = bpf_map__fd(tc->maps.ps_meta);
	if_indextoname(ifindex, ifname);
	m.magic = PS_MAGIC;
	m.layout_version = PS_LAYOUT_VERSION;
	m.counters_size = sizeof(struct ps_pcpu_counters);
	m.netns_ino = ino;
	m.ifindex = ifindex;
	m.tc_handle = PS_TC_HANDLE;
	m.tc_priority = PS_TC_PRIO;
	m.attach_time = time(NULL);
	m.flags = PS_META_ATTACHING;
	snprintf(m.ifname, sizeof(m.ifname), "%s", ifname);
	/*
	 * Meta is written before it is pinned and pinned first, so that every
	 * pin directory with more than nothing in it says whose it is and
	 * that it is unfinished.  Kernel attachments come only after all pins:
	 * a refused pin (read-only bpffs) leaves nothing attached.
	 */
	err = meta_write(meta_fd, &m);
	if (err) {
		ps_err("write the meta map: %s", strerror(-err));
		goto out_tc;
	}
	if (mkdir(dir, 0700)) {
		err = -errno;
		ps_err("create %s: %s%s", dir, strerror(-err), err == -EROFS ?
		       " (bpffs is mounted read-only: mount -o remount,rw " PS_BPFFS ")" : "");
		goto out_tc;
	}
	ps_failpoint("mkdir");
	if (ps_pin_fd(meta_fd, dir, "meta") ||
	    ps_pin_fd(bpf_map__fd(tc->maps.ps_stats), dir, "stats") ||
	    ps_pin_fd(bpf_map__fd(tc->maps.ps_rules), dir, "filter_rules") ||
	    ps_pin_fd(bpf_map__fd(tc->maps.data_fctl), dir, "filter_ctl") ||
	    ps_pin_fd(bpf_map__fd(tc->maps.ps_fstats), dir, "filter_stats")) {
		goto out_pins;
	}
	if (ao.rtt &&
	    (ps_pin_fd(bpf_map__fd(tc->maps.ps_rtt_flows), dir, "rtt_flows") ||
	     ps_pin_fd(bpf_map__fd(tc->maps.ps_rtt_out), dir, "rtt_outstanding") ||
	     ps_pin_fd(bpf_map__fd(tc->maps.ps_rtt_ts), dir, "rtt_ts") ||
	     ps_pin_fd(bpf_map__fd(tc->maps.ps_rtt_hist), dir, "rtt_hist") ||
	     ps_pin_fd(bpf_map__fd(tc->maps.ps_rtt_ctrs), dir, "rtt_counters") ||
	     ps_pin_fd(bpf_map__fd(tc->maps.ps_rtt_ctl), dir, "rtt_ctl") ||
	     ps_pin_fd(bpf_map__fd(tc->maps.ps_rtt_events), dir, "rtt_events"))) {
		goto out_pins;
	}

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
		    bpf_map__reuse_fd(xdp->maps.data_fctl, bpf_map__fd(tc->maps.data_fctl)) ||
		    bpf_map__reuse_fd(xdp->maps.ps_fstats, bpf_map__fd(tc->maps.ps_fstats)) ||
		    bpf_map__reuse_fd(xdp->maps.ps_rtt_out, bpf_map__fd(tc->maps.ps_rtt_out)) ||
		    bpf_map__reuse_fd(xdp->maps.ps_rtt_ts, bpf_map__fd(tc->maps.ps_rtt_ts)) ||
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
		err = xdp_attach(xdp, ifindex, iface, ao.mode, &m, meta_fd);
		if (err)
			goto out_pins;
	}
	if (!ao.no_tc) {
		err = ao.tcx ? tcx_attach(tc, ifindex, iface, &m, meta_fd, dir) :
			       tc_attach(tc, ifindex, iface, &m, meta_fd);
		if (err)
			goto out_xdp;
	}
	m.flags &= ~PS_META_ATTACHING;
	err = meta_write(meta_fd, &m);
	if (err) {
		ps_err("write %s/meta: %s", dir, strerror(-err));
		goto out_tcdet;
	}
	ps_failpoint("meta");

	out_obj_open(NULL);
	out_str("iface", "attached to %s", iface);
	out_u64("ifindex", " (ifindex %llu)", ifindex);
	out_str("xdp_mode", ": xdp %s", ps_xdp_mode_names[m.xdp_mode]);
	out_u64("xdp_prog_id", NULL, m.xdp_prog_id);
	out_str("tc", ", tc %s", ao.no_tc ? "none" : "ingress+egress");
	out_str("tc_mode", " (%s)", ao.no_tc ? "none" : ao.tcx ? "tcx" : "clsact");
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
			lock_release(&lk);
			return r;
		}
	}
	lock_release(&lk);
	return EXIT_OK;

out_tcdet:
	tc_detach(ifindex, &m);
	tcx_detach(dir);
out_xdp:
	xdp_detach(ifindex, &m);
out_pins:
	ps_unpin_all(dir);
out_tc:
	xdp_stats_bpf__destroy(xdp);
	tc_stats_bpf__destroy(tc);
out_lock:
	lock_release(&lk);
	return rc;
}

/* ---- detach ------------------------------------------------------------------ */

/*
 * The network namespace of inode ino, opened: by its /run/netns name, else
 * through any process that lives in it (an unnamed namespace is not gone).
 * -1 when nothing holds it any more.
 */
static int netns_open_ino(uint64_t ino)
{
	char path[PATH_MAX], name[64];
	struct dirent *de;
	struct stat st;
	DIR *d;
	int fd;

	ps_netns_name(ino, name, sizeof(name));
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	d = opendir("/proc");
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/ns/net", de->d_name);
		if (stat(path, &st) || st.st_ino != ino)
			continue;
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0)
			break;
	}
	closedir(d);
	return fd;
}

/*
 * Whether a TCX link pinned in dir is still attached to a device.  The
 * kernel detaches a TCX link when its device goes (the link, pinned, stays
 * and holds its program) and then reports ifindex 0.  bpf_link_info's tcx
 * member is newer than these headers: its ifindex is the first word of the
 * union, at offset 16.
 */
static bool tcx_link_attached(const char *dir, int egress)
{
	char path[PATH_MAX + 32];
	__u64 info[16] = { 0 };
	__u32 len = sizeof(info), ifindex = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, tcx_pin[egress]);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return false;
	if (!bpf_obj_get_info_by_fd(fd, info, &len))
		memcpy(&ifindex, (char *)info + 16, sizeof(ifindex));
	close(fd);
	return ifindex != 0;
}

/*
 * A namespace held only by a bind mount in another mount namespace has no
 * name here and no process: it looks gone but is not.  Its interface, and so
 * pktscope's programs on it, would then still exist: a recorded program id
 * that still resolves to a program means "alive, out of sight".  TCX
 * programs are held by their pinned links whether the device exists or not:
 * for them, the links say whether they are still attached.
 */
static bool progs_alive(const struct ps_meta *m)
{
	__u32 ids[3] = { m->xdp_prog_id, m->tc_in_prog_id, m->tc_out_prog_id };
	char dir[PATH_MAX];
	int i, fd;

	for (i = 0; i < 3; i++) {
		if (!ids[i])
			continue;
		if (i && (m->flags & PS_META_TCX)) {
			ps_pin_dir(m->netns_ino, m->ifindex, dir, sizeof(dir));
			if (tcx_link_attached(dir, i - 1))
				return true;
			continue;
		}
		fd = bpf_prog_get_fd_by_id(ids[i]);
		if (fd >= 0) {
			close(fd);
			return true;
		}
	}
	return false;
}

/*
 * Run fn(m) inside the namespace the meta names.  Returns fn's result, or
 * "netns gone" when no process and no name holds that namespace.
 */
static const char *in_netns(const struct ps_meta *m, uint64_t cur,
			    const char *(*fn)(const struct ps_meta *m))
{
	const char *st = "netns gone";
	int nsfd, oldns;

	if (m->netns_ino == cur)
		return fn(m);
	nsfd = netns_open_ino(m->netns_ino);
	if (nsfd < 0)
		return progs_alive(m) ? "netns not visible" : st;
	oldns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (oldns >= 0 && !setns(nsfd, CLONE_NEWNET)) {
		st = fn(m);
		if (setns(oldns, CLONE_NEWNET))
			ps_warn("return to the original netns: %s", strerror(errno));
	}
	if (oldns >= 0)
		close(oldns);
	close(nsfd);
	return st;
}

static int detach_err;

/* Detach what m records from its interface; run inside its netns. */
static const char *detach_in_ns(const struct ps_meta *m)
{
	char ifname[IF_NAMESIZE];
	int err;

	if (!if_indextoname(m->ifindex, ifname))
		return "interface gone";
	err = xdp_detach(m->ifindex, m);
	if (err) {
		ps_warn("detach XDP from %s: %s", m->ifname, strerror(-err));
		detach_err = err;
	}
	tc_detach(m->ifindex, m);
	return "ok";
}

/*
 * Detach what the pins in dir describe, then remove them.  The interface is
 * looked up in the namespace recorded in the meta map; when the namespace or
 * the interface is gone, so are the attachments, and only the pins are left
 * to remove.  A directory without a meta pin holds nothing attached (meta is
 * pinned before anything is attached); one of another layout is left alone.
 */
static int do_detach(const char *dir, bool quiet)
{
	struct ps_meta m;
	const char *st;
	uint64_t cur;
	int r;

	r = ps_meta_read(dir, &m, true);
	if (r == -ENOENT) {
		ps_unpin_all(dir);
		if (!quiet)
			ps_info("removed %s (pins of an interrupted attach; nothing was attached)",
				dir);
		return 0;
	}
	if (r)
		return ps_meta_read(dir, &m, false) ? -1 : 0;	/* says why, once */
	if (ps_stats_check(dir, false))
		return -1;
	if (ps_netns_ino(&cur))
		return -1;
	detach_err = 0;
	st = in_netns(&m, cur, detach_in_ns);
	if (!strcmp(st, "netns not visible")) {
		ps_err("%s: cannot enter netns %llu, where %s is still attached (no name in "
		       "/run/netns, no process in it seen from here): run the detach inside that "
		       "netns; pins kept", dir, (unsigned long long)m.netns_ino, m.ifname);
		return -1;
	}
	tcx_detach(dir);
	ps_unpin_all(dir);
	if (!access(dir, F_OK)) {
		ps_err("remove %s: %s", dir, strerror(errno));
		return -1;
	}
	if (!quiet)
		ps_info("detached from %s%s%s", m.ifname, strcmp(st, "ok") ? " (" : "",
			strcmp(st, "ok") ? (!strcmp(st, "netns gone") ?
			"netns already gone; pins removed)" : "interface already gone; pins removed)")
			: "");
	return detach_err ? -1 : 0;
}

/*
 * do_detach under the interface's lock: 0 done, -1 failed, 1 another
 * pktscope holds the lock (all said), 2 no pin directory (nothing said).
 * The lock is taken even then: it removes the lock file an attach killed
 * before its mkdir left behind.
 */
static int detach_locked(const char *dir, const char *what, bool quiet)
{
	struct ps_lock lk;
	int r;

	r = lock_take(dir, what, &lk);
	if (r)
		return r;
	r = access(dir, F_OK) ? 2 : do_detach(dir, quiet);
	lock_release(&lk);
	return r;
}

static const char *pin_state(const char *dir, uint64_t cur, struct ps_meta *m, bool *have_meta);

/*
 * TCP and drop probes (tcp-/drops-<netns>) are pinned links: a link pin is
 * what keeps a program attached.  An attach --tcp or drops --persist attach
 * killed before its last link pin leaves fewer links than it makes (tcp.c
 * PERSIST_PROGS: 5 tracepoints; drops.c: 3), and the programs of the others
 * went with its process.  Returns the number of link pins; *want what a
 * whole attach pins.
 */
static int probe_links(const char *name, const char *dir, int *want)
{
	struct dirent *de;
	int n = 0;
	DIR *d = opendir(dir);

	*want = !strncmp(name, "tcp-", 4) ? 5 : 3;
	if (!d)
		return 0;
	while ((de = readdir(d)))
		n += !strncmp(de->d_name, "link_", 5);
	closedir(d);
	return n;
}

#define DETACH_HELP							\
	"  -a, --all       every attachment, in every netns\n"		\
	"  --stale         every attachment that is not whole: interface or netns\n" \
	"                  gone, a program gone, an interrupted attach\n"	\
	"  --tcp           the TCP probes of this netns (with or without IFACE)\n" \
	"IFACE may also be the recorded name of an interface of this netns that\n" \
	"no longer exists.\n"

int cmd_detach(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "stale", no_argument, NULL, 'S' },
		{ "tcp", no_argument, NULL, 'P' },
		PS_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	char dir[PATH_MAX];
	uint64_t ino;
	bool all = false, stale = false, tcp = false;
	int c, r, ifindex, rc = EXIT_OK;

	while ((c = ps_getopt(argc, argv, "a" PS_COMMON_SHORTOPTS, opts)) != -1) {
		if (c == 'a') {
			all = true;
			continue;
		}
		if (c == 'S') {
			stale = true;
			continue;
		}
		if (c == 'P') {
			tcp = true;
			continue;
		}
		r = ps_common_opt(c, optarg);
		if (r > 0) {
			ps_cmd_help("detach", DETACH_HELP);
			return EXIT_OK;
		}
		if (r < 0)
			return EXIT_USAGE;
	}
	if (all && stale) {
		ps_err("--all and --stale exclude each other: --all already takes the stale ones");
		return EXIT_USAGE;
	}
	all = all || stale;
	if (tcp && !all && optind == argc)
		return tcp_persist_detach();
	if (all ? optind != argc : optind != argc - 1) {
		ps_err("detach takes one interface, or --all or --stale: pktscope detach IFACE");
		return EXIT_USAGE;
	}
	if (all) {
		struct dirent *de;
		uint64_t cur;
		DIR *d;

		if (ps_need_root("detach") || ps_mount_bpffs() || ps_netns_ino(&cur))
			return EXIT_RUNTIME;
		d = opendir(PS_PIN_ROOT);
		if (!d)
			return EXIT_OK;
		while ((de = readdir(d))) {
			struct ps_meta m;
			bool have;

			if (de->d_name[0] == '.')
				continue;
			snprintf(dir, sizeof(dir), "%s/%s", PS_PIN_ROOT, de->d_name);
			if (!strncmp(de->d_name, "tcp-", 4) || !strncmp(de->d_name, "drops-", 6)) {
				int want, nl = probe_links(de->d_name, dir, &want);

				struct stat st;

				/*
				 * Pinned links: unpinning the last reference detaches.
				 * attach --tcp and drops --persist attach take no lock:
				 * a directory changed in the last 10 s may be one that
				 * is being pinned right now, and is left for later.
				 */
				if (stale && !stat(dir, &st) && time(NULL) - st.st_mtime < 10)
					continue;
				if (!stale || nl != want) {
					ps_unpin_all(dir);
					if (stale)
						ps_info("removed %s (%d of %d probe links: an interrupted "
							"attach)", dir, nl, want);
				}
				continue;
			}
			if (stale) {
				const char *st = pin_state(dir, cur, &m, &have);

				/*
				 * busy: being attached right now; not visible: alive
				 * in a netns out of our sight.  Neither is stale.
				 */
				if (!strcmp(st, "ok") || !strcmp(st, "busy") ||
				    !strcmp(st, "netns not visible"))
					continue;
			}
			r = detach_locked(dir, de->d_name, false);
			if (r == -1 || r == 1)
				rc = EXIT_RUNTIME;
		}
		closedir(d);
		if (stale)
			lock_stale_remove();
		return rc;
	}
	if (ps_need_root("detach") || ps_mount_bpffs() || ps_netns_ino(&ino))
		return EXIT_RUNTIME;
	if (strlen(argv[optind]) < IF_NAMESIZE && !if_nametoindex(argv[optind])) {
		/*
		 * An interface deleted under its attachment: find the pins of
		 * this netns that recorded that name.
		 */
		struct dirent **ents = NULL;
		int i, n, found = 0;
		char pre[32];

		snprintf(pre, sizeof(pre), "%llu-", (unsigned long long)ino);
		n = scandir(PS_PIN_ROOT, &ents, NULL, alphasort);
		for (i = 0; i < n; i++) {
			struct ps_meta m;

			snprintf(dir, sizeof(dir), "%s/%s", PS_PIN_ROOT, ents[i]->d_name);
			if (!strncmp(ents[i]->d_name, pre, strlen(pre)) &&
			    !ps_meta_read(dir, &m, true) && !strcmp(m.ifname, argv[optind])) {
				found++;
				r = detach_locked(dir, argv[optind], false);
				if (r == -1 || r == 1)
					rc = EXIT_RUNTIME;
			}
			free(ents[i]);
		}
		free(ents);
		if (found)
			return rc;
	}
	if (parse_ifindex(argv[optind], &ifindex))
		return EXIT_USAGE;
	ps_pin_dir(ino, ifindex, dir, sizeof(dir));
	r = detach_locked(dir, argv[optind], false);
	if (r > 1) {
		ps_err("%s has no pktscope attached (no %s): see 'pktscope status'",
		       argv[optind], dir);
		return EXIT_RUNTIME;
	}
	rc = r ? EXIT_RUNTIME : EXIT_OK;
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
	if (m->flags & PS_META_ATTACHING)
		return "partial";
	if (m->flags & PS_META_TCX) {
		if ((m->flags & PS_META_TC_IN) && !tcx_runs(m->ifindex, 0, m->tc_in_prog_id))
			return "tc program gone";
		if ((m->flags & PS_META_TC_OUT) && !tcx_runs(m->ifindex, 1, m->tc_out_prog_id))
			return "tc program gone";
	} else if (((m->flags & PS_META_TC_IN) &&
		    tc_prog_at(m->ifindex, BPF_TC_INGRESS) != m->tc_in_prog_id) ||
		   ((m->flags & PS_META_TC_OUT) &&
		    tc_prog_at(m->ifindex, BPF_TC_EGRESS) != m->tc_out_prog_id)) {
		return "tc program gone";
	}
	if (!(m->flags & PS_META_XDP))
		return "ok";
	mp = xdp_multiprog__get_from_ifindex(m->ifindex);
	if (libxdp_get_error(mp))
		return "xdp program gone";
	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		found = p && xdp_is_ours(p, m);
	} else {
		for (p = xdp_multiprog__next_prog(NULL, mp); p && !found;
		     p = xdp_multiprog__next_prog(p, mp))
			found = xdp_is_ours(p, m);
	}
	xdp_multiprog__close(mp);
	return found ? "ok" : "xdp program gone";
}

/*
 * The state of one pin directory, one of: ok, busy (an attach or detach
 * holds its lock), partial (an attach was killed: meta still says
 * "attaching"), pins only (no meta: killed right after its mkdir),
 * interface gone, netns gone, xdp program gone, tc program gone, or
 * "other layout" (made by another pktscope version: refused, never read).
 */
static const char *pin_state(const char *dir, uint64_t cur, struct ps_meta *m, bool *have_meta)
{
	int r;

	*have_meta = false;
	if (lock_busy(dir)) {
		/* what it holds so far, for the ID columns */
		*have_meta = !ps_meta_read(dir, m, true);
		return "busy";
	}
	r = ps_meta_read(dir, m, true);
	if (r == -ENOENT)
		return "pins only";
	if (r || ps_stats_check(dir, true))
		return "other layout";
	*have_meta = true;
	return in_netns(m, cur, live_state);
}

/* What to do about a state, for the line under the table. */
static const char *state_action(const char *st)
{
	if (!strcmp(st, "busy"))
		return "an attach or detach is running; look again when it is done";
	if (!strcmp(st, "partial"))
		return "an attach was interrupted and left what the XDP/TC IDs show attached: "
		       "'pktscope detach IFACE' removes it, 'pktscope attach IFACE' makes it whole";
	if (!strcmp(st, "pins only"))
		return "an attach was interrupted before anything was attached: "
		       "'pktscope detach IFACE' or 'pktscope detach --stale' removes the pins";
	if (!strcmp(st, "other layout"))
		return "pinned by another pktscope version: detach it with that version";
	if (!strcmp(st, "netns not visible"))
		return "its programs are still attached in a netns this pktscope cannot enter "
		       "(no name in /run/netns): detach it from inside that netns";
	if (!strcmp(st, "interface gone") || !strcmp(st, "netns gone"))
		return "the programs went with it; 'pktscope detach --stale' (or detach IFACE in "
		       "its netns) removes the pins";
	return "a program was removed by someone else: 'pktscope attach --replace IFACE' or "
	       "'pktscope detach IFACE'";
}

int cmd_status(int argc, char **argv)
{
	struct dirent **ents = NULL;
	char notes[8][512];
	uint64_t cur;
	int r, i, n, shown = 0, nnotes = 0;

	r = ps_common_opts_only(argc, argv, "status");
	if (r >= 0)
		return r;
	if (optind != argc) {
		ps_err("status takes no arguments");
		return EXIT_USAGE;
	}
	if (ps_need_root("status") || ps_mount_bpffs() || ps_netns_ino(&cur) ||
	    ps_pin_root_ok(false))
		return EXIT_RUNTIME;

	n = scandir(PS_PIN_ROOT, &ents, NULL, alphasort);
	out_obj_open(NULL);
	out_arr_open("attachments");
	out_text("%-12s %-8s %-12s %-8s %-8s %-9s %-9s %-16s %s\n", "IFACE", "IFINDEX", "NETNS",
		 "XDP", "XDP_ID", "TC_IN_ID", "TC_OUT_ID", "STATE", "PIN_DIR");
	for (i = 0; i < n; i++) {
		char dir[PATH_MAX], nsname[64], ifx[16] = "?";
		struct ps_meta m;
		const char *st;
		bool have;

		/*
		 * TCP and drop probe pins (tcp-/drops-<netns>) are not interface
		 * attachments: stats --tcp and drops read them.
		 */
		if (ents[i]->d_name[0] == '.' || !strncmp(ents[i]->d_name, "tcp-", 4) ||
		    !strncmp(ents[i]->d_name, "drops-", 6))
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", PS_PIN_ROOT, ents[i]->d_name);
		st = pin_state(dir, cur, &m, &have);
		if (!strcmp(st, "other layout")) {
			/* its one line, as before */
			if (!ps_meta_read(dir, &m, false))
				ps_stats_check(dir, false);
			continue;
		}
		if (!have) {
			/* No meta to read: what the directory's name says. */
			const char *dash = strchr(ents[i]->d_name, '-');

			memset(&m, 0, sizeof(m));
			m.netns_ino = strtoull(ents[i]->d_name, NULL, 10);
			m.ifindex = dash ? strtoul(dash + 1, NULL, 10) : 0;
			snprintf(m.ifname, sizeof(m.ifname), "?");
		}
		snprintf(ifx, sizeof(ifx), "%u", m.ifindex);
		ps_netns_name(m.netns_ino, nsname, sizeof(nsname));
		out_obj_open(NULL);
		out_str("iface", "%-12s ", m.ifname);
		out_u64("ifindex", "%-8llu ", m.ifindex);
		out_str("netns", "%-12s ", nsname);
		out_u64("netns_ino", NULL, m.netns_ino);
		out_str("xdp_mode", "%-8s ", ps_xdp_mode_names[m.xdp_mode < 3 ? m.xdp_mode : 0]);
		out_u64("xdp_prog_id", "%-8llu ", m.xdp_prog_id);
		out_u64("tc_ingress_prog_id", "%-9llu ", m.tc_in_prog_id);
		out_u64("tc_egress_prog_id", "%-9llu ", m.tc_out_prog_id);
		out_str("tc_mode", NULL, !(m.flags & (PS_META_TC_IN | PS_META_TC_OUT)) ? "none" :
			(m.flags & PS_META_TCX) ? "tcx" : "clsact");
		out_str("state", "%-16s ", st);
		out_str("pin_dir", "%s\n", dir);
		out_u64("attach_time", NULL, m.attach_time);
		if (strcmp(st, "ok"))
			out_str("action", NULL, state_action(st));
		out_obj_close();
		if (strcmp(st, "ok") && nnotes < 8)
			snprintf(notes[nnotes++], sizeof(notes[0]), "%s (ifindex %s, netns %s): %s: %s",
				 m.ifname, ifx, nsname, st, state_action(st));
		shown++;
	}
	out_arr_close();
	/* TCP and drop probes: listed in JSON; in text only when not whole. */
	out_arr_open("probes");
	for (i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;
		char dir[PATH_MAX], nsname[64];
		uint64_t ino;
		int want, nl;

		if (strncmp(name, "tcp-", 4) && strncmp(name, "drops-", 6))
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", PS_PIN_ROOT, name);
		nl = probe_links(name, dir, &want);
		ino = strtoull(strchr(name, '-') + 1, NULL, 10);
		ps_netns_name(ino, nsname, sizeof(nsname));
		out_obj_open(NULL);
		out_str("kind", NULL, name[0] == 't' ? "tcp" : "drops");
		out_str("netns", NULL, nsname);
		out_u64("netns_ino", NULL, ino);
		out_u64("links", NULL, nl);
		out_u64("links_expected", NULL, want);
		out_str("state", NULL, nl == want ? "ok" : nl ? "partial" : "pins without programs");
		out_str("pin_dir", NULL, dir);
		out_obj_close();
		if (nl != want && nnotes < 8)
			snprintf(notes[nnotes++], sizeof(notes[0]), "%s probes (netns %s): %d of %d "
				 "links pinned (an attach was interrupted): '%s' in that netns or "
				 "'pktscope detach --stale' removes them", name[0] == 't' ? "TCP" :
				 "kernel drop", nsname, nl, want, name[0] == 't' ?
				 "pktscope detach --tcp" : "pktscope drops --persist detach");
	}
	out_arr_close();
	out_obj_close();
	if (!shown)
		out_text("(pktscope is not attached anywhere)\n");
	for (i = 0; i < nnotes; i++)
		out_text("%s\n", notes[i]);
	out_doc_end();
	for (i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	return EXIT_OK;
}
