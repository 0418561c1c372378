// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Address to symbol, for kernel and user stacks (see syms.h).
 *
 * User addresses: the mapping in /proc/PID/maps gives the file offset
 * (addr - start + pgoff); the PT_LOAD program header holding that offset
 * turns it into the ELF virtual address (off - p_offset + p_vaddr) that
 * .symtab and .dynsym use.  This one rule covers non-PIE executables, PIE
 * executables and shared libraries alike, whatever the kernel chose as the
 * load address.  A symbol matches only inside [st_value, st_value + st_size):
 * an address in a stripped part of a binary stays unknown instead of being
 * given the name of whichever function precedes it.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "syms.h"

#define UNKNOWN "[unknown]"

struct sym {
	uint64_t start;
	uint64_t size;		/* kernel: distance to the next symbol */
	const char *name;
	const char *module;	/* kernel only: "kernel" or the module */
};

struct load {
	uint64_t offset, vaddr, filesz;
};

/* One ELF object, shared by every process that maps it. */
struct obj {
	uint64_t dev, ino;
	char *path;
	struct sym *syms;
	size_t nsyms;
	struct load *loads;
	size_t nloads;
	char *strs;		/* names, one arena */
	bool bad;		/* not an ELF file or unreadable */
	struct obj *next;
};

struct map {
	uint64_t start, end, pgoff;
	uint64_t dev, ino;
	char *path;		/* NULL: anonymous */
	struct obj *obj;	/* opened on first use */
};

struct proc {
	int pid;
	struct map *maps;
	size_t nmaps;
	time_t read_at;
	char **retired;		/* paths of replaced maps: handed out as modules */
	size_t nretired;
	struct proc *next;
};

struct syms_cache {
	struct sym *ksyms;
	size_t nksyms;
	char *kstrs;
	int kstate;		/* 0 not read, 1 read, -1 failed */
	struct proc *procs;
	struct obj *objs;
};

struct syms_cache *syms_cache_new(void)
{
	if (elf_version(EV_CURRENT) == EV_NONE)
		return NULL;
	return calloc(1, sizeof(struct syms_cache));
}

static void proc_free(struct proc *p)
{
	size_t i;

	for (i = 0; i < p->nmaps; i++)
		free(p->maps[i].path);
	free(p->maps);
	for (i = 0; i < p->nretired; i++)
		free(p->retired[i]);
	free(p->retired);
	free(p);
}

static void obj_free(struct obj *o)
{
	free(o->path);
	free(o->syms);
	free(o->loads);
	free(o->strs);
	free(o);
}

void syms_cache_free(struct syms_cache *c)
{
	struct proc *p, *pn;
	struct obj *o, *on;

	if (!c)
		return;
	for (p = c->procs; p; p = pn) {
		pn = p->next;
		proc_free(p);
	}
	for (o = c->objs; o; o = on) {
		on = o->next;
		obj_free(o);
	}
	free(c->ksyms);
	free(c->kstrs);
	free(c);
}

void syms_cache_forget(struct syms_cache *c, int pid)
{
	struct proc **pp, *p;

	for (pp = &c->procs; (p = *pp); pp = &p->next) {
		if (p->pid == pid) {
			*pp = p->next;
			proc_free(p);
			return;
		}
	}
}

static int sym_cmp(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	/* Among aliases prefer the sized one, then the shorter name. */
	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	return strlen(x->name) < strlen(y->name) ? -1 : 0;
}

/* Growable string arena: names are stored as offsets until it stops moving. */
struct arena {
	char *buf;
	size_t len, cap;
};

static long arena_add(struct arena *a, const char *s)
{
	size_t n = strlen(s) + 1;
	long off;

	if (a->len + n > a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 65536;
		char *nb;

		while (cap < a->len + n)
			cap *= 2;
		nb = realloc(a->buf, cap);
		if (!nb)
			return -1;
		a->buf = nb;
		a->cap = cap;
	}
	memcpy(a->buf + a->len, s, n);
	off = a->len;
	a->len += n;
	return off;
}

static int push_sym(struct sym **v, size_t *n, size_t *cap, const struct sym *s)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 1024;
		struct sym *nv = realloc(*v, nc * sizeof(**v));

		if (!nv)
			return -1;
		*v = nv;
		*cap = nc;
	}
	(*v)[(*n)++] = *s;
	return 0;
}

/* ---- kernel ------------------------------------------------------------- */

static int load_kallsyms(struct syms_cache *c)
{
	struct arena a = { 0 };
	struct sym *v = NULL, s;
	size_t n = 0, cap = 0, i;
	char line[512], name[256], mod[128], type;
	unsigned long long addr;
	long koff;
	FILE *f;

	f = fopen("/proc/kallsyms", "r");
	if (!f)
		return -1;
	koff = arena_add(&a, "kernel");
	while (fgets(line, sizeof(line), f)) {
		int k;

		mod[0] = '\0';
		k = sscanf(line, "%llx %c %255s [%127[^]]]", &addr, &type, name, mod);
		if (k < 3 || !addr)
			continue;
		/* Text symbols only: stacks hold code addresses. */
		if (type != 't' && type != 'T' && type != 'w' && type != 'W')
			continue;
		s.start = addr;
		s.size = 0;
		s.name = (const char *)(uintptr_t)arena_add(&a, name);
		s.module = (const char *)(uintptr_t)(mod[0] ? arena_add(&a, mod) : koff);
		if ((long)(uintptr_t)s.name < 0 || (long)(uintptr_t)s.module < 0 ||
		    push_sym(&v, &n, &cap, &s))
			goto oom;
	}
	fclose(f);
	if (!n) {
		/* kptr_restrict hid the addresses: everything stays unknown. */
		free(v);
		free(a.buf);
		return -1;
	}
	for (i = 0; i < n; i++) {
		v[i].name = a.buf + (uintptr_t)v[i].name;
		v[i].module = a.buf + (uintptr_t)v[i].module;
	}
	qsort(v, n, sizeof(*v), sym_cmp);
	/* kallsyms has no sizes: a function ends where the next one starts. */
	for (i = 0; i + 1 < n; i++) {
		size_t j = i + 1;

		while (j < n && v[j].start == v[i].start)
			j++;
		v[i].size = j < n ? v[j].start - v[i].start : 0;
	}
	c->ksyms = v;
	c->nksyms = n;
	c->kstrs = a.buf;
	return 0;
oom:
	fclose(f);
	free(v);
	free(a.buf);
	return -1;
}

/* The last symbol at or below addr whose extent covers it, or NULL. */
static const struct sym *find_sym(const struct sym *v, size_t n, uint64_t addr)
{
	size_t lo = 0, hi = n, k;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	/*
	 * lo - 1 is the last symbol starting at or below addr; a few earlier
	 * ones may still cover it (nested or overlapping symbols).
	 */
	for (k = 0; k < 16 && lo > k; k++) {
		const struct sym *s = &v[lo - 1 - k];

		if (addr - s->start < s->size)
			return s;
	}
	return NULL;
}

/* ---- ELF objects ----------------------------------------------------------- */

/* Load segments and function symbols of e (a file or an image in memory; tests/fuzz). */
static int read_elf_syms(struct obj *o, Elf *e)
{
	struct arena a = { 0 };
	struct sym *v = NULL;
	size_t n = 0, cap = 0, i, nph;
	Elf_Scn *scn = NULL;

	if (elf_kind(e) != ELF_K_ELF || elf_getphdrnum(e, &nph))
		goto fail;
	o->loads = calloc(nph ? nph : 1, sizeof(*o->loads));
	if (!o->loads)
		goto fail;
	for (i = 0; i < nph; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(e, i, &ph) || ph.p_type != PT_LOAD)
			continue;
		o->loads[o->nloads++] = (struct load){ ph.p_offset, ph.p_vaddr, ph.p_filesz };
	}
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		size_t k, cnt;

		if (!gelf_getshdr(scn, &sh) ||
		    (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM) || !sh.sh_entsize)
			continue;
		d = elf_getdata(scn, NULL);
		if (!d)
			continue;
		cnt = sh.sh_size / sh.sh_entsize;
		for (k = 0; k < cnt; k++) {
			GElf_Sym es;
			const char *nm;
			struct sym s;
			long off;
			int t;

			if (!gelf_getsym(d, k, &es))
				continue;
			t = GELF_ST_TYPE(es.st_info);
			if ((t != STT_FUNC && t != STT_GNU_IFUNC) || es.st_shndx == SHN_UNDEF ||
			    !es.st_value || !es.st_size)
				continue;
			nm = elf_strptr(e, sh.sh_link, es.st_name);
			if (!nm || !*nm)
				continue;
			off = arena_add(&a, nm);
			if (off < 0)
				goto fail;
			s.start = es.st_value;
			s.size = es.st_size;
			s.name = (const char *)(uintptr_t)off;
			s.module = NULL;
			if (push_sym(&v, &n, &cap, &s))
				goto fail;
		}
	}
	for (i = 0; i < n; i++)
		v[i].name = a.buf + (uintptr_t)v[i].name;
	/* No function symbols (a stripped object) leaves v NULL: qsort must not see it. */
	if (n)
		qsort(v, n, sizeof(*v), sym_cmp);
	o->syms = v;
	o->nsyms = n;
	o->strs = a.buf;
	return 0;
fail:
	free(v);
	free(a.buf);
	return -1;
}

static int read_elf(struct obj *o, int fd)
{
	Elf *e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	int err;

	if (!e)
		return -1;
	err = read_elf_syms(o, e);
	elf_end(e);
	return err;
}

static struct obj *get_obj(struct syms_cache *c, int pid, const struct map *m)
{
	char path[PATH_MAX + 64];
	struct obj *o;
	int fd;

	for (o = c->objs; o; o = o->next)
		if (o->dev == m->dev && o->ino == m->ino && !strcmp(o->path, m->path))
			return o;
	o = calloc(1, sizeof(*o));
	if (!o)
		return NULL;
	o->dev = m->dev;
	o->ino = m->ino;
	o->path = strdup(m->path);
	if (!o->path) {
		free(o);
		return NULL;
	}
	/*
	 * map_files reaches the very file mapped (deleted, replaced, or in
	 * another mount namespace); the root link and the plain path are the
	 * fallbacks when map_files is not readable.
	 */
	snprintf(path, sizeof(path), "/proc/%d/map_files/%llx-%llx", pid,
		 (unsigned long long)m->start, (unsigned long long)m->end);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(path, sizeof(path), "/proc/%d/root%s", pid, m->path);
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0)
		fd = open(m->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read_elf(o, fd))
		o->bad = true;
	if (fd >= 0)
		close(fd);
	o->next = c->objs;
	c->objs = o;
	return o;
}

/* ---- processes -------------------------------------------------------------- */

/* The executable mappings of a /proc/PID/maps text (a file, or memory in tests/fuzz). */
static void parse_maps(struct proc *p, FILE *f)
{
	char line[PATH_MAX + 128];
	size_t cap = 0;

	while (fgets(line, sizeof(line), f)) {
		unsigned long long start, end, pgoff, ino;
		unsigned int maj, min;
		char perms[8];
		struct map *m;
		int pos = 0;
		char *name;

		if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %n", &start, &end, perms,
			   &pgoff, &maj, &min, &ino, &pos) < 7)
			continue;
		/* strlen first: a short perms field leaves perms[2] unset. */
		if (strlen(perms) < 3 || perms[2] != 'x')
			continue;
		name = line + pos;
		name[strcspn(name, "\n")] = '\0';
		if (p->nmaps == cap) {
			size_t nc = cap ? cap * 2 : 64;
			struct map *nm = realloc(p->maps, nc * sizeof(*nm));

			if (!nm)
				break;
			p->maps = nm;
			cap = nc;
		}
		m = &p->maps[p->nmaps++];
		memset(m, 0, sizeof(*m));
		m->start = start;
		m->end = end;
		m->pgoff = pgoff;
		m->dev = ((uint64_t)maj << 32) | min;
		m->ino = ino;
		/* "[vdso]", "[stack]" and anonymous code have no file to read. */
		m->path = *name ? strdup(name) : NULL;
	}
}

static int read_maps(struct proc *p)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", p->pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	parse_maps(p, f);
	fclose(f);
	p->read_at = time(NULL);
	return 0;
}

static struct proc *get_proc(struct syms_cache *c, int pid)
{
	struct proc *p;

	for (p = c->procs; p; p = p->next)
		if (p->pid == pid)
			return p;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->pid = pid;
	read_maps(p);	/* a process that is gone keeps an empty map list */
	p->next = c->procs;
	c->procs = p;
	return p;
}

static const struct map *find_map(const struct proc *p, uint64_t addr)
{
	size_t i;

	for (i = 0; i < p->nmaps; i++)
		if (addr >= p->maps[i].start && addr < p->maps[i].end)
			return &p->maps[i];
	return NULL;
}

static int resolve_user(struct syms_cache *c, int pid, uint64_t addr,
			const char **name, uint64_t *offset, const char **module)
{
	const struct map *m;
	const struct sym *s;
	struct proc *p;
	uint64_t off, vaddr = 0;
	bool in_load = false;
	size_t i;

	p = get_proc(c, pid);
	if (!p)
		return -1;
	m = find_map(p, addr);
	if (!m && time(NULL) != p->read_at) {
		/*
		 * Maybe mapped since we looked (dlopen): look again, at most
		 * once a second, keeping the old maps if the process is gone.
		 */
		struct proc np = { .pid = pid };

		char **nr = NULL;

		if (!read_maps(&np) && np.nmaps &&
		    (nr = realloc(p->retired, (p->nretired + p->nmaps + 1) * sizeof(*nr)))) {
			/*
			 * Callers keep the module strings resolved so far (until
			 * syms_cache_free): retire the old paths, do not free them.
			 */
			p->retired = nr;
			for (i = 0; i < p->nmaps; i++)
				p->retired[p->nretired++] = p->maps[i].path;
			free(p->maps);
			p->maps = np.maps;
			p->nmaps = np.nmaps;
			m = find_map(p, addr);
		} else {
			for (i = 0; i < np.nmaps; i++)
				free(np.maps[i].path);
			free(np.maps);
		}
		p->read_at = time(NULL);
	}
	if (!m)
		return -1;
	*module = m->path;
	if (!m->path || m->path[0] != '/')
		return -1;
	if (!m->obj)
		((struct map *)m)->obj = get_obj(c, pid, m);
	if (!m->obj || m->obj->bad)
		return -1;
	off = addr - m->start + m->pgoff;
	for (i = 0; i < m->obj->nloads; i++) {
		const struct load *l = &m->obj->loads[i];

		if (off >= l->offset && off < l->offset + l->filesz) {
			vaddr = off - l->offset + l->vaddr;
			in_load = true;
			break;
		}
	}
	if (!in_load)
		return -1;
	s = find_sym(m->obj->syms, m->obj->nsyms, vaddr);
	if (!s)
		return -1;
	*name = s->name;
	*offset = vaddr - s->start;
	return 0;
}

void syms_cache_prefetch(struct syms_cache *c, int pid)
{
	struct proc *p;
	size_t i;

	if (!c || pid <= 0)
		return;
	for (p = c->procs; p; p = p->next)
		if (p->pid == pid)
			return;
	p = get_proc(c, pid);
	for (i = 0; p && i < p->nmaps; i++) {
		struct map *m = &p->maps[i];

		if (m->path && m->path[0] == '/' && !m->obj)
			m->obj = get_obj(c, pid, m);
	}
}

int syms_resolve(struct syms_cache *c, int pid, uint64_t addr,
		 const char **name, uint64_t *offset, const char **module)
{
	const char *n = UNKNOWN, *mod = NULL;
	uint64_t o = addr;
	int ret = -1;

	if (!c)
		goto out;
	if (pid == 0) {
		const struct sym *s;

		if (!c->kstate)
			c->kstate = load_kallsyms(c) ? -1 : 1;
		if (c->kstate > 0 && (s = find_sym(c->ksyms, c->nksyms, addr))) {
			n = s->name;
			o = addr - s->start;
			mod = s->module;
			ret = 0;
		} else {
			mod = "kernel";
		}
	} else {
		ret = resolve_user(c, pid, addr, &n, &o, &mod);
		if (ret) {
			n = UNKNOWN;
			o = addr;
		}
	}
out:
	if (name)
		*name = n;
	if (offset)
		*offset = o;
	if (module)
		*module = mod;
	return ret;
}
