/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The kernel/user contract of the memory module: memleak, mallocstat
 * (cpu-mem-io/memleak.*) and cachestat, cachetop (cpu-mem-io/cachestat.*).
 * Included by BPF (after vmlinux.h) and by user space (after <linux/types.h>).
 */
#ifndef PKTSCOPE_MEM_H
#define PKTSCOPE_MEM_H

#include "log2.h"

#define MEM_COMM_LEN		16

/* The allocator entry points memleak and mallocstat probe. */
enum mem_fn {
	MEM_FN_MALLOC = 0,
	MEM_FN_CALLOC,
	MEM_FN_REALLOC,
	MEM_FN_REALLOCARRAY,
	MEM_FN_POSIX_MEMALIGN,
	MEM_FN_ALIGNED_ALLOC,
	MEM_FN_MEMALIGN,
	MEM_FN_VALLOC,
	MEM_FN_PVALLOC,
	MEM_FN_FREE,
	MEM_FN_MAX
};

/* What the BPF side was loaded to do (rodata "mode"). */
enum mem_mode {
	MEM_MODE_MEMLEAK = 0,	/* outstanding allocations by address, with stacks */
	MEM_MODE_MALLOCSTAT,	/* per-process counts, bytes, size histogram */
	MEM_MODE_KERNEL,	/* memleak -k: kmem tracepoints */
};

/*
 * Bounds.  The allocation map is a plain hash, not LRU: an LRU would
 * silently evict the oldest outstanding allocations, which are exactly the
 * leaks memleak exists to find.  When it is full new allocations are not
 * tracked and MEM_ST_ALLOC_DROPPED counts them (memleak reports it).
 */
#define MEM_MAX_ALLOCS		262144
#define MEM_MAX_STACKS		16384
#define MEM_MAX_PENDING		16384	/* threads between entry and return */
#define MEM_MAX_PROCS		10240	/* mallocstat/cachetop processes */
#define MEM_STACK_DEPTH		127	/* PERF_MAX_STACK_DEPTH */

/* One outstanding allocation, keyed by its address (u64). */
struct mem_alloc {
	__u64 size;
	__u64 ts_ns;		/* bpf_ktime_get_ns() at return: CLOCK_MONOTONIC */
	__u64 caller;		/* return address at the allocator's entry */
	__s32 stack_id;		/* user (or kernel) stack, <0: not captured */
	__u32 fn;		/* enum mem_fn */
};
_Static_assert(sizeof(struct mem_alloc) == 32, "struct mem_alloc layout changed");

/* Between an allocator's entry and its return, keyed by thread id. */
struct mem_pending {
	__u64 size;
	__u64 arg;		/* realloc: old pointer; posix_memalign: memptr */
	__u64 caller;
	__s32 stack_id;
	__u32 fn;
};
_Static_assert(sizeof(struct mem_pending) == 32, "struct mem_pending layout changed");

/* mallocstat: one value per process (per-CPU, summed by the reader). */
struct mem_proc_stat {
	__u64 calls[MEM_FN_MAX];	/* calls per entry point, free included */
	__u64 bytes;			/* bytes requested by the allocation calls */
	__u64 hist[PS_LOG2_SLOTS];	/* log2 of the requested size */
	__u64 comm_ns;			/* when comm was taken: the newest CPU copy wins */
	char comm[MEM_COMM_LEN];
};
_Static_assert(sizeof(struct mem_proc_stat) ==
	       8 * (MEM_FN_MAX + 2 + PS_LOG2_SLOTS) + MEM_COMM_LEN,
	       "struct mem_proc_stat layout changed");

/* memleak counters: a per-CPU array indexed by these. */
enum mem_stat {
	MEM_ST_ALLOCS = 0,	/* allocations recorded */
	MEM_ST_FREES,		/* frees of a tracked address */
	MEM_ST_FREE_UNKNOWN,	/* frees of an address not tracked: ignored */
	MEM_ST_ALLOC_DROPPED,	/* allocation map full */
	MEM_ST_STACK_LOST,	/* stack could not be captured */
	MEM_ST_MAX
};

/* cachestat/cachetop counters, in pages (4 KiB on x86). */
enum cache_stat {
	CACHE_ST_LOOKUP = 0,	/* pages asked of the page cache by read() and faults */
	CACHE_ST_ADDED,		/* pages added to the page cache (any reason) */
	CACHE_ST_WRITE_ADDED,	/* ... of which created by a write, then dirtied */
	CACHE_ST_DIRTIED,	/* pages that became dirty */
	CACHE_ST_MAX
};

struct cache_proc_stat {
	__u64 c[CACHE_ST_MAX];
	__u64 comm_ns;			/* when comm was taken: the newest CPU copy wins */
	char comm[MEM_COMM_LEN];
};
_Static_assert(sizeof(struct cache_proc_stat) == 8 * (CACHE_ST_MAX + 1) + MEM_COMM_LEN,
	       "struct cache_proc_stat layout changed");

/* Per-thread state of the page cache probes, keyed by thread id. */
struct cache_task {
	__u64 mapping;		/* last mm_filemap_get_pages: address_space */
	__u64 index;		/*   its first page */
	__u64 last;		/*   its last page as the read asked (before EOF clamp) */
	__u64 added_folio;	/* last folio this thread added to the page cache */
	__u64 added_pages;	/*   its size in pages */
};
_Static_assert(sizeof(struct cache_task) == 40, "struct cache_task layout changed");

#endif /* PKTSCOPE_MEM_H */
