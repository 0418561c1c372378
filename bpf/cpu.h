/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The CPU module's kernel/user contract: profile (perf_event sampling with
 * stack maps), syscount and syslat (raw_syscalls enter/exit), and the
 * one-shot reader of the kernel's syscall table (sysnames).
 */
#ifndef PKTSCOPE_CPU_H
#define PKTSCOPE_CPU_H

#define CPU_COMM_LEN		16
#define CPU_STACK_DEPTH		127	/* PERF_MAX_STACK_DEPTH */
#define CPU_MAX_STACKS		16384	/* stack map entries */
#define CPU_MAX_PROFILE_KEYS	16384	/* distinct (pid, stacks, comm) */
#define CPU_MAX_SYSCALLS	1024	/* syscall numbers counted per key */
#define CPU_MAX_PROCS		10240	/* --by-process keys */
#define CPU_MAX_THREADS		32768	/* threads inside a syscall at once */
#define CPU_SYSLAT_MAX		8	/* syscalls one syslat run measures */
#define CPU_LOG2_SLOTS		64	/* = PS_LOG2_SLOTS */

/* profile: one sampled (process, kernel stack, user stack). */
struct cpu_prof_key {
	__u32 pid;		/* tgid */
	__s32 kstack;		/* stack map id, < 0 when absent */
	__s32 ustack;
	__u32 pad;
	char comm[CPU_COMM_LEN];
};
_Static_assert(sizeof(struct cpu_prof_key) == 32, "cpu_prof_key layout");

/* Per-CPU counters of what profile could not record. */
enum {
	CPU_PROF_SAMPLES,	/* samples that passed the filter */
	CPU_PROF_KEY_DROP,	/* counts map full */
	CPU_PROF_KSTACK_ERR,	/* kernel stack requested, in kernel mode, failed */
	CPU_PROF_USTACK_ERR,	/* user stack requested, failed */
	CPU_PROF_NSTATS,
};

/* syscount: per syscall number (or per process) count and latency. */
struct cpu_sys_val {
	__u64 count;
	__u64 total_ns;		/* with latency only */
	__u64 max_ns;
};
_Static_assert(sizeof(struct cpu_sys_val) == 24, "cpu_sys_val layout");

/* --by-process key value carries the command name too. */
struct cpu_proc_val {
	__u64 count;
	__u64 total_ns;
	__u64 max_ns;
	char comm[CPU_COMM_LEN];
};
_Static_assert(sizeof(struct cpu_proc_val) == 40, "cpu_proc_val layout");

/* A thread inside a syscall: when it entered, and which one. */
struct cpu_sys_start {
	__u64 ts;
	__s64 nr;
};
_Static_assert(sizeof(struct cpu_sys_start) == 16, "cpu_sys_start layout");

/* syslat: one log2 histogram of microseconds per measured syscall. */
struct cpu_lat_hist {
	__u64 slots[CPU_LOG2_SLOTS];
};
_Static_assert(sizeof(struct cpu_lat_hist) == 512, "cpu_lat_hist layout");

/* sysnames: one entry of the kernel's syscall metadata, read by test run. */
struct cpu_sysname {
	__s32 nr;		/* -1: entry not bound to a number */
	__u32 ok;		/* 1 when read */
	char name[64];		/* "sys_read" */
};
_Static_assert(sizeof(struct cpu_sysname) == 72, "cpu_sysname layout");

#endif /* PKTSCOPE_CPU_H */
