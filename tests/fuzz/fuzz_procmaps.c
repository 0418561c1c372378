// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * /proc/PID/maps as the symbolizer reads it (cpu-mem-io/syms.c, included
 * here to reach its static parser), through fmemopen so that fgets sees the
 * input as it sees the file.  Then the lookup of an address in those maps.
 */
#include "syms.c"

#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proc p = { .pid = 1 };
	size_t i, lines = 1;
	const struct map *m;
	char *buf;
	FILE *f;

	if (!size)
		return 0;
	buf = malloc(size);
	if (!buf)
		abort();
	memcpy(buf, data, size);
	f = fmemopen(buf, size, "r");
	if (!f)
		abort();
	parse_maps(&p, f);
	fclose(f);

	for (i = 0; i < size; i++)
		lines += buf[i] == '\n';
	/* fgets splits lines longer than its buffer: at most one map per piece. */
	FUZZ_CHECK(p.nmaps <= lines + size / (PATH_MAX + 127), "%zu maps from %zu lines",
		   p.nmaps, lines);
	for (i = 0; i < p.nmaps; i++) {
		m = &p.maps[i];
		if (m->path) {
			FUZZ_CHECK(m->path[0] && !strchr(m->path, '\n'), "map %zu path '%s'", i,
				   m->path);
			FUZZ_CHECK(strlen(m->path) < PATH_MAX + 128, "map %zu path of %zu bytes", i,
				   strlen(m->path));
		}
		/* A map's own start finds a map that holds it. */
		if (m->start < m->end) {
			const struct map *hit = find_map(&p, m->start);

			FUZZ_CHECK(hit && m->start >= hit->start && m->start < hit->end,
				   "start %llx of map %zu not found", (unsigned long long)m->start, i);
		}
	}
	/* Addresses from the input: any hit holds the address. */
	for (i = 0; i + 8 <= size && i < 64; i += 8) {
		uint64_t addr;

		memcpy(&addr, data + i, 8);
		m = find_map(&p, addr);
		FUZZ_CHECK(!m || (addr >= m->start && addr < m->end), "%llx found in %llx-%llx",
			   (unsigned long long)addr, (unsigned long long)(m ? m->start : 0),
			   (unsigned long long)(m ? m->end : 0));
	}
	for (i = 0; i < p.nmaps; i++)
		free(p.maps[i].path);
	free(p.maps);
	free(buf);
	return 0;
}
