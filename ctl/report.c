// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pktscope report: run the CPU, memory, IO and network collectors together
 * for a while, classify the bottleneck and write the evidence as text, JSON
 * and one self-contained HTML page (report_html.c).
 *
 * Collectors: profile (perf events, 99 Hz, user+kernel stacks), memleak and
 * mallocstat on -p PID (libc uprobes), biolatency per disk and biotop (block
 * raw tracepoints), cachestat (filemap tracepoints), filetop (syscall
 * tracepoints), tcpretrans per flow and tcplife (TCP tracepoints), and the
 * pinned accounting and RTT (attach --rtt) of --iface.  Around them, /proc:
 * /proc/stat (CPU busy, iowait), /proc/PID/stat (the target's CPU time and
 * state), /proc/net/snmp (segments sent and retransmitted in this netns).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ctl.h"
#include "output.h"
#include "report.h"
#include "io.h"
#include "mem.h"
#include "tcp.h"
#include "../cpu-mem-io/ioutil.h"
#include "bio.skel.h"
#include "cachestat.skel.h"
#include "tcp.skel.h"

/*
 * Thresholds: a class at its threshold scores 50.  They are where the
 * measure starts to explain a slowdown on its own, not where it is bad.
 */
#define TH_PID_USER_PCT		50.0	/* target's user CPU, % of one CPU */
#define TH_SYS_BUSY_PCT		80.0	/* without -p: system-wide CPU busy */
#define TH_HEAP_MIBS		1.0	/* outstanding heap growth, MiB/s */
#define TH_DSTATE_PCT		20.0	/* target in uninterruptible (IO) sleep */
#define TH_MISS_PCT		10.0	/* page cache misses, % of lookups */
#define MIN_CACHE_LOOKUPS	1000	/* pages: fewer say nothing about a ratio */
#define TH_P99_MS		20.0	/* block IO latency, 99th percentile */
#define MIN_DISK_IOS		10
#define TH_IOWAIT_PCT		20.0	/* without -p: system-wide iowait */
#define TH_RETRANS_PCT		1.0	/* TCP segments retransmitted, % of sent */
#define MIN_TCP_SEGS		500
#define TH_DROP_PCT		1.0	/* --iface packets dropped by pktscope */
#define MIN_IF_PKTS		500

static const char *const cls_names[REP_NCLS] = { "cpu", "memory", "io", "network" };

/* ---- /proc readers ----------------------------------------------------------- */

struct cpu_t {
	unsigned long long busy, iowait, total;
};

static int read_cpu(struct cpu_t *c)
{
	unsigned long long v[10] = { 0 };
	char line[512];
	FILE *f = fopen("/proc/stat", "r");
	int n;

	memset(c, 0, sizeof(*c));
	if (!f)
		return -1;
	n = fgets(line, sizeof(line), f) ?
		sscanf(line, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
		       &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]) : 0;
	fclose(f);
	if (n < 8)
		return -1;
	/* user nice system idle iowait irq softirq steal (guest is in user) */
	c->iowait = v[4];
	c->total = v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
	c->busy = c->total - v[3] - v[4];
	return 0;
}

static double pct(unsigned long long a, unsigned long long b)
{
	return b ? 100.0 * a / b : 0;
}

struct pid_t_ {
	unsigned long long utime, stime;	/* clock ticks, all threads */
	char state;
};

static int read_pid(int pid, struct pid_t_ *p, char *comm, size_t clen)
{
	char path[64], buf[1024], *s, *e;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	s = strchr(buf, '(');
	e = strrchr(buf, ')');
	if (!s || !e || e < s)
		return -1;
	if (comm)
		snprintf(comm, clen, "%.*s", (int)(e - s - 1), s + 1);
	/* after ") ": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
	if (sscanf(e + 2, "%c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &p->state,
		   &p->utime, &p->stime) != 3)
		return -1;
	return 0;
}

/* 1 when some thread of pid is in uninterruptible sleep (mostly: waiting for IO). */
static int pid_in_dstate(int pid)
{
	char path[64], buf[512], *e;
	struct dirent *d;
	int hit = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	if (!dir)
		return -1;
	while (!hit && (d = readdir(dir))) {
		ssize_t n;
		int fd;

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.20s/stat", pid, d->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		e = strrchr(buf, ')');
		if (e && e[1] == ' ' && e[2] == 'D')
			hit = 1;
	}
	closedir(dir);
	return hit;
}

struct snmp_t {
	unsigned long long in, out, retrans;
};

/* /proc/net/snmp follows the netns of this task (entered by --netns). */
static int read_snmp(struct snmp_t *s)
{
	char hdr[1024], val[1024];
	FILE *f = fopen("/proc/net/snmp", "r");
	int ok = -1;

	memset(s, 0, sizeof(*s));
	if (!f)
		return -1;
	while (fgets(hdr, sizeof(hdr), f)) {
		char *hs, *vs, *h, *v;

		if (strncmp(hdr, "Tcp:", 4) || !fgets(val, sizeof(val), f))
			continue;
		/* Skip the "Tcp:" label of both lines. */
		strtok_r(hdr, " \n", &hs);
		strtok_r(val, " \n", &vs);
		while ((h = strtok_r(NULL, " \n", &hs)) && (v = strtok_r(NULL, " \n", &vs))) {
			if (!strcmp(h, "InSegs"))
				s->in = strtoull(v, NULL, 10);
			else if (!strcmp(h, "OutSegs"))
				s->out = strtoull(v, NULL, 10);
			else if (!strcmp(h, "RetransSegs"))
				s->retrans = strtoull(v, NULL, 10);
		}
		ok = 0;
		break;
	}
	fclose(f);
	return ok;
}

/* ---- collectors ---------------------------------------------------------------- */

struct coll {
	struct prof_session *prof;
	struct sys_session *sys;
	struct mem_session *mem;
	struct bio_bpf *lat, *top;
	struct cachestat_bpf *cache;
	struct tcp_bpf *tcp;
	struct bpf_link *tcp_links[2];
	struct drops_bpf *drops;
	struct ps_pins pins;
	bool pins_open;
	struct filetop_bpf *ft;
	struct mstat_session *mstat;
	struct tcplife_session *life;
	/* RTT histogram of --iface when the report started: the window is a delta */
	unsigned long long rtt0_slots[REP_RTT_SLOTS], rtt0_count;
	double rtt0_sum_us;
};

static struct bio_bpf *bio_start(enum ps_bio_mode mode)
{
	struct bio_bpf *s = bio_bpf__open();
	int err;

	if (!s)
		return NULL;
	s->rodata->targ_mode = mode;
	s->rodata->targ_per_disk = true;
	if (mode == PS_BIO_LAT) {
		bpf_program__set_autoload(s->progs.io_start, false);
		bpf_program__set_autoload(s->progs.rq_insert, false);
	}
	err = bio_bpf__load(s);
	if (!err)
		err = bio_bpf__attach(s);
	if (err) {
		ps_warn("report: block IO tracepoints (%s): %s; IO latency left out",
			mode == PS_BIO_LAT ? "biolatency" : "biotop", strerror(-err));
		bio_bpf__destroy(s);
		return NULL;
	}
	return s;
}

static struct cachestat_bpf *cache_start(int pid)
{
	struct cachestat_bpf *s = cachestat_bpf__open();
	int err;

	if (!s)
		return NULL;
	s->rodata->target_tgid = pid;
	s->rodata->page_shift = __builtin_ctz(sysconf(_SC_PAGESIZE));
	err = cachestat_bpf__load(s);
	if (!err)
		err = cachestat_bpf__attach(s);
	if (err) {
		ps_warn("report: page cache tracepoints: %s; cache hit ratio left out",
			strerror(-err));
		cachestat_bpf__destroy(s);
		return NULL;
	}
	return s;
}

static int tcp_start(struct coll *c)
{
	static const char *const want[2] = { "ps_tcp_retrans", "ps_tcp_synack" };
	struct bpf_program *p;
	uint64_t ino;
	int err, i;

	if (ps_netns_ino(&ino))
		return -1;
	c->tcp = tcp_bpf__open();
	if (!c->tcp)
		return -1;
	c->tcp->rodata->targ_netns = ino;
	c->tcp->rodata->emit_mask = 1u << PS_TCP_RETRANS;
	c->tcp->rodata->count_only = true;
	bpf_object__for_each_program(p, c->tcp->obj)
		bpf_program__set_autoload(p, !strcmp(bpf_program__name(p), want[0]) ||
					  !strcmp(bpf_program__name(p), want[1]));
	err = tcp_bpf__load(c->tcp);
	for (i = 0; !err && i < 2; i++) {
		p = bpf_object__find_program_by_name(c->tcp->obj, want[i]);
		c->tcp_links[i] = p ? bpf_program__attach(p) : NULL;
		if (!c->tcp_links[i])
			err = -errno;
	}
	if (err) {
		ps_warn("report: TCP retransmit tracepoints: %s; per-flow retransmits left out",
			strerror(-err));
		return -1;
	}
	return 0;
}

static void coll_stop(struct coll *c)
{
	int i;

	profile_end(c->prof);
	syscount_end(c->sys);
	memleak_end(c->mem);
	bio_bpf__destroy(c->lat);
	bio_bpf__destroy(c->top);
	cachestat_bpf__destroy(c->cache);
	for (i = 0; i < 2; i++)
		bpf_link__destroy(c->tcp_links[i]);
	tcp_bpf__destroy(c->tcp);
	if (c->drops)
		drops_collect_end(c->drops);
	filetop_collect_end(c->ft);
	mallocstat_collect_end(c->mstat);
	tcplife_collect_end(c->life);
	if (c->pins_open)
		ps_pins_close(&c->pins);
	memset(c, 0, sizeof(*c));
}

static void add_attached(struct rep *r, const char *what)
{
	size_t n = strlen(r->attached);

	snprintf(r->attached + n, sizeof(r->attached) - n, "%s%s", n ? ", " : "", what);
}

static int coll_start(struct coll *c, struct rep *r)
{
	char buf[64];

	if (ps_mount_tracefs())
		return -1;
	/* The profile is the one collector the report cannot do without. */
	c->prof = profile_start(r->pid, r->freq);
	if (!c->prof)
		return -1;
	snprintf(buf, sizeof(buf), "profile %llu Hz", (unsigned long long)r->freq);
	add_attached(r, buf);
	r->have_prof = true;
	c->sys = syscount_start(r->pid);
	if (c->sys) {
		add_attached(r, "syscount");
		r->have_sys = true;
	} else {
		ps_warn("report: syscount not attached: syscall times left out");
	}
	if (r->pid) {
		c->mem = memleak_start(r->pid);
		if (c->mem) {
			add_attached(r, "memleak");
			r->have_mem = true;
		} else {
			ps_warn("report: memleak on PID %d not attached: memory left out", r->pid);
		}
	}
	c->lat = bio_start(PS_BIO_LAT);
	c->top = c->lat ? bio_start(PS_BIO_TOP) : NULL;
	if (c->top) {
		add_attached(r, "biolatency, biotop");
		r->have_bio = true;
	}
	c->cache = cache_start(r->pid);
	if (c->cache) {
		add_attached(r, "cachestat");
		r->have_cache = true;
	}
	c->ft = filetop_collect_start(r->pid);
	if (c->ft) {
		add_attached(r, "filetop");
		r->have_files = true;
	} else {
		ps_warn("report: filetop not attached: files left out");
	}
	if (r->pid) {
		c->mstat = mallocstat_collect_start(r->pid);
		if (c->mstat) {
			add_attached(r, "mallocstat");
			r->have_mstat = true;
		} else {
			ps_warn("report: mallocstat on PID %d not attached: allocation counts left out",
				r->pid);
		}
	}
	if (!tcp_start(c)) {
		add_attached(r, "tcpretrans");
		r->have_tcp = true;
	}
	c->life = tcplife_collect_start();
	if (c->life) {
		add_attached(r, "tcplife");
		r->have_life = true;
	} else {
		ps_warn("report: tcplife not attached: closed connections left out");
	}
	c->drops = drops_collect_start();
	if (c->drops) {
		add_attached(r, "drops");
		r->have_drops = true;
	}
	if (r->iface) {
		if (ps_pins_open_iface(r->iface, &c->pins)) {
			ps_warn("report: no packet accounting of %s: attach it first "
				"('pktscope attach %s'); left out", r->iface, r->iface);
		} else {
			c->pins_open = true;
			snprintf(buf, sizeof(buf), "%s counters", r->iface);
			add_attached(r, buf);
			r->have_iface = true;
			/* RTT only when the interface was attached with --rtt. */
			if (!rtt_collect_read(c->pins.dir, c->rtt0_slots, &c->rtt0_count,
					      &c->rtt0_sum_us, NULL, 0, &r->nrtt)) {
				snprintf(buf, sizeof(buf), "%s RTT", r->iface);
				add_attached(r, buf);
				r->have_rtt = true;
			}
		}
	}
	return 0;
}

/* Sum of the per-CPU values of slot idx of a per-CPU u64 array. */
static __u64 percpu_u64(int fd, __u32 idx)
{
	int ncpu = ps_ncpus(), i;
	__u64 v[ncpu], s = 0;

	if (bpf_map_lookup_elem(fd, &idx, v))
		return 0;
	for (i = 0; i < ncpu; i++)
		s += v[i];
	return s;
}

struct cache_t {
	__u64 lookup, added, write_added, dirtied;
};

static void read_cache(struct coll *c, struct cache_t *t)
{
	int fd;

	memset(t, 0, sizeof(*t));
	if (!c->cache)
		return;
	fd = bpf_map__fd(c->cache->maps.totals);
	t->lookup = percpu_u64(fd, CACHE_ST_LOOKUP);
	t->added = percpu_u64(fd, CACHE_ST_ADDED);
	t->write_added = percpu_u64(fd, CACHE_ST_WRITE_ADDED);
	t->dirtied = percpu_u64(fd, CACHE_ST_DIRTIED);
}

/* As cachestat: a miss is a page added to the cache not by a write. */
static __u64 cache_misses(const struct cache_t *t)
{
	return t->added > t->write_added ? t->added - t->write_added : 0;
}

static __u64 block_total(struct coll *c)
{
	struct ps_biolat_hist h;
	__u32 k, next, *prev = NULL;
	__u64 s = 0;
	int fd, i;

	if (!c->lat)
		return 0;
	fd = bpf_map__fd(c->lat->maps.hists);
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		if (!bpf_map_lookup_elem(fd, &k, &h))
			for (i = 0; i < PS_LOG2_SLOTS; i++)
				s += h.slots[i];
	}
	return s;
}

/*
 * Packets: ingress is seen by XDP and TC ingress both, so a packet is
 * counted once at the hook that saw more; drops at every hook.
 */
static void read_iface(struct coll *c, __u64 dpk[PS_DIR_MAX], __u64 ddr[PS_DIR_MAX],
		       __u64 *pkts, __u64 *drops, __u64 *bytes)
{
	struct ps_counters cs[PS_DIR_MAX];
	int d;

	*pkts = *drops = *bytes = 0;
	memset(dpk, 0, PS_DIR_MAX * sizeof(*dpk));
	memset(ddr, 0, PS_DIR_MAX * sizeof(*ddr));
	if (!c->pins_open || ps_read_counters(c->pins.stats_fd, cs))
		return;
	for (d = 0; d < PS_DIR_MAX; d++) {
		dpk[d] = cs[d].pkts;
		ddr[d] = cs[d].verdict[PS_V_DROP];
		*drops += ddr[d];
	}
	d = cs[PS_DIR_XDP].pkts >= cs[PS_DIR_TC_IN].pkts ? PS_DIR_XDP : PS_DIR_TC_IN;
	*pkts = cs[d].pkts + cs[PS_DIR_TC_OUT].pkts;
	*bytes = cs[d].bytes + cs[PS_DIR_TC_OUT].bytes;
}

/* A snapshot of every cumulative counter, for deltas. */
struct snap {
	double t;
	struct cpu_t cpu;
	struct pid_t_ pid;
	bool pid_ok;
	struct snmp_t snmp;
	struct cache_t cache;
	__u64 block, pkts, drops, bytes;
	__u64 dir_pkts[PS_DIR_MAX], dir_drops[PS_DIR_MAX];
	double heap_mib;
};

static void take_snap(struct coll *c, const struct rep *r, struct snap *s)
{
	struct mem_leak_sum m;

	memset(s, 0, sizeof(*s));
	s->t = ps_now();
	read_cpu(&s->cpu);
	if (r->pid)
		s->pid_ok = !read_pid(r->pid, &s->pid, NULL, 0);
	read_snmp(&s->snmp);
	read_cache(c, &s->cache);
	s->block = block_total(c);
	read_iface(c, s->dir_pkts, s->dir_drops, &s->pkts, &s->drops, &s->bytes);
	if (c->mem && !memleak_read(c->mem, &m, false))
		s->heap_mib = m.bytes / 1048576.0;
}

static void tl_add(struct rep *r, const struct snap *a, const struct snap *b, double t0)
{
	struct rep_tl *p;
	double dt = b->t - a->t;
	long hz = sysconf(_SC_CLK_TCK);

	if (r->ntl >= REP_MAX_TL || dt <= 0)
		return;
	p = &r->tl[r->ntl++];
	p->t = b->t - t0;
	p->cpu_busy = pct(b->cpu.busy - a->cpu.busy, b->cpu.total - a->cpu.total);
	if (a->pid_ok && b->pid_ok)
		p->pid_cpu = 100.0 * (b->pid.utime + b->pid.stime - a->pid.utime - a->pid.stime) /
			     hz / dt;
	p->heap_mib = b->heap_mib;
	p->block_iops = (b->block - a->block) / dt;
	p->cache_miss = (cache_misses(&b->cache) - cache_misses(&a->cache)) / dt;
	p->tcp_out = (b->snmp.out - a->snmp.out) / dt;
	p->tcp_retrans = (b->snmp.retrans - a->snmp.retrans) / dt;
	p->pkts = (b->pkts - a->pkts) / dt;
	p->drops = (b->drops - a->drops) / dt;
}

/* ---- reading the results ---------------------------------------------------- */

static double bucket_ms(int slot)
{
	/* slot k >= 1 holds [2^(k-1), 2^k) microseconds: report its upper bound */
	return slot ? ldexp(1.0, slot) / 1000.0 : 0.001;
}

static void read_disks(struct coll *c, struct rep *r)
{
	struct ps_biotop_key tk, tnext, *tprev = NULL;
	struct ps_biotop_val tv;
	struct ps_biolat_hist h;
	__u32 k, next, *prev = NULL;
	int fd, i, j;

	if (!c->lat)
		return;
	fd = bpf_map__fd(c->lat->maps.hists);
	while (r->ndisks < REP_MAX_DISKS && !bpf_map_get_next_key(fd, prev, &next)) {
		struct rep_disk *d = &r->disks[r->ndisks];
		__u64 cum = 0;

		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &h))
			continue;
		memset(d, 0, sizeof(*d));
		d->dev = k;
		snprintf(d->name, sizeof(d->name), "%s", bio_disk_name(k));
		memcpy(d->slots, h.slots, sizeof(d->slots));
		for (i = 0; i < PS_LOG2_SLOTS; i++)
			d->count += h.slots[i];
		if (!d->count)
			continue;
		for (i = 0; i < PS_LOG2_SLOTS; i++) {
			cum += h.slots[i];
			if (!d->p50_ms && cum * 2 >= d->count)
				d->p50_ms = bucket_ms(i);
			if (cum * 100 >= d->count * 99) {
				d->p99_ms = bucket_ms(i);
				break;
			}
		}
		r->ndisks++;
	}
	/* Busiest disk first. */
	for (i = 0; i < r->ndisks; i++)
		for (j = i + 1; j < r->ndisks; j++)
			if (r->disks[j].count > r->disks[i].count) {
				struct rep_disk t = r->disks[i];

				r->disks[i] = r->disks[j];
				r->disks[j] = t;
			}
	if (!c->top || !r->pid)
		return;
	fd = bpf_map__fd(c->top->maps.top);
	while (!bpf_map_get_next_key(fd, tprev, &tnext)) {
		tk = tnext;
		tprev = &tk;
		if (tk.pid != (__u32)r->pid || bpf_map_lookup_elem(fd, &tk, &tv))
			continue;
		for (i = 0; i < r->ndisks; i++) {
			if (r->disks[i].dev != tk.dev)
				continue;
			r->disks[i].pid_lat_ms = (r->disks[i].pid_lat_ms * r->disks[i].pid_ios +
						  tv.lat_ns / 1e6) / (r->disks[i].pid_ios + tv.ios);
			r->disks[i].pid_ios += tv.ios;
			r->disks[i].pid_bytes += tv.bytes;
		}
	}
}

static int flow_cmp(const void *a, const void *b)
{
	const struct rep_flow *x = a, *y = b;

	return x->segs != y->segs ? (x->segs > y->segs ? -1 : 1) : strcmp(x->l, y->l);
}

static void endpoint(__u16 family, const __u8 *a, __u16 port, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	if (!inet_ntop(family == AF_INET6 ? AF_INET6 : AF_INET, a, ip, sizeof(ip)))
		snprintf(ip, sizeof(ip), "?");
	snprintf(buf, len, family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, port);
}

static void read_flows(struct coll *c, struct rep *r)
{
	struct ps_tcp_flow k, next, *prev = NULL;
	struct ps_tcp_flow_val v;
	struct rep_flow all[256];
	int fd, n = 0, i;

	if (!c->tcp)
		return;
	fd = bpf_map__fd(c->tcp->maps.flows);
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &v))
			continue;
		r->flow_segs_total += v.retrans_segs;
		if (n == (int)(sizeof(all) / sizeof(all[0])))
			continue;
		endpoint(k.family, k.laddr, k.lport, all[n].l, sizeof(all[n].l));
		endpoint(k.family, k.raddr, k.rport, all[n].r, sizeof(all[n].r));
		all[n].retrans = v.retrans;
		all[n].segs = v.retrans_segs;
		n++;
	}
	qsort(all, n, sizeof(*all), flow_cmp);
	for (i = 0; i < n && i < REP_MAX_FLOWS; i++)
		r->flows[i] = all[i];
	r->nflows = i;
}

/* filetop, mallocstat, tcplife and the RTT of --iface, at the end. */
static void read_extra(struct coll *c, struct rep *r)
{
	unsigned long long slots[REP_RTT_SLOTS], count;
	double sum;
	int i;

	if (c->ft) {
		r->nfiles = filetop_collect_read(c->ft, r->files, REP_MAX_FILES, &r->files_total);
		if (r->nfiles < 0) {
			r->nfiles = 0;
			r->have_files = false;
		}
	}
	if (c->mstat && mallocstat_collect_read(c->mstat, &r->mstat))
		r->have_mstat = false;
	if (c->life)
		r->nconns = tcplife_collect_read(c->life, r->conns, REP_MAX_CONNS, &r->conns_total,
						 &r->conns_ms_max, &r->conns_ms_sum);
	if (r->have_rtt) {
		if (rtt_collect_read(c->pins.dir, slots, &count, &sum, r->rtt_flows, REP_MAX_RTT,
				     &r->nrtt)) {
			r->have_rtt = false;
			r->nrtt = 0;
			return;
		}
		for (i = 0; i < REP_RTT_SLOTS; i++)
			r->rtt_slots[i] = slots[i] - c->rtt0_slots[i];
		r->rtt_count = count - c->rtt0_count;
		r->rtt_sum_us = sum - c->rtt0_sum_us;
	}
}

/* Upper bound (us) of the log2 bucket holding the q-quantile of slots. */
static double log2_quantile_us(const unsigned long long *slots, int n, double q)
{
	unsigned long long tot = 0, cum = 0;
	int i;

	for (i = 0; i < n; i++)
		tot += slots[i];
	for (i = 0; tot && i < n; i++) {
		cum += slots[i];
		if (cum >= q * tot)
			return i ? ldexp(1.0, i) : 1;
	}
	return 0;
}

/* The log2 bucket of the most allocation calls: "[lo, hi)" bytes. */
static void top_size(const struct rep_mstat *m, char *buf, size_t len)
{
	int i, best = 0;

	for (i = 1; i < PS_LOG2_SLOTS; i++)
		if (m->hist[i] > m->hist[best])
			best = i;
	if (!best)
		snprintf(buf, len, "0 bytes");
	else
		snprintf(buf, len, "%llu..%llu bytes", 1ull << (best - 1), (1ull << best) - 1);
}

/* Least-squares slope of the outstanding heap over the timeline, B/s. */
static double heap_slope(const struct rep *r)
{
	double sx = 0, sy = 0, sxx = 0, sxy = 0, n = r->ntl;
	int i;

	if (r->ntl < 3)
		return r->elapsed > 0 ? r->leak.bytes / r->elapsed : 0;
	for (i = 0; i < r->ntl; i++) {
		double x = r->tl[i].t, y = r->tl[i].heap_mib * 1048576.0;

		sx += x;
		sy += y;
		sxx += x * x;
		sxy += x * y;
	}
	if (n * sxx - sx * sx <= 0)
		return 0;
	return (n * sxy - sx * sy) / (n * sxx - sx * sx);
}

/* ---- verdict ------------------------------------------------------------------ */

static void ev(struct rep_cls *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ev(struct rep_cls *c, const char *fmt, ...)
{
	va_list ap;

	if (c->nev >= REP_MAX_EV)
		return;
	va_start(ap, fmt);
	vsnprintf(c->ev[c->nev++], sizeof(c->ev[0]), fmt, ap);
	va_end(ap);
}

/* The class's measure is the largest of its sub-measures relative to their thresholds. */
static void measure(struct rep_cls *c, double v, double th, const char *unit, const char *what)
{
	if (th > 0 && (v / th > c->ratio || !c->what)) {
		c->ratio = v / th;
		c->metric = v;
		c->threshold = th;
		c->unit = unit;
		c->what = what;
		c->main_ev = c->nev;	/* each measure is followed by its evidence line */
	}
}

/* The evidence line of the deciding measure goes first. */
static void main_first(struct rep_cls *c)
{
	char t[sizeof(c->ev[0])];
	int i;

	if (c->main_ev <= 0 || c->main_ev >= c->nev)
		return;
	memcpy(t, c->ev[c->main_ev], sizeof(t));
	for (i = c->main_ev; i > 0; i--)
		memcpy(c->ev[i], c->ev[i - 1], sizeof(t));
	memcpy(c->ev[0], t, sizeof(t));
	c->main_ev = 0;
}

/* A folded stack short enough for one evidence line: its leaf end. */
static const char *stack_tail(const char *s, char *buf, size_t len)
{
	size_t n = strlen(s), keep = len - 4;
	const char *p;

	if (n < len)
		return s;
	p = strchr(s + n - keep, ';');
	snprintf(buf, len, "...%s", p ? p : s + n - keep);
	return buf;
}

static const char *short_mod(const char *m)
{
	const char *s = m ? strrchr(m, '/') : NULL;

	return s ? s + 1 : m ? m : "?";
}

static void classify(struct rep *r)
{
	struct rep_cls *cpu = &r->cls[REP_CPU], *mem = &r->cls[REP_MEM];
	struct rep_cls *io = &r->cls[REP_IO], *net = &r->cls[REP_NET];
	int i, j;

	for (i = 0; i < REP_NCLS; i++)
		r->cls[i] = (struct rep_cls){ .name = cls_names[i] };

	/* CPU: user time is the program's own computing; system time is charged
	 * to whatever the kernel did for it (IO, network), which the other
	 * classes measure. */
	if (r->pid) {
		measure(cpu, r->pid_user, TH_PID_USER_PCT, "%", "user CPU of the target, % of one CPU");
		ev(cpu, "PID %d (%s) ran %.1f%% of one CPU in user mode, %.1f%% in the kernel "
		   "(threshold %.0f%% user)", r->pid, r->comm, r->pid_user, r->pid_sys,
		   TH_PID_USER_PCT);
	} else {
		measure(cpu, r->cpu_busy, TH_SYS_BUSY_PCT, "%", "system-wide CPU busy");
	}
	ev(cpu, "CPU %.1f%% busy system-wide over %d CPUs (threshold %.0f%% without -p)",
	   r->cpu_busy, ps_ncpus(), TH_SYS_BUSY_PCT);
	if (r->have_prof && r->prof.ntop && r->prof.samples) {
		const struct prof_fn *f = &r->prof.top[0];
		size_t s, best = 0;

		/* Name the hottest function that has a name. */
		for (s = 0; s < r->prof.ntop; s++)
			if (strcmp(r->prof.top[s].name, "[unknown]")) {
				f = &r->prof.top[s];
				break;
			}
		ev(cpu, "%.1f%% of %llu samples in %s() (%s)", 100.0 * f->self / r->prof.samples,
		   (unsigned long long)r->prof.samples, f->name, short_mod(f->module));
		for (s = 1; s < r->prof.nstacks; s++)
			if (r->prof.stacks[s].count > r->prof.stacks[best].count)
				best = s;
		if (r->prof.nstacks) {
			char tail[200];

			ev(cpu, "hottest stack (%.1f%% of samples): %s",
			   100.0 * r->prof.stacks[best].count / r->prof.samples,
			   stack_tail(r->prof.stacks[best].folded, tail, sizeof(tail)));
		}
	}

	if (r->have_sys && r->nsys)
		ev(cpu, "most time in syscall %s: %llu calls, %.1f ms in all, slowest %.3g ms",
		   r->sys[0].name, (unsigned long long)r->sys[0].count, r->sys[0].total_ns / 1e6,
		   r->sys[0].max_ns / 1e6);

	/* Memory: how fast the target's outstanding heap grows. */
	if (r->have_mem) {
		measure(mem, r->heap_rate / 1048576.0, TH_HEAP_MIBS, "MiB/s",
			"outstanding heap growth");
		ev(mem, "outstanding heap grew %.1f MiB in %.1f s: %.2f MiB/s (threshold %.0f MiB/s)",
		   r->leak.bytes / 1048576.0, r->elapsed, r->heap_rate / 1048576.0, TH_HEAP_MIBS);
		if (r->leak.nstacks && r->leak.top[0].bytes)
			ev(mem, "%.1f MiB (%.0f%%) in %llu allocations under stack %s",
			   r->leak.top[0].bytes / 1048576.0,
			   r->leak.bytes ? 100.0 * r->leak.top[0].bytes / r->leak.bytes : 0,
			   r->leak.top[0].allocs, r->leak.top[0].frames);
		ev(mem, "%llu allocations and %llu frees seen", r->leak.total_allocs,
		   r->leak.total_frees);
		if (r->have_mstat) {
			char sz[48];

			top_size(&r->mstat, sz, sizeof(sz));
			ev(mem, "mallocstat: %llu allocation calls requesting %.1f MiB, %llu frees; "
			   "most requests %s", r->mstat.mallocs, r->mstat.bytes / 1048576.0,
			   r->mstat.frees, sz);
		}
	} else {
		measure(mem, 0, TH_HEAP_MIBS, "MiB/s", "outstanding heap growth");
		ev(mem, "heap growth not measured: memleak needs -p PID");
	}

	/* IO: time blocked, cache misses, block latency. */
	if (r->pid) {
		measure(io, r->dstate_pct, TH_DSTATE_PCT, "%", "target in IO (D state) sleep");
		ev(io, "PID %d in uninterruptible (IO) sleep in %.1f%% of %llu samples "
		   "(threshold %.0f%%)", r->pid, r->dstate_pct,
		   (unsigned long long)r->dstate_samples, TH_DSTATE_PCT);
	} else {
		measure(io, r->cpu_iowait, TH_IOWAIT_PCT, "%", "system-wide iowait");
	}
	ev(io, "iowait %.1f%% of CPU time system-wide (threshold %.0f%% without -p)",
	   r->cpu_iowait, TH_IOWAIT_PCT);
	if (r->have_cache) {
		double miss = r->cache_lookups ? 100.0 - r->cache_hit_pct : 0;

		if (r->cache_lookups >= MIN_CACHE_LOOKUPS)
			measure(io, miss, TH_MISS_PCT, "%", "page cache misses");
		ev(io, "cache hit ratio %.1f%%: %llu misses of %llu page lookups%s "
		   "(threshold %.0f%% hits, at least %d lookups)", r->cache_hit_pct,
		   r->cache_misses, r->cache_lookups, r->pid ? " by the target" : "",
		   100 - TH_MISS_PCT, MIN_CACHE_LOOKUPS);
	}
	if (r->have_bio) {
		const struct rep_disk *d = NULL;

		for (i = 0; i < r->ndisks; i++) {
			if (r->pid && (!d || r->disks[i].pid_ios > d->pid_ios))
				d = &r->disks[i];
			if (!r->pid && !d)
				d = &r->disks[i];
		}
		if (d && (r->pid ? d->pid_ios : d->count) >= MIN_DISK_IOS) {
			measure(io, d->p99_ms, TH_P99_MS, "ms", "p99 block IO latency");
			ev(io, "p99 block IO latency %.3g ms on %s (%llu requests, p50 %.3g ms; "
			   "threshold %.0f ms)", d->p99_ms, d->name, (unsigned long long)d->count,
			   d->p50_ms, TH_P99_MS);
			if (r->pid)
				ev(io, "the target issued %llu requests (%.1f MiB) on %s, "
				   "mean latency %.3g ms", (unsigned long long)d->pid_ios,
				   d->pid_bytes / 1048576.0, d->name, d->pid_lat_ms);
		} else {
			ev(io, "fewer than %d block requests%s: no latency verdict", MIN_DISK_IOS,
			   r->pid ? " by the target" : "");
		}
	}
	if (r->have_files && r->nfiles) {
		const struct rep_file *f = &r->files[0];

		char by[48] = "";

		if (!r->pid)
			snprintf(by, sizeof(by), " by %s (PID %u)", f->comm, f->pid);
		ev(io, "top file by bytes%s: %s, %llu reads (%.1f MiB), %llu writes (%.1f MiB)%s",
		   r->pid ? " of the target" : "", f->path, f->reads, f->rbytes / 1048576.0,
		   f->writes, f->wbytes / 1048576.0, by);
	}

	/* Network: retransmitted segments, packets dropped on --iface. */
	if (r->tcp_out >= MIN_TCP_SEGS)
		measure(net, pct(r->tcp_retrans, r->tcp_out), TH_RETRANS_PCT, "%",
			"TCP segments retransmitted");
	ev(net, "%.2f%% of TCP segments retransmitted: %llu of %llu sent%s%s (threshold %.0f%%, "
	   "at least %d segments)", pct(r->tcp_retrans, r->tcp_out), r->tcp_retrans, r->tcp_out,
	   r->netns ? " in netns " : "", r->netns ? r->netns : "", TH_RETRANS_PCT, MIN_TCP_SEGS);
	if (r->nflows && r->flow_segs_total)
		ev(net, "%.2f%% of segments retransmitted on flow %s -> %s: %llu segments, %.0f%% of "
		   "all retransmits", pct(r->flows[0].segs, r->tcp_out), r->flows[0].l,
		   r->flows[0].r, r->flows[0].segs, pct(r->flows[0].segs, r->flow_segs_total));
	if (r->have_iface) {
		if (r->if_dir_pkts >= MIN_IF_PKTS)
			measure(net, pct(r->if_dir_drops, r->if_dir_pkts), TH_DROP_PCT, "%",
				"packets dropped on the interface");
		ev(net, "%s %s: %.2f%% of packets dropped by pktscope's rules: %llu of %llu "
		   "(threshold %.0f%%, at least %d packets)", r->iface, ps_dir_names[r->if_dir],
		   pct(r->if_dir_drops, r->if_dir_pkts), r->if_dir_drops, r->if_dir_pkts,
		   TH_DROP_PCT, MIN_IF_PKTS);
	}
	if (r->have_drops) {
		char top[160] = "";

		for (i = 0; i < r->ndrops && i < 3; i++) {
			size_t n = strlen(top);

			snprintf(top + n, sizeof(top) - n, "%s%s %llu (%s)", i ? ", " : ": ",
				 r->drops[i].reason, r->drops[i].count, r->drops[i].where);
		}
		/* Evidence only: a quiet system drops some packets all the time. */
		ev(net, "%llu packets dropped by the kernel%s%s%s", r->kdrops,
		   r->netns ? " in netns " : "", r->netns ? r->netns : "", top);
	}
	if (r->have_rtt) {
		const struct rep_rtt_flow *f = r->nrtt ? &r->rtt_flows[0] : NULL;

		/* The RTT of the flow that retransmitted most, else the busiest. */
		for (i = 0; r->nflows && i < r->nrtt; i++)
			if (!strcmp(r->rtt_flows[i].l, r->flows[0].l) &&
			    !strcmp(r->rtt_flows[i].r, r->flows[0].r))
				f = &r->rtt_flows[i];
		if (f)
			ev(net, "RTT on %s of flow %s -> %s: p50 %.3g ms, max %.3g ms (%llu samples "
			   "since attach); %llu samples in the window, p99 below %.3g ms",
			   r->iface, f->l, f->r, f->p50_us / 1e3, f->max_us / 1e3, f->samples,
			   r->rtt_count, log2_quantile_us(r->rtt_slots, REP_RTT_SLOTS, 0.99) / 1e3);
	}
	if (r->have_life && r->conns_total) {
		const struct rep_conn *c = &r->conns[0];

		ev(net, "%llu TCP connection%s closed, lasting %.3g ms on average, at most %.3g ms; "
		   "most bytes: %s -> %s (%s) sent %llu B, received %llu B in %.3g ms",
		   r->conns_total, r->conns_total == 1 ? "" : "s", r->conns_ms_sum / r->conns_total, r->conns_ms_max, c->l, c->r,
		   c->comm, c->tx_bytes, c->rx_bytes, c->ms);
	}
	if (!net->what)
		measure(net, 0, TH_RETRANS_PCT, "%", "TCP segments retransmitted");

	for (i = 0; i < REP_NCLS; i++) {
		main_first(&r->cls[i]);
		r->cls[i].score = r->cls[i].ratio * 50 > 100 ? 100 : r->cls[i].ratio * 50;
		r->rank[i] = i;
	}
	for (i = 0; i < REP_NCLS; i++)
		for (j = i + 1; j < REP_NCLS; j++)
			if (r->cls[r->rank[j]].ratio > r->cls[r->rank[i]].ratio) {
				int t = r->rank[i];

				r->rank[i] = r->rank[j];
				r->rank[j] = t;
			}
}

/* ---- output ------------------------------------------------------------------- */

static void emit_cls(const struct rep_cls *c, const char *key, const char *label)
{
	int i;

	out_obj_open(key);
	out_str("class", label, c->name);
	out_f64("score", " (score %.0f", c->score);
	out_f64("ratio", NULL, c->ratio);
	out_str("measure", ": %s", c->what ? c->what : "");
	out_f64("value", " %.3g", c->metric);
	out_str("unit", "%s", c->unit ? c->unit : "");
	out_f64("threshold", ", threshold %.3g", c->threshold);
	out_text("%s)\n", c->unit ? c->unit : "");
	out_bool("over_threshold", NULL, c->ratio >= 1);
	out_arr_open("evidence");
	for (i = 0; i < c->nev; i++)
		out_str(NULL, NULL, c->ev[i]);
	out_arr_close();
	out_obj_close();
}

static void emit(const struct rep *r, const char *html, const char *json)
{
	const struct rep_cls *top = &r->cls[r->rank[0]];
	size_t i;
	int k;

	out_obj_open(NULL);
	out_str("started", "pktscope report: started %s", r->started);
	out_f64("duration_s", ", asked %.1f s", r->duration);
	out_f64("elapsed_s", ", collected %.1f s", r->elapsed);
	out_bool("partial", NULL, r->partial);
	if (r->partial)
		out_text(" (PARTIAL: interrupted)");
	if (r->pid) {
		out_u64("pid", "; PID %llu", r->pid);
		out_str("comm", " (%s)", r->comm);
	} else {
		out_null("pid");
	}
	out_bool("pid_exited", NULL, r->pid_exited);
	if (r->pid_exited)
		out_text(" exited early");
	if (r->netns)
		out_str("netns", "; netns %s", r->netns);
	if (r->iface)
		out_str("iface", "; iface %s", r->iface);
	out_str("attached", "\n  attached: %s\n", r->attached);

	out_obj_open("verdict");
	out_str("class", "\nVERDICT: %s", top->name);
	out_bool("over_threshold", NULL, top->ratio >= 1);
	if (top->ratio < 1)
		out_text(" (highest, but no class crossed its threshold)");
	out_f64("score", " (score %.0f/100)\n", top->score);
	out_arr_open("evidence");
	for (k = 0; k < top->nev; k++)
		out_str(NULL, "  - %s\n", top->ev[k]);
	out_arr_close();
	out_str("second", "second: %s", r->cls[r->rank[1]].name);
	out_f64("second_score", " (score %.0f/100)\n", r->cls[r->rank[1]].score);
	out_arr_open("second_evidence");
	for (k = 0; k < r->cls[r->rank[1]].nev; k++)
		out_str(NULL, "  - %s\n", r->cls[r->rank[1]].ev[k]);
	out_arr_close();
	out_obj_close();

	out_text("\nclasses, ranked:\n");
	out_arr_open("classes");
	for (k = 0; k < REP_NCLS; k++)
		emit_cls(&r->cls[r->rank[k]], NULL, "  %-8s");
	out_arr_close();

	/* Details: JSON only (text readers have the HTML). */
	out_obj_open("cpu");
	out_f64("busy_pct", NULL, r->cpu_busy);
	out_f64("iowait_pct", NULL, r->cpu_iowait);
	out_f64("pid_user_pct", NULL, r->pid_user);
	out_f64("pid_sys_pct", NULL, r->pid_sys);
	out_u64("samples", NULL, r->prof.samples);
	out_u64("dropped", NULL, r->prof.dropped);
	out_u64("frequency_hz", NULL, r->freq);
	out_arr_open("top");
	for (i = 0; i < r->prof.ntop && i < 20; i++) {
		out_obj_open(NULL);
		out_str("function", NULL, r->prof.top[i].name);
		out_str("module", NULL, short_mod(r->prof.top[i].module));
		out_u64("self", NULL, r->prof.top[i].self);
		out_u64("total", NULL, r->prof.top[i].total);
		out_f64("self_pct", NULL, pct(r->prof.top[i].self, r->prof.samples));
		out_obj_close();
	}
	out_arr_close();
	out_arr_open("syscalls");
	for (k = 0; k < r->nsys; k++) {
		out_obj_open(NULL);
		out_str("syscall", NULL, r->sys[k].name);
		out_u64("count", NULL, r->sys[k].count);
		out_u64("total_ns", NULL, r->sys[k].total_ns);
		out_u64("max_ns", NULL, r->sys[k].max_ns);
		out_obj_close();
	}
	out_arr_close();
	out_obj_close();

	out_obj_open("memory");
	out_bool("measured", NULL, r->have_mem);
	out_u64("outstanding_bytes", NULL, r->leak.bytes);
	out_u64("outstanding_allocs", NULL, r->leak.allocs);
	out_f64("growth_bytes_per_s", NULL, r->heap_rate);
	out_u64("allocs", NULL, r->leak.total_allocs);
	out_u64("frees", NULL, r->leak.total_frees);
	out_u64("dropped", NULL, r->leak.dropped);
	out_arr_open("stacks");
	for (k = 0; k < r->leak.nstacks && k < MEM_SUM_TOP; k++) {
		out_obj_open(NULL);
		out_u64("bytes", NULL, r->leak.top[k].bytes);
		out_u64("allocs", NULL, r->leak.top[k].allocs);
		out_str("frames", NULL, r->leak.top[k].frames);
		out_obj_close();
	}
	out_arr_close();
	out_obj_open("mallocstat");
	out_bool("measured", NULL, r->have_mstat);
	out_u64("mallocs", NULL, r->mstat.mallocs);
	out_u64("frees", NULL, r->mstat.frees);
	out_u64("bytes", NULL, r->mstat.bytes);
	if (out_json())
		ps_print_log2_hist("size_hist", r->mstat.hist, PS_LOG2_SLOTS, "bytes");
	out_obj_close();
	out_obj_close();

	out_obj_open("io");
	out_f64("dstate_pct", NULL, r->dstate_pct);
	out_u64("dstate_samples", NULL, r->dstate_samples);
	out_obj_open("cache");
	out_bool("measured", NULL, r->have_cache);
	out_u64("lookups", NULL, r->cache_lookups);
	out_u64("hits", NULL, r->cache_hits);
	out_u64("misses", NULL, r->cache_misses);
	out_u64("dirtied", NULL, r->cache_dirtied);
	out_f64("hit_pct", NULL, r->cache_hit_pct);
	out_obj_close();
	out_arr_open("disks");
	for (k = 0; k < r->ndisks; k++) {
		const struct rep_disk *d = &r->disks[k];

		out_obj_open(NULL);
		out_str("disk", NULL, d->name);
		out_u64("requests", NULL, d->count);
		out_f64("p50_ms", NULL, d->p50_ms);
		out_f64("p99_ms", NULL, d->p99_ms);
		out_u64("pid_requests", NULL, d->pid_ios);
		out_u64("pid_bytes", NULL, d->pid_bytes);
		out_f64("pid_mean_ms", NULL, d->pid_lat_ms);
		out_obj_close();
	}
	out_arr_close();
	out_bool("files_measured", NULL, r->have_files);
	out_u64("files_seen", NULL, r->files_total);
	out_arr_open("files");
	for (k = 0; k < r->nfiles; k++) {
		const struct rep_file *f = &r->files[k];

		out_obj_open(NULL);
		out_str("file", NULL, f->path);
		out_u64("pid", NULL, f->pid);
		out_str("comm", NULL, f->comm);
		out_u64("reads", NULL, f->reads);
		out_u64("writes", NULL, f->writes);
		out_u64("read_bytes", NULL, f->rbytes);
		out_u64("write_bytes", NULL, f->wbytes);
		out_obj_close();
	}
	out_arr_close();
	out_obj_close();

	out_obj_open("network");
	out_u64("tcp_out_segs", NULL, r->tcp_out);
	out_u64("tcp_in_segs", NULL, r->tcp_in);
	out_u64("tcp_retrans_segs", NULL, r->tcp_retrans);
	out_f64("retrans_pct", NULL, pct(r->tcp_retrans, r->tcp_out));
	out_arr_open("flows");
	for (k = 0; k < r->nflows; k++) {
		out_obj_open(NULL);
		out_str("local", NULL, r->flows[k].l);
		out_str("remote", NULL, r->flows[k].r);
		out_u64("retransmits", NULL, r->flows[k].retrans);
		out_u64("segs", NULL, r->flows[k].segs);
		out_obj_close();
	}
	out_arr_close();
	out_bool("drops_measured", NULL, r->have_drops);
	out_u64("kernel_drops", NULL, r->kdrops);
	out_arr_open("drop_reasons");
	for (k = 0; k < r->ndrops; k++) {
		out_obj_open(NULL);
		out_str("reason", NULL, r->drops[k].reason);
		out_str("where", NULL, r->drops[k].where);
		out_u64("packets", NULL, r->drops[k].count);
		out_u64("bytes", NULL, r->drops[k].bytes);
		out_obj_close();
	}
	out_arr_close();
	out_bool("iface_measured", NULL, r->have_iface);
	out_u64("iface_packets", NULL, r->if_pkts);
	out_u64("iface_drops", NULL, r->if_drops);
	if (r->have_iface)
		out_str("iface_drop_hook", NULL, ps_dir_names[r->if_dir]);
	else
		out_null("iface_drop_hook");
	out_u64("iface_hook_packets", NULL, r->if_dir_pkts);
	out_u64("iface_hook_drops", NULL, r->if_dir_drops);
	out_bool("connections_measured", NULL, r->have_life);
	out_u64("connections_closed", NULL, r->conns_total);
	out_f64("connection_ms_max", NULL, r->conns_ms_max);
	out_f64("connection_ms_mean", NULL, r->conns_total ? r->conns_ms_sum / r->conns_total : 0);
	out_arr_open("connections");
	for (k = 0; k < r->nconns; k++) {
		const struct rep_conn *c = &r->conns[k];

		out_obj_open(NULL);
		out_str("local", NULL, c->l);
		out_str("remote", NULL, c->r);
		out_u64("pid", NULL, c->pid);
		out_str("comm", NULL, c->comm);
		out_u64("tx_bytes", NULL, c->tx_bytes);
		out_u64("rx_bytes", NULL, c->rx_bytes);
		out_f64("duration_ms", NULL, c->ms);
		out_obj_close();
	}
	out_arr_close();
	out_obj_open("rtt");
	out_bool("measured", NULL, r->have_rtt);
	out_u64("samples", NULL, r->rtt_count);
	out_f64("avg_us", NULL, r->rtt_count ? r->rtt_sum_us / r->rtt_count : 0);
	out_f64("p50_us", NULL, log2_quantile_us(r->rtt_slots, REP_RTT_SLOTS, 0.5));
	out_f64("p99_us", NULL, log2_quantile_us(r->rtt_slots, REP_RTT_SLOTS, 0.99));
	if (out_json())
		ps_print_log2_hist("hist", r->rtt_slots, REP_RTT_SLOTS, "usecs");
	out_arr_open("flows");
	for (k = 0; k < r->nrtt; k++) {
		const struct rep_rtt_flow *f = &r->rtt_flows[k];

		out_obj_open(NULL);
		out_str("proto", NULL, f->proto);
		out_str("local", NULL, f->l);
		out_str("remote", NULL, f->r);
		out_u64("samples", NULL, f->samples);
		out_u64("retrans", NULL, f->retrans);
		out_f64("min_us", NULL, f->min_us);
		out_f64("p50_us", NULL, f->p50_us);
		out_f64("avg_us", NULL, f->avg_us);
		out_f64("max_us", NULL, f->max_us);
		out_obj_close();
	}
	out_arr_close();
	out_obj_close();
	out_obj_close();

	out_arr_open("timeline");
	for (k = 0; k < r->ntl; k++) {
		const struct rep_tl *p = &r->tl[k];

		out_obj_open(NULL);
		out_f64("t", NULL, p->t);
		out_f64("cpu_busy_pct", NULL, p->cpu_busy);
		out_f64("pid_cpu_pct", NULL, p->pid_cpu);
		out_f64("heap_mib", NULL, p->heap_mib);
		out_f64("block_iops", NULL, p->block_iops);
		out_f64("cache_misses_per_s", NULL, p->cache_miss);
		out_f64("tcp_out_per_s", NULL, p->tcp_out);
		out_f64("tcp_retrans_per_s", NULL, p->tcp_retrans);
		out_f64("packets_per_s", NULL, p->pkts);
		out_f64("drops_per_s", NULL, p->drops);
		out_obj_close();
	}
	out_arr_close();
	if (html)
		out_str("html", "\nHTML report: %s\n", html);
	if (json)
		out_str("json", "JSON report: %s\n", json);
	out_obj_close();
	out_doc_end();
}

/* The JSON document to fd, through the one output path (stdout, redirected). */
static int emit_json_fd(const struct rep *r, int fd, const char *html)
{
	int saved, err = 0;

	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	if (saved < 0 || dup2(fd, STDOUT_FILENO) < 0) {
		err = -errno;
		if (saved >= 0)
			close(saved);
		return err;
	}
	out_init(true);
	/* stdio keeps the errno of the write that failed (ENOSPC) */
	errno = 0;
	emit(r, html, NULL);
	if (fflush(stdout) || ferror(stdout))
		err = -(errno ? errno : EIO);
	clearerr(stdout);
	out_init(g.json);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	return err;
}

/*
 * A report file is written whole or not at all: into PATH.tmp-PID beside it,
 * synced, then renamed over PATH.  A full disk or an IO error leaves neither
 * a partial nor an empty file, and an older report at PATH stays as it was.
 */
static int write_report_file(const struct rep *r, const char *path, const char *what,
			     const char *html)
{
	char tmp[PATH_MAX];
	FILE *o = NULL;
	int fd, err = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp-%d", path, (int)getpid()) >= (int)sizeof(tmp)) {
		err = -ENAMETOOLONG;
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	if (!strcmp(what, "HTML")) {
		o = fdopen(fd, "w");
		if (!o) {
			err = -errno;
			close(fd);
			goto out_unlink;
		}
		errno = 0;
		err = report_write_html(r, o);
		if (fflush(o) || ferror(o))
			err = err ? err : -(errno ? errno : EIO);
		fd = fileno(o);
	} else {
		err = emit_json_fd(r, fd, html);
	}
	if (!err && fsync(fd))
		err = -errno;
	if (o ? fclose(o) : close(fd))
		err = err ? err : -errno;
	if (!err && rename(tmp, path))
		err = -errno;
out_unlink:
	if (err)
		unlink(tmp);
out:
	if (err)
		ps_err("write %s report to %s: %s (nothing written: free some space or give "
		       "another path)", what, path, strerror(-err));
	return err ? -1 : 0;
}

/* ---- the command --------------------------------------------------------------- */

static const char report_options[] =
	"  -d, --duration SECS  how long to collect, 1..86400 (default 10); Ctrl-C ends early\n"
	"  -p, --pid PID        the process to explain: its CPU time, heap (memleak), IO\n"
	"  -i, --iface IFACE    include the packet accounting of IFACE (see 'pktscope attach')\n"
	"  -o, --output FILE    write the HTML report to FILE\n"
	"  -j, --json FILE      write the JSON report to FILE ('-' for stdout)\n"
	"  -F, --frequency HZ   profile samples per second per CPU (default 99)\n"
	"  -v, --verbose        libbpf's own messages\n"
	"  -h, --help           this help\n"
	"'pktscope -j report ...' prints the JSON document on stdout instead of the text.\n";

static void progress(const struct rep *r, double el, bool end)
{
	static int tty = -1;

	if (tty < 0)
		tty = isatty(STDERR_FILENO);
	fprintf(stderr, "%sreport: %4.0f/%.0f s, %s%s", tty ? "\r" : "", el, r->duration,
		r->attached, end || !tty ? "\n" : "");
	fflush(stderr);
}

int cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "duration",	required_argument,	NULL, 'd' },
		{ "pid",	required_argument,	NULL, 'p' },
		{ "iface",	required_argument,	NULL, 'i' },
		{ "output",	required_argument,	NULL, 'o' },
		{ "json",	required_argument,	NULL, 'j' },
		{ "frequency",	required_argument,	NULL, 'F' },
		{ "verbose",	no_argument,		NULL, 'v' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "netns",	required_argument,	NULL, PS_OPT_NETNS },
		{ NULL, 0, NULL, 0 },
	};
	const char *html = NULL, *json = NULL;
	struct coll c = { 0 };
	struct snap s0, prev, now;
	struct rep *r;
	struct tm tm;
	time_t wall;
	double t0, next_tick, next_d;
	long hz = sysconf(_SC_CLK_TCK);
	int ch, err, ifindex, ret = EXIT_RUNTIME;

	r = calloc(1, sizeof(*r));
	if (!r) {
		ps_err("report: out of memory");
		return EXIT_RUNTIME;
	}
	r->duration = 10;
	r->freq = 99;
	r->netns = g.netns;
	while ((ch = ps_getopt(argc, argv, "d:p:i:o:j:F:vh", opts)) != -1) {
		switch (ch) {
		case 'd':
			if (parse_seconds("duration (-d)", optarg, 1, 86400, &r->duration))
				goto usage;
			break;
		case 'p':
			if (parse_pid(optarg, &r->pid))
				goto usage;
			break;
		case 'i':
			if (parse_ifindex(optarg, &ifindex))
				goto usage;
			r->iface = optarg;
			break;
		case 'o':
			if (!*optarg) {
				ps_err("--output needs a file name");
				goto usage;
			}
			html = optarg;
			break;
		case 'j':
			if (!*optarg) {
				ps_err("--json needs a file name, or '-' for stdout");
				goto usage;
			}
			json = optarg;
			break;
		case 'F':
			if (parse_u64("sampling frequency (-F, Hz)", optarg, 1, 1000, &r->freq))
				goto usage;
			break;
		default:
			err = ps_common_opt(ch, optarg);
			if (err > 0) {
				/* Not ps_cmd_help(): here -j takes a file name. */
				printf("usage: pktscope [--netns NAME] report [-d SECS] [-p PID] "
				       "[-i IFACE] [-o FILE.html] [-j FILE.json]\n  collect CPU, "
				       "memory, IO and network evidence together; verdict, HTML "
				       "and JSON report\n\noptions:\n%s", report_options);
				free(r);
				return EXIT_OK;
			}
			if (err)
				goto usage;
		}
	}
	if (optind < argc) {
		ps_err("unexpected argument '%s': see 'pktscope report --help'", argv[optind]);
		goto usage;
	}
	if (json && !strcmp(json, "-")) {
		g.json = true;
		out_init(true);
		json = NULL;
	}
	if (ps_need_root("report"))
		goto out;
	if (r->pid) {
		struct pid_t_ p;

		if (read_pid(r->pid, &p, r->comm, sizeof(r->comm))) {
			ps_err("no process with PID %d: see 'ps'", r->pid);
			goto usage;
		}
	}
	wall = time(NULL);
	localtime_r(&wall, &tm);
	strftime(r->started, sizeof(r->started), "%Y-%m-%d %H:%M:%S", &tm);

	if (coll_start(&c, r))
		goto out;
	ps_install_signals();
	t0 = ps_now();
	take_snap(&c, r, &s0);
	prev = s0;
	next_tick = t0 + 1;
	next_d = t0;
	progress(r, 0, false);
	while (!ps_exiting) {
		double tnow = ps_now();

		if (tnow - t0 >= r->duration)
			break;
		if (r->pid && !cpu_pid_alive(r->pid)) {
			r->pid_exited = true;
			break;
		}
		if (r->pid && tnow >= next_d) {
			/* State sampling at 20 Hz: cheap, and enough for a share. */
			int d = pid_in_dstate(r->pid);

			if (d >= 0) {
				r->dstate_samples++;
				r->dstate_hits += d;
			}
			next_d += 0.05;
		}
		if (tnow >= next_tick) {
			take_snap(&c, r, &now);
			tl_add(r, &prev, &now, t0);
			prev = now;
			profile_tick(c.prof);
			if (c.life)
				tcplife_collect_poll(c.life);
			next_tick += 1;
			progress(r, tnow - t0, false);
		}
		ps_sleep(0.05);
	}
	take_snap(&c, r, &now);
	r->elapsed = now.t - t0;
	r->partial = ps_exiting && r->elapsed < r->duration;
	if (now.t - prev.t >= 0.5)
		tl_add(r, &prev, &now, t0);
	progress(r, r->elapsed, true);
	if (r->partial)
		ps_warn("report: interrupted after %.1f s: writing what was collected (partial)",
			r->elapsed);

	/* Totals over the whole window. */
	r->cpu_busy = pct(now.cpu.busy - s0.cpu.busy, now.cpu.total - s0.cpu.total);
	r->cpu_iowait = pct(now.cpu.iowait - s0.cpu.iowait, now.cpu.total - s0.cpu.total);
	if (r->pid && s0.pid_ok && (now.pid_ok || prev.pid_ok)) {
		const struct pid_t_ *e = now.pid_ok ? &now.pid : &prev.pid;
		double secs = (now.pid_ok ? now.t : prev.t) - s0.t;

		if (secs > 0) {
			r->pid_user = 100.0 * (e->utime - s0.pid.utime) / hz / secs;
			r->pid_sys = 100.0 * (e->stime - s0.pid.stime) / hz / secs;
		}
	}
	r->dstate_pct = pct(r->dstate_hits, r->dstate_samples);
	r->tcp_out = now.snmp.out - s0.snmp.out;
	r->tcp_in = now.snmp.in - s0.snmp.in;
	r->tcp_retrans = now.snmp.retrans - s0.snmp.retrans;
	r->cache_lookups = now.cache.lookup - s0.cache.lookup;
	r->cache_misses = cache_misses(&now.cache) - cache_misses(&s0.cache);
	r->cache_hits = r->cache_lookups > r->cache_misses ? r->cache_lookups - r->cache_misses : 0;
	r->cache_dirtied = now.cache.dirtied - s0.cache.dirtied;
	r->cache_hit_pct = r->cache_hits + r->cache_misses ?
		100.0 * r->cache_hits / (r->cache_hits + r->cache_misses) : 0;
	r->if_pkts = now.pkts - s0.pkts;
	r->if_drops = now.drops - s0.drops;
	r->if_bytes = now.bytes - s0.bytes;
	for (ch = 0; ch < PS_DIR_MAX; ch++) {
		__u64 p = now.dir_pkts[ch] - s0.dir_pkts[ch], d = now.dir_drops[ch] - s0.dir_drops[ch];

		/* The hook that drops the largest share of what it sees. */
		if (p && (!r->if_dir_pkts || (double)d / p > (double)r->if_dir_drops / r->if_dir_pkts)) {
			r->if_dir = ch;
			r->if_dir_pkts = p;
			r->if_dir_drops = d;
		}
	}
	if (c.mem && memleak_read(c.mem, &r->leak, true))
		r->have_mem = false;
	r->heap_rate = heap_slope(r);
	read_disks(&c, r);
	read_flows(&c, r);
	read_extra(&c, r);
	if (c.drops) {
		r->ndrops = drops_collect_read(c.drops, r->drops, REP_MAX_DROPS, &r->kdrops);
		if (r->ndrops < 0) {
			r->ndrops = 0;
			r->have_drops = false;
		}
	}
	if (c.sys) {
		r->nsys = syscount_read(c.sys, r->sys, REP_MAX_SYS);
		if (r->nsys < 0) {
			r->nsys = 0;
			r->have_sys = false;
		}
	}
	if (profile_stop(c.prof, &r->prof))
		r->have_prof = false;
	if (r->pid)
		r->prof_pid_samples = r->prof.samples;
	classify(r);

	ret = EXIT_OK;
	/* A file that could not be written is not named in the summary. */
	if (html && write_report_file(r, html, "HTML", NULL)) {
		ret = EXIT_RUNTIME;
		html = NULL;
	}
	if (json && write_report_file(r, json, "JSON", html)) {
		ret = EXIT_RUNTIME;
		json = NULL;
	}
	emit(r, html, json);
	/* The result's names belong to the profile session: free it first. */
	profile_result_free(&r->prof);
out:
	coll_stop(&c);
	free(r);
	return ret;
usage:
	free(r);
	return EXIT_USAGE;
}
