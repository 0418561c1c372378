// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * memleak and mallocstat: one BPF object (memleak.bpf.c), two uses.
 *
 * memleak -p PID: uprobes and uretprobes on the allocator entry points the
 * target's libc defines; every interval, the allocations still outstanding
 * and older than --min-age, grouped by the allocating stack, largest first.
 * memleak -k: the same for kernel slab objects (kmem tracepoints).
 * mallocstat: entry uprobes only; calls, bytes and a size histogram per
 * process every interval.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>

#include "ctl.h"
#include "output.h"
#include "mem.h"
#include "memutil.h"
#include "syms.h"
#include "memleak.skel.h"
#include "report.h"

static const char *const fn_names[MEM_FN_MAX] = {
	"malloc", "calloc", "realloc", "reallocarray", "posix_memalign",
	"aligned_alloc", "memalign", "valloc", "pvalloc", "free",
};

struct libc {
	char path[PATH_MAX];		/* as we open it (maybe via /proc/PID/root) */
	__u64 addr[MEM_FN_MAX];		/* symbol value, 0: not defined */
	bool probe[MEM_FN_MAX];		/* defined and not an alias of an earlier one */
	__u32 skip[MEM_FN_MAX];		/* the uprobe's offset into the function */
};

static bool is_libc_name(const char *base)
{
	return !strncmp(base, "libc.so", 7) || !strncmp(base, "libc-", 5) ||
	       !strncmp(base, "libc.musl", 9) || !strncmp(base, "ld-musl-", 8);
}

static bool same_mntns(int pid)
{
	char p[64];
	struct stat a, b;

	snprintf(p, sizeof(p), "/proc/%d/ns/mnt", pid);
	if (stat(p, &a) || stat("/proc/self/ns/mnt", &b))
		return true;
	return a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

/*
 * The libc mapped by pid (0: ourselves), from /proc/PID/maps: any path, as
 * long as the file name says libc.  A process in another mount namespace
 * sees its own files: reach them through /proc/PID/root.
 */
static int find_libc(int pid, char *out, size_t len)
{
	char maps[64], line[PATH_MAX + 256];
	int ret = -ENOENT;
	FILE *f;

	if (pid)
		snprintf(maps, sizeof(maps), "/proc/%d/maps", pid);
	else
		snprintf(maps, sizeof(maps), "/proc/self/maps");
	f = fopen(maps, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *path = strchr(line, '/'), *base;

		if (!path)
			continue;
		path[strcspn(path, "\n")] = '\0';
		if (strstr(path, " (deleted)"))
			continue;
		base = strrchr(path, '/') + 1;
		if (!is_libc_name(base))
			continue;
		if (pid && !same_mntns(pid))
			snprintf(out, len, "/proc/%d/root%s", pid, path);
		else
			snprintf(out, len, "%s", path);
		ret = 0;
		break;
	}
	fclose(f);
	return ret;
}

/*
 * Where free's uprobe goes.  A uprobe on an instruction the kernel cannot
 * emulate (x86: anything but push, nop, jmp, call, jcc) is single-stepped
 * out of line: a second trap on every call.  glibc's free starts with
 *	test %rdi,%rdi ; je <return>	(free(NULL) frees nothing)
 * and the instruction after that is a push.  Measured on this project's
 * machines with one probe and nothing else, 50,000 calls: a uprobe on free
 * cost 19 us a call, on malloc (which starts with a push) 5.3 us.  So when
 * the first bytes are exactly that (after an optional endbr64) and a push
 * follows, free is probed at the push: every call with a pointer is seen,
 * free(NULL) is not (there is nothing to account for it).  Anything else,
 * or another architecture: the function's first instruction, as before.
 * The match is exact, so the offset is always an instruction boundary.
 */
static __u32 free_skip_bytes(const unsigned char *b, size_t n)
{
	size_t i = 0;

	if (n >= 4 && b[0] == 0xf3 && b[1] == 0x0f && b[2] == 0x1e && b[3] == 0xfa)
		i = 4;						/* endbr64 */
	if (i + 3 > n || b[i] != 0x48 || b[i + 1] != 0x85 || b[i + 2] != 0xff)
		return 0;					/* test %rdi,%rdi */
	i += 3;
	if (i + 2 <= n && b[i] == 0x74)
		i += 2;						/* je rel8 */
	else if (i + 6 <= n && b[i] == 0x0f && b[i + 1] == 0x84)
		i += 6;						/* je rel32 */
	else
		return 0;
	if (i < n && b[i] >= 0x50 && b[i] <= 0x57)
		return i;					/* push %r?x */
	if (i + 1 < n && b[i] == 0x41 && b[i + 1] >= 0x50 && b[i + 1] <= 0x57)
		return i;					/* push %r8..r15 */
	return 0;
}

/* free_skip_bytes() on the bytes at virtual address addr of the file. */
static __u32 free_skip(Elf *e, int fd, __u64 addr)
{
#if defined(__x86_64__)
	unsigned char b[16];
	size_t i, n;

	if (elf_getphdrnum(e, &n))
		return 0;
	for (i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(e, i, &ph) || ph.p_type != PT_LOAD ||
		    addr < ph.p_vaddr || addr + sizeof(b) > ph.p_vaddr + ph.p_filesz)
			continue;
		if (pread(fd, b, sizeof(b), addr - ph.p_vaddr + ph.p_offset) != sizeof(b))
			return 0;
		return free_skip_bytes(b, sizeof(b));
	}
#else
	(void)e; (void)fd; (void)addr;
#endif
	return 0;
}

/* Which allocator functions the ELF file defines (.symtab or .dynsym). */
static int elf_funcs(struct libc *lc)
{
	Elf_Scn *scn = NULL;
	int fd, fn, ret = 0;
	size_t i, n;
	Elf *e;

	memset(lc->addr, 0, sizeof(lc->addr));
	memset(lc->skip, 0, sizeof(lc->skip));
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EINVAL;
	fd = open(lc->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	e = elf_begin(fd, ELF_C_READ, NULL);
	if (!e || elf_kind(e) != ELF_K_ELF) {
		ret = -ENOEXEC;
		goto out;
	}
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM))
			continue;
		d = elf_getdata(scn, NULL);
		if (!d || !sh.sh_entsize)
			continue;
		n = sh.sh_size / sh.sh_entsize;
		for (i = 0; i < n; i++) {
			const char *name;
			GElf_Sym s;

			if (!gelf_getsym(d, i, &s) || GELF_ST_TYPE(s.st_info) != STT_FUNC ||
			    s.st_shndx == SHN_UNDEF || !s.st_value)
				continue;
			name = elf_strptr(e, sh.sh_link, s.st_name);
			if (!name)
				continue;
			for (fn = 0; fn < MEM_FN_MAX; fn++)
				if (!lc->addr[fn] && !strcmp(name, fn_names[fn]))
					lc->addr[fn] = s.st_value;
		}
	}
	/*
	 * glibc makes some of these aliases of one another (one address): a
	 * second uprobe on the same address would count each call twice.
	 */
	for (fn = 0; fn < MEM_FN_MAX; fn++) {
		int j;

		lc->probe[fn] = lc->addr[fn] != 0;
		for (j = 0; j < fn && lc->probe[fn]; j++)
			if (lc->probe[j] && lc->addr[j] == lc->addr[fn])
				lc->probe[fn] = false;
	}
	if (lc->addr[MEM_FN_FREE])
		lc->skip[MEM_FN_FREE] = free_skip(e, fd, lc->addr[MEM_FN_FREE]);
out:
	if (e)
		elf_end(e);
	close(fd);
	return ret;
}

/* Resolve and check the libc: the one given, or the one pid maps (0: ours). */
static int libc_setup(struct libc *lc, const char *given, int pid)
{
	int err;

	if (given) {
		snprintf(lc->path, sizeof(lc->path), "%s", given);
	} else {
		err = find_libc(pid, lc->path, sizeof(lc->path));
		if (err) {
			ps_err("no libc mapped in %s%.0d (%s): a static binary or another allocator? "
			       "pass --libc PATH of the file that defines malloc and free",
			       pid ? "process " : "pktscope", pid, strerror(-err));
			return -1;
		}
	}
	err = elf_funcs(lc);
	if (err) {
		ps_err("read ELF symbols of %s: %s: give --libc PATH of a shared library or "
		       "executable that defines malloc and free", lc->path,
		       err == -ENOEXEC ? "not an ELF file" : strerror(-err));
		return -1;
	}
	if (!lc->addr[MEM_FN_MALLOC] || !lc->addr[MEM_FN_FREE]) {
		ps_err("%s does not define %s: give --libc PATH of the allocator the process uses",
		       lc->path, !lc->addr[MEM_FN_MALLOC] && !lc->addr[MEM_FN_FREE] ?
		       "malloc and free" : !lc->addr[MEM_FN_MALLOC] ? "malloc" : "free");
		return -1;
	}
	return 0;
}

/* For the "tracing" line: where free's probe sits, when not at its start. */
static const char *free_note(const struct libc *lc)
{
	static char b[64];

	if (!lc->skip[MEM_FN_FREE])
		return "";
	snprintf(b, sizeof(b), " (free probed at +%u, past its NULL test)", lc->skip[MEM_FN_FREE]);
	return b;
}

static struct bpf_program *enter_prog(struct memleak_bpf *s, int fn)
{
	switch (fn) {
	case MEM_FN_MALLOC:		return s->progs.malloc_enter;
	case MEM_FN_CALLOC:		return s->progs.calloc_enter;
	case MEM_FN_REALLOC:		return s->progs.realloc_enter;
	case MEM_FN_REALLOCARRAY:	return s->progs.reallocarray_enter;
	case MEM_FN_POSIX_MEMALIGN:	return s->progs.posix_memalign_enter;
	case MEM_FN_ALIGNED_ALLOC:	return s->progs.aligned_alloc_enter;
	case MEM_FN_MEMALIGN:		return s->progs.memalign_enter;
	case MEM_FN_VALLOC:		return s->progs.valloc_enter;
	case MEM_FN_PVALLOC:		return s->progs.pvalloc_enter;
	default:			return s->progs.free_enter;
	}
}

struct probes {
	struct bpf_link *l[2 * MEM_FN_MAX];
	int n;
};

static void probes_destroy(struct probes *p)
{
	while (p->n > 0)
		bpf_link__destroy(p->l[--p->n]);
}

/* Uprobes on every probed function; uretprobes too when returns matter. */
static int attach_uprobes(struct memleak_bpf *skel, const struct libc *lc, int pid,
			  bool returns, struct probes *p)
{
	int fn, r;

	/*
	 * Return probes first: an entry seen without its return would leave
	 * a stale pending request for that thread.
	 */
	for (r = 1; r >= 0; r--) {
		for (fn = 0; fn < MEM_FN_MAX; fn++) {
			LIBBPF_OPTS(bpf_uprobe_opts, o, .func_name = fn_names[fn], .retprobe = r);
			struct bpf_program *prog = r ? skel->progs.alloc_return : enter_prog(skel, fn);
			struct bpf_link *l;

			if (!lc->probe[fn] || (r && (!returns || fn == MEM_FN_FREE)))
				continue;
			l = bpf_program__attach_uprobe_opts(prog, pid > 0 ? pid : -1, lc->path,
							   lc->skip[fn], &o);
			if (!l) {
				ps_err("attach %s to %s in %s: %s", r ? "uretprobe" : "uprobe",
				       fn_names[fn], lc->path, strerror(errno));
				probes_destroy(p);
				return -1;
			}
			p->l[p->n++] = l;
		}
	}
	return 0;
}

static struct memleak_bpf *mem_load(enum mem_mode mode, int tgid, __u64 min_size, __u64 max_size)
{
	struct memleak_bpf *skel;
	int err;

	skel = memleak_bpf__open();
	if (!skel) {
		ps_err("open the memleak BPF object: %s", strerror(errno));
		return NULL;
	}
	skel->rodata->mode = mode;
	skel->rodata->target_tgid = tgid;
	skel->rodata->min_size = min_size;
	skel->rodata->max_size = max_size;
	err = memleak_bpf__load(skel);
	if (err) {
		ps_err("load the memleak BPF programs: %s (-v shows the verifier log)",
		       strerror(-err));
		memleak_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

static int sum_stats(struct memleak_bpf *skel, __u64 out[MEM_ST_MAX])
{
	int ncpu = ps_ncpus(), fd = bpf_map__fd(skel->maps.mstats), i, k;
	__u64 v[ncpu];

	for (k = 0; k < MEM_ST_MAX; k++) {
		__u32 key = k;
		int err;

		out[k] = 0;
		/* libbpf returns -errno itself; errno alone could be 0 here. */
		err = bpf_map_lookup_elem(fd, &key, v);
		if (err)
			return err;
		for (i = 0; i < ncpu; i++)
			out[k] += v[i];
	}
	return 0;
}

/* ---- memleak ---------------------------------------------------------- */

struct leak_group {
	__s32 stack_id;
	__u32 _pad;
	__u64 caller;
	__u64 bytes;
	__u64 allocs;
};

struct leak_ctx {
	struct memleak_bpf *skel;
	struct syms_cache *syms;
	int pid;			/* 0 with -k */
	__u64 min_age_ns;
	uint64_t top;
	__u64 *keys;
	struct mem_alloc *vals;
	struct leak_group *groups;
	__u64 *ips;
};

/* Every outstanding allocation; a batch read walks hash buckets, so
 * allocations freed meanwhile never make it restart or repeat. */
static long read_allocs(struct leak_ctx *x)
{
	int fd = bpf_map__fd(x->skel->maps.allocs);
	LIBBPF_OPTS(bpf_map_batch_opts, o);
	__u64 token = 0;
	long n = 0;
	bool first = true;

	while (n < MEM_MAX_ALLOCS) {
		__u32 cnt = MEM_MAX_ALLOCS - n;
		int err;

		err = bpf_map_lookup_batch(fd, first ? NULL : &token, &token, x->keys + n,
					   x->vals + n, &cnt, &o);
		first = false;
		n += cnt;
		if (err) {
			if (errno == ENOENT)
				break;
			return -errno;
		}
	}
	return n;
}

static int by_stack(const void *a, const void *b)
{
	const struct mem_alloc *x = a, *y = b;

	if (x->stack_id != y->stack_id)
		return x->stack_id < y->stack_id ? -1 : 1;
	return x->caller < y->caller ? -1 : x->caller > y->caller;
}

static int by_bytes(const void *a, const void *b)
{
	const struct leak_group *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	return x->allocs > y->allocs ? -1 : x->allocs < y->allocs;
}

static void print_frame(struct leak_ctx *x, __u64 addr)
{
	const char *name = NULL, *mod = NULL;
	uint64_t off = 0;
	char modbuf[PATH_MAX];

	out_obj_open(NULL);
	out_u64("addr", NULL, addr);
	if (!syms_resolve(x->syms, x->pid, addr, &name, &off, &mod)) {
		out_str("sym", "\t\t%s", name);
		out_u64("offset", "+0x%llx", off);
	} else {
		out_str("sym", "\t\t%s", "[unknown]");
		out_text(" 0x%llx", (unsigned long long)addr);
	}
	if (mod) {
		snprintf(modbuf, sizeof(modbuf), "%s", mod);
		out_str("module", NULL, mod);
		out_text(" [%s]", basename(modbuf));
	}
	out_text("\n");
	out_obj_close();
}

static void print_group(struct leak_ctx *x, const struct leak_group *g)
{
	int fd = bpf_map__fd(x->skel->maps.stacks), i = 0;
	__s32 sid = g->stack_id;

	out_obj_open(NULL);
	out_u64("bytes", "\t%llu bytes", g->bytes);
	out_u64("allocs", " in %llu allocations from stack\n", g->allocs);
	out_arr_open("frames");
	if (x->pid) {
		/*
		 * User stacks were taken at the allocator's first
		 * instruction: frame 0 is the allocator itself and the
		 * frame-pointer walk skipped its caller, recorded apart.
		 */
		print_frame(x, g->caller);
		i = 1;
	}
	if (sid >= 0 && !bpf_map_lookup_elem(fd, &sid, x->ips)) {
		for (; i < MEM_STACK_DEPTH && x->ips[i]; i++)
			print_frame(x, x->ips[i]);
	} else if (!x->pid) {
		print_frame(x, g->caller);
	}
	out_arr_close();
	out_obj_close();
}

static int leak_report(struct leak_ctx *x, double interval)
{
	__u64 now, tot_bytes = 0, tot_allocs = 0, st[MEM_ST_MAX];
	long n, i, m = 0, ng = 0;
	struct timespec ts;
	char tbuf[16];

	n = read_allocs(x);
	if (n < 0) {
		ps_err("read the allocation map: %s", strerror(-n));
		return -1;
	}
	if (sum_stats(x->skel, st)) {
		ps_err("read the memleak counters: %s", strerror(errno));
		return -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = ts.tv_sec * 1000000000ull + ts.tv_nsec;
	for (i = 0; i < n; i++)
		if (x->vals[i].ts_ns <= now && now - x->vals[i].ts_ns >= x->min_age_ns)
			x->vals[m++] = x->vals[i];
	qsort(x->vals, m, sizeof(*x->vals), by_stack);
	for (i = 0; i < m; i++) {
		struct mem_alloc *a = &x->vals[i];

		if (!ng || x->groups[ng - 1].stack_id != a->stack_id ||
		    x->groups[ng - 1].caller != a->caller) {
			x->groups[ng] = (struct leak_group){ .stack_id = a->stack_id,
							     .caller = a->caller };
			ng++;
		}
		x->groups[ng - 1].bytes += a->size;
		x->groups[ng - 1].allocs++;
		tot_bytes += a->size;
		tot_allocs++;
	}
	qsort(x->groups, ng, sizeof(*x->groups), by_bytes);
	syms_cache_forget(x->syms, x->pid);	/* it may have loaded libraries */

	out_obj_open(NULL);
	out_str("time", "[%s]", mem_timestr(tbuf, sizeof(tbuf)));
	out_f64("interval_s", NULL, interval);
	if (x->pid)
		out_u64("pid", " PID %llu:", x->pid);
	else
		out_str("target", " %s:", "kernel");
	out_u64("outstanding_bytes", " %llu bytes", tot_bytes);
	out_u64("outstanding_allocs", " in %llu allocations", tot_allocs);
	out_u64("min_age_ms", " older than %llu ms", x->min_age_ns / 1000000);
	out_u64("stacks_total", ", from %llu stacks", ng);
	if (ng > (long)x->top)
		out_text("; the %llu largest:", (unsigned long long)x->top);
	out_text("\n");
	out_obj_open("counters");
	out_u64("tracked", NULL, n);
	out_u64("allocs", NULL, st[MEM_ST_ALLOCS]);
	out_u64("frees", NULL, st[MEM_ST_FREES]);
	out_u64("free_unknown", NULL, st[MEM_ST_FREE_UNKNOWN]);
	out_u64("dropped", NULL, st[MEM_ST_ALLOC_DROPPED]);
	out_u64("stack_lost", NULL, st[MEM_ST_STACK_LOST]);
	out_obj_close();
	if (st[MEM_ST_ALLOC_DROPPED])
		out_text("\t(%llu allocations not tracked since start: the map of %d is full)\n",
			 (unsigned long long)st[MEM_ST_ALLOC_DROPPED], MEM_MAX_ALLOCS);
	out_arr_open("stacks");
	for (i = 0; i < ng && i < (long)x->top; i++)
		print_group(x, &x->groups[i]);
	out_arr_close();
	out_text("\n");
	out_obj_close();
	out_doc_end();
	return 0;
}

#define MEMLEAK_HELP							\
	"  -p, --pid PID        trace the allocations of process PID (uprobes on its libc)\n" \
	"  -k, --kernel         trace kernel slab allocations (kmem tracepoints), system-wide\n" \
	"  INTERVAL             seconds between reports (default 5)\n"	\
	"  COUNT                stop after COUNT reports (default: until Ctrl-C or PID exits)\n" \
	"  -n, --top N          print the N largest stacks (default 10)\n" \
	"      --min-size B     ignore allocations smaller than B bytes\n" \
	"      --max-size B     ignore allocations larger than B bytes\n" \
	"      --min-age MS     report allocations older than MS milliseconds (default 500)\n" \
	"      --libc PATH      the file defining malloc/free (default: the libc in /proc/PID/maps)\n"

enum { OPT_MIN_SIZE = 0x100, OPT_MAX_SIZE, OPT_MIN_AGE, OPT_LIBC };

int cmd_memleak(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pid",	required_argument, NULL, 'p' },
		{ "kernel",	no_argument,	   NULL, 'k' },
		{ "top",	required_argument, NULL, 'n' },
		{ "min-size",	required_argument, NULL, OPT_MIN_SIZE },
		{ "max-size",	required_argument, NULL, OPT_MAX_SIZE },
		{ "min-age",	required_argument, NULL, OPT_MIN_AGE },
		{ "libc",	required_argument, NULL, OPT_LIBC },
		PS_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct leak_ctx x = { .top = 10, .min_age_ns = 500 * 1000000ull };
	uint64_t count = 0, n, min_size = 0, max_size = ~0ull, v;
	double interval = 5, t0, t1;
	const char *libc_path = NULL;
	struct probes probes = {};
	enum mem_wake w = MEM_WAKE_TIMEOUT;
	bool kernel = false;
	int c, r, pid = 0, pidfd = -1, rc = EXIT_RUNTIME;
	struct libc lc;

	while ((c = ps_getopt(argc, argv, "p:kn:" PS_COMMON_SHORTOPTS, opts)) != -1) {
		switch (c) {
		case 'p':
			if (parse_pid(optarg, &pid))
				return EXIT_USAGE;
			break;
		case 'k':
			kernel = true;
			break;
		case 'n':
			if (parse_u64("top", optarg, 1, 100000, &x.top))
				return EXIT_USAGE;
			break;
		case OPT_MIN_SIZE:
			if (parse_u64("min-size", optarg, 0, UINT64_MAX, &min_size))
				return EXIT_USAGE;
			break;
		case OPT_MAX_SIZE:
			if (parse_u64("max-size", optarg, 1, UINT64_MAX, &max_size))
				return EXIT_USAGE;
			break;
		case OPT_MIN_AGE:
			if (parse_u64("min-age", optarg, 0, 86400000, &v))
				return EXIT_USAGE;
			x.min_age_ns = v * 1000000ull;
			break;
		case OPT_LIBC:
			libc_path = optarg;
			break;
		default:
			r = ps_common_opt(c, optarg);
			if (r > 0) {
				ps_cmd_help("memleak", MEMLEAK_HELP);
				return EXIT_OK;
			}
			if (r < 0)
				return EXIT_USAGE;
		}
	}
	if (!pid == !kernel) {
		ps_err("memleak needs one of -p PID (a process's malloc/free) or -k (kernel slab)");
		return EXIT_USAGE;
	}
	if (kernel && libc_path) {
		ps_err("--libc is for -p PID; -k traces the kernel's allocator");
		return EXIT_USAGE;
	}
	if (min_size > max_size) {
		ps_err("--min-size %llu is above --max-size %llu: nothing would be tracked",
		       (unsigned long long)min_size, (unsigned long long)max_size);
		return EXIT_USAGE;
	}
	if (mem_interval_args("memleak", argc - optind, argv + optind, &interval, &count))
		return EXIT_USAGE;
	if (!kernel && libc_setup(&lc, libc_path, pid))
		return EXIT_USAGE;
	if (ps_need_root("memleak"))
		return EXIT_RUNTIME;
	if (pid) {
		pidfd = mem_pidfd(pid);
		if (pidfd < 0) {
			ps_err("no process with PID %d: see 'ps'", pid);
			return EXIT_USAGE;
		}
	}
	if (kernel && ps_mount_tracefs())
		goto out_fd;

	x.pid = pid;
	x.skel = mem_load(kernel ? MEM_MODE_KERNEL : MEM_MODE_MEMLEAK, pid, min_size, max_size);
	if (!x.skel)
		goto out_fd;
	x.keys = calloc(MEM_MAX_ALLOCS, sizeof(*x.keys));
	x.vals = calloc(MEM_MAX_ALLOCS, sizeof(*x.vals));
	x.groups = calloc(MEM_MAX_ALLOCS, sizeof(*x.groups));
	x.ips = calloc(MEM_STACK_DEPTH, sizeof(*x.ips));
	x.syms = syms_cache_new();
	if (!x.keys || !x.vals || !x.groups || !x.ips || !x.syms) {
		ps_err("memleak: out of memory for %d allocation records", MEM_MAX_ALLOCS);
		goto out;
	}
	if (kernel) {
		struct memleak_bpf *s = x.skel;

		s->links.kmalloc = bpf_program__attach(s->progs.kmalloc);
		s->links.kmem_cache_alloc = s->links.kmalloc ?
			bpf_program__attach(s->progs.kmem_cache_alloc) : NULL;
		s->links.kfree = s->links.kmem_cache_alloc ?
			bpf_program__attach(s->progs.kfree) : NULL;
		s->links.kmem_cache_free = s->links.kfree ?
			bpf_program__attach(s->progs.kmem_cache_free) : NULL;
		if (!s->links.kmem_cache_free) {
			ps_err("attach to the kmem tracepoints (kmalloc, kfree, kmem_cache_alloc, "
			       "kmem_cache_free): %s", strerror(errno));
			goto out;
		}
	} else if (attach_uprobes(x.skel, &lc, pid, true, &probes)) {
		goto out;
	}
	if (kernel)
		ps_info("memleak: tracing kernel slab allocations; a report every %gs", interval);
	else
		ps_info("memleak: tracing %d probes in %s for PID %d%s; a report every %gs",
			probes.n, lc.path, pid, free_note(&lc), interval);

	ps_install_signals();
	rc = EXIT_OK;
	t0 = ps_now();
	for (n = 0; !count || n < count; n++) {
		w = mem_wait(pidfd, interval);
		if (w == MEM_WAKE_EXITED) {
			ps_info("process %d exited: stopping", pid);
			break;
		}
		if (w == MEM_WAKE_SIGNAL)
			break;
		t1 = ps_now();
		if (leak_report(&x, t1 - t0)) {
			rc = EXIT_RUNTIME;
			break;
		}
		t0 = t1;
	}
out:
	probes_destroy(&probes);
	memleak_bpf__destroy(x.skel);
	syms_cache_free(x.syms);
	free(x.keys);
	free(x.vals);
	free(x.groups);
	free(x.ips);
out_fd:
	if (pidfd >= 0)
		close(pidfd);
	return rc;
}

/* ---- collector for `pktscope report` ---------------------------------- */

struct mem_session {
	struct leak_ctx x;
	struct probes probes;
	struct libc lc;
};

void memleak_end(struct mem_session *s)
{
	if (!s)
		return;
	probes_destroy(&s->probes);
	memleak_bpf__destroy(s->x.skel);
	syms_cache_free(s->x.syms);
	free(s->x.keys);
	free(s->x.vals);
	free(s->x.groups);
	free(s->x.ips);
	free(s);
}

struct mem_session *memleak_start(int pid)
{
	struct mem_session *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	if (libc_setup(&s->lc, NULL, pid))
		goto fail;
	s->x.pid = pid;
	s->x.skel = mem_load(MEM_MODE_MEMLEAK, pid, 0, ~0ull);
	if (!s->x.skel)
		goto fail;
	s->x.keys = calloc(MEM_MAX_ALLOCS, sizeof(*s->x.keys));
	s->x.vals = calloc(MEM_MAX_ALLOCS, sizeof(*s->x.vals));
	s->x.groups = calloc(MEM_MAX_ALLOCS, sizeof(*s->x.groups));
	s->x.ips = calloc(MEM_STACK_DEPTH, sizeof(*s->x.ips));
	s->x.syms = syms_cache_new();
	if (!s->x.keys || !s->x.vals || !s->x.groups || !s->x.ips || !s->x.syms) {
		ps_err("memleak: out of memory for %d allocation records", MEM_MAX_ALLOCS);
		goto fail;
	}
	if (attach_uprobes(s->x.skel, &s->lc, pid, true, &s->probes))
		goto fail;
	syms_cache_prefetch(s->x.syms, pid);
	return s;
fail:
	memleak_end(s);
	return NULL;
}

const char *memleak_libc(const struct mem_session *s)
{
	return s->lc.path;
}

static void append_frame(struct leak_ctx *x, __u64 addr, char *buf, size_t len)
{
	const char *name = NULL;
	size_t n = strlen(buf);

	syms_resolve(x->syms, x->pid, addr, &name, NULL, NULL);
	snprintf(buf + n, len - n, "%s%s", n ? " <- " : "", name ? name : "[unknown]");
}

int memleak_read(struct mem_session *s, struct mem_leak_sum *out, bool stacks)
{
	struct leak_ctx *x = &s->x;
	int sfd = bpf_map__fd(x->skel->maps.stacks);
	__u64 st[MEM_ST_MAX];
	long n, i, ng = 0;

	memset(out, 0, sizeof(*out));
	n = read_allocs(x);
	if (n < 0)
		return n;
	if (!sum_stats(x->skel, st)) {
		out->dropped = st[MEM_ST_ALLOC_DROPPED];
		out->total_allocs = st[MEM_ST_ALLOCS];
		out->total_frees = st[MEM_ST_FREES];
	}
	for (i = 0; i < n; i++) {
		out->bytes += x->vals[i].size;
		out->allocs++;
	}
	if (!stacks)
		return 0;
	qsort(x->vals, n, sizeof(*x->vals), by_stack);
	for (i = 0; i < n; i++) {
		struct mem_alloc *a = &x->vals[i];

		if (!ng || x->groups[ng - 1].stack_id != a->stack_id ||
		    x->groups[ng - 1].caller != a->caller) {
			x->groups[ng] = (struct leak_group){ .stack_id = a->stack_id,
							     .caller = a->caller };
			ng++;
		}
		x->groups[ng - 1].bytes += a->size;
		x->groups[ng - 1].allocs++;
	}
	qsort(x->groups, ng, sizeof(*x->groups), by_bytes);
	syms_cache_forget(x->syms, x->pid);
	out->nstacks = ng;
	for (i = 0; i < ng && i < MEM_SUM_TOP; i++) {
		struct mem_leak_stack *o = &out->top[i];
		const struct leak_group *gr = &x->groups[i];
		__s32 sid = gr->stack_id;
		int f;

		o->bytes = gr->bytes;
		o->allocs = gr->allocs;
		o->frames[0] = '\0';
		/* As print_group: frame 0 of the stack is the allocator, the caller apart. */
		append_frame(x, gr->caller, o->frames, sizeof(o->frames));
		if (sid >= 0 && !bpf_map_lookup_elem(sfd, &sid, x->ips))
			for (f = 1; f < MEM_STACK_DEPTH && x->ips[f]; f++)
				append_frame(x, x->ips[f], o->frames, sizeof(o->frames));
	}
	return 0;
}

/* ---- mallocstat -------------------------------------------------------- */

struct proc_row {
	__u32 pid;
	__u32 _pad;
	struct mem_proc_stat n;		/* cumulative */
	struct mem_proc_stat d;		/* this interval */
};

static int prow_by_pid(const void *a, const void *b)
{
	const struct proc_row *x = a, *y = b;

	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static int prow_by_bytes(const void *a, const void *b)
{
	const struct proc_row *x = a, *y = b;

	if (x->d.bytes != y->d.bytes)
		return x->d.bytes > y->d.bytes ? -1 : 1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static __u64 allocs_of(const struct mem_proc_stat *s)
{
	__u64 t = 0;
	int i;

	for (i = 0; i < MEM_FN_MAX; i++)
		if (i != MEM_FN_FREE)
			t += s->calls[i];
	return t;
}

static void stat_add(struct mem_proc_stat *o, const struct mem_proc_stat *a, int sign)
{
	int i;

	for (i = 0; i < MEM_FN_MAX; i++)
		o->calls[i] += sign * a->calls[i];
	o->bytes += sign * a->bytes;
	for (i = 0; i < PS_LOG2_SLOTS; i++)
		o->hist[i] += sign * a->hist[i];
}

static int read_proc_stats(struct memleak_bpf *skel, struct proc_row **rows, size_t *nrows)
{
	int ncpu = ps_ncpus(), fd = bpf_map__fd(skel->maps.procs), i;
	struct mem_proc_stat *v;
	__u32 key, next, *pk = NULL;
	size_t n = 0, cap = 64;
	struct proc_row *r;

	r = calloc(cap, sizeof(*r));
	v = calloc(ncpu, sizeof(*v));
	if (!r || !v)
		goto nomem;
	while (!bpf_map_get_next_key(fd, pk, &next)) {
		key = next;
		pk = &key;
		if (bpf_map_lookup_elem(fd, &key, v))
			continue;
		if (n == cap) {
			struct proc_row *nr = realloc(r, 2 * cap * sizeof(*r));

			if (!nr)
				goto nomem;
			r = nr;
			cap *= 2;
		}
		memset(&r[n], 0, sizeof(r[n]));
		r[n].pid = key;
		for (i = 0; i < ncpu; i++) {
			if (v[i].comm_ns >= r[n].n.comm_ns) {
				memcpy(r[n].n.comm, v[i].comm, MEM_COMM_LEN);
				r[n].n.comm_ns = v[i].comm_ns;
			}
			stat_add(&r[n].n, &v[i], 1);
		}
		r[n].n.comm[MEM_COMM_LEN - 1] = '\0';
		n++;
	}
	free(v);
	qsort(r, n, sizeof(*r), prow_by_pid);
	*rows = r;
	*nrows = n;
	return 0;
nomem:
	free(r);
	free(v);
	return -ENOMEM;
}

static void print_proc(const struct proc_row *p)
{
	const struct mem_proc_stat *d = &p->d;
	char key[64];
	int i;

	out_obj_open(NULL);
	out_u64("pid", "%-8llu", p->pid);
	out_str("comm", " %-16s", p->n.comm);
	out_u64("mallocs", " %12llu", allocs_of(d));
	out_u64("frees", " %12llu", d->calls[MEM_FN_FREE]);
	out_u64("bytes", " %14llu\n", d->bytes);
	out_obj_open("calls");
	for (i = 0; i < MEM_FN_MAX; i++)
		out_u64(fn_names[i], NULL, d->calls[i]);
	out_obj_close();
	snprintf(key, sizeof(key), "size[%u %s]", p->pid, p->n.comm);
	if (out_json())
		ps_print_log2_hist("size_hist", d->hist, PS_LOG2_SLOTS, "bytes");
	else
		ps_print_log2_hist(key, d->hist, PS_LOG2_SLOTS, "bytes");
	out_obj_close();
}

#define MALLOCSTAT_HELP							\
	"  -p, --pid PID           one process (stops when it exits)\n"	\
	"  -a, --all               every process using the libc pktscope itself uses (or --libc)\n" \
	"  -i, --interval SECONDS  seconds between reports (default 10)\n"	\
	"  -c, --count N           stop after N reports (default: until Ctrl-C)\n" \
	"  -n, --top N             at most N processes per report, most bytes first (default 20)\n" \
	"      --libc PATH         the file defining malloc/free\n"

int cmd_mallocstat(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pid",	required_argument, NULL, 'p' },
		{ "all",	no_argument,	   NULL, 'a' },
		{ "interval",	required_argument, NULL, 'i' },
		{ "count",	required_argument, NULL, 'c' },
		{ "top",	required_argument, NULL, 'n' },
		{ "libc",	required_argument, NULL, OPT_LIBC },
		PS_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct proc_row *prev = NULL, *cur = NULL;
	size_t nprev = 0, ncur = 0, i, shown;
	const char *libc_path = NULL;
	struct probes probes = {};
	struct memleak_bpf *skel;
	double interval = 10, t0, t1;
	uint64_t count = 0, top = 20, n;
	enum mem_wake w = MEM_WAKE_TIMEOUT;
	int c, r, pid = 0, pidfd = -1, rc = EXIT_RUNTIME;
	bool all = false;
	struct libc lc;
	char tbuf[16];

	while ((c = ps_getopt(argc, argv, "p:ai:c:n:" PS_COMMON_SHORTOPTS, opts)) != -1) {
		switch (c) {
		case 'p':
			if (parse_pid(optarg, &pid))
				return EXIT_USAGE;
			break;
		case 'a':
			all = true;
			break;
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
		case OPT_LIBC:
			libc_path = optarg;
			break;
		default:
			r = ps_common_opt(c, optarg);
			if (r > 0) {
				ps_cmd_help("mallocstat", MALLOCSTAT_HELP);
				return EXIT_OK;
			}
			if (r < 0)
				return EXIT_USAGE;
		}
	}
	if (!pid == !all) {
		ps_err("mallocstat needs one of -p PID or -a (every process)");
		return EXIT_USAGE;
	}
	if (optind != argc) {
		ps_err("mallocstat takes no positional arguments, got '%s': use -i SECONDS",
		       argv[optind]);
		return EXIT_USAGE;
	}
	if (libc_setup(&lc, libc_path, pid))
		return EXIT_USAGE;
	if (ps_need_root("mallocstat"))
		return EXIT_RUNTIME;
	if (pid) {
		pidfd = mem_pidfd(pid);
		if (pidfd < 0) {
			ps_err("no process with PID %d: see 'ps'", pid);
			return EXIT_USAGE;
		}
	}
	skel = mem_load(MEM_MODE_MALLOCSTAT, pid, 0, ~0ull);
	if (!skel)
		goto out_fd;
	if (attach_uprobes(skel, &lc, pid, false, &probes))
		goto out;
	ps_info("mallocstat: tracing %d probes in %s for %s%.0d%s; a report every %gs",
		probes.n, lc.path, pid ? "PID " : "every process", pid, free_note(&lc), interval);

	ps_install_signals();
	rc = EXIT_OK;
	t0 = ps_now();
	for (n = 0; (!count || n < count) && w == MEM_WAKE_TIMEOUT; n++) {
		w = mem_wait(pidfd, interval);
		if (read_proc_stats(skel, &cur, &ncur)) {
			ps_err("read the mallocstat map: %s", strerror(ENOMEM));
			rc = EXIT_RUNTIME;
			break;
		}
		t1 = ps_now();
		for (i = 0; i < ncur; i++) {
			struct proc_row *p = nprev ? bsearch(&cur[i], prev, nprev, sizeof(*prev),
							     prow_by_pid) : NULL;

			cur[i].d = cur[i].n;
			if (p)
				stat_add(&cur[i].d, &p->n, -1);
		}
		free(prev);
		prev = malloc(ncur * sizeof(*cur) + 1);
		if (!prev) {
			ps_err("read the mallocstat map: %s", strerror(ENOMEM));
			rc = EXIT_RUNTIME;
			break;
		}
		memcpy(prev, cur, ncur * sizeof(*cur));
		nprev = ncur;
		qsort(cur, ncur, sizeof(*cur), prow_by_bytes);

		/* The last interval is printed too when cut short: nothing is lost. */
		out_obj_open(NULL);
		out_str("time", "[%s]", mem_timestr(tbuf, sizeof(tbuf)));
		out_f64("interval_s", " interval %.2fs\n", t1 - t0);
		out_text("%-8s %-16s %12s %12s %14s\n", "PID", "COMM", "MALLOCS", "FREES", "BYTES");
		out_arr_open("procs");
		for (i = 0, shown = 0; i < ncur && shown < top; i++) {
			if (!allocs_of(&cur[i].d) && !cur[i].d.calls[MEM_FN_FREE])
				continue;
			shown++;
			print_proc(&cur[i]);
		}
		out_arr_close();
		out_obj_close();
		out_doc_end();
		free(cur);
		cur = NULL;
		t0 = t1;
	}
	if (w == MEM_WAKE_EXITED)
		ps_info("process %d exited", pid);
out:
	probes_destroy(&probes);
	memleak_bpf__destroy(skel);
	free(prev);
	free(cur);
out_fd:
	if (pidfd >= 0)
		close(pidfd);
	return rc;
}

/* ---- mallocstat as a collector for `pktscope report` ------------------- */

struct mstat_session {
	struct memleak_bpf *skel;
	struct probes probes;
	struct libc lc;
	int pid;
};

void mallocstat_collect_end(struct mstat_session *s)
{
	if (!s)
		return;
	probes_destroy(&s->probes);
	memleak_bpf__destroy(s->skel);
	free(s);
}

struct mstat_session *mallocstat_collect_start(int pid)
{
	struct mstat_session *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->pid = pid;
	if (libc_setup(&s->lc, NULL, pid))
		goto fail;
	s->skel = mem_load(MEM_MODE_MALLOCSTAT, pid, 0, ~0ull);
	if (!s->skel || attach_uprobes(s->skel, &s->lc, pid, false, &s->probes))
		goto fail;
	return s;
fail:
	mallocstat_collect_end(s);
	return NULL;
}

int mallocstat_collect_read(struct mstat_session *s, struct rep_mstat *out)
{
	struct proc_row *rows = NULL;
	size_t n = 0, i;
	int k;

	memset(out, 0, sizeof(*out));
	if (read_proc_stats(s->skel, &rows, &n))
		return -1;
	for (i = 0; i < n; i++) {
		if (rows[i].pid != (__u32)s->pid)
			continue;
		out->mallocs = allocs_of(&rows[i].n);
		out->frees = rows[i].n.calls[MEM_FN_FREE];
		out->bytes = rows[i].n.bytes;
		for (k = 0; k < PS_LOG2_SLOTS; k++)
			out->hist[k] = rows[i].n.hist[k];
	}
	free(rows);
	return 0;
}
