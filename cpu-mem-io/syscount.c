// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pktscope syscount: syscalls counted per name (or per process), optionally
 * with their latency.  pktscope syslat: log2 histograms of the latency of
 * chosen syscalls.  Both run syscount.bpf.c on raw_syscalls enter/exit.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ctl.h"
#include "output.h"
#include "cpu.h"
#include "cpucmd.h"
#include "syscount.skel.h"

struct row {
	__u32 key;		/* syscall nr or pid */
	char comm[CPU_COMM_LEN + 1];
	struct cpu_sys_val v;
};

static bool sort_by_time;

static int row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (sort_by_time && x->v.total_ns != y->v.total_ns)
		return x->v.total_ns > y->v.total_ns ? -1 : 1;
	if (x->v.count != y->v.count)
		return x->v.count > y->v.count ? -1 : 1;
	return x->key < y->key ? -1 : x->key > y->key;
}

/*
 * The BPF object, opened with rodata set.  syscount's raw tracepoints need
 * no tracefs; syslat's syscalls:* tracepoints do, and sysnames_load(),
 * which syslat calls first, mounts it.
 */
static struct syscount_bpf *open_skel(int pid)
{
	struct syscount_bpf *skel;

	skel = syscount_bpf__open();
	if (!skel) {
		ps_err("open syscount BPF object: %s", strerror(errno));
		return NULL;
	}
	skel->rodata->target_pid = pid;
	return skel;
}

/* Links made by hand (one per named tracepoint), destroyed at the end. */
static struct bpf_link **tp_links;
static int tp_nlinks;

static void destroy_links(void)
{
	int i;

	for (i = 0; i < tp_nlinks; i++)
		bpf_link__destroy(tp_links[i]);
	free(tp_links);
	tp_links = NULL;
	tp_nlinks = 0;
}

static int attach_named(struct bpf_program *prog, const char *event, __u64 cookie)
{
	LIBBPF_OPTS(bpf_tracepoint_opts, opts, .bpf_cookie = cookie);
	struct bpf_link *l, **nl;

	l = bpf_program__attach_tracepoint_opts(prog, "syscalls", event, &opts);
	if (!l)
		return -errno;
	nl = realloc(tp_links, (tp_nlinks + 1) * sizeof(struct bpf_link *));
	if (!nl) {
		bpf_link__destroy(l);
		return -ENOMEM;
	}
	tp_links = nl;
	tp_links[tp_nlinks++] = l;
	return 0;
}

/*
 * Maps the chosen mode does not use get one entry: the LRU hashes are
 * preallocated at creation, so the 32768-entry starts and the 10240-entry
 * per-CPU proc_counts would cost milliseconds of start-up and megabytes of
 * kernel memory to a plain syscount that never touches them.
 */
static void size_maps(struct syscount_bpf *skel, bool raw_enter, bool raw_exit, bool lat)
{
	bool by_proc = skel->rodata->by_process;

	if (!raw_exit && !lat)
		bpf_map__set_max_entries(skel->maps.starts, 1);
	if (!raw_enter || by_proc)
		bpf_map__set_max_entries(skel->maps.sys_counts, 1);
	if (!raw_enter || !by_proc)
		bpf_map__set_max_entries(skel->maps.proc_counts, 1);
	if (!lat)
		bpf_map__set_max_entries(skel->maps.hists, 1);
}

static int load_skel(struct syscount_bpf *skel, bool raw_enter, bool raw_exit, bool lat)
{
	int err;

	size_maps(skel, raw_enter, raw_exit, lat);
	bpf_program__set_autoload(skel->progs.sys_enter, raw_enter);
	bpf_program__set_autoload(skel->progs.sys_exit, raw_exit);
	bpf_program__set_autoload(skel->progs.lat_enter, lat);
	bpf_program__set_autoload(skel->progs.lat_exit, lat);
	err = syscount_bpf__load(skel);
	if (err) {
		ps_err("load syscount BPF programs: %s (run with -v for the verifier log)",
		       strerror(-err));
		return -1;
	}
	return 0;
}

/* syscount: raw_syscalls enter (and exit for latency). */
static int attach_syscount(struct syscount_bpf *skel, bool need_exit)
{
	if (load_skel(skel, true, need_exit, false))
		return -1;
	skel->links.sys_enter = bpf_program__attach(skel->progs.sys_enter);
	if (!skel->links.sys_enter) {
		ps_err("attach to raw tracepoint sys_enter: %s", strerror(errno));
		return -1;
	}
	if (need_exit) {
		skel->links.sys_exit = bpf_program__attach(skel->progs.sys_exit);
		if (!skel->links.sys_exit) {
			ps_err("attach to raw tracepoint sys_exit: %s", strerror(errno));
			return -1;
		}
	}
	return 0;
}

/*
 * Wait until the deadline (duration 0: none), Ctrl-C, or the exit of pid.
 * Returns 1 when the run should end after this wait.
 */
static int wait_until(double deadline, int pid)
{
	while (!ps_exiting) {
		double left = deadline - ps_now();

		if (deadline > 0 && left <= 0)
			return 0;
		if (pid && !cpu_pid_alive(pid))
			return 1;
		ps_sleep(deadline > 0 && left < 0.05 ? left : 0.05);
	}
	return 1;
}

/* ---- syscount -------------------------------------------------------------- */

static const char syscount_options[] =
	"  -p, --pid PID        count only this process (all its threads); ends when it exits\n"
	"  -P, --by-process     count per process instead of per syscall\n"
	"  -L, --latency        also total, average and maximum time in the syscalls\n"
	"  -d, --duration SECS  stop after SECS (default: until Ctrl-C or -p exits)\n"
	"  -i, --interval SECS  print and reset every SECS\n"
	"  -n, --top N          rows to print (default 20; 0 = all)\n";

/* Read the per-syscall array (summing CPUs) as deltas against prev. */
static int read_syscalls(int fd, struct cpu_sys_val *prev, struct row *rows)
{
	int ncpu = ps_ncpus(), n = 0, c;
	struct cpu_sys_val *v;
	__u32 nr;

	v = calloc(ncpu, sizeof(*v));
	if (!v)
		return -1;
	for (nr = 0; nr < CPU_MAX_SYSCALLS; nr++) {
		struct cpu_sys_val s = { 0 };

		if (bpf_map_lookup_elem(fd, &nr, v))
			continue;
		for (c = 0; c < ncpu; c++) {
			s.count += v[c].count;
			s.total_ns += v[c].total_ns;
			if (v[c].max_ns > s.max_ns)
				s.max_ns = v[c].max_ns;
		}
		if (s.count == prev[nr].count)
			continue;
		rows[n].key = nr;
		rows[n].comm[0] = '\0';
		rows[n].v.count = s.count - prev[nr].count;
		rows[n].v.total_ns = s.total_ns - prev[nr].total_ns;
		/* The maximum is over the whole run: a per-CPU max cannot be reset safely. */
		rows[n].v.max_ns = s.max_ns;
		prev[nr] = s;
		n++;
	}
	free(v);
	return n;
}

/* Read and delete the per-process hash. */
static int read_procs(int fd, struct row **rowsp)
{
	int ncpu = ps_ncpus(), n = 0, cap = 0, c;
	struct cpu_proc_val *v;
	struct row *rows = NULL;
	__u32 key, next, *prev = NULL;
	__u32 *keys = NULL;
	int nkeys = 0, i;

	v = calloc(ncpu, sizeof(*v));
	if (!v)
		return -1;
	/* Collect keys first: deleting while walking restarts the walk. */
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		__u32 *nk;

		if (nkeys == cap) {
			cap = cap ? cap * 2 : 256;
			nk = realloc(keys, cap * sizeof(*keys));
			if (!nk)
				break;
			keys = nk;
		}
		keys[nkeys++] = next;
		key = next;
		prev = &key;
	}
	rows = calloc(nkeys ? nkeys : 1, sizeof(*rows));
	for (i = 0; rows && i < nkeys; i++) {
		struct row *r = &rows[n];

		if (bpf_map_lookup_elem(fd, &keys[i], v))
			continue;
		bpf_map_delete_elem(fd, &keys[i]);
		memset(r, 0, sizeof(*r));
		r->key = keys[i];
		for (c = 0; c < ncpu; c++) {
			r->v.count += v[c].count;
			r->v.total_ns += v[c].total_ns;
			if (v[c].max_ns > r->v.max_ns)
				r->v.max_ns = v[c].max_ns;
			if (!r->comm[0] && v[c].comm[0])
				memcpy(r->comm, v[c].comm, CPU_COMM_LEN);
		}
		if (r->v.count)
			n++;
	}
	free(keys);
	free(v);
	*rowsp = rows;
	return rows ? n : -1;
}

static const char *syscall_name(__u32 nr, char *buf, size_t len)
{
	const char *name = sysnames_header(nr);

	if (!name) {
		snprintf(buf, len, "[nr %u]", nr);
		name = buf;
	}
	return name;
}

static void print_rows(struct row *rows, int n, bool by_process, bool lat, uint64_t top,
		       double elapsed, int pid)
{
	char when[32];
	time_t t = time(NULL);
	struct tm tm;
	uint64_t total = 0;
	int i;

	/* Names are read when first printed: start-up does not wait for them. */
	if (!by_process)
		sysnames_load_numbers();
	sort_by_time = lat;
	qsort(rows, n, sizeof(*rows), row_cmp);
	for (i = 0; i < n; i++)
		total += rows[i].v.count;
	localtime_r(&t, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	out_obj_open(NULL);
	out_str("time", "[%s]", when);
	out_f64("interval_s", " %.1f s", elapsed);
	if (pid)
		out_u64("pid", ", pid %llu", pid);
	else
		out_null("pid");
	out_u64("total", ", %llu syscalls\n", total);
	if (by_process)
		out_text("%-8s %-16s %10s", "PID", "COMM", "COUNT");
	else
		out_text("%-22s %10s", "SYSCALL", "COUNT");
	if (lat)
		out_text(" %12s %10s %10s", "TOTAL_ms", "AVG_us", "MAX_us");
	out_text("\n");
	out_arr_open(by_process ? "processes" : "syscalls");
	for (i = 0; i < n && (!top || (uint64_t)i < top); i++) {
		const struct row *r = &rows[i];

		out_obj_open(NULL);
		if (by_process) {
			out_u64("pid", "%-8llu", r->key);
			out_str("comm", " %-16s", r->comm);
		} else {
			char unk[32];

			out_u64("nr", NULL, r->key);
			out_str("syscall", "%-22s", syscall_name(r->key, unk, sizeof(unk)));
		}
		out_u64("count", " %10llu", r->v.count);
		if (lat) {
			out_u64("total_ns", NULL, r->v.total_ns);
			out_f64("total_ms", " %12.3f", r->v.total_ns / 1e6);
			out_f64("avg_us", " %10.3f", r->v.count ? r->v.total_ns / 1e3 / r->v.count : 0);
			out_f64("max_us", " %10.3f", r->v.max_ns / 1e3);
		}
		out_text("\n");
		out_obj_close();
	}
	out_arr_close();
	out_obj_close();
	out_text("\n");
	out_doc_end();
}

int cmd_syscount(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pid",	required_argument,	NULL, 'p' },
		{ "by-process",	no_argument,		NULL, 'P' },
		{ "latency",	no_argument,		NULL, 'L' },
		{ "duration",	required_argument,	NULL, 'd' },
		{ "interval",	required_argument,	NULL, 'i' },
		{ "top",	required_argument,	NULL, 'n' },
		PS_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct cpu_sys_val *prev = NULL;
	struct syscount_bpf *skel = NULL;
	struct row *rows = NULL;
	bool by_process = false, lat = false;
	double duration = 0, interval = 0, t0, tlast, end;
	uint64_t top = 20;
	int pid = 0, c, err, ret = EXIT_RUNTIME;

	while ((c = ps_getopt(argc, argv, "p:PLd:i:n:" PS_COMMON_SHORTOPTS, opts)) != -1) {
		switch (c) {
		case 'p':
			if (parse_pid(optarg, &pid))
				return EXIT_USAGE;
			break;
		case 'P':
			by_process = true;
			break;
		case 'L':
			lat = true;
			break;
		case 'd':
			if (parse_seconds("duration (-d)", optarg, 0.1, 86400 * 365, &duration))
				return EXIT_USAGE;
			break;
		case 'i':
			if (parse_seconds("interval (-i)", optarg, 0.1, 86400, &interval))
				return EXIT_USAGE;
			break;
		case 'n':
			if (parse_u64("--top", optarg, 0, 1000000, &top))
				return EXIT_USAGE;
			break;
		default:
			err = ps_common_opt(c, optarg);
			if (err > 0) {
				ps_cmd_help("syscount", syscount_options);
				return EXIT_OK;
			}
			if (err)
				return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		ps_err("unexpected argument '%s': see 'pktscope syscount --help'", argv[optind]);
		return EXIT_USAGE;
	}
	if (ps_need_root("syscount"))
		return EXIT_RUNTIME;
	skel = open_skel(pid);
	if (!skel)
		return EXIT_RUNTIME;
	skel->rodata->by_process = by_process;
	skel->rodata->latency = lat;
	if (attach_syscount(skel, lat))
		goto out;
	prev = calloc(CPU_MAX_SYSCALLS, sizeof(*prev));
	rows = calloc(CPU_MAX_SYSCALLS, sizeof(*rows));
	if (!prev || !rows)
		goto out;
	ps_install_signals();
	if (pid)
		ps_info("Tracing syscalls of pid %d... Ctrl-C to end.", pid);
	else
		ps_info("Tracing syscalls... Ctrl-C to end.");
	t0 = tlast = ps_now();
	end = duration > 0 ? t0 + duration : 0;
	for (;;) {
		double next = interval > 0 ? tlast + interval : end;
		int done, n;

		if (end > 0 && next > end)
			next = end;
		done = wait_until(next, pid);
		if (end > 0 && ps_now() >= end)
			done = 1;
		if (by_process) {
			struct row *pr = NULL;

			n = read_procs(bpf_map__fd(skel->maps.proc_counts), &pr);
			if (n < 0)
				goto out;
			print_rows(pr, n, true, lat, top, ps_now() - tlast, pid);
			free(pr);
		} else {
			n = read_syscalls(bpf_map__fd(skel->maps.sys_counts), prev, rows);
			if (n < 0)
				goto out;
			print_rows(rows, n, false, lat, top, ps_now() - tlast, pid);
		}
		tlast = ps_now();
		if (done)
			break;
	}
	ret = EXIT_OK;
out:
	free(prev);
	free(rows);
	destroy_links();
	syscount_bpf__destroy(skel);
	return ret;
}

/* ---- syslat ---------------------------------------------------------------- */

static const char syslat_options[] =
	"  SYSCALL[,SYSCALL]    up to 8 syscall names of the running kernel (e.g. read,write)\n"
	"  -p, --pid PID        only this process (all its threads); ends when it exits\n"
	"  -d, --duration SECS  stop after SECS (default: until Ctrl-C or -p exits)\n";

int cmd_syslat(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pid",	required_argument,	NULL, 'p' },
		{ "duration",	required_argument,	NULL, 'd' },
		PS_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	int idx[CPU_SYSLAT_MAX], n = 0, pid = 0, c, err, i, ret = EXIT_RUNTIME;
	struct syscount_bpf *skel = NULL;
	char *list = NULL, *tok, *save = NULL;
	double duration = 0;
	const char *arg;

	while ((c = ps_getopt(argc, argv, "p:d:" PS_COMMON_SHORTOPTS, opts)) != -1) {
		switch (c) {
		case 'p':
			if (parse_pid(optarg, &pid))
				return EXIT_USAGE;
			break;
		case 'd':
			if (parse_seconds("duration (-d)", optarg, 0.1, 86400 * 365, &duration))
				return EXIT_USAGE;
			break;
		default:
			err = ps_common_opt(c, optarg);
			if (err > 0) {
				ps_cmd_help("syslat", syslat_options);
				return EXIT_OK;
			}
			if (err)
				return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		ps_err("syslat needs a syscall name, e.g. 'pktscope syslat read': see --help");
		return EXIT_USAGE;
	}
	if (optind + 1 < argc) {
		ps_err("unexpected argument '%s': give syscalls as one comma-separated list",
		       argv[optind + 1]);
		return EXIT_USAGE;
	}
	arg = argv[optind];
	if (ps_need_root("syslat"))
		return EXIT_RUNTIME;
	/* Names are checked against the running kernel: load them first. */
	if (sysnames_load())
		return EXIT_RUNTIME;
	list = strdup(arg);
	if (!list)
		return EXIT_RUNTIME;
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int k = sysnames_index(tok);

		if (n == CPU_SYSLAT_MAX) {
			ps_err("too many syscalls in '%s': give at most %d", arg, CPU_SYSLAT_MAX);
			free(list);
			return EXIT_USAGE;
		}
		if (k < 0) {
			ps_err("unknown syscall '%s': the running kernel has no tracepoint "
			       "syscalls/sys_enter_%s (names as in 'pktscope syscount', e.g. read, openat)",
			       tok, tok);
			free(list);
			return EXIT_USAGE;
		}
		for (i = 0; i < n && idx[i] != k; i++)
			;
		if (i < n)
			continue;
		idx[n++] = k;
	}
	free(list);
	if (!n) {
		ps_err("no syscall name in '%s': give e.g. read or read,write", arg);
		return EXIT_USAGE;
	}

	skel = open_skel(pid);
	if (!skel)
		return EXIT_RUNTIME;
	if (load_skel(skel, false, false, true))
		goto out;
	for (i = 0; i < n; i++) {
		char ev[128];

		snprintf(ev, sizeof(ev), "sys_enter_%s", sysnames_at(idx[i]));
		err = attach_named(skel->progs.lat_enter, ev, i);
		if (!err) {
			snprintf(ev, sizeof(ev), "sys_exit_%s", sysnames_at(idx[i]));
			err = attach_named(skel->progs.lat_exit, ev, i);
		}
		if (err) {
			ps_err("attach to tracepoint syscalls/%s: %s", ev, strerror(-err));
			goto out;
		}
	}
	ps_install_signals();
	if (pid)
		ps_info("Tracing %s latency of pid %d... Ctrl-C to end.", arg, pid);
	else
		ps_info("Tracing %s latency... Ctrl-C to end.", arg);
	wait_until(duration > 0 ? ps_now() + duration : 0, pid);

	out_obj_open(NULL);
	out_str("unit", NULL, "usecs");
	out_arr_open("syscalls");
	for (i = 0; i < n; i++) {
		int ncpu = ps_ncpus(), k, s;
		struct cpu_lat_hist *h = calloc(ncpu, sizeof(*h));
		__u64 slots[CPU_LOG2_SLOTS] = { 0 }, count = 0;
		__u32 key = i;

		if (!h)
			goto out;
		if (!bpf_map_lookup_elem(bpf_map__fd(skel->maps.hists), &key, h))
			for (k = 0; k < ncpu; k++)
				for (s = 0; s < CPU_LOG2_SLOTS; s++)
					slots[s] += h[k].slots[s];
		free(h);
		for (s = 0; s < CPU_LOG2_SLOTS; s++)
			count += slots[s];
		out_obj_open(NULL);
		out_str("syscall", "%s", sysnames_at(idx[i]));
		out_u64("count", ": %llu calls\n", count);
		ps_print_log2_hist("usecs", slots, CPU_LOG2_SLOTS, NULL);
		out_obj_close();
	}
	out_arr_close();
	out_obj_close();
	out_doc_end();
	ret = EXIT_OK;
out:
	destroy_links();
	syscount_bpf__destroy(skel);
	return ret;
}

/* ---- collector for `pktscope report` ------------------------------------- */

struct sys_session {
	struct syscount_bpf *skel;
	struct cpu_sys_val *prev;
	struct row *rows;
};

void syscount_end(struct sys_session *s)
{
	if (!s)
		return;
	destroy_links();
	syscount_bpf__destroy(s->skel);
	free(s->prev);
	free(s->rows);
	free(s);
}

struct sys_session *syscount_start(int pid)
{
	struct sys_session *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->prev = calloc(CPU_MAX_SYSCALLS, sizeof(*s->prev));
	s->rows = calloc(CPU_MAX_SYSCALLS, sizeof(*s->rows));
	if (!s->prev || !s->rows)
		goto fail;
	s->skel = open_skel(pid);
	if (!s->skel)
		goto fail;
	s->skel->rodata->latency = true;
	if (attach_syscount(s->skel, true))
		goto fail;
	return s;
fail:
	syscount_end(s);
	return NULL;
}

static int by_time(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->v.total_ns != y->v.total_ns)
		return x->v.total_ns > y->v.total_ns ? -1 : 1;
	return x->key < y->key ? -1 : x->key > y->key;
}

int syscount_read(struct sys_session *s, struct sys_top *out, int max)
{
	int n = read_syscalls(bpf_map__fd(s->skel->maps.sys_counts), s->prev, s->rows), i;
	char buf[32];

	if (n < 0)
		return n;
	sysnames_load_numbers();
	qsort(s->rows, n, sizeof(*s->rows), by_time);
	for (i = 0; i < n && i < max; i++) {
		snprintf(out[i].name, sizeof(out[i].name), "%s",
			 syscall_name(s->rows[i].key, buf, sizeof(buf)));
		out[i].count = s->rows[i].v.count;
		out[i].total_ns = s->rows[i].v.total_ns;
		out[i].max_ns = s->rows[i].v.max_ns;
	}
	return i;
}
