// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Syscall names.
 *
 * Names: the running kernel publishes one syscalls:sys_enter_NAME
 * tracepoint per syscall; that tracefs directory is the list syslat checks
 * names against and attaches to.
 *
 * Numbers (syscount counts raw_syscalls by number): the kernel exposes its
 * number-to-name table only through data symbols (syscalls_metadata) that
 * this kernel's /proc/kallsyms does not list (no CONFIG_KALLSYMS_ALL, no
 * /proc/kcore), and learning the numbers from every sys_enter_NAME
 * tracepoint costs about 50 ms per tracepoint to detach (a tracepoint
 * unregistration waits for an RCU grace period): 18 s for 360 of them.
 * So numbers are named from this machine's <asm/unistd_64.h>
 * (linux-libc-dev), read at run time: the system headers of this machine,
 * not a table compiled into pktscope.  A number the header does not know
 * (a kernel newer than the headers) prints as "[nr N]", never a wrong name.
 *
 * The two are loaded apart: syscount needs only the numbers (and so no
 * tracefs), syslat only the names.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "cpu.h"
#include "cpucmd.h"

static char **names;
static int nnames;
static char *hnames[CPU_MAX_SYSCALLS];
static int loaded, hloaded;

static const char *const headers[] = {
	"/usr/include/x86_64-linux-gnu/asm/unistd_64.h",
	"/usr/include/asm/unistd_64.h",
};

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void load_header(void)
{
	char line[256], name[128];
	unsigned int i;
	FILE *f = NULL;
	int nr;

	for (i = 0; i < sizeof(headers) / sizeof(headers[0]) && !f; i++)
		f = fopen(headers[i], "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "#define __NR_%127s %d", name, &nr) != 2 ||
		    nr < 0 || nr >= CPU_MAX_SYSCALLS || hnames[nr])
			continue;
		hnames[nr] = strdup(name);
	}
	fclose(f);
}

int sysnames_load(void)
{
	char dir[128];
	struct dirent *de;
	int cap = 0;
	DIR *d;

	if (loaded)
		return 0;
	if (ps_mount_tracefs())
		return -1;
	snprintf(dir, sizeof(dir), "%s/events/syscalls", PS_TRACEFS);
	d = opendir(dir);
	if (!d) {
		ps_err("cannot list syscalls: %s is missing (kernel built without "
		       "CONFIG_FTRACE_SYSCALLS?)", dir);
		return -1;
	}
	while ((de = readdir(d))) {
		char **nv;

		if (strncmp(de->d_name, "sys_enter_", 10))
			continue;
		if (nnames == cap) {
			cap = cap ? cap * 2 : 512;
			nv = realloc(names, cap * sizeof(*nv));
			if (!nv)
				break;
			names = nv;
		}
		names[nnames] = strdup(de->d_name + 10);
		if (names[nnames])
			nnames++;
	}
	closedir(d);
	if (!nnames) {
		ps_err("cannot list syscalls: no sys_enter_* events in %s", dir);
		return -1;
	}
	qsort(names, nnames, sizeof(*names), name_cmp);
	loaded = 1;
	return 0;
}

void sysnames_load_numbers(void)
{
	if (hloaded)
		return;
	hloaded = 1;
	load_header();
	if (!hnames[0])
		ps_warn("no <asm/unistd_64.h> (apt-get install linux-libc-dev): "
			"syscall numbers print as [nr N]");
}

int sysnames_count(void)
{
	return nnames;
}

const char *sysnames_at(int idx)
{
	return idx >= 0 && idx < nnames ? names[idx] : NULL;
}

int sysnames_index(const char *name)
{
	char alt[128];
	int i;

	for (i = 0; i < nnames; i++)
		if (!strcmp(names[i], name))
			return i;
	/* The kernel names some after their newer implementation: newstat, newuname. */
	snprintf(alt, sizeof(alt), "new%s", name);
	for (i = 0; i < nnames; i++)
		if (!strcmp(names[i], alt))
			return i;
	return -1;
}

const char *sysnames_header(int nr)
{
	return nr >= 0 && nr < CPU_MAX_SYSCALLS ? hnames[nr] : NULL;
}
