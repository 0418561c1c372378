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
const char *sysnames_header(int nr);		/* <asm/unistd_64.h> name or NULL */

#endif
