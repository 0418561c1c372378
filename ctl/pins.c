// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Pinned accounting: /sys/fs/bpf/pktscope/<netns inode>-<ifindex>/{stats,meta}.
 * The netns inode makes the directory unique across network namespaces
 * (ifindex alone repeats in every namespace).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ctl.h"

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
 * Open a pin directory and check the layout recorded in its meta map and the
 * kernel's idea of the stats map value size against this build.  A layout we
 * do not know is refused with a message, never read.
 */
int ps_pins_open(const char *dir, struct ps_pins *p)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), key = 0;
	char path[PATH_MAX + 16];

	memset(p, 0, sizeof(*p));
	p->stats_fd = p->meta_fd = -1;
	snprintf(p->dir, sizeof(p->dir), "%s", dir);

	snprintf(path, sizeof(path), "%s/meta", dir);
	p->meta_fd = bpf_obj_get(path);
	if (p->meta_fd < 0) {
		ps_err("open pinned map %s: %s", path, strerror(errno));
		goto err;
	}
	if (bpf_obj_get_info_by_fd(p->meta_fd, &info, &len) ||
	    info.value_size != sizeof(struct ps_meta)) {
		ps_err("pinned map %s has value size %u, this build expects %zu: it was made "
		       "by another pktscope version; detach it with that version, or remove %s",
		       path, info.value_size, sizeof(struct ps_meta), dir);
		goto err;
	}
	if (bpf_map_lookup_elem(p->meta_fd, &key, &p->meta)) {
		ps_err("read %s: %s", path, strerror(errno));
		goto err;
	}
	if (p->meta.magic != PS_MAGIC || p->meta.layout_version != PS_LAYOUT_VERSION ||
	    p->meta.counters_size != sizeof(struct ps_counters)) {
		ps_err("pinned maps in %s have layout version %u (counters %u bytes), this build "
		       "reads version %u (%zu bytes): detach with the pktscope that attached them, "
		       "or remove %s", dir, p->meta.layout_version, p->meta.counters_size,
		       PS_LAYOUT_VERSION, sizeof(struct ps_counters), dir);
		goto err;
	}

	snprintf(path, sizeof(path), "%s/stats", dir);
	p->stats_fd = bpf_obj_get(path);
	if (p->stats_fd < 0) {
		ps_err("open pinned map %s: %s", path, strerror(errno));
		goto err;
	}
	memset(&info, 0, sizeof(info));
	len = sizeof(info);
	if (bpf_obj_get_info_by_fd(p->stats_fd, &info, &len) ||
	    info.value_size != sizeof(struct ps_counters) || info.max_entries != PS_DIR_MAX) {
		ps_err("pinned map %s has value size %u and %u entries, this build expects %zu "
		       "and %d: remove %s", path, info.value_size, info.max_entries,
		       sizeof(struct ps_counters), PS_DIR_MAX, dir);
		goto err;
	}
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
 * 8 bytes (ps_counters already is a multiple of 8).
 */
int ps_read_counters(int stats_fd, struct ps_counters out[PS_DIR_MAX])
{
	int ncpu = ps_ncpus(), i, cpu, err = 0;
	__u32 keys[PS_DIR_MAX], count = PS_DIR_MAX, batch;
	const size_t nfields = sizeof(struct ps_counters) / sizeof(__u64);
	struct ps_counters *vals;
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
		__u64 *dst;

		if (keys[i] >= PS_DIR_MAX)
			continue;
		dst = (__u64 *)&out[keys[i]];
		for (cpu = 0; cpu < ncpu; cpu++) {
			const __u64 *src = (const __u64 *)(vals + (size_t)i * ncpu + cpu);
			size_t f;

			for (f = 0; f < nfields; f++)
				dst[f] += src[f];
		}
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
		ps_err("pin %s: %s", path, strerror(errno));
		return -1;
	}
	chmod(path, 0600);
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
