// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * profile: a perf_event program run by a CPU-clock sampling event on every
 * CPU.  Each sample records its kernel and user stacks in a stack map and
 * bumps the count of (process, kernel stack, user stack, comm).
 * Symbolization happens in user space.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "cpu.h"

#ifndef EFAULT
#define EFAULT 14
#endif

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 target_pid;	/* tgid; 0 = every process */
const volatile bool want_user = true;
const volatile bool want_kernel = true;
const volatile bool skip_idle = true;

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, CPU_MAX_STACKS);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, CPU_STACK_DEPTH * sizeof(__u64));
} stacks SEC(".maps");

/* Plain hash, not LRU: a full map is counted as a drop, never silently evicts. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CPU_MAX_PROFILE_KEYS);
	__type(key, struct cpu_prof_key);
	__type(value, __u64);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CPU_PROF_NSTATS);
	__type(key, __u32);
	__type(value, __u64);
} pstats SEC(".maps");

static __always_inline void stat_inc(__u32 i)
{
	__u64 *v = bpf_map_lookup_elem(&pstats, &i);

	if (v)
		(*v)++;
}

SEC("perf_event")
int do_sample(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id;
	struct cpu_prof_key key = {};
	__u64 one = 1, *v;

	/* tid 0 is the idle task of each CPU. */
	if (skip_idle && tid == 0)
		return 0;
	if (target_pid && tgid != target_pid)
		return 0;
	stat_inc(CPU_PROF_SAMPLES);
	key.pid = tgid;
	key.kstack = -1;
	key.ustack = -1;
	bpf_get_current_comm(key.comm, sizeof(key.comm));
	if (want_kernel) {
		key.kstack = bpf_get_stackid(ctx, &stacks, 0);
		/* In user mode there is no kernel stack: -EFAULT, not an error. */
		if (key.kstack < 0 && key.kstack != -EFAULT)
			stat_inc(CPU_PROF_KSTACK_ERR);
	}
	if (want_user) {
		key.ustack = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
		if (key.ustack < 0 && key.ustack != -EFAULT)
			stat_inc(CPU_PROF_USTACK_ERR);
	}
	v = bpf_map_lookup_elem(&counts, &key);
	if (v) {
		__sync_fetch_and_add(v, 1);
		return 0;
	}
	if (bpf_map_update_elem(&counts, &key, &one, BPF_NOEXIST)) {
		v = bpf_map_lookup_elem(&counts, &key);
		if (v)
			__sync_fetch_and_add(v, 1);
		else
			stat_inc(CPU_PROF_KEY_DROP);
	}
	return 0;
}
