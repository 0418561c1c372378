// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * cachestat and cachetop: page cache hits, misses and dirtied pages, for
 * the whole system (or one process) and per process.
 *
 * Counters are cumulative in the kernel; each interval prints differences.
 * MISSES = pages added to the page cache other than by a write that
 * created and dirtied them; HITS = pages looked up by read() and page
 * faults minus MISSES, never below 0.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>

#include "ctl.h"
#include "output.h"
#include "mem.h"
#include "memutil.h"
#include "cachestat.skel.h"

struct cache_counts {
	__u64 c[CACHE_ST_MAX];
};

struct cache_row {
	__u32 pid;
	char comm[MEM_COMM_LEN];
	struct cache_counts n;		/* cumulative */
	struct cache_counts d;		/* this interval */
};

static __u64 misses_of(const struct cache_counts *n)
{
	__u64 a = n->c[CACHE_ST_ADDED], w = n->c[CACHE_ST_WRITE_ADDED];

	return a > w ? a - w : 0;
}

static __u64 hits_of(const struct cache_counts *n)
{
	__u64 l = n->c[CACHE_ST_LOOKUP], m = misses_of(n);

	return l > m ? l - m : 0;
}

static double ratio_of(const struct cache_counts *n)
{
	__u64 h = hits_of(n), m = misses_of(n);

	return h + m ? 100.0 * h / (h + m) : 0;
}

static int read_totals(struct cachestat_bpf *skel, struct cache_counts *out)
{
	int ncpu = ps_ncpus(), fd = bpf_map__fd(skel->maps.totals), i, k;
	__u64 v[ncpu];

	memset(out, 0, sizeof(*out));
	for (k = 0; k < CACHE_ST_MAX; k++) {
		__u32 key = k;

		if (bpf_map_lookup_elem(fd, &key, v))
			return -errno;
		for (i = 0; i < ncpu; i++)
			out->c[k] += v[i];
	}
	return 0;
}

/* Buffers and Cached of /proc/meminfo, in MiB. */
static void meminfo(double *buffers, double *cached)
{
	unsigned long long kb;
	char line[256];
	FILE *f;

	*buffers = *cached = 0;
	f = fopen("/proc/meminfo", "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Buffers: %llu kB", &kb) == 1)
			*buffers = kb / 1024.0;
		else if (sscanf(line, "Cached: %llu kB", &kb) == 1)
			*cached = kb / 1024.0;
	}
	fclose(f);
}

static void print_counts(const struct cache_counts *d, bool detail)
{
	out_u64("hits", "%10llu", hits_of(d));
	out_u64("misses", " %10llu", misses_of(d));
	out_u64("dirties", " %10llu", d->c[CACHE_ST_DIRTIED]);
	out_f64("hit_pct", " %6.1f", ratio_of(d));
	if (detail) {
		out_u64("lookups", NULL, d->c[CACHE_ST_LOOKUP]);
		out_u64("added", NULL, d->c[CACHE_ST_ADDED]);
		out_u64("write_added", NULL, d->c[CACHE_ST_WRITE_ADDED]);
	}
}

static struct cachestat_bpf *cache_open(int tgid, bool per_proc)
{
	struct cachestat_bpf *skel;
	int err;

	if (ps_need_root("cachestat") || ps_mount_tracefs())
		return NULL;
	skel = cachestat_bpf__open();
	if (!skel) {
		ps_err("open the cachestat BPF object: %s", strerror(errno));
		return NULL;
	}
	skel->rodata->target_tgid = tgid;
	skel->rodata->per_proc = per_proc;
	skel->rodata->page_shift = __builtin_ctz(sysconf(_SC_PAGESIZE));
	err = cachestat_bpf__load(skel);
	if (!err)
		err = cachestat_bpf__attach(skel);
	if (err) {
		ps_err("load and attach the page cache tracepoints (filemap:mm_filemap_get_pages, "
		       "mm_filemap_fault, mm_filemap_add_to_page_cache, writeback:writeback_dirty_folio): "
		       "%s (-v shows libbpf's log)", strerror(-err));
		cachestat_bpf__destroy(skel);
		return NULL;
	}
	ps_info("%s: tracing the page cache%s%.0d", per_proc ? "cachetop" : "cachestat",
		tgid ? " for PID " : "", tgid);
	return skel;
}

#define CACHESTAT_HELP							\
	"  INTERVAL               seconds between lines (default 1)\n"	\
	"  COUNT                  stop after COUNT lines (default: until Ctrl-C)\n" \
	"  -p, --pid PID          count only what process PID does; stop when it exits\n"

int cmd_cachestat(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'p' },
		PS_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct cache_counts prev, cur, d;
	struct cachestat_bpf *skel;
	double interval = 1, t0, t1, buf_mb, cache_mb;
	uint64_t count = 0, n;
	int c, r, i, pid = 0, pidfd = -1, rc = EXIT_OK;
	enum mem_wake w = MEM_WAKE_TIMEOUT;
	char ts[16];

	while ((c = ps_getopt(argc, argv, "p:" PS_COMMON_SHORTOPTS, opts)) != -1) {
		switch (c) {
		case 'p':
			if (parse_pid(optarg, &pid))
				return EXIT_USAGE;
			break;
		default:
			r = ps_common_opt(c, optarg);
			if (r > 0) {
				ps_cmd_help("cachestat", CACHESTAT_HELP);
				return EXIT_OK;
			}
			if (r < 0)
				return EXIT_USAGE;
		}
	}
	if (mem_interval_args("cachestat", argc - optind, argv + optind, &interval, &count))
		return EXIT_USAGE;
	if (pid) {
		pidfd = mem_pidfd(pid);
		if (pidfd < 0) {
			ps_err("no process with PID %d: see 'ps'", pid);
			return EXIT_USAGE;
		}
	}
	skel = cache_open(pid, false);
	if (!skel) {
		if (pidfd >= 0)
			close(pidfd);
		return EXIT_RUNTIME;
	}
	ps_install_signals();
	if (read_totals(skel, &cur)) {
		ps_err("read the cachestat counters: %s", strerror(errno));
		rc = EXIT_RUNTIME;
		goto out;
	}
	out_text("%10s %10s %10s %6s %11s %10s\n", "HITS", "MISSES", "DIRTIES", "HIT%",
		 "BUFFERS_MB", "CACHED_MB");
	t0 = ps_now();
	for (n = 0; (!count || n < count) && w == MEM_WAKE_TIMEOUT; n++) {
		prev = cur;
		w = mem_wait(pidfd, interval);
		if (read_totals(skel, &cur)) {
			ps_err("read the cachestat counters: %s", strerror(errno));
			rc = EXIT_RUNTIME;
			break;
		}
		t1 = ps_now();
		for (i = 0; i < CACHE_ST_MAX; i++)
			d.c[i] = cur.c[i] - prev.c[i];
		meminfo(&buf_mb, &cache_mb);
		/* A last, shorter interval when stopped: nothing counted is lost. */
		out_obj_open(NULL);
		out_str("time", NULL, mem_timestr(ts, sizeof(ts)));
		out_f64("interval_s", NULL, t1 - t0);
		if (pid)
			out_u64("pid", NULL, pid);
		print_counts(&d, true);
		out_f64("buffers_mb", " %11.1f", buf_mb);
		out_f64("cached_mb", " %10.1f\n", cache_mb);
		out_obj_close();
		out_doc_end();
		t0 = t1;
	}
	if (w == MEM_WAKE_EXITED)
		ps_info("process %d exited", pid);
out:
	cachestat_bpf__destroy(skel);
	if (pidfd >= 0)
		close(pidfd);
	return rc;
}

enum cache_sort { SORT_HITS, SORT_MISSES, SORT_RATIO };
static enum cache_sort sort_by;

static int row_by_pid(const void *a, const void *b)
{
	const struct cache_row *x = a, *y = b;

	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static int row_order(const void *a, const void *b)
{
	const struct cache_row *x = a, *y = b;
	double kx, ky;

	switch (sort_by) {
	case SORT_MISSES:
		kx = misses_of(&x->d), ky = misses_of(&y->d);
		break;
	case SORT_RATIO:
		kx = ratio_of(&x->d), ky = ratio_of(&y->d);
		break;
	default:
		kx = hits_of(&x->d), ky = hits_of(&y->d);
	}
	if (kx != ky)
		return kx > ky ? -1 : 1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/* Every process's cumulative counters, sorted by pid. */
static int read_procs(struct cachestat_bpf *skel, struct cache_row **rows, size_t *nrows)
{
	int ncpu = ps_ncpus(), fd = bpf_map__fd(skel->maps.procs), i, k;
	struct cache_proc_stat *v;
	__u32 key, next, *pk = NULL;
	__u64 newest;
	size_t n = 0, cap = 256;
	struct cache_row *r;

	r = calloc(cap, sizeof(*r));
	v = calloc(ncpu, sizeof(*v));
	if (!r || !v)
		goto nomem;
	while (!bpf_map_get_next_key(fd, pk, &next)) {
		key = next;
		pk = &key;
		if (bpf_map_lookup_elem(fd, &key, v))
			continue;	/* evicted meanwhile */
		if (n == cap) {
			struct cache_row *nr = realloc(r, 2 * cap * sizeof(*r));

			if (!nr)
				goto nomem;
			r = nr;
			cap *= 2;
		}
		memset(&r[n], 0, sizeof(r[n]));
		r[n].pid = key;
		newest = 0;
		for (i = 0; i < ncpu; i++) {
			if (v[i].comm_ns >= newest) {
				memcpy(r[n].comm, v[i].comm, MEM_COMM_LEN);
				newest = v[i].comm_ns;
			}
			for (k = 0; k < CACHE_ST_MAX; k++)
				r[n].n.c[k] += v[i].c[k];
		}
		r[n].comm[MEM_COMM_LEN - 1] = '\0';
		n++;
	}
	free(v);
	qsort(r, n, sizeof(*r), row_by_pid);
	*rows = r;
	*nrows = n;
	return 0;
nomem:
	free(r);
	free(v);
	return -ENOMEM;
}

#define CACHETOP_HELP							\
	"  -i, --interval SECONDS  seconds between tables (default 1)\n"	\
	"  -c, --count N           stop after N tables (default: until Ctrl-C)\n" \
	"  -s, --sort KEY          hits (default), misses or ratio\n"	\
	"  -n, --top N             at most N processes per table (default 20)\n"

int cmd_cachetop(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "interval",	required_argument, NULL, 'i' },
		{ "count",	required_argument, NULL, 'c' },
		{ "sort",	required_argument, NULL, 's' },
		{ "top",	required_argument, NULL, 'n' },
		PS_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct cache_row *prev = NULL, *cur = NULL;
	size_t nprev = 0, ncur = 0, i, shown;
	struct cachestat_bpf *skel;
	double interval = 1, t0, t1;
	uint64_t count = 0, top = 20, n;
	int c, r, k, rc = EXIT_OK;
	enum mem_wake w = MEM_WAKE_TIMEOUT;
	char ts[16];

	sort_by = SORT_HITS;
	while ((c = ps_getopt(argc, argv, "i:c:s:n:" PS_COMMON_SHORTOPTS, opts)) != -1) {
		switch (c) {
		case 'i':
			if (parse_seconds("interval", optarg, 0.01, 86400, &interval))
				return EXIT_USAGE;
			break;
		case 'c':
			if (parse_u64("count", optarg, 1, UINT32_MAX, &count))
				return EXIT_USAGE;
			break;
		case 'n':
			if (parse_u64("top", optarg, 1, 100000, &top))
				return EXIT_USAGE;
			break;
		case 's':
			if (!strcmp(optarg, "hits"))
				sort_by = SORT_HITS;
			else if (!strcmp(optarg, "misses"))
				sort_by = SORT_MISSES;
			else if (!strcmp(optarg, "ratio"))
				sort_by = SORT_RATIO;
			else {
				ps_err("unknown sort key '%s': give hits, misses or ratio", optarg);
				return EXIT_USAGE;
			}
			break;
		default:
			r = ps_common_opt(c, optarg);
			if (r > 0) {
				ps_cmd_help("cachetop", CACHETOP_HELP);
				return EXIT_OK;
			}
			if (r < 0)
				return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		ps_err("cachetop takes no arguments, got '%s': use -i SECONDS", argv[optind]);
		return EXIT_USAGE;
	}
	skel = cache_open(0, true);
	if (!skel)
		return EXIT_RUNTIME;
	ps_install_signals();
	if (read_procs(skel, &prev, &nprev)) {
		ps_err("read the cachetop map: %s", strerror(ENOMEM));
		rc = EXIT_RUNTIME;
		goto out;
	}
	t0 = ps_now();
	for (n = 0; (!count || n < count) && w == MEM_WAKE_TIMEOUT; n++) {
		w = mem_wait(-1, interval);
		if (read_procs(skel, &cur, &ncur)) {
			ps_err("read the cachetop map: %s", strerror(ENOMEM));
			rc = EXIT_RUNTIME;
			break;
		}
		t1 = ps_now();
		for (i = 0; i < ncur; i++) {
			struct cache_row *p = bsearch(&cur[i], prev, nprev, sizeof(*prev), row_by_pid);

			for (k = 0; k < CACHE_ST_MAX; k++)
				cur[i].d.c[k] = cur[i].n.c[k] - (p ? p->n.c[k] : 0);
		}
		free(prev);
		prev = malloc(ncur * sizeof(*cur) + 1);
		if (!prev) {
			ps_err("read the cachetop map: %s", strerror(ENOMEM));
			rc = EXIT_RUNTIME;
			break;
		}
		memcpy(prev, cur, ncur * sizeof(*cur));
		nprev = ncur;
		qsort(cur, ncur, sizeof(*cur), row_order);

		out_obj_open(NULL);
		out_str("time", "%s", mem_timestr(ts, sizeof(ts)));
		out_f64("interval_s", "  interval %.2fs\n", t1 - t0);
		out_text("%-8s %-16s %10s %10s %10s %6s\n", "PID", "COMM", "HITS", "MISSES",
			 "DIRTIES", "HIT%");
		out_arr_open("procs");
		for (i = 0, shown = 0; i < ncur && shown < top; i++) {
			struct cache_counts *d = &cur[i].d;

			if (!d->c[CACHE_ST_LOOKUP] && !d->c[CACHE_ST_ADDED] &&
			    !d->c[CACHE_ST_DIRTIED])
				continue;
			shown++;
			out_obj_open(NULL);
			out_u64("pid", "%-8llu", cur[i].pid);
			out_str("comm", " %-16s ", cur[i].comm);
			print_counts(d, true);
			out_text("\n");
			out_obj_close();
		}
		out_arr_close();
		out_text("\n");
		out_obj_close();
		out_doc_end();
		free(cur);
		cur = NULL;
		t0 = t1;
	}
out:
	free(prev);
	free(cur);
	cachestat_bpf__destroy(skel);
	return rc;
}
