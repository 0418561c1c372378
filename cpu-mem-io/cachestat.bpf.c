// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * cachestat and cachetop: page cache lookups, additions and dirtied pages
 * from the filemap and writeback tracepoints (raw: their arguments are the
 * kernel objects, so folio sizes and file sizes can be read).
 *
 *   mm_filemap_get_pages(mapping, index, last)  read() found pages [index, last]
 *   mm_filemap_fault(mapping, index)             a page fault on a file page
 *   mm_filemap_add_to_page_cache(folio)          a folio entered the page cache
 *   writeback_dirty_folio(folio, mapping)        a clean folio became dirty
 *
 * User space derives MISSES = added - write-added and HITS = lookups - MISSES.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "mem.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 target_tgid;	/* 0: every process */
const volatile bool per_proc;		/* cachetop, cachestat -p */
const volatile __u32 page_shift = 12;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CACHE_ST_MAX);
	__type(key, __u32);
	__type(value, __u64);
} totals SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, MEM_MAX_PROCS);
	__type(key, __u32);
	__type(value, struct cache_proc_stat);
} procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MEM_MAX_PENDING);
	__type(key, __u32);
	__type(value, struct cache_task);
} tasks SEC(".maps");

static __always_inline void count(__u32 tgid, __u32 idx, __u64 n)
{
	struct cache_proc_stat *s, z = {};
	__u64 *v;

	if (!n || idx >= CACHE_ST_MAX)
		return;
	v = bpf_map_lookup_elem(&totals, &idx);
	if (v)
		*v += n;
	if (!per_proc)
		return;
	s = bpf_map_lookup_elem(&procs, &tgid);
	if (!s) {
		bpf_map_update_elem(&procs, &tgid, &z, BPF_NOEXIST);
		s = bpf_map_lookup_elem(&procs, &tgid);
		if (!s)
			return;
	}
	/* Every time: a process forked by a shell gets its name at exec. */
	bpf_get_current_comm(s->comm, sizeof(s->comm));
	s->comm_ns = bpf_ktime_get_ns();
	/* idx was spilled to the stack: bound it again, CACHE_ST_MAX is 4. */
	s->c[idx & 3] += n;
}

static __always_inline struct cache_task *task_get(__u32 tid)
{
	struct cache_task *t, z = {};

	t = bpf_map_lookup_elem(&tasks, &tid);
	if (t)
		return t;
	bpf_map_update_elem(&tasks, &tid, &z, BPF_NOEXIST);
	return bpf_map_lookup_elem(&tasks, &tid);
}

static __always_inline __u64 folio_pages(struct folio *f)
{
	unsigned long flags = 0;

	/* folio->flags is an unsigned long, or memdesc_flags_t wrapping one. */
	bpf_core_read(&flags, sizeof(flags), &f->flags);
	if (!(flags & (1ul << bpf_core_enum_value(enum pageflags, PG_head))))
		return 1;
	if (bpf_core_field_exists(f->_nr_pages))
		return BPF_CORE_READ(f, _nr_pages);
	return 1ull << (BPF_CORE_READ(f, _flags_1) & 0xff);
}

/*
 * filemap_read() asks for [index, last] where last is the end of the read
 * request, not of the file, and loops while a batch (at most 31 folios)
 * did not cover it: each turn fires the tracepoint again with a higher
 * index and the same last.  So a turn with the same file and last and a
 * higher index than this thread's previous one continues a read already
 * counted in full; and the range is cut at the end of the file.
 */
SEC("raw_tp/mm_filemap_get_pages")
int BPF_PROG(get_pages, struct address_space *mapping, unsigned long index, unsigned long last)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id;
	struct cache_task *t;
	__u64 end = last, n = 0;
	bool cont = false;
	loff_t isize;

	if (target_tgid && tgid != target_tgid)
		return 0;
	t = task_get(tid);
	if (t) {
		cont = t->mapping == (__u64)mapping && t->last == last && index > t->index;
		t->mapping = (__u64)mapping;
		t->index = index;
		t->last = last;
	}
	if (cont)
		return 0;
	isize = BPF_CORE_READ(mapping, host, i_size);
	if (isize <= 0)
		return 0;
	if (end > (__u64)(isize - 1) >> page_shift)
		end = (__u64)(isize - 1) >> page_shift;
	if (end >= index)
		n = end - index + 1;
	count(tgid, CACHE_ST_LOOKUP, n);
	return 0;
}

SEC("raw_tp/mm_filemap_fault")
int BPF_PROG(fault, struct address_space *mapping, unsigned long index)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (target_tgid && tgid != target_tgid)
		return 0;
	count(tgid, CACHE_ST_LOOKUP, 1);
	return 0;
}

SEC("raw_tp/mm_filemap_add_to_page_cache")
int BPF_PROG(add_to_page_cache, struct folio *folio)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id;
	__u64 n = folio_pages(folio);
	struct cache_task *t;

	if (target_tgid && tgid != target_tgid)
		return 0;
	count(tgid, CACHE_ST_ADDED, n);
	t = task_get(tid);
	if (t) {
		t->added_folio = (__u64)folio;
		t->added_pages = n;
	}
	return 0;
}

/*
 * A write into a page that was not cached creates the folio (an add) and
 * dirties it right after, in the same thread: that add is no read miss.
 */
SEC("raw_tp/writeback_dirty_folio")
int BPF_PROG(dirty_folio, struct folio *folio, struct address_space *mapping)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id;
	__u64 n = folio_pages(folio);
	struct cache_task *t;

	if (target_tgid && tgid != target_tgid)
		return 0;
	count(tgid, CACHE_ST_DIRTIED, n);
	t = bpf_map_lookup_elem(&tasks, &tid);
	if (t && t->added_folio == (__u64)folio) {
		count(tgid, CACHE_ST_WRITE_ADDED, t->added_pages);
		t->added_folio = 0;
	}
	return 0;
}
