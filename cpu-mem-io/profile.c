// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pktscope profile: sample stacks on every CPU at a fixed frequency,
 * symbolize them here, and print the hottest functions, folded stacks or a
 * flame graph.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ctl.h"
#include "output.h"
#include "cpu.h"
#include "cpucmd.h"
#include "flame.h"
#include "syms.h"
#include "profile.skel.h"

#define MAX_FREQ	10000

struct prof_opts {
	int pid;
	uint64_t freq;
	double duration;
	bool user, kernel;
	bool folded;
	const char *svg;
	uint64_t top;
};

/* ---- per-function totals (top table) --------------------------------------- */

struct fn {
	const char *name, *module;
	uint64_t self, total;
	long last;		/* index of the last stack that added to total */
};

struct fn_table {
	struct fn *v;
	size_t cap, n;
};

static uint64_t str_hash(const char *a, const char *b)
{
	uint64_t h = 1469598103934665603ull;

	for (; a && *a; a++)
		h = (h ^ (unsigned char)*a) * 1099511628211ull;
	h = (h ^ 0xff) * 1099511628211ull;
	for (; b && *b; b++)
		h = (h ^ (unsigned char)*b) * 1099511628211ull;
	return h;
}

static bool str_eq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static struct fn *fn_get(struct fn_table *t, const char *name, const char *module)
{
	size_t i;

	if (t->n * 2 >= t->cap) {
		struct fn_table nt = { .cap = t->cap ? t->cap * 2 : 1024 };

		nt.v = calloc(nt.cap, sizeof(*nt.v));
		if (!nt.v)
			return NULL;
		for (i = 0; i < t->cap; i++) {
			struct fn *f = &t->v[i];
			size_t j;

			if (!f->name)
				continue;
			j = str_hash(f->name, f->module) & (nt.cap - 1);
			while (nt.v[j].name)
				j = (j + 1) & (nt.cap - 1);
			nt.v[j] = *f;
		}
		nt.n = t->n;
		free(t->v);
		*t = nt;
	}
	i = str_hash(name, module) & (t->cap - 1);
	while (t->v[i].name) {
		if (str_eq(t->v[i].name, name) && str_eq(t->v[i].module, module))
			return &t->v[i];
		i = (i + 1) & (t->cap - 1);
	}
	t->v[i] = (struct fn){ .name = name, .module = module, .last = -1 };
	t->n++;
	return &t->v[i];
}

static int fn_cmp(const void *a, const void *b)
{
	const struct fn *x = a, *y = b;

	if (x->self != y->self)
		return x->self > y->self ? -1 : 1;
	if (x->total != y->total)
		return x->total > y->total ? -1 : 1;
	return strcmp(x->name ? x->name : "", y->name ? y->name : "");
}

/* ---- folded stacks ------------------------------------------------------------ */

struct folded {
	char *s;
	uint64_t count;
};

static int folded_cmp(const void *a, const void *b)
{
	return strcmp(((const struct folded *)a)->s, ((const struct folded *)b)->s);
}

struct sbuf {
	char *s;
	size_t len, cap;
};

static int sbuf_add(struct sbuf *b, const char *s, const char *suffix)
{
	size_t n = strlen(s), m = suffix ? strlen(suffix) : 0;

	if (b->len + n + m + 2 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 1024;
		char *ns;

		while (cap < b->len + n + m + 2)
			cap *= 2;
		ns = realloc(b->s, cap);
		if (!ns)
			return -1;
		b->s = ns;
		b->cap = cap;
	}
	if (b->len)
		b->s[b->len++] = ';';
	/* ';' separates frames: never let a name contain one. */
	for (size_t i = 0; i < n; i++)
		b->s[b->len++] = s[i] == ';' ? ':' : s[i];
	if (m)
		memcpy(b->s + b->len, suffix, m);
	b->len += m;
	b->s[b->len] = '\0';
	return 0;
}

static const char *base_name(const char *path)
{
	const char *s;

	if (!path)
		return "[unknown]";
	s = strrchr(path, '/');
	return s ? s + 1 : path;
}

struct frame {
	const char *name, *module;
	bool kernel;
};

/* Symbolized frames of one sample, root first. */
static int sample_frames(struct syms_cache *sc, int stacks_fd, const struct cpu_prof_key *k,
			 struct frame *out, int max)
{
	__u64 uips[CPU_STACK_DEPTH], kips[CPU_STACK_DEPTH];
	int nu = 0, nk = 0, n = 0, i;

	memset(uips, 0, sizeof(uips));
	memset(kips, 0, sizeof(kips));
	if (k->ustack >= 0 && !bpf_map_lookup_elem(stacks_fd, &k->ustack, uips))
		while (nu < CPU_STACK_DEPTH && uips[nu])
			nu++;
	if (k->kstack >= 0 && !bpf_map_lookup_elem(stacks_fd, &k->kstack, kips))
		while (nk < CPU_STACK_DEPTH && kips[nk])
			nk++;
	/*
	 * Return addresses point after the call, which may already be the next
	 * function when the call was the last instruction: look up addr - 1
	 * for every frame but the sampled instruction itself.
	 */
	for (i = nu - 1; i >= 0 && n < max; i--) {
		const char *name, *mod;
		uint64_t off;
		bool leaf = i == 0 && nk == 0;

		syms_resolve(sc, k->pid, uips[i] - (leaf ? 0 : 1), &name, &off, &mod);
		out[n++] = (struct frame){ name, mod, false };
	}
	for (i = nk - 1; i >= 0 && n < max; i--) {
		const char *name, *mod;
		uint64_t off;

		syms_resolve(sc, 0, kips[i] - (i ? 1 : 0), &name, &off, &mod);
		out[n++] = (struct frame){ name, mod ? mod : "kernel", true };
	}
	return n;
}

static int open_events(struct profile_bpf *skel, uint64_t freq, struct bpf_link ***links,
		       int *nlinks)
{
	int ncpu = ps_ncpus(), cpu, n = 0;
	struct bpf_link **l;

	l = calloc(ncpu, sizeof(struct bpf_link *));
	if (!l)
		return -ENOMEM;
	*links = l;
	for (cpu = 0; cpu < ncpu; cpu++) {
		struct perf_event_attr attr = {
			.type = PERF_TYPE_SOFTWARE,
			.config = PERF_COUNT_SW_CPU_CLOCK,
			.size = sizeof(attr),
			.freq = 1,
			.sample_freq = freq,
		};
		int fd, err;

		fd = syscall(__NR_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
		if (fd < 0) {
			if (errno == ENODEV)	/* CPU offline */
				continue;
			err = -errno;
			ps_err("perf_event_open (cpu-clock, %llu Hz) on CPU %d: %s%s",
			       (unsigned long long)freq, cpu, strerror(errno),
			       errno == EINVAL ? " (frequency above kernel.perf_event_max_sample_rate?)" : "");
			return err;
		}
		l[cpu] = bpf_program__attach_perf_event(skel->progs.do_sample, fd);
		if (!l[cpu]) {
			err = -errno;
			close(fd);
			ps_err("attach profile program to CPU %d's perf event: %s", cpu, strerror(-err));
			return err;
		}
		n++;
	}
	*nlinks = ncpu;
	return n ? 0 : -ENODEV;
}

static void close_events(struct bpf_link **links, int n)
{
	int i;

	for (i = 0; links && i < n; i++)
		bpf_link__destroy(links[i]);	/* also closes the perf event fd */
	free(links);
}

static uint64_t sum_stat(int fd, __u32 idx)
{
	int ncpu = ps_ncpus(), i;
	uint64_t v[ncpu], s = 0;

	if (bpf_map_lookup_elem(fd, &idx, v))
		return 0;
	for (i = 0; i < ncpu; i++)
		s += v[i];
	return s;
}

/*
 * Read the process maps of every process sampled so far, while it is alive:
 * a process that exits before the end is still symbolized.
 */
static void prefetch_maps(struct syms_cache *sc, int counts_fd)
{
	struct cpu_prof_key k, next;
	void *prev = NULL;

	while (!bpf_map_get_next_key(counts_fd, prev, &next)) {
		k = next;
		prev = &k;
		syms_cache_prefetch(sc, k.pid);
	}
}

static const char profile_options[] =
	"  -p, --pid PID        sample only this process (all of its threads)\n"
	"  -F, --frequency HZ   samples per second per CPU, 1..10000 (default 99)\n"
	"  -d, --duration SECS  how long to sample (default 10; ends early when -p exits)\n"
	"  -U, --user           user stacks only\n"
	"  -K, --kernel         kernel stacks only\n"
	"  -f, --folded         print folded stacks (flamegraph.pl, speedscope) instead of the table\n"
	"  -s, --svg FILE       write a flame graph SVG to FILE\n"
	"  -n, --top N          rows of the hottest-functions table (default 20)\n";

/*
 * Symbolize every sampled stack: folded stacks (merged, sorted) in *fvp and
 * the per-function table, compacted and sorted by self samples, in *ftp.
 */
static int collect(struct profile_bpf *skel, struct syms_cache *sc, struct folded **fvp,
		   size_t *nfp, struct fn_table *ftp, size_t *ntop, uint64_t *totalp)
{
	int counts_fd = bpf_map__fd(skel->maps.counts), stacks_fd = bpf_map__fd(skel->maps.stacks);
	struct fn_table ft = { 0 };
	struct folded *fv = NULL;
	size_t nf = 0, capf = 0, i, j;
	struct cpu_prof_key k, next;
	struct frame *frames;
	struct sbuf sb = { 0 };
	void *prev = NULL;
	uint64_t total = 0;
	long idx = 0;
	int ret = -ENOMEM;

	frames = calloc(2 * CPU_STACK_DEPTH, sizeof(*frames));
	if (!frames)
		return -ENOMEM;
	while (!bpf_map_get_next_key(counts_fd, prev, &next)) {
		char comm[CPU_COMM_LEN + 1];
		uint64_t cnt;
		int n, f;

		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(counts_fd, &k, &cnt) || !cnt)
			continue;
		total += cnt;
		n = sample_frames(sc, stacks_fd, &k, frames, 2 * CPU_STACK_DEPTH);
		memcpy(comm, k.comm, CPU_COMM_LEN);
		comm[CPU_COMM_LEN] = '\0';
		sb.len = 0;
		if (sbuf_add(&sb, comm[0] ? comm : "[unknown]", NULL))
			goto out;
		for (f = 0; f < n; f++) {
			const char *mod = frames[f].kernel ? "kernel" : base_name(frames[f].module);
			struct fn *fp;

			if (sbuf_add(&sb, frames[f].name, frames[f].kernel ? "_[k]" : NULL))
				goto out;
			fp = fn_get(&ft, frames[f].name, mod);
			if (!fp)
				goto out;
			if (fp->last != idx) {
				fp->total += cnt;
				fp->last = idx;
			}
			if (f == n - 1)
				fp->self += cnt;
		}
		if (!n) {
			/* Neither stack could be read: still a sample of this process. */
			struct fn *fp = fn_get(&ft, "[unknown]", "[unknown]");

			if (!fp || sbuf_add(&sb, "[unknown]", NULL))
				goto out;
			fp->self += cnt;
			fp->total += cnt;
		}
		idx++;
		if (nf == capf) {
			size_t nc = capf ? capf * 2 : 256;
			struct folded *nv = realloc(fv, nc * sizeof(*nv));

			if (!nv)
				goto out;
			fv = nv;
			capf = nc;
		}
		fv[nf].s = strdup(sb.s);
		if (!fv[nf].s)
			goto out;
		fv[nf++].count = cnt;
	}
	/* Different stack ids can symbolize alike: merge equal lines. */
	if (nf)
		qsort(fv, nf, sizeof(*fv), folded_cmp);
	for (i = 0, j = 0; i < nf; i++) {
		if (j && !strcmp(fv[j - 1].s, fv[i].s)) {
			fv[j - 1].count += fv[i].count;
			free(fv[i].s);
		} else {
			fv[j++] = fv[i];
		}
	}
	nf = j;

	/* Top functions: compact the table and sort by self samples. */
	for (i = 0, j = 0; i < ft.cap; i++)
		if (ft.v[i].name)
			ft.v[j++] = ft.v[i];
	if (j)
		qsort(ft.v, j, sizeof(*ft.v), fn_cmp);
	*ntop = j;
	ret = 0;
out:
	if (ret) {
		for (i = 0; i < nf; i++)
			free(fv[i].s);
		free(fv);
		free(ft.v);
		fv = NULL;
		nf = 0;
		ft = (struct fn_table){ 0 };
	}
	*fvp = fv;
	*nfp = nf;
	*ftp = ft;
	*totalp = total;
	free(sb.s);
	free(frames);
	return ret;
}

static int report(struct profile_bpf *skel, struct syms_cache *sc, const struct prof_opts *o,
		  double elapsed)
{
	int stats_fd = bpf_map__fd(skel->maps.pstats);
	struct fn_table ft = { 0 };
	struct folded *fv = NULL;
	size_t nf = 0, i, j;
	uint64_t total = 0, dropped, kerr, uerr;
	struct fn *top;
	int ret = EXIT_RUNTIME;

	if (collect(skel, sc, &fv, &nf, &ft, &j, &total))
		return EXIT_RUNTIME;
	dropped = sum_stat(stats_fd, CPU_PROF_KEY_DROP);
	kerr = sum_stat(stats_fd, CPU_PROF_KSTACK_ERR);
	uerr = sum_stat(stats_fd, CPU_PROF_USTACK_ERR);

	if (o->svg) {
		struct flame *fl = flame_new();
		char title[128], sub[256];
		FILE *fo;
		int err = 0;

		if (!fl)
			goto out;
		for (i = 0; i < nf && !err; i++)
			err = flame_add(fl, fv[i].s, fv[i].count);
		snprintf(title, sizeof(title), "pktscope profile%s", o->pid ? "" : ": all processes");
		if (o->pid)
			snprintf(title, sizeof(title), "pktscope profile: pid %d", o->pid);
		snprintf(sub, sizeof(sub), "%llu samples at %llu Hz over %.1f s (%s stacks)",
			 (unsigned long long)total, (unsigned long long)o->freq, elapsed,
			 o->user && o->kernel ? "user and kernel" : o->user ? "user" : "kernel");
		fo = fopen(o->svg, "w");
		if (!fo) {
			ps_err("write flame graph to %s: %s", o->svg, strerror(errno));
			flame_free(fl);
			goto out;
		}
		if (!err)
			err = flame_write_svg(fl, fo, title, sub);
		if (fclose(fo) || err) {
			ps_err("write flame graph to %s: %s", o->svg, strerror(errno ? errno : EIO));
			flame_free(fl);
			goto out;
		}
		flame_free(fl);
	}

	top = ft.v;
	out_obj_open(NULL);
	if (o->folded && !out_json()) {
		for (i = 0; i < nf; i++)
			printf("%s %llu\n", fv[i].s, (unsigned long long)fv[i].count);
		ps_info("%llu samples, %zu distinct stacks%s%s", (unsigned long long)total, nf,
			o->svg ? "; flame graph in " : "", o->svg ? o->svg : "");
	} else {
		if (o->pid)
			out_u64("pid", "pid %llu: ", o->pid);
		else
			out_null("pid");
		out_u64("samples", "%llu samples", total);
		out_u64("frequency_hz", " at %llu Hz", o->freq);
		out_f64("duration_s", " over %.1f s", elapsed);
		out_u64("dropped", "; dropped %llu", dropped);
		out_u64("kernel_stack_errors", ", stack errors %llu kernel", kerr);
		out_u64("user_stack_errors", " / %llu user\n", uerr);
		if (o->svg)
			out_str("svg", "flame graph: %s\n", o->svg);
		out_text("\n%8s %7s %7s  %-40s %s\n", "SELF", "SELF%", "TOTAL%", "FUNCTION", "MODULE");
		out_arr_open("top");
		for (i = 0; i < j && i < o->top; i++) {
			out_obj_open(NULL);
			out_u64("self", "%8llu", top[i].self);
			out_f64("self_pct", " %6.2f%%", total ? 100.0 * top[i].self / total : 0);
			out_u64("total", NULL, top[i].total);
			out_f64("total_pct", " %6.2f%%", total ? 100.0 * top[i].total / total : 0);
			out_str("function", "  %-40s", top[i].name);
			out_str("module", " %s\n", top[i].module);
			out_obj_close();
		}
		out_arr_close();
		if (o->folded) {
			out_arr_open("stacks");
			for (i = 0; i < nf; i++) {
				out_obj_open(NULL);
				out_str("folded", NULL, fv[i].s);
				out_u64("count", NULL, fv[i].count);
				out_obj_close();
			}
			out_arr_close();
		}
	}
	out_obj_close();
	out_doc_end();
	ret = EXIT_OK;
out:
	for (i = 0; i < nf; i++)
		free(fv[i].s);
	free(fv);
	free(ft.v);
	return ret;
}

int cmd_profile(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pid",	required_argument,	NULL, 'p' },
		{ "frequency",	required_argument,	NULL, 'F' },
		{ "duration",	required_argument,	NULL, 'd' },
		{ "user",	no_argument,		NULL, 'U' },
		{ "kernel",	no_argument,		NULL, 'K' },
		{ "folded",	no_argument,		NULL, 'f' },
		{ "svg",	required_argument,	NULL, 's' },
		{ "top",	required_argument,	NULL, 'n' },
		PS_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct prof_opts o = { .freq = 99, .duration = 10, .top = 20 };
	struct bpf_link **links = NULL;
	struct profile_bpf *skel = NULL;
	struct syms_cache *sc = NULL;
	bool only_user = false, only_kernel = false;
	int c, err, nlinks = 0, ret = EXIT_RUNTIME;
	double t0, next_prefetch;

	while ((c = ps_getopt(argc, argv, "p:F:d:UKfs:n:" PS_COMMON_SHORTOPTS, opts)) != -1) {
		switch (c) {
		case 'p':
			if (parse_pid(optarg, &o.pid))
				return EXIT_USAGE;
			break;
		case 'F':
			if (parse_u64("sampling frequency (-F, Hz)", optarg, 1, MAX_FREQ, &o.freq))
				return EXIT_USAGE;
			break;
		case 'd':
			if (parse_seconds("duration (-d)", optarg, 0.1, 86400, &o.duration))
				return EXIT_USAGE;
			break;
		case 'U':
			only_user = true;
			break;
		case 'K':
			only_kernel = true;
			break;
		case 'f':
			o.folded = true;
			break;
		case 's':
			o.svg = optarg;
			break;
		case 'n':
			if (parse_u64("--top", optarg, 1, 100000, &o.top))
				return EXIT_USAGE;
			break;
		default:
			err = ps_common_opt(c, optarg);
			if (err > 0) {
				ps_cmd_help("profile", profile_options);
				return EXIT_OK;
			}
			if (err)
				return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		ps_err("unexpected argument '%s': see 'pktscope profile --help'", argv[optind]);
		return EXIT_USAGE;
	}
	if (only_user && only_kernel) {
		ps_err("--user and --kernel exclude each other: give one, or neither for both stacks");
		return EXIT_USAGE;
	}
	o.user = !only_kernel;
	o.kernel = !only_user;
	if (o.svg && !*o.svg) {
		ps_err("--svg needs a file name");
		return EXIT_USAGE;
	}
	if (ps_need_root("profile"))
		return EXIT_RUNTIME;

	skel = profile_bpf__open();
	if (!skel) {
		ps_err("open profile BPF object: %s", strerror(errno));
		return EXIT_RUNTIME;
	}
	skel->rodata->target_pid = o.pid;
	skel->rodata->want_user = o.user;
	skel->rodata->want_kernel = o.kernel;
	err = profile_bpf__load(skel);
	if (err) {
		ps_err("load profile BPF program: %s (run with -v for the verifier log)",
		       strerror(-err));
		goto out;
	}
	sc = syms_cache_new();
	if (!sc) {
		ps_err("symbolizer: libelf initialisation failed");
		goto out;
	}
	if (o.pid)
		syms_cache_prefetch(sc, o.pid);
	err = open_events(skel, o.freq, &links, &nlinks);
	if (err) {
		if (err == -ENODEV)
			ps_err("no online CPU accepted a perf event");
		goto out;
	}
	ps_install_signals();
	if (o.pid)
		ps_info("Sampling pid %d at %llu Hz for %.1f s... Ctrl-C to end.", o.pid,
			(unsigned long long)o.freq, o.duration);
	else
		ps_info("Sampling all CPUs at %llu Hz for %.1f s... Ctrl-C to end.",
			(unsigned long long)o.freq, o.duration);
	t0 = ps_now();
	next_prefetch = t0 + 1;
	while (!ps_exiting) {
		double now = ps_now(), left = t0 + o.duration - now;

		if (left <= 0)
			break;
		if (o.pid && !cpu_pid_alive(o.pid))
			break;
		if (now >= next_prefetch) {
			prefetch_maps(sc, bpf_map__fd(skel->maps.counts));
			next_prefetch = now + 1;
		}
		ps_sleep(left < 0.1 ? left : 0.1);
	}
	/* Stop sampling first, so that the maps hold still while we read them. */
	close_events(links, nlinks);
	links = NULL;
	ret = report(skel, sc, &o, ps_now() - t0);
out:
	close_events(links, nlinks);
	syms_cache_free(sc);
	profile_bpf__destroy(skel);
	return ret;
}

/* ---- collector for `pktscope report` ------------------------------------- */

struct prof_session {
	struct profile_bpf *skel;
	struct syms_cache *sc;
	struct bpf_link **links;
	int nlinks, pid;
};

void profile_end(struct prof_session *s)
{
	if (!s)
		return;
	close_events(s->links, s->nlinks);
	syms_cache_free(s->sc);
	profile_bpf__destroy(s->skel);
	free(s);
}

struct prof_session *profile_start(int pid, uint64_t freq)
{
	struct prof_session *s = calloc(1, sizeof(*s));
	int err;

	if (!s)
		return NULL;
	s->pid = pid;
	s->skel = profile_bpf__open();
	if (!s->skel) {
		ps_err("open profile BPF object: %s", strerror(errno));
		goto fail;
	}
	s->skel->rodata->target_pid = pid;
	s->skel->rodata->want_user = true;
	s->skel->rodata->want_kernel = true;
	err = profile_bpf__load(s->skel);
	if (err) {
		ps_err("load profile BPF program: %s (run with -v for the verifier log)",
		       strerror(-err));
		goto fail;
	}
	s->sc = syms_cache_new();
	if (!s->sc) {
		ps_err("symbolizer: libelf initialisation failed");
		goto fail;
	}
	if (pid)
		syms_cache_prefetch(s->sc, pid);
	err = open_events(s->skel, freq, &s->links, &s->nlinks);
	if (err) {
		if (err == -ENODEV)
			ps_err("no online CPU accepted a perf event");
		goto fail;
	}
	return s;
fail:
	profile_end(s);
	return NULL;
}

void profile_tick(struct prof_session *s)
{
	prefetch_maps(s->sc, bpf_map__fd(s->skel->maps.counts));
}

uint64_t profile_samples(struct prof_session *s)
{
	return sum_stat(bpf_map__fd(s->skel->maps.pstats), CPU_PROF_SAMPLES);
}

int profile_stop(struct prof_session *s, struct prof_result *r)
{
	struct fn_table ft;
	struct folded *fv;
	size_t nf, ntop, i;
	uint64_t total;
	int err;

	memset(r, 0, sizeof(*r));
	/* Stop sampling first, so that the maps hold still while we read them. */
	close_events(s->links, s->nlinks);
	s->links = NULL;
	s->nlinks = 0;
	err = collect(s->skel, s->sc, &fv, &nf, &ft, &ntop, &total);
	if (err)
		return err;
	r->samples = total;
	r->dropped = sum_stat(bpf_map__fd(s->skel->maps.pstats), CPU_PROF_KEY_DROP);
	/* profile_result_free() below walks nstacks entries. */
	r->nstacks = 0;
	r->stacks = calloc(nf ? nf : 1, sizeof(*r->stacks));
	r->top = calloc(ntop ? ntop : 1, sizeof(*r->top));
	if (!r->stacks || !r->top) {
		for (i = 0; i < nf; i++)
			free(fv[i].s);
		free(fv);
		free(ft.v);
		profile_result_free(r);
		return -ENOMEM;
	}
	for (i = 0; i < nf; i++)
		r->stacks[i] = (struct prof_stack){ fv[i].s, fv[i].count };
	r->nstacks = nf;
	for (i = 0; i < ntop; i++)
		r->top[i] = (struct prof_fn){ ft.v[i].name, ft.v[i].module, ft.v[i].self,
					      ft.v[i].total };
	r->ntop = ntop;
	free(fv);
	free(ft.v);
	return 0;
}

void profile_result_free(struct prof_result *r)
{
	size_t i;

	for (i = 0; i < r->nstacks; i++)
		free(r->stacks[i].folded);
	free(r->stacks);
	free(r->top);
	memset(r, 0, sizeof(*r));
}
