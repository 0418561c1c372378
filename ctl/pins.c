// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Pinned accounting: /sys/fs/bpf/pktscope/<netns inode>-<ifindex>/{stats,meta}.
 * The netns inode makes the directory unique across network namespaces
 * (ifindex alone repeats in every namespace).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ctl.h"
#include "output.h"

int ps_pin_dir(uint64_t netns_ino, int ifindex, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%llu-%d", PS_PIN_ROOT,
			 (unsigned long long)netns_ino, ifindex);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

void ps_pins_close(struct ps_pins *p)
{
	if (p->stats_fd >= 0)
		close(p->stats_fd);
	if (p->meta_fd >= 0)
		close(p->meta_fd);
	p->stats_fd = p->meta_fd = -1;
}

/*
 * "key/value size 4/24 and 3 entries" (words) or "4/24 and 3": the sizes m
 * checks, with the numbers given.
 */
static void map_sizes(char *buf, size_t len, const struct ps_pin_map *m, __u32 key,
		      __u32 value, __u32 entries, bool words)
{
	int n = 0;

	buf[0] = '\0';
	if (m->key_size)
		n = snprintf(buf, len, "%s%u/%u", words ? "key/value size " : "", key, value);
	else if (m->value_size)
		n = snprintf(buf, len, "%s%u", words ? "value size " : "", value);
	if (m->max_entries && n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - n, "%s%u%s", n ? " and " : "", entries,
			 words ? " entries" : "");
}

/*
 * Every pinned map pktscope reads is opened here: a map pinned by another
 * build (other sizes) is refused before anything reads it, in one line that
 * says what was found, what this build expects and what to do.
 */
int ps_pin_map_open(const char *dir, const struct ps_pin_map *m, int quiet, __u32 *max_entries)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char path[PATH_MAX + 64], has[80], want[64];
	int fd, err;

	snprintf(path, sizeof(path), "%s/%s", dir, m->name);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		err = -errno;
		if (!(quiet & PS_PIN_QUIET_OPEN))
			ps_err("open pinned map %s: %s", path, strerror(-err));
		return err;
	}
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		if (!(quiet & PS_PIN_QUIET_SIZE))
			ps_err("read the sizes of pinned map %s: %s", path, strerror(errno));
		goto refuse;
	}
	if ((m->key_size && info.key_size != m->key_size) ||
	    (m->value_size && info.value_size != m->value_size) ||
	    (m->max_entries && info.max_entries != m->max_entries)) {
		if (quiet & PS_PIN_QUIET_SIZE)
			goto refuse;
		map_sizes(has, sizeof(has), m, info.key_size, info.value_size,
			  info.max_entries, true);
		map_sizes(want, sizeof(want), m, m->key_size, m->value_size, m->max_entries,
			  false);
		if (m->fix)
			ps_err("pinned map %s has %s, this build expects %s: %s", path, has, want,
			       m->fix);
		else
			ps_err("pinned map %s has %s, this build expects %s: it was made by another "
			       "pktscope version; detach with that version, or remove %s", path,
			       has, want, dir);
		goto refuse;
	}
	if (max_entries)
		*max_entries = info.max_entries;
	return fd;
refuse:
	close(fd);
	return -EPROTO;
}

/* The stats map of dir (fd), as ps_pin_map_open() returns it. */
static int stats_open(const char *dir, int quiet)
{
	char fix[PATH_MAX + 16];
	const struct ps_pin_map m = { "stats", 0, sizeof(struct ps_pcpu_counters), PS_DIR_MAX,
				      fix };

	snprintf(fix, sizeof(fix), "remove %s", dir);
	return ps_pin_map_open(dir, &m, quiet, NULL);
}

/* ps_meta_read(), keeping the meta map open: its fd, or -errno. */
static int meta_open(const char *dir, struct ps_meta *m, bool quiet)
{
	static const struct ps_pin_map meta = { "meta", 0, sizeof(struct ps_meta), 0, NULL };
	__u32 key = 0;
	int fd, err;

	fd = ps_pin_map_open(dir, &meta, quiet ? PS_PIN_QUIET : 0, NULL);
	if (fd < 0)
		return fd;
	if (bpf_map_lookup_elem(fd, &key, m)) {
		err = -errno;
		if (!quiet)
			ps_err("read %s/meta: %s", dir, strerror(-err));
		goto err;
	}
	if (m->magic != PS_MAGIC || m->layout_version != PS_LAYOUT_VERSION ||
	    m->counters_size != sizeof(struct ps_pcpu_counters)) {
		if (!quiet)
			ps_err("pinned maps in %s have layout version %u (counters %u bytes), this "
			       "build reads version %u (%zu bytes): detach with the pktscope that "
			       "attached them, or remove %s", dir, m->layout_version,
			       m->counters_size, PS_LAYOUT_VERSION, sizeof(struct ps_pcpu_counters),
			       dir);
		err = -EPROTO;
		goto err;
	}
	return fd;
err:
	close(fd);
	return err;
}

/*
 * Read and check the meta map of a pin directory: 0, -ENOENT when there is
 * no meta pin (an attach killed right after its mkdir), -EPROTO when it was
 * written by another layout (refused with a message unless quiet, never read
 * further), another -errno when the kernel refused.
 */
int ps_meta_read(const char *dir, struct ps_meta *m, bool quiet)
{
	int fd = meta_open(dir, m, quiet);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

/*
 * The stats map of dir, when pinned, must have this build's value size and
 * entries: 0 (also when not pinned yet: an attach killed before it), or
 * -EPROTO, said unless quiet.
 */
int ps_stats_check(const char *dir, bool quiet)
{
	int fd = stats_open(dir, PS_PIN_QUIET_OPEN | (quiet ? PS_PIN_QUIET_SIZE : 0));

	if (fd == -EPROTO)
		return fd;
	if (fd >= 0)
		close(fd);
	return 0;
}

/*
 * Open a pin directory and check the layout recorded in its meta map and the
 * kernel's idea of the stats map value size against this build.  A layout we
 * do not know is refused with a message, never read.
 */
int ps_pins_open(const char *dir, struct ps_pins *p)
{
	memset(p, 0, sizeof(*p));
	p->stats_fd = p->meta_fd = -1;
	snprintf(p->dir, sizeof(p->dir), "%s", dir);

	p->meta_fd = meta_open(dir, &p->meta, false);
	if (p->meta_fd < 0)
		goto err;
	if (p->meta.flags & PS_META_ATTACHING) {
		ps_err("%s holds an unfinished attachment of %s (an attach was interrupted): run "
		       "'pktscope detach %s' or 'pktscope attach %s'", dir, p->meta.ifname,
		       p->meta.ifname, p->meta.ifname);
		goto err;
	}
	p->stats_fd = stats_open(dir, 0);
	if (p->stats_fd < 0)
		goto err;
	return 0;
err:
	ps_pins_close(p);
	return -1;
}

/* Open the pins of an interface of the current network namespace. */
int ps_pins_open_iface(const char *ifname, struct ps_pins *p)
{
	uint64_t ino;
	char dir[PATH_MAX];
	int ifindex;

	if (parse_ifindex(ifname, &ifindex))
		return EXIT_USAGE;
	if (ps_need_root("reading pktscope's maps") || ps_mount_bpffs() || ps_netns_ino(&ino))
		return EXIT_RUNTIME;
	ps_pin_dir(ino, ifindex, dir, sizeof(dir));
	if (access(dir, F_OK)) {
		ps_err("%s has no pktscope attached (no %s): run 'pktscope attach %s'",
		       ifname, dir, ifname);
		return EXIT_RUNTIME;
	}
	return ps_pins_open(dir, p) ? EXIT_RUNTIME : 0;
}

/*
 * Read all PS_DIR_MAX slots in one batch call and sum the per-CPU values.
 * The kernel hands back nr_possible_cpus values per key, each rounded up to
 * 8 bytes (ps_pcpu_counters already is a multiple of 8).
 */
int ps_read_counters(int stats_fd, struct ps_counters out[PS_DIR_MAX])
{
	int ncpu = ps_ncpus(), i, cpu, err = 0;
	__u32 keys[PS_DIR_MAX], count = PS_DIR_MAX, batch;
	struct ps_pcpu_counters *vals;
	LIBBPF_OPTS(bpf_map_batch_opts, opts);

	vals = calloc((size_t)ncpu * PS_DIR_MAX, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	if (bpf_map_lookup_batch(stats_fd, NULL, &batch, keys, vals, &count, &opts) &&
	    errno != ENOENT) {
		/* Older kernels: fall back to one lookup per key. */
		for (i = 0; i < PS_DIR_MAX; i++) {
			keys[i] = i;
			if (bpf_map_lookup_elem(stats_fd, &keys[i], vals + (size_t)i * ncpu)) {
				err = -errno;
				goto out;
			}
		}
		count = PS_DIR_MAX;
	}
	memset(out, 0, sizeof(*out) * PS_DIR_MAX);
	for (i = 0; i < (int)count; i++) {
		if (keys[i] >= PS_DIR_MAX)
			continue;
		for (cpu = 0; cpu < ncpu; cpu++)
			ps_counters_add(&out[keys[i]], vals + (size_t)i * ncpu + cpu);
	}
out:
	free(vals);
	return err;
}

/* Pin fd as dir/name, readable and writable by the owner only. */
int ps_pin_fd(int fd, const char *dir, const char *name)
{
	char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (bpf_obj_pin(fd, path)) {
		ps_err("pin %s: %s%s", path, strerror(errno), errno == EROFS ?
		       " (bpffs is mounted read-only: mount -o remount,rw " PS_BPFFS ")" : "");
		return -1;
	}
	chmod(path, 0600);
	ps_failpoint("pin-%s", name);
	return 0;
}

/*
 * Remove a pin directory of pktscope's and everything in it: every entry is
 * ours (the directory is 0700 and created by us); unpinning the last
 * reference of a link detaches its program.
 */
void ps_unpin_all(const char *dir)
{
	char path[PATH_MAX + 300];
	struct dirent *de;
	DIR *d = opendir(dir);

	if (d) {
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(dir);
}

/* ---- probes pinned per network namespace ---------------------------------------- */
/*
 * attach --tcp and drops --persist attach pin tracepoint programs, their maps
 * and links under PS_PIN_ROOT/<name>-<netns inode>: they count on after the
 * process that attached them, for the network namespace they were attached
 * in.  What is the same for both is here; loading the programs is theirs.
 */
int ps_persist_dir(const struct ps_persist *k, char *buf, size_t len, uint64_t *ino)
{
	if (ps_netns_ino(ino))
		return -1;
	snprintf(buf, len, "%s/%s-%llu", PS_PIN_ROOT, k->name, (unsigned long long)*ino);
	return 0;
}

static void persist_exists(const struct ps_persist *k, const char *dir)
{
	ps_err("%s are already attached in this netns (%s): detach them first (%s)", k->probes,
	       dir, k->detach);
}

int ps_persist_begin(const struct ps_persist *k, char *dir, size_t len, uint64_t *ino)
{
	if (ps_persist_dir(k, dir, len, ino))
		return -1;
	if (!access(dir, F_OK)) {
		persist_exists(k, dir);
		return -1;
	}
	return ps_pin_root_ok(true);
}

int ps_persist_mkdir(const struct ps_persist *k, const char *dir)
{
	/* mkdir, not the access() of ps_persist_begin, decides a race of two attaches */
	if (mkdir(dir, 0700)) {
		if (errno == EEXIST)
			persist_exists(k, dir);
		else
			ps_err("create %s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

/* What an attach of persistent probes says when it is done. */
void ps_persist_attached(const struct ps_persist *k, const char *dir, uint64_t ino,
			 uint64_t bound)
{
	char ns[64];

	ps_netns_name(ino, ns, sizeof(ns));
	out_obj_open(NULL);
	out_text("attached %s in netns %s, %s %llu", k->probes, ns, k->bound_what,
		 (unsigned long long)bound);
	out_str("netns", NULL, ns);
	out_u64("netns_ino", NULL, ino);
	out_u64(k->bound_key, NULL, bound);
	out_str("pin_dir", ", pinned in %s\n", dir);
	out_obj_close();
	out_doc_end();
}

int ps_persist_detach(const struct ps_persist *k, const char *what)
{
	char dir[PATH_MAX];
	uint64_t ino;

	if (ps_need_root(what) || ps_mount_bpffs() || ps_persist_dir(k, dir, sizeof(dir), &ino))
		return EXIT_RUNTIME;
	if (access(dir, F_OK)) {
		ps_err("no %s attached in this netns (no %s): nothing to detach", k->probes, dir);
		return EXIT_RUNTIME;
	}
	ps_unpin_all(dir);
	if (!access(dir, F_OK)) {
		ps_err("remove %s: %s", dir, strerror(errno));
		return EXIT_RUNTIME;
	}
	out_obj_open(NULL);
	out_text("detached %s, ", k->probes);
	out_str("detached", "removed %s\n", dir);
	out_obj_close();
	out_doc_end();
	return EXIT_OK;
}

/* ---- the daemon's reference to bpffs ------------------------------------------- */
/*
 * Once attach has exited, the pins are the only handle on an attachment: if
 * bpffs is unmounted, or another instance mounted over it, every later
 * pktscope finds nothing, and the XDP and TC programs run on with nothing left
 * to detach them by.  The daemon keeps the pin root open, which keeps its
 * bpffs instance alive (a plain umount fails with EBUSY, a lazy one leaves the
 * instance reachable through this fd); when a scrape finds that /sys/fs/bpf
 * is another filesystem, it mounts bpffs again and pins every object anew
 * from its reference, so status, stats, detach and the next scrape work as
 * before.  It says so in one line.
 */
static int held_root = -1;
static dev_t held_dev;

void ps_bpffs_hold(void)
{
	struct stat st;
	int fd;

	fd = open(PS_PIN_ROOT, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;		/* nothing pinned yet: held at a later scrape */
	if (fstat(fd, &st)) {
		close(fd);
		return;
	}
	if (held_root >= 0)
		close(held_root);
	held_root = fd;
	held_dev = st.st_dev;
}

/* Pin every object of the held directory name again under PS_PIN_ROOT/name. */
static int repin_dir(const char *name, int *npins)
{
	char src[PATH_MAX + 300], dst[PATH_MAX + 300];
	struct dirent *de;
	int dfd, fd, err = 0;
	DIR *d;

	dfd = openat(held_root, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return 0;	/* not a directory: nothing of ours */
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return -errno;
	}
	snprintf(dst, sizeof(dst), "%s/%s", PS_PIN_ROOT, name);
	if (mkdir(dst, 0700) && errno != EEXIST) {
		err = -errno;
		goto out;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		/* The detached instance is reachable only through our fd. */
		snprintf(src, sizeof(src), "/proc/self/fd/%d/%s/%s", held_root, name, de->d_name);
		snprintf(dst, sizeof(dst), "%s/%s/%s", PS_PIN_ROOT, name, de->d_name);
		fd = bpf_obj_get(src);
		if (fd < 0)
			continue;
		if (bpf_obj_pin(fd, dst) && errno != EEXIST)
			err = -errno;
		else
			(*npins)++;
		chmod(dst, 0600);
		close(fd);
	}
out:
	closedir(d);
	return err;
}

void ps_bpffs_check(void)
{
	static bool told;
	struct dirent *de;
	struct stat st;
	int dfd, ndirs = 0, npins = 0, err = 0;
	DIR *d;

	if (held_root < 0) {
		ps_bpffs_hold();
		return;
	}
	if (!stat(PS_BPFFS, &st) && st.st_dev == held_dev) {
		/* Same instance; the root may have been removed and made anew. */
		if (stat(PS_PIN_ROOT, &st))
			return;
		ps_bpffs_hold();
		return;
	}
	if (ps_mount_bpffs() || (mkdir(PS_PIN_ROOT, 0700) && errno != EEXIST)) {
		if (!told)
			ps_err("bpffs at %s was unmounted under the daemon and cannot be mounted and "
			       "pinned again (%s): the daemon keeps the old instance alive; mount it "
			       "by hand (mount -t bpf bpf %s) and the next scrape re-pins",
			       PS_BPFFS, strerror(errno), PS_BPFFS);
		told = true;
		return;
	}
	dfd = dup(held_root);
	d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return;
	}
	rewinddir(d);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (repin_dir(de->d_name, &npins))
			err = -1;
		ndirs++;
	}
	closedir(d);
	ps_info("bpffs at %s was unmounted under the daemon: mounted it again and re-pinned "
		"%d objects of %d pin directories from the daemon's own reference%s", PS_BPFFS,
		npins, ndirs, err ? " (some could not be pinned: see 'pktscope status')" : "");
	told = false;
	ps_bpffs_hold();
}
