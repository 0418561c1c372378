/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What the CPU module's commands (profile, syscount, syslat) share. */
#ifndef PKTSCOPE_CPUCMD_H
#define PKTSCOPE_CPUCMD_H

#include <stdbool.h>

/* False once pid has exited (a zombie counts as exited). */
bool cpu_pid_alive(int pid);

/*
 * Syscall names of the running kernel (sysnames.c): the syscalls:sys_enter_*
 * tracepoints in tracefs, indexed in directory-sorted order.
 */
int sysnames_load(void);			/* 0, or -1 with an error printed */
int sysnames_count(void);
const char *sysnames_at(int idx);		/* "read" */
int sysnames_index(const char *name);		/* -1 when the kernel has none */
/* Syscall numbers to names: <asm/unistd_64.h>, warns once when missing. */
void sysnames_load_numbers(void);
const char *sysnames_header(int nr);		/* name or NULL */

/*
 * profile as a collector (for `pktscope report`): start samples pid (0: all)
 * at freq Hz on every CPU, user and kernel stacks; tick keeps the sampled
 * processes' maps (call about once a second); stop ends sampling and reads
 * the symbolized result.  Names in the result belong to the session: free
 * the result before profile_end().
 */
#include <stddef.h>
#include <stdint.h>

struct prof_fn {
	const char *name, *module;
	uint64_t self, total;		/* samples: as the leaf, anywhere in the stack */
};
struct prof_stack {
	char *folded;			/* "comm;root;...;leaf", kernel frames end "_[k]" */
	uint64_t count;
};
struct prof_result {
	uint64_t samples, dropped;
	struct prof_fn *top;		/* by self samples, largest first */
	size_t ntop;
	struct prof_stack *stacks;	/* sorted by folded string */
	size_t nstacks;
};
struct prof_session;
struct prof_session *profile_start(int pid, uint64_t freq);
void profile_tick(struct prof_session *s);
uint64_t profile_samples(struct prof_session *s);
int profile_stop(struct prof_session *s, struct prof_result *r);
void profile_result_free(struct prof_result *r);
void profile_end(struct prof_session *s);

/* syscount with latency as a collector: per-syscall totals since start. */
struct sys_top {
	char name[32];
	uint64_t count, total_ns, max_ns;
};
struct sys_session;
struct sys_session *syscount_start(int pid);
/* The syscalls that took the most time, up to max; returns how many. */
int syscount_read(struct sys_session *s, struct sys_top *out, int max);
void syscount_end(struct sys_session *s);

#endif
