// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ELF symbol tables as the symbolizer reads them (cpu-mem-io/syms.c,
 * included here to reach its static reader), from memory with elf_memory():
 * load segments, .symtab and .dynsym.  Then the invariants a lookup relies
 * on: symbols sorted, every one sized and named, and a lookup lands inside
 * the symbol it returns.
 */
#include "syms.c"

#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	if (elf_version(EV_CURRENT) == EV_NONE)
		abort();
	return 0;
}

static void check_lookup(const struct obj *o, uint64_t addr)
{
	const struct sym *s = find_sym(o->syms, o->nsyms, addr);

	if (s)
		FUZZ_CHECK(addr >= s->start && addr - s->start < s->size,
			   "%llx resolved to %s at %llx size %llu", (unsigned long long)addr,
			   s->name, (unsigned long long)s->start, (unsigned long long)s->size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct obj o = { 0 };
	size_t i;
	char *img;
	Elf *e;

	/* elf_memory works in place (it may convert byte order): a copy of its own. */
	img = malloc(size ? size : 1);
	if (!img)
		abort();
	memcpy(img, data, size);
	e = elf_memory(img, size);
	if (e) {
		if (!read_elf_syms(&o, e)) {
			for (i = 0; i < o.nsyms; i++) {
				const struct sym *s = &o.syms[i];

				FUZZ_CHECK(s->size > 0, "symbol %zu has size 0", i);
				FUZZ_CHECK(s->name && s->name[0], "symbol %zu has no name", i);
				FUZZ_CHECK(s->name >= o.strs, "symbol %zu name outside the arena", i);
				if (i)
					FUZZ_CHECK(o.syms[i - 1].start <= s->start,
						   "symbols not sorted at %zu", i);
				/* Its own start always resolves (the last symbol there is sized). */
				FUZZ_CHECK(find_sym(o.syms, o.nsyms, s->start), "%s at %llx not found",
					   s->name, (unsigned long long)s->start);
				check_lookup(&o, s->start);
				check_lookup(&o, s->start + s->size - 1);
				check_lookup(&o, s->start + s->size);
			}
			for (i = 0; i < o.nloads; i++)
				check_lookup(&o, o.loads[i].vaddr);
		}
		elf_end(e);
	}
	free(o.syms);
	free(o.loads);
	free(o.strs);
	free(img);
	return 0;
}
