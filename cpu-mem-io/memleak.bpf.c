// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * memleak and mallocstat: uprobes on the allocator entry points of a libc
 * (and uretprobes for memleak), or the kmem tracepoints for memleak -k.
 *
 * memleak: the entry records the request (size, old pointer, the caller's
 * return address and the user stack) per thread; the return pairs it with
 * the returned address and files an entry keyed by address.  free() deletes
 * it.  What is left and old enough is what user space reports.
 *
 * mallocstat: the entries only, counting calls, bytes and a log2 size
 * histogram per process; no return probes, no stacks.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "mem.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 mode = MEM_MODE_MEMLEAK;	/* enum mem_mode */
const volatile __u32 target_tgid;		/* 0: every process */
const volatile __u64 min_size;
const volatile __u64 max_size = ~0ull;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, MEM_MAX_ALLOCS);
	__type(key, __u64);
	__type(value, struct mem_alloc);
} allocs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MEM_MAX_PENDING);
	__type(key, __u32);
	__type(value, struct mem_pending);
} pending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, MEM_MAX_STACKS);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, MEM_STACK_DEPTH * sizeof(__u64));
} stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MEM_ST_MAX);
	__type(key, __u32);
	__type(value, __u64);
} mstats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, MEM_MAX_PROCS);
	__type(key, __u32);
	__type(value, struct mem_proc_stat);
} procs SEC(".maps");

/* Too big for the BPF stack: the zeroed value a new process starts from. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mem_proc_stat);
} zero_proc SEC(".maps");

static __always_inline void stat_inc(__u32 i)
{
	__u64 *v = bpf_map_lookup_elem(&mstats, &i);

	if (v)
		(*v)++;
}

static __always_inline void mallocstat(__u32 tgid, enum mem_fn fn, __u64 size)
{
	struct mem_proc_stat *s;
	__u32 zero = 0;

	s = bpf_map_lookup_elem(&procs, &tgid);
	if (!s) {
		s = bpf_map_lookup_elem(&zero_proc, &zero);
		if (!s)
			return;
		bpf_map_update_elem(&procs, &tgid, s, BPF_NOEXIST);
		s = bpf_map_lookup_elem(&procs, &tgid);
		if (!s)
			return;
	}
	/* Every time: a process forked by a shell gets its name at exec. */
	bpf_get_current_comm(s->comm, sizeof(s->comm));
	s->comm_ns = bpf_ktime_get_ns();
	if (fn < MEM_FN_MAX)
		s->calls[fn]++;
	if (fn != MEM_FN_FREE) {
		s->bytes += size;
		s->hist[ps_log2_slot(size) & (PS_LOG2_SLOTS - 1)]++;
	}
}

static __always_inline int enter(struct pt_regs *ctx, enum mem_fn fn, __u64 size, __u64 arg)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id;
	struct mem_pending p = {};

	if (target_tgid && tgid != target_tgid)
		return 0;
	if (mode == MEM_MODE_MALLOCSTAT) {
		mallocstat(tgid, fn, size);
		return 0;
	}
	/*
	 * libc calls its own public entry points (realloc(NULL, n) calls
	 * malloc): the outer call's request, caller and stack are the ones
	 * the program made, so a nested entry keeps them.
	 */
	if (bpf_map_lookup_elem(&pending, &tid))
		return 0;
	p.size = size;
	p.arg = arg;
	p.fn = fn;
	/*
	 * At the first instruction of the allocator the return address into
	 * the caller is at [sp], and bp is still the caller's frame pointer:
	 * a frame-pointer walk from bp starts at the caller's caller.  The
	 * caller itself comes from [sp].
	 */
	bpf_probe_read_user(&p.caller, sizeof(p.caller), (void *)PT_REGS_SP(ctx));
	p.stack_id = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
	if (p.stack_id < 0)
		stat_inc(MEM_ST_STACK_LOST);
	bpf_map_update_elem(&pending, &tid, &p, BPF_ANY);
	return 0;
}

static __always_inline void record(__u64 addr, __u64 size, __u64 caller, __s32 stack_id,
				   __u32 fn)
{
	struct mem_alloc a = {
		.size = size,
		.ts_ns = bpf_ktime_get_ns(),
		.caller = caller,
		.stack_id = stack_id,
		.fn = fn,
	};

	if (size < min_size || size > max_size)
		return;
	/* BPF_ANY: a reused address whose free we missed is replaced. */
	if (bpf_map_update_elem(&allocs, &addr, &a, BPF_ANY))
		stat_inc(MEM_ST_ALLOC_DROPPED);
	else
		stat_inc(MEM_ST_ALLOCS);
}

static __always_inline void forget(__u64 addr)
{
	if (!bpf_map_delete_elem(&allocs, &addr))
		stat_inc(MEM_ST_FREES);
	else
		stat_inc(MEM_ST_FREE_UNKNOWN);
}

SEC("uprobe")
int BPF_KPROBE(malloc_enter, size_t size)
{
	return enter(ctx, MEM_FN_MALLOC, size, 0);
}

SEC("uprobe")
int BPF_KPROBE(calloc_enter, size_t n, size_t size)
{
	return enter(ctx, MEM_FN_CALLOC, (__u64)n * size, 0);
}

SEC("uprobe")
int BPF_KPROBE(realloc_enter, void *ptr, size_t size)
{
	return enter(ctx, MEM_FN_REALLOC, size, (__u64)ptr);
}

SEC("uprobe")
int BPF_KPROBE(reallocarray_enter, void *ptr, size_t n, size_t size)
{
	return enter(ctx, MEM_FN_REALLOCARRAY, (__u64)n * size, (__u64)ptr);
}

SEC("uprobe")
int BPF_KPROBE(posix_memalign_enter, void **memptr, size_t align, size_t size)
{
	return enter(ctx, MEM_FN_POSIX_MEMALIGN, size, (__u64)memptr);
}

SEC("uprobe")
int BPF_KPROBE(aligned_alloc_enter, size_t align, size_t size)
{
	return enter(ctx, MEM_FN_ALIGNED_ALLOC, size, 0);
}

SEC("uprobe")
int BPF_KPROBE(memalign_enter, size_t align, size_t size)
{
	return enter(ctx, MEM_FN_MEMALIGN, size, 0);
}

SEC("uprobe")
int BPF_KPROBE(valloc_enter, size_t size)
{
	return enter(ctx, MEM_FN_VALLOC, size, 0);
}

SEC("uprobe")
int BPF_KPROBE(pvalloc_enter, size_t size)
{
	return enter(ctx, MEM_FN_PVALLOC, size, 0);
}

SEC("uprobe")
int BPF_KPROBE(free_enter, void *ptr)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	/*
	 * free(NULL) frees nothing and is not counted: the same wherever the
	 * probe sits (memleak.c's free_skip() puts it past glibc's NULL test).
	 */
	if (!ptr || (target_tgid && tgid != target_tgid))
		return 0;
	if (mode == MEM_MODE_MALLOCSTAT) {
		mallocstat(tgid, MEM_FN_FREE, 0);
		return 0;
	}
	forget((__u64)ptr);
	return 0;
}

/* One return probe for every allocator: the pending entry says which. */
SEC("uretprobe")
int BPF_KRETPROBE(alloc_return, void *ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct mem_pending *pp, p;
	__u64 addr = (__u64)ret;

	pp = bpf_map_lookup_elem(&pending, &tid);
	if (!pp)
		return 0;
	p = *pp;
	bpf_map_delete_elem(&pending, &tid);

	switch (p.fn) {
	case MEM_FN_POSIX_MEMALIGN:
		/* Returns an error number; the pointer went to *memptr. */
		if (addr || bpf_probe_read_user(&addr, sizeof(addr), (void *)p.arg))
			return 0;
		break;
	case MEM_FN_REALLOC:
	case MEM_FN_REALLOCARRAY:
		/*
		 * The old block is gone when realloc succeeded, or when it
		 * freed it for size 0; on failure (NULL, size > 0) it stays.
		 */
		if (p.arg && (addr || !p.size))
			forget(p.arg);
		break;
	default:
		break;
	}
	if (addr)
		record(addr, p.size, p.caller, p.stack_id, p.fn);
	return 0;
}

/* memleak -k: slab objects, system-wide, with kernel stacks. */
SEC("tracepoint/kmem/kmalloc")
int kmalloc(struct trace_event_raw_kmalloc *ctx)
{
	__s32 sid = bpf_get_stackid(ctx, &stacks, 0);

	if (sid < 0)
		stat_inc(MEM_ST_STACK_LOST);
	if (ctx->ptr)
		record((__u64)ctx->ptr, ctx->bytes_alloc, ctx->call_site, sid, MEM_FN_MALLOC);
	return 0;
}

SEC("tracepoint/kmem/kmem_cache_alloc")
int kmem_cache_alloc(struct trace_event_raw_kmem_cache_alloc *ctx)
{
	__s32 sid = bpf_get_stackid(ctx, &stacks, 0);

	if (sid < 0)
		stat_inc(MEM_ST_STACK_LOST);
	if (ctx->ptr)
		record((__u64)ctx->ptr, ctx->bytes_alloc, ctx->call_site, sid, MEM_FN_MALLOC);
	return 0;
}

SEC("tracepoint/kmem/kfree")
int kfree(struct trace_event_raw_kfree *ctx)
{
	if (ctx->ptr)
		forget((__u64)ctx->ptr);
	return 0;
}

SEC("tracepoint/kmem/kmem_cache_free")
int kmem_cache_free(struct trace_event_raw_kmem_cache_free *ctx)
{
	if (ctx->ptr)
		forget((__u64)ctx->ptr);
	return 0;
}
