// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Seed for fuzz_elf: built at build time into a small executable and a
 * small shared object (no libc, so a few KB), each with a .symtab of sized
 * functions (the shared object also a .dynsym), so that the fuzzer starts
 * from ELF files the symbolizer really reads.
 */
int seed_leaf(int x);
int seed_mid(int x);

__attribute__((noinline)) int seed_leaf(int x)
{
	return x * 3 + 1;
}

__attribute__((noinline)) int seed_mid(int x)
{
	return seed_leaf(x) + seed_leaf(x + 1);
}

static __attribute__((noinline, used)) int seed_local(int x)
{
	return seed_mid(x) - 2;
}

void _start(void)
{
	volatile int v = seed_local(4);

	(void)v;
	for (;;)
		;
}
