// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * filetop and fileslower: reads and writes by file, from the syscall
 * tracepoints of read/write/pread64/pwrite64/readv/writev/preadv/pwritev and
 * their v2 forms (cpu-mem-io/filetop.bpf.c).
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
#include "io.h"
#include "ioutil.h"
#include "filetop.skel.h"
#include "report.h"

static const char *const type_letter[] = { "R", "S", "O" };
static const char *const type_name[] = { "regular", "socket", "other" };

/*
 * Leaf-first NUL-separated components (io.h) -> a path.  Absolute when the
 * walk reached the root; otherwise ".../" marks the components left out.
 * Sockets read "socket:PROTO", pipes and other nameless files "TYPE:[INO]".
 */
static void format_path(const char *raw, __u8 flags, __u8 type, __u64 ino,
			char *out, size_t len)
{
	const char *comp[PS_FILE_DEPTH * 2];
	int n = 0, i;
	size_t off = 0, o = 0, l;

	while (off < PS_FILE_PATH_LEN && n < (int)(sizeof(comp) / sizeof(comp[0]))) {
		l = strnlen(raw + off, PS_FILE_PATH_LEN - off);
		if (off + l >= PS_FILE_PATH_LEN) {
			/* The last component was cut: leave it out. */
			flags &= ~PS_PATH_ROOT;
			break;
		}
		if (!l)
			break;
		comp[n++] = raw + off;
		off += l + 1;
	}
	if (type == PS_FT_SOCK) {
		snprintf(out, len, "socket:%s", n ? comp[0] : "");
		return;
	}
	if (!n) {
		snprintf(out, len, "%s:[%llu]", type == PS_FT_REG ? "file" : "anon",
			 (unsigned long long)ino);
		return;
	}
	if (type != PS_FT_REG && !(flags & PS_PATH_ROOT) && n == 1) {
		/* A pseudo file: its name only, e.g. "[eventfd]". */
		snprintf(out, len, "%s", comp[0]);
		return;
	}
	out[0] = 0;
	if (!(flags & PS_PATH_ROOT))
		o += snprintf(out + o, len - o, "...");
	for (i = n - 1; i >= 0 && o < len; i--)
		o += snprintf(out + o, len - o, "/%s", comp[i]);
}

static void copy_comm(char *dst, const char *src)
{
	memcpy(dst, src, PS_IO_COMM_LEN);
	dst[PS_IO_COMM_LEN] = 0;
}

static struct filetop_bpf *ft_open_load(__u32 mode, int pid, bool all, __u64 min_ns,
					const char *what)
{
	struct filetop_bpf *skel;
	int err;

	if (ps_need_root(what) || ps_mount_tracefs())
		return NULL;
	skel = filetop_bpf__open();
	if (!skel) {
		ps_err("%s: open BPF object: %s", what, strerror(errno));
		return NULL;
	}
	skel->rodata->targ_mode = mode;
	skel->rodata->targ_pid = pid;
	skel->rodata->targ_all = all;
	skel->rodata->targ_min_ns = min_ns;
	err = filetop_bpf__load(skel);
	if (err) {
		ps_err("%s: load BPF programs: %s (run with -v for the verifier's log)",
		       what, strerror(-err));
		goto fail;
	}
	err = filetop_bpf__attach(skel);
	if (err) {
		ps_err("%s: attach to syscall tracepoints: %s", what, strerror(-err));
		goto fail;
	}
	return skel;
fail:
	filetop_bpf__destroy(skel);
	return NULL;
}

/* ---- filetop -------------------------------------------------------------- */

enum sort_by { SORT_ALL, SORT_READS, SORT_WRITES, SORT_RBYTES, SORT_WBYTES };

struct ft_row {
	struct ps_filetop_key k;
	struct ps_filetop_val v;
};

static enum sort_by sort_by;

static __u64 sort_val(const struct ft_row *r)
{
	switch (sort_by) {
	case SORT_READS:	return r->v.reads;
	case SORT_WRITES:	return r->v.writes;
	case SORT_RBYTES:	return r->v.rbytes;
	case SORT_WBYTES:	return r->v.wbytes;
	default:		return r->v.rbytes + r->v.wbytes;
	}
}

static int cmp_rows(const void *a, const void *b)
{
	__u64 x = sort_val(a), y = sort_val(b);
	const struct ft_row *ra = a, *rb = b;

	if (x != y)
		return x < y ? 1 : -1;
	if (ra->k.pid != rb->k.pid)
		return ra->k.pid < rb->k.pid ? -1 : 1;
	return ra->k.ino < rb->k.ino ? -1 : ra->k.ino > rb->k.ino;
}

#define FT_MAX 10240

static int drain_files(int fd, struct ft_row *rows)
{
	static struct ps_filetop_key keys[FT_MAX];
	int n, i, out = 0;

	if (bpf_map_get_next_key(fd, NULL, &keys[0]))
		return 0;
	for (n = 1; n < FT_MAX; n++)
		if (bpf_map_get_next_key(fd, &keys[n - 1], &keys[n]))
			break;
	for (i = 0; i < n; i++) {
		/* Taken out, not read then zeroed: no count falls between. */
		if (bpf_map_lookup_and_delete_elem(fd, &keys[i], &rows[out].v))
			continue;
		rows[out++].k = keys[i];
	}
	return out;
}

static void print_files(struct ft_row *rows, int n, uint64_t maxrows, bool clear, double secs)
{
	char when[32], comm[PS_IO_COMM_LEN + 1], path[PS_FILE_PATH_LEN + 64], devs[24];
	double load[3] = { 0 };
	int i, shown = n < (int)maxrows ? n : (int)maxrows;

	qsort(rows, n, sizeof(*rows), cmp_rows);
	io_wall_time(when, sizeof(when), false);
	if (clear)
		out_text("\033[H\033[2J");
	out_obj_open(NULL);
	out_str("time", "%s", when);
	out_f64("interval_s", NULL, secs);
	if (getloadavg(load, 3) == 3)
		out_text(" loadavg: %.2f %.2f %.2f", load[0], load[1], load[2]);
	out_text("\n\n%-7s %-16s %6s %6s %8s %8s %1s %s\n", "PID", "COMM", "READS", "WRITES",
		 "R_Kb", "W_Kb", "T", "FILE");
	out_arr_open("rows");
	for (i = 0; i < shown; i++) {
		const struct ft_row *r = &rows[i];
		__u8 t = r->v.type < 3 ? r->v.type : PS_FT_OTHER;

		copy_comm(comm, r->v.comm);
		format_path(r->v.path, r->v.path_flags, t, r->k.ino, path, sizeof(path));
		out_obj_open(NULL);
		out_u64("pid", "%-7llu ", r->k.pid);
		out_u64("tid", NULL, r->v.tid);
		out_str("comm", "%-16s ", comm);
		out_u64("reads", "%6llu ", r->v.reads);
		out_u64("writes", "%6llu ", r->v.writes);
		out_u64("rbytes", NULL, r->v.rbytes);
		out_u64("wbytes", NULL, r->v.wbytes);
		out_f64("r_kb", "%8.1f ", r->v.rbytes / 1024.0);
		out_f64("w_kb", "%8.1f ", r->v.wbytes / 1024.0);
		out_str("t", "%1s ", type_letter[t]);
		out_str("type", NULL, type_name[t]);
		snprintf(devs, sizeof(devs), "%u:%u", r->k.dev >> PS_IO_MINORBITS,
			 r->k.dev & ((1u << PS_IO_MINORBITS) - 1));
		out_str("dev", NULL, devs);
		out_u64("ino", NULL, r->k.ino);
		out_str("file", "%s\n", path);
		out_obj_close();
	}
	out_arr_close();
	out_u64("rows_not_shown", NULL, n - shown);
	if (n > shown)
		out_text("(%d more rows)\n", n - shown);
	out_text("\n");
	out_obj_close();
	out_doc_end();
}

#define FILETOP_HELP							\
	"  INTERVAL              seconds between reports (default 1)\n"	\
	"  COUNT                 number of reports (default: until Ctrl-C)\n" \
	"  -C, --noclear         do not clear the screen between reports\n" \
	"  -a, --all             all files, not only regular ones (sockets, pipes, ...)\n" \
	"  -s, --sort KEY        all (read+written bytes, default), reads, writes, rbytes, wbytes\n" \
	"  -r, --maxrows N       at most N rows per report (default 20)\n"	\
	"  -p, --pid PID         only this process\n"

int cmd_filetop(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "noclear",	no_argument,		NULL, 'C' },
		{ "all",	no_argument,		NULL, 'a' },
		{ "sort",	required_argument,	NULL, 's' },
		{ "maxrows",	required_argument,	NULL, 'r' },
		{ "pid",	required_argument,	NULL, 'p' },
		PS_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	static const char *const sorts[] = { "all", "reads", "writes", "rbytes", "wbytes" };
	struct filetop_bpf *skel;
	struct ft_row *rows;
	double interval = 1, t0, t1;
	uint64_t count = 0, maxrows = 20, done;
	bool clear = true, all = false, last = false;
	int c, r, i, n, fd, pid = 0;

	sort_by = SORT_ALL;
	if (io_no_negative(argc, argv, "filetop", "interval or count"))
		return EXIT_USAGE;
	while ((c = ps_getopt(argc, argv, "Cas:r:p:" PS_COMMON_SHORTOPTS, opts)) != -1) {
		switch (c) {
		case 'C':
			clear = false;
			break;
		case 'a':
			all = true;
			break;
		case 's':
			for (i = 0; i < 5; i++)
				if (!strcmp(optarg, sorts[i]))
					break;
			if (i == 5) {
				ps_err("unknown sort key '%s': give all, reads, writes, rbytes or wbytes",
				       optarg);
				return EXIT_USAGE;
			}
			sort_by = i;
			break;
		case 'r':
			if (parse_u64("maxrows", optarg, 1, FT_MAX, &maxrows))
				return EXIT_USAGE;
			break;
		case 'p':
			if (parse_pid(optarg, &pid))
				return EXIT_USAGE;
			break;
		default:
			r = ps_common_opt(c, optarg);
			if (r > 0) {
				ps_cmd_help("filetop", FILETOP_HELP);
				return EXIT_OK;
			}
			if (r < 0)
				return EXIT_USAGE;
		}
	}
	if (optind < argc && parse_seconds("interval", argv[optind++], 0.01, 86400, &interval))
		return EXIT_USAGE;
	if (optind < argc && parse_u64("count", argv[optind++], 1, UINT32_MAX, &count))
		return EXIT_USAGE;
	if (optind < argc) {
		ps_err("filetop: unexpected argument '%s' (see --help)", argv[optind]);
		return EXIT_USAGE;
	}
	if (g.json)
		clear = false;
	rows = calloc(FT_MAX, sizeof(*rows));
	if (!rows) {
		ps_err("filetop: out of memory");
		return EXIT_RUNTIME;
	}
	skel = ft_open_load(0, pid, all, 0, "filetop");
	if (!skel) {
		free(rows);
		return EXIT_RUNTIME;
	}
	fd = bpf_map__fd(skel->maps.files);
	ps_install_signals();
	ps_info("tracing file reads and writes; Ctrl-C to end");
	t0 = ps_now();
	for (done = 0; !last && (!count || done < count); done++) {
		last = ps_sleep(interval) != 0;
		t1 = ps_now();
		n = drain_files(fd, rows);
		print_files(rows, n, maxrows, clear, t1 - t0);
		t0 = t1;
	}
	filetop_bpf__destroy(skel);
	free(rows);
	return EXIT_OK;
}

/* ---- fileslower ----------------------------------------------------------- */

static int on_file_event(void *ctx, void *data, size_t len)
{
	const struct ps_file_event *e = data;
	char when[32], comm[PS_IO_COMM_LEN + 1], path[PS_FILE_PATH_LEN + 64];
	__u8 t;

	(void)ctx;
	if (len < sizeof(*e))
		return 0;
	t = e->type < 3 ? e->type : PS_FT_OTHER;
	copy_comm(comm, e->comm);
	format_path(e->path, e->path_flags, t, 0, path, sizeof(path));
	io_wall_time(when, sizeof(when), true);
	out_obj_open(NULL);
	out_str("time", "%-12s ", when);
	out_u64("ts_ns", NULL, e->ts_ns);
	out_str("comm", "%-16s ", comm);
	out_u64("pid", "%-7llu ", e->pid);
	out_u64("tid", NULL, e->tid);
	out_str("d", "%1s ", e->write ? "W" : "R");
	out_s64("bytes", "%8lld ", e->bytes);
	out_u64("offset", NULL, e->offset);
	out_u64("off_kb", "%8llu ", e->offset / 1024);
	out_f64("lat_ms", "%9.3f ", e->lat_ns / 1e6);
	out_u64("lat_ns", NULL, e->lat_ns);
	out_str("t", NULL, type_letter[t]);
	out_str("file", "%s\n", path);
	out_obj_close();
	out_event_end();
	return 0;
}

#define FILESLOWER_HELP							\
	"  MIN_MS                report calls slower than this, in ms (default 10; 0: all)\n" \
	"  -p, --pid PID         only this process\n"

int cmd_fileslower(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pid",	required_argument,	NULL, 'p' },
		PS_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct filetop_bpf *skel;
	struct ring_buffer *rb;
	double min_ms = 10;
	int c, r, err = 0, pid = 0;

	if (io_no_negative(argc, argv, "fileslower", "threshold (ms)"))
		return EXIT_USAGE;
	while ((c = ps_getopt(argc, argv, "p:" PS_COMMON_SHORTOPTS, opts)) != -1) {
		switch (c) {
		case 'p':
			if (parse_pid(optarg, &pid))
				return EXIT_USAGE;
			break;
		default:
			r = ps_common_opt(c, optarg);
			if (r > 0) {
				ps_cmd_help("fileslower", FILESLOWER_HELP);
				return EXIT_OK;
			}
			if (r < 0)
				return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		const char *arg = argv[optind++];
		char *end;

		errno = 0;
		min_ms = strtod(arg, &end);
		if (!*arg || errno || *end || min_ms != min_ms || min_ms < 0 || min_ms > 3600000) {
			ps_err("fileslower: threshold '%s' is not a number of ms from 0 to 3600000",
			       arg);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		ps_err("fileslower: unexpected argument '%s' (see --help)", argv[optind]);
		return EXIT_USAGE;
	}
	skel = ft_open_load(1, pid, false, (__u64)(min_ms * 1e6), "fileslower");
	if (!skel)
		return EXIT_RUNTIME;
	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), on_file_event, NULL, NULL);
	if (!rb) {
		ps_err("fileslower: ring buffer: %s", strerror(errno));
		filetop_bpf__destroy(skel);
		return EXIT_RUNTIME;
	}
	ps_install_signals();
	ps_info("tracing reads and writes of regular files slower than %g ms; Ctrl-C to end",
		min_ms);
	out_text("%-12s %-16s %-7s %1s %8s %8s %9s %s\n", "TIME", "COMM", "PID", "D", "BYTES",
		 "OFF_KB", "LAT(ms)", "FILENAME");
	fflush(stdout);
	err = ps_rb_stream(rb, 0, "fileslower");
	if (skel->bss->lost_events)
		ps_warn("%llu events lost (ring buffer full)",
			(unsigned long long)skel->bss->lost_events);
	fflush(stdout);
	ring_buffer__free(rb);
	filetop_bpf__destroy(skel);
	return err ? EXIT_RUNTIME : EXIT_OK;
}

/* ---- collector for `pktscope report` --------------------------------------- */

struct filetop_bpf *filetop_collect_start(int pid)
{
	/* Regular files only: the report asks which files, not which sockets. */
	return ft_open_load(0, pid, false, 0, "report: filetop");
}

static int cmp_files(const void *a, const void *b)
{
	const struct rep_file *x = a, *y = b;
	unsigned long long bx = x->rbytes + x->wbytes, by = y->rbytes + y->wbytes;

	if (bx != by)
		return bx < by ? 1 : -1;
	if (x->reads + x->writes != y->reads + y->writes)
		return x->reads + x->writes < y->reads + y->writes ? 1 : -1;
	return strcmp(x->path, y->path);
}

int filetop_collect_read(struct filetop_bpf *s, struct rep_file *out, int max,
			 unsigned long long *nfiles)
{
	struct ft_row *rows = calloc(FT_MAX, sizeof(*rows));
	struct rep_file *all;
	char comm[PS_IO_COMM_LEN + 1];
	int n, i;

	all = calloc(FT_MAX, sizeof(*all));
	if (!rows || !all) {
		free(rows);
		free(all);
		return -1;
	}
	n = drain_files(bpf_map__fd(s->maps.files), rows);
	for (i = 0; i < n; i++) {
		const struct ft_row *r = &rows[i];
		struct rep_file *f = &all[i];
		__u8 t = r->v.type < 3 ? r->v.type : PS_FT_OTHER;

		copy_comm(comm, r->v.comm);
		f->pid = r->k.pid;
		snprintf(f->comm, sizeof(f->comm), "%s", comm);
		format_path(r->v.path, r->v.path_flags, t, r->k.ino, f->path, sizeof(f->path));
		f->reads = r->v.reads;
		f->writes = r->v.writes;
		f->rbytes = r->v.rbytes;
		f->wbytes = r->v.wbytes;
	}
	qsort(all, n, sizeof(*all), cmp_files);
	for (i = 0; i < n && i < max; i++)
		out[i] = all[i];
	*nfiles = n;
	free(rows);
	free(all);
	return i;
}

void filetop_collect_end(struct filetop_bpf *s)
{
	filetop_bpf__destroy(s);
}
