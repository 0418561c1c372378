/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Symbolizer shared by profile (cpu) and memleak (memory).
 *
 * Kernel addresses (pid 0) resolve against /proc/kallsyms. User addresses
 * resolve against the ELF .symtab and .dynsym of the object mapped at that
 * address in /proc/PID/maps; the load bias of PIE executables and shared
 * libraries is computed from the object's PT_LOAD program headers.
 * An address with no covering symbol is reported as unknown rather than
 * attributed to the nearest preceding symbol of a different function.
 *
 * Returned strings belong to the cache and stay valid until
 * syms_cache_free(). Process maps are read once per pid and cached; call
 * syms_cache_forget() if a pid may have mapped new objects since.
 */
#ifndef PKTSCOPE_SYMS_H
#define PKTSCOPE_SYMS_H

#include <stdint.h>

struct syms_cache;

struct syms_cache *syms_cache_new(void);
void syms_cache_free(struct syms_cache *c);

/*
 * Resolve addr in process pid (pid 0 = kernel).
 * On success returns 0 and sets *name (function), *offset (addr - symbol
 * start) and *module (kernel module name, "kernel", or the object path).
 * Returns -1 when no symbol covers addr: *name is set to "[unknown]",
 * *offset to addr and *module to the mapped object if known (else NULL).
 * Any of name/offset/module may be NULL.
 */
int syms_resolve(struct syms_cache *c, int pid, uint64_t addr,
		 const char **name, uint64_t *offset, const char **module);

/*
 * Read pid's maps and open the objects it maps now, while it is alive, so
 * that its addresses still resolve after it exits.
 */
void syms_cache_prefetch(struct syms_cache *c, int pid);

/* Drop the cached maps of pid (e.g. after it exec'd or dlopen'd). */
void syms_cache_forget(struct syms_cache *c, int pid);

#endif
