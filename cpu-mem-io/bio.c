// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * biosnoop, biotop, biolatency: block IO requests seen by raw tracepoints
 * (cpu-mem-io/bio.bpf.c), attributed to the process that submitted them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ctl.h"
#include "output.h"
#include "io.h"
#include "ioutil.h"
#include "bio.skel.h"

#define DEV_MAJOR(d)	((d) >> PS_IO_MINORBITS)
#define DEV_MINOR(d)	((d) & ((1u << PS_IO_MINORBITS) - 1))

/* ---- disks ---------------------------------------------------------------- */

/*
 * NAME (or /dev/NAME) of a whole disk -> kernel dev.  Partitions are refused:
 * requests are queued on the disk.
 */
static int parse_disk(const char *arg, __u32 *dev)
{
	const char *name = arg;
	char path[300], buf[32];
	unsigned int ma, mi;
	FILE *f;

	if (!strncmp(name, "/dev/", 5))
		name += 5;
	if (!*name || strchr(name, '/') || strlen(name) > 64) {
		ps_err("bad disk name '%s': give a disk as lsblk names it, e.g. sda or loop0", arg);
		return -1;
	}
	snprintf(path, sizeof(path), "/sys/class/block/%s/partition", name);
	if (!access(path, F_OK)) {
		ps_err("'%s' is a partition: give its disk (requests are queued on the whole disk)",
		       name);
		return -1;
	}
	snprintf(path, sizeof(path), "/sys/block/%s/dev", name);
	f = fopen(path, "r");
	if (!f) {
		ps_err("unknown disk '%s': no %s (list disks with lsblk -d)", arg, path);
		return -1;
	}
	if (!fgets(buf, sizeof(buf), f) || sscanf(buf, "%u:%u", &ma, &mi) != 2) {
		fclose(f);
		ps_err("read %s: unexpected contents", path);
		return -1;
	}
	fclose(f);
	*dev = PS_IO_MKDEV(ma, mi);
	return 0;
}

#define DISK_CACHE 64
static struct {
	__u32 dev;
	char name[40];
} disks[DISK_CACHE];
static int ndisks;

/* Kernel dev -> disk name, from /sys/dev/block/MAJ:MIN/uevent; cached. */
static const char *disk_name(__u32 dev)
{
	char path[64], line[128], *name = NULL;
	int i;
	FILE *f;

	for (i = 0; i < ndisks; i++)
		if (disks[i].dev == dev)
			return disks[i].name;
	i = ndisks < DISK_CACHE ? ndisks++ : (int)(dev % DISK_CACHE);
	disks[i].dev = dev;
	snprintf(disks[i].name, sizeof(disks[i].name), "%u:%u", DEV_MAJOR(dev), DEV_MINOR(dev));
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/uevent", DEV_MAJOR(dev), DEV_MINOR(dev));
	f = fopen(path, "r");
	if (!f)
		return disks[i].name;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "DEVNAME=", 8)) {
			name = line + 8;
			name[strcspn(name, "\n")] = 0;
			snprintf(disks[i].name, sizeof(disks[i].name), "%.39s", name);
			break;
		}
	}
	fclose(f);
	return disks[i].name;
}

const char *bio_disk_name(__u32 dev)
{
	return disk_name(dev);
}

/* ---- common set-up -------------------------------------------------------- */

static const char *op_name(__u32 flags)
{
	switch (flags & 0xff) {
	case PS_BIO_READ:		return "read";
	case PS_BIO_WRITE:		return "write";
	case PS_BIO_FLUSH:		return "flush";
	case PS_BIO_DISCARD:		return "discard";
	case PS_BIO_SECURE_ERASE:	return "secure_erase";
	case PS_BIO_WRITE_ZEROES:	return "write_zeroes";
	default:			return "other";
	}
}

static const char *op_letter(__u32 flags)
{
	switch (flags & 0xff) {
	case PS_BIO_READ:		return "R";
	case PS_BIO_WRITE:		return "W";
	case PS_BIO_FLUSH:		return "F";
	case PS_BIO_DISCARD:		return "D";
	case PS_BIO_WRITE_ZEROES:	return "Z";
	default:			return "O";
	}
}

struct bio_opts {
	enum ps_bio_mode mode;
	__u32 dev;
	bool queued, per_disk, ms, no_clear;
	double interval;
	uint64_t count, rows;
};

static struct bio_bpf *bio_open_load(const struct bio_opts *o, const char *what)
{
	struct bio_bpf *skel;
	int err;

	if (ps_need_root(what) || ps_mount_tracefs())
		return NULL;
	skel = bio_bpf__open();
	if (!skel) {
		ps_err("%s: open BPF object: %s", what, strerror(errno));
		return NULL;
	}
	skel->rodata->targ_mode = o->mode;
	skel->rodata->targ_dev = o->dev;
	skel->rodata->targ_queued = o->queued;
	skel->rodata->targ_per_disk = o->per_disk;
	skel->rodata->targ_ms = o->ms;
	/* Plain biolatency needs no submitter: issue and completion suffice. */
	if (o->mode == PS_BIO_LAT && !o->queued) {
		bpf_program__set_autoload(skel->progs.io_start, false);
		bpf_program__set_autoload(skel->progs.rq_insert, false);
		skel->rodata->targ_lean = true;
		bpf_map__set_max_entries(skel->maps.reqs, 1);
	} else {
		bpf_map__set_max_entries(skel->maps.issued, 1);
	}
	err = bio_bpf__load(skel);
	if (err) {
		ps_err("%s: load BPF programs: %s (run with -v for the verifier's log)",
		       what, strerror(-err));
		goto fail;
	}
	err = bio_bpf__attach(skel);
	if (err) {
		ps_err("%s: attach to block raw tracepoints: %s", what, strerror(-err));
		goto fail;
	}
	return skel;
fail:
	bio_bpf__destroy(skel);
	return NULL;
}

/* Positional [INTERVAL [COUNT]]. */
static int parse_interval(int argc, char **argv, struct bio_opts *o, const char *cmd)
{
	if (optind < argc &&
	    parse_seconds("interval", argv[optind++], 0.01, 86400, &o->interval))
		return -1;
	if (optind < argc && parse_u64("count", argv[optind++], 1, UINT32_MAX, &o->count))
		return -1;
	if (optind < argc) {
		ps_err("%s: unexpected argument '%s' (see --help)", cmd, argv[optind]);
		return -1;
	}
	return 0;
}

/* ---- biosnoop ------------------------------------------------------------- */

static bool snoop_queued;

static int on_bio_event(void *ctx, void *data, size_t len)
{
	const struct ps_bio_event *e = data;
	char when[32], comm[PS_IO_COMM_LEN + 1], devs[24];

	(void)ctx;
	if (len < sizeof(*e))
		return 0;
	memcpy(comm, e->comm, PS_IO_COMM_LEN);
	comm[PS_IO_COMM_LEN] = 0;
	io_wall_time(when, sizeof(when), true);
	snprintf(devs, sizeof(devs), "%u:%u", DEV_MAJOR(e->dev), DEV_MINOR(e->dev));
	out_obj_open(NULL);
	out_str("time", "%-12s ", when);
	out_u64("ts_ns", NULL, e->ts_ns);
	out_str("comm", "%-16s ", e->pid ? comm : "?");
	out_u64("pid", "%-7llu ", e->pid);
	out_str("disk", "%-9s ", disk_name(e->dev));
	out_str("dev", NULL, devs);
	out_str("t", "%-2s ", op_letter(e->cmd_flags));
	out_str("op", NULL, op_name(e->cmd_flags));
	out_u64("sector", "%-12llu ", e->sector);
	out_u64("bytes", "%-8llu ", e->bytes);
	if (snoop_queued)
		out_f64("queue_ms", "%8.3f ", e->queue_ns / 1e6);
	out_f64("lat_ms", "%8.3f", e->lat_ns / 1e6);
	out_u64("lat_ns", NULL, e->lat_ns);
	out_s64("error", NULL, e->error);
	out_text("\n");
	out_obj_close();
	out_event_end();
	return 0;
}

#define BIOSNOOP_HELP							\
	"  -d, --disk DISK  only requests queued on DISK (e.g. sda, loop0)\n" \
	"  -Q, --queued     also show the time from request creation to issue (QUE)\n"

int cmd_biosnoop(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "disk",	required_argument,	NULL, 'd' },
		{ "queued",	no_argument,		NULL, 'Q' },
		PS_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct bio_opts o = { .mode = PS_BIO_SNOOP };
	struct ring_buffer *rb = NULL;
	struct bio_bpf *skel;
	int c, r, err = 0;

	while ((c = ps_getopt(argc, argv, "d:Q" PS_COMMON_SHORTOPTS, opts)) != -1) {
		switch (c) {
		case 'd':
			if (parse_disk(optarg, &o.dev))
				return EXIT_USAGE;
			break;
		case 'Q':
			o.queued = true;
			break;
		default:
			r = ps_common_opt(c, optarg);
			if (r > 0) {
				ps_cmd_help("biosnoop", BIOSNOOP_HELP);
				return EXIT_OK;
			}
			if (r < 0)
				return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		ps_err("biosnoop: unexpected argument '%s' (see --help)", argv[optind]);
		return EXIT_USAGE;
	}
	snoop_queued = o.queued;
	skel = bio_open_load(&o, "biosnoop");
	if (!skel)
		return EXIT_RUNTIME;
	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), on_bio_event, NULL, NULL);
	if (!rb) {
		ps_err("biosnoop: ring buffer: %s", strerror(errno));
		bio_bpf__destroy(skel);
		return EXIT_RUNTIME;
	}
	ps_install_signals();
	ps_info("tracing block IO%s%s; Ctrl-C to end", o.dev ? " on " : "",
		o.dev ? disk_name(o.dev) : "");
	out_text("%-12s %-16s %-7s %-9s %-2s %-12s %-8s ", "TIME", "COMM", "PID", "DISK", "T",
		 "SECTOR", "BYTES");
	if (o.queued)
		out_text("%8s ", "QUE(ms)");
	out_text("%8s\n", "LAT(ms)");
	fflush(stdout);
	err = ps_rb_stream(rb, 0, "biosnoop");
	if (skel->bss->lost_events)
		ps_warn("%llu events lost (ring buffer full)",
			(unsigned long long)skel->bss->lost_events);
	fflush(stdout);
	ring_buffer__free(rb);
	bio_bpf__destroy(skel);
	return err ? EXIT_RUNTIME : EXIT_OK;
}

/* ---- biotop --------------------------------------------------------------- */

struct top_row {
	struct ps_biotop_key k;
	struct ps_biotop_val v;
};

static int cmp_top(const void *a, const void *b)
{
	const struct top_row *x = a, *y = b;

	if (x->v.bytes != y->v.bytes)
		return x->v.bytes < y->v.bytes ? 1 : -1;
	if (x->v.ios != y->v.ios)
		return x->v.ios < y->v.ios ? 1 : -1;
	return (int)x->k.pid - (int)y->k.pid;
}

/*
 * Take every entry out of a hash map: keys first, then lookup-and-delete each,
 * so that counts added while we read stay for the next interval.
 */
static int drain(int fd, void *keys, size_t ksz, void *vals, size_t vsz, int max)
{
	char *k = keys, *v = vals;
	int n = 0, i, out = 0;

	if (bpf_map_get_next_key(fd, NULL, k))
		return 0;
	for (n = 1; n < max; n++)
		if (bpf_map_get_next_key(fd, k + (n - 1) * ksz, k + n * ksz))
			break;
	for (i = 0; i < n; i++) {
		if (bpf_map_lookup_and_delete_elem(fd, k + i * ksz, v + out * vsz))
			continue;
		if (out != i)
			memcpy(k + out * ksz, k + i * ksz, ksz);
		out++;
	}
	return out;
}

static void print_top(struct top_row *rows, int n, const struct bio_opts *o, double secs)
{
	char when[32], comm[PS_IO_COMM_LEN + 1];
	double load[3] = { 0 };
	int i, shown = n < (int)o->rows ? n : (int)o->rows;

	qsort(rows, n, sizeof(*rows), cmp_top);
	io_wall_time(when, sizeof(when), false);
	if (!o->no_clear)
		out_text("\033[H\033[2J");
	out_obj_open(NULL);
	out_str("time", "%s", when);
	out_f64("interval_s", NULL, secs);
	if (getloadavg(load, 3) == 3)
		out_text(" loadavg: %.2f %.2f %.2f", load[0], load[1], load[2]);
	out_text("\n\n%-7s %-16s %1s %3s %3s %-9s %5s %9s %8s\n", "PID", "COMM", "D", "MAJ",
		 "MIN", "DISK", "I/O", "Kbytes", "AVGms");
	out_arr_open("rows");
	for (i = 0; i < shown; i++) {
		const struct top_row *r = &rows[i];

		memcpy(comm, r->k.comm, PS_IO_COMM_LEN);
		comm[PS_IO_COMM_LEN] = 0;
		out_obj_open(NULL);
		out_u64("pid", "%-7llu ", r->k.pid);
		out_str("comm", "%-16s ", r->k.pid ? comm : "?");
		out_str("d", "%1s ", r->k.write ? "W" : "R");
		out_u64("major", "%3llu ", DEV_MAJOR(r->k.dev));
		out_u64("minor", "%3llu ", DEV_MINOR(r->k.dev));
		out_str("disk", "%-9s ", disk_name(r->k.dev));
		out_u64("ios", "%5llu ", r->v.ios);
		out_u64("bytes", NULL, r->v.bytes);
		out_f64("kbytes", "%9.1f ", r->v.bytes / 1024.0);
		out_f64("avg_ms", "%8.3f\n", r->v.ios ? r->v.lat_ns / 1e6 / r->v.ios : 0);
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

#define TOP_MAX 10240

#define BIOTOP_HELP							\
	"  INTERVAL              seconds between reports (default 1)\n"	\
	"  COUNT                 number of reports (default: until Ctrl-C)\n" \
	"  -C, --noclear         do not clear the screen between reports\n" \
	"  -r, --maxrows N       at most N rows per report (default 20)\n"	\
	"  -d, --disk DISK       only requests queued on DISK\n"

int cmd_biotop(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "noclear",	no_argument,		NULL, 'C' },
		{ "maxrows",	required_argument,	NULL, 'r' },
		{ "disk",	required_argument,	NULL, 'd' },
		PS_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct bio_opts o = { .mode = PS_BIO_TOP, .interval = 1, .rows = 20 };
	struct ps_biotop_key *keys = NULL;
	struct ps_biotop_val *vals = NULL;
	struct top_row *rows = NULL;
	struct bio_bpf *skel;
	double t0, t1;
	uint64_t done;
	int c, r, i, n, fd, rc = EXIT_OK;
	bool last = false;

	if (io_no_negative(argc, argv, "biotop", "interval or count"))
		return EXIT_USAGE;
	while ((c = ps_getopt(argc, argv, "Cr:d:" PS_COMMON_SHORTOPTS, opts)) != -1) {
		switch (c) {
		case 'C':
			o.no_clear = true;
			break;
		case 'r':
			if (parse_u64("maxrows", optarg, 1, TOP_MAX, &o.rows))
				return EXIT_USAGE;
			break;
		case 'd':
			if (parse_disk(optarg, &o.dev))
				return EXIT_USAGE;
			break;
		default:
			r = ps_common_opt(c, optarg);
			if (r > 0) {
				ps_cmd_help("biotop", BIOTOP_HELP);
				return EXIT_OK;
			}
			if (r < 0)
				return EXIT_USAGE;
		}
	}
	if (parse_interval(argc, argv, &o, "biotop"))
		return EXIT_USAGE;
	if (g.json)
		o.no_clear = true;
	keys = calloc(TOP_MAX, sizeof(*keys));
	vals = calloc(TOP_MAX, sizeof(*vals));
	rows = calloc(TOP_MAX, sizeof(*rows));
	if (!keys || !vals || !rows) {
		ps_err("biotop: out of memory");
		rc = EXIT_RUNTIME;
		goto out_free;
	}
	skel = bio_open_load(&o, "biotop");
	if (!skel) {
		rc = EXIT_RUNTIME;
		goto out_free;
	}
	fd = bpf_map__fd(skel->maps.top);
	ps_install_signals();
	ps_info("tracing block IO%s%s; Ctrl-C to end", o.dev ? " on " : "",
		o.dev ? disk_name(o.dev) : "");
	t0 = ps_now();
	for (done = 0; !last && (!o.count || done < o.count); done++) {
		/* Interrupted: one last report with what came in meanwhile. */
		last = ps_sleep(o.interval) != 0;
		t1 = ps_now();
		n = drain(fd, keys, sizeof(*keys), vals, sizeof(*vals), TOP_MAX);
		for (i = 0; i < n; i++) {
			rows[i].k = keys[i];
			rows[i].v = vals[i];
		}
		print_top(rows, n, &o, t1 - t0);
		t0 = t1;
	}
	if (skel->bss->lost_keys)
		ps_warn("%llu requests not counted (map full)",
			(unsigned long long)skel->bss->lost_keys);
	bio_bpf__destroy(skel);
out_free:
	free(keys);
	free(vals);
	free(rows);
	return rc;
}

/* ---- biolatency ----------------------------------------------------------- */

#define LAT_MAX 256

#define BIOLATENCY_HELP							\
	"  INTERVAL              seconds between histograms (default: one at Ctrl-C)\n" \
	"  COUNT                 number of histograms (default: until Ctrl-C)\n" \
	"  -D, --disk-hists      one histogram per disk\n"		\
	"  -Q, --queued          from request creation (includes queue time), not issue\n" \
	"  -m, --milliseconds    buckets in ms instead of us\n"		\
	"  -d, --disk DISK       only requests queued on DISK\n"

static void print_lat(int fd, const struct bio_opts *o, double secs)
{
	static __u32 keys[LAT_MAX];
	static struct ps_biolat_hist vals[LAT_MAX];
	const char *unit = o->ms ? "msecs" : "usecs";
	char when[32];
	__u64 total;
	int n, i, j;

	n = drain(fd, keys, sizeof(*keys), vals, sizeof(*vals), LAT_MAX);
	io_wall_time(when, sizeof(when), false);
	out_obj_open(NULL);
	if (o->interval > 0)
		out_str("time", "%s\n", when);
	out_f64("interval_s", NULL, secs);
	out_str("unit", NULL, unit);
	out_obj_open("hists");
	for (i = 0; i < n; i++) {
		/* Disks in a stable order. */
		for (j = i + 1; j < n; j++) {
			if (keys[j] < keys[i]) {
				__u32 tk = keys[i];
				struct ps_biolat_hist tv = vals[i];

				keys[i] = keys[j];
				vals[i] = vals[j];
				keys[j] = tk;
				vals[j] = tv;
			}
		}
		ps_print_log2_hist(o->per_disk ? disk_name(keys[i]) : unit, vals[i].slots,
				   PS_LOG2_SLOTS, o->per_disk ? unit : NULL);
	}
	out_obj_close();
	total = 0;
	for (i = 0; i < n; i++)
		for (j = 0; j < PS_LOG2_SLOTS; j++)
			total += vals[i].slots[j];
	out_u64("total", "total: %llu requests\n\n", total);
	out_obj_close();
	out_doc_end();
}

int cmd_biolatency(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "disk-hists",		no_argument,		NULL, 'D' },
		{ "queued",		no_argument,		NULL, 'Q' },
		{ "milliseconds",	no_argument,		NULL, 'm' },
		{ "disk",		required_argument,	NULL, 'd' },
		PS_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct bio_opts o = { .mode = PS_BIO_LAT };
	struct bio_bpf *skel;
	uint64_t done;
	double t0, t1;
	int c, r, fd;
	bool last = false;

	if (io_no_negative(argc, argv, "biolatency", "interval or count"))
		return EXIT_USAGE;
	while ((c = ps_getopt(argc, argv, "DQmd:" PS_COMMON_SHORTOPTS, opts)) != -1) {
		switch (c) {
		case 'D':
			o.per_disk = true;
			break;
		case 'Q':
			o.queued = true;
			break;
		case 'm':
			o.ms = true;
			break;
		case 'd':
			if (parse_disk(optarg, &o.dev))
				return EXIT_USAGE;
			break;
		default:
			r = ps_common_opt(c, optarg);
			if (r > 0) {
				ps_cmd_help("biolatency", BIOLATENCY_HELP);
				return EXIT_OK;
			}
			if (r < 0)
				return EXIT_USAGE;
		}
	}
	if (parse_interval(argc, argv, &o, "biolatency"))
		return EXIT_USAGE;
	skel = bio_open_load(&o, "biolatency");
	if (!skel)
		return EXIT_RUNTIME;
	fd = bpf_map__fd(skel->maps.hists);
	ps_install_signals();
	ps_info("tracing block IO latency%s%s; Ctrl-C to end", o.dev ? " on " : "",
		o.dev ? disk_name(o.dev) : "");
	t0 = ps_now();
	for (done = 0; !last && (!o.count || done < o.count); done++) {
		/* Without an interval: one histogram, when interrupted. */
		last = ps_sleep(o.interval > 0 ? o.interval : 1e9) != 0;
		t1 = ps_now();
		print_lat(fd, &o, t1 - t0);
		t0 = t1;
	}
	if (skel->bss->lost_keys)
		ps_warn("%llu requests not counted (map full)",
			(unsigned long long)skel->bss->lost_keys);
	bio_bpf__destroy(skel);
	return EXIT_OK;
}
