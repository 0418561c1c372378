// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * syscount and syslat.
 *
 * syscount counts on raw_syscalls enter/exit, by syscall number.  Without
 * latency a syscall is counted on entry (exit_group never exits).  With
 * latency entry stores (time, nr) by thread id and exit accounts the
 * difference; a syscall already in progress when tracing began has no
 * entry record and is left out, so counts start exactly at attach time.
 *
 * Those two attach as raw tracepoints: the program gets the arguments of
 * trace_sys_enter(regs, id) / trace_sys_exit(regs, ret) as plain u64s, so
 * it reads no kernel struct and needs no CO-RE relocation.  An object
 * without relocations is loaded without the kernel's BTF: libbpf then
 * skips reading and parsing /sys/kernel/btf/vmlinux (5.5 MB, read 4 KiB
 * per read(): most of a 100 ms start and 11 MB of peak RSS on the bench
 * machine), and a raw tracepoint needs no tracefs either.
 *
 * Names are resolved in user space (see sysnames.c).
 *
 * syslat attaches lat_enter/lat_exit to syscalls:sys_enter_NAME and
 * sys_exit_NAME of the chosen syscalls, the cookie being the histogram
 * index: the read()-latency recipe, keyed by thread id.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "cpu.h"
#include "log2.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 target_pid;	/* tgid; 0 = every process */
const volatile bool by_process;
const volatile bool latency;

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, CPU_MAX_THREADS);
	__type(key, __u32);
	__type(value, struct cpu_sys_start);
} starts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CPU_MAX_SYSCALLS);
	__type(key, __u32);
	__type(value, struct cpu_sys_val);
} sys_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, CPU_MAX_PROCS);
	__type(key, __u32);
	__type(value, struct cpu_proc_val);
} proc_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CPU_SYSLAT_MAX);
	__type(key, __u32);
	__type(value, struct cpu_lat_hist);
} hists SEC(".maps");

static __always_inline void account(__u32 tgid, __s64 nr, __u64 ns)
{
	if (by_process) {
		struct cpu_proc_val *v, zero = {};

		v = bpf_map_lookup_elem(&proc_counts, &tgid);
		if (!v) {
			bpf_get_current_comm(zero.comm, sizeof(zero.comm));
			bpf_map_update_elem(&proc_counts, &tgid, &zero, BPF_NOEXIST);
			v = bpf_map_lookup_elem(&proc_counts, &tgid);
			if (!v)
				return;
		}
		v->count++;
		v->total_ns += ns;
		if (ns > v->max_ns)
			v->max_ns = ns;
	} else {
		__u32 k = nr;
		struct cpu_sys_val *v;

		if (nr < 0 || nr >= CPU_MAX_SYSCALLS)
			return;
		v = bpf_map_lookup_elem(&sys_counts, &k);
		if (!v)
			return;
		v->count++;
		v->total_ns += ns;
		if (ns > v->max_ns)
			v->max_ns = ns;
	}
}

SEC("raw_tracepoint/sys_enter")
int BPF_PROG(sys_enter, struct pt_regs *regs, long sysnr)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id;
	struct cpu_sys_start s;
	__s64 nr = sysnr;

	if (target_pid && tgid != target_pid)
		return 0;
	if (nr < 0)
		return 0;
	if (!latency) {
		account(tgid, nr, 0);
		return 0;
	}
	s.ts = bpf_ktime_get_ns();
	s.nr = nr;
	bpf_map_update_elem(&starts, &tid, &s, BPF_ANY);
	return 0;
}

/* The number comes from the entry record: exit needs no argument. */
SEC("raw_tracepoint/sys_exit")
int sys_exit(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id;
	struct cpu_sys_start *s;
	__u64 ns;
	__s64 nr;

	if (target_pid && tgid != target_pid)
		return 0;
	s = bpf_map_lookup_elem(&starts, &tid);
	if (!s)
		return 0;
	ns = bpf_ktime_get_ns() - s->ts;
	nr = s->nr;
	bpf_map_delete_elem(&starts, &tid);
	account(tgid, nr, ns);
	return 0;
}

/* syslat: this thread's start is keyed by tid, the histogram by cookie. */
SEC("tracepoint/syscalls/sys_enter_read")
int lat_enter(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct cpu_sys_start s;

	if (target_pid && (id >> 32) != target_pid)
		return 0;
	s.ts = bpf_ktime_get_ns();
	s.nr = bpf_get_attach_cookie(ctx);
	bpf_map_update_elem(&starts, &tid, &s, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_read")
int lat_exit(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid(), ns;
	__u32 tid = (__u32)id, k, slot;
	struct cpu_sys_start *s;
	struct cpu_lat_hist *h;

	if (target_pid && (id >> 32) != target_pid)
		return 0;
	s = bpf_map_lookup_elem(&starts, &tid);
	if (!s)
		return 0;
	ns = bpf_ktime_get_ns() - s->ts;
	k = s->nr;
	bpf_map_delete_elem(&starts, &tid);
	if (k != bpf_get_attach_cookie(ctx))
		return 0;
	slot = ps_log2_slot(ns / 1000);
	h = bpf_map_lookup_elem(&hists, &k);
	/* Keep the bound check on the register the access uses. */
	barrier_var(slot);
	if (h && slot < CPU_LOG2_SLOTS)
		h->slots[slot]++;
	return 0;
}
